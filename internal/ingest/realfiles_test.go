package ingest_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/ingest"
)

// realDir holds files written by real spreadsheet programs (LibreOffice,
// openpyxl); testdata/real/README.md says which command wrote each.
var realDir = filepath.Join("testdata", "real")

// readOracle reads one of the hand-written oracles: the users exactly as
// P100 must receive them.
func readOracle(t *testing.T, name string) []ingest.User {
	t.Helper()
	f, err := os.Open(filepath.Join(realDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var users []ingest.User
	for _, row := range rows[1:] {
		var u ingest.User
		for i, field := range rows[0] {
			u.Set(field, row[i])
		}
		users = append(users, u)
	}
	return users
}

// openAll opens a file with ingest.Open, as `importer run` does, and reads
// every row.
func openAll(t *testing.T, path string, opts ingest.Options) (*ingest.Input, []*ingest.Record) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	in, err := ingest.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { in.Close() })
	var recs []*ingest.Record
	for {
		rec, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
	return in, recs
}

// TestRealSpreadsheetFiles reads every file a real spreadsheet wrote, with
// no input flags, and checks that each user arrives exactly as the oracle
// has it.
func TestRealSpreadsheetFiles(t *testing.T) {
	tests := []struct {
		file     string
		oracle   string
		format   string // Dialect().Format
		encoding string // Dialect().Encoding, "" to skip
		comma    rune
		zeros    int // PESELs whose lost leading zeros are restored
		header   int // the header's line
	}{
		{"libreoffice-utf8.csv", "expected.csv", "CSV", "UTF-8", ',', 5, 1},
		{"libreoffice-windows1250-semicolon.csv", "expected-pl.csv", "CSV", "windows-1250", ';', 4, 1},
		{"libreoffice-iso88592.csv", "expected-pl.csv", "CSV", "ISO-8859-2", ',', 4, 1},
		{"libreoffice-cp852.csv", "expected-pl.csv", "CSV", "IBM852", ',', 4, 1},
		{"libreoffice-windows1252.csv", "expected-de.csv", "CSV", "", ',', 1, 1},
		{"libreoffice-pl.xlsx", "expected.csv", `xlsx workbook, sheet "libreoffice-pl"`, "UTF-8", ',', 5, 1},
		{"libreoffice-title-row.xlsx", "expected.csv", `xlsx workbook, sheet "libreoffice-title-row"`, "UTF-8", ',', 5, 3},
		{"libreoffice-two-sheets.xlsx", "expected.csv", `xlsx workbook, sheet "Klienci"`, "UTF-8", ',', 5, 1},
		{"openpyxl-dates.xlsx", "expected.csv", `xlsx workbook, sheet "Użytkownicy"`, "UTF-8", ',', -1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want := readOracle(t, tt.oracle)
			in, recs := openAll(t, filepath.Join(realDir, tt.file), ingest.Options{})
			d := in.Dialect()
			if d.Format != tt.format || d.Comma != tt.comma || d.HeaderLine != tt.header ||
				tt.encoding != "" && !strings.EqualFold(d.Encoding, tt.encoding) {
				t.Errorf("dialect = %+v, want format %q encoding %q comma %q header line %d", d, tt.format, tt.encoding, tt.comma, tt.header)
			}
			if tt.encoding == "" && !strings.Contains(strings.ToLower(d.Encoding), "1252") && !strings.Contains(strings.ToLower(d.Encoding), "8859-1") {
				t.Errorf("encoding %q: want a Western code page", d.Encoding)
			}
			if len(recs) != len(want) {
				t.Fatalf("%d rows, want %d", len(recs), len(want))
			}
			for i, rec := range recs {
				if !rec.Valid() {
					t.Errorf("line %d: %s", rec.Line, rec.Reason())
					continue
				}
				if rec.User != want[i] {
					t.Errorf("line %d:\n got %+v\nwant %+v", rec.Line, rec.User, want[i])
				}
			}
			if tt.zeros >= 0 {
				if got := in.Repairs()[ingest.RepairPESELZero]; got != tt.zeros {
					t.Errorf("PESEL zeros restored %d times, want %d", got, tt.zeros)
				}
			}
		})
	}
}

// TestRealFilesNamedAndRefused: what cannot be read is named, with what to
// do, before anything is read.
func TestRealFilesNamedAndRefused(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"libreoffice-ods.ods", "OpenDocument spreadsheet"},
		{"libreoffice-legacy.xls", "old Excel workbook (.xls"},
		{"libreoffice-html.xls", "HTML page"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := ingest.Open(context.Background(), filepath.Join(realDir, tt.file), ingest.Options{Now: fixedNow})
			var fe *ingest.FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "save it as") {
				t.Fatalf("err = %v, want a FormatError naming %q and saying how to save it", err, tt.want)
			}
		})
	}
}

// TestWorkbookSheetChoice: --sheet picks a sheet; a sheet without a header
// and a missing sheet are refused by name.
func TestWorkbookSheetChoice(t *testing.T) {
	path := filepath.Join(realDir, "libreoffice-two-sheets.xlsx")
	in, recs := openAll(t, path, ingest.Options{Sheet: "Klienci"})
	if len(recs) != 12 || in.Dialect().Format != `xlsx workbook, sheet "Klienci"` {
		t.Errorf("--sheet Klienci: %d rows, %s", len(recs), in.Dialect().Format)
	}
	for _, sheet := range []string{"Info", "Nope"} {
		_, err := ingest.Open(context.Background(), path, ingest.Options{Sheet: sheet, Now: fixedNow})
		if err == nil {
			t.Errorf("--sheet %s: no error", sheet)
		}
	}
	_, err := ingest.Open(context.Background(), path, ingest.Options{Sheet: "Nope", Now: fixedNow})
	if err == nil || !strings.Contains(err.Error(), "Klienci") {
		t.Errorf("a missing sheet should list the sheets: %v", err)
	}
}

// TestEachStopsAtTheFirstError: Each hands rows over in file order and
// stops, without waiting for the rest of the file, at fn's first error.
func TestEachStopsAtTheFirstError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.csv")
	var b strings.Builder
	b.WriteString(header)
	for i := range 3000 {
		b.WriteString(strings.Replace(good, "u-1", "u-"+strconv.Itoa(i), 1))
	}
	os.WriteFile(path, []byte(b.String()), 0o600)
	in, err := ingest.Open(context.Background(), path, ingest.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	stop := errors.New("enough")
	lines := 0
	err = in.Each(context.Background(), func(rec *ingest.Record) error {
		if lines++; rec.Line != lines+1 {
			t.Fatalf("row %d on line %d: out of order", lines, rec.Line)
		}
		if lines == 1000 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || lines != 1000 {
		t.Errorf("err = %v after %d rows, want the callback's error after 1000", err, lines)
	}
}
