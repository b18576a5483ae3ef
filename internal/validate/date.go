package validate

import (
	"errors"
	"strings"
	"time"
)

// isoDate is the layout of dates sent to P100 and the default input layout.
const isoDate = "2006-01-02"

// maxAgeYears is the oldest age, in years, a birth date may imply.
const maxAgeYears = 130

// Date parses s with layout (a Go time layout; "" means "2006-01-02") and
// returns the date formatted as 2006-01-02. Surrounding white space is
// trimmed first.
//
// The date must be a real calendar date (no 2023-02-30), must not be after
// now's date (in now's location), and must not be more than 130 years
// before it: the same day 130 years ago is the earliest date accepted.
// Reasons read e.g. "is not a date in the form YYYY-MM-DD",
// "2031-01-01 is in the future" or "1850-01-01 is more than 130 years ago".
// A value that is not a date is never repeated in the reason.
//
// Layouts with a two-digit year ("06") follow Go's rule (69-99 are 19xx,
// 00-68 are 20xx), which is rarely right for birth dates; prefer four digits.
func Date(s, layout string, now time.Time) (string, error) {
	if layout == "" {
		layout = isoDate
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", problemf("is empty; expected a date in the form %s", describeLayout(layout))
	}
	t, err := time.ParseInLocation(layout, s, now.Location())
	if err != nil {
		var pe *time.ParseError
		if errors.As(err, &pe) && strings.HasSuffix(pe.Message, " out of range") {
			// Go reports a well-formed but impossible date (month 13,
			// 30 February) as ": month out of range", ": day out of range".
			// The message never holds the input; other messages may
			// (": extra text: ..."), so they are not passed on.
			return "", problemf("is not a real calendar date (%s); expected the form %s",
				strings.TrimPrefix(pe.Message, ": "), describeLayout(layout))
		}
		return "", problemf("is not a date in the form %s", describeLayout(layout))
	}
	y, m, d := t.Date()
	ny, nm, nd := now.Date()
	out := t.Format(isoDate)
	if dateAfter(y, m, d, ny, nm, nd) {
		return "", problemf("%s is in the future", out)
	}
	if dateAfter(ny-maxAgeYears, nm, nd, y, m, d) {
		return "", problemf("%s is more than %d years ago", out, maxAgeYears)
	}
	return out, nil
}

// dateAfter reports whether the calendar date y1-m1-d1 comes after y2-m2-d2.
// It compares fields, so an unnormalised date (29 February of a common year)
// sorts where it is written.
func dateAfter(y1 int, m1 time.Month, d1, y2 int, m2 time.Month, d2 int) bool {
	if y1 != y2 {
		return y1 > y2
	}
	if m1 != m2 {
		return m1 > m2
	}
	return d1 > d2
}

// describeLayout turns a Go layout such as "02.01.2006" into "DD.MM.YYYY",
// for reasons only. Longer elements come first because a Replacer tries its
// pairs in argument order at each position.
func describeLayout(layout string) string {
	return strings.NewReplacer(
		"2006", "YYYY",
		"January", "MMMM",
		"Jan", "MMM",
		"01", "MM",
		"02", "DD",
		"_2", "DD",
		"06", "YY",
		"1", "M",
		"2", "D",
	).Replace(layout)
}
