package validate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/validate"
)

func TestDate(t *testing.T) {
	// now is fixed: 15 March 2026, mid-afternoon in Warsaw (UTC+1 in winter).
	warsaw := time.FixedZone("CET", 60*60)
	now := time.Date(2026, 3, 15, 15, 0, 0, 0, warsaw)
	// lateUTC is 23:30 UTC on 15 March, already 16 March two hours east.
	lateUTC := time.Date(2026, 3, 15, 23, 30, 0, 0, time.UTC)

	tests := []struct {
		name       string
		in         string
		layout     string
		now        time.Time // zero means now
		want       string    // the formatted date when accepted
		wantReason string    // a fragment of the reason when refused
	}{
		{"plain", "2000-01-01", "", time.Time{}, "2000-01-01", ""},                                                     // the documented example
		{"padded", " 2000-01-01\t", "", time.Time{}, "2000-01-01", ""},                                                 // surrounding white space is trimmed
		{"leap day 2024", "2024-02-29", "", time.Time{}, "2024-02-29", ""},                                             // 2024 is a leap year
		{"leap day 2000", "2000-02-29", "", time.Time{}, "2000-02-29", ""},                                             // divisible by 400: leap
		{"no leap day 2023", "2023-02-29", "", time.Time{}, "", "not a real calendar date"},                            // 2023 is a common year
		{"no leap day 1900", "1900-02-29", "", time.Time{}, "", "not a real calendar date"},                            // divisible by 100, not 400
		{"30 February", "2023-02-30", "", time.Time{}, "", "not a real calendar date"},                                 // no such day in any year
		{"month 13", "2000-13-01", "", time.Time{}, "", "not a real calendar date"},                                    // no such month
		{"today", "2026-03-15", "", time.Time{}, "2026-03-15", ""},                                                     // age 0 is allowed
		{"tomorrow", "2026-03-16", "", time.Time{}, "", "2026-03-16 is in the future"},                                 // one day too late
		{"far future", "2031-01-01", "", time.Time{}, "", "2031-01-01 is in the future"},                               // the example reason
		{"exactly 130 years", "1896-03-15", "", time.Time{}, "1896-03-15", ""},                                         // the 130th birthday is today: still accepted
		{"130 years and a day", "1896-03-14", "", time.Time{}, "", "1896-03-14 is more than 130 years ago"},            // one day too old
		{"1850", "1850-01-01", "", time.Time{}, "", "1850-01-01 is more than 130 years ago"},                           // the example reason
		{"now's location east", "2026-03-16", "", lateUTC.In(time.FixedZone("EET", 2*60*60)), "2026-03-16", ""},        // it is already the 16th there
		{"now's location UTC", "2026-03-16", "", lateUTC, "", "is in the future"},                                      // same instant, still the 15th in UTC
		{"custom layout", "14.05.1944", "02.01.2006", time.Time{}, "1944-05-14", ""},                                   // converted to YYYY-MM-DD
		{"custom layout leap", "29.02.2000", "02.01.2006", time.Time{}, "2000-02-29", ""},                              // range checks apply to any layout
		{"custom layout wrong form", "1944-05-14", "02.01.2006", time.Time{}, "", "not a date in the form DD.MM.YYYY"}, // the reason names the expected form
		{"garbage", "yesterday", "", time.Time{}, "", "not a date in the form YYYY-MM-DD"},                             // not a date at all
		{"single digit month", "2000-1-01", "", time.Time{}, "", "not a date in the form YYYY-MM-DD"},                  // the layout wants two digits
		{"with a time", "2000-01-01T10:00:00", "", time.Time{}, "", "not a date in the form YYYY-MM-DD"},               // extra text is refused
		{"slashes", "2000/01/01", "", time.Time{}, "", "not a date in the form YYYY-MM-DD"},                            // wrong separators
		{"empty", "", "", time.Time{}, "", "is empty"},                                                                 // nothing to parse
		{"a PESEL in the wrong column", "44051401359", "", time.Time{}, "", "not a date"},                              // refused without repeating it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.now
			if n.IsZero() {
				n = now
			}
			got, err := validate.Date(tt.in, tt.layout, n)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("Date(%q, %q) = %v, want %q", tt.in, tt.layout, err, tt.want)
				}
				if got != tt.want {
					t.Errorf("Date(%q, %q) = %q, want %q", tt.in, tt.layout, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Date(%q, %q) = %q, want refused with %q", tt.in, tt.layout, got, tt.wantReason)
			}
			if got != "" {
				t.Errorf("Date(%q, %q) returned %q with an error, want empty", tt.in, tt.layout, got)
			}
			reason := mustProblem(t, err).Reason
			if !strings.Contains(reason, tt.wantReason) {
				t.Errorf("Date(%q, %q) reason = %q, want it to contain %q", tt.in, tt.layout, reason, tt.wantReason)
			}
			if strings.Contains(tt.wantReason, "not a date") && len(tt.in) >= 4 && strings.Contains(reason, tt.in) {
				t.Errorf("Date(%q) reason %q repeats a value that is not a date", tt.in, reason)
			}
		})
	}
}
