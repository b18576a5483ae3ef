package validate_test

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/p100/p100-importer/internal/validate"
)

// twin returns an input of the same shape as s with different content:
// ASCII digits shifted by 5, ASCII letters by 13, everything else kept. A
// rule that looks only at the shape (length, which characters are digits)
// answers both alike.
func twin(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case '0' <= r && r <= '9':
			return '0' + (r-'0'+5)%10
		case 'a' <= r && r <= 'z':
			return 'a' + (r-'a'+13)%26
		case 'A' <= r && r <= 'Z':
			return 'A' + (r-'A'+13)%26
		}
		return r
	}, s)
}

func isASCIIDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func FuzzPESEL(f *testing.F) {
	for _, seed := range []string{
		"44051401359",  // valid, 1944-05-14
		"02070803628",  // valid, 1902-07-08
		"99810100013",  // valid, 1899-01-01 (month +80)
		"00222900009",  // valid, 2000-02-29 (month +20, leap day)
		"00410100000",  // valid, 2100-01-01 (month +40)
		"44051401358",  // wrong check digit
		"00022900003",  // 1900-02-29, impossible
		"06130100005",  // month 13, impossible
		"23023000008",  // 30 February, impossible
		"4405140135",   // 10 digits
		"440514013591", // 12 digits
		"4405140135X",  // a letter
		" 44051401359", // a leading space
		"٤٤٠٥١٤٠١٣٥٩",  // Arabic-Indic digits
		"\xff\xfe",     // invalid UTF-8
		"",             // empty
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		birth, err := validate.PESEL(s)
		if err == nil {
			// Accepted: 11 ASCII digits whose first six encode the date returned.
			if len(s) != 11 || !isASCIIDigits(s) {
				t.Fatalf("PESEL(%q) accepted a value that is not 11 ASCII digits", s)
			}
			if birth.Location() != time.UTC || birth.Hour() != 0 || birth.Minute() != 0 || birth.Second() != 0 || birth.Nanosecond() != 0 {
				t.Fatalf("PESEL(%q) birth = %v, want midnight UTC", s, birth)
			}
			offset := map[int]int{18: 80, 19: 0, 20: 20, 21: 40, 22: 60}[birth.Year()/100]
			if birth.Year() < 1800 || birth.Year() > 2299 {
				t.Fatalf("PESEL(%q) birth year %d is outside 1800-2299", s, birth.Year())
			}
			encoded := []byte{
				byte('0' + birth.Year()%100/10), byte('0' + birth.Year()%10),
				byte('0' + (int(birth.Month())+offset)/10), byte('0' + (int(birth.Month())+offset)%10),
				byte('0' + birth.Day()/10), byte('0' + birth.Day()%10),
			}
			if string(encoded) != s[:6] {
				t.Fatalf("PESEL(%q) birth = %s, which encodes as %s", s, birth.Format("2006-01-02"), encoded)
			}
			return
		}
		reason := mustProblem(t, err).Reason
		if !birth.IsZero() {
			t.Fatalf("PESEL(%q) returned birth %v with an error", s, birth)
		}
		if len(s) < 4 || !strings.Contains(reason, s) {
			return
		}
		// The reason contains the input. For a string of digits that is a
		// leak, always: reasons hold no run of digits as long as the input.
		// For other input it may be a coincidence of wording (the input
		// "must" is in every "must be ..." reason), so it is a leak only if
		// the reason for a same-shaped input with other content does not
		// contain it as well.
		if isASCIIDigits(s) {
			t.Fatalf("PESEL(%q) reason %q repeats the input", s, reason)
		}
		if _, err2 := validate.PESEL(twin(s)); err2 == nil || !strings.Contains(err2.Error(), s) {
			t.Fatalf("PESEL(%q) reason %q repeats the input", s, reason)
		}
	})
}

func FuzzEmail(f *testing.F) {
	for _, seed := range []string{
		"johndoe@gmail.com",               // valid, the documented example
		"jan.kowalski+tag@poczta.onet.pl", // valid, tag and dots
		"zażółć@gęślą.pl",                 // valid, non-ASCII local part and IDN domain
		"jan@xn--gl-mja.pl",               // valid, punycode
		"John <j@x.pl>",                   // display name
		"jan.kowalski.poczta.pl",          // no @
		"a@b@c.pl",                        // two @
		"jan@localhost",                   // no dot in the domain
		"jan@.poczta.pl",                  // leading dot label
		"jan@-poczta.pl",                  // leading hyphen label
		"jan@127.0.0.1",                   // IP address
		".jan@x.pl",                       // leading dot in the local part
		"jan kowalski@x.pl",               // a space
		"jan\t@x.pl",                      // a control character
		"jan\xff@x.pl",                    // invalid UTF-8
		"",                                // empty
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 62), // 255 bytes
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := validate.Email(s)
		// Stable: the same input, asked again through a fresh copy, gets the
		// same answer with the same reason.
		again := validate.Email(strings.Clone(s))
		if (err == nil) != (again == nil) || (err != nil && err.Error() != again.Error()) {
			t.Fatalf("Email(%q) answered %v, then %v", s, err, again)
		}
		if err != nil {
			mustProblem(t, err)
			return
		}
		// Accepted: the properties the rules promise.
		local, domain, ok := strings.Cut(s, "@")
		switch {
		case !ok || strings.Contains(domain, "@"):
			t.Fatalf("Email(%q) accepted an address without exactly one @", s)
		case !utf8.ValidString(s):
			t.Fatalf("Email(%q) accepted invalid UTF-8", s)
		case len(s) > 254 || local == "" || len(local) > 64:
			t.Fatalf("Email(%q) accepted an address outside the length limits", s)
		case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, "."):
			t.Fatalf("Email(%q) accepted a bad domain", s)
		case strings.ContainsAny(s, "<>\"()[],;: "):
			t.Fatalf("Email(%q) accepted a character outside the plain form", s)
		case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			t.Fatalf("Email(%q) accepted white space or a control character", s)
		}
	})
}
