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

// prepare trims and normalises rec.input into rec.User (what the content
// hash is computed over) and flags a repeated externalUserId. It is cheap:
// the field rules run only when someone asks whether the row is valid
// (check), which a rerun never does for rows already imported.
func (r *Reader) prepare(rec *Record) error {
	u := &rec.User
	*u = User(rec.input)
	for _, f := range Fields {
		p := u.fieldPtr(f)
		*p = strings.TrimSpace(*p)
	}
	for _, f := range []string{FieldFirstName, FieldLastName, FieldAddress, FieldCity} {
		p := u.fieldPtr(f)
		*p = oneLine(*p)
	}
	for _, f := range []string{FieldCountry, FieldBirthCountry} {
		v := u.fieldPtr(f)
		if *v == "" {
			continue
		}
		code, note, err := validate.Country(*v)
		if err != nil {
			rec.deferred = append(rec.deferred, fieldError{f, err})
			continue
		}
		*v = code
		if note != "" {
			rec.Notes = append(rec.Notes, fmt.Sprintf("%s: %s", r.columnName(f), note))
		}
	}
	if u.DocumentType != "" {
		if t, err := validate.DocumentType(u.DocumentType, r.opts.DocumentTypes); err != nil {
			rec.deferred = append(rec.deferred, fieldError{FieldDocumentType, err})
		} else {
			u.DocumentType = t
		}
	}
	if u.BirthDate != "" && r.opts.DateLayout != "" && r.opts.DateLayout != apiDateLayout {
		// Another layout: the value must be converted for the hash now.
		if d, err := validate.Date(u.BirthDate, r.opts.DateLayout, r.opts.Now()); err != nil {
			rec.deferred = append(rec.deferred, fieldError{FieldBirthDate, err})
			rec.dateChecked = true
		} else {
			u.BirthDate, rec.dateChecked, rec.dateOK = d, true, true
		}
	}

	rec.check = r.check
	if u.ExternalUserID == "" {
		return nil
	}
	first, dup, err := r.seen.add(u.ExternalUserID, rec.Line)
	if err != nil {
		return err
	}
	if dup {
		rec.DupOf = first
		rec.problems = append(rec.problems, Problem{Line: rec.Line, Column: r.columnName(FieldExternalUserID),
			Reason: fmt.Sprintf("duplicate of line %d: the same externalUserId appears twice in this file", first)})
	}
	return nil
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

	// Bytes that are not UTF-8 are refused per field, never replaced: a
	// file in a legacy character set shows here first.
	var badText map[string]bool
	for _, f := range Fields {
		if v := u.Get(f); !utf8.ValidString(v) {
			if badText == nil {
				badText = map[string]bool{}
			}
			badText[f] = true
			problem(f, fmt.Errorf("is not valid UTF-8 (byte %d): the file may be in another character set, such as Windows-1250; give it with --encoding", invalidAt(v)+1))
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
		if v := u.Get(f); v != "" && !badText[f] {
			if err := validate.Text(v, validate.MaxLen[f]); err != nil {
				problem(f, err)
			}
		}
	}
	if u.Email != "" && !badText[FieldEmail] {
		if err := validate.Email(u.Email); err != nil {
			problem(FieldEmail, err)
		}
	}
	for _, d := range rec.deferred {
		if !badText[d.field] {
			problem(d.field, d.err)
		}
	}
	if u.BirthDate != "" && !rec.dateChecked && !badText[FieldBirthDate] {
		if d, err := validate.Date(u.BirthDate, apiDateLayout, r.opts.Now()); err != nil {
			problem(FieldBirthDate, err)
		} else {
			u.BirthDate, rec.dateOK = d, true
		}
	}
	if u.Pesel != "" && !badText[FieldPesel] {
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
