package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/p100/p100-importer/internal/ingest"
)

// TestTotalCountsRowsAsTheReaderDoes checks that Open's total, the figure a
// progress bar divides by, is the number of rows the reader then returns:
// lines that hold no user, and line breaks inside quoted fields, do not
// count.
func TestTotalCountsRowsAsTheReaderDoes(t *testing.T) {
	semi := strings.ReplaceAll(header, ",", ";")
	semiRow := strings.ReplaceAll(good, ",", ";")
	rows := func(n int, row string) string { return strings.Repeat(row, n) }
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	utf16 := func(s string) []byte {
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cp1250 := func(s string) []byte {
		b, err := charmap.Windows1250.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	multiline := strings.Replace(good, "Adama Matuszczaka 51/4", "\"Adama Matuszczaka 51/4\nklatka B\n\"", 1)
	tests := []struct {
		name string
		data []byte
		want int64
	}{
		// the plain case
		{"plain", []byte(header + rows(5, good)), 5},
		// no line break after the last row
		{"no final newline", []byte(header + rows(3, good) + strings.TrimSuffix(good, "\n")), 4},
		// blank lines between and after the rows
		{"blank lines", []byte(header + good + "\n\n" + good + "\r\n\n\n"), 2},
		// a spreadsheet's formatted but empty rows
		{"empty cells", []byte(semi + semiRow + ";;;;;;;;;;;\n;;;\n" + semiRow), 2},
		// Excel's sep= hint and a title above the header
		{"sep and title", []byte("sep=;\nUsers of partner X, November\n" + semi + rows(4, semiRow)), 4},
		// two exports joined: the header again in the middle
		{"repeated header", []byte(header + rows(2, good) + header + rows(3, good)), 5},
		// a quoted address with line breaks is one row
		{"quoted line breaks", []byte(header + multiline + good + multiline), 3},
		// CRLF line breaks
		{"crlf", []byte(strings.ReplaceAll(header+rows(3, good), "\n", "\r\n")), 3},
		// old-Mac line breaks
		{"cr only", []byte(strings.ReplaceAll(header+rows(3, good)+"\n", "\n", "\r")), 3},
		// gzip, whatever the file's name: the rows of the decompressed text
		{"gzip", gz(header + rows(1000, good) + "\n\n"), 1000},
		// UTF-16 with a byte-order mark (Excel's "Unicode text")
		{"utf-16", utf16(strings.ReplaceAll(header+rows(7, good)+"\n", ",", "\t")), 7},
		// an 8-bit character set
		{"windows-1250", cp1250(header + rows(6, good)), 6},
		// a header alone
		{"header only", []byte(header + "\n"), 0},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".csv")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			in, err := ingest.Open(context.Background(), path, ingest.Options{Now: fixedNow})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer in.Close()
			got := 0
			for {
				_, err := in.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				got++
			}
			if in.TotalLines != int64(got) {
				t.Errorf("TotalLines %d, but the reader returned %d rows", in.TotalLines, got)
			}
			if in.TotalLines != tc.want {
				t.Errorf("TotalLines %d, want %d", in.TotalLines, tc.want)
			}
		})
	}
}
