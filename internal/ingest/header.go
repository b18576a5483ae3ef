package ingest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/p100/p100-importer/internal/validate"
)

// headerAliases are the column names, other than the API's own, that
// partners' tools write for each field: English variants, Polish and
// German. They are compared folded (see foldHeader): case, spaces, dashes,
// underscores, dots and diacritics do not count.
var headerAliases = map[string][]string{
	FieldExternalUserID: {
		"id", "user id", "userid", "external id", "customer id", "customer number", "client id", "client number", "partner user id", "member id", "account id",
		"identyfikator", "id klienta", "id uzytkownika", "numer klienta", "nr klienta", "identyfikator klienta", "identyfikator uzytkownika",
		"kundennummer", "kunden id", "kundenid", "benutzer id", "benutzerid", "kunden nr", "kundennr",
	},
	FieldEmail: {
		"e-mail", "mail", "email address", "e-mail address", "emailaddress",
		"adres e-mail", "adres email", "poczta", "poczta e-mail",
		"e-mail-adresse", "emailadresse", "mailadresse",
	},
	FieldFirstName: {
		"first name", "given name", "forename", "name first",
		"imie", "imiona", "pierwsze imie",
		"vorname", "rufname",
		"prenom",
	},
	FieldLastName: {
		"last name", "surname", "family name", "name last",
		"nazwisko",
		"nachname", "familienname", "zuname",
		"nom", "nom de famille",
	},
	FieldAddress: {
		"street", "street address", "address line", "address line 1", "address1", "street and number",
		"adres", "ulica", "adres zamieszkania", "ulica i numer",
		"adresse", "strasse", "anschrift", "strasse und hausnummer", "strasse hausnummer",
	},
	FieldCity: {
		"town", "locality",
		"miasto", "miejscowosc",
		"stadt", "ort", "wohnort",
		"ville",
	},
	FieldCountry: {
		"country code", "country of residence", "residence country",
		"kraj", "kraj zamieszkania", "panstwo",
		"land", "wohnland", "staat",
		"pays",
	},
	FieldDocumentType: {
		"document type", "id type", "id document type", "doc type",
		"typ dokumentu", "rodzaj dokumentu",
		"dokumenttyp", "dokumentart", "ausweisart", "ausweistyp",
	},
	FieldDocumentNumber: {
		"document number", "id number", "id document number", "doc number", "document no", "passport number",
		"numer dokumentu", "nr dokumentu", "seria i numer dokumentu", "numer dowodu",
		"dokumentnummer", "ausweisnummer", "passnummer",
	},
	FieldPesel: {
		"pesel number", "numer pesel", "nr pesel",
	},
	FieldBirthCountry: {
		"birth country", "country of birth",
		"kraj urodzenia", "panstwo urodzenia",
		"geburtsland",
		"pays de naissance",
	},
	FieldBirthDate: {
		"birth date", "date of birth", "dob", "birthday",
		"data urodzenia", "data ur",
		"geburtsdatum", "geburtstag",
		"date de naissance",
	},
}

// headerMatcher maps a file's column names to API fields: the user's --map
// and the API's own names first (exact), then the aliases.
type headerMatcher struct {
	exact map[string]string // folded name -> field
	alias map[string]string // folded alias -> field
}

func newHeaderMatcher(mapping map[string]string) *headerMatcher {
	m := &headerMatcher{exact: make(map[string]string, 32), alias: make(map[string]string, 256)}
	for f, aliases := range headerAliases {
		for _, a := range aliases {
			m.alias[foldHeader(a)] = f
		}
	}
	for _, f := range Fields {
		m.exact[foldHeader(f)] = f
	}
	for h, f := range mapping {
		m.exact[foldHeader(h)] = f
	}
	return m
}

// field returns the API field a column name maps to, and whether by an
// exact name (the API's, or --map) rather than an alias.
func (m *headerMatcher) field(column string) (field string, exact, ok bool) {
	fc := foldHeader(column)
	if f, ok := m.exact[fc]; ok {
		return f, true, true
	}
	f, ok := m.alias[fc]
	return f, false, ok
}

// isHeader reports whether cells look like a header row: at least two of
// them name distinct API fields.
func (m *headerMatcher) isHeader(cells []string) bool {
	var seen [16]string
	n := 0
	for _, c := range cells {
		if f, _, ok := m.field(c); ok && !slices.Contains(seen[:n], f) && n < len(seen) {
			seen[n] = f
			n++
			if n >= 2 {
				return true
			}
		}
	}
	return false
}

// foldHeader folds a column name for matching: case, diacritics, spaces,
// dashes, underscores and dots do not count ("E-Mail" == "email",
// "Imię" == "imie", "External User ID" == "externaluserid").
func foldHeader(h string) string {
	var b strings.Builder
	b.Grow(len(h))
	for _, r := range norm.NFD.String(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		switch {
		case r == 'ł' || r == 'Ł':
			b.WriteRune('l')
		case r == 'ß':
			b.WriteString("ss")
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// closestColumn returns the column of candidates most like field's names,
// for a "did you mean" in a missing-column error.
func closestColumn(field string, candidates []string) (string, bool) {
	names := append([]string{field}, headerAliases[field]...)
	best, bestScore := "", 0.0
	for _, c := range candidates {
		fc := foldHeader(c)
		if fc == "" {
			continue
		}
		for _, n := range names {
			fn := foldHeader(n)
			score := similarity(fc, fn)
			if len(fn) >= 3 && strings.Contains(fc, fn) {
				score = max(score, 0.8)
			}
			if score > bestScore {
				best, bestScore = c, score
			}
		}
	}
	return best, bestScore >= 0.6
}

// similarity is 1 - the edit distance over the longer length.
func similarity(a, b string) float64 {
	n := max(utf8.RuneCountInString(a), utf8.RuneCountInString(b))
	if n == 0 {
		return 1
	}
	return 1 - float64(validate.EditDistance(a, b))/float64(n)
}

// dataLike recognises cells that are values rather than column names: an
// e-mail address, a long number, a date. A header made of such cells is a
// data row, and its cells (personal data) must never be echoed.
var dataLike = regexp.MustCompile(`@|\d{5,}|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}`)

// personalLike recognises a cell no column name holds: an e-mail address or
// a number of nine digits or more (a PESEL, a phone number).
var personalLike = regexp.MustCompile(`@|\d{9,}`)

func looksLikeData(cells []string) bool {
	for _, c := range cells {
		if dataLike.MatchString(c) {
			return true
		}
	}
	return false
}

// mapSuggestion builds the --map flag that maps the given columns.
func mapSuggestion(pairs [][2]string) string {
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p[0] + "=" + p[1]
	}
	return fmt.Sprintf("--map '%s'", strings.ReplaceAll(strings.Join(parts, ","), "'", `'\''`))
}

// HeaderError means the header cannot be used: nothing may be sent.
type HeaderError struct {
	Missing    []string            // required fields without a column
	Duplicates map[string][]string // field -> the columns that all map to it
	Header     []string            // the header as read
	Closest    map[string]string   // missing field -> the file's column most like it
	DataLike   bool                // the first line holds values, not column names: never echoed
	Err        error               // a header that could not be read at all
}

func (e *HeaderError) Error() string {
	var parts []string
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	if e.DataLike {
		return "unusable header: the first line looks like a user's data, not column names (it holds an e-mail address, a long number or a date); " +
			"add a header line naming the columns, such as " + strings.Join(DefaultRequired, string(',')) +
			"; if the file has one, its lines may end in breaks a CSV does not use (save it again as CSV) (the line is not shown: it may hold personal data)"
	}
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required column(s): "+strings.Join(e.Missing, ", "))
	}
	for _, f := range sortedKeys(e.Duplicates) {
		parts = append(parts, fmt.Sprintf("columns %s all map to %s", quoteAll(e.Duplicates[f]), f))
	}
	msg := "unusable header: " + strings.Join(parts, "; ")
	if len(e.Header) > 0 {
		msg += "; the file has: " + quoteAll(e.Header)
	}
	if len(e.Missing) > 0 {
		var pairs [][2]string
		var none []string
		for _, f := range e.Missing {
			if c, ok := e.Closest[f]; ok {
				pairs = append(pairs, [2]string{c, f})
			} else {
				none = append(none, f)
			}
		}
		if len(pairs) > 0 {
			hints := make([]string, len(pairs))
			for i, p := range pairs {
				hints[i] = fmt.Sprintf("%q for %s", p[0], p[1])
			}
			msg += "; closest: " + strings.Join(hints, ", ") + "; if those are right, pass " + mapSuggestion(pairs)
		}
		if len(none) > 0 {
			msg += fmt.Sprintf("; no column looks like %s: add it, map it with --map 'YOUR COLUMN=%s', or leave it out of --required if P100 does not need it",
				strings.Join(none, ", "), none[0])
		}
	}
	return msg
}

func (e *HeaderError) Unwrap() error { return e.Err }

// mapHeader matches the file's columns to API fields and tells gocsv. The
// API's own names and --map come first; an alias (a Polish or German name,
// an English variant) takes a field only when no column has its own name.
func (r *Reader) mapHeader(m *headerMatcher) error {
	r.fieldOf = make([]string, len(r.header))
	r.columnOf = make(map[string]string, len(Fields))
	exactOf := map[string]bool{}
	dups := map[string][]string{}
	for _, exactPass := range []bool{true, false} {
		for i, h := range r.header {
			f, exact, ok := m.field(h)
			if !ok || exact != exactPass {
				continue
			}
			if prev, taken := r.columnOf[f]; taken {
				if !exactPass && exactOf[f] {
					continue // an alias beside the API's own name: ignored
				}
				if len(dups[f]) == 0 {
					dups[f] = []string{prev}
				}
				dups[f] = append(dups[f], h)
				continue
			}
			r.fieldOf[i], r.columnOf[f] = f, h
			exactOf[f] = exactPass
		}
	}
	renamed := make([]string, len(r.header))
	var unmapped []string
	for i, h := range r.header {
		if f := r.fieldOf[i]; f != "" {
			renamed[i] = f
			continue
		}
		r.extra = true
		renamed[i] = "\x00extra\x00" + h // can never match a struct tag
		unmapped = append(unmapped, h)
	}
	for _, h := range unmapped {
		if personalLike.MatchString(h) {
			// A "header" holding an e-mail address or a PESEL is a data
			// line: a file without a header, or one whose line breaks were
			// not seen, would otherwise be read as one header and no rows.
			return &HeaderError{DataLike: true}
		}
	}
	var missing []string
	for _, f := range r.required {
		if _, ok := r.columnOf[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 || len(dups) > 0 {
		he := &HeaderError{Missing: missing, Duplicates: dups, Header: r.header}
		if len(r.columnOf) == 0 && looksLikeData(r.header) {
			return &HeaderError{Missing: missing, DataLike: true}
		}
		he.Closest = map[string]string{}
		for _, f := range missing {
			if c, ok := closestColumn(f, unmapped); ok {
				he.Closest[f] = c
				unmapped = slices.DeleteFunc(unmapped, func(u string) bool { return u == c })
			}
		}
		return he
	}
	return r.um.RenormalizeHeaders(func([]string) []string { return renamed })
}
