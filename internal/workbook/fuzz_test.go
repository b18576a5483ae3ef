package workbook_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/workbook"
)

// FuzzSheet feeds damaged and hostile sheet XML through Open and Read: no
// panic, and whatever text comes out before an error holds exactly one line
// per row and reads back with encoding/csv.
func FuzzSheet(f *testing.F) {
	for _, rows := range []string{
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="inlineStr"><is><t>a` + "\n" + `b</t></is></c></row>`,
		`<row r="2"><c r="B2" s="1"><v>45000.5</v></c><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c></row><row r="9"/>`,
		`<row><c><v>2.29132E+09</v></c><c t="d"><v>2026-11-30T08:00:00</v></c><c t="str"><f>A1</f><v>x,"y"</v></c></row>`,
		`<row r="1"><c r="XFD1"><v>1</v></c></row>`,
		`<row r="3"><c r="A3"/></row><row r="2"/>`,
	} {
		f.Add(rows, `<si><t>plain_x000D_</t></si>`)
	}
	f.Fuzz(func(t *testing.T, rows, sst string) {
		path := mustZip(t, sheetPart(rows), sst)
		s, err := workbook.Open(context.Background(), path, workbook.Options{Sheet: "S"})
		if err != nil {
			return
		}
		defer s.Close()
		text, err := io.ReadAll(s)
		if err != nil {
			return
		}
		mustParseLines(t, string(text)) // each record on one line
		if len(text) > 0 && !strings.HasSuffix(string(text), "\n") {
			t.Errorf("text does not end with a line break: %q", text)
		}
	})
}
