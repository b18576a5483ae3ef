package workbook_test

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/p100/p100-importer/internal/workbook"
)

// generatedRow is row i (from 0) of a generated workbook's users, as the CSV
// text must give it: PESEL a number cell, birthDate a date cell.
func generatedRow(i int) []string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%20000)
	return []string{
		fmt.Sprint(100000 + i), fmt.Sprintf("user%d@example.com", i), "Małgorzata", fmt.Sprintf("Wiśniewska-%d", i),
		fmt.Sprintf("ul. Floriańska %d", i%200+1), "Kraków", "PL", "ID_CARD", fmt.Sprintf("ABC%06d", i%1_000_000),
		fmt.Sprint(3272280321 + int64(i)), "PL", birth.Format(time.DateOnly),
	}
}

// mustGenerate writes a workbook of n users with excelize's StreamWriter
// (inline strings, numbers, dates with a date style) and returns its path.
func mustGenerate(tb testing.TB, n int) string {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		tb.Fatal(err)
	}
	header := []any{"externalUserId", "email", "firstName", "lastName", "address", "city", "country",
		"documentType", "documentNumber", "pesel", "birthCountry", "birthDate"}
	if err := sw.SetRow("A1", header); err != nil {
		tb.Fatal(err)
	}
	row := make([]any, len(header))
	for i := range n {
		want := generatedRow(i)
		for j, v := range want {
			row[j] = v
		}
		row[0] = 100000 + i
		row[9] = 3272280321 + int64(i)
		birth, _ := time.Parse(time.DateOnly, want[11])
		row[11] = excelize.Cell{StyleID: dateStyle, Value: birth}
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), row); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("generated-%d.xlsx", n))
	if err := f.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestStreaming reads a 200,000-row workbook through encoding/csv, as the
// importer does, and checks that the heap stays bounded. Generating and
// reading the workbook take about five seconds, so -short skips it; under
// the race detector (ten times slower) it reads 40,000 rows.
func TestStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 200,000-row workbook (about five seconds); run without -short")
	}
	n := 200_000
	if raceEnabled {
		n = 40_000
	}
	const heapBound = 64 << 20
	start := time.Now()
	path := mustGenerate(t, n)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d rows, %.1f MiB, in %v", n, float64(info.Size())/(1<<20), time.Since(start).Round(time.Millisecond))

	runtime.GC()
	runtime.GC() // a second cycle empties the pools the generation filled
	var before, now runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	s := mustOpen(t, path, workbook.Options{IsHeader: isUsersHeader})
	r := csv.NewReader(bufio.NewReaderSize(s, 64<<10))
	r.ReuseRecord = true
	peak := uint64(0)
	records := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", records, err)
		}
		line, _ := r.FieldPos(0)
		if records > 0 && (records <= 3 || records%50_000 == 0 || records == n) {
			compareRow(t, line, rec, generatedRow(records-1))
		}
		if line != records+1 {
			t.Fatalf("record %d is on line %d, want %d", records, line, records+1)
		}
		records++
		if records%10_000 == 0 {
			runtime.ReadMemStats(&now)
			peak = max(peak, now.HeapInuse)
		}
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&now)
	peak = max(peak, now.HeapInuse)
	if records != n+1 {
		t.Errorf("read %d records, want %d", records, n+1)
	}
	t.Logf("read %d rows in %v (%.2f µs/row); heap in use %.1f MiB before, %.1f MiB at most while reading; %.0f MiB allocated in all",
		n, elapsed.Round(time.Millisecond), float64(elapsed.Microseconds())/float64(n),
		float64(before.HeapInuse)/(1<<20), float64(peak)/(1<<20), float64(now.TotalAlloc-before.TotalAlloc)/(1<<20))
	if peak > heapBound {
		t.Errorf("heap in use reached %.1f MiB while reading, want under %d MiB", float64(peak)/(1<<20), heapBound>>20)
	}
}
