package charset_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"

	"github.com/p100/p100-importer/internal/charset"
)

// Fake partner data, CSV-like with ; separators.
const (
	polishCSV = "imie;nazwisko;ulica;kod;miasto\n" +
		"Łucja;Wójcik;ul. Świętokrzyska 12/4;90-001;Łódź\n" +
		"Paweł;Zieliński;ul. Długa 5;50-001;Wrocław\n" +
		"Żaneta;Krzyżanowska;ul. Źródlana 3;41-600;Świętochłowice\n" +
		"Jędrzej;Gąsior;ul. Kościuszki 8;80-001;Gdańsk\n" +
		"Małgorzata;Dąbrowska;ul. Źródło 7;35-001;Rzeszów\n" +
		"Grzegorz;Woźniak;al. Piłsudskiego 1;30-001;Kraków\n"

	germanCSV = "vorname;nachname;strasse;plz;ort\n" +
		"Jürgen;Müller;Hauptstraße 4;80331;München\n" +
		"Änne;Größer;Königsweg 1;50667;Köln\n" +
		"Hélène;Bäcker;Lindenallee 12;79098;Freiburg\n" +
		"René;Schäfer;Gartenstraße 3;40212;Düsseldorf\n"

	frenchCSV = "prénom;nom;adresse;code;ville\n" +
		"François;Lefèvre;12 rue de l'Église;25000;Besançon\n" +
		"Hélène;Bénard;3 place du Marché;45000;Orléans\n" +
		"Zoë;Noël;5 chemin des Aïeux;42000;Saint-Étienne\n" +
		"Jérôme;Gâteau;1 allée des Forêts;88000;Épinal\n"

	// frenchEuroCSV has œ and €, which iso-8859-1 cannot hold and which
	// windows-1252 and iso-8859-15 put in different places.
	frenchEuroCSV = frenchCSV +
		"Aurélien;Lœuillet;2 bd du Cœur;69001;Lyon;cotisation 12 €\n"

	// anaisCSV is a German/French file whose only byte windows-1250 reads
	// differently is ï (0xEF: ď in windows-1250).
	anaisCSV = "Vorname;Nachname;Straße;PLZ;Ort\n" +
		"Anaïs;Dubois;Bahnhofstraße 12;79098;Freiburg\n" +
		"Jürgen;Müller;Königsallee 3;40212;Düsseldorf\n" +
		"René;Schäfer;Hauptstraße 1;80331;München\n"
)

var pageByName = map[string]*charmap.Charmap{
	"windows-1250": charmap.Windows1250,
	"iso-8859-2":   charmap.ISO8859_2,
	"ibm852":       charmap.CodePage852,
	"windows-1252": charmap.Windows1252,
	"iso-8859-1":   charmap.ISO8859_1,
	"iso-8859-15":  charmap.ISO8859_15,
}

var latin2 = []string{"windows-1250", "iso-8859-2", "ibm852"}

// MustEncode encodes s in the named page.
func MustEncode(tb testing.TB, page, s string) []byte {
	tb.Helper()
	b, err := pageByName[page].NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatalf("encode in %s: %v", page, err)
	}
	return b
}

// MustDecode decodes b with the detector's verdict.
func MustDecode(tb testing.TB, r charset.Result, b []byte) string {
	tb.Helper()
	if !r.Decided {
		tb.Fatalf("undecided (%s)", r.How)
	}
	enc := charset.Decoder(r.Encoding)
	if enc == nil {
		return string(b)
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		tb.Fatalf("decode as %s: %v", r.Encoding, err)
	}
	return string(out)
}

func detect(b []byte) charset.Result {
	d := charset.NewDetector()
	d.Write(b)
	return d.Result()
}

func TestPolishPages(t *testing.T) {
	tests := []struct {
		name string
		page string
		text string
	}{
		// Polish Excel: ś ź ą at 0x9C 0x9F 0xB9 (C1 controls in iso-8859-2).
		{"windows-1250", "windows-1250", polishCSV},
		// Unix exports: ą ś ź at 0xB1 0xB6 0xBC (± ¶ Ľ in windows-1250).
		{"iso-8859-2", "iso-8859-2", polishCSV},
		// DOS: ł ą ś ó at 0x88 0xA5 0x98 0xA2, box drawing elsewhere.
		{"ibm852", "ibm852", polishCSV},
		// One line only, still decided.
		{"windows-1250 single line", "windows-1250", "Łucja;Wójcik;ul. Świętokrzyska 12;Łódź\n"},
		// One line in iso-8859-2.
		{"iso-8859-2 single line", "iso-8859-2", "Żaneta;Krzyżanowska;ul. Źródlana 3;Świętochłowice\n"},
		// The words windows-1252 would garble: "£ódŸ", "Wroc³aw".
		{"windows-1250 cities", "windows-1250", "Łódź;Wrocław;Świętochłowice;Źródło;Żaneta\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := MustEncode(t, tt.page, tt.text)
			r := detect(b)
			if !r.Decided || r.Encoding != tt.page {
				t.Fatalf("got %q decided=%v (%s), want %s", r.Encoding, r.Decided, r.How, tt.page)
			}
			if got := MustDecode(t, r, b); got != tt.text {
				t.Errorf("decoded %q, want %q", got, tt.text)
			}
			if !strings.Contains(r.How, "Polish") {
				t.Errorf("How = %q, want it to name Polish", r.How)
			}
		})
	}
}

func TestShortPolish(t *testing.T) {
	tests := []struct {
		name string
		page string
		text string
	}{
		// Only ł and ó: windows-1250 and iso-8859-2 agree on both, so either
		// name reads it right; windows-1252 would read "Pawe³".
		{"ł ó in windows-1250", "windows-1250", "Paweł;Mróz;Głogów\n"},
		// The same bytes written by a Unix system.
		{"ł ó in iso-8859-2", "iso-8859-2", "Paweł;Mróz;Głogów\n"},
		// ć ę ń read as æ ê ñ in windows-1252: letters, but three languages.
		{"ć ę ń", "windows-1250", "Ćwik;Dęblin;Gdańsk\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := MustEncode(t, tt.page, tt.text)
			r := detect(b)
			if got := MustDecode(t, r, b); got != tt.text {
				t.Fatalf("decoded %q as %s (%s), want %q", got, r.Encoding, r.How, tt.text)
			}
			if !slices.Contains(latin2, r.Encoding) {
				t.Errorf("Encoding = %q, want a Latin-2 page", r.Encoding)
			}
		})
	}
}

func TestWesternPages(t *testing.T) {
	tests := []struct {
		name string
		page string
		text string
		want string // exact name, when the text tells the pages apart
	}{
		// German in Windows: identical in all three Western pages.
		{"german windows-1252", "windows-1252", germanCSV, ""},
		// German from a Unix system.
		{"german iso-8859-1", "iso-8859-1", germanCSV, ""},
		// German in Latin-9.
		{"german iso-8859-15", "iso-8859-15", germanCSV, ""},
		// French: è à ê ï would be č ŕ ę ď in windows-1250.
		{"french windows-1252", "windows-1252", frenchCSV, ""},
		// French from a Unix system.
		{"french iso-8859-1", "iso-8859-1", frenchCSV, ""},
		// French in Latin-9.
		{"french iso-8859-15", "iso-8859-15", frenchCSV, ""},
		// œ and € at 0x9C and 0x80: C1 controls in the ISO pages.
		{"œ € windows-1252", "windows-1252", frenchEuroCSV, "windows-1252"},
		// œ and € at 0xBD and 0xA4: ½ and ¤ in windows-1252.
		{"œ € iso-8859-15", "iso-8859-15", frenchEuroCSV, "iso-8859-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := MustEncode(t, tt.page, tt.text)
			r := detect(b)
			if got := MustDecode(t, r, b); got != tt.text {
				t.Fatalf("decoded %q as %s (%s), want %q", got, r.Encoding, r.How, tt.text)
			}
			if slices.Contains(latin2, r.Encoding) {
				t.Errorf("Encoding = %q, a Latin-2 page for Western text", r.Encoding)
			}
			if tt.want != "" && r.Encoding != tt.want {
				t.Errorf("Encoding = %q, want %q", r.Encoding, tt.want)
			}
		})
	}
}

func TestAnais(t *testing.T) {
	b := MustEncode(t, "windows-1252", anaisCSV)
	r := detect(b)
	got := MustDecode(t, r, b)
	if !strings.Contains(got, "Anaïs") || strings.Contains(got, "Anaďs") {
		t.Fatalf("decoded as %s (%s): %q", r.Encoding, r.How, got)
	}
	if got != anaisCSV {
		t.Errorf("decoded %q, want %q", got, anaisCSV)
	}
	if slices.Contains(latin2, r.Encoding) {
		t.Errorf("Encoding = %q, a Latin-2 page", r.Encoding)
	}
}

func TestIdenticalReadings(t *testing.T) {
	// ä ö ü ß é ó are the same bytes in all five ISO/Windows pages: no
	// ambiguity, so decided, and How says so.
	b := MustEncode(t, "windows-1252", "Müller;Größe;Straße;José;Tóth\n")
	r := detect(b)
	if got := MustDecode(t, r, b); got != "Müller;Größe;Straße;José;Tóth\n" {
		t.Fatalf("decoded %q", got)
	}
	if !strings.Contains(r.How, "read it the same") {
		t.Errorf("How = %q, want it to say the pages read it the same", r.How)
	}
}

func TestAmbiguous(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  map[string]string // encoding -> a word it must show
	}{
		// One 0xEF in ASCII: ï (Western) or ď (Latin-2), nothing else to tell.
		{"lone 0xEF", []byte("name;city\nAna\xEFs;Paris\n"),
			map[string]string{"windows-1252": "Anaïs", "windows-1250": "Anaďs"}},
		// One 0xB9 between letters: ą (windows-1250) or š (iso-8859-2).
		{"lone 0xB9", []byte("name;city\nW\xB9sik;Krakow\n"),
			map[string]string{"windows-1250": "Wąsik", "iso-8859-2": "Wšsik"}},
		// One 0xF1: ń (Polish) or ñ (Spanish).
		{"lone 0xF1", []byte("city\nGda\xF1sk\n"),
			map[string]string{"windows-1250": "Gdańsk", "windows-1252": "Gdañsk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := detect(tt.input)
			if r.Decided || r.Encoding != "" {
				t.Fatalf("decided %q (%s), want undecided", r.Encoding, r.How)
			}
			byName := map[string][]string{}
			for _, c := range r.Candidates {
				byName[c.Encoding] = c.Words
			}
			for enc, word := range tt.want {
				if !slices.Contains(byName[enc], word) {
					t.Errorf("candidate %s shows %q, want %q among them (all: %+v)", enc, byName[enc], word, r.Candidates)
				}
			}
			for _, c := range r.Candidates {
				if len(c.Words) != len(r.Candidates[0].Words) || len(c.Words) == 0 || len(c.Words) > 4 {
					t.Errorf("candidate %s has %d words, first has %d", c.Encoding, len(c.Words), len(r.Candidates[0].Words))
				}
				for _, w := range c.Words {
					if utf8.RuneCountInString(w) > 24 {
						t.Errorf("word %q is longer than 24 characters", w)
					}
				}
			}
			if !strings.Contains(r.How, "--encoding") {
				t.Errorf("How = %q, want it to point at --encoding", r.How)
			}
		})
	}
}

func TestUTF8(t *testing.T) {
	tests := []struct {
		name  string
		input string
		how   string
	}{
		// Polish letters in UTF-8.
		{"polish", polishCSV, "valid UTF-8"},
		// German letters in UTF-8, with a byte-order mark.
		{"german with BOM", "\uFEFF" + germanCSV, "valid UTF-8"},
		// No byte above 0x7F.
		{"ascii", "name;city\nJan Kowalski;Lodz\n", "ASCII only"},
		// An empty file is ASCII.
		{"empty", "", "ASCII only"},
		// One stray windows-1252 ä among valid sequences: the caller refuses
		// that row.
		{"one stray byte", strings.Replace(germanCSV, "Größer", "Gr\xf6\xdfer", 1), "UTF-8 with 2 invalid bytes"},
		// One stray byte in Polish UTF-8.
		{"one stray byte polish", polishCSV + "Kowalski;J\xe4ger\n", "UTF-8 with 1 invalid byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := detect([]byte(tt.input))
			if !r.Decided || r.Encoding != "utf-8" || r.How != tt.how {
				t.Errorf("got %q decided=%v How=%q, want utf-8, %q", r.Encoding, r.Decided, r.How, tt.how)
			}
		})
	}
}

func TestMixedUTF8(t *testing.T) {
	// Three valid UTF-8 sequences (Ł ó ź) and one windows-1252 ü: too many
	// bad bytes for UTF-8, too many good sequences for a legacy page.
	r := detect([]byte("Łódź;M\xFCller\n"))
	if r.Decided {
		t.Fatalf("decided %q (%s), want undecided", r.Encoding, r.How)
	}
	if len(r.Candidates) < 2 || r.Candidates[0].Encoding != "utf-8" {
		t.Fatalf("candidates %+v, want utf-8 first and a legacy page", r.Candidates)
	}
	if !slices.Contains(r.Candidates[0].Words, "Łódź") || !slices.Contains(r.Candidates[1].Words, "Müller") {
		t.Errorf("words %+v, want Łódź as UTF-8 and Müller as %s", r.Candidates, r.Candidates[1].Encoding)
	}
	for _, c := range r.Candidates {
		for _, w := range c.Words {
			for _, x := range w {
				if x >= 0x80 && x <= 0x9F {
					t.Errorf("%s word %q holds control character %U", c.Encoding, w, x)
				}
			}
		}
	}
}

func TestNotLatin(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
	}{
		// Russian in windows-1251 reads as "Ìàðèÿ" in windows-1252.
		{"cyrillic", MustEncodeWith(t, charmap.Windows1251, "Иван;Петров;ул. Ленина 5;Москва\nМария;Смирнова;пр. Мира 3;Санкт-Петербург\n")},
		// Random bytes.
		{"random", randomBytes(4000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := detect(tt.input); r.Decided {
				t.Errorf("decided %q (%s), want undecided", r.Encoding, r.How)
			}
		})
	}
}

func MustEncodeWith(tb testing.TB, cm *charmap.Charmap, s string) []byte {
	tb.Helper()
	b, err := cm.NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}

func TestChunking(t *testing.T) {
	inputs := map[string][]byte{
		"polish windows-1250": MustEncode(t, "windows-1250", polishCSV),
		"polish ibm852":       MustEncode(t, "ibm852", polishCSV),
		"french iso-8859-15":  MustEncode(t, "iso-8859-15", frenchEuroCSV),
		"anais":               MustEncode(t, "windows-1252", anaisCSV),
		"lone 0xEF":           []byte("name;city\nAna\xEFs;Paris\n"),
		"utf-8 stray byte":    []byte(polishCSV + "Kowalski;J\xe4ger\n"),
		// Words longer than the fast path's 8-byte stride and the 12-letter
		// lead kept before a high byte.
		"long words": MustEncode(t, "windows-1250", strings.Repeat("Konstantynopolitańczykowianeczka;Szczebrzeszyn;", 50)),
	}
	for name, b := range inputs {
		t.Run(name, func(t *testing.T) {
			want := detect(b)

			bytewise := charset.NewDetector()
			for i := range b {
				bytewise.Write(b[i : i+1])
			}
			if got := bytewise.Result(); !reflect.DeepEqual(got, want) {
				t.Errorf("1-byte writes: %+v\none write: %+v", got, want)
			}

			rng := rand.New(rand.NewSource(2))
			random := charset.NewDetector()
			for rest := b; len(rest) > 0; {
				n := min(len(rest), 1+rng.Intn(13))
				random.Write(rest[:n])
				random.Result() // Result must not disturb what follows
				rest = rest[n:]
			}
			if got := random.Result(); !reflect.DeepEqual(got, want) {
				t.Errorf("random writes: %+v\none write: %+v", got, want)
			}
		})
	}
}

func TestFastPath(t *testing.T) {
	// Random text from ASCII letters, separators and high bytes, fed in
	// random chunks, must leave the same evidence as the byte-at-a-time
	// slow path.
	alphabet := []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ;, 0123456789\n\x80\x9c\xa0\xb3\xb9\xc3\xe4\xef\xf3\xfc")
	rng := rand.New(rand.NewSource(4))
	for i := range 200 {
		in := make([]byte, rng.Intn(400))
		for k := range in {
			switch {
			case rng.Intn(3) == 0: // long ASCII letter runs
				in[k] = alphabet[rng.Intn(26)]
			default:
				in[k] = alphabet[rng.Intn(len(alphabet))]
			}
		}
		fast, slow := charset.NewDetector(), charset.NewDetector()
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 1+rng.Intn(40))
			fast.Write(rest[:n])
			rest = rest[n:]
		}
		charset.StepAll(slow, in)
		if !charset.SameState(fast, slow) {
			t.Fatalf("input %d %q: fast path and slow path disagree", i, in)
		}
	}
}

// polishRows writes generated Polish rows in windows-1250, every name a new
// word, until at least n bytes.
func polishRows(n int, emit func([]byte)) {
	syll := []string{"ło", "ść", "ka", "rz", "ąb", "ęw", "ni", "ża", "dź", "ów", "ski", "ńc"}
	rng := rand.New(rand.NewSource(3))
	var buf strings.Builder
	for total := 0; total < n; {
		buf.Reset()
		for i := 0; i < 200; i++ {
			var w strings.Builder
			for k := 0; k < 2+rng.Intn(4); k++ {
				w.WriteString(syll[rng.Intn(len(syll))])
			}
			fmt.Fprintf(&buf, "%d;Jan;%s;ul. Długa %d;Łódź\n", total+i, w.String(), i)
		}
		b, _ := charmap.Windows1250.NewEncoder().Bytes([]byte(buf.String()))
		emit(b)
		total += len(b)
	}
}

func TestBoundedMemory(t *testing.T) {
	size := 50 << 20
	if testing.Short() {
		size = 5 << 20
	}
	d := charset.NewDetector()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	polishRows(size, func(b []byte) { d.Write(b) })
	runtime.GC()
	runtime.ReadMemStats(&after)

	if n := charset.SampleWords(d); n > 64 {
		t.Errorf("detector keeps %d sample words, want at most 64", n)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("live heap grew by %d bytes over %d MiB of input", grew, size>>20)
	}
	if r := d.Result(); r.Encoding != "windows-1250" {
		t.Errorf("got %q (%s), want windows-1250", r.Encoding, r.How)
	}
	runtime.KeepAlive(d)
}

func TestDecoder(t *testing.T) {
	tests := []struct {
		name string
		want *charmap.Charmap // nil: no x/text decoder
	}{
		// UTF-8 needs no decoder.
		{"utf-8", nil},
		// Every legacy value the detector returns.
		{"windows-1250", charmap.Windows1250},
		{"iso-8859-2", charmap.ISO8859_2},
		{"ibm852", charmap.CodePage852},
		{"windows-1252", charmap.Windows1252},
		{"iso-8859-15", charmap.ISO8859_15},
		{"iso-8859-1", charmap.ISO8859_1},
		// Other spellings are looked up as --encoding is.
		{"CP852", charmap.CodePage852},
		{"latin2", charmap.ISO8859_2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := charset.Decoder(tt.name)
			if tt.want == nil {
				if got != nil {
					t.Errorf("Decoder(%q) = %v, want nil", tt.name, got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("Decoder(%q) = %v, want %v", tt.name, got, tt.want)
			}
			// The importer's --encoding lookup (internal/ingest) tries IANA,
			// then WHATWG: it must take the name and mean the same page.
			iana, err := ianaindex.IANA.Encoding(tt.name)
			if err != nil || iana == nil {
				html, herr := htmlindex.Get(tt.name)
				if herr != nil || html != tt.want {
					t.Fatalf("--encoding %s: IANA %v (%v), WHATWG %v (%v)", tt.name, iana, err, html, herr)
				}
				return
			}
			if iana != tt.want {
				t.Errorf("--encoding %s means %v, Decoder gives %v", tt.name, iana, tt.want)
			}
		})
	}
}

// asciiHeavy is CSV rows of which about one in three has a Polish letter.
func asciiHeavy(n int) []byte {
	rows := []string{
		"10001;Jan;Kowalski;jan.kowalski@example.com;ul. Polna 12;00-001;Warszawa;1985-04-12\n",
		"10002;Anna;Nowak;anna.nowak@example.com;ul. Lesna 3;30-002;Krakow;1990-11-02\n",
		"10003;Paweł;Wiśniewski;pawel.w@example.com;ul. Długa 5;50-001;Wrocław;1978-01-30\n",
	}
	var b []byte
	for len(b) < n {
		for _, r := range rows {
			e, _ := charmap.Windows1250.NewEncoder().Bytes([]byte(r))
			b = append(b, e...)
		}
	}
	return b
}

func BenchmarkDetector(b *testing.B) {
	inputs := []struct {
		name string
		in   []byte
	}{
		// Pure ASCII: the 8-bytes-at-a-time fast path only.
		{"ascii", []byte(strings.Repeat("10001;Jan;Kowalski;jan.kowalski@example.com;ul. Polna 12;Warszawa\n", 1<<14))},
		// A partner CSV: a Polish word in one row of three.
		{"csv", asciiHeavy(1 << 20)},
		// Names and addresses only, a Polish letter in most words.
		{"polish", MustEncode(b, "windows-1250", strings.Repeat(polishCSV, 1<<12))},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.in)))
			for b.Loop() {
				d := charset.NewDetector()
				for rest := in.in; len(rest) > 0; {
					n := min(len(rest), 64<<10)
					d.Write(rest[:n])
					rest = rest[n:]
				}
				_ = d.Result()
			}
		})
	}
}
