package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/p100/p100-importer/internal/validate"
)

// Repair is a kind of change the reader makes to a value so that it
// reaches P100 as the partner sees it in the spreadsheet.
type Repair string

// The repairs, as `importer validate` counts them.
const (
	RepairInvisible    Repair = "invisible characters removed"
	RepairPESELZero    Repair = "PESEL leading zeros restored"
	RepairDateForm     Repair = "dates converted to YYYY-MM-DD"
	RepairCountryName  Repair = "country names and ISO alpha-3 codes mapped to codes"
	RepairTerritory    Repair = "territories sent as their country"
	RepairFormula      Repair = "Excel text formulas (=\"...\") unwrapped"
	RepairLineBreak    Repair = "line breaks folded into spaces"
	RepairDocumentType Repair = "document type names mapped to P100's"
)

// Repairs lists the kinds in the order they are reported.
var Repairs = []Repair{RepairInvisible, RepairPESELZero, RepairDateForm, RepairCountryName,
	RepairTerritory, RepairFormula, RepairLineBreak, RepairDocumentType}

// Note tells what was repaired or decided about one value of a row. Its
// text never holds personal data.
type Note struct {
	Kind   Repair
	Column string // the column as written in the file
	Text   string // e.g. "leading zero restored (the PESEL agrees with birthDate)"
}

func (n Note) String() string { return n.Column + ": " + n.Text }

// DateFormError means the birthDate column writes slashed dates (1/2/1990)
// and no row tells whether the day or the month comes first: nothing is
// sent until the user says which.
type DateFormError struct {
	Column string
	Line   int // the first slashed date
}

func (e *DateFormError) Error() string {
	return fmt.Sprintf("column %q writes dates with slashes (from line %d on) and no row shows whether the day or the month comes first (no value above 12): "+
		"pass --date-format 2/1/2006 if the day comes first (1/2/1990 is 1 February 1990), or --date-format 1/2/2006 if the month does (1/2/1990 is 2 January 1990)",
		e.Column, e.Line)
}

// slashOrder is what the birthDate column's slashed dates turned out to
// be: decided once for the whole column, never row by row.
type slashOrder struct {
	order int // orderUnknown, orderDayFirst or orderMonthFirst
	line  int // the row that decided it
}

const (
	orderUnknown = iota
	orderDayFirst
	orderMonthFirst
)

func (o slashOrder) String() string {
	if o.order == orderDayFirst {
		return fmt.Sprintf("D/M/YYYY: day first, as line %d shows", o.line)
	}
	return fmt.Sprintf("M/D/YYYY: month first, as line %d shows", o.line)
}

// learn notes what a slashed value says about the column's order.
func (o *slashOrder) learn(value string, line int) {
	if o.order != orderUnknown {
		return
	}
	a, b, _, ok := validate.SlashedParts(value)
	switch {
	case !ok:
	case a > 12 && b <= 12:
		o.order, o.line = orderDayFirst, line
	case b > 12 && a <= 12:
		o.order, o.line = orderMonthFirst, line
	}
}

// documentTypeNames are what partners' systems write for P100's document
// types, folded as headers are.
var documentTypeNames = map[string]string{
	"passport": "PASSPORT", "paszport": "PASSPORT", "reisepass": "PASSPORT", "pass": "PASSPORT", "passeport": "PASSPORT",
	"idcard": "ID_CARD", "identitycard": "ID_CARD", "nationalidcard": "ID_CARD", "dowodosobisty": "ID_CARD", "dowod": "ID_CARD",
	"personalausweis": "ID_CARD", "ausweis": "ID_CARD", "cartedidentite": "ID_CARD", "id": "ID_CARD",
	"residencepermit": "RESIDENCE_PERMIT", "kartapobytu": "RESIDENCE_PERMIT", "aufenthaltstitel": "RESIDENCE_PERMIT",
	"aufenthaltserlaubnis": "RESIDENCE_PERMIT", "titredesejour": "RESIDENCE_PERMIT",
}

// prepare trims, cleans and normalises rec.input into rec.User (what the
// content hash is computed over), repairing what spreadsheets mangle, and
// flags a repeated externalUserId. The field rules run only when someone
// asks whether the row is valid (check), which a rerun never does for rows
// already imported.
func (r *Reader) prepare(rec *Record) error {
	u := &rec.User
	*u = rec.input
	for _, f := range Fields {
		p := u.fieldPtr(f)
		v := *p
		if v == "" {
			continue
		}
		if v[0] == '=' {
			if inner, ok := validate.UnwrapFormula(v); ok {
				v = inner
				r.note(rec, RepairFormula, f, `the text formula ="..." was read as the text inside`)
			}
		}
		var invisible bool
		if isFreeText(f) {
			if folded := oneLine(v); folded != v {
				if strings.ContainsAny(v, "\r\n") {
					r.note(rec, RepairLineBreak, f, "line breaks folded into spaces (P100 takes one line)")
				}
				v = folded
			}
			v, invisible = validate.CleanText(v)
		} else {
			v, invisible = validate.CleanCode(v)
		}
		if invisible {
			r.note(rec, RepairInvisible, f, "invisible characters removed (zero-width or non-breaking spaces, soft hyphens, direction marks)")
		}
		*p = v
	}
	for _, f := range []string{FieldExternalUserID, FieldDocumentNumber} {
		if v := u.Get(f); v != "" && validate.ScientificNotation(v) {
			rec.deferred = append(rec.deferred, fieldError{f, validate.ErrScientific()})
		}
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
		if note != "" {
			kind := RepairCountryName
			if len(*v) == 2 {
				kind = RepairTerritory
			}
			r.note(rec, kind, f, note)
		}
		*v = code
	}
	if u.DocumentType != "" {
		t, err := validate.DocumentType(u.DocumentType, r.opts.DocumentTypes)
		if err != nil {
			if known, ok := documentTypeNames[foldHeader(u.DocumentType)]; ok && slices.ContainsFunc(r.opts.DocumentTypes, func(a string) bool { return strings.EqualFold(strings.TrimSpace(a), known) }) {
				t, err = known, nil
				r.note(rec, RepairDocumentType, FieldDocumentType, "read as "+known)
			}
		}
		if err != nil {
			rec.deferred = append(rec.deferred, fieldError{FieldDocumentType, err})
		} else {
			u.DocumentType = t
		}
	}
	rec.peselRaw = u.Pesel
	r.prepareDate(rec)
	if !rec.datePending {
		r.preparePESEL(rec)
	}

	rec.check = r.check
	if u.ExternalUserID == "" {
		return nil
	}
	file, first, dup, err := r.seen.add(u.ExternalUserID, rec.Line)
	if err != nil {
		return err
	}
	if dup {
		rec.DupOf = first
		reason := fmt.Sprintf("duplicate of line %d: the same externalUserId appears twice in this file", first)
		if file != "" {
			reason = fmt.Sprintf("duplicate of %s line %d: the same externalUserId appears in an earlier input of this run", file, first)
		}
		rec.problems = append(rec.problems, Problem{Line: rec.Line, Column: r.columnName(FieldExternalUserID), Reason: reason})
	}
	return nil
}

// note records a repair on the row and counts it.
func (r *Reader) note(rec *Record, kind Repair, field, text string) {
	rec.Notes = append(rec.Notes, Note{Kind: kind, Column: r.columnName(field), Text: text})
	r.repairs[kind]++
}

// isFreeText reports whether a field holds words (names, addresses) rather
// than a code: such fields keep their inner spaces.
func isFreeText(f string) bool {
	switch f {
	case FieldFirstName, FieldLastName, FieldAddress, FieldCity:
		return true
	}
	return false
}

// prepareDate converts birthDate to the API's form. Without --date-format
// the forms spreadsheets write are read (validate.ParseDateForm); a slashed
// date waits until its column's order is known.
func (r *Reader) prepareDate(rec *Record) {
	u := &rec.User
	if u.BirthDate == "" {
		return
	}
	if r.opts.DateLayout != "" {
		if r.opts.DateLayout == apiDateLayout {
			return // checked by check, in the API's form
		}
		// Another layout: the value must be converted for the hash now.
		if d, err := validate.Date(u.BirthDate, r.opts.DateLayout, r.opts.Now()); err != nil {
			rec.deferred = append(rec.deferred, fieldError{FieldBirthDate, err})
			rec.dateChecked = true
		} else {
			u.BirthDate, rec.dateChecked, rec.dateOK = d, true, true
		}
		return
	}
	iso, form, err := validate.ParseDateForm(u.BirthDate)
	switch {
	case err == nil:
		if form != "" {
			r.note(rec, RepairDateForm, FieldBirthDate, "converted from "+form)
		}
		u.BirthDate = iso
	case errors.Is(err, validate.ErrSlashedDate):
		r.slashed.learn(u.BirthDate, rec.Line)
		if r.slashed.order == orderUnknown {
			rec.datePending = true
			return
		}
		r.settleSlashed(rec)
	default:
		rec.deferred = append(rec.deferred, fieldError{FieldBirthDate, err})
		rec.dateChecked = true
	}
}

// settleDate finishes a row whose slashed birthDate waited for its
// column's order.
func (r *Reader) settleDate(rec *Record) {
	rec.datePending = false
	r.settleSlashed(rec)
	r.preparePESEL(rec)
}

// settleSlashed reads a slashed birthDate in the column's order.
func (r *Reader) settleSlashed(rec *Record) {
	u := &rec.User
	iso, err := validate.ParseSlashed(u.BirthDate, r.slashed.order == orderDayFirst)
	if err != nil {
		var p validate.Problem
		reason := err.Error()
		if errors.As(err, &p) {
			reason = p.Reason
		}
		rec.deferred = append(rec.deferred, fieldError{FieldBirthDate,
			fmt.Errorf("%s; the column is read as %s", reason, r.slashed)})
		rec.dateChecked = true
		return
	}
	r.note(rec, RepairDateForm, FieldBirthDate, "converted from "+r.slashed.String())
	u.BirthDate = iso
}

// preparePESEL repairs what a spreadsheet does to a PESEL: the leading
// zeros it drops when it stores the column as a number (restored only when
// the check digit and birthDate confirm them), and scientific notation
// (refused: the digits are gone).
func (r *Reader) preparePESEL(rec *Record) {
	u := &rec.User
	v := u.Pesel
	switch {
	case v == "":
	case validate.ScientificNotation(v):
		rec.deferred = append(rec.deferred, fieldError{FieldPesel, validate.ErrScientific()})
	case (len(v) == 9 || len(v) == 10) && allDigits(v):
		birth := u.BirthDate
		if rec.dateChecked && !rec.dateOK {
			birth = "" // a birthDate that failed cannot confirm anything
		}
		restored, err := validate.RestorePESEL(v, birth)
		if err != nil {
			rec.deferred = append(rec.deferred, fieldError{FieldPesel, err})
			return
		}
		u.Pesel = restored
		r.note(rec, RepairPESELZero, FieldPesel, fmt.Sprintf("%d leading zero(s) restored: a spreadsheet stored the PESEL as a number; the check digit and birthDate confirm it", 11-len(v)))
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
