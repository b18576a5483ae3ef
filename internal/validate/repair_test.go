package validate_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/validate"
)

func TestUnwrapFormula(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{"PESEL kept as text", `="02291320357"`, `02291320357`, true}, // the form Excel exports to keep leading zeros
		{"empty text", `=""`, ``, true},                               // a formula that yields nothing
		{"doubled quote inside", `="a""b"`, `a"b`, true},              // "" stands for one quote
		{"only a doubled quote", `=""""`, `"`, true},                  // one quote and nothing else
		{"letters and spaces", `="AB 123"`, `AB 123`, true},           // any text, not only digits
		{"concatenation", `="a"&"b"`, `="a"&"b"`, false},              // a lone quote inside: a real formula
		{"lone quote at the end", `="1""`, `="1""`, false},            // the last inner quote is not doubled
		{"no closing quote", `="123`, `="123`, false},                 // cut off
		{"equals and one quote", `="`, `="`, false},                   // too short to be the form
		{"equals alone", `=`, `=`, false},                             // not the form
		{"empty", ``, ``, false},                                      // not the form
		{"formula without quotes", `=1+2`, `=1+2`, false},             // a real formula
		{"number formula in quotes", `="1"+1`, `="1"+1`, false},       // something after the closing quote
		{"two equals signs", `=="1"`, `=="1"`, false},                 // not the exact form
		{"leading space", ` ="1"`, ` ="1"`, false},                    // the caller trims first
		{"CSV quoting left on", `"=""1"""`, `"=""1"""`, false},        // the CSV reader's job, not this one's
		{"plain value", `02291320357`, `02291320357`, false},          // nothing to unwrap
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := validate.UnwrapFormula(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("UnwrapFormula(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRestorePESEL(t *testing.T) {
	// born1905 is a valid PESEL of 1905-03-10, which starts with one zero.
	born1905 := withCheck(t, "0503101234")
	// impossible starts with one zero, has a right check digit and encodes
	// month 13 of the 2000s.
	impossible := withCheck(t, "0233131234")
	tests := []struct {
		name       string
		in         string
		birthDate  string
		want       string // the value returned
		wantReason string // a fragment of the reason when refused
	}{
		// Restored.
		{"10 digits, born 2002", "2291320357", "2002-09-13", "02291320357", ""},           // one zero lost: 02291320357
		{"9 digits, born 29 February 2000", "222900009", "2000-02-29", "00222900009", ""}, // two zeros lost: 00222900009
		{"10 digits, born 1905", born1905[1:], "1905-03-10", born1905, ""},                // 1900-1909 start with 0 too

		// Refused: cannot be confirmed.
		{"10 digits, no birthDate", "2291320357", "", "", "has 10 digits: a spreadsheet probably dropped the leading zero (Excel stores the column as a number); the restored number cannot be confirmed without birthDate: format the column as Text and export again, or add birthDate"},
		{"9 digits, no birthDate", "222900009", "", "", "has 9 digits: a spreadsheet probably dropped the two leading zeros"},
		{"birthDate not ISO", "2291320357", "13.09.2002", "", "cannot be confirmed because birthDate is not a valid date"}, // the caller passes only what Date accepted
		{"birthDate not a real date", "2291320357", "2002-02-30", "", "birthDate is not a valid date"},                     // 30 February

		// Refused: the restored number is wrong.
		{"check digit wrong", "2291320358", "2002-09-13", "", "with it restored the check digit is wrong"},                         // a digit mistyped as well
		{"9 digits, check digit wrong", "222900008", "2000-02-29", "", "with them restored the check digit is wrong"},              // two zeros, then a wrong check digit
		{"birthDate disagrees", "2291320357", "2002-09-14", "", "encodes another birth date than birthDate"},                       // one day off
		{"birthDate a century off", "2291320357", "1902-09-13", "", "encodes another birth date than birthDate"},                   // the month's +20 says 2000s
		{"10 digits starting with 0", "0229132035", "2002-09-13", "", "it starts with 0, so it is not a number a spreadsheet cut"}, // a number never starts with 0: a digit is lost elsewhere
		{"9 digits starting with 0", "022913203", "", "", "must be 11 digits, found 9"},                                            // as above, even without birthDate
		{"impossible encoded date", impossible[1:], "2002-01-13", "", "encodes an impossible birth date"},                          // month 33: 13 of the 2000s

		// Returned unchanged for PESEL to judge.
		{"11 digits", "02291320357", "", "02291320357", ""},                    // nothing lost
		{"11 digits, wrong check digit", "02291320358", "", "02291320358", ""}, // PESEL reports it
		{"8 digits", "29132035", "", "29132035", ""},                           // too short for lost zeros
		{"12 digits", "022913203570", "", "022913203570", ""},                  // too long
		{"a letter", "22913203X7", "2002-09-13", "22913203X7", ""},             // not digits: PESEL reports the position
		{"empty", "", "", "", ""},                                              // whether it is required is the caller's rule
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := validate.RestorePESEL(tt.in, tt.birthDate)
			if got != tt.want {
				t.Errorf("RestorePESEL(%q, %q) = %q, want %q", tt.in, tt.birthDate, got, tt.want)
			}
			if tt.wantReason == "" {
				if err != nil {
					t.Errorf("RestorePESEL(%q, %q) error = %v, want nil", tt.in, tt.birthDate, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("RestorePESEL(%q, %q) error = nil, want one containing %q", tt.in, tt.birthDate, tt.wantReason)
			}
			reason := mustProblem(t, err).Reason
			if !strings.Contains(reason, tt.wantReason) {
				t.Errorf("RestorePESEL(%q, %q) reason = %q, want it to contain %q", tt.in, tt.birthDate, reason, tt.wantReason)
			}
			if !strings.Contains(reason, "Excel") {
				t.Errorf("RestorePESEL(%q, %q) reason = %q, want it to name Excel", tt.in, tt.birthDate, reason)
			}
			if leak := digitLeak(tt.in, reason); leak != "" {
				t.Errorf("RestorePESEL(%q, %q) reason %q repeats the input digits %q", tt.in, tt.birthDate, reason, leak)
			}
		})
	}
}

// TestRestorePESELThenPESEL checks that every restored number is one PESEL
// accepts, with the birth date it was confirmed against.
func TestRestorePESELThenPESEL(t *testing.T) {
	for _, tt := range []struct {
		name      string
		in        string
		birthDate string
	}{
		{"10 digits", "2291320357", "2002-09-13"},                         // one zero
		{"9 digits", "222900009", "2000-02-29"},                           // two zeros
		{"10 digits, 2009", withCheck(t, "0932311234")[1:], "2009-12-31"}, // the last day with one leading zero
	} {
		t.Run(tt.name, func(t *testing.T) {
			restored, err := validate.RestorePESEL(tt.in, tt.birthDate)
			if err != nil {
				t.Fatalf("RestorePESEL(%q, %q): %v", tt.in, tt.birthDate, err)
			}
			birth, err := validate.PESEL(restored)
			if err != nil {
				t.Fatalf("PESEL(%q) after RestorePESEL: %v", restored, err)
			}
			if got := birth.Format("2006-01-02"); got != tt.birthDate {
				t.Errorf("PESEL(%q) birth = %s, want %s", restored, got, tt.birthDate)
			}
		})
	}
}

func TestScientificNotation(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		// What spreadsheets write.
		{"Excel, dot", "9.20921E+10", true},        // English locale
		{"Excel, comma", "9,20921E+10", true},      // Polish and German locales
		{"lower-case e", "9.20921e+10", true},      // LibreOffice and others
		{"no exponent sign", "9.2E10", true},       // the decimal separator is signal enough
		{"no decimal separator", "1E+11", true},    // the exponent's sign is signal enough
		{"lower-case, sign", "1e+11", true},        // as above
		{"negative exponent", "1.23E-05", true},    // a small number
		{"negative number", "-9.2E+10", true},      // no identifier is negative
		{"separator, no fraction", "9.E+10", true}, // still a decimal separator
		{"long mantissa", "12.5E+3", true},         // not normalised, still scientific
		{"three-digit exponent", "1.5E+100", true}, // a very long number

		// Values that must pass untouched.
		{"bare E between digits", "1E5", false},         // could be a document number
		{"id with E", "12E45", false},                   // could be an externalUserId
		{"document number", "AB1E5", false},             // letters first
		{"E first", "E123", false},                      // letters first
		{"E last", "1E", false},                         // no exponent
		{"sign, no exponent digits", "1E+", false},      // cut off
		{"no mantissa", "E+10", false},                  // no digits before the E
		{"fraction only", ".5E+10", false},              // mantissa must start with a digit
		{"no exponent", "9.2E", false},                  // cut off
		{"decimal number", "9.2", false},                // no E
		{"thousands", "1,234", false},                   // no E
		{"all digits", "92092100000", false},            // a plain number
		{"e-mail", "jan@x.pl", false},                   // letters and @
		{"e-mail with digits and e", "1e5@x.pl", false}, // more after the exponent
		{"trailing space", "9.2E+10 ", false},           // the caller trims first
		{"letter O in the exponent", "9.2E+1O", false},  // not a digit
		{"two signs", "9.2E++10", false},                // not the form
		{"two separators", "9..2E+10", false},           // not the form
		{"two fractions", "9.2.3E+10", false},           // not the form
		{"leading plus", "+9.2E+10", false},             // not what spreadsheets write
		{"hexadecimal", "0x1E+5", false},                // not the form
		{"empty", "", false},                            // nothing
		{"minus alone", "-", false},                     // nothing
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validate.ScientificNotation(tt.in); got != tt.want {
				t.Errorf("ScientificNotation(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrScientific(t *testing.T) {
	p := mustProblem(t, validate.ErrScientific())
	for _, want := range []string{"scientific notation", "cannot be recovered", "Format Cells, Text", "export the file again"} {
		if !strings.Contains(p.Reason, want) {
			t.Errorf("ErrScientific reason = %q, want it to contain %q", p.Reason, want)
		}
	}
	wrapped := fmt.Errorf("pesel: %w", validate.ErrScientific())
	if !errors.Is(wrapped, validate.ErrScientific()) {
		t.Errorf("errors.Is(wrapped, ErrScientific) = false, want true")
	}
	if errors.Is(validate.ErrSlashedDate, validate.ErrScientific()) {
		t.Errorf("errors.Is(ErrSlashedDate, ErrScientific) = true, want false")
	}
}
