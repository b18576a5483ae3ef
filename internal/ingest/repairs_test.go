package ingest_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/ingest"
)

// row builds a data line of the test header from a few fields; the others
// are a valid user's.
func row(fields map[string]string) string {
	base := map[string]string{
		"externalUserId": "u-1", "email": "jan@example.pl", "firstName": "Jan", "lastName": "Kowalski",
		"address": "Adama Matuszczaka 51/4", "city": "Rzeszów", "country": "PL", "documentType": "PASSPORT",
		"documentNumber": "CEV124630", "pesel": "", "birthCountry": "PL", "birthDate": "",
	}
	for k, v := range fields {
		base[k] = v
	}
	var out []string
	for _, f := range ingest.Fields {
		v := base[f]
		if strings.ContainsAny(v, ",\"\n") {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		out = append(out, v)
	}
	return strings.Join(out, ",") + "\n"
}

// TestRepairs: values a spreadsheet mangled arrive as the partner sees
// them, each with a note; what cannot be recovered is refused with a
// message that says what happened and what to do.
func TestRepairs(t *testing.T) {
	tests := []struct {
		name   string
		fields map[string]string
		field  string // the field checked
		want   string // its value as sent; "" when refused
		repair ingest.Repair
		reason string // when refused: the reason contains this
	}{
		// A PESEL of someone born in 2002 that lost its leading zero.
		{"PESEL zero restored", map[string]string{"pesel": "2291320357", "birthDate": "2002-09-13"}, "pesel", "02291320357", ingest.RepairPESELZero, ""},
		// Born in 2000: two zeros lost.
		{"PESEL two zeros restored", map[string]string{"pesel": "210933484", "birthDate": "2000-01-09"}, "pesel", "00210933484", ingest.RepairPESELZero, ""},
		// Without birthDate the zero cannot be confirmed.
		{"PESEL zero without birthDate", map[string]string{"pesel": "2291320357"}, "pesel", "", "", "leading zero"},
		// A birthDate that disagrees: refused, naming Excel.
		{"PESEL zero, other birthDate", map[string]string{"pesel": "2291320357", "birthDate": "2002-09-14"}, "pesel", "", "", "Excel"},
		// Scientific notation: the digits are gone.
		{"PESEL in scientific notation", map[string]string{"pesel": "9.20921E+10"}, "pesel", "", "", "scientific notation"},
		{"id in scientific notation", map[string]string{"externalUserId": "1,23457E+11"}, "externalUserId", "", "", "scientific notation"},
		// Excel's text-formula form, used to keep zeros.
		{"text formula", map[string]string{"pesel": `="02291320357"`, "birthDate": "2002-09-13"}, "pesel", "02291320357", ingest.RepairFormula, ""},
		// Date forms.
		{"date DD.MM.YYYY", map[string]string{"birthDate": "14.05.1944"}, "birthDate", "1944-05-14", ingest.RepairDateForm, ""},
		{"date with midnight", map[string]string{"birthDate": "1944-05-14 00:00:00"}, "birthDate", "1944-05-14", ingest.RepairDateForm, ""},
		{"date with a time of day", map[string]string{"birthDate": "1944-05-14 13:45:00"}, "birthDate", "", "", "time of day"},
		// Invisible characters pasted from a web page.
		{"zero-width space in the id", map[string]string{"externalUserId": "u-\u200b1"}, "externalUserId", "u-1", ingest.RepairInvisible, ""},
		{"zero-width space in the e-mail", map[string]string{"email": "jan@exam\u200bple.pl\u200b"}, "email", "jan@example.pl", ingest.RepairInvisible, ""},
		{"non-breaking space in a name", map[string]string{"lastName": "\u00a0Kowalski\u00a0"}, "lastName", "Kowalski", ingest.RepairInvisible, ""},
		{"soft hyphen in a document number", map[string]string{"documentNumber": "CEV\u00ad124630"}, "documentNumber", "CEV124630", ingest.RepairInvisible, ""},
		{"bidi mark in a city", map[string]string{"city": "\u200eRzeszów"}, "city", "Rzeszów", ingest.RepairInvisible, ""},
		// macOS exports decomposed letters: sent composed (NFC).
		{"decomposed letters", map[string]string{"lastName": "Z\u0307o\u0301\u0142c\u0301"}, "lastName", "Żółć", "", ""},
		// Countries by name.
		{"country by Polish name", map[string]string{"country": "Polska"}, "country", "PL", ingest.RepairCountryName, ""},
		{"country by German name", map[string]string{"country": "Deutschland"}, "country", "DE", ingest.RepairCountryName, ""},
		{"country by own name", map[string]string{"birthCountry": "Česko"}, "birthCountry", "CZ", ingest.RepairCountryName, ""},
		{"unknown country name", map[string]string{"country": "Polsak"}, "country", "", "", "did you mean PL"},
		// Document types by name.
		{"document type in Polish", map[string]string{"documentType": "Dowód osobisty"}, "documentType", "ID_CARD", ingest.RepairDocumentType, ""},
		// A line break in an address (Alt+Enter).
		{"line break in an address", map[string]string{"address": "ul. Floriańska 15\nm. 4"}, "address", "ul. Floriańska 15 m. 4", ingest.RepairLineBreak, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, recs := readAll(t, header+row(tt.fields), ingest.Options{})
			if len(recs) != 1 {
				t.Fatalf("%d rows", len(recs))
			}
			rec := recs[0]
			if tt.want == "" {
				if rec.Valid() {
					t.Fatalf("accepted %q, want refused", rec.User.Get(tt.field))
				}
				col := tt.field
				if !strings.Contains(rec.Reason(), col+": ") || !strings.Contains(rec.Reason(), tt.reason) {
					t.Errorf("reason %q, want %s: ...%s...", rec.Reason(), col, tt.reason)
				}
				if v := tt.fields[tt.field]; len(v) > 4 && strings.Contains(rec.Reason(), v) && tt.field != "country" {
					t.Errorf("reason echoes the value: %s", rec.Reason())
				}
				return
			}
			if !rec.Valid() {
				t.Fatalf("refused: %s", rec.Reason())
			}
			if got := rec.User.Get(tt.field); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
			if strings.ContainsAny(rec.User.Get(tt.field), "\u200b\u00a0\u00ad\u200e") {
				t.Errorf("an invisible character is left in %q", rec.User.Get(tt.field))
			}
			if tt.repair != "" {
				if r.Repairs()[tt.repair] != 1 || len(rec.Notes) == 0 || rec.Notes[0].Kind != tt.repair {
					t.Errorf("repairs %v notes %v, want one %q", r.Repairs(), rec.Notes, tt.repair)
				}
			}
		})
	}
}

// TestInvisibleCharacterSameUser: an id with a zero-width space is the
// same user as the id without: same hash, and a duplicate in one file.
func TestInvisibleCharacterSameUser(t *testing.T) {
	_, recs := readAll(t, header+row(nil)+row(map[string]string{"externalUserId": "\u200bu-1"}), ingest.Options{})
	if len(recs) != 2 || recs[1].DupOf != 2 {
		t.Fatalf("the pasted id is not seen as the same user: %v", problemsOf(recs))
	}
	if string(recs[0].Hash()) != string(recs[1].Hash()) {
		t.Error("hashes differ")
	}
}

// TestSlashedDatesDecidedPerColumn: a slashed date column is read one way
// for every row, decided by the first value that can only be read one way,
// even when it comes after ambiguous rows; a value that does not fit is
// refused, never swapped.
func TestSlashedDatesDecidedPerColumn(t *testing.T) {
	rows := row(map[string]string{"externalUserId": "u-1", "birthDate": "1/2/1990"}) +
		row(map[string]string{"externalUserId": "u-2", "birthDate": "3/4/1985"}) +
		row(map[string]string{"externalUserId": "u-3", "birthDate": "25/12/1970"}) + // day first: settles it
		row(map[string]string{"externalUserId": "u-4", "birthDate": "12/25/1970"}) // does not fit
	r, recs := readAll(t, header+rows, ingest.Options{})
	if len(recs) != 4 {
		t.Fatalf("%d rows", len(recs))
	}
	want := []string{"1990-02-01", "1985-04-03", "1970-12-25"}
	for i, w := range want {
		if !recs[i].Valid() || recs[i].User.BirthDate != w {
			t.Errorf("line %d: %q %s, want %s", recs[i].Line, recs[i].User.BirthDate, recs[i].Reason(), w)
		}
	}
	if recs[3].Valid() || !strings.Contains(recs[3].Reason(), "day first") {
		t.Errorf("line 5: a month-first value in a day-first column: %q %s", recs[3].User.BirthDate, recs[3].Reason())
	}
	if r.Repairs()[ingest.RepairDateForm] != 3 {
		t.Errorf("repairs = %v", r.Repairs())
	}
	t.Run("month first", func(t *testing.T) {
		_, recs := readAll(t, header+row(map[string]string{"birthDate": "2/1/1990"})+
			row(map[string]string{"externalUserId": "u-2", "birthDate": "12/31/1990"}), ingest.Options{})
		if recs[0].User.BirthDate != "1990-02-01" || recs[1].User.BirthDate != "1990-12-31" {
			t.Errorf("dates %q %q", recs[0].User.BirthDate, recs[1].User.BirthDate)
		}
	})
	t.Run("ambiguous to the end", func(t *testing.T) {
		r, err := ingest.NewReader(strings.NewReader(header+row(map[string]string{"birthDate": "1/2/1990"})+
			row(map[string]string{"externalUserId": "u-2", "birthDate": "3/4/1985"})), ingest.Options{Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Next()
		var de *ingest.DateFormError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "--date-format 2/1/2006") || strings.Contains(err.Error(), "3/4/1985") {
			t.Fatalf("err = %v, want a DateFormError naming both --date-format values and no value of the file", err)
		}
	})
	t.Run("a flag wins", func(t *testing.T) {
		_, recs := readAll(t, header+row(map[string]string{"birthDate": "1/2/1990"}), ingest.Options{DateLayout: "1/2/2006"})
		if recs[0].User.BirthDate != "1990-01-02" {
			t.Errorf("date %q", recs[0].User.BirthDate)
		}
	})
}

// TestDetectedEncodings: legacy code pages are decoded without a flag when
// the content tells; a flag still wins; an unclear file stops with words
// decoded each way.
func TestDetectedEncodings(t *testing.T) {
	// encode maps the runes of s to single bytes of a code page.
	encode := func(s string, table map[rune]byte) string {
		var b strings.Builder
		for _, r := range s {
			if c, ok := table[r]; ok {
				b.WriteByte(c)
			} else {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	cp1252 := map[rune]byte{'ï': 0xEF, 'ü': 0xFC, 'é': 0xE9, 'ß': 0xDF, 'ö': 0xF6, 'ä': 0xE4}
	cp1250 := map[rune]byte{'ł': 0xB3, 'ś': 0x9C, 'ą': 0xB9, 'ż': 0xBF, 'ó': 0xF3, 'Ł': 0xA3, 'ź': 0x9F, 'ę': 0xEA}
	german := header + row(map[string]string{"firstName": "Anaïs", "lastName": "Müller", "city": "München", "address": "Hauptstraße 5"}) +
		row(map[string]string{"externalUserId": "u-2", "firstName": "Jürgen", "lastName": "Groß", "city": "Köln", "address": "Bäckerweg 1"})
	polish := header + row(map[string]string{"firstName": "Łukasz", "lastName": "Wiśniewski", "city": "Łódź", "address": "ul. Żeromskiego 9"}) +
		row(map[string]string{"externalUserId": "u-2", "firstName": "Małgorzata", "lastName": "Mąka", "city": "Świętochłowice", "address": "ul. Źródlana 3"})

	t.Run("German windows-1252", func(t *testing.T) {
		r, recs := readAll(t, encode(german, cp1252), ingest.Options{})
		if len(recs) != 2 || recs[0].User.FirstName != "Anaïs" || recs[1].User.LastName != "Groß" {
			t.Fatalf("encoding %s: %+v %v", r.Encoding(), recs[0].User, problemsOf(recs))
		}
	})
	t.Run("Polish windows-1250", func(t *testing.T) {
		r, recs := readAll(t, encode(polish, cp1250), ingest.Options{})
		if len(recs) != 2 || recs[0].User.City != "Łódź" || recs[1].User.LastName != "Mąka" || r.Encoding() != "windows-1250" {
			t.Fatalf("encoding %s: %+v", r.Encoding(), recs[0].User)
		}
	})
	t.Run("a flag wins", func(t *testing.T) {
		_, recs := readAll(t, encode(german, cp1252), ingest.Options{Encoding: "windows-1250"})
		if recs[0].User.FirstName != "Anaďs" {
			t.Errorf("--encoding windows-1250 read %q", recs[0].User.FirstName)
		}
	})
	t.Run("unclear", func(t *testing.T) {
		// One byte, read ï in windows-1252 and ď in windows-1250, and
		// nothing else to tell.
		_, err := ingest.NewReader(strings.NewReader(header+row(map[string]string{"firstName": "Ana\xefs"})), ingest.Options{})
		var ee *ingest.EncodingError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), "--encoding windows-125") {
			t.Fatalf("err = %v, want an EncodingError with the --encoding values", err)
		}
	})
}

// TestLastLineCutMidField: a last line that ends mid-field is never a
// complete user.
func TestLastLineCutMidField(t *testing.T) {
	cut := good[:strings.Index(good, "PASSPORT")+3]
	_, recs := readAll(t, header+good+strings.Replace(cut, "u-1", "u-2", 1), ingest.Options{})
	if len(recs) != 2 || recs[1].Valid() {
		t.Fatalf("a cut last line was accepted: %v", problemsOf(recs))
	}
}

// TestStopWhileReadingHeader: opening a stream that never sends its header
// returns when the context ends, with the context's error.
func TestStopWhileReadingHeader(t *testing.T) {
	t.Run("a stream", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := ingest.NewInput(ctx, pr, pr, ingest.Options{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a FIFO given as --input", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "export.csv")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		// A writer that opens the FIFO and sends nothing.
		w, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err = ingest.Open(ctx, fifo, ingest.Options{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
}
