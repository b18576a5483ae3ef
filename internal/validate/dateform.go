package validate

import (
	"strconv"
	"strings"
)

// ErrSlashedDate is what [ParseDateForm] returns for a date written a/b/YYYY,
// which may be day/month or month/day. The caller decides per column with
// [SlashedParts] and parses it with [ParseSlashed]; when no value in the
// column decides, this is the problem to report. It is a [Problem], so
// errors.As finds its reason.
var ErrSlashedDate error = Problem{Reason: "is in the form a/b/YYYY, which may be day/month/year or month/day/year, " +
	"and no value in the column tells which: export the column as YYYY-MM-DD"}

// ParseDateForm converts a birth date in one of the forms spreadsheets write
// to YYYY-MM-DD, for files read without a --date-format. It converts the
// form only: whether the date is real, not in the future and at most 130
// years ago is [Date]'s job, so the caller runs Date(iso, "", now) after it
// (a 30 February comes back as "...-02-30" for Date to refuse).
//
// Accepted dates, with day and month of one or two digits and the year of
// four:
//
//	YYYY-MM-DD   the API's form; form is "" when it has nothing else
//	DD.MM.YYYY   D.M.YYYY too (the Polish and German form)
//	YYYY.MM.DD
//	YYYY/MM/DD
//	DD-MM-YYYY   read day first: the month-first American form uses slashes
//
// Any of them may be followed by a space and a time of day, which must be
// midnight: H:MM, HH:MM or HH:MM:SS, optionally with a fraction of a second
// and a final Z ("2003-02-01 00:00:00", "01.02.2003 0:00"); YYYY-MM-DD may
// also be followed by T and one ("2003-02-01T00:00:00.000Z"). Any other
// time is refused, since a birth date with a time was often shifted by a
// time zone on its way (midnight in Warsaw is 23:00 the day before in UTC),
// and which day was meant cannot be told. Time-zone offsets other than Z
// are not accepted.
//
// form names what was converted, for a note such as "date form DD.MM.YYYY
// converted": the date's layout in letters ("DD.MM.YYYY", "D.M.YYYY") with
// the time as written, which is all zeros ("YYYY-MM-DD 00:00:00",
// "YYYY-MM-DDT00:00:00.000Z"). It is "" when s was already YYYY-MM-DD.
//
// A date written a/b/YYYY is ambiguous (1/2/2003 is 1 February in Poland
// and January 2 in the United States), so ParseDateForm returns
// [ErrSlashedDate] for it, for every such value, even one like 13/2/2003
// that only one reading fits: a column is read one way. The caller decides
// per column with [SlashedParts] and parses with [ParseSlashed].
//
// A year of two digits (01.02.03) is refused, as is a number alone (a date
// the spreadsheet stored as its serial day count). Surrounding white space
// is trimmed. Reasons never repeat the value, a birth date being personal
// data; they name the forms expected.
func ParseDateForm(s string) (iso, form string, err error) {
	if dateFormPlainISO(s) {
		return s, "", nil // the API's own form, the common case: Date checks it
	}
	p, known, err := dateFormSplit(strings.TrimSpace(s))
	switch {
	case err != nil:
		return "", "", err
	case !known:
		return "", "", problemf("is not a date in a known form: %s", dateFormExpected)
	case p.sep == '/' && !p.yearFirst:
		return "", "", ErrSlashedDate
	case !p.midnight:
		return "", "", dateFormTimeOfDay()
	}
	if p.yearFirst {
		iso = dateFormISO(p.g[0], p.g[1], p.g[2])
		form = "YYYY" + string(p.sep) + dateFormLetters(p.g[1], "M") + string(p.sep) + dateFormLetters(p.g[2], "D")
	} else {
		iso = dateFormISO(p.g[2], p.g[1], p.g[0])
		form = dateFormLetters(p.g[0], "D") + string(p.sep) + dateFormLetters(p.g[1], "M") + string(p.sep) + "YYYY"
	}
	if p.clock != "" {
		form += string(p.timeSep) + p.clock
	}
	if form == "YYYY-MM-DD" {
		form = ""
	}
	return iso, form, nil
}

// SlashedParts splits a date written a/b/YYYY (a and b of one or two digits,
// optionally followed by a time of day as [ParseDateForm] accepts it) into
// its numbers. ok is false for anything else, and is true exactly when
// ParseDateForm returns [ErrSlashedDate].
//
// A column in which some value has a > 12 is written day first; one in which
// some value has b > 12 is written month first; a column with both is
// inconsistent, and one with neither cannot be decided.
func SlashedParts(s string) (a, b, year int, ok bool) {
	p, known, err := dateFormSplit(strings.TrimSpace(s))
	if err != nil || !known || p.sep != '/' || p.yearFirst {
		return 0, 0, 0, false
	}
	a, _ = strconv.Atoi(p.g[0])
	b, _ = strconv.Atoi(p.g[1])
	year, _ = strconv.Atoi(p.g[2])
	return a, b, year, true
}

// ParseSlashed converts a date written a/b/YYYY to YYYY-MM-DD, reading it as
// DD/MM/YYYY when dayFirst is true and as MM/DD/YYYY otherwise. A time of
// day must be midnight, as in [ParseDateForm]. A value whose month would be
// over 12 in the reading asked for is refused as not fitting the column;
// every other check of the date is left to [Date]. Reasons never repeat the
// value.
func ParseSlashed(s string, dayFirst bool) (string, error) {
	want := "MM/DD/YYYY"
	if dayFirst {
		want = "DD/MM/YYYY"
	}
	p, known, err := dateFormSplit(strings.TrimSpace(s))
	switch {
	case err != nil:
		return "", err
	case !known || p.sep != '/' || p.yearFirst:
		return "", problemf("is not a date in the form %s like the rest of the column", want)
	}
	if !p.midnight {
		return "", dateFormTimeOfDay()
	}
	day, month := p.g[1], p.g[0]
	if dayFirst {
		day, month = month, day
	}
	if m, _ := strconv.Atoi(month); m > 12 {
		return "", problemf("cannot be read as %s like the rest of the column (read so, its month does not exist): "+
			"check the value, and export the column as YYYY-MM-DD", want)
	}
	return dateFormISO(p.g[2], month, day), nil
}

// dateFormParts is a date split into its pieces by dateFormSplit.
type dateFormParts struct {
	g         [3]string // the three digit groups, as written
	sep       byte      // the separator between them: '-', '.' or '/'
	yearFirst bool      // g[0] is the year; otherwise g[2] is
	timeSep   byte      // ' ' or 'T' before the clock
	clock     string    // the time of day as written, or ""
	midnight  bool      // the clock is absent or all zeros
}

// dateFormExpected lists the forms ParseDateForm converts, for reasons.
const dateFormExpected = "use YYYY-MM-DD (DD.MM.YYYY, YYYY.MM.DD, YYYY/MM/DD and DD-MM-YYYY are converted)"

// dateFormSplit splits s into a date of three digit groups and an optional
// time of day. known is false, with a nil error, for a value in no known
// form; a year of two digits, a number alone and an empty value get a
// reason.
func dateFormSplit(s string) (p dateFormParts, known bool, err error) {
	if s == "" {
		return p, false, problemf("is empty; expected a date: %s", dateFormExpected)
	}
	i := 0
	for k := range p.g {
		start := i
		i = repairSkipDigits(s, i)
		if i == start {
			return p, false, nil
		}
		p.g[k] = s[start:i]
		if k == 0 && i == len(s) && len(s) <= 5 {
			return p, false, problemf("is a number, not a date: the spreadsheet probably stored the date as a day count; " +
				"format the column as a date in the form YYYY-MM-DD and export the file again")
		}
		if k < 2 {
			if i == len(s) || (k == 0 && !strings.ContainsRune("-./", rune(s[i]))) || (k == 1 && s[i] != p.sep) {
				return p, false, nil
			}
			p.sep = s[i]
			i++
		}
	}
	short := func(g string) bool { return len(g) == 1 || len(g) == 2 }
	twoDigitYear := false
	switch {
	case len(p.g[0]) == 4 && short(p.g[1]) && short(p.g[2]):
		p.yearFirst = true
	case short(p.g[0]) && short(p.g[1]) && len(p.g[2]) == 4:
	case short(p.g[0]) && short(p.g[1]) && short(p.g[2]):
		twoDigitYear = true
	default:
		return p, false, nil
	}
	p.midnight = true
	if i < len(s) {
		p.timeSep = s[i]
		iso := p.yearFirst && p.sep == '-'
		if p.timeSep != ' ' && !(iso && p.timeSep == 'T') {
			return p, false, nil
		}
		p.clock = s[i+1:]
		var ok bool
		if p.midnight, ok = dateFormClock(p.clock, iso && p.timeSep == 'T'); !ok {
			return p, false, nil
		}
	}
	if twoDigitYear {
		return p, false, problemf("has a two-digit year: export the column with four-digit years, as YYYY-MM-DD")
	}
	return p, true, nil
}

// dateFormClock checks a time of day: H:MM or HH:MM, optionally :SS, then
// optionally a fraction of a second after the seconds, then optionally Z.
// It reports whether the form is right and whether the time is midnight.
// With twoDigitHour (after a T) the hour must have two digits.
func dateFormClock(c string, twoDigitHour bool) (midnight, ok bool) {
	c = strings.TrimSuffix(c, "Z")
	h := repairSkipDigits(c, 0)
	if h == 0 || h > 2 || (twoDigitHour && h != 2) {
		return false, false
	}
	i := h
	for k := 0; k < 2 && i < len(c) && c[i] == ':'; k++ {
		j := repairSkipDigits(c, i+1)
		if j-i != 3 {
			return false, false
		}
		i = j
		if k == 1 && i < len(c) && c[i] == '.' {
			j = repairSkipDigits(c, i+1)
			if j == i+1 {
				return false, false
			}
			i = j
		}
	}
	if i != len(c) || i == h {
		return false, false
	}
	return strings.Trim(c, "0:.") == "", true
}

// dateFormISO joins a four-digit year and a month and day of one or two
// digits as YYYY-MM-DD.
func dateFormISO(year, month, day string) string {
	return year + "-" + dateFormPad(month) + "-" + dateFormPad(day)
}

// dateFormPad puts a zero before a single digit.
func dateFormPad(g string) string {
	if len(g) == 1 {
		return "0" + g
	}
	return g
}

// dateFormLetters names a group of digits by its letter, once per digit:
// "D" or "DD".
func dateFormLetters(g, letter string) string { return strings.Repeat(letter, len(g)) }

// dateFormTimeOfDay is the reason for a date with a time other than midnight.
func dateFormTimeOfDay() error {
	return problemf("has a time of day: export the column as a date (YYYY-MM-DD); " +
		"a birth date with a time is often shifted by a time zone")
}

// dateFormPlainISO reports whether s is exactly DDDD-DD-DD.
func dateFormPlainISO(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i := 0; i < 10; i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
