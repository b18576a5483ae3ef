package workbook

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// sharedStrings is the workbook's table of strings, which cells of type "s"
// index: every string's text, cleaned as cells are, in one string.
type sharedStrings struct {
	text string
	ends []uint32 // where each string ends in text
}

func (t *sharedStrings) len() int { return len(t.ends) }

// get returns string i.
func (t *sharedStrings) get(i int) (string, bool) {
	if i < 0 || i >= len(t.ends) {
		return "", false
	}
	var start uint32
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.text[start:t.ends[i]], true
}

// loadSharedStrings reads the shared-strings part, streaming; the table is
// refused past maxSharedText bytes, counting 4 bytes per string.
func loadSharedStrings(f *zip.File) (sharedStrings, error) {
	rc, err := f.Open()
	if err != nil {
		return sharedStrings{}, err
	}
	defer rc.Close()
	tr := newTokenReader(rc)
	var (
		sb         strings.Builder
		ends       []uint32
		raw, clean []byte
	)
	for {
		tok, err := tr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sharedStrings{}, err
		}
		if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != "si" {
			continue
		}
		if raw, err = tr.richText(raw[:0]); err != nil {
			return sharedStrings{}, fmt.Errorf("string %d: %w", len(ends), err)
		}
		clean = appendClean(clean[:0], raw)
		if sb.Len()+len(clean)+4*(len(ends)+1) > maxSharedText {
			return sharedStrings{}, fmt.Errorf("the table is bigger than %d MiB: save the sheet alone, or as CSV", maxSharedText>>20)
		}
		sb.Write(clean)
		ends = append(ends, uint32(sb.Len()))
	}
	// The table lives as long as the sheet is read: give back what growing
	// it left spare.
	text := sb.String()
	if sb.Cap() > sb.Len()+sb.Len()/8 {
		text = strings.Clone(text)
	}
	if cap(ends) > len(ends)+len(ends)/8 {
		ends = slices.Clone(ends)
	}
	return sharedStrings{text: text, ends: ends}, nil
}

// cleanText returns a cell's text with Excel's _xHHHH_ escapes decoded and
// each line break (CR, LF or CRLF) made one space.
func cleanText(b []byte) string {
	if bytes.IndexByte(b, '\n') < 0 && bytes.IndexByte(b, '\r') < 0 && !bytes.Contains(b, []byte("_x")) {
		return string(b)
	}
	return string(appendClean(nil, b))
}

// appendClean appends b to dst as cleanText returns it.
func appendClean(dst, b []byte) []byte {
	cr := false // the last character was a CR: a LF after it is the same break
	for i := 0; i < len(b); {
		r, n := rune(b[i]), 1
		if u, ok := escapeAt(b, i); ok {
			r, n = rune(u), 7
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
				if u2, ok := escapeAt(b, i+7); ok {
					if pair := utf16.DecodeRune(rune(u), rune(u2)); pair != utf8.RuneError {
						r, n = pair, 14
					}
				}
			}
		}
		i += n
		switch {
		case r == '\n' && cr:
			cr = false
		case r == '\n', r == '\r':
			dst = append(dst, ' ')
			cr = r == '\r'
		default:
			cr = false
			if n == 1 {
				dst = append(dst, byte(r)) // a byte of UTF-8, copied as is
			} else {
				dst = utf8.AppendRune(dst, r)
			}
		}
	}
	return dst
}

// escapeAt decodes an _xHHHH_ escape at b[i:].
func escapeAt(b []byte, i int) (uint16, bool) {
	if i+7 > len(b) || b[i] != '_' || b[i+1] != 'x' || b[i+6] != '_' {
		return 0, false
	}
	u, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
	return uint16(u), err == nil
}

// numberText returns a number cell's value: an integer as plain digits,
// other numbers in the shortest form that reads back to the same float64.
func numberText(v []byte) string {
	s := string(v)
	if digits, ok := integerDigits(s); ok {
		return digits
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return s // not a number after all: as written
	}
	return formatFloat(f)
}

// integerDigits returns s, an optionally signed run of digits, without its
// plus sign and leading zeros.
func integerDigits(s string) (string, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	s = strings.TrimLeft(s, "0")
	switch {
	case s == "":
		return "0", true
	case neg:
		return "-" + s, true
	}
	return s, true
}

// formatFloat formats f without an exponent, unless |f| < 1e-6 or
// |f| >= 1e21 (where the plain form would be a long run of zeros).
func formatFloat(f float64) string {
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a < 1e-6 || a >= 1e21 {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Serials past 9999-12-31 in each date system.
const (
	endSerial1900 = 2958466
	endSerial1904 = endSerial1900 - 1462
)

// dateText formats a date cell's serial as YYYY-MM-DD, with " HH:MM:SS"
// unless the time is midnight. A serial out of Excel's range (negative, past
// 9999) is no date.
func dateText(v []byte, date1904 bool) (string, bool) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return "", false
	}
	end := float64(endSerial1900)
	if date1904 {
		end = endSerial1904
	}
	if !(f >= 0 && f < end) { // NaN too
		return "", false
	}
	days := math.Floor(f)
	secs := int(math.Round((f - days) * 86400))
	if secs >= 86400 { // 23:59:59.6 rounds to the next day
		days++
		secs -= 86400
	}
	if days >= end {
		return "", false
	}
	d := int(days)
	var date string
	switch {
	case date1904:
		date = time.Date(1904, 1, 1+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	case d == 60:
		date = "1900-02-29" // the day Excel keeps for Lotus 1-2-3, which never was
	case d < 60:
		date = time.Date(1899, 12, 31+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	default:
		date = time.Date(1899, 12, 30+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	if secs == 0 {
		return date, true
	}
	return fmt.Sprintf("%s %02d:%02d:%02d", date, secs/3600, secs/60%60, secs%60), true
}

// isoDate formats a cell of type "d" (an ISO 8601 date and time) as date
// cells are formatted; text that is no such date is returned as is.
func isoDate(s string) string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", time.DateOnly} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.Round(time.Second)
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format(time.DateOnly)
		}
		return t.Format(time.DateTime)
	}
	return s
}

// maxStyles bounds the style ids looked up (Excel allows 64,000 formats).
const maxStyles = 1 << 16

// styles tells date cells by their style's number format, looking each
// style up once.
type styles struct {
	meta  *excelize.File
	known []uint8 // by style id: 0 not looked up yet, 1 a date, 2 not
}

func (s *styles) isDate(id int) bool {
	if s.meta == nil || id < 0 || id >= maxStyles {
		return false
	}
	if id < len(s.known) && s.known[id] != 0 {
		return s.known[id] == 1
	}
	if id >= len(s.known) {
		s.known = append(s.known, make([]uint8, id+1-len(s.known))...)
	}
	st, err := s.meta.GetStyle(id)
	date := err == nil && (st.CustomNumFmt != nil && isDateFormat(*st.CustomNumFmt) ||
		st.CustomNumFmt == nil && isBuiltinDateFormat(st.NumFmt))
	s.known[id] = 2
	if date {
		s.known[id] = 1
	}
	return date
}

// isBuiltinDateFormat reports whether a built-in number format shows a date
// or a time: 14-22 in every locale, 27-36 and 50-58 in the East Asian ones,
// 45-47 (times).
func isBuiltinDateFormat(id int) bool {
	return 14 <= id && id <= 22 || 27 <= id && id <= 36 || 45 <= id && id <= 47 || 50 <= id && id <= 58
}

// isDateFormat reports whether a custom number format code shows a date or
// a time: it has a d, m, y, h or s token outside quoted text ("..."),
// brackets ([Red], [$-415], [h]) and escapes (\x, and _x and *x, which pad).
// "General", which LibreOffice writes as a custom format, has none.
func isDateFormat(code string) bool {
	for i := 0; i < len(code); i++ {
		switch code[i] {
		case '"', '[':
			end := byte('"')
			if code[i] == '[' {
				end = ']'
			}
			j := strings.IndexByte(code[i+1:], end)
			if j < 0 {
				return false
			}
			i += j + 1
		case '\\', '_', '*':
			i++
		case 'd', 'D', 'm', 'M', 'y', 'Y', 'h', 'H', 's', 'S':
			return true
		}
	}
	return false
}
