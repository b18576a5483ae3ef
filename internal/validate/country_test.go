package validate_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/validate"
)

func TestCountry(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       string // canonical code when accepted
		wantNote   string // the exact note, "" when none
		wantReason string // a fragment of the reason when refused
	}{
		{"upper case", "PL", "PL", "", ""},                                                // the documented example
		{"lower case", "pl", "PL", "", ""},                                                // upper-cased before lookup
		{"padded", " de ", "DE", "", ""},                                                  // trimmed before lookup
		{"tab padded", "\tFr\n", "FR", "", ""},                                            // any surrounding white space goes
		{"France itself", "FR", "FR", "", ""},                                             // the target of the rule has no note
		{"Norway itself", "NO", "NO", "", ""},                                             // the target of the rule has no note
		{"Réunion", "RE", "FR", "RE (Réunion) is sent as FR", ""},                         // territory rule
		{"Réunion lower", "re", "FR", "RE (Réunion) is sent as FR", ""},                   // rule applies after upper-casing
		{"Guadeloupe", "GP", "FR", "GP (Guadeloupe) is sent as FR", ""},                   // territory rule
		{"French Guiana", "GF", "FR", "GF (French Guiana) is sent as FR", ""},             // territory rule
		{"Martinique", "MQ", "FR", "MQ (Martinique) is sent as FR", ""},                   // territory rule
		{"Saint Martin", "MF", "FR", "MF (Saint Martin (French part)) is sent as FR", ""}, // territory rule, ISO's own name
		{"Svalbard", "SJ", "NO", "SJ (Svalbard and Jan Mayen) is sent as NO", ""},         // territory rule to Norway
		{"Mayotte unchanged", "YT", "YT", "", ""},                                         // not in P100's rule, sent as is
		{"Sint Maarten unchanged", "SX", "SX", "", ""},                                    // the Dutch part is not MF
		{"unassigned", "XX", "", "", "XX is not an assigned ISO 3166-1 alpha-2 code"},     // user-assigned range, never official
		{"empty", "", "", "", "is empty"},                                                 // nothing to look up
		{"blank", "   ", "", "", "is empty"},                                              // empty after trimming
		{"alpha-3", "POL", "PL", `"POL" read as PL`, ""},                                  // three-letter codes are read, with a note
		{"one character", "P", "", "", "found 1 characters"},                              // too short for a code or a name
		{"digit", "P1", "", "", "must be two letters A-Z"},                                // a digit is never part of a code
		{"non-ASCII letters", "ÄÖ", "", "", "must be two letters A-Z"},                    // two runes but not A-Z
		{"United Kingdom as UK", "UK", "GB", `"UK" read as GB`, ""},                       // reserved, not assigned, but what people write
		{"United Kingdom as uk", " uk ", "GB", `"uk" read as GB`, ""},                     // the note quotes the value as written, trimmed
		{"Greece as EL", "el", "", "", "Greece is GR"},                                    // EU usage, with a hint
		{"EU", "EU", "", "", "not an assigned"},                                           // reserved, not a country
		{"withdrawn Netherlands Antilles", "AN", "", "", "not an assigned"},               // deleted from ISO 3166-1 in 2010
		{"withdrawn Yugoslavia", "YU", "", "", "not an assigned"},                         // deleted from ISO 3166-1 in 2003
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note, err := validate.Country(tt.in)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("Country(%q) = %v, want %q", tt.in, err, tt.want)
				}
				if got != tt.want || note != tt.wantNote {
					t.Errorf("Country(%q) = %q, %q, want %q, %q", tt.in, got, note, tt.want, tt.wantNote)
				}
				return
			}
			if err == nil {
				t.Fatalf("Country(%q) = %q, %q, want refused with %q", tt.in, got, note, tt.wantReason)
			}
			if got != "" || note != "" {
				t.Errorf("Country(%q) returned %q, %q with an error, want empty", tt.in, got, note)
			}
			if reason := mustProblem(t, err).Reason; !strings.Contains(reason, tt.wantReason) {
				t.Errorf("Country(%q) reason = %q, want it to contain %q", tt.in, reason, tt.wantReason)
			}
		})
	}
}

func TestCountryName(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{"Poland", "PL", "Poland", true},                                       // the common case
		{"lower case", "de", "Germany", true},                                  // normalised like Country
		{"non-ASCII name", "RE", "Réunion", true},                              // names keep their accents
		{"territory keeps its own name", "SJ", "Svalbard and Jan Mayen", true}, // the rule changes the code sent, not the name
		{"unassigned", "XX", "", false},                                        // no name for an unassigned code
		{"empty", "", "", false},                                               // no name for nothing
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := validate.CountryName(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("CountryName(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// allAssigned returns every two-letter code the package knows, found by
// asking about all 676 combinations of A-Z.
func allAssigned(t *testing.T) map[string]string {
	t.Helper()
	codes := make(map[string]string)
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			if name, ok := validate.CountryName(code); ok {
				codes[code] = name
			}
		}
	}
	return codes
}

func TestCountryTable(t *testing.T) {
	codes := allAssigned(t)

	t.Run("exactly 249 codes", func(t *testing.T) {
		if len(codes) != 249 {
			t.Errorf("%d assigned codes, want 249", len(codes))
		}
	})
	t.Run("every code has a name and is accepted", func(t *testing.T) {
		for code, name := range codes {
			if strings.TrimSpace(name) == "" {
				t.Errorf("CountryName(%q) is blank", code)
			}
			canonical, _, err := validate.Country(code)
			if err != nil {
				t.Errorf("Country(%q) = %v, want accepted", code, err)
				continue
			}
			if _, ok := codes[canonical]; !ok {
				t.Errorf("Country(%q) = %q, which is not itself an assigned code", code, canonical)
			}
		}
	})
	t.Run("only the six territories are rewritten", func(t *testing.T) {
		want := map[string]string{"GP": "FR", "GF": "FR", "MQ": "FR", "RE": "FR", "MF": "FR", "SJ": "NO"}
		for code := range codes {
			canonical, note, _ := validate.Country(code)
			if to, ok := want[code]; ok {
				if canonical != to || note == "" {
					t.Errorf("Country(%q) = %q, %q, want %q with a note", code, canonical, note, to)
				}
			} else if canonical != code || note != "" {
				t.Errorf("Country(%q) = %q, %q, want it unchanged without a note", code, canonical, note)
			}
		}
	})
	t.Run("matches the tz database", func(t *testing.T) {
		// iso3166.tab lists the same officially assigned codes; it is a
		// second, independent source where the system has it.
		f, err := os.Open("/usr/share/zoneinfo/iso3166.tab")
		if err != nil {
			t.Skipf("no tz database to compare with: %v", err)
		}
		defer f.Close()
		tz := make(map[string]bool)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			code, _, _ := strings.Cut(line, "\t")
			tz[code] = true
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("read iso3166.tab: %v", err)
		}
		for code := range tz {
			if _, ok := codes[code]; !ok {
				t.Errorf("%s is in iso3166.tab but not in the table", code)
			}
		}
		for code := range codes {
			if !tz[code] {
				t.Errorf("%s is in the table but not in iso3166.tab", code)
			}
		}
	})
}
