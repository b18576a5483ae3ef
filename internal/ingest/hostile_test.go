package ingest_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/ingest"
)

// repeatReader yields n bytes made of pattern, without holding them.
type repeatReader struct {
	pattern []byte
	n, off  int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.off < r.n {
		p[k] = r.pattern[r.off%int64(len(r.pattern))]
		k++
		r.off++
	}
	return k, nil
}

// TestHostileInputEndsInAClearError: inputs no export looks like end with
// an error that says what is wrong (the memory each takes is shown by make
// bench).
func TestHostileInputEndsInAClearError(t *testing.T) {
	tests := []struct {
		name string
		in   io.Reader
		want string // in the error
		line int    // of the RecordTooLongError; 0: another error
	}{
		{"zeros (/dev/zero)", &repeatReader{pattern: []byte{0}, n: 50 << 20}, "binary data", 0},
		{"a 50 MB header", &repeatReader{pattern: []byte("abcdefgh,"), n: 50 << 20}, "first line is longer than 256 KiB", 1},
		{"a 50 MB line", io.MultiReader(strings.NewReader(header+good), &repeatReader{pattern: []byte("x"), n: 50 << 20}), "a line longer than 1024 KiB", 3},
		{"an unterminated quote over 300,000 lines", io.MultiReader(strings.NewReader(header+good+`u-2,"open`+"\n"),
			&repeatReader{pattern: []byte("u-9,a@b.pl,Jan,K,A,C,PL,PASSPORT,X1,,,\n"), n: 300_000 * 40}), "quoted field opened on this line is still not closed", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ingest.NewReader(tt.in, ingest.Options{Now: fixedNow})
			if err == nil {
				for {
					_, err = r.Next()
					if err != nil {
						break
					}
				}
			}
			if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			var tl *ingest.RecordTooLongError
			if tt.line > 0 && (!errors.As(err, &tl) || tl.Line != tt.line) {
				t.Errorf("err = %#v, want a RecordTooLongError on line %d", err, tt.line)
			}
		})
	}
}

// TestFileStillBeingWritten: rows read after the file changed are never
// returned; the run stops with a ChangedError.
func TestFileStillBeingWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.csv")
	var b strings.Builder
	b.WriteString(header)
	for i := range 1000 {
		b.WriteString(strings.Replace(good, "u-1", "u-"+strconv.Itoa(i), 1))
	}
	b.WriteString("u-x,jan@exa") // the writer is still at work
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := ingest.Open(context.Background(), path, ingest.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.Next(); err != nil {
		t.Fatal(err)
	}
	// The export goes on being written.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("mple.pl,Jan,K,A,C,PL,PASSPORT,X1,,,\n")
	f.Close()
	os.Chtimes(path, time.Now().Add(time.Second), time.Now().Add(time.Second))

	returned := 1
	for {
		rec, err := in.Next()
		if err != nil {
			var ce *ingest.ChangedError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), "still being written") {
				t.Fatalf("err = %v, want a ChangedError", err)
			}
			break
		}
		returned++
		if rec.User.ExternalUserID == "u-x" {
			t.Fatal("the row being written was returned")
		}
	}
	// Only the first batch, read before the change, was returned.
	if returned > 256 {
		t.Errorf("%d rows returned after the file changed", returned)
	}
}
