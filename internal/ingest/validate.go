package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/p100/p100-importer/internal/validate"
)

// validate trims and normalises rec.input into rec.User and records every
// problem with the row. Messages never echo a PESEL or document number.
func (r *Reader) validate(rec *Record) {
	u := &rec.User
	*u = User(rec.input)
	for _, f := range Fields {
		p := u.fieldPtr(f)
		*p = strings.TrimSpace(*p)
	}
	problem := func(field string, err error) {
		reason := err.Error()
		var p validate.Problem
		if errors.As(err, &p) {
			reason = p.Reason
		}
		rec.Problems = append(rec.Problems, Problem{Line: rec.Line, Column: r.columnName(field), Reason: reason})
	}

	// Bytes that are not UTF-8 are refused per field, never replaced: a
	// file in a legacy character set shows here first.
	badText := map[string]bool{}
	for _, f := range Fields {
		if v := u.Get(f); !utf8.ValidString(v) {
			badText[f] = true
			problem(f, fmt.Errorf("is not valid UTF-8 (byte %d): the file may be in another character set, such as Windows-1250; give it with --encoding", invalidAt(v)+1))
			u.Set(f, "")
		}
	}

	for _, f := range r.required {
		if u.Get(f) == "" && !badText[f] {
			if _, ok := r.columnOf[f]; ok {
				problem(f, errors.New("is required but empty"))
			}
		}
	}

	for _, f := range []string{FieldFirstName, FieldLastName, FieldAddress, FieldCity} {
		p := u.fieldPtr(f)
		*p = oneLine(*p)
	}
	for _, f := range []string{FieldExternalUserID, FieldFirstName, FieldLastName, FieldAddress, FieldCity, FieldDocumentNumber} {
		if v := u.Get(f); v != "" {
			if err := validate.Text(v, validate.MaxLen[f]); err != nil {
				problem(f, err)
			}
		}
	}
	if u.Email != "" {
		if err := validate.Email(u.Email); err != nil {
			problem(FieldEmail, err)
		}
	}
	for _, f := range []string{FieldCountry, FieldBirthCountry} {
		v := u.fieldPtr(f)
		if *v == "" {
			continue
		}
		code, note, err := validate.Country(*v)
		if err != nil {
			problem(f, err)
			continue
		}
		*v = code
		if note != "" {
			rec.Notes = append(rec.Notes, fmt.Sprintf("%s: %s", r.columnName(f), note))
		}
	}
	if u.DocumentType != "" {
		if t, err := validate.DocumentType(u.DocumentType, r.opts.DocumentTypes); err != nil {
			problem(FieldDocumentType, err)
		} else {
			u.DocumentType = t
		}
	}
	birthOK := false
	if u.BirthDate != "" {
		if d, err := validate.Date(u.BirthDate, r.opts.DateLayout, r.opts.Now()); err != nil {
			problem(FieldBirthDate, err)
		} else {
			u.BirthDate, birthOK = d, true
		}
	}
	if u.Pesel != "" {
		birth, err := validate.PESEL(u.Pesel)
		switch {
		case err != nil:
			problem(FieldPesel, err)
		case birthOK && birth.Format("2006-01-02") != u.BirthDate:
			problem(FieldPesel, fmt.Errorf("encodes the birth date %s, but %s says %s",
				birth.Format("2006-01-02"), r.columnName(FieldBirthDate), u.BirthDate))
		}
	}

	if u.ExternalUserID != "" {
		if first, dup := r.seen.add(u.ExternalUserID, rec.Line); dup {
			rec.DupOf = first
			problem(FieldExternalUserID, fmt.Errorf("duplicate of line %d: the same externalUserId appears twice in this file", first))
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
