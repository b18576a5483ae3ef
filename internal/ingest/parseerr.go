package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
)

// parseErrorRecord turns a CSV syntax error into an invalid row.
func (r *Reader) parseErrorRecord(pe *csv.ParseError) *Record {
	r.lastLine = pe.Line
	rec := &Record{Line: pe.StartLine}
	var reason string
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		reason = fmt.Sprintf("wrong number of fields: expected %d (the header's), found %d; check the delimiter and the quotes in this row",
			len(r.header), r.fieldCount())
	case errors.Is(pe.Err, csv.ErrQuote) && pe.Line > pe.StartLine:
		reason = fmt.Sprintf("the quoted field opened on line %d is not closed properly (the error shows at line %d, column %d); check the quotes", pe.StartLine, pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		reason = fmt.Sprintf("stray or missing quote at column %d: a quoted field must end with a quote followed by the delimiter", pe.Column)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		reason = fmt.Sprintf("a quote inside an unquoted field at column %d: quote the whole field and double the inner quote (\"\")", pe.Column)
	default:
		reason = pe.Err.Error()
	}
	rec.problems = []Problem{{Line: pe.StartLine, Reason: reason}}
	return rec
}

// fieldCount returns how many fields the line last read had, even when it
// was refused for having the wrong number: encoding/csv keeps the fields'
// positions but not the fields, and FieldPos panics past the last one.
func (r *Reader) fieldCount() int {
	n := 0
	for ; n < 1<<16; n++ {
		if !r.hasField(n) {
			break
		}
	}
	return n
}

func (r *Reader) hasField(i int) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	r.csv.FieldPos(i)
	return true
}

// unterminatedQuote reports a quoted field that is never closed: encoding/csv
// read everything after it as one field. The opening row is invalid, and so
// is each line it swallowed, so no row vanishes from the count.
func (r *Reader) unterminatedQuote(pe *csv.ParseError) *Record {
	swallowed := pe.Line - pe.StartLine
	rec := &Record{Line: pe.StartLine, problems: []Problem{{Line: pe.StartLine, Reason: fmt.Sprintf(
		"a quoted field opened on this line is never closed: the %d line(s) after it, to the end of the file, could not be read; add the missing quote", swallowed)}}}
	for line := pe.StartLine + 1; line <= pe.Line; line++ {
		r.pending = append(r.pending, &Record{Line: line, problems: []Problem{{Line: line,
			Reason: fmt.Sprintf("not read: inside the quoted field opened on line %d that is never closed", pe.StartLine)}}})
	}
	return rec
}
