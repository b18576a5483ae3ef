package validate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Problem is why a value is refused, in words a person can act on. It never
// contains a PESEL or document number in full.
//
// The functions of this package return it as an error value (not a pointer),
// so a caller recovers it with:
//
//	var p validate.Problem
//	if errors.As(err, &p) { ... p.Reason ... }
type Problem struct{ Reason string }

// Error returns the Reason.
func (p Problem) Error() string { return p.Reason }

// problemf builds a Problem from a format and its arguments.
func problemf(format string, args ...any) error {
	return Problem{Reason: fmt.Sprintf(format, args...)}
}

// Mask hides all but the last 3 characters (runes) of s with '*', so that
// Mask("CEV124630") == "******630". Strings of 3 runes or fewer are fully
// masked; the result always has as many runes as s.
func Mask(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 3 {
		return strings.Repeat("*", n)
	}
	var b strings.Builder
	b.Grow(n)
	i := 0
	for _, r := range s {
		if i < n-3 {
			b.WriteByte('*')
		} else {
			b.WriteRune(r)
		}
		i++
	}
	return b.String()
}
