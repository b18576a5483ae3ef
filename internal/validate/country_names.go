package validate

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/unicode/norm"
)

// This file reads a country written as an ISO 3166-1 alpha-3 code or as a
// name. Names come from four places, for every code of the table in
// countries.go:
//
//   - the ISO 3166-1 English short name of that table, and for a name with a
//     comma ("Korea, Republic of") also the part before it ("Korea") and the
//     two parts swapped ("Republic of Korea");
//   - the CLDR region names of golang.org/x/text/language/display in English,
//     Polish and German;
//   - the CLDR name in the country's own language: the likely language (and
//     script) of "und-XX", e.g. cs for CZ, uk for UA, zh-Hant for TW, plus
//     the few extra official languages of [countryExtraLangs];
//   - the hand-written [countryAliases], for what CLDR lacks (UK, USA,
//     Holland, Czech Republic, ...).
//
// A parenthesised part of a name is dropped ("Myanmar (Burma)" is also read
// as "Myanmar"). Names are compared folded (see [countryFold]). A folded name
// that two codes claim is ambiguous: it is never accepted, and refusing it
// names both codes.

// countryNameMaxQuote is how many characters of a value a note or a reason
// quotes at most.
const countryNameMaxQuote = 40

// countryExtraLangs lists official languages besides the likely one that
// x/text infers for a region (only one per region), so that "Belgique",
// "Suisse" or "Srbija" are read too. It is deliberately short: European
// countries our partners write about, and a few where a second language is
// what people use in writing.
var countryExtraLangs = map[string][]string{
	"BA": {"hr", "sr"},
	"BE": {"fr", "de"},
	"BY": {"ru"},
	"CA": {"fr"},
	"CH": {"fr", "it", "rm"},
	"CY": {"tr"},
	"FI": {"sv"},
	"GL": {"da"},
	"IE": {"ga"},
	"IN": {"en"},
	"KG": {"ru"},
	"KZ": {"ru"},
	"LU": {"lb", "de"},
	"MT": {"en"},
	"NO": {"nn"},
	"PH": {"en"},
	"PK": {"en"},
	"PR": {"en"},
	"RS": {"sr-Latn"},
	"SG": {"zh", "ms"},
	"ZA": {"af"},
}

// countryAliases are names people write that neither ISO nor CLDR (version
// 32, as shipped in x/text) spell that way: short forms, former or informal
// names, and full official names in Polish and German.
var countryAliases = []struct{ name, code string }{
	{"UK", "GB"}, // "UK" itself takes the code path; this is for "U.K."
	{"Great Britain", "GB"},
	{"Britain", "GB"},
	{"England", "GB"},
	{"Scotland", "GB"},
	{"Wales", "GB"},
	{"Northern Ireland", "GB"},
	{"Anglia", "GB"},
	{"Szkocja", "GB"},
	{"Walia", "GB"},
	{"Irlandia Północna", "GB"},
	{"Zjednoczone Królestwo", "GB"},
	{"Großbritannien", "GB"},
	{"Schottland", "GB"},
	{"Nordirland", "GB"},
	{"US", "US"},  // "US" itself is a code; this is for "U.S."
	{"USA", "US"}, // "USA" itself is alpha-3; this is for "U.S.A."
	{"United States of America", "US"},
	{"Stany Zjednoczone Ameryki", "US"},
	{"Vereinigte Staaten von Amerika", "US"},
	{"Holland", "NL"},
	{"Niderlandy", "NL"},
	{"Czech Republic", "CZ"},
	{"Republika Czeska", "CZ"},
	{"Tschechische Republik", "CZ"},
	{"Česká republika", "CZ"},
	{"Republika Federalna Niemiec", "DE"},
	{"Bundesrepublik Deutschland", "DE"},
	{"Federacja Rosyjska", "RU"},
	{"Russische Föderation", "RU"},
	{"Rzeczpospolita Polska", "PL"},
	{"Republik Österreich", "AT"},
	{"Weißrussland", "BY"},
	{"Hongkong", "HK"},
	{"Makau", "MO"},
	{"Macau", "MO"},
	{"UAE", "AE"},
	{"Ivory Coast", "CI"},
	{"Vatican", "VA"},
	{"Burma", "MM"},
	{"Palestine", "PS"},
	// CLDR's Polish name of CG is "Kongo", but Polish and German speakers
	// write it for either Congo: claiming it for CD too makes it ambiguous.
	{"Kongo", "CD"},
}

// countryNames is the lookup table, built on first use by a name or alpha-3
// code and read-only afterwards. Two-letter codes never build it.
var countryNames = sync.OnceValue(newCountryNameTable)

// countryNameTable maps folded names to codes.
type countryNameTable struct {
	codes     map[string]string   // folded name -> alpha-2 code, unambiguous names only
	ambiguous map[string][]string // folded name -> the sorted codes that claim it
	keys      []countryNameKey    // the names of codes, for suggestions
}

// countryNameKey is one unambiguous folded name, as runes for the edit
// distance.
type countryNameKey struct {
	runes []rune
	code  string
}

func newCountryNameTable() *countryNameTable {
	claims := make(map[string][]string) // folded name -> codes, in table order
	add := func(name, code string) {
		for _, n := range countryNameVariants(name) {
			k := countryFold(n)
			if k != "" && !slices.Contains(claims[k], code) {
				claims[k] = append(claims[k], code)
			}
		}
	}
	dicts := []display.Namer{display.English.Regions(), display.Polish.Regions(), display.German.Regions()}
	for _, c := range countries {
		add(c.name, c.code)
		for _, part := range countryCommaForms(c.name) {
			add(part, c.code)
		}
		region := language.MustParseRegion(c.code)
		for _, d := range dicts {
			add(d.Name(region), c.code)
		}
		for _, tag := range countryOwnLangs(c.code) {
			if d := display.Regions(tag); d != nil {
				add(d.Name(region), c.code)
			}
		}
	}
	for _, a := range countryAliases {
		add(a.name, a.code)
	}

	t := &countryNameTable{codes: make(map[string]string), ambiguous: make(map[string][]string)}
	for k, codes := range claims {
		if len(codes) > 1 {
			t.ambiguous[k] = slices.Sorted(slices.Values(codes))
			continue
		}
		t.codes[k] = codes[0]
		t.keys = append(t.keys, countryNameKey{[]rune(k), codes[0]})
	}
	// Map order is random; sorting makes suggestions deterministic.
	slices.SortFunc(t.keys, func(a, b countryNameKey) int {
		return strings.Compare(string(a.runes), string(b.runes))
	})
	return t
}

// countryOwnLangs returns the languages a country names itself in: the
// likely language and script of the region, then those of
// [countryExtraLangs].
func countryOwnLangs(code string) []language.Tag {
	likely := language.Make("und-" + code)
	base, _ := likely.Base()
	script, _ := likely.Script()
	tags := []language.Tag{}
	if t, err := language.Compose(base, script); err == nil {
		tags = append(tags, t)
	}
	for _, l := range countryExtraLangs[code] {
		tags = append(tags, language.MustParse(l))
	}
	return tags
}

// countryNameVariants returns name, and name without a parenthesised part
// ("Myanmar (Burma)" -> "Myanmar"), and for names with German umlauts the
// spelling with ae, oe, ue ("Österreich" -> "Oesterreich"); folding then
// covers the spelling without any marks ("Osterreich").
func countryNameVariants(name string) []string {
	out := []string{name}
	if i := strings.IndexByte(name, '('); i > 0 {
		if j := strings.IndexByte(name[i:], ')'); j > 0 {
			out = append(out, strings.TrimSpace(name[:i]+name[i+j+1:]))
		}
	}
	for _, n := range out {
		if strings.ContainsAny(n, "äöüÄÖÜ") {
			out = append(out, countryUmlauts.Replace(n))
		}
	}
	return out
}

var countryUmlauts = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue")

// countryCommaForms returns, for an ISO name of the form "Korea, Republic
// of", the part before the comma and the two parts swapped: "Korea" and
// "Republic of Korea". Other names give nothing.
func countryCommaForms(name string) []string {
	head, tail, ok := strings.Cut(name, ", ")
	if !ok {
		return nil
	}
	return []string{head, tail + " " + head}
}

// countryFoldSpecial spells letters that Unicode does not decompose into a
// base letter and a mark, so "Wlochy" meets "Włochy" and "Grossbritannien"
// meets "Großbritannien".
var countryFoldSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ħ': "h", 'ŀ': "l", 'ς': "σ",
}

// countryFold is the form names are compared in: decomposed (NFD) with the
// marks dropped, lower case, the letters of [countryFoldSpecial] spelt out,
// and everything that is not a letter or digit (spaces, dots, hyphens,
// apostrophes, "&") dropped, so "U.S.A.", "U S A" and "usa" are one name. A
// leading English "the" goes too ("The Netherlands").
func countryFold(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 4 && strings.EqualFold(s[:4], "the ") {
		s = s[4:]
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue // a mark, a space or punctuation
		}
		r = unicode.ToLower(r)
		if sp, ok := countryFoldSpecial[r]; ok {
			b.WriteString(sp)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// countryByAlpha3 reads an ISO 3166-1 alpha-3 code (upper case) of one of the
// 249 assigned codes, e.g. POL as PL. x/text knows withdrawn and reserved
// codes too (ZAR, YUG); the table in countries.go keeps them out.
func countryByAlpha3(code string) (string, bool) {
	r, err := language.ParseRegion(code)
	if err != nil || r.ISO3() != code { // ISO3 differs for M.49 numbers ("616")
		return "", false
	}
	if _, ok := lookupCountry(r.String()); !ok {
		return "", false
	}
	return r.String(), true
}

// countryByName reads s, already trimmed and at least one character long,
// as an alpha-3 code or a name. refuse is what to say when s is neither: the
// caller's message for a malformed code when s is too short to be a name,
// or nil to let countryByName explain and suggest.
func countryByName(s string, refuse error) (canonical, note string, err error) {
	if len(s) == 3 && countryIsASCIILetter(s[0]) && countryIsASCIILetter(s[1]) && countryIsASCIILetter(s[2]) {
		if code, ok := countryByAlpha3(strings.ToUpper(s)); ok {
			return countryRead(s, code)
		}
	}
	k := countryFold(s)
	t := countryNames()
	if code, ok := t.codes[k]; ok {
		return countryRead(s, code)
	}
	if codes, ok := t.ambiguous[k]; ok {
		named := make([]string, len(codes))
		for i, c := range codes {
			named[i] = countryLabel(c)
		}
		return "", "", problemf("%s could be %s; use the two-letter ISO 3166-1 code", countryQuote(s), strings.Join(named, " or "))
	}
	if refuse != nil {
		return "", "", refuse
	}
	if code := t.suggest(k); code != "" {
		return "", "", problemf("%s is not a country code or a name we know; did you mean %s?", countryQuote(s), countryLabel(code))
	}
	return "", "", problemf("%s is not a country code or a name we know; use a two-letter ISO 3166-1 code such as PL", countryQuote(s))
}

// countryRead accepts code as read from s, applying the territory rule, with
// a note saying so.
func countryRead(s, code string) (canonical, note string, err error) {
	note = fmt.Sprintf("%s read as %s", countryQuote(s), code)
	if to := sentAs(code); to != "" {
		name, _ := lookupCountry(code)
		return to, fmt.Sprintf("%s (%s), which is sent as %s", note, name, to), nil
	}
	return code, note, nil
}

// countryLabel is a code with its ISO name, e.g. "PL (Poland)".
func countryLabel(code string) string {
	name, _ := lookupCountry(code)
	return fmt.Sprintf("%s (%s)", code, name)
}

// countryQuote quotes a value for a note or a reason, cut to
// [countryNameMaxQuote] characters. A country name is not personal data, but
// a value with a digit or an "@" may be something else in the wrong column
// (a PESEL, an e-mail address), so it is not repeated; nor is one that is
// not printable text (invalid UTF-8, control characters), which no name is.
func countryQuote(s string) string {
	if strings.ContainsAny(s, "0123456789@") || !utf8.ValidString(s) || strings.ContainsFunc(s, countryNotPrintable) {
		return "the value"
	}
	if utf8.RuneCountInString(s) > countryNameMaxQuote {
		s = string([]rune(s)[:countryNameMaxQuote]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// suggest returns the code whose folded name is closest to k, or "" when
// none is close enough or two codes are equally close. Close enough is an
// optimal-string-alignment distance (insertions, deletions, substitutions
// and swaps of neighbours) of at most [countryMaxEdits] for k's length.
func (t *countryNameTable) suggest(k string) string {
	in := []rune(k)
	limit := countryMaxEdits(len(in))
	if limit == 0 {
		return ""
	}
	best, code := limit+1, ""
	var rows []int // the edit distance's working rows, reused
	for _, key := range t.keys {
		if d := len(key.runes) - len(in); d > limit || -d > limit {
			continue
		}
		if need := 3 * (len(key.runes) + 1); cap(rows) < need {
			rows = make([]int, need)
		}
		switch d := countryEditDistance(in, key.runes, rows); {
		case d < best:
			best, code = d, key.code
		case d == best && key.code != code:
			code = "" // a tie between two codes: suggest neither
		}
	}
	if best > limit {
		return ""
	}
	return code
}

// countryMaxEdits is how many edits a suggestion may be away from a folded
// name of n letters: none below 4 letters (three letters are one edit from
// too many names), 1 for 4 to 7, 2 from 8 on.
func countryMaxEdits(n int) int {
	switch {
	case n < 4:
		return 0
	case n < 8:
		return 1
	}
	return 2
}

// EditDistance is the optimal string alignment distance between a and b, in
// runes (Levenshtein, with the swap of two neighbours as one edit), for
// "did you mean" suggestions.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	return countryEditDistance(ra, rb, make([]int, 3*(len(rb)+1)))
}

// countryEditDistance is the optimal string alignment distance between a and
// b: Levenshtein plus the swap of two neighbours as one edit, so "polsak" is
// one edit from "polska". rows is scratch space of at least 3*(len(b)+1).
func countryEditDistance(a, b []rune, rows []int) int {
	// Three rows of the dynamic programming matrix: i-2, i-1 and i.
	n := len(b) + 1
	prev2, prev, cur := rows[:n], rows[n:2*n], rows[2*n:3*n]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func countryNotPrintable(r rune) bool { return !unicode.IsPrint(r) }

func countryIsASCIILetter(b byte) bool { return 'a' <= b|0x20 && b|0x20 <= 'z' }
