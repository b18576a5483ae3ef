package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits on what one record of a file may hold. Real exports stay far below
// them; they exist so that a broken or hostile file (/dev/zero renamed .csv,
// a 50 MB line, a quote that is never closed) ends in a clear error, in
// bounded memory, instead of being read whole into one field.
const (
	MaxHeaderBytes = 256 << 10 // the header line
	MaxRecordBytes = 1 << 20   // one data record: a line, or several for a quoted field with line breaks
)

// RecordTooLongError means a record passed its size limit: the file cannot
// be read past it.
type RecordTooLongError struct {
	Line   int  // physical line where the record starts
	Header bool // the record was the header line
	Quoted bool // a quoted field was still open at the limit
	Limit  int  // bytes
}

func (e *RecordTooLongError) Error() string {
	size := fmt.Sprintf("%d KiB", e.Limit>>10)
	switch {
	case e.Quoted:
		return fmt.Sprintf("line %d: a quoted field opened on this line is still not closed after %s: a closing quote is missing, and the rest of the file cannot be read; add the missing quote", e.Line, size)
	case e.Header:
		return fmt.Sprintf("line %d: the first line is longer than %s: this is not a CSV export of users, or its line breaks are not ones a CSV file uses (LF, CRLF or CR)", e.Line, size)
	}
	return fmt.Sprintf("line %d: a line longer than %s: no user's record is that long; the file is damaged or is not a CSV export of users", e.Line, size)
}

// Skipped counts the lines of a file that hold no user. They are not rows:
// they are never reported as invalid.
type Skipped struct {
	Blank          int   // empty lines, and lines of only empty cells (";;;;", a spreadsheet's formatted but empty rows)
	Hint           int   // Excel's "sep=;" line
	Title          int   // lines above the header, such as a report's title
	RepeatedHeader int   // the header line again, further down (two exports joined)
	RepeatedAt     []int // the lines of the first ten repeated headers
	// Padded and Trimmed count rows whose cell count was mended: empty
	// cells missing under unnamed trailing header cells, or empty cells
	// beyond the header's last column (a trailing delimiter).
	Padded, Trimmed int
}

// Lines returns how many lines were skipped.
func (s Skipped) Lines() int { return s.Blank + s.Hint + s.Title + s.RepeatedHeader }

// recordFilter sits between the decoded text and encoding/csv. It splits
// the text into records exactly as encoding/csv will (quotes, line breaks
// inside quoted fields), enforces the size limits, and hands on only the
// records that can hold a user: a skipped record is replaced by its line
// breaks, so the CSV reader's line numbers stay the file's.
type recordFilter struct {
	src    *bufio.Reader
	comma  byte
	titles int // non-blank records before the header, to skip

	header      []byte // the header record as read (no line ending, no BOM)
	headerCells int    // cells in the header
	namedCells  int    // cells up to the header's last non-empty name
	line        int    // physical lines consumed
	rows        int    // records queued after the header: the rows
	skipped     Skipped

	rec []byte // the record being assembled
	out []byte // bytes ready for the CSV reader
	off int
	err error
}

func newRecordFilter(src *bufio.Reader, comma byte, titles int) *recordFilter {
	return &recordFilter{src: src, comma: comma, titles: titles}
}

// Read implements io.Reader for the CSV reader.
func (f *recordFilter) Read(p []byte) (int, error) {
	for f.off == len(f.out) {
		if f.err != nil {
			return 0, f.err
		}
		f.off = 0
		f.out = f.out[:0]
		f.err = f.next()
	}
	n := copy(p, f.out[f.off:])
	f.off += n
	return n, nil
}

// next reads one record and queues what the CSV reader should see of it.
// At the end of the input it returns io.EOF, after queueing a last record
// that has no line break.
func (f *recordFilter) next() error {
	f.rec = f.rec[:0]
	start := f.line + 1
	limit := MaxRecordBytes
	if f.header == nil {
		limit = MaxHeaderBytes
	}
	var st scanState
	st.fieldStart = true
	delims := 0
	var readErr error
	for {
		chunk, err := f.src.ReadSlice('\n')
		if len(f.rec)+len(chunk) > limit {
			return &RecordTooLongError{Line: start, Header: f.header == nil, Quoted: st.inQuotes, Limit: limit}
		}
		if len(chunk) > 0 {
			delims += st.scan(chunk, f.comma)
			f.rec = append(f.rec, chunk...)
			if chunk[len(chunk)-1] == '\n' {
				f.line++
				if !st.inQuotes {
					break
				}
			}
		}
		if err == nil || errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		readErr = err
		break
	}
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		return readErr
	}
	if len(f.rec) == 0 {
		return readErr // io.EOF
	}
	if readErr != nil && f.rec[len(f.rec)-1] != '\n' {
		f.line++ // a last line without a line break is a line
	}
	f.decide(start, delims+1)
	return readErr
}

// decide queues the record just assembled, or its line breaks alone.
func (f *recordFilter) decide(start, cells int) {
	body := trimEOL(f.rec)
	bodyNoBOM := bytes.TrimPrefix(body, bomUTF8)
	row := true // the record is a row (not the header, not an empty line)
	switch {
	case len(body) == 0: // an empty line: the CSV reader skips it too
		f.skipped.Blank++
		row = false
	case isSepLine(bodyNoBOM):
		f.skipped.Hint++
		f.blank()
		return
	case isBlankRecord(body, f.comma):
		f.skipped.Blank++
		f.blank()
		return
	case f.header == nil && f.titles > 0:
		f.titles--
		f.skipped.Title++
		f.blank()
		return
	case f.header == nil:
		row = false
		f.header = bytes.Clone(bodyNoBOM)
		f.headerCells = cells
		f.namedCells = namedCells(f.header, f.comma)
	case bytes.Equal(bodyNoBOM, f.header):
		f.skipped.RepeatedHeader++
		if len(f.skipped.RepeatedAt) < 10 {
			f.skipped.RepeatedAt = append(f.skipped.RepeatedAt, start)
		}
		f.blank()
		return
	case cells > f.headerCells:
		if cut, ok := cutAfterCell(body, f.comma, f.headerCells); ok && isBlankRecord(body[cut:], f.comma) {
			f.skipped.Trimmed++
			eol := f.rec[len(body):]
			f.rec = append(f.rec[:cut], eol...)
		}
	case cells < f.headerCells && cells >= f.namedCells:
		f.skipped.Padded++
		eol := bytes.Clone(f.rec[len(body):])
		f.rec = append(f.rec[:len(body)], bytes.Repeat([]byte{f.comma}, f.headerCells-cells)...)
		f.rec = append(f.rec, eol...)
	}
	if row {
		f.rows++
	}
	f.out, f.rec = f.rec, f.out[:0]
}

// blank queues only the record's line breaks.
func (f *recordFilter) blank() {
	for range bytes.Count(f.rec, []byte{'\n'}) {
		f.out = append(f.out, '\n')
	}
}

// Skipped returns what was skipped so far.
func (f *recordFilter) Skipped() Skipped { return f.skipped }

// scanState follows quotes as encoding/csv reads them (LazyQuotes off): a
// field is quoted only when its first byte is a quote; inside, "" is a
// quote; a quote followed by anything but a delimiter or a line break is a
// syntax error, after which the reader resumes at the next line.
type scanState struct {
	inQuotes   bool
	afterQuote bool // inside quotes, the last byte was a quote
	fieldStart bool
	broken     bool // a syntax error: the rest of the line is discarded
}

// scan advances over chunk and returns the delimiters it saw outside quotes.
func (s *scanState) scan(chunk []byte, comma byte) int {
	if !s.inQuotes && !s.broken && bytes.IndexByte(chunk, '"') < 0 {
		// The common case: an unquoted line.
		if last := chunk[len(chunk)-1]; last == '\n' || last == comma {
			s.fieldStart = true
		} else {
			s.fieldStart = false
		}
		return bytes.Count(chunk, []byte{comma})
	}
	delims := 0
	for _, c := range chunk {
		switch {
		case s.broken:
			if c == '\n' {
				s.broken, s.fieldStart = false, true
			}
		case s.inQuotes && s.afterQuote:
			s.afterQuote = false
			switch c {
			case '"': // an escaped quote
			case comma:
				s.inQuotes, s.fieldStart = false, true
				delims++
			case '\n':
				s.inQuotes, s.fieldStart = false, true
			case '\r':
				s.inQuotes = false // CRLF after the closing quote
			default:
				s.inQuotes, s.broken = false, true
			}
		case s.inQuotes:
			if c == '"' {
				s.afterQuote = true
			}
		case c == comma:
			s.fieldStart = true
			delims++
		case c == '\n':
			s.fieldStart = true
		case c == '"' && s.fieldStart:
			s.inQuotes, s.fieldStart = true, false
		default:
			s.fieldStart = false
		}
	}
	return delims
}

// trimEOL drops a record's final line break (LF or CRLF).
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// isBlankRecord reports whether every cell of a record is empty: nothing but
// delimiters, quotes, spaces and line breaks.
func isBlankRecord(b []byte, comma byte) bool {
	for _, c := range b {
		switch c {
		case comma, '"', ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}

// isSepLine recognises Excel's delimiter hint, "sep=;" (also quoted, or
// followed by empty cells).
func isSepLine(b []byte) bool {
	b = bytes.Trim(b, "\"")
	if len(b) < 5 || !bytes.EqualFold(b[:4], []byte("sep=")) {
		return false
	}
	for _, c := range b[5:] {
		if c != b[4] && c != '"' && c != ' ' {
			return false
		}
	}
	return true
}

// sepLineComma returns the delimiter a sep= line names.
func sepLineComma(b []byte) byte {
	b = bytes.Trim(b, "\"")
	return b[4]
}

// cutAfterCell returns the offset of the delimiter that ends cell n (1-based)
// of a record, outside quotes.
func cutAfterCell(b []byte, comma byte, n int) (int, bool) {
	var s scanState
	s.fieldStart = true
	seen := 0
	for i, c := range b {
		if s.scan([]byte{c}, comma) == 1 {
			seen++
			if seen == n {
				return i, true
			}
		}
	}
	return 0, false
}

// namedCells returns how many cells a header has up to its last non-empty
// name: the cells after it are unnamed and may be missing from rows.
func namedCells(header []byte, comma byte) int {
	cells, named := 0, 0
	var s scanState
	s.fieldStart = true
	content := false
	for _, c := range header {
		if s.scan([]byte{c}, comma) == 1 {
			cells++
			if content {
				named = cells
			}
			content = false
			continue
		}
		if c != '"' && c != ' ' && c != '\t' && c != '\r' {
			content = true
		}
	}
	cells++
	if content {
		named = cells
	}
	return named
}
