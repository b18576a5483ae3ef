package workbook

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// errTokenTooBig stops the XML decoder on a token bigger than maxTokenBytes.
var errTokenTooBig = errors.New("XML token too big")

// tokenReader reads raw XML tokens from a part, refusing any token bigger
// than maxTokenBytes as written.
type tokenReader struct {
	dec *xml.Decoder
	lim *limitReader
}

func newTokenReader(r io.Reader) *tokenReader {
	lim := &limitReader{r: r, max: maxTokenBytes}
	return &tokenReader{dec: xml.NewDecoder(bufio.NewReaderSize(lim, 64<<10)), lim: lim}
}

// next returns the next token. A CharData is valid until the next call.
func (t *tokenReader) next() (xml.Token, error) {
	t.lim.n = 0
	tok, err := t.dec.RawToken()
	var syntax *xml.SyntaxError
	switch {
	case errors.Is(err, errTokenTooBig):
		return nil, fmt.Errorf("%w (an XML token of more than %d MiB)", ErrCellTooBig, maxTokenBytes>>20)
	case errors.As(err, &syntax) && syntax.Msg == "unexpected EOF":
		return nil, errTruncated
	}
	return tok, err
}

// skip reads up to the end of the element just started.
func (t *tokenReader) skip() error {
	for depth := 1; depth > 0; {
		tok, err := t.next()
		if err != nil {
			return eofIsUnexpected(err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// text appends to buf the character data up to the end of the element just
// started (a <v>).
func (t *tokenReader) text(buf []byte) ([]byte, error) {
	for {
		tok, err := t.next()
		if err != nil {
			return buf, eofIsUnexpected(err)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			if len(buf)+len(tok) > maxCellBytes {
				return buf, ErrCellTooBig
			}
			buf = append(buf, tok...)
		case xml.StartElement:
			if err := t.skip(); err != nil {
				return buf, err
			}
		case xml.EndElement:
			return buf, nil
		}
	}
}

// richText appends to buf the text of a string item (an <si> or <is>) just
// started: its <t> elements, directly or in runs (<r>), leaving out
// phonetic runs (<rPh>).
func (t *tokenReader) richText(buf []byte) ([]byte, error) {
	depth, phonetic, inT := 1, 0, false
	for depth > 0 {
		tok, err := t.next()
		if err != nil {
			return buf, eofIsUnexpected(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case phonetic > 0:
				phonetic++
			case tok.Name.Local == "rPh":
				phonetic = 1
			case tok.Name.Local == "t":
				inT = true
			}
		case xml.EndElement:
			depth--
			switch {
			case phonetic > 0:
				phonetic--
			case tok.Name.Local == "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				if len(buf)+len(tok) > maxCellBytes {
					return buf, ErrCellTooBig
				}
				buf = append(buf, tok...)
			}
		}
	}
	return buf, nil
}

// limitReader fails once more than max bytes are read since n was reset.
type limitReader struct {
	r      io.Reader
	n, max int
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, errTokenTooBig
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// rowReader reads a worksheet's rows, one <row> at a time.
type rowReader struct {
	book   *book
	sheet  string
	rc     io.ReadCloser
	tok    *tokenReader
	inData bool     // inside <sheetData>
	done   bool     // past </sheetData>
	row    int      // number of the last row read
	cells  []string // the last row's cells, reused
	v, str []byte   // scratch: a cell's <v>, its inline string
}

func newRowReader(b *book, sheet string, rc io.ReadCloser) *rowReader {
	return &rowReader{book: b, sheet: sheet, rc: rc, tok: newTokenReader(rc)}
}

func (r *rowReader) close() error { return r.rc.Close() }

// next returns the next row's number and cells, trailing empty cells
// dropped; the cells are valid until the next call. It returns io.EOF after
// the last row.
func (r *rowReader) next() (int, []string, error) {
	if r.done {
		return 0, nil, io.EOF
	}
	for {
		tok, err := r.tok.next()
		if err != nil {
			if errors.Is(err, io.EOF) && !r.inData {
				r.done = true
				return 0, nil, io.EOF // no <sheetData>: no rows
			}
			return 0, nil, r.errorf(0, "%w", eofIsUnexpected(err))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch {
			case !r.inData:
				r.inData = tok.Name.Local == "sheetData"
			case tok.Name.Local == "row":
				return r.readRow(tok)
			default:
				if err := r.tok.skip(); err != nil {
					return 0, nil, r.errorf(0, "%w", err)
				}
			}
		case xml.EndElement:
			if r.inData && tok.Name.Local == "sheetData" {
				r.done = true
				return 0, nil, io.EOF
			}
		}
	}
}

// readRow reads the row just started.
func (r *rowReader) readRow(start xml.StartElement) (int, []string, error) {
	num := r.row + 1
	if v, ok := attr(start, "r"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, nil, r.errorf(0, "row number %q is not a number", v)
		}
		num = n
	}
	if num <= r.row {
		return 0, nil, r.errorf(0, "row %d comes after row %d: the sheet is damaged", num, r.row)
	}
	if num > maxSheetRows {
		return 0, nil, r.errorf(0, "row %d is past Excel's last row, %d", num, maxSheetRows)
	}
	r.row = num
	r.cells = r.cells[:0]
	col := 0
	for {
		tok, err := r.tok.next()
		if err != nil {
			return 0, nil, r.errorf(col, "%w", eofIsUnexpected(err))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "c" {
				if col, err = r.readCell(tok, col); err != nil {
					return 0, nil, err
				}
			} else if err := r.tok.skip(); err != nil {
				return 0, nil, r.errorf(col, "%w", err)
			}
		case xml.EndElement:
			return num, r.cells, nil // </row>
		}
	}
}

// readCell reads the cell just started, after column prev, and stores its
// value; it returns the cell's column.
func (r *rowReader) readCell(start xml.StartElement, prev int) (int, error) {
	col, style, typ := prev+1, 0, ""
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "r":
			c, ok := columnOf(a.Value)
			if !ok {
				return prev, r.errorf(prev+1, "cell reference %q is not a cell", a.Value)
			}
			col = c
		case "s":
			style, _ = strconv.Atoi(a.Value) // a bad style is no style
		case "t":
			typ = a.Value
		}
	}
	if col <= prev {
		return prev, r.errorf(col, "cell comes after column %s: the sheet is damaged", columnName(prev))
	}
	r.v, r.str = r.v[:0], r.str[:0]
	inline := false
	for done := false; !done; {
		tok, err := r.tok.next()
		if err != nil {
			return col, r.errorf(col, "%w", eofIsUnexpected(err))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "v":
				r.v, err = r.tok.text(r.v)
			case "is":
				inline = true
				r.str, err = r.tok.richText(r.str)
			default: // <f>: the cached value is what counts
				err = r.tok.skip()
			}
			if err != nil {
				return col, r.errorf(col, "%w", err)
			}
		case xml.EndElement:
			done = true // </c>
		}
	}
	val, err := r.value(typ, style, inline)
	if err != nil {
		return col, r.errorf(col, "%w", err)
	}
	if val == "" {
		return col, nil
	}
	if col > maxColumns {
		return col, r.errorf(col, "%w: save only the columns to import", ErrTooWide)
	}
	for len(r.cells) < col-1 {
		r.cells = append(r.cells, "")
	}
	r.cells = append(r.cells, val)
	return col, nil
}

// value turns the cell just read into its CSV text.
func (r *rowReader) value(typ string, style int, inline bool) (string, error) {
	if !inline && len(bytes.TrimSpace(r.v)) == 0 {
		return "", nil // no value (a styled empty cell, a formula never calculated)
	}
	switch typ {
	case "s":
		i, err := strconv.Atoi(string(bytes.TrimSpace(r.v)))
		if err != nil {
			return "", fmt.Errorf("shared string index %q is not a number", r.v)
		}
		s, ok := r.book.sst.get(i)
		if !ok {
			return "", fmt.Errorf("shared string %d does not exist (the workbook has %d): the workbook is damaged", i, r.book.sst.len())
		}
		return s, nil
	case "inlineStr":
		if inline {
			return cleanText(r.str), nil
		}
		return cleanText(r.v), nil
	case "str", "e": // a formula's text result; an error such as #N/A
		return cleanText(r.v), nil
	case "b":
		switch string(bytes.TrimSpace(r.v)) {
		case "1":
			return "TRUE", nil
		case "0":
			return "FALSE", nil
		}
		return string(r.v), nil
	case "d": // an ISO 8601 date, as some writers store dates
		return isoDate(string(bytes.TrimSpace(r.v))), nil
	}
	v := bytes.TrimSpace(r.v)
	if r.book.styles.isDate(style) {
		if d, ok := dateText(v, r.book.date1904); ok {
			return d, nil
		}
	}
	return numberText(v), nil
}

// errorf returns an error naming the sheet, the row and, if col > 0, the
// column.
func (r *rowReader) errorf(col int, format string, args ...any) error {
	where := fmt.Sprintf("sheet %q", r.sheet)
	if r.row > 0 {
		where += fmt.Sprintf(", row %d", r.row)
	}
	if col > 0 {
		where += ", column " + columnName(col)
	}
	return fmt.Errorf("%s: %w", where, fmt.Errorf(format, args...))
}

// attr returns the value of the attribute called local.
func attr(e xml.StartElement, local string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// columnOf returns the column of a cell reference such as "AB12".
func columnOf(ref string) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a') + 1
		if col > 16384 { // past XFD, Excel's last column
			return 0, false
		}
	}
	if i == 0 || i == len(ref) {
		return 0, false
	}
	for _, c := range ref[i:] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	return col, true
}

// columnName returns a column's letters: 1 is A, 27 is AA.
func columnName(col int) string {
	var b []byte
	for ; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b)
}

// errTruncated is an XML part that ends inside an element.
var errTruncated = fmt.Errorf("the XML ends early, the file is truncated or damaged: %w", io.ErrUnexpectedEOF)

// eofIsUnexpected turns io.EOF, met inside an element, into errTruncated.
func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return errTruncated
	}
	return err
}
