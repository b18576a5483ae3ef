package ingest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/ingest"
)

// TestDialectFixtures reads each file under testdata/dialects and checks
// the exact outcome counts and messages.
func TestDialectFixtures(t *testing.T) {
	tests := []struct {
		file     string
		encoding string
		wantRows int
		valid    int
		enc      string   // Reader.Encoding()
		comma    rune     // Reader.Comma()
		problems []string // every problem, in order, as Problem.String()
	}{
		{file: "bom.csv", wantRows: 3, valid: 3, enc: "UTF-8", comma: ','},
		{file: "utf16le.csv", wantRows: 3, valid: 3, enc: "UTF-16LE", comma: ','},
		{file: "utf16be.csv", wantRows: 3, valid: 3, enc: "UTF-16BE", comma: ','},
		{file: "windows1250.csv", encoding: "windows-1250", wantRows: 3, valid: 3, enc: "windows-1250", comma: ';'},
		// No flag: the content says windows-1250 (ł, ś, ą in its positions).
		{file: "windows1250.csv", wantRows: 3, valid: 3, enc: "windows-1250", comma: ';'},
		{file: "semicolons.csv", wantRows: 3, valid: 3, enc: "UTF-8", comma: ';'},
		{file: "tabs.csv", wantRows: 3, valid: 3, enc: "UTF-8", comma: '\t'},
		{file: "crlf.csv", wantRows: 3, valid: 3, enc: "UTF-8", comma: ','},
		{file: "quoted.csv", wantRows: 3, valid: 3, enc: "UTF-8", comma: ','},
		{file: "ragged.csv", wantRows: 4, valid: 2, enc: "UTF-8", comma: ',', problems: []string{
			"line 3: wrong number of fields: expected 12 (the header's), found 3; check the delimiter and the quotes in this row",
			"line 4: wrong number of fields: expected 12 (the header's), found 13; check the delimiter and the quotes in this row",
		}},
		{file: "unterminated.csv", wantRows: 4, valid: 1, enc: "UTF-8", comma: ',', problems: []string{
			"line 3: a quoted field opened on this line is never closed: the 2 line(s) after it, to the end of the file, could not be read; add the missing quote",
			"line 4: not read: inside the quoted field opened on line 3 that is never closed",
			"line 5: not read: inside the quoted field opened on line 3 that is never closed",
		}},
		// --encoding utf-8 wins: every legacy byte is refused on its row.
		{file: "windows1250.csv", encoding: "utf-8", wantRows: 3, valid: 0, enc: "UTF-8", comma: ';', problems: []string{
			`line 2, column "firstName": is not valid UTF-8 (byte 3): the file was read as UTF-8 (--encoding); if its character set is another, give it with --encoding`,
			`line 2, column "lastName": is not valid UTF-8 (byte 2): the file was read as UTF-8 (--encoding); if its character set is another, give it with --encoding`,
			`line 2, column "address": is not valid UTF-8 (byte 5): the file was read as UTF-8 (--encoding); if its character set is another, give it with --encoding`,
			`line 2, column "city": is not valid UTF-8 (byte 1): the file was read as UTF-8 (--encoding); if its character set is another, give it with --encoding`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.enc, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "dialects", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := ingest.NewReader(f, ingest.Options{Encoding: tt.encoding, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if r.Encoding() != tt.enc || r.Comma() != tt.comma {
				t.Errorf("dialect = %q %q, want %q %q", r.Encoding(), r.Comma(), tt.enc, tt.comma)
			}
			var recs []*ingest.Record
			for {
				rec, err := r.Next()
				if err != nil {
					break
				}
				recs = append(recs, rec)
			}
			valid := 0
			var problems []string
			for _, rec := range recs {
				if rec.Valid() {
					valid++
					if tt.valid > 0 && rec.User.City != "Łódź" {
						t.Errorf("line %d: city = %q, want Łódź", rec.Line, rec.User.City)
					}
				}
				for _, p := range rec.Problems() {
					problems = append(problems, p.String())
				}
			}
			if len(recs) != tt.wantRows || valid != tt.valid {
				t.Errorf("rows %d valid %d, want %d and %d", len(recs), valid, tt.wantRows, tt.valid)
			}
			// The Windows-1250 fixture read as UTF-8 fails on every row:
			// compare the first row's problems only.
			if len(tt.problems) > 0 && len(problems) > len(tt.problems) && tt.valid == 0 {
				problems = problems[:len(tt.problems)]
			}
			if strings.Join(problems, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(tt.problems, "\n"))
			}
		})
	}
}

func TestMissingColumnFixture(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "dialects", "missing-column.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = ingest.NewReader(f, ingest.Options{})
	var he *ingest.HeaderError
	if !errors.As(err, &he) || len(he.Missing) != 1 || he.Missing[0] != "lastName" {
		t.Fatalf("err = %v", err)
	}
	want := `unusable header: missing required column(s): lastName; the file has: "externalUserId", "email", "firstName", "address", "city", "country", "documentType", "documentNumber", "pesel", "birthCountry", "birthDate"; ` +
		`no column looks like lastName: add it, map it with --map 'YOUR COLUMN=lastName', or leave it out of --required if P100 does not need it`
	if err.Error() != want {
		t.Errorf("message:\n%s\nwant:\n%s", err, want)
	}
}
