package workbook_test

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/p100/p100-importer/internal/workbook"
)

// realDir holds files written by LibreOffice and openpyxl
// (scripts/make-real-fixtures.sh; its README says which command wrote each).
var realDir = filepath.Join("..", "ingest", "testdata", "real")

// isUsersHeader recognises the header of the real fixtures.
func isUsersHeader(cells []string) bool { return len(cells) > 0 && cells[0] == "externalUserId" }

// mustOpen opens a workbook and closes it when the test ends.
func mustOpen(tb testing.TB, path string, opts workbook.Options) *workbook.Sheet {
	tb.Helper()
	s, err := workbook.Open(context.Background(), path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", filepath.Base(path), err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// mustReadText reads the whole CSV text of a sheet.
func mustReadText(tb testing.TB, s *workbook.Sheet) string {
	tb.Helper()
	b, err := io.ReadAll(s)
	if err != nil {
		tb.Fatalf("read sheet %q: %v", s.Name(), err)
	}
	return string(b)
}

// mustParseLines parses CSV text with encoding/csv, as the importer does, and
// returns each record by the physical line it starts on. It fails the test
// if a record spans more than one line.
func mustParseLines(tb testing.TB, text string) map[int][]string {
	tb.Helper()
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	lines := map[int][]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("encoding/csv cannot read the text: %v", err)
		}
		line, _ := r.FieldPos(0)
		lastLine, _ := r.FieldPos(len(rec) - 1)
		if lastLine != line {
			tb.Errorf("the record of line %d spans lines %d-%d", line, line, lastLine)
		}
		lines[line] = rec
	}
	return lines
}

// mustReadOracle reads a hand-written oracle of the real fixtures.
func mustReadOracle(tb testing.TB, name string) [][]string {
	tb.Helper()
	f, err := os.Open(filepath.Join(realDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

// compareRow reports every cell of got that differs from want.
func compareRow(tb testing.TB, line int, got, want []string) {
	tb.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			tb.Errorf("line %d, column %d: got %q, want %q", line, i+1, g, w)
		}
	}
}

func TestRealFixtures(t *testing.T) {
	oracle := mustReadOracle(t, "expected.csv")
	header, users := oracle[0], oracle[1:]
	pesel := slices.Index(header, "pesel")
	// asShown is the oracle as the spreadsheet shows it: a PESEL in a number
	// cell has lost its leading zeros (the importer restores them, not this
	// package).
	asShown := func(numberPESEL func(i int) bool) [][]string {
		rows := make([][]string, len(users))
		for i, u := range users {
			rows[i] = slices.Clone(u)
			if numberPESEL(i) {
				rows[i][pesel] = strings.TrimLeft(u[pesel], "0")
			}
		}
		return rows
	}
	always := func(int) bool { return true }
	tests := []struct {
		name      string
		file      string
		sheet     string // the sheet Open must choose
		headerRow int    // the sheet row (and text line) of the header
		want      [][]string
	}{
		// The CSV opened in LibreOffice and saved as xlsx: PESELs are
		// number cells, birth dates date cells (format yyyy\-mm\-dd).
		{"libreoffice", "libreoffice-pl.xlsx", "libreoffice-pl", 1, asShown(always)},
		// A title on row 1, row 2 empty (absent from the XML): the header
		// is line 3 and user 100001 line 4, as Excel numbers them.
		{"title row", "libreoffice-title-row.xlsx", "libreoffice-title-row", 3, asShown(always)},
		// A first sheet of notes without a header: the users' sheet is chosen.
		{"two sheets", "libreoffice-two-sheets.xlsx", "Klienci", 1, asShown(always)},
		// openpyxl: inline strings, PESEL as a number cell (even rows) and
		// as a text cell (odd rows), four date formats (dd.mm.yyyy,
		// m/d/yyyy, built-in 14, yyyy-mm-dd), a line break in an address.
		{"openpyxl", "openpyxl-dates.xlsx", "Użytkownicy", 1, asShown(func(i int) bool { return i%2 == 0 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t, filepath.Join(realDir, tt.file), workbook.Options{IsHeader: isUsersHeader})
			if s.Name() != tt.sheet {
				t.Errorf("Name() = %q, want %q", s.Name(), tt.sheet)
			}
			text := mustReadText(t, s)
			if n, want := strings.Count(text, "\n"), tt.headerRow+len(users); n != want {
				t.Errorf("the text has %d lines, want %d (one per sheet row)", n, want)
			}
			lines := mustParseLines(t, text)
			compareRow(t, tt.headerRow, lines[tt.headerRow], header)
			for i, want := range tt.want {
				line := tt.headerRow + 1 + i
				got, ok := lines[line]
				if !ok {
					t.Errorf("line %d (user %s) is missing", line, want[0])
					continue
				}
				compareRow(t, line, got, want)
			}
			for line, rec := range lines {
				if line < tt.headerRow && !(tt.name == "title row" && line == 1) {
					t.Errorf("unexpected record on line %d, above the header: %q", line, rec)
				}
			}
			if want := tt.headerRow + len(users); len(lines) > want {
				t.Errorf("%d records, want at most %d", len(lines), want)
			}
		})
	}
	t.Run("title row on its own line", func(t *testing.T) {
		s := mustOpen(t, filepath.Join(realDir, "libreoffice-title-row.xlsx"), workbook.Options{IsHeader: isUsersHeader})
		text := mustReadText(t, s)
		first := strings.SplitN(text, "\n", 4)
		if first[0] != "Eksport klientów 2026-11-30" || first[1] != "" || !strings.HasPrefix(first[2], "externalUserId,") {
			t.Errorf("first lines = %q, want the title, an empty line, the header", first[:3])
		}
	})
}

func TestSheetSelection(t *testing.T) {
	twoSheets := filepath.Join(realDir, "libreoffice-two-sheets.xlsx")
	t.Run("first sheet with a header", func(t *testing.T) {
		s := mustOpen(t, twoSheets, workbook.Options{IsHeader: isUsersHeader})
		if s.Name() != "Klienci" {
			t.Errorf("Name() = %q, want Klienci", s.Name())
		}
		if got, want := s.Sheets(), []string{"Info", "Klienci"}; !slices.Equal(got, want) {
			t.Errorf("Sheets() = %q, want %q", got, want)
		}
	})
	t.Run("by name", func(t *testing.T) {
		s := mustOpen(t, twoSheets, workbook.Options{Sheet: "Info", IsHeader: isUsersHeader})
		// Row 2 holds a date cell, row 3 a number, row 4 nothing.
		want := "Eksport z systemu CRM\nData eksportu:,2026-11-30\nLiczba klientów:,12\n\nDane osobowe: przetwarzać zgodnie z RODO.\n"
		if got := mustReadText(t, s); got != want {
			t.Errorf("text = %q, want %q", got, want)
		}
	})
	t.Run("by name without regard to case", func(t *testing.T) {
		s := mustOpen(t, twoSheets, workbook.Options{Sheet: "KLIENCI"})
		if s.Name() != "Klienci" {
			t.Errorf("Name() = %q, want Klienci", s.Name())
		}
	})
	t.Run("missing sheet", func(t *testing.T) {
		_, err := workbook.Open(context.Background(), twoSheets, workbook.Options{Sheet: "Arkusz1"})
		if !errors.Is(err, workbook.ErrNoSheet) {
			t.Fatalf("err = %v, want ErrNoSheet", err)
		}
		for _, part := range []string{`"Arkusz1"`, `"Info", "Klienci"`, "--sheet NAME", "libreoffice-two-sheets.xlsx"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("error %q does not say %s", err, part)
			}
		}
	})
	t.Run("no header on any sheet", func(t *testing.T) {
		never := func([]string) bool { return false }
		_, err := workbook.Open(context.Background(), twoSheets, workbook.Options{IsHeader: never})
		if !errors.Is(err, workbook.ErrNoHeader) {
			t.Fatalf("err = %v, want ErrNoHeader", err)
		}
		for _, part := range []string{`"Info", "Klienci"`, "first 20 rows", "--sheet NAME"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("error %q does not say %s", err, part)
			}
		}
	})
	t.Run("header past MaxScanRows", func(t *testing.T) {
		title := filepath.Join(realDir, "libreoffice-title-row.xlsx")
		_, err := workbook.Open(context.Background(), title, workbook.Options{IsHeader: isUsersHeader, MaxScanRows: 2})
		if !errors.Is(err, workbook.ErrNoHeader) {
			t.Errorf("MaxScanRows 2: err = %v, want ErrNoHeader (the header is row 3)", err)
		}
		mustOpen(t, title, workbook.Options{IsHeader: isUsersHeader, MaxScanRows: 3})
	})
	t.Run("nil IsHeader takes the first sheet with a row", func(t *testing.T) {
		path := mustBuild(t, func(f *excelize.File) {
			f.NewSheet("Data")
			f.SetCellStr("Data", "A1", "x")
		})
		if s := mustOpen(t, path, workbook.Options{}); s.Name() != "Data" {
			t.Errorf("Name() = %q, want Data (Sheet1 is empty)", s.Name())
		}
	})
	t.Run("hidden sheets are not chosen", func(t *testing.T) {
		path := mustBuild(t, func(f *excelize.File) {
			f.SetCellStr("Sheet1", "A1", "externalUserId")
			f.NewSheet("Visible")
			f.SetCellStr("Visible", "A1", "externalUserId")
			f.SetActiveSheet(1)
			if err := f.SetSheetVisible("Sheet1", false); err != nil {
				t.Fatal(err)
			}
		})
		if s := mustOpen(t, path, workbook.Options{IsHeader: isUsersHeader}); s.Name() != "Visible" {
			t.Errorf("Name() = %q, want Visible (Sheet1 is hidden)", s.Name())
		}
		if s := mustOpen(t, path, workbook.Options{Sheet: "Sheet1"}); s.Name() != "Sheet1" {
			t.Errorf("named: Name() = %q, want Sheet1", s.Name())
		}
	})
}

// mustBuild writes a workbook that build fills in, with excelize, and
// returns its path.
func mustBuild(tb testing.TB, build func(f *excelize.File)) string {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	build(f)
	path := filepath.Join(tb.TempDir(), "built.xlsx")
	if err := f.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// mustStyle adds a style with a built-in number format (id) or a custom one.
func mustStyle(tb testing.TB, f *excelize.File, id int, custom string) int {
	tb.Helper()
	st := &excelize.Style{NumFmt: id}
	if custom != "" {
		st.CustomNumFmt = &custom
	}
	s, err := f.NewStyle(st)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestBuiltWorkbook(t *testing.T) {
	type cell struct {
		name string
		set  func(f *excelize.File, ref string) error
		want string
	}
	// run writes one case per row (name in A, value in B) and checks B.
	run := func(t *testing.T, date1904 bool, cases []cell) {
		t.Helper()
		path := mustBuild(t, func(f *excelize.File) {
			if date1904 {
				if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &date1904}); err != nil {
					t.Fatal(err)
				}
			}
			for i, c := range cases {
				f.SetCellStr("Sheet1", fmt.Sprintf("A%d", i+1), c.name)
				if err := c.set(f, fmt.Sprintf("B%d", i+1)); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
			}
		})
		lines := mustParseLines(t, mustReadText(t, mustOpen(t, path, workbook.Options{})))
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got := lines[i+1]
				if len(got) != 2 || got[1] != c.want {
					t.Errorf("line %d = %q, want [%q %q]", i+1, got, c.name, c.want)
				}
			})
		}
	}
	// float sets a number with a style made from a number format.
	float := func(v float64, id int, custom string) func(*excelize.File, string) error {
		return func(f *excelize.File, ref string) error {
			if err := f.SetCellFloat("Sheet1", ref, v, -1, 64); err != nil {
				return err
			}
			if id == 0 && custom == "" {
				return nil
			}
			return f.SetCellStyle("Sheet1", ref, ref, mustStyle(t, f, id, custom))
		}
	}
	text := func(v string) func(*excelize.File, string) error {
		return func(f *excelize.File, ref string) error { return f.SetCellStr("Sheet1", ref, v) }
	}
	t.Run("1904 date system", func(t *testing.T) {
		// 2026-11-30 is serial 46356 in the 1900 system, 46356-1462 in 1904.
		run(t, true, []cell{
			{"built-in short date", float(44894, 14, ""), "2026-11-30"},
			{"date and time", float(44894.5, 0, "dd.mm.yyyy hh:mm"), "2026-11-30 12:00:00"},
			{"midnight drops the time", float(44894, 0, "dd.mm.yyyy hh:mm"), "2026-11-30"},
			{"time of day alone", float(0.75, 20, ""), "1904-01-01 18:00:00"},
			{"day 0", float(0, 14, ""), "1904-01-01"},
		})
	})
	t.Run("1900 date system", func(t *testing.T) {
		run(t, false, []cell{
			{"built-in short date", float(46356, 14, ""), "2026-11-30"},
			{"Polish locale date", float(46356, 0, `[$-415]d\ mmmm\ yyyy`), "2026-11-30"},
			{"US date", float(37824, 0, "m/d/yyyy"), "2003-07-22"},
			{"seconds round", float(46356+(13*3600+14*60+15.4)/86400, 0, "yyyy-mm-dd hh:mm:ss"), "2026-11-30 13:14:15"},
			{"first day", float(1, 14, ""), "1900-01-01"},
			{"before Excel's leap day", float(59, 14, ""), "1900-02-28"},
			{"Excel's leap day", float(60, 14, ""), "1900-02-29"},
			{"after Excel's leap day", float(61, 14, ""), "1900-03-01"},
			{"negative is no date", float(-5, 14, ""), "-5"},
			{"money is no date", float(1234.5, 0, `0.00" zł"`), "1234.5"},
			{"escaped letters are no date", float(7, 0, `0\d`), "7"},
		})
	})
	t.Run("values", func(t *testing.T) {
		run(t, false, []cell{
			{"integer", func(f *excelize.File, ref string) error { return f.SetCellInt("Sheet1", ref, 85031441758) }, "85031441758"},
			{"PESEL number loses its zero", func(f *excelize.File, ref string) error { return f.SetCellInt("Sheet1", ref, 3272280321) }, "3272280321"},
			{"integer with a thousands format", float(2291320000, 3, ""), "2291320000"},
			{"fraction", float(12.25, 0, ""), "12.25"},
			{"tiny", float(1.5e-9, 0, ""), "1.5e-09"},
			{"text keeps its zero", text("03272280321"), "03272280321"},
			{"true", func(f *excelize.File, ref string) error { return f.SetCellBool("Sheet1", ref, true) }, "TRUE"},
			{"false", func(f *excelize.File, ref string) error { return f.SetCellBool("Sheet1", ref, false) }, "FALSE"},
			{"formula's cached value", func(f *excelize.File, ref string) error {
				if err := f.SetCellInt("Sheet1", ref, 42); err != nil {
					return err
				}
				return f.SetCellFormula("Sheet1", ref, "6*7")
			}, "42"},
			{"line break", text("ul. Floriańska 15\nm. 4"), "ul. Floriańska 15 m. 4"},
			{"CRLF is one break", text("a\r\nb\rc"), "a b c"},
			{"quotes and commas", text(`"Nowa", 5`), `"Nowa", 5`},
		})
	})
}

// sheetPart is the XML of a worksheet around rows.
func sheetPart(rows string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + rows + `</sheetData></worksheet>`
}

// mustZip writes a minimal .xlsx by hand, for cells excelize cannot write
// (error cells, type "d", Excel's escapes, phonetic runs) and for damaged or
// hostile sheets; sst, if not "", is the shared-strings part's <si> items.
func mustZip(tb testing.TB, sheet, sst string) string {
	tb.Helper()
	parts := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`,
		"_rels/.rels":         `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":     `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml": sheet,
	}
	if sst != "" {
		parts["xl/sharedStrings.xml"] = `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + sst + `</sst>`
	}
	path := filepath.Join(tb.TempDir(), "hand.xlsx")
	out, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	zw := zip.NewWriter(out)
	for name, data := range parts {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, data)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestHandWrittenXML(t *testing.T) {
	sst := `<si><t>plain</t></si>` +
		`<si><r><rPr><b/></rPr><t>Kra</t></r><r><t>ków</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>` +
		`<si><t>line_x000D_` + "\n" + `break</t></si>` +
		`<si><t>_x005F_x0041_ stays</t></si>`
	rows := `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>` +
		`<row r="2"><c r="A2" t="e"><v>#N/A</v></c><c r="B2" t="d"><v>2026-11-30T00:00:00</v></c><c r="C2" t="d"><v>2026-11-30T08:30:00</v></c></row>` +
		// rows 3 and 4 are absent; row 5's cells have no references
		`<row r="5"><c><v>2.29132E+09</v></c><c><v>1.0</v></c><c t="n"/><c><v>-0</v></c></row>` +
		// formulas: a number and a text result
		`<row r="6"><c r="A6"><f>6*7</f><v>42</v></c><c r="B6" t="str"><f>A1&amp;"x"</f><v>plainx</v></c><c r="C6" t="inlineStr"><is><t xml:space="preserve"> spaced </t></is></c></row>` +
		// a row without a number comes after row 6; styled empty cells far right are nothing
		`<row><c r="A7" t="b"><v>1</v></c><c r="XFD7" s="3"/></row>` +
		`<row r="8"><c r="A8"><v>0.30000000000000004</v></c><c r="B8"><v>1E+21</v></c></row>`
	path := mustZip(t, sheetPart(rows), sst)
	text := mustReadText(t, mustOpen(t, path, workbook.Options{}))
	want := []string{
		"plain,Kraków,line break,_x0041_ stays",
		"#N/A,2026-11-30,2026-11-30 08:30:00",
		"",
		"",
		"2291320000,1,,0",
		`42,plainx," spaced "`,
		"TRUE",
		"0.30000000000000004,1e+21",
		"",
	}
	if got := strings.Split(text, "\n"); !slices.Equal(got, want) {
		t.Errorf("lines:\n%q\nwant\n%q", got, want)
	}
}

func TestDamagedAndHostile(t *testing.T) {
	wide := `<row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="ALL2" s="1"/><c r="ALM2" t="inlineStr"><is><t>b</t></is></c></row>`
	tests := []struct {
		name  string
		sheet string
		sst   string
		want  error  // errors.Is
		says  string // part of the message
	}{
		// ALL is column 1000, ALM 1001.
		{"too wide", sheetPart(`<row r="1"><c r="A1"><v>1</v></c></row>` + wide), "", workbook.ErrTooWide, `row 2, column ALM`},
		{"past column XFD", sheetPart(`<row r="1"><c r="XFE1"><v>1</v></c></row>`), "", nil, `"XFE1" is not a cell`},
		{"cell too big", sheetPart(`<row r="1"><c r="A1" t="inlineStr"><is><t>` + strings.Repeat("x", 1<<20+1) + `</t></is></c></row>`), "", workbook.ErrCellTooBig, "row 1, column A"},
		{"shared string too big", sheetPart(`<row r="1"><c r="A1" t="s"><v>0</v></c></row>`), `<si><t>` + strings.Repeat("ż", 1<<19+1) + `</t></si>`, workbook.ErrCellTooBig, "shared strings"},
		{"token too big", sheetPart(`<row r="1"><c r="A1"><v>` + strings.Repeat("1", 3<<20) + `</v></c></row>`), "", workbook.ErrCellTooBig, "row 1"},
		{"missing shared string", sheetPart(`<row r="1"><c r="A1" t="s"><v>7</v></c></row>`), `<si><t>only</t></si>`, nil, "shared string 7 does not exist"},
		{"rows out of order", sheetPart(`<row r="3"><c><v>1</v></c></row><row r="2"><c><v>1</v></c></row>`), "", nil, "row 2 comes after row 3"},
		{"truncated XML", sheetPart(`<row r="1"><c r="A1"><v>1</v></c></row>`)[:150], "", io.ErrUnexpectedEOF, "ends early"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := mustZip(t, tt.sheet, tt.sst)
			s, err := workbook.Open(context.Background(), path, workbook.Options{Sheet: "S"})
			if err == nil {
				_, err = io.ReadAll(s)
				s.Close()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

func TestNotAWorkbook(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.xlsx")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "archive.xlsx")
	{
		f, _ := os.Create(archive)
		zw := zip.NewWriter(f)
		w, _ := zw.Create("users.csv")
		io.WriteString(w, "externalUserId\n1\n")
		zw.Close()
		f.Close()
	}
	tests := []struct {
		name, path, says string
	}{
		{"ods", filepath.Join(realDir, "libreoffice-ods.ods"), "OpenDocument"},
		{"xls", filepath.Join(realDir, "libreoffice-legacy.xls"), "Excel 97-2003"},
		{"html named xls", filepath.Join(realDir, "libreoffice-html.xls"), "HTML"},
		{"csv", filepath.Join(realDir, "libreoffice-utf8.csv"), "not a zip archive"},
		{"empty", empty, "empty"},
		{"zip of something else", archive, "without an Excel workbook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workbook.Open(context.Background(), tt.path, workbook.Options{})
			if !errors.Is(err, workbook.ErrNotWorkbook) {
				t.Fatalf("err = %v, want ErrNotWorkbook", err)
			}
			if !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), filepath.Base(tt.path)) {
				t.Errorf("error %q does not name the file and say %q", err, tt.says)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := workbook.Open(context.Background(), filepath.Join(dir, "nope.xlsx"), workbook.Options{})
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want os.ErrNotExist", err)
		}
	})
}

func TestCancel(t *testing.T) {
	t.Run("open", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := workbook.Open(ctx, filepath.Join(realDir, "libreoffice-pl.xlsx"), workbook.Options{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("mid-sheet", func(t *testing.T) {
		path := mustGenerate(t, 20_000)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s, err := workbook.Open(ctx, path, workbook.Options{IsHeader: isUsersHeader})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		buf := make([]byte, 4096)
		if _, err := s.Read(buf); err != nil {
			t.Fatalf("first Read: %v", err)
		}
		cancel()
		n, err := s.Read(buf)
		if n != 0 || !errors.Is(err, context.Canceled) {
			t.Errorf("Read after cancel = %d, %v; want 0, context.Canceled", n, err)
		}
	})
}
