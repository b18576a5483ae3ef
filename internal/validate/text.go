package validate

import "unicode"

// MaxLen holds the maximum length, in runes, of each free-text request
// field, keyed by its JSON name. P100 does not publish limits; these are the
// project's conservative choice. Treat the map as read-only.
var MaxLen = map[string]int{
	"externalUserId": 100,
	"email":          254,
	"firstName":      100,
	"lastName":       100,
	"address":        200,
	"city":           100,
	"documentNumber": 50,
}

// Text checks a free-text field: valid UTF-8, no control characters
// (anything unicode.IsControl reports, tab and newline included), and at most
// max runes. Positions in reasons count from 1: "is not valid UTF-8 at byte
// 12", "contains a control character (U+0007) at character 5", "is 301
// characters long, the limit is 200". The value itself is never repeated. An
// empty string passes: whether a field is required is the caller's rule.
func Text(s string, max int) error {
	if i := invalidUTF8At(s); i >= 0 {
		return problemf("is not valid UTF-8 at byte %d", i+1)
	}
	n := 0
	for _, r := range s {
		n++
		if unicode.IsControl(r) {
			return problemf("contains a control character (U+%04X) at character %d", r, n)
		}
	}
	if n > max {
		unit := "characters"
		if n == 1 {
			unit = "character"
		}
		return problemf("is %d %s long, the limit is %d", n, unit, max)
	}
	return nil
}
