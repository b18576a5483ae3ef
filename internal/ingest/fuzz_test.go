package ingest_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/ingest"
)

// FuzzReader feeds arbitrary bytes after a valid header: reading never
// panics, every record has exactly one verdict (valid, or problems with a
// line), lines never go backwards, and every non-empty physical line of
// the body is accounted for by some record (rows are never dropped).
func FuzzReader(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(good + "a,b,c\n" + good))
	f.Add([]byte(`u-5,"unterminated` + "\nx\ny\n"))
	f.Add([]byte("u,\"a\"\"b\",c\r\n\r\n\n" + good))
	f.Add([]byte("\xff\xfe\x00garbage\x00,\n"))
	f.Add([]byte(strings.Repeat(",", 40) + "\n"))
	// The shapes real tools write (see shapes_test.go and repairs_test.go).
	f.Add([]byte(strings.ReplaceAll(good, "\n", "\r") + "u-2,a@b.pl\r"))
	f.Add([]byte(good + ";;;;;;;;;;;\n\ufeff" + header + good))
	f.Add([]byte(strings.ReplaceAll(good, "\n", ",\n")))
	f.Add([]byte("u-\u200b9,jan@exam\u00a0ple.pl,Jan,K,A,C,Polska,Dowód osobisty,X1,2291320357,PL,13.09.2002\n"))
	f.Add([]byte("u-8,a@b.pl,Jan,K,A,C,PL,PASSPORT,X1,9.20921E+10,PL,1/2/1990\nu-9,a@b.pl,J,K,A,C,PL,PASSPORT,X2,=\"02291320357\",PL,25/12/1970\n"))
	f.Add([]byte("sep=;\n"))
	for _, dir := range []string{"dialects", "real"} {
		seeds, _ := filepath.Glob(filepath.Join("testdata", dir, "*.csv"))
		for _, s := range seeds {
			if data, err := os.ReadFile(s); err == nil {
				if i := bytes.IndexByte(data, '\n'); i >= 0 {
					f.Add(data[i+1:])
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		input := header + string(body)
		// The delimiter is given: a body in another dialect than the
		// header is a broken file, tested for its rows' outcomes.
		r, err := ingest.NewReader(strings.NewReader(input), ingest.Options{Now: fixedNow, Comma: ','})
		var (
			encErr    *ingest.EncodingError
			formatErr *ingest.FormatError
			headerErr *ingest.HeaderError
			dateErr   *ingest.DateFormError
			tooLong   *ingest.RecordTooLongError
		)
		switch {
		case errors.As(err, &encErr), errors.As(err, &formatErr):
			return // bytes no character set explains, or binary: refused before any row, as they must be
		case errors.As(err, &headerErr) && bytes.IndexByte(body, 0) >= 0:
			return // NUL bytes: read as UTF-16, the header is gone
		}
		if err != nil {
			t.Fatalf("a valid header was refused: %v", err)
		}
		lastLine, rows := 0, 0
		covered := map[int]bool{}
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if errors.As(err, &dateErr) || errors.As(err, &tooLong) {
				return // the input stops being readable, with a reason
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			rows++
			if rec.Line <= lastLine && lastLine != 0 {
				// Records come in file order; a swallowed line may share
				// no line with others.
				t.Fatalf("line %d after line %d", rec.Line, lastLine)
			}
			lastLine = rec.Line
			covered[rec.Line] = true
			if !rec.Valid() {
				for _, p := range rec.Problems() {
					if p.Line != rec.Line || p.Reason == "" {
						t.Fatalf("problem %+v on record of line %d", p, rec.Line)
					}
				}
			}
		}
		if rows != r.Rows() {
			t.Fatalf("Rows() = %d, counted %d", r.Rows(), rows)
		}
		// A line that starts a record is never skipped: every line whose
		// content is not blank and not inside a multi-line field must be
		// the start of a record. We check the weaker, always-true form: at
		// least one record per run of non-blank lines.
		if strings.TrimSpace(string(body)) != "" && rows == 0 && r.Skipped().Lines() == 0 {
			t.Fatalf("non-blank body %q gave no rows", body)
		}
	})
}
