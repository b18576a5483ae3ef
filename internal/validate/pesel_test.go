package validate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/validate"
)

// withCheck appends the PESEL check digit to the first ten digits, computed
// here independently of the package: weights 1,3,7,9,1,3,7,9,1,3 and
// check = (10 - sum%10) % 10.
func withCheck(tb testing.TB, first10 string) string {
	tb.Helper()
	if len(first10) != 10 {
		tb.Fatalf("withCheck: %d digits, want 10", len(first10))
	}
	weights := []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i, c := range []byte(first10) {
		if c < '0' || c > '9' {
			tb.Fatalf("withCheck: %q is not a digit", c)
		}
		sum += int(c-'0') * weights[i]
	}
	return first10 + string(rune('0'+(10-sum%10)%10))
}

// wrongCheck returns a valid PESEL with its check digit changed.
func wrongCheck(tb testing.TB, first10 string) string {
	tb.Helper()
	s := withCheck(tb, first10)
	return s[:10] + string(rune('0'+(s[10]-'0'+1)%10))
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestPESEL(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		want       time.Time // the encoded birth date when valid
		wantReason string    // a fragment of the reason when refused
	}{
		// Valid numbers.
		{"literal 1944", "44051401359", date(1944, 5, 14), ""},                 // the classic example: 1944-05-14, check 101 -> 9
		{"literal 1902", "02070803628", date(1902, 7, 8), ""},                  // Wikipedia's example: 1902-07-08, check 132 -> 8
		{"1800s first", withCheck(t, "9981010001"), date(1899, 1, 1), ""},      // month 81 = January of the 1800s
		{"1800s last", withCheck(t, "9992310000"), date(1899, 12, 31), ""},     // month 92 = December of the 1800s
		{"1900s", withCheck(t, "8512241234"), date(1985, 12, 24), ""},          // month 12, no offset
		{"2000s", withCheck(t, "0522140000"), date(2005, 2, 14), ""},           // month 22 = February of the 2000s
		{"2000 leap day", withCheck(t, "0022290000"), date(2000, 2, 29), ""},   // 2000 is divisible by 400: leap
		{"2100s", withCheck(t, "0041010000"), date(2100, 1, 1), ""},            // month 41 = January of the 2100s
		{"2200s", withCheck(t, "9972310000"), date(2299, 12, 31), ""},          // month 72 = December of the 2200s
		{"check digit zero", withCheck(t, "0041010000"), date(2100, 1, 1), ""}, // sum%10 == 0 gives check 0, not 10
		// Refused: shape.
		{"empty", "", time.Time{}, "is empty"},                                         // nothing to check
		{"10 digits", "4405140135", time.Time{}, "must be 11 digits, found 10"},        // one digit missing
		{"12 digits", "440514013591", time.Time{}, "must be 11 digits, found 12"},      // one digit too many
		{"letter at end", "4405140135X", time.Time{}, "character 11 is not a digit"},   // a letter where the check digit goes
		{"all letters", "ABCDEFGHIJK", time.Time{}, "character 1 is not a digit"},      // not a number at all
		{"leading space", " 44051401359", time.Time{}, "character 1 is not a digit"},   // nothing is trimmed
		{"dashes", "440514-01359", time.Time{}, "character 7 is not a digit"},          // separators are not allowed
		{"non-ASCII digits", "٤٤٠٥١٤٠١٣٥٩", time.Time{}, "character 1 is not a digit"}, // Arabic-Indic digits are not ASCII digits
		// Refused: check digit.
		{"wrong check digit", "44051401358", time.Time{}, "check digit is wrong"},                     // last digit off by one
		{"wrong check digit built", wrongCheck(t, "0022290000"), time.Time{}, "check digit is wrong"}, // valid date, bad check
		{"swapped digits", "44051401539", time.Time{}, "check digit is wrong"},                        // a typical typo: two digits swapped
		// Refused: impossible birth dates (with a correct check digit).
		{"month 13", withCheck(t, "0613010000"), time.Time{}, "impossible birth date"},      // 13 is no month in the 1900s
		{"month 33", withCheck(t, "0633010000"), time.Time{}, "impossible birth date"},      // 33 - 20 = 13 in the 2000s
		{"month 00", withCheck(t, "0600010000"), time.Time{}, "impossible birth date"},      // month 0 does not exist
		{"month 80", withCheck(t, "0680010000"), time.Time{}, "impossible birth date"},      // 80 - 80 = 0 in the 1800s
		{"day 00", withCheck(t, "4405000000"), time.Time{}, "impossible birth date"},        // day 0 does not exist
		{"day 32", withCheck(t, "4401320000"), time.Time{}, "impossible birth date"},        // January has 31 days
		{"30 February", withCheck(t, "2302300000"), time.Time{}, "impossible birth date"},   // 1923-02-30
		{"1900 leap day", withCheck(t, "0002290000"), time.Time{}, "impossible birth date"}, // 1900 is not a leap year
		{"2100 leap day", withCheck(t, "0042290000"), time.Time{}, "impossible birth date"}, // 2100 is not a leap year
		{"31 April", withCheck(t, "9004310000"), time.Time{}, "impossible birth date"},      // April has 30 days
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := validate.PESEL(tt.in)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("PESEL(%q) = %v, want valid", tt.in, err)
				}
				if !got.Equal(tt.want) || got.Location() != time.UTC {
					t.Errorf("PESEL(%q) birth = %v, want %v", tt.in, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("PESEL(%q) = %v, want refused with %q", tt.in, got, tt.wantReason)
			}
			if !got.IsZero() {
				t.Errorf("PESEL(%q) returned birth %v with an error, want the zero time", tt.in, got)
			}
			reason := mustProblem(t, err).Reason
			if !strings.Contains(reason, tt.wantReason) {
				t.Errorf("PESEL(%q) reason = %q, want it to contain %q", tt.in, reason, tt.wantReason)
			}
			if leak := digitLeak(tt.in, reason); leak != "" {
				t.Errorf("PESEL(%q) reason %q repeats the input digits %q", tt.in, reason, leak)
			}
		})
	}
}

// digitLeak returns a run of three input digits that the reason repeats, or "".
// Reasons may mention small numbers ("11 digits", "found 10", "character 7"),
// never three consecutive digits of the number.
func digitLeak(input, reason string) string {
	for i := 0; i+3 <= len(input); i++ {
		w := input[i : i+3]
		if strings.Trim(w, "0123456789") == "" && strings.Contains(reason, w) {
			return w
		}
	}
	return ""
}
