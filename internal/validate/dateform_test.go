package validate_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/validate"
)

// dateFormDigitFree fails the test when a reason holds a digit: reasons about
// a birth date never repeat any part of it.
func dateFormDigitFree(tb testing.TB, call string, err error) {
	tb.Helper()
	reason := mustProblem(tb, err).Reason
	if strings.ContainsAny(reason, "0123456789") {
		tb.Errorf("%s reason %q holds a digit: it may repeat the date", call, reason)
	}
}

func TestParseDateForm(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantISO    string
		wantForm   string
		wantErr    error  // a sentinel the error must match
		wantReason string // a fragment of the reason when refused
	}{
		// The API's form.
		{"ISO", "2003-02-01", "2003-02-01", "", nil, ""},                                // nothing converted
		{"ISO with spaces around", " 2003-02-01 ", "2003-02-01", "", nil, ""},           // trimmed, as Date does
		{"ISO, one-digit month and day", "2003-2-1", "2003-02-01", "YYYY-M-D", nil, ""}, // padded

		// ISO with a midnight time.
		{"space, seconds", "2003-02-01 00:00:00", "2003-02-01", "YYYY-MM-DD 00:00:00", nil, ""},                     // a datetime column
		{"space, minutes", "2003-02-01 00:00", "2003-02-01", "YYYY-MM-DD 00:00", nil, ""},                           // Excel's short datetime
		{"space, one-digit hour", "2003-02-01 0:00", "2003-02-01", "YYYY-MM-DD 0:00", nil, ""},                      // Excel's H:MM
		{"T, seconds", "2003-02-01T00:00:00", "2003-02-01", "YYYY-MM-DDT00:00:00", nil, ""},                         // ISO 8601
		{"T, minutes", "2003-02-01T00:00", "2003-02-01", "YYYY-MM-DDT00:00", nil, ""},                               // ISO 8601 without seconds
		{"T, milliseconds", "2003-02-01T00:00:00.000", "2003-02-01", "YYYY-MM-DDT00:00:00.000", nil, ""},            // a database export
		{"T, Z", "2003-02-01T00:00:00Z", "2003-02-01", "YYYY-MM-DDT00:00:00Z", nil, ""},                             // UTC
		{"T, milliseconds, Z", "2003-02-01T00:00:00.000Z", "2003-02-01", "YYYY-MM-DDT00:00:00.000Z", nil, ""},       // JavaScript's toISOString
		{"T, nanoseconds", "2003-02-01T00:00:00.000000000", "2003-02-01", "YYYY-MM-DDT00:00:00.000000000", nil, ""}, // any fraction of zeros

		// Other date forms.
		{"DD.MM.YYYY", "01.02.2003", "2003-02-01", "DD.MM.YYYY", nil, ""},                           // Polish
		{"D.M.YYYY", "1.2.2003", "2003-02-01", "D.M.YYYY", nil, ""},                                 // Polish, short
		{"D.MM.YYYY", "1.02.2003", "2003-02-01", "D.MM.YYYY", nil, ""},                              // mixed widths, named as written
		{"DD.MM.YYYY with midnight", "01.02.2003 00:00", "2003-02-01", "DD.MM.YYYY 00:00", nil, ""}, // a Polish Excel datetime
		{"YYYY.MM.DD", "2003.02.01", "2003-02-01", "YYYY.MM.DD", nil, ""},                           // dotted, year first
		{"YYYY/MM/DD", "2003/02/01", "2003-02-01", "YYYY/MM/DD", nil, ""},                           // slashed, year first: not ambiguous
		{"DD-MM-YYYY", "01-02-2003", "2003-02-01", "DD-MM-YYYY", nil, ""},                           // dashed, year last: day first

		// 29 February: converted; whether the year has one is Date's job.
		{"29 February, leap year", "29.02.2004", "2004-02-29", "DD.MM.YYYY", nil, ""},               // real
		{"29 February 2000", "2000-02-29T00:00:00Z", "2000-02-29", "YYYY-MM-DDT00:00:00Z", nil, ""}, // real: 2000 is a leap year
		{"29 February, common year", "29.02.2003", "2003-02-29", "DD.MM.YYYY", nil, ""},             // converted; Date refuses it
		{"31 April", "31.04.2003", "2003-04-31", "DD.MM.YYYY", nil, ""},                             // converted; Date refuses it

		// A time of day.
		{"afternoon", "2003-02-01 12:30", "", "", nil, "has a time of day"},               // not midnight
		{"23:00 UTC", "2003-01-31T23:00:00Z", "", "", nil, "shifted by a time zone"},      // Warsaw's midnight, seen from UTC
		{"one second", "2003-02-01 00:00:01", "", "", nil, "has a time of day"},           // not quite midnight
		{"one millisecond", "2003-02-01T00:00:00.001Z", "", "", nil, "has a time of day"}, // not quite midnight
		{"dotted with a time", "01.02.2003 08:00", "", "", nil, "has a time of day"},      // any date form

		// Ambiguous: the caller decides per column.
		{"slashed", "01/02/2003", "", "", validate.ErrSlashedDate, ""},                  // 1 February or January 2
		{"slashed, short", "1/2/2003", "", "", validate.ErrSlashedDate, ""},             // as above
		{"slashed, day over 12", "13/2/2003", "", "", validate.ErrSlashedDate, ""},      // only one reading fits, still the column's call
		{"slashed, month over 12", "2/13/2003", "", "", validate.ErrSlashedDate, ""},    // as above
		{"slashed with midnight", "1/2/2003 0:00", "", "", validate.ErrSlashedDate, ""}, // Excel's American datetime
		{"slashed with a time", "1/2/2003 14:00", "", "", validate.ErrSlashedDate, ""},  // ParseSlashed refuses the time

		// Two-digit years.
		{"dotted, two-digit year", "01.02.03", "", "", nil, "has a two-digit year: export the column with four-digit years"}, // which century?
		{"slashed, two-digit year", "1/2/03", "", "", nil, "has a two-digit year"},                                           // not ErrSlashedDate
		{"dashed, two-digit year", "03-02-01", "", "", nil, "has a two-digit year"},                                          // YY-MM-DD or DD-MM-YY
		{"two-digit year and a time", "01.02.03 00:00", "", "", nil, "has a two-digit year"},                                 // with a time

		// Not a date in a known form.
		{"empty", "", "", "", nil, "is empty"},                                                               // the caller skips empty fields
		{"blank", "   ", "", "", nil, "is empty"},                                                            // trimmed to empty
		{"serial day number", "37653", "", "", nil, "is a number, not a date"},                               // 2003-02-01 in Excel's count
		{"eight digits", "20030201", "", "", nil, "is not a date in a known form: use YYYY-MM-DD"},           // YYYYMMDD or DDMMYYYY: not guessed
		{"month name", "1 lutego 2003", "", "", nil, "is not a date in a known form"},                        // words
		{"year and month", "2003-02", "", "", nil, "is not a date in a known form"},                          // two groups
		{"mixed separators", "01.02-2003", "", "", nil, "is not a date in a known form"},                     // two different separators
		{"three-digit day", "001.02.2003", "", "", nil, "is not a date in a known form"},                     // too wide
		{"five-digit year", "1.2.20034", "", "", nil, "is not a date in a known form"},                       // too wide
		{"three-digit year", "1.2.203", "", "", nil, "is not a date in a known form"},                        // neither two nor four
		{"fullwidth digits", "\uFF12\uFF10\uFF10\uFF13-02-01", "", "", nil, "is not a date in a known form"}, // ASCII digits only
		{"time-zone offset", "2003-02-01T00:00:00+01:00", "", "", nil, "is not a date in a known form"},      // only Z
		{"T after a dotted date", "01.02.2003T00:00", "", "", nil, "is not a date in a known form"},          // T only after YYYY-MM-DD
		{"T with a one-digit hour", "2003-02-01T0:00", "", "", nil, "is not a date in a known form"},         // ISO 8601 has two
		{"two spaces before the time", "2003-02-01  00:00", "", "", nil, "is not a date in a known form"},    // one space only
		{"AM/PM", "2003-02-01 12:00 AM", "", "", nil, "is not a date in a known form"},                       // twelve-hour clocks not read
		{"hour alone", "2003-02-01 00", "", "", nil, "is not a date in a known form"},                        // no minutes
		{"fraction without seconds", "2003-02-01 00:00.000", "", "", nil, "is not a date in a known form"},   // fraction only after seconds
		{"one-digit minutes", "2003-02-01 00:0", "", "", nil, "is not a date in a known form"},               // minutes have two digits
		{"trailing dot", "01.02.2003.", "", "", nil, "is not a date in a known form"},                        // more after the year
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iso, form, err := validate.ParseDateForm(tt.in)
			if iso != tt.wantISO || form != tt.wantForm {
				t.Errorf("ParseDateForm(%q) = %q, %q; want %q, %q", tt.in, iso, form, tt.wantISO, tt.wantForm)
			}
			call := fmt.Sprintf("ParseDateForm(%q)", tt.in)
			switch {
			case tt.wantErr == nil && tt.wantReason == "":
				if err != nil {
					t.Errorf("%s error = %v, want nil", call, err)
				}
				return
			case err == nil:
				t.Fatalf("%s error = nil, want one", call)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("%s error = %v, want %v", call, err, tt.wantErr)
			case tt.wantReason != "" && !strings.Contains(err.Error(), tt.wantReason):
				t.Errorf("%s reason = %q, want it to contain %q", call, err.Error(), tt.wantReason)
			}
			dateFormDigitFree(t, call, err)
		})
	}
}

// TestParseDateFormThenDate runs the pipeline the caller runs: the form is
// converted, then Date judges the date.
func TestParseDateFormThenDate(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		in         string
		want       string
		wantReason string // a fragment of Date's reason when refused
	}{
		{"29 February 2004", "29.02.2004", "2004-02-29", ""},                // a leap year
		{"29 February 2003", "29.02.2003", "", "day out of range"},          // a common year
		{"29 February 1900", "1900-02-29 00:00:00", "", "day out of range"}, // 1900 was not a leap year
		{"month 13", "01.13.2003", "", "month out of range"},                // converted as written, refused by Date
		{"future", "01.01.2031", "", "is in the future"},                    // Date compares with now
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iso, _, err := validate.ParseDateForm(tt.in)
			if err != nil {
				t.Fatalf("ParseDateForm(%q): %v", tt.in, err)
			}
			got, err := validate.Date(iso, "", now)
			if tt.wantReason == "" {
				if err != nil || got != tt.want {
					t.Errorf("Date(%q) = %q, %v; want %q, nil", iso, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantReason) {
				t.Errorf("Date(%q) error = %v, want one containing %q", iso, err, tt.wantReason)
			}
		})
	}
}

func TestSlashedParts(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		a, b, y int
		wantOK  bool
	}{
		{"two digits each", "01/02/2003", 1, 2, 2003, true},  // could be either reading
		{"one digit each", "1/2/2003", 1, 2, 2003, true},     // as above
		{"first over 12", "13/02/2003", 13, 2, 2003, true},   // day first
		{"second over 12", "02/13/2003", 2, 13, 2003, true},  // month first
		{"with midnight", "1/2/2003 0:00", 1, 2, 2003, true}, // Excel's American datetime
		{"with a time", "1/2/2003 14:30", 1, 2, 2003, true},  // parts still read; ParseSlashed refuses the time
		{"spaces around", " 1/2/2003 ", 1, 2, 2003, true},    // trimmed
		{"two-digit year", "1/2/03", 0, 0, 0, false},         // refused by ParseDateForm as such
		{"year first", "2003/02/01", 0, 0, 0, false},         // not ambiguous
		{"dotted", "01.02.2003", 0, 0, 0, false},             // another form
		{"more after the year", "1/2/2003x", 0, 0, 0, false}, // not the form
		{"bad time", "1/2/2003 0", 0, 0, 0, false},           // not a time ParseDateForm reads
		{"empty part", "1//2003", 0, 0, 0, false},            // a group is missing
		{"empty", "", 0, 0, 0, false},                        // nothing
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, y, ok := validate.SlashedParts(tt.in)
			if a != tt.a || b != tt.b || y != tt.y || ok != tt.wantOK {
				t.Errorf("SlashedParts(%q) = %d, %d, %d, %v; want %d, %d, %d, %v", tt.in, a, b, y, ok, tt.a, tt.b, tt.y, tt.wantOK)
			}
			_, _, err := validate.ParseDateForm(tt.in)
			if slashed := errors.Is(err, validate.ErrSlashedDate); slashed != ok {
				t.Errorf("SlashedParts(%q) ok = %v, but ParseDateForm returned %v", tt.in, ok, err)
			}
		})
	}
}

func TestParseSlashed(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		dayFirst   bool
		want       string
		wantReason string // a fragment of the reason when refused
	}{
		{"day first", "01/02/2003", true, "2003-02-01", ""},                   // 1 February
		{"month first", "01/02/2003", false, "2003-01-02", ""},                // January 2
		{"day first, short", "1/2/2003", true, "2003-02-01", ""},              // padded
		{"day first, day over 12", "13/2/2003", true, "2003-02-13", ""},       // the value that decided the column
		{"month first, day over 12", "2/13/2003", false, "2003-02-13", ""},    // the value that decided the column
		{"day first, with midnight", "1/2/2003 0:00", true, "2003-02-01", ""}, // the time dropped
		{"29 February", "29/2/2004", true, "2004-02-29", ""},                  // converted; Date judges it
		{"zeros", "0/0/2003", true, "2003-00-00", ""},                         // converted; Date refuses it

		{"month over 12, day first", "2/13/2003", true, "", "cannot be read as DD/MM/YYYY like the rest of the column"}, // the column is mixed
		{"month over 12, month first", "13/2/2003", false, "", "cannot be read as MM/DD/YYYY"},                          // the column is mixed
		{"a time", "1/2/2003 14:00", true, "", "has a time of day"},                                                     // not midnight
		{"two-digit year", "1/2/03", true, "", "has a two-digit year"},                                                  // which century?
		{"another form", "2003-02-01", true, "", "is not a date in the form DD/MM/YYYY like the rest of the column"},    // the column mixes forms
		{"another form, month first", "01.02.2003", false, "", "is not a date in the form MM/DD/YYYY"},                  // as above
		{"not a date", "soon", true, "", "is not a date in the form DD/MM/YYYY"},                                        // words
		{"empty", "", true, "", "is empty"},                                                                             // the caller skips empty fields
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := validate.ParseSlashed(tt.in, tt.dayFirst)
			call := fmt.Sprintf("ParseSlashed(%q, %v)", tt.in, tt.dayFirst)
			if got != tt.want {
				t.Errorf("%s = %q, want %q", call, got, tt.want)
			}
			if tt.wantReason == "" {
				if err != nil {
					t.Errorf("%s error = %v, want nil", call, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantReason) {
				t.Fatalf("%s error = %v, want one containing %q", call, err, tt.wantReason)
			}
			dateFormDigitFree(t, call, err)
		})
	}
}

// TestErrSlashedDate checks the reason a caller reports when no value of a
// slashed column decides it.
func TestErrSlashedDate(t *testing.T) {
	p := mustProblem(t, validate.ErrSlashedDate)
	for _, want := range []string{"a/b/YYYY", "day/month", "month/day", "YYYY-MM-DD"} {
		if !strings.Contains(p.Reason, want) {
			t.Errorf("ErrSlashedDate reason = %q, want it to contain %q", p.Reason, want)
		}
	}
}

// ExampleSlashedParts decides how a slashed column is written from its
// values, then reads every value that one way.
func ExampleSlashedParts() {
	column := []string{"3/4/2001", "12/25/1999", "7/8/1985"}
	dayFirst, monthFirst := false, false
	for _, v := range column {
		if a, b, _, ok := validate.SlashedParts(v); ok {
			dayFirst = dayFirst || a > 12
			monthFirst = monthFirst || b > 12
		}
	}
	if dayFirst == monthFirst {
		fmt.Println(validate.ErrSlashedDate) // undecided or mixed
		return
	}
	for _, v := range column {
		iso, err := validate.ParseSlashed(v, dayFirst)
		fmt.Println(iso, err)
	}
	// Output:
	// 2001-03-04 <nil>
	// 1999-12-25 <nil>
	// 1985-07-08 <nil>
}

func FuzzParseDateForm(f *testing.F) {
	for _, seed := range []string{
		"2003-02-01", "2003-02-01T00:00:00.000Z", "2003-02-01 12:30", "01.02.2003", "1.2.2003 0:00",
		"2003.02.01", "2003/02/01", "01-02-2003", "01/02/2003", "13/2/2003 00:00", "01.02.03",
		"37653", "20030201", "", "2003-02-01T00:00:00+01:00", "1//2003", "\uFF12003-02-01",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iso, form, err := validate.ParseDateForm(s)
		_, _, _, slashed := validate.SlashedParts(s)
		if slashed != errors.Is(err, validate.ErrSlashedDate) {
			t.Fatalf("SlashedParts(%q) ok = %v, but ParseDateForm returned %v", s, slashed, err)
		}
		if err != nil {
			if iso != "" || form != "" {
				t.Fatalf("ParseDateForm(%q) = %q, %q with an error", s, iso, form)
			}
			dateFormDigitFree(t, fmt.Sprintf("ParseDateForm(%q)", s), err)
		} else {
			// The shape Date's default layout reads; the form never holds a
			// digit other than the zeros of midnight.
			if len(iso) != 10 || iso[4] != '-' || iso[7] != '-' || strings.Trim(iso[:4]+iso[5:7]+iso[8:], "0123456789") != "" {
				t.Fatalf("ParseDateForm(%q) iso = %q, not YYYY-MM-DD", s, iso)
			}
			if strings.ContainsAny(form, "123456789") {
				t.Fatalf("ParseDateForm(%q) form = %q holds a digit of the value", s, form)
			}
			if (form == "") != (strings.TrimSpace(s) == iso) {
				t.Fatalf("ParseDateForm(%q) form = %q, but the value was %s YYYY-MM-DD", s, form,
					map[bool]string{true: "already", false: "not"}[strings.TrimSpace(s) == iso])
			}
		}
		for _, dayFirst := range []bool{true, false} {
			iso, err := validate.ParseSlashed(s, dayFirst)
			if err != nil {
				dateFormDigitFree(t, fmt.Sprintf("ParseSlashed(%q, %v)", s, dayFirst), err)
			} else if !slashed || len(iso) != 10 {
				t.Fatalf("ParseSlashed(%q, %v) = %q, for a value SlashedParts does not split", s, dayFirst, iso)
			}
		}
	})
}
