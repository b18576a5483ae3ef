package ingest_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/ingest"
)

// semi is the test header and good row with ';', as Polish and German
// Excel write them.
var (
	semiHeader = strings.ReplaceAll(header, ",", ";")
	semiGood   = strings.ReplaceAll(good, ",", ";")
)

// TestShapesToolsWrite: files as spreadsheets, CRMs and scripts really
// write them are read with no flags, and lines that hold no user are
// skipped and counted, never reported as invalid.
func TestShapesToolsWrite(t *testing.T) {
	two := strings.Replace(good, "u-1", "u-2", 1)
	tests := []struct {
		name    string
		input   string
		rows    int            // rows returned, all valid
		lines   []int          // their lines
		skipped ingest.Skipped // counts only (RepeatedAt checked apart)
		comma   rune
		breaks  string
	}{
		{
			// Excel's "sep=;" hint line: honoured, not a header.
			name: "sep= line", input: "sep=;\n" + semiHeader + semiGood,
			rows: 1, lines: []int{3}, skipped: ingest.Skipped{Hint: 1}, comma: ';', breaks: "LF",
		},
		{
			// The hint names a delimiter the header line alone would not
			// pick (one comma in it, no semicolon wins otherwise).
			name: "sep= line wins over detection", input: "sep=|\r\n" + strings.ReplaceAll(header+good, ",", "|"),
			rows: 1, lines: []int{3}, skipped: ingest.Skipped{Hint: 1}, comma: '|', breaks: "mixed LF and CRLF",
		},
		{
			// Old-Mac line breaks (CR alone): every line read, numbered.
			name: "CR line breaks", input: strings.ReplaceAll(header+good+two, "\n", "\r"),
			rows: 2, lines: []int{2, 3}, comma: ',', breaks: "CR (old Mac)",
		},
		{
			// Excel's formatted but empty rows: only delimiters.
			name: "rows of empty cells", input: semiHeader + semiGood + ";;;;;;;;;;;\n" + `"";"";;;;;;;;;;` + "\n;;;\n",
			rows: 1, lines: []int{2}, skipped: ingest.Skipped{Blank: 3}, comma: ';', breaks: "LF",
		},
		{
			// Two exports joined: the second header (with its BOM) skipped.
			name: "repeated header", input: header + good + "\ufeff" + header + two,
			rows: 2, lines: []int{2, 4}, skipped: ingest.Skipped{RepeatedHeader: 1}, comma: ',', breaks: "LF",
		},
		{
			// A trailing delimiter on every data row: an extra empty cell.
			name: "trailing empty column", input: header + strings.ReplaceAll(good+two, "\n", ",\n"),
			rows: 2, lines: []int{2, 3}, skipped: ingest.Skipped{Trimmed: 2}, comma: ',', breaks: "LF",
		},
		{
			// A header with a trailing delimiter, rows without.
			name: "header with trailing delimiter", input: strings.TrimSuffix(header, "\n") + ",\n" + good + two,
			rows: 2, lines: []int{2, 3}, skipped: ingest.Skipped{Padded: 2}, comma: ',', breaks: "LF",
		},
		{
			// pandas' DataFrame.to_csv: an unnamed index column first.
			name: "unnamed index column", input: "," + header + "0," + good + "1," + two,
			rows: 2, lines: []int{2, 3}, comma: ',', breaks: "LF",
		},
		{
			// The last line without a line break.
			name: "no final line break", input: header + good + strings.TrimSuffix(two, "\n"),
			rows: 2, lines: []int{2, 3}, comma: ',', breaks: "LF",
		},
		{
			// A report's title and an empty line above the header.
			name: "title above the header", input: "Eksport klientów 2026-11-30;;;\n\n" + semiHeader + semiGood,
			rows: 1, lines: []int{4}, skipped: ingest.Skipped{Title: 1, Blank: 1}, comma: ';', breaks: "LF",
		},
		{
			// Blank lines and whitespace-only lines between rows.
			name: "blank lines", input: header + "\n" + good + "   \n\n" + two,
			rows: 2, lines: []int{3, 6}, skipped: ingest.Skipped{Blank: 3}, comma: ',', breaks: "LF",
		},
		{
			// Windows line breaks throughout.
			name: "CRLF", input: strings.ReplaceAll(header+good+two, "\n", "\r\n"),
			rows: 2, lines: []int{2, 3}, comma: ',', breaks: "CRLF",
		},
		{
			// A semicolon file whose addresses hold commas: the delimiter
			// that splits every line the same way wins.
			name: "commas inside a semicolon file", input: semiHeader + strings.Replace(semiGood, "Adama Matuszczaka 51/4", "Adama Matuszczaka 51/4, m. 2, II p.", 1),
			rows: 1, lines: []int{2}, comma: ';', breaks: "LF",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs := readAll(t, tt.input, ingest.Options{})
			if len(recs) != tt.rows {
				t.Fatalf("%d rows, want %d: %v", len(recs), tt.rows, problemsOf(recs))
			}
			for i, rec := range recs {
				if !rec.Valid() {
					t.Errorf("line %d invalid: %s", rec.Line, rec.Reason())
				}
				if rec.Line != tt.lines[i] {
					t.Errorf("row %d on line %d, want %d", i, rec.Line, tt.lines[i])
				}
			}
			got := r.Skipped()
			got.RepeatedAt = nil
			if !reflect.DeepEqual(got, tt.skipped) {
				t.Errorf("skipped = %+v, want %+v", got, tt.skipped)
			}
			if d := r.Dialect(); d.Comma != tt.comma || d.LineBreaks != tt.breaks {
				t.Errorf("dialect = %+v, want comma %q, line breaks %q", d, tt.comma, tt.breaks)
			}
		})
	}
}

// TestRepeatedHeaderIsNoted: the line of a repeated header is kept for
// validate's note.
func TestRepeatedHeaderIsNoted(t *testing.T) {
	r, _ := readAll(t, header+good+header+strings.Replace(good, "u-1", "u-2", 1), ingest.Options{})
	if at := r.Skipped().RepeatedAt; len(at) != 1 || at[0] != 3 {
		t.Errorf("repeated header at %v, want [3]", at)
	}
}

// TestHeadersInOtherLanguages: Polish and German headers, as a partner's
// Excel in those locales writes them, map like the API's names.
func TestHeadersInOtherLanguages(t *testing.T) {
	tests := []struct{ name, header string }{
		{"Polish", "Identyfikator;E-mail;Imię;Nazwisko;Adres;Miasto;Kraj;Typ dokumentu;Numer dokumentu;PESEL;Kraj urodzenia;Data urodzenia\n"},
		{"German", "Kundennummer;E-Mail;Vorname;Nachname;Straße;Ort;Land;Dokumenttyp;Ausweisnummer;PESEL;Geburtsland;Geburtsdatum\n"},
		{"English variants", "Customer ID;Email Address;First Name;Surname;Street Address;Town;Country Code;ID Type;ID Number;PESEL;Country of Birth;Date of Birth\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs := readAll(t, tt.header+semiGood, ingest.Options{})
			if len(recs) != 1 || !recs[0].Valid() {
				t.Fatalf("problems: %v", problemsOf(recs))
			}
			if len(r.Unknown()) != 0 {
				t.Errorf("unmapped columns: %v", r.Unknown())
			}
			if u := recs[0].User; u.ExternalUserID != "u-1" || u.BirthDate != "1944-05-14" || u.Pesel != "44051401359" {
				t.Errorf("user = %+v", u)
			}
		})
	}
}

// TestAliasBesideAPIName: a column named like an alias ("id") beside the
// API's own name is ignored, not a conflict.
func TestAliasBesideAPIName(t *testing.T) {
	r, recs := readAll(t, "id,"+header+"77,"+good, ingest.Options{})
	if len(recs) != 1 || !recs[0].Valid() || recs[0].User.ExternalUserID != "u-1" {
		t.Fatalf("records: %v", problemsOf(recs))
	}
	if got := r.Unknown(); len(got) != 1 || got[0] != "id" {
		t.Errorf("unknown = %v", got)
	}
}

// TestMissingColumnSuggestsMap: the error lists the file's columns, the
// closest match for each missing field and the exact --map to pass.
func TestMissingColumnSuggestsMap(t *testing.T) {
	in := "Nr klienta;E-mail;Imię;Nazwisko klienta;Adres;Miasto;Kraj;Typ dokumentu;Numer dokumentu\n" +
		"c-1;a@example.pl;Jan;Kowalski;Długa 1;Gdańsk;PL;PASSPORT;X1\n"
	_, err := ingest.NewReader(strings.NewReader(in), ingest.Options{})
	var he *ingest.HeaderError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"missing required column(s): lastName", `"Nazwisko klienta"`, `--map 'Nazwisko klienta=lastName'`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// And the suggestion works.
	_, recs := readAll(t, in, ingest.Options{Mapping: map[string]string{"Nazwisko klienta": "lastName"}})
	if len(recs) != 1 || !recs[0].Valid() {
		t.Errorf("with the suggested --map: %v", problemsOf(recs))
	}
}

// TestHeaderlessFileNeverEchoesData: a file without a header line is
// refused, and its first row (a user's data) is not in the message.
func TestHeaderlessFileNeverEchoesData(t *testing.T) {
	_, err := ingest.NewReader(strings.NewReader(good+strings.Replace(good, "u-1", "u-2", 1)), ingest.Options{})
	var he *ingest.HeaderError
	if !errors.As(err, &he) || !he.DataLike {
		t.Fatalf("err = %v, want a data-like HeaderError", err)
	}
	for _, secret := range []string{"44051401359", "CEV124630", "jan@example.pl", "Kowalski", "Matuszczaka"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("message echoes %q: %v", secret, err)
		}
	}
}

// TestUnknownLineBreaks: a file whose line breaks are not seen reads as
// one long header line; its cells hold users' data, so it is refused (and
// not echoed), never read as a valid file of no rows.
func TestUnknownLineBreaks(t *testing.T) {
	oneLine := strings.ReplaceAll(header+good+strings.Replace(good, "u-1", "u-2", 1), "\n", "\u2028")
	_, err := ingest.NewReader(strings.NewReader(oneLine), ingest.Options{})
	var he *ingest.HeaderError
	if !errors.As(err, &he) || !he.DataLike || strings.Contains(err.Error(), "44051401359") {
		t.Fatalf("err = %v, want a data-like HeaderError that echoes nothing", err)
	}
}

// TestNotCSV: what is not a CSV is named with what to do.
func TestNotCSV(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"HTML download", "<!DOCTYPE html>\n<html><body><table><tr><td>externalUserId</td></tr></table></body></html>\n", "HTML page"},
		{"HTML table only", "<table border=1><tr><th>externalUserId</th></tr></table>", "HTML page"},
		{"Excel 2003 XML", `<?xml version="1.0"?>` + "\n" + `<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">`, "Excel 2003 XML"},
		{"JSON", `[{"externalUserId": "u-1"}]`, "JSON"},
		{"binary", "\x00\x00\x00\x01\x02\x00\x00\xff\x00\x00", "binary data"},
		{"PDF", "%PDF-1.7\n...", "PDF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ingest.NewReader(strings.NewReader(tt.input), ingest.Options{})
			var fe *ingest.FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a FormatError naming %q", err, tt.want)
			}
		})
	}
}

// TestUTF16WithoutBOM: UTF-16 text without a byte-order mark is recognised
// from its zero bytes.
func TestUTF16WithoutBOM(t *testing.T) {
	for _, le := range []bool{true, false} {
		var b []byte
		for _, r := range header + good {
			lo, hi := byte(r), byte(r>>8)
			if le {
				b = append(b, lo, hi)
			} else {
				b = append(b, hi, lo)
			}
		}
		r, recs := readAll(t, string(b), ingest.Options{})
		if len(recs) != 1 || !recs[0].Valid() || recs[0].User.City != "Rzeszów" {
			t.Errorf("little endian %v: %v", le, problemsOf(recs))
		}
		if !strings.HasPrefix(r.Encoding(), "UTF-16") {
			t.Errorf("encoding = %q", r.Encoding())
		}
	}
}
