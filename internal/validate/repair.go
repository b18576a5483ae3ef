package validate

import (
	"strings"
	"time"
)

// ErrScientific returns the problem of a value [ScientificNotation]
// reports. It is a [Problem], and equal to every other ErrScientific(), so
// errors.Is(err, ErrScientific()) tells it apart.
func ErrScientific() error {
	return Problem{Reason: "is in scientific notation: the spreadsheet cut the digits and they cannot be recovered; " +
		"format the column as Text (in Excel: select the column, Format Cells, Text) and export the file again"}
}

// UnwrapFormula undoes Excel's text-formula form, which keeps a number's
// leading zeros by writing it as a formula that yields text:
// `="02291320357"` becomes `02291320357`, and `=""` becomes the empty
// string. Doubled quotes inside stand for one (`="a""b"` is `a"b`).
//
// Only the exact form counts: an equals sign, a quote, the text, a quote,
// nothing around them (the caller trims first) and no lone quote inside
// (`="a"&"b"` is a real formula). Anything else is returned unchanged with
// ok false.
func UnwrapFormula(s string) (text string, ok bool) {
	if len(s) < 3 || s[0] != '=' || s[1] != '"' || s[len(s)-1] != '"' {
		return s, false
	}
	inner := s[2 : len(s)-1]
	if !strings.Contains(inner, `"`) {
		return inner, true
	}
	var b strings.Builder
	b.Grow(len(inner))
	for i := 0; i < len(inner); i++ {
		if inner[i] == '"' {
			if i+1 == len(inner) || inner[i+1] != '"' {
				return s, false
			}
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String(), true
}

// RestorePESEL puts back the leading zeros a spreadsheet dropped from a PESEL
// when it stored the column as a number. People born in 2000-2009 (and in
// 1900-1909) have a PESEL starting with 0, so Excel shows 10 digits; those
// born in 2000 have one starting with 00, so it shows 9.
//
// s is the field as written, birthDate the row's birth date as YYYY-MM-DD
// after [Date] accepted it, or "" if the row has none or it was refused.
//
// Anything but 9 or 10 ASCII digits, 11 digits included, is returned
// unchanged with a nil error, for [PESEL] to judge. For 9 or 10 digits the
// answer is either the number with its zeros restored, which the caller
// should note ("leading zero restored"), or an error: zeros are added up to
// 11 digits, and the result is accepted only when its check digit is right
// and it encodes exactly birthDate, since a number that is short for another
// reason (a digit mistyped or cut) rarely passes both. One that starts with
// 0 already was not stored as a number (a number has no leading zero), so a
// digit is missing and it is refused as such.
//
// A refused value gets "" and a reason that names the likely cause and what
// to do; it never repeats the digits.
func RestorePESEL(s, birthDate string) (string, error) {
	n := len(s)
	if (n != 9 && n != 10) || strings.Trim(s, "0123456789") != "" {
		return s, nil
	}
	if s[0] == '0' {
		return "", problemf("must be 11 digits, found %d; it starts with 0, so it is not a number a spreadsheet cut (Excel drops only leading zeros): "+
			"a digit is missing or the number is mistyped", n)
	}
	zeros, them := "the leading zero", "it"
	if n == 9 {
		zeros, them = "the two leading zeros", "them"
	}
	birth, err := time.Parse(isoDate, birthDate)
	switch {
	case birthDate == "":
		return "", problemf("has %d digits: a spreadsheet probably dropped %s (Excel stores the column as a number); "+
			"the restored number cannot be confirmed without birthDate: format the column as Text and export again, or add birthDate",
			n, zeros)
	case err != nil:
		return "", problemf("has %d digits: a spreadsheet probably dropped %s (Excel stores the column as a number); "+
			"the restored number cannot be confirmed because birthDate is not a valid date: format the column as Text and export again, or correct birthDate",
			n, zeros)
	}
	padded := strings.Repeat("0", 11-n) + s
	if !repairCheckDigitOK(padded) {
		return "", problemf("has %d digits: a spreadsheet may have dropped %s (Excel stores the column as a number), "+
			"but with %s restored the check digit is wrong, so the number is mistyped or cut as well: "+
			"check it, format the column as Text and export again", n, zeros, them)
	}
	encoded, err := PESEL(padded)
	if err != nil {
		return "", problemf("has %d digits: a spreadsheet may have dropped %s (Excel stores the column as a number), "+
			"but with %s restored it encodes an impossible birth date: "+
			"check it, format the column as Text and export again", n, zeros, them)
	}
	if !encoded.Equal(birth) {
		return "", problemf("has %d digits: a spreadsheet may have dropped %s (Excel stores the column as a number), "+
			"but with %s restored it encodes another birth date than birthDate: "+
			"check both, format the column as Text and export again", n, zeros, them)
	}
	return padded, nil
}

// repairCheckDigitOK reports whether the 11 ASCII digits of s end with the
// PESEL check digit of the first ten.
func repairCheckDigitOK(s string) bool {
	sum := 0
	for i, w := range [...]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3} {
		sum += int(s[i]-'0') * w
	}
	return (10-sum%10)%10 == int(s[10]-'0')
}

// ScientificNotation reports whether s looks like what a spreadsheet writes
// for a long number it displays in scientific notation, such as
// "9.20921E+10" (or "9,20921E+10" in Polish or German locales), "9.2E10",
// "1E+11" or "9.20921e+10". Such a value has lost digits; report
// [ErrScientific]().
//
// The rule: optional '-', ASCII digits, optionally a decimal separator ('.'
// or ',') and more digits, 'E' or 'e', optional '+' or '-', ASCII digits;
// and, since a document number or identifier may well be "1E5" or "12E45",
// at least one of the two signals no real code carries: a decimal separator
// in the mantissa or an explicit sign in the exponent. So "1E5", "12E45",
// "AB1E5", "E123", "1E" and e-mail addresses are not scientific notation;
// "1E+5", "1.5E5" and "1,5e-3" are. The caller trims white space first.
func ScientificNotation(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	i = repairSkipDigits(s, i)
	if i == start {
		return false
	}
	separator := false
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		separator = true
		i = repairSkipDigits(s, i+1)
	}
	if i == len(s) || (s[i] != 'E' && s[i] != 'e') {
		return false
	}
	i++
	sign := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		sign = true
		i++
	}
	start = i
	i = repairSkipDigits(s, i)
	return i > start && i == len(s) && (separator || sign)
}

// repairSkipDigits returns the index of the first byte at or after i in s
// that is not an ASCII digit.
func repairSkipDigits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}
