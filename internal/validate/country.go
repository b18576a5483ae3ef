package validate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// country is one row of the ISO 3166-1 table in countries.go.
type country struct {
	code string // alpha-2, upper case
	name string // ISO 3166-1 English short name
}

// Country reads a country and returns the ISO 3166-1 alpha-2 code to send to
// P100. The input is trimmed first, and case does not matter.
//
// A two-letter value is a code, checked against the table of all 249
// officially assigned codes: " pl " is accepted as PL with no note. The one
// exception is UK, which is reserved, not assigned, but is what people write
// for the United Kingdom: it is read as GB, with a note.
//
// Any other value is read as an ISO 3166-1 alpha-3 code (POL) or as a
// country's name in English, Polish, German or its own language ("Polska",
// "Deutschland", "Česko", "Україна"), with or without diacritics
// ("Osterreich"), and a few common short forms ("USA", "U.S.A.", "Czech
// Republic", "Holland"). Then note says what was read, e.g. `"Polska" read
// as PL`, quoting at most 40 characters. A name that could be two countries
// ("Congo") is refused naming both; an unknown name is refused, suggesting
// the code of a name at most one or two typing mistakes away (see
// countryMaxEdits).
//
// P100's territory rule: GP, GF, MQ, RE and MF are sent as FR, and SJ is sent
// as NO. For those, canonical is the code sent and note says so, e.g.
// "RE (Réunion) is sent as FR", or for a name `"Réunion" read as RE
// (Réunion), which is sent as FR`. For every other code note is empty.
func Country(s string) (canonical string, note string, err error) {
	c := strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(c); {
	case n == 0:
		return "", "", problemf("is empty; use a two-letter ISO 3166-1 code such as PL")
	case n == 2 && countryIsASCIILetter(c[0]) && countryIsASCIILetter(c[1]):
		return countryCode(c)
	case n == 1:
		return countryByName(c, problemf("must be a two-letter ISO 3166-1 code such as PL, found %d characters", n))
	case n == 2:
		return countryByName(c, problemf("must be two letters A-Z, such as PL"))
	default:
		return countryByName(c, nil)
	}
}

// countryCode checks c, two ASCII letters in any case, as an alpha-2 code.
// It never builds the name table, and allocates nothing for an assigned code.
func countryCode(c string) (canonical string, note string, err error) {
	i, ok := countryIndex(c[0]&^0x20, c[1]&^0x20) // upper case
	if !ok {
		code := strings.ToUpper(c)
		reason := fmt.Sprintf("%s is not an assigned ISO 3166-1 alpha-2 code", code)
		switch code {
		case "UK":
			return countryRead(c, "GB")
		case "EL":
			reason += "; Greece is GR"
		}
		return "", "", Problem{Reason: reason}
	}
	code := countries[i].code
	if to := sentAs(code); to != "" {
		return to, fmt.Sprintf("%s (%s) is sent as %s", code, countries[i].name, to), nil
	}
	return code, "", nil
}

// CountryName returns the ISO 3166-1 English short name of an assigned
// alpha-2 code, e.g. "Poland" for PL, and whether the code is assigned. The
// input is trimmed and upper-cased first, as in [Country].
func CountryName(code string) (string, bool) {
	return lookupCountry(strings.ToUpper(strings.TrimSpace(code)))
}

// sentAs is P100's territory rule: the code a territory is sent as, or "" if
// the code is sent unchanged.
func sentAs(code string) string {
	switch code {
	case "GP", "GF", "MQ", "RE", "MF":
		return "FR"
	case "SJ":
		return "NO"
	}
	return ""
}

// lookupCountry finds an upper-case code in the sorted table.
func lookupCountry(code string) (string, bool) {
	if len(code) != 2 {
		return "", false
	}
	i, ok := countryIndex(code[0], code[1])
	if !ok {
		return "", false
	}
	return countries[i].name, true
}

// countryIndex finds the code of the upper-case letters a and b in the sorted
// table.
func countryIndex(a, b byte) (int, bool) {
	return slices.BinarySearchFunc(countries[:], [2]byte{a, b}, func(c country, t [2]byte) int {
		return cmp.Or(cmp.Compare(c.code[0], t[0]), cmp.Compare(c.code[1], t[1]))
	})
}
