package ingest

import (
	"bytes"
	"encoding/csv"
	"fmt"
)

// Dialect is how a file was read: every decision the reader took, for
// `importer validate` to show.
type Dialect struct {
	Format      string // "CSV", "CSV (gzip-compressed)", `xlsx workbook, sheet "Users"`
	Encoding    string // the character set the text was decoded from
	EncodingHow string // how that was decided
	Comma       rune
	CommaHow    string // "detected from the first lines", "from Excel's sep= line", "--delimiter"
	LineBreaks  string // "LF", "CRLF", "CR (old Mac)", ...
	HeaderLine  int    // the physical line of the header
}

// sniffLines is how many records at the top of a file are looked at for
// the delimiter and the header.
const sniffLines = 20

// dialectGuess is what the top of a file says about how to read it.
type dialectGuess struct {
	comma    byte
	commaHow string
	titles   int // non-blank records above the header
}

// lineBreaks names the line breaks in head and reports whether they are
// old-Mac CR alone.
func lineBreaks(head []byte) (string, bool) {
	lf := bytes.Count(head, []byte{'\n'})
	crlf := bytes.Count(head, []byte("\r\n"))
	cr := bytes.Count(head, []byte{'\r'})
	switch {
	case lf == 0 && cr > 0:
		return "CR (old Mac)", true
	case lf == 0:
		return "none (a single line)", false
	case crlf == lf:
		return "CRLF", false
	case crlf == 0:
		return "LF", false
	}
	return "mixed LF and CRLF", false
}

// guessDialect reads the top of a file's text: Excel's sep= line, the
// delimiter (unless given), and the title lines above the header.
func guessDialect(head []byte, given byte, m *headerMatcher) dialectGuess {
	g := dialectGuess{comma: given, commaHow: "--delimiter"}
	first, _, _ := bytes.Cut(head, []byte{'\n'})
	first = bytes.TrimPrefix(trimEOL(first), bomUTF8)
	hint := isSepLine(first)
	if g.comma == 0 {
		if hint {
			g.comma, g.commaHow = sepLineComma(first), "from Excel's sep= line"
		} else {
			g.comma, g.commaHow = detectComma(head), "detected from the first lines"
		}
	}
	for i, rec := range splitRecords(head, g.comma, 2*sniffLines) {
		body := bytes.TrimPrefix(trimEOL(rec), bomUTF8)
		if len(body) == 0 || isSepLine(body) || isBlankRecord(body, g.comma) {
			continue
		}
		if m.isHeader(parseCells(body, g.comma)) {
			return g
		}
		g.titles++
		if i >= sniffLines {
			break
		}
	}
	g.titles = 0 // no header found: the first line is taken as the header
	return g
}

// splitRecords splits text into records as encoding/csv would, at most n;
// the last one may be cut short.
func splitRecords(text []byte, comma byte, n int) [][]byte {
	var out [][]byte
	var s scanState
	s.fieldStart = true
	start := 0
	for i := 0; i < len(text) && len(out) < n; {
		j := bytes.IndexByte(text[i:], '\n')
		end := len(text)
		if j >= 0 {
			end = i + j + 1
		}
		s.scan(text[i:end], comma)
		i = end
		if j < 0 || !s.inQuotes {
			out = append(out, text[start:end])
			start = end
		}
	}
	return out
}

// parseCells splits one record into cells, leniently.
func parseCells(rec []byte, comma byte) []string {
	r := csv.NewReader(bytes.NewReader(rec))
	r.Comma = rune(comma)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	cells, _ := r.Read()
	return cells
}

// commaCandidates are the delimiters detected, in order of preference.
var commaCandidates = []byte{',', ';', '\t', '|'}

// detectComma picks the delimiter that splits the first lines most
// consistently: the most lines with the same non-zero count (outside
// quotes), then the higher count. A title line or a stray comma in an
// address does not outvote the header and the rows.
func detectComma(head []byte) byte {
	var lines [][]byte
	for rest := head; len(rest) > 0 && len(lines) < sniffLines; {
		line, after, _ := bytes.Cut(rest, []byte{'\n'})
		rest = after
		line = trimEOL(line)
		if len(bytes.TrimSpace(line)) > 0 && !isSepLine(bytes.TrimPrefix(line, bomUTF8)) {
			lines = append(lines, line)
		}
	}
	best, bestAgree, bestMode := byte(','), 0, 0
	for _, c := range commaCandidates {
		counts := map[int]int{}
		for _, l := range lines {
			if n := countOutsideQuotes(l, c); n > 0 {
				counts[n]++
			}
		}
		agree, mode := 0, 0
		for n, k := range counts {
			if k > agree || k == agree && n > mode {
				agree, mode = k, n
			}
		}
		if agree > bestAgree || agree == bestAgree && mode > bestMode {
			best, bestAgree, bestMode = c, agree, mode
		}
	}
	return best
}

func countOutsideQuotes(line []byte, c byte) int {
	n, quoted := 0, false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case b == c && !quoted:
			n++
		}
	}
	return n
}

// DelimiterName names a delimiter in words.
func DelimiterName(r rune) string {
	switch r {
	case '\t':
		return "tab"
	case ',':
		return "comma (,)"
	case ';':
		return "semicolon (;)"
	case '|':
		return "pipe (|)"
	}
	return fmt.Sprintf("%q", r)
}

// String describes the dialect on one line.
func (d Dialect) String() string {
	return fmt.Sprintf("%s, %s, delimiter %s, line breaks %s", d.Format, d.Encoding, DelimiterName(d.Comma), d.LineBreaks)
}
