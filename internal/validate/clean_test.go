package validate_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/p100/p100-importer/internal/validate"
)

// cleanCase is one row of the CleanCode and CleanText tables.
type cleanCase struct {
	name        string
	in          string
	want        string
	wantChanged bool
}

func TestCleanCode(t *testing.T) {
	tests := []cleanCase{
		{"empty", "", "", false},                                                           // nothing to do
		{"plain ASCII id", "ABC-123", "ABC-123", false},                                    // the common case, returned as is
		{"ASCII spaces at the ends", "  ABC123 \t", "ABC123", false},                       // ordinary trimming does not count
		{"inner space kept", "AB 123", "AB 123", false},                                    // a code's own spaces are the caller's business
		{"zero-width space in an id", "AB\u200B123", "AB123", true},                        // U+200B, pasted from a web page
		{"zero-width space in an e-mail", "jan\u200B@x.pl", "jan@x.pl", true},              // U+200B before the @
		{"zero-width space at the end", "12345\u200B", "12345", true},                      // invisible at the end counts
		{"zero-width non-joiner", "AB\u200C12", "AB12", true},                              // U+200C
		{"zero-width joiner", "AB\u200D12", "AB12", true},                                  // U+200D
		{"word joiner", "AB\u206012", "AB12", true},                                        // U+2060
		{"BOM at the start", "\uFEFFABC123", "ABC123", true},                               // a byte order mark left by a concatenated file
		{"BOM in the middle", "ABC\uFEFF123", "ABC123", true},                              // U+FEFF as a zero-width no-break space
		{"soft hyphen in an e-mail", "jan.kowal\u00ADski@x.pl", "jan.kowalski@x.pl", true}, // U+00AD from a word processor
		{"right-to-left mark", "\u200F12345", "12345", true},                               // U+200F
		{"left-to-right mark", "12345\u200E", "12345", true},                               // U+200E
		{"bidi embedding and pop", "\u202A123\u202C", "123", true},                         // U+202A ... U+202C
		{"bidi override", "\u202E123", "123", true},                                        // U+202E, the "reversed text" trick
		{"bidi isolates", "\u2066AB\u2069\u2067CD\u2068", "ABCD", true},                    // U+2066-U+2069
		{"Arabic letter mark", "AB\u061C12", "AB12", true},                                 // U+061C
		{"other format character", "AB\u206212", "AB12", true},                             // U+2062 INVISIBLE TIMES, category Cf
		{"tag character", "AB\U000E004112", "AB12", true},                                  // U+E0041, category Cf, outside the BMP
		{"no-break space in a number", "1\u00A0234\u00A0567", "1234567", true},             // the Polish thousands separator
		{"figure space", "1\u2007234", "1234", true},                                       // U+2007
		{"narrow no-break space", "1\u202F234", "1234", true},                              // U+202F
		{"no-break space at the end", "ABC123\u00A0", "ABC123", true},                      // removed, so it counts
		{"only invisible characters", "\u200B\u00A0\uFEFF", "", true},                      // nothing left
		{"NFD e-mail", "zo\u0301fia@x.pl", "z\u00F3fia@x.pl", false},                       // composed; normalising alone does not count
		{"zero-width between letter and accent", "zo\u200B\u0301fia", "z\u00F3fia", true},  // removed first, then composed
		{"already NFC", "z\u00F3fia@x.pl", "z\u00F3fia@x.pl", false},                       // precomposed ó
		{"ideographic space at the end", "ABC\u3000", "ABC", false},                        // white space, trimmed, not invisible
		{"tab inside kept", "AB\t12", "AB\t12", false},                                     // a control character is Text's to refuse
		{"other space inside kept", "AB\u200212", "AB\u200212", false},                     // EN SPACE is visible white space: Text or Email refuse it
		{"invalid UTF-8 unchanged", " AB\xff\u200B ", " AB\xff\u200B ", false},             // left for the UTF-8 check, at its byte
	}
	cleanRun(t, "CleanCode", validate.CleanCode, tests)
}

func TestCleanText(t *testing.T) {
	tests := []cleanCase{
		{"empty", "", "", false},                                                                                        // nothing to do
		{"plain ASCII name", "Jan Kowalski", "Jan Kowalski", false},                                                     // the common case
		{"ASCII spaces at the ends", " Jan ", "Jan", false},                                                             // ordinary trimming does not count
		{"inner spacing kept", "ul.  D\u0142uga  5", "ul.  D\u0142uga  5", false},                                       // runs of spaces are not collapsed
		{"no-break space in a name", "Jan\u00A0Kowalski", "Jan Kowalski", true},                                         // U+00A0 becomes a space
		{"no-break spaces at the ends", "\u00A0Jan\u00A0", "Jan", true},                                                 // replaced, then trimmed
		{"narrow no-break space in an address", "ul. D\u0142uga\u202F5", "ul. D\u0142uga 5", true},                      // U+202F
		{"figure space", "lok.\u20073", "lok. 3", true},                                                                 // U+2007
		{"zero-width space in a name", "Anna\u200BMaria", "AnnaMaria", true},                                            // removed, not turned into a space
		{"soft hyphen in a name", "Brz\u0119czy\u00ADszczykiewicz", "Brz\u0119czyszczykiewicz", true},                   // U+00AD
		{"right-to-left mark", "Kowalski\u200F", "Kowalski", true},                                                      // U+200F
		{"BOM in the middle", "Ko\uFEFFwalski", "Kowalski", true},                                                       // U+FEFF
		{"bidi isolate", "\u2068Nowak\u2069", "Nowak", true},                                                            // U+2068 ... U+2069
		{"NFD first name", "Zo\u0301fia", "Z\u00F3fia", false},                                                          // o + combining acute -> ó
		{"NFD Polish letters", "Ka\u0328kol Z\u0307ak S\u0301wie\u0328s", "K\u0105kol \u017Bak \u015Awi\u0119s", false}, // ą Ż Ś ę composed
		{"Łukasik has no decomposition", "\u0141ukasik", "\u0141ukasik", false},                                         // Ł is its own letter in Unicode
		{"NFD with a zero-width joiner inside", "Zo\u200D\u0301fia", "Z\u00F3fia", true},                                // removed first, then composed
		{"no-break space before an accent", "a\u00A0\u0301", "a \u0301", true},                                          // a space takes no accent
		{"tab inside kept", "Jan\tKowalski", "Jan\tKowalski", false},                                                    // a control character is Text's to refuse
		{"invalid UTF-8 unchanged", "Jan\xff\u00A0", "Jan\xff\u00A0", false},                                            // left for the UTF-8 check
	}
	cleanRun(t, "CleanText", validate.CleanText, tests)
}

// cleanRun runs a table against fn, named name in messages.
func cleanRun(t *testing.T, name string, fn func(string) (string, bool), tests []cleanCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := fn(tt.in)
			if got != tt.want || changed != tt.wantChanged {
				t.Errorf("%s(%+q) = %+q, %v; want %+q, %v", name, tt.in, got, changed, tt.want, tt.wantChanged)
			}
		})
	}
}

// TestCleanAllocs checks that input with nothing invisible costs no
// allocation: the functions run on every field of every row.
func TestCleanAllocs(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"ASCII id", "ABC-1234567"},                           // the fast path
		{"ASCII e-mail with spaces", "  jan.kowalski@x.pl  "}, // trimmed by slicing
		{"Polish NFC name", "Zofia \u0141ukasik"},             // non-ASCII, already NFC
		{"Polish NFC address", "ul. \u017B\u00F3\u0142wia 5"}, // non-ASCII, already NFC
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, fn := range map[string]func(string) (string, bool){"CleanCode": validate.CleanCode, "CleanText": validate.CleanText} {
				if n := testing.AllocsPerRun(100, func() { fn(tt.in) }); n != 0 {
					t.Errorf("%s(%+q) allocates %v times, want 0", name, tt.in, n)
				}
			}
		})
	}
}

func BenchmarkCleanCode(b *testing.B) {
	for _, bb := range []struct {
		name string
		in   string
	}{
		{"ascii", "jan.kowalski@poczta.example.pl"},            // the common case
		{"nfc", "zofia.\u0142ukasik@poczta.example.pl"},        // non-ASCII, nothing to do
		{"zero-width", "jan.kowalski\u200B@poczta.example.pl"}, // one character removed
		{"nfd", "zo\u0301fia@poczta.example.pl"},               // normalised
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.in)))
			for b.Loop() {
				validate.CleanCode(bb.in)
			}
		})
	}
}

func BenchmarkCleanText(b *testing.B) {
	for _, bb := range []struct {
		name string
		in   string
	}{
		{"ascii", "ul. Marszalkowska 140/12"},          // the common case
		{"nfc", "ul. Marsza\u0142kowska 140/12"},       // non-ASCII, nothing to do
		{"nbsp", "ul. Marsza\u0142kowska\u00A0140/12"}, // one no-break space replaced
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.in)))
			for b.Loop() {
				validate.CleanText(bb.in)
			}
		})
	}
}

// cleanHidden reports whether r is a character both functions take out:
// a format character or a no-break space.
func cleanHidden(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == '\u00A0' || r == '\u2007' || r == '\u202F'
}

func FuzzClean(f *testing.F) {
	for _, seed := range []string{
		"",                         // empty
		"ABC-123",                  // plain ASCII
		"  jan@x.pl ",              // spaces at the ends
		"AB\u200B123",              // zero-width space
		"\uFEFFZo\u0301fia\u00A0",  // BOM, NFD and a no-break space
		"o\u200B\u0301",            // a zero-width character between a letter and its accent
		"\u00A0\u0301x",            // a no-break space before an accent
		" \u0301",                  // a space before an accent
		"\u2000x\u2000",            // EN QUAD, which NFC maps to EN SPACE
		"\u1100\u200B\u1161",       // Hangul jamo that compose once the ZWSP is gone
		"\u202E\u2066\u061C\u00AD", // bidi controls and a soft hyphen
		"AB\xff\u200B",             // invalid UTF-8
		"\U000E0041\u3000\u0085",   // a tag character, ideographic space, NEL
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, fn := range map[string]func(string) (string, bool){"CleanCode": validate.CleanCode, "CleanText": validate.CleanText} {
			got, changed := fn(s)
			if !utf8.ValidString(s) {
				if got != s || changed {
					t.Fatalf("%s(%+q) = %+q, %v; invalid UTF-8 must come back unchanged", name, s, got, changed)
				}
				continue
			}
			switch {
			case !utf8.ValidString(got):
				t.Fatalf("%s(%+q) = %+q, not valid UTF-8", name, s, got)
			case !norm.NFC.IsNormalString(got):
				t.Fatalf("%s(%+q) = %+q, not NFC", name, s, got)
			case strings.IndexFunc(got, cleanHidden) >= 0:
				t.Fatalf("%s(%+q) = %+q, still holds an invisible character", name, s, got)
			case got != strings.TrimSpace(got):
				t.Fatalf("%s(%+q) = %+q, white space at an end", name, s, got)
			case changed != (strings.IndexFunc(s, cleanHidden) >= 0):
				t.Fatalf("%s(%+q) changed = %v, but the input holds an invisible character: %v", name, s, changed, !changed)
			}
			if again, changed2 := fn(got); again != got || changed2 {
				t.Fatalf("%s(%+q) = %+q, but %s of that = %+q, %v: not idempotent", name, s, got, name, again, changed2)
			}
		}
	})
}
