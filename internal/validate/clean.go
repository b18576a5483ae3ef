package validate

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CleanCode tidies a value that is compared character by character: an
// identifier, an e-mail address, a document number, a code or a number.
//
// It removes, anywhere in s, every character a spreadsheet or a copy from a
// web page or PDF leaves behind without showing it: the format characters
// (Unicode category Cf: zero-width space, non-joiner and joiner U+200B-U+200D,
// word joiner U+2060, byte order mark U+FEFF, soft hyphen U+00AD, the
// bidirectional marks, embeddings and isolates U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069 and U+061C, and the rest of Cf) and the no-break spaces
// U+00A0, U+2007 and U+202F (the Polish thousands separator, so "1 234"
// with one becomes "1234"). It then trims white space at both ends and puts
// the result in Unicode normalisation form NFC, so that an "ó" typed as "o"
// plus a combining accent equals the precomposed one.
//
// The characters are removed before normalising, not after: a zero-width
// character between a letter and its accent keeps them from composing, and
// removing it later would leave a string that is not NFC.
//
// changed reports whether an invisible character was removed; normalising
// and trimming white space at the ends do not count, so a caller can note
// "invisible characters removed" exactly when it is true. Other characters
// (control characters, other spaces) are left for [Text] and [Email] to
// refuse with their position. Invalid UTF-8 is returned unchanged, so that
// the caller's check reports the byte where it starts.
//
// Input with nothing to remove that is NFC already (plain ASCII always is)
// allocates nothing; plain ASCII costs one pass over its bytes.
func CleanCode(s string) (clean string, changed bool) { return cleanString(s, false) }

// CleanText tidies free text a person reads: a name, an address, a city.
//
// Like [CleanCode] it removes the format characters (Unicode category Cf:
// zero-width, bidirectional, soft hyphen, byte order mark) anywhere, trims
// white space at both ends and returns NFC; unlike it, a no-break space
// (U+00A0, U+2007, U+202F) becomes an ordinary space, since between two
// words it is a space. Inner spacing is otherwise kept as written.
//
// changed reports whether a format character was removed or a no-break space
// replaced. Invalid UTF-8 is returned unchanged.
func CleanText(s string) (clean string, changed bool) { return cleanString(s, true) }

// cleanString is CleanCode (text false) and CleanText (text true).
func cleanString(s string, text bool) (string, bool) {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		// ASCII holds no format character, no no-break space, and is NFC.
		return strings.TrimSpace(s), false
	}
	if cleanLatinOnly(s[i:]) {
		// Letters of Latin-1 and Latin Extended-A (U+00C0-U+017F: the
		// Polish, German and French ones) are precomposed and invisible
		// characters are none of them: already clean and NFC.
		return strings.TrimSpace(s), false
	}
	if !utf8.ValidString(s) {
		return s, false
	}
	j := strings.IndexFunc(s[i:], cleanInvisible)
	if j < 0 {
		// String returns its argument, without allocating, when a quick
		// check finds it NFC (IsNormalString would allocate).
		return norm.NFC.String(strings.TrimSpace(s)), false
	}
	i += j
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		switch {
		case cleanNoBreakSpace(r):
			if text {
				b.WriteByte(' ')
			}
		case unicode.Is(unicode.Cf, r):
		default:
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(strings.TrimSpace(b.String())), true
}

// cleanInvisible reports whether r is a character CleanCode removes.
func cleanInvisible(r rune) bool {
	return cleanNoBreakSpace(r) || unicode.Is(unicode.Cf, r)
}

// cleanNoBreakSpace reports whether r is a no-break space.
func cleanNoBreakSpace(r rune) bool {
	return r == '\u00A0' || r == '\u2007' || r == '\u202F'
}

// cleanLatinOnly reports whether every non-ASCII character of s is valid
// UTF-8 in U+00C0-U+017F (lead bytes 0xC3-0xC5). Such a string has no
// invisible character and no combining mark, so it is clean and NFC.
func cleanLatinOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			continue
		}
		if c < 0xC3 || c > 0xC5 || i+1 >= len(s) || s[i+1]&0xC0 != 0x80 {
			return false
		}
		i++
	}
	return true
}
