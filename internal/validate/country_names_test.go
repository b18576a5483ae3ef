package validate_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/p100/p100-importer/internal/validate"
)

func TestCountryByName(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string // canonical code
		wantNote string // the exact note
	}{
		// Every spelling the partners' files were seen to use.
		{"Polish own name", "Polska", "PL", `"Polska" read as PL`},                                        // CLDR pl, also the own language
		{"Poland", "Poland", "PL", `"Poland" read as PL`},                                                 // CLDR en and ISO
		{"Deutschland", "Deutschland", "DE", `"Deutschland" read as DE`},                                  // CLDR de
		{"Germany", "Germany", "DE", `"Germany" read as DE`},                                              // CLDR en
		{"Niemcy", "Niemcy", "DE", `"Niemcy" read as DE`},                                                 // CLDR pl
		{"Česko", "Česko", "CZ", `"Česko" read as CZ`},                                                    // CLDR cs, the own language
		{"Czech Republic", "Czech Republic", "CZ", `"Czech Republic" read as CZ`},                         // hand-written alias
		{"Czechia", "Czechia", "CZ", `"Czechia" read as CZ`},                                              // CLDR en and ISO
		{"France", "France", "FR", `"France" read as FR`},                                                 // CLDR en and fr
		{"Francja", "Francja", "FR", `"Francja" read as FR`},                                              // CLDR pl
		{"Österreich", "Österreich", "AT", `"Österreich" read as AT`},                                     // CLDR de
		{"Wielka Brytania", "Wielka Brytania", "GB", `"Wielka Brytania" read as GB`},                      // CLDR pl
		{"United Kingdom", "United Kingdom", "GB", `"United Kingdom" read as GB`},                         // CLDR en and ISO
		{"USA", "USA", "US", `"USA" read as US`},                                                          // the alpha-3 code
		{"Ukraina", "Ukraina", "UA", `"Ukraina" read as UA`},                                              // CLDR pl
		{"Україна", "Україна", "UA", `"Україна" read as UA`},                                              // CLDR uk, the own language
		{"Czechy", "Czechy", "CZ", `"Czechy" read as CZ`},                                                 // CLDR pl
		{"Tschechien", "Tschechien", "CZ", `"Tschechien" read as CZ`},                                     // CLDR de
		{"Republika Czeska", "Republika Czeska", "CZ", `"Republika Czeska" read as CZ`},                   // hand-written alias
		{"Stany Zjednoczone", "Stany Zjednoczone", "US", `"Stany Zjednoczone" read as US`},                // CLDR pl
		{"Great Britain", "Great Britain", "GB", `"Great Britain" read as GB`},                            // hand-written alias
		{"Holland", "Holland", "NL", `"Holland" read as NL`},                                              // hand-written alias
		{"The Netherlands", "The Netherlands", "NL", `"The Netherlands" read as NL`},                      // a leading "the" is dropped
		{"Belgique", "Belgique", "BE", `"Belgique" read as BE`},                                           // an extra own language (fr)
		{"Suisse", "Suisse", "CH", `"Suisse" read as CH`},                                                 // an extra own language (fr)
		{"Srbija", "Srbija", "RS", `"Srbija" read as RS`},                                                 // Serbian in Latin script
		{"Japanese own name", "日本", "JP", `"日本" read as JP`},                                              // two runes, but not letters A-Z
		{"ISO name with a comma", "Korea, Republic of", "KR", `"Korea, Republic of" read as KR`},          // the ISO short name
		{"ISO name swapped", "Republic of Korea", "KR", `"Republic of Korea" read as KR`},                 // its two parts swapped
		{"parenthesis dropped", "Myanmar", "MM", `"Myanmar" read as MM`},                                  // CLDR "Myanmar (Burma)"
		{"Włochy", "Włochy", "IT", `"Włochy" read as IT`},                                                 // CLDR pl
		{"Großbritannien", "Großbritannien", "GB", `"Großbritannien" read as GB`},                         // hand-written alias
		{"Grossbritannien", "Grossbritannien", "GB", `"Grossbritannien" read as GB`},                      // ß spelt ss
		{"U.K.", "U.K.", "GB", `"U.K." read as GB`},                                                       // dots are dropped
		{"U.S.A.", "U.S.A.", "US", `"U.S.A." read as US`},                                                 // dots are dropped
		{"U S A", "U S A", "US", `"U S A" read as US`},                                                    // spaces are dropped
		{"UAE", "UAE", "AE", `"UAE" read as AE`},                                                          // not an alpha-3 code, an alias
		{"Bosnia & Herzegovina", "Bosnia & Herzegovina", "BA", `"Bosnia & Herzegovina" read as BA`},       // CLDR en
		{"Bosnia and Herzegovina", "Bosnia and Herzegovina", "BA", `"Bosnia and Herzegovina" read as BA`}, // ISO

		// Case, space and diacritics do not matter; the note quotes the value
		// as written, trimmed.
		{"upper case", "POLSKA", "PL", `"POLSKA" read as PL`},                         // any case
		{"lower case", "deutschland", "DE", `"deutschland" read as DE`},               // any case
		{"padded", "  Niemcy\t", "DE", `"Niemcy" read as DE`},                         // trimmed, and quoted trimmed
		{"inner spaces", "Wielka   Brytania", "GB", `"Wielka   Brytania" read as GB`}, // spaces collapse
		{"hyphen", "Wielka-Brytania", "GB", `"Wielka-Brytania" read as GB`},           // punctuation collapses
		{"Osterreich", "Osterreich", "AT", `"Osterreich" read as AT`},                 // without the umlaut
		{"Oesterreich", "Oesterreich", "AT", `"Oesterreich" read as AT`},              // the umlaut spelt oe
		{"Cesko", "Cesko", "CZ", `"Cesko" read as CZ`},                                // without the caron
		{"Wlochy", "Wlochy", "IT", `"Wlochy" read as IT`},                             // ł spelt l
		{"decomposed", "O\u0308sterreich", "AT", "\"O\u0308sterreich\" read as AT"},   // NFD input
		{"Ukrainian upper case", "УКРАЇНА", "UA", `"УКРАЇНА" read as UA`},             // Cyrillic upper case

		// Alpha-3 codes, any case.
		{"POL", "POL", "PL", `"POL" read as PL`},       // Poland
		{"DEU", "DEU", "DE", `"DEU" read as DE`},       // Germany
		{"deu lower", "deu", "DE", `"deu" read as DE`}, // any case
		{"GBR", " GBR ", "GB", `"GBR" read as GB`},     // trimmed
		{"CZE", "CZE", "CZ", `"CZE" read as CZ`},       // Czechia
		{"UKR", "UKR", "UA", `"UKR" read as UA`},       // Ukraine

		// Territories follow P100's rule.
		{"Réunion by name", "Réunion", "FR", `"Réunion" read as RE (Réunion), which is sent as FR`},                                     // CLDR en
		{"Reunion plain", "reunion", "FR", `"reunion" read as RE (Réunion), which is sent as FR`},                                       // without the accent
		{"La Réunion", "La Réunion", "FR", `"La Réunion" read as RE (Réunion), which is sent as FR`},                                    // CLDR fr
		{"Guadeloupe", "Guadeloupe", "FR", `"Guadeloupe" read as GP (Guadeloupe), which is sent as FR`},                                 // CLDR and ISO
		{"Svalbard", "Svalbard og Jan Mayen", "NO", `"Svalbard og Jan Mayen" read as SJ (Svalbard and Jan Mayen), which is sent as NO`}, // CLDR nb
		{"REU alpha-3", "REU", "FR", `"REU" read as RE (Réunion), which is sent as FR`},                                                 // alpha-3 of a territory
		{"Mayotte unchanged", "Mayotte", "YT", `"Mayotte" read as YT`},                                                                  // not in the rule
		{"long name quoted in full", "Bonaire, Sint Eustatius and Saba", "BQ", `"Bonaire, Sint Eustatius and Saba" read as BQ`},         // 32 characters
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note, err := validate.Country(tt.in)
			if err != nil {
				t.Fatalf("Country(%q) = %v, want %q", tt.in, err, tt.want)
			}
			if got != tt.want || note != tt.wantNote {
				t.Errorf("Country(%q) = %q, %q, want %q, %q", tt.in, got, note, tt.want, tt.wantNote)
			}
		})
	}
}

func TestCountryByNameRefused(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantReason string // the exact reason
	}{
		{"typo with a suggestion", "Polsak", `"Polsak" is not a country code or a name we know; did you mean PL (Poland)?`},                                                                                            // two letters swapped: one edit
		{"Polish typo", "Niemczy", `"Niemczy" is not a country code or a name we know; did you mean DE (Germany)?`},                                                                                                    // one letter too many
		{"substituted letter", "Frankreish", `"Frankreish" is not a country code or a name we know; did you mean FR (France)?`},                                                                                        // one letter wrong
		{"German typo", "Deutchland", `"Deutchland" is not a country code or a name we know; did you mean DE (Germany)?`},                                                                                              // one letter missing
		{"two typos in a long name", "Wielka Brytnaja", `"Wielka Brytnaja" is not a country code or a name we know; did you mean GB (United Kingdom)?`},                                                                // two swaps allowed from 8 letters
		{"territory suggested by its code", "Reunoin", `"Reunoin" is not a country code or a name we know; did you mean RE (Réunion)?`},                                                                                // RE is then sent as FR
		{"too far for a suggestion", "Polsak Land", `"Polsak Land" is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                              // three edits or more
		{"nothing like a country", "Atlantis", `"Atlantis" is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                                      // nothing near
		{"short names get no suggestion", "Pol.", `"Pol." is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                                       // "pol" is too short to guess from
		{"three letters not alpha-3", "GER", `"GER" is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                                             // the IOC code, not ISO
		{"withdrawn alpha-3", "YUG", `"YUG" is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                                                     // Yugoslavia, withdrawn
		{"reserved alpha-2 name", "Kosovo", `"Kosovo" is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                                           // XK is user-assigned, not ISO
		{"numeric M.49 code", "616", `the value is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                                                 // numbers are not read, nor quoted
		{"a PESEL in the wrong column", "44051401359", `the value is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                               // never repeated
		{"an e-mail in the wrong column", "jan@example.com", `the value is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                         // never repeated
		{"quote capped at 40", "Republic of the Very Long Name of Nowhere At All", `"Republic of the Very Long Name of Nowher…" is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`}, // 40 characters and an ellipsis
		{"ambiguous Congo", "Congo", `"Congo" could be CD (Congo, The Democratic Republic of the) or CG (Congo); use the two-letter ISO 3166-1 code`},                                                                  // ISO's CG and the head of ISO's CD
		{"ambiguous Kongo", "Kongo", `"Kongo" could be CD (Congo, The Democratic Republic of the) or CG (Congo); use the two-letter ISO 3166-1 code`},                                                                  // made ambiguous by hand
		{"ambiguous Korea", "korea", `"korea" could be KP (Korea, Democratic People's Republic of) or KR (Korea, Republic of); use the two-letter ISO 3166-1 code`},                                                    // the heads of two ISO names
		{"ambiguous Virgin Islands", "Virgin Islands", `"Virgin Islands" could be VG (Virgin Islands, British) or VI (Virgin Islands, U.S.); use the two-letter ISO 3166-1 code`},                                      // British or U.S.
		{"unassigned code", "XX", "XX is not an assigned ISO 3166-1 alpha-2 code"},                                                                                                                                     // codes keep today's message
		{"Greece as EL", "EL", "EL is not an assigned ISO 3166-1 alpha-2 code; Greece is GR"},                                                                                                                          // only UK is read
		{"digit", "P1", "must be two letters A-Z, such as PL"},                                                                                                                                                         // malformed code, today's message
		{"two non-ASCII letters", "ÄÖ", "must be two letters A-Z, such as PL"},                                                                                                                                         // not a name either
		{"one letter", "P", "must be a two-letter ISO 3166-1 code such as PL, found 1 characters"},                                                                                                                     // today's message
		{"empty", "", "is empty; use a two-letter ISO 3166-1 code such as PL"},                                                                                                                                         // today's message
		{"punctuation only", "...", `"..." is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL`},                                                                                      // folds to nothing
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note, err := validate.Country(tt.in)
			if err == nil {
				t.Fatalf("Country(%q) = %q, %q, want refused", tt.in, got, note)
			}
			if got != "" || note != "" {
				t.Errorf("Country(%q) returned %q, %q with an error, want empty", tt.in, got, note)
			}
			if reason := mustProblem(t, err).Reason; reason != tt.wantReason {
				t.Errorf("Country(%q) reason\n got %s\nwant %s", tt.in, reason, tt.wantReason)
			}
		})
	}
}

// countryCLDRNames returns, for every assigned code, the CLDR names the
// package promises to read: English, Polish, German and the likely own
// language of the region. It asks x/text directly, not the package.
func countryCLDRNames(t *testing.T) map[string][]string {
	t.Helper()
	names := make(map[string][]string)
	for code := range allAssigned(t) {
		region := language.MustParseRegion(code)
		likely := language.Make("und-" + code)
		base, _ := likely.Base()
		script, _ := likely.Script()
		own, err := language.Compose(base, script)
		if err != nil {
			t.Fatalf("compose %s-%s: %v", base, script, err)
		}
		for _, tag := range []language.Tag{language.English, language.Polish, language.German, own} {
			if n := display.Regions(tag); n != nil && n.Name(region) != "" {
				names[code] = append(names[code], n.Name(region))
			}
		}
	}
	return names
}

// stripMarks removes diacritics the way a person typing without them would,
// through x/text's own transformers rather than the package's folding.
func stripMarks(t *testing.T, s string) string {
	t.Helper()
	out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err != nil {
		t.Fatalf("strip marks from %q: %v", s, err)
	}
	return out
}

func TestCountryNamesNeverMisread(t *testing.T) {
	// Every CLDR name of every code, in several spellings, is either read as
	// that code (then sent as Country(code) is) or refused as ambiguous
	// naming that code: a name is never silently read as another country.
	for code, names := range countryCLDRNames(t) {
		wantCanonical, _, err := validate.Country(code)
		if err != nil {
			t.Fatalf("Country(%q) = %v", code, err)
		}
		for _, name := range names {
			for _, in := range []string{name, strings.ToUpper(name), strings.ToLower(name), " " + name + " ", stripMarks(t, name)} {
				got, note, err := validate.Country(in)
				switch {
				case err == nil && got != wantCanonical:
					t.Errorf("Country(%q), a name of %s, = %q", in, code, got)
				case err == nil && note == "":
					t.Errorf("Country(%q) = %q with no note", in, got)
				case err != nil:
					if reason := mustProblem(t, err).Reason; !strings.Contains(reason, " could be ") || !strings.Contains(reason, code+" (") {
						t.Errorf("Country(%q), a name of %s, refused: %s", in, code, reason)
					}
				}
			}
		}
	}
}

func TestCountryAmbiguous(t *testing.T) {
	// Names two codes claim: refused, naming both, never accepted.
	tests := []struct {
		name string
		in   string
		want []string // the codes the reason names
	}{
		{"Congo", "Congo", []string{"CD", "CG"}},                   // ISO's CG, head of ISO's CD
		{"Congo diacritics-free", "CONGO ", []string{"CD", "CG"}},  // the same after folding
		{"Kongo", "Kongo", []string{"CD", "CG"}},                   // CLDR pl for CG, and by hand for CD
		{"Korea", "Korea", []string{"KP", "KR"}},                   // heads of both ISO names
		{"Virgin Islands", "virgin islands", []string{"VG", "VI"}}, // heads of both ISO names
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note, err := validate.Country(tt.in)
			if err == nil {
				t.Fatalf("Country(%q) = %q, %q, want refused as ambiguous", tt.in, got, note)
			}
			reason := mustProblem(t, err).Reason
			for _, code := range tt.want {
				if !strings.Contains(reason, code+" (") {
					t.Errorf("Country(%q) reason %q does not name %s", tt.in, reason, code)
				}
			}
		})
	}
}

func TestCountryConcurrent(t *testing.T) {
	// The table is built once, on first use, from many goroutines at once;
	// run with -race.
	inputs := []string{"Polska", "PL", "Deutschland", "POL", "Polsak", "Congo", "Україна", "Réunion"}
	want := make([]string, len(inputs))
	var wg sync.WaitGroup
	results := make([][]string, 8)
	for g := range results {
		wg.Go(func() {
			for _, in := range inputs {
				code, note, err := validate.Country(in)
				results[g] = append(results[g], fmt.Sprint(code, note, err))
			}
		})
	}
	wg.Wait()
	for i, in := range inputs {
		code, note, err := validate.Country(in)
		want[i] = fmt.Sprint(code, note, err)
	}
	for g, got := range results {
		for i := range inputs {
			if got[i] != want[i] {
				t.Errorf("goroutine %d: Country(%q) = %s, want %s", g, inputs[i], got[i], want[i])
			}
		}
	}
}

func FuzzCountry(f *testing.F) {
	for _, seed := range []string{
		"PL", " pl ", "RE", "UK", "EL", "XX", "P1", "", "POL", "REU", "USA", "U.S.A.",
		"Polska", "Österreich", "Osterreich", "Україна", "日本", "Réunion", "Congo",
		"Polsak", "Atlantis", "44051401359", "jan@example.com", "\xff\xfe",
		"\"\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xbe\xf3\xf3\U000fefbe", // invalid UTF-8 once quoted at length
	} {
		f.Add(seed)
	}
	territories := map[string]bool{"GP": true, "GF": true, "MQ": true, "RE": true, "MF": true, "SJ": true}
	f.Fuzz(func(t *testing.T, s string) {
		code, note, err := validate.Country(s)
		if err != nil {
			reason := mustProblem(t, err).Reason
			if code != "" || note != "" {
				t.Fatalf("Country(%q) returned %q, %q with %q", s, code, note, reason)
			}
			if v := strings.TrimSpace(s); strings.ContainsAny(v, "0123456789@") && utf8.RuneCountInString(v) > 2 && strings.Contains(reason, v) {
				t.Fatalf("Country(%q) reason %q repeats a value with digits or @", s, reason)
			}
			if n := utf8.RuneCountInString(reason); n > 250 {
				t.Fatalf("Country(%q) reason has %d characters", s, n)
			}
			return
		}
		if _, ok := validate.CountryName(code); !ok || territories[code] {
			t.Fatalf("Country(%q) = %q, not an assigned code P100 takes", s, code)
		}
		// No note exactly when the value is a code sent as it is.
		v := strings.ToUpper(strings.TrimSpace(s))
		_, assigned := validate.CountryName(v)
		if asSent := len(v) == 2 && assigned && !territories[v]; asSent != (note == "") {
			t.Fatalf("Country(%q) = %q, %q: want a note exactly when the value is not a code sent as it is", s, code, note)
		}
		if n := utf8.RuneCountInString(note); n > 150 {
			t.Fatalf("Country(%q) note has %d characters", s, n)
		}
	})
}

// countryFreshEnv makes the test binary, run again by countryFresh, measure
// the name table in a process where nothing has built it yet.
const countryFreshEnv = "VALIDATE_COUNTRY_FRESH"

// countryFreshRun is what one fresh process measured.
type countryFreshRun struct {
	codeBytes  uint64        // allocated by Country for two-letter codes
	buildNS    time.Duration // the first lookup by name: the table build
	buildBytes uint64        // allocated by it
}

// TestCountryFresh checks, in a fresh process, that two-letter codes never
// build the name table: reading them allocates a few bytes, the first name
// hundreds of kilobytes. Run by itself with countryFreshEnv set, it is that
// fresh process and prints what it measured.
func TestCountryFresh(t *testing.T) {
	if os.Getenv(countryFreshEnv) != "" {
		var m0, m1, m2 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for _, c := range []string{"PL", " pl ", "RE", "UK", "XX"} {
			validate.Country(c)
		}
		runtime.ReadMemStats(&m1)
		start := time.Now()
		validate.Country("Polska")
		took := time.Since(start)
		runtime.ReadMemStats(&m2)
		fmt.Printf("country-fresh %d %d %d\n", m1.TotalAlloc-m0.TotalAlloc, took.Nanoseconds(), m2.TotalAlloc-m1.TotalAlloc)
		return
	}
	run := countryFresh(t)
	if run.codeBytes > 4<<10 {
		t.Errorf("two-letter codes allocated %d bytes in a fresh process: did they build the name table?", run.codeBytes)
	}
	if run.buildBytes < 64<<10 {
		t.Errorf("the first name allocated only %d bytes: is the table built somewhere else?", run.buildBytes)
	}
	t.Logf("codes %d B; table build %v, %d B", run.codeBytes, run.buildNS, run.buildBytes)
}

// countryFresh runs this test binary again, only TestCountryFresh, with
// countryFreshEnv set, and returns what it printed.
func countryFresh(tb testing.TB) countryFreshRun {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatalf("find the test binary: %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^TestCountryFresh$")
	cmd.Env = append(os.Environ(), countryFreshEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("run %s: %v\n%s", exe, err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r countryFreshRun
		var ns int64
		if _, err := fmt.Sscanf(sc.Text(), "country-fresh %d %d %d", &r.codeBytes, &ns, &r.buildBytes); err == nil {
			r.buildNS = time.Duration(ns)
			return r
		}
	}
	tb.Fatalf("no measurement in the output of %s:\n%s", exe, out)
	return countryFreshRun{}
}

// BenchmarkCountryNameTable measures building the name table, which the
// first name or alpha-3 code of a process pays once: each iteration runs a
// fresh process and reports its first lookup by name, so ns/op (process
// start) is suppressed in favour of ns/build and B/build.
func BenchmarkCountryNameTable(b *testing.B) {
	var n int
	var ns time.Duration
	var allocated uint64
	for b.Loop() {
		r := countryFresh(b)
		n++
		ns += r.buildNS
		allocated += r.buildBytes
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(ns.Nanoseconds())/float64(n), "ns/build")
	b.ReportMetric(float64(allocated)/float64(n), "B/build")
}

// BenchmarkCountry measures a lookup once the table is built; codes never
// use it and cost what they did before names were read.
func BenchmarkCountry(b *testing.B) {
	validate.Country("Polska") // build the table outside the timings
	for _, in := range []string{"PL", " pl ", "RE", "POL", "Polska", "Österreich", "Polsak"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				validate.Country(in)
			}
		})
	}
}
