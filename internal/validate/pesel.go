package validate

import "time"

// PESEL checks a Polish national identification number and returns the birth
// date it encodes, at midnight UTC.
//
// The number must be exactly 11 ASCII digits (nothing is trimmed), its last
// digit must match the check sum (weights 1,3,7,9,1,3,7,9,1,3 over the first
// ten digits; check = (10 - sum%10) % 10), and its first six digits must
// encode a real date YYMMDD, where 80 is added to the month for the 1800s,
// 0 for the 1900s, 20 for the 2000s, 40 for the 2100s and 60 for the 2200s.
// The check digit is tested before the date, since a mistyped number is the
// likelier mistake. The birth date is not compared with today: callers that
// know the date of the run decide what a future birth date means.
//
// Reasons never repeat the number or any part of it, e.g.
// "must be 11 digits, found 10", "check digit is wrong" or
// "encodes an impossible birth date".
func PESEL(s string) (birth time.Time, err error) {
	if s == "" {
		return time.Time{}, problemf("is empty; a PESEL has 11 digits")
	}
	pos := 0
	for _, r := range s {
		pos++
		if r < '0' || r > '9' {
			return time.Time{}, problemf("must be 11 digits 0-9; character %d is not a digit", pos)
		}
	}
	if n := len(s); n != 11 { // only ASCII digits are left: bytes are characters
		return time.Time{}, problemf("must be 11 digits, found %d", n)
	}
	var d [11]int
	for i := range d {
		d[i] = int(s[i] - '0')
	}
	sum := 0
	for i, w := range [...]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3} {
		sum += d[i] * w
	}
	if (10-sum%10)%10 != d[10] {
		return time.Time{}, problemf("check digit is wrong; the number is probably mistyped")
	}
	yy, mm, dd := d[0]*10+d[1], d[2]*10+d[3], d[4]*10+d[5]
	century := [...]int{1900, 2000, 2100, 2200, 1800}[mm/20]
	year, month := century+yy, time.Month(mm%20)
	if month < time.January || month > time.December {
		return time.Time{}, problemf("encodes an impossible birth date (no such month)")
	}
	birth = time.Date(year, month, dd, 0, 0, 0, 0, time.UTC)
	if birth.Day() != dd { // time.Date moved day 0, 30 February, ... into another month
		return time.Time{}, problemf("encodes an impossible birth date (no such day in that month)")
	}
	return birth, nil
}
