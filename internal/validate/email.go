package validate

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of an address. The address and its local part are measured in bytes
// of their UTF-8 form (RFC 5321 section 4.5.3.1: a 256-byte path less its
// angle brackets, a 64-byte local part); a domain label in characters, since
// a U-label's length on the wire (as punycode) is not computed here.
const (
	maxEmailBytes = 254
	maxLocalBytes = 64
	maxLabelChars = 63
)

// Email checks that s is a plain e-mail address, nothing more: no display
// name and no angle brackets ("John <j@x.pl>" is refused), no white space or
// control characters anywhere, exactly one '@', and at most 254 bytes.
//
// The local part (before the '@') is 1 to 64 bytes of RFC 5322 dot-atom: the
// ASCII letters, digits and !#$%&'*+-/=?^_`{|}~, separated by single dots
// that neither start nor end it. Quoted local parts ("a b"@x.pl) are refused.
// Non-ASCII letters, digits and marks are allowed too (RFC 6531, so
// zażółć@gęślą.pl passes): P100's documentation does not say, names may be
// non-ASCII, and a refusal here loses the user for certain while P100 can
// still refuse with P403 on its own.
//
// The domain has at least one dot; each label is letters, digits and
// hyphens, neither starting nor ending with a hyphen, at most 63 characters
// (letters may be non-ASCII: internationalised U-labels are accepted as
// written, without converting them to punycode); the last label is not all
// digits, so IP addresses are refused.
//
// Reasons never repeat the address.
func Email(s string) error {
	if s == "" {
		return problemf("is empty")
	}
	if i := invalidUTF8At(s); i >= 0 {
		return problemf("is not valid UTF-8 at byte %d", i+1)
	}
	if strings.ContainsAny(s, "<>") {
		return problemf("must be a plain address like name@example.com, without a display name or angle brackets")
	}
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case unicode.IsControl(r):
			return problemf("contains a control character (U+%04X) at character %d", r, pos)
		case unicode.IsSpace(r):
			return problemf("contains a space at character %d", pos)
		}
	}
	if len(s) > maxEmailBytes {
		return problemf("is %d bytes long, the limit is %d", len(s), maxEmailBytes)
	}
	if n := strings.Count(s, "@"); n == 0 {
		return problemf("has no @")
	} else if n > 1 {
		return problemf("has %d @ signs, it must have exactly one", n)
	}
	local, domain, _ := strings.Cut(s, "@")
	if err := emailLocal(local); err != nil {
		return err
	}
	return emailDomain(domain, utf8.RuneCountInString(local)+1)
}

// emailLocal checks the part before the '@'.
func emailLocal(local string) error {
	switch {
	case local == "":
		return problemf("has nothing before the @")
	case len(local) > maxLocalBytes:
		return problemf("the part before the @ is %d bytes long, the limit is %d", len(local), maxLocalBytes)
	case local[0] == '.':
		return problemf("the part before the @ starts with a dot")
	case local[len(local)-1] == '.':
		return problemf("the part before the @ ends with a dot")
	case strings.Contains(local, ".."):
		return problemf("the part before the @ has two dots in a row")
	}
	pos := 0
	for _, r := range local {
		pos++
		if r != '.' && !isAtext(r) {
			return problemf("the character %q at character %d is not allowed before the @", r, pos)
		}
	}
	return nil
}

// emailDomain checks the part after the '@'; before is the number of
// characters ahead of it in the address, for positions in reasons.
func emailDomain(domain string, before int) error {
	switch {
	case domain == "":
		return problemf("has nothing after the @")
	case !strings.Contains(domain, "."):
		return problemf("the domain has no dot")
	case domain[0] == '.':
		return problemf("the domain starts with a dot")
	case domain[len(domain)-1] == '.':
		return problemf("the domain ends with a dot")
	case strings.Contains(domain, ".."):
		return problemf("the domain has two dots in a row")
	}
	pos := before
	labels := strings.Split(domain, ".")
	for _, label := range labels {
		switch {
		case label[0] == '-':
			return problemf("a domain label starts with a hyphen")
		case label[len(label)-1] == '-':
			return problemf("a domain label ends with a hyphen")
		}
		n := 0
		for _, r := range label {
			n++
			if r != '-' && !isLabelRune(r) {
				return problemf("the character %q at character %d is not allowed in the domain", r, pos+n)
			}
		}
		if n > maxLabelChars {
			return problemf("a domain label is %d characters long, the limit is %d", n, maxLabelChars)
		}
		pos += n + 1 // the label and its dot
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return problemf("the domain ends in a number; use a domain name, not an IP address")
	}
	return nil
}

// isAtext reports whether r may appear in a dot-atom local part, other than
// the dot: RFC 5322 atext, plus non-ASCII letters, digits and marks.
func isAtext(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return isASCIIAlnum(r) || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
	default:
		return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
	}
}

// isLabelRune reports whether r may appear in a domain label, other than the
// hyphen: ASCII letters and digits, and non-ASCII letters, digits and marks.
func isLabelRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// invalidUTF8At returns the byte offset of the first invalid UTF-8 sequence
// in s, or -1 if s is valid.
func invalidUTF8At(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return -1
}
