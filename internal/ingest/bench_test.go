package ingest_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/p100"
)

// benchRows is the size of the in-memory file the benchmarks read over and
// over; a new Reader per pass, so its set-up is amortised over the rows.
const benchRows = 10_000

// benchCSV returns a file of n valid, distinct rows shaped like the ones
// `make bench` generates: every field filled, PESEL and birthDate included.
func benchCSV(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(ingest.Fields); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i*7919)%20000)
		month := int(birth.Month())
		if birth.Year() >= 2000 {
			month += 20
		}
		pesel := fmt.Sprintf("%02d%02d%02d%04d", birth.Year()%100, month, birth.Day(), i%10000)
		sum := 0
		for k, wt := range [...]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3} {
			sum += int(pesel[k]-'0') * wt
		}
		pesel += fmt.Sprint((10 - sum%10) % 10)
		if err := w.Write([]string{
			fmt.Sprintf("bench-%08d", i), fmt.Sprintf("user.%08d@example.com", i), "Małgorzata", "Wiśniewska",
			fmt.Sprintf("ul. Świętokrzyska %d/%d", 1+i%197, 1+i%31), "Kraków", "PL", "PASSPORT",
			fmt.Sprintf("ABC%06d", i), pesel, "PL", birth.Format("2006-01-02"),
		}); err != nil {
			tb.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRow measures the per-row hot path of an import, one op per row:
// CSV decode + validation through Reader.Next (rec.Valid runs the field
// rules), then the JSON request body as the P100 client encodes it, then
// the content hash the pipeline keeps in the checkpoint.
func BenchmarkRow(b *testing.B) {
	data := benchCSV(b, benchRows)
	opts := ingest.Options{Now: func() time.Time { return time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) }}
	perRow := int64(len(data) / benchRows)

	// each reads b.N rows, a new Reader every benchRows rows, and calls fn
	// on every valid row.
	each := func(b *testing.B, fn func(*ingest.Record) int) {
		b.Helper()
		b.SetBytes(perRow)
		b.ReportAllocs()
		sink := 0
		b.ResetTimer()
		for done := 0; done < b.N; {
			r, err := ingest.NewReader(bytes.NewReader(data), opts)
			if err != nil {
				b.Fatal(err)
			}
			for ; done < b.N; done++ {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if !rec.Valid() {
					b.Fatalf("line %d: %s", rec.Line, rec.Reason())
				}
				sink += fn(rec)
			}
		}
		if sink < 0 {
			b.Log(sink)
		}
	}

	b.Run("decode+validate", func(b *testing.B) {
		each(b, func(*ingest.Record) int { return 1 })
	})
	b.Run("decode+validate+encode", func(b *testing.B) {
		each(b, func(rec *ingest.Record) int {
			body, err := json.Marshal(p100.CreateUserRequest(rec.User))
			if err != nil {
				b.Fatal(err)
			}
			return len(body)
		})
	})
	// What the importer adds per row on top: the content hash the ledger
	// keeps (computed once per record).
	b.Run("decode+validate+encode+hash", func(b *testing.B) {
		each(b, func(rec *ingest.Record) int {
			body, err := json.Marshal(p100.CreateUserRequest(rec.User))
			if err != nil {
				b.Fatal(err)
			}
			return len(body) + len(rec.Hash())
		})
	})
}

// BenchmarkNewReader measures the fixed cost of opening a file: header
// detection and mapping.
func BenchmarkNewReader(b *testing.B) {
	header := []byte(strings.Join(ingest.Fields, ",") + "\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ingest.NewReader(bytes.NewReader(header), ingest.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
