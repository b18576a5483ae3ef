package validate

import (
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

// Country checks an ISO 3166-1 alpha-2 code against the table of all 249
// officially assigned codes and returns the code to send to P100. The input
// is trimmed and upper-cased first, so " pl " is accepted as PL.
//
// P100's territory rule: GP, GF, MQ, RE and MF are sent as FR, and SJ is sent
// as NO. For those, canonical is the code sent and note says so, e.g.
// "RE (Réunion) is sent as FR"; for every other code note is empty.
func Country(code string) (canonical string, note string, err error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	switch n := utf8.RuneCountInString(c); {
	case n == 0:
		return "", "", problemf("is empty; use a two-letter ISO 3166-1 code such as PL")
	case n != 2:
		return "", "", problemf("must be a two-letter ISO 3166-1 code such as PL, found %d characters", n)
	case !isASCIIUpper(c[0]) || !isASCIIUpper(c[1]):
		return "", "", problemf("must be two letters A-Z, such as PL")
	}
	name, ok := lookupCountry(c)
	if !ok {
		reason := fmt.Sprintf("%s is not an assigned ISO 3166-1 alpha-2 code", c)
		switch c {
		case "UK":
			reason += "; the United Kingdom is GB"
		case "EL":
			reason += "; Greece is GR"
		}
		return "", "", Problem{Reason: reason}
	}
	if to := sentAs(c); to != "" {
		return to, fmt.Sprintf("%s (%s) is sent as %s", c, name, to), nil
	}
	return c, "", nil
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
	i, ok := slices.BinarySearchFunc(countries[:], code, func(c country, code string) int {
		return strings.Compare(c.code, code)
	})
	if !ok {
		return "", false
	}
	return countries[i].name, true
}

func isASCIIUpper(b byte) bool { return 'A' <= b && b <= 'Z' }
