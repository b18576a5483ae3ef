package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/p100/p100-importer/internal/validate"
)

// fieldError is a rule a field failed while it was normalised.
type fieldError struct {
	field string
	err   error
}

// apiDateLayout is birthDate's form in the API.
const apiDateLayout = "2006-01-02"

// check runs the field rules over a prepared row and records every
// problem. Messages never echo a PESEL or document number.
func (r *Reader) check(rec *Record) {
	u := &rec.User
	problem := func(field string, err error) {
		reason := err.Error()
		var p validate.Problem
		if errors.As(err, &p) {
			reason = p.Reason
		}
		rec.problems = append(rec.problems, Problem{Line: rec.Line, Column: r.columnName(field), Reason: reason})
	}

	// A field's own rule does not run again on a field that already
	// failed while it was normalised.
	var failed map[string]bool // allocated only for a row that has failures
	for _, d := range rec.deferred {
		if failed == nil {
			failed = map[string]bool{}
		}
		failed[d.field] = true
	}
	// Bytes that are not UTF-8 are refused per field, never replaced: in a
	// file read as UTF-8, a few stray bytes of another character set.
	for _, f := range Fields {
		if v := u.Get(f); !utf8.ValidString(v) {
			if failed == nil {
				failed = map[string]bool{}
			}
			failed[f] = true
			problem(f, fmt.Errorf("is not valid UTF-8 (byte %d): the file was read as UTF-8 (%s); if its character set is another, give it with --encoding", invalidAt(v)+1, r.dialect.EncodingHow))
		}
	}
	for _, f := range r.required {
		if u.Get(f) == "" {
			if _, ok := r.columnOf[f]; ok {
				problem(f, errors.New("is required but empty"))
			}
		}
	}
	for _, f := range []string{FieldExternalUserID, FieldFirstName, FieldLastName, FieldAddress, FieldCity, FieldDocumentNumber} {
		if v := u.Get(f); v != "" && !failed[f] {
			if err := validate.Text(v, validate.MaxLen[f]); err != nil {
				problem(f, err)
			}
		}
	}
	if u.Email != "" && !failed[FieldEmail] {
		if err := validate.Email(u.Email); err != nil {
			problem(FieldEmail, err)
		}
	}
	for _, d := range rec.deferred {
		if utf8.ValidString(u.Get(d.field)) {
			problem(d.field, d.err)
		}
	}
	if u.BirthDate != "" && !rec.dateChecked && !failed[FieldBirthDate] {
		if d, err := validate.Date(u.BirthDate, apiDateLayout, r.opts.Now()); err != nil {
			problem(FieldBirthDate, err)
		} else {
			u.BirthDate, rec.dateOK = d, true
		}
	}
	if u.Pesel != "" && !failed[FieldPesel] {
		birth, err := validate.PESEL(u.Pesel)
		y, m, d := birth.Date()
		switch {
		case err != nil:
			problem(FieldPesel, err)
		case rec.dateOK && u.BirthDate != fmt.Sprintf("%04d-%02d-%02d", y, m, d):
			problem(FieldPesel, fmt.Errorf("encodes the birth date %04d-%02d-%02d, but %s says %s",
				y, m, d, r.columnName(FieldBirthDate), u.BirthDate))
		}
	}
}

// columnName returns the header, as written in the file, of field's column.
func (r *Reader) columnName(field string) string {
	if c, ok := r.columnOf[field]; ok {
		return c
	}
	return field
}

// RequiredFields returns the required set in force.
func (r *Reader) RequiredFields() []string { return slices.Clone(r.required) }

// oneLine folds the line breaks and tabs of a free-text value (an address
// typed with Alt+Enter in Excel) into single spaces: P100 takes one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\r' || r == '\n' || r == '\t' || r == ' '
	}), " ")
}

// invalidAt returns the byte offset of the first invalid UTF-8 sequence.
func invalidAt(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}
