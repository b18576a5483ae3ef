package charset

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Result is what a Detector concluded.
type Result struct {
	// Encoding is the value to pass as --encoding: "utf-8",
	// "windows-1250", "iso-8859-2", "ibm852", "windows-1252",
	// "iso-8859-15" or "iso-8859-1"; "" when undecided. Every value is
	// accepted by golang.org/x/text's ianaindex.IANA.Encoding.
	Encoding string
	Decided  bool
	// How says in words what decided, or why nothing did, for
	// `importer validate`.
	How string
	// Candidates are, when undecided, each plausible reading, best first.
	Candidates []Candidate
}

// Candidate is one plausible reading of an undecided input.
type Candidate struct {
	Encoding string // --encoding value
	// Words are up to 4 short sample words (the run of letters around
	// non-ASCII bytes, at most 24 characters) decoded this way; the same
	// words for every candidate, so a person can compare.
	Words []string
}

// Decision thresholds (log10 units for scores; see doc.go).
const (
	// utf8Ratio: valid multi-byte sequences per invalid byte for a file
	// with a few bad bytes to count as UTF-8.
	utf8Ratio = 4
	// decideMargin: how far the best reading's language score must lead the
	// next reading's.
	decideMargin = 2.0
	// minVetoLetters: a veto needs the rival to read at least this many
	// distinct letters on the bytes in question: any lone letter fits
	// some language.
	minVetoLetters = 2
	// minRunes: distinct non-ASCII characters needed to decide on language
	// alone; one letter is no context for itself.
	minRunes = 2
	// floorPerUnit: the lowest mean score per unit of evidence (see
	// langScore) a reading may have and still be decided on.
	floorPerUnit = -2.2
	// Garbage: a best reading with more bad points than
	// garbageBase + garbagePerHigh × high bytes is no reading.
	garbageBase    = 4
	garbagePerHigh = 0.2
	// denseRunsPct: the share of high bytes with high bytes on both sides
	// above which the text is no Latin script (Cyrillic, Greek read as
	// Latin: "Ìàðèÿ"). Polish or Czech names stay far below.
	denseRunsPct  = 40
	maxCandidates = 4
	maxShownWords = 4
	maxShownDiffs = 5
	// nativeScore: a letter scoring at least this in a language is called
	// one of its letters in How.
	nativeScore = -2.0
)

// reading is the pages that decode every high byte present to the same
// text, with that text's evidence.
type reading struct {
	pages []int // indexes into pages, by preference
	bad   int64
	score float64 // fit + the page's prior
	fit   float64 // langScore
	lang  string
	reg   region  // region of lang, or of the page when nothing is a letter
	units float64 // what fit adds up: letters by countWeight, symbols once
	runes int     // distinct non-ASCII characters
}

// name is the reading's --encoding value.
func (r *reading) name() string { return pages[r.pages[0]].name }

// Result returns the verdict on the bytes written so far. It does not
// change the Detector: more bytes may be written and Result called again.
// Bytes at the end that a later Write could complete (a high byte's right
// neighbour, an open UTF-8 sequence, a word) count as if the input ended
// there.
func (d *Detector) Result() Result {
	invalid := d.invalid
	if d.need > 0 {
		invalid += int64(d.seqLen)
	}
	switch {
	case d.high == 0:
		return Result{Encoding: "utf-8", Decided: true, How: "ASCII only"}
	case invalid == 0:
		return Result{Encoding: "utf-8", Decided: true, How: "valid UTF-8"}
	case d.validMulti >= utf8Ratio*invalid:
		return Result{Encoding: "utf-8", Decided: true,
			How: fmt.Sprintf("UTF-8 with %s", plural(invalid, "invalid byte"))}
	}

	ctx := d.ctx
	if d.pending >= 0 {
		ctx[d.pending][d.pendingLeft][clsOther]++
	}
	words := d.samples.words
	if d.runHigh {
		s := d.samples.clone()
		s.add(d.run[:d.runLen])
		words = s.words
	}
	var present [128]int64
	for b := range ctx {
		for l := range ctx[b] {
			for r := range ctx[b][l] {
				present[b] += ctx[b][l][r]
			}
		}
	}

	rs := readings(&ctx, &present)
	var dense int64 // high bytes between high bytes
	for b := range ctx {
		dense += ctx[b][clsHigh][clsHigh]
	}
	res := decide(rs, &present, d.high, dense)
	if d.validMulti > 0 && d.validMulti >= invalid {
		// Neither clean UTF-8 nor clearly not: let a person choose.
		legacy := res.Candidates
		if res.Decided {
			legacy = []Candidate{{Encoding: res.Encoding}}
		}
		res = Result{
			How: fmt.Sprintf("neither clean UTF-8 nor clearly not: %s but %s; choose with --encoding",
				plural(d.validMulti, "valid UTF-8 sequence"), plural(invalid, "invalid byte")),
			Candidates: append([]Candidate{{Encoding: "utf-8"}}, legacy...),
		}
	}
	if !res.Decided {
		fillWords(res.Candidates, words, &present)
	}
	return res
}

// readings groups the pages into readings and scores each.
func readings(ctx *[128][nCls][nCls]int64, present *[128]int64) []*reading {
	var rs []*reading
	var same [6]int // page -> reading index + 1
	for i, p := range pages {
		for j := range i {
			if identical(p, pages[j], present) {
				same[i] = same[j]
				break
			}
		}
		if same[i] == 0 {
			rs = append(rs, &reading{})
			same[i] = len(rs)
		}
	}
	distinct := 0
	for _, n := range present {
		if n > 0 {
			distinct++
		}
	}
	for ri, r := range rs {
		r.score, r.runes = -1e9, distinct
		for i, p := range pages { // the best of the reading's regions
			if same[i] != ri+1 {
				continue
			}
			r.bad = badPoints(p, ctx)
			if s, lang, reg, units := langScore(p, present, true); s+p.prior > r.score {
				r.score, r.fit, r.lang, r.reg, r.units = s+p.prior, s, lang, reg, units
			}
		}
		for _, i := range pageOrder[r.reg] {
			if same[i] == ri+1 {
				r.pages = append(r.pages, i)
			}
		}
	}
	return rs
}

func identical(a, b *page, present *[128]int64) bool {
	for i, n := range present {
		if n > 0 && a.dec[i] != b.dec[i] {
			return false
		}
	}
	return true
}

// badPoints adds up the plausibility weights of p's decoding in context.
func badPoints(p *page, ctx *[128][nCls][nCls]int64) int64 {
	var bad int64
	for b := range ctx {
		for l := range ctx[b] {
			for r, n := range ctx[b][l] {
				if n > 0 {
					bad += n * int64(badWeight(p.kind[b], p.dec[b], l, r))
				}
			}
		}
	}
	return bad
}

// langScore scores what p decodes: each letter (case-blind) by the
// best-fitting language's profile, weighted by countWeight, with
// regionPenalty (if penalize) when that language's data is not usually in
// p's region; each distinct other character once by symbolScore. units is
// the total weight, for floorPerUnit.
func langScore(p *page, present *[128]int64, penalize bool) (score float64, lang string, reg region, units float64) {
	// Count letters case-blind: Ą and ą are one letter of the language.
	var letters []rune
	var counts []int64
	var sym float64
	for b, n := range present {
		if n == 0 {
			continue
		}
		if k := p.kind[b]; k != kindLetter {
			sym += symbolScore(k, p.dec[b])
			units++
			continue
		}
		r := unicode.ToLower(p.dec[b])
		if i := slices.Index(letters, r); i >= 0 {
			counts[i] += n
		} else {
			letters = append(letters, r)
			counts = append(counts, n)
		}
	}
	if len(letters) == 0 {
		return sym, "", p.region, units
	}
	weights := make([]float64, len(letters))
	for i, n := range counts {
		weights[i] = countWeight(n)
		units += weights[i]
	}
	best := -1e9
	for i := range languages {
		l := &languages[i]
		s := 0.0
		if penalize && l.region != p.region {
			s = regionPenalty
		}
		for j, r := range letters {
			s += weights[j] * l.score(r)
		}
		if s > best {
			best, lang, reg = s, l.name, l.region
		}
	}
	return best + sym, lang, reg, units
}

// countWeight is how much n occurrences of a letter weigh: 1 + log2(n),
// so that the letters a file is full of tell its language, with
// diminishing returns.
func countWeight(n int64) float64 { return 1 + math.Log2(float64(n)) }

// coherence scores, for the bytes a and b decode differently, how well
// each one's letters (each counted once, case-blind) fit a single
// language (no region penalty, no page prior), and how many distinct
// letters b reads there.
func coherence(a, b *reading, present *[128]int64) (sa, sb float64, nb int) {
	fit := func(p, other *page) (float64, int) {
		var letters []rune
		for i, n := range present {
			if n > 0 && p.dec[i] != other.dec[i] && p.kind[i] == kindLetter {
				if r := unicode.ToLower(p.dec[i]); !slices.Contains(letters, r) {
					letters = append(letters, r)
				}
			}
		}
		best := math.Inf(-1)
		for i := range languages {
			s := 0.0
			for _, r := range letters {
				s += languages[i].score(r)
			}
			best = max(best, s)
		}
		return best, len(letters)
	}
	pa, pb := pages[a.pages[0]], pages[b.pages[0]]
	sa, _ = fit(pa, pb)
	sb, nb = fit(pb, pa)
	return sa, sb, nb
}

// decide picks a reading, or lists the plausible ones.
func decide(rs []*reading, present *[128]int64, high, dense int64) Result {
	if len(rs) == 1 {
		r := rs[0]
		return Result{Encoding: r.name(), Decided: true, How: "not UTF-8; " + sameText(r)}
	}
	minBad := rs[0].bad
	for _, r := range rs {
		minBad = min(minBad, r.bad)
	}
	var alive, dropped []*reading
	for _, r := range rs {
		if r.bad >= minBad+badMargin && r.bad >= 2*minBad {
			dropped = append(dropped, r)
		} else {
			alive = append(alive, r)
		}
	}
	byScore := func(s []*reading) {
		sort.SliceStable(s, func(i, j int) bool {
			if s[i].score != s[j].score {
				return s[i].score > s[j].score
			}
			return s[i].bad < s[j].bad
		})
	}
	byScore(alive)
	sort.SliceStable(dropped, func(i, j int) bool { return dropped[i].bad < dropped[j].bad })

	best := alive[0]
	if dense*100 > denseRunsPct*high {
		return unreadable(candidates(alive), "not UTF-8, and most non-ASCII bytes stand between other non-ASCII bytes, as in a non-Latin script: no candidate code page fits")
	}
	if float64(minBad) > garbageBase+garbagePerHigh*float64(high) {
		return unreadable(candidates(alive), "not UTF-8, and no candidate code page reads it as plausible text")
	}
	if best.units > 0 && best.fit < floorPerUnit*best.units {
		return unreadable(candidates(alive), "not UTF-8, and no candidate code page reads it as names and addresses")
	}
	var rival *reading
	switch {
	case len(alive) > 1:
		rival = alive[1]
		if best.score-rival.score < decideMargin || best.runes < minRunes {
			return undecided(candidates(alive), present)
		}
		// The veto: a rival of the other region (West or Central) whose
		// letters on the bytes the two read differently fit one language
		// better than the best reading's do blocks the decision ("Dvořák"
		// among German names: č ř are Czech, è ø French and Danish).
		for _, r := range alive[1:] {
			if pages[r.pages[0]].region == pages[best.pages[0]].region {
				continue
			}
			if mine, theirs, n := coherence(best, r, present); n >= minVetoLetters && theirs > mine {
				show := []*reading{best, r}
				for _, c := range candidates(alive) {
					if !slices.Contains(show, c) && len(show) < maxCandidates {
						show = append(show, c)
					}
				}
				return undecided(show, present)
			}
		}
	case len(dropped) > 0:
		rival = dropped[0]
	}
	return Result{Encoding: best.name(), Decided: true, How: "not UTF-8; " + evidence(best, rival, present)}
}

// undecided lists show, best first, saying how they differ.
func undecided(show []*reading, present *[128]int64) Result {
	return unreadable(show, "not UTF-8; "+contrast(show, present))
}

func unreadable(show []*reading, how string) Result {
	res := Result{How: how}
	for _, r := range show {
		res.Candidates = append(res.Candidates, Candidate{Encoding: r.name()})
	}
	return res
}

// candidates are the readings worth showing: at most maxCandidates, within
// twice decideMargin of the best.
func candidates(alive []*reading) []*reading {
	n := 1
	for n < len(alive) && n < maxCandidates && alive[n].score >= alive[0].score-2*decideMargin {
		n++
	}
	return alive[:n]
}

// evidence tells why best won over rival (nil when nothing was close).
func evidence(best, rival *reading, present *[128]int64) string {
	var b strings.Builder
	mine, theirs, native := differing(best, rival, present)
	switch {
	case best.lang != "" && native:
		fmt.Fprintf(&b, "%s letters %s in %s positions", best.lang, mine, best.name())
	case best.lang != "":
		fmt.Fprintf(&b, "%s in %s positions, as %s text", mine, best.name(), best.lang)
	default:
		fmt.Fprintf(&b, "%s in %s positions", mine, best.name())
	}
	if len(best.pages) > 1 {
		fmt.Fprintf(&b, "; %s", sameText(best))
	}
	if rival != nil {
		fmt.Fprintf(&b, " (%s would read %s)", rival.name(), theirs)
	}
	return b.String()
}

// differing returns, most frequent first, what best and rival read for
// the bytes on which they differ (rival's readings once each), and whether
// all of best's are letters native to its language.
func differing(best, rival *reading, present *[128]int64) (mine, theirs string, native bool) {
	var bs []int
	for b, n := range present {
		if n > 0 && (rival == nil || pages[best.pages[0]].dec[b] != pages[rival.pages[0]].dec[b]) {
			bs = append(bs, b)
		}
	}
	p := pages[best.pages[0]]
	sort.SliceStable(bs, func(i, j int) bool { // letters first, then the most frequent
		if li, lj := p.kind[bs[i]] == kindLetter, p.kind[bs[j]] == kindLetter; li != lj {
			return li
		}
		return present[bs[i]] > present[bs[j]]
	})
	var lang *language
	for i := range languages {
		if languages[i].name == best.lang {
			lang = &languages[i]
		}
	}
	native = lang != nil
	if len(bs) > 0 && p.kind[bs[0]] == kindLetter { // show letters only
		n := 0
		for n < len(bs) && p.kind[bs[n]] == kindLetter {
			n++
		}
		bs = bs[:n]
	}
	var m, t []string
	for _, b := range bs[:min(len(bs), maxShownDiffs)] {
		r := pages[best.pages[0]].dec[b]
		m = append(m, visible(r))
		if lang != nil && (pages[best.pages[0]].kind[b] != kindLetter || lang.score(r) < nativeScore) {
			native = false
		}
		if rival != nil {
			if v := visible(pages[rival.pages[0]].dec[b]); !slices.Contains(t, v) {
				t = append(t, v)
			}
		}
	}
	return strings.Join(m, " "), strings.Join(t, " "), native
}

// visible spells control and undefined characters so a person sees them.
func visible(r rune) string {
	if kindOf(r) == kindInvalid {
		if r == utf8.RuneError {
			return "an undefined byte"
		}
		return "a control character"
	}
	return string(r)
}

// sameText says that r's pages read the file the same.
func sameText(r *reading) string {
	var names []string
	for _, i := range r.pages {
		names = append(names, pages[i].name)
	}
	return joinAnd(names) + " read it the same"
}

// contrast says how the readings in show differ from the first.
func contrast(show []*reading, present *[128]int64) string {
	if len(show) < 2 {
		return "choose with --encoding"
	}
	var parts []string
	for _, r := range show[1:] {
		m, t, _ := differing(show[0], r, present)
		if len(parts) == 0 {
			parts = append(parts, fmt.Sprintf("%s reads %s", show[0].name(), m))
		}
		parts = append(parts, fmt.Sprintf("%s reads %s", r.name(), t))
	}
	return joinAnd(parts) + ": choose with --encoding"
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// fillWords gives every candidate the same sample words, decoded its way:
// words holding the bytes the candidates read differently first.
func fillWords(cs []Candidate, words []string, present *[128]int64) {
	var decs []*page
	for _, c := range cs {
		for _, p := range pages {
			if p.name == c.Encoding {
				decs = append(decs, p)
			}
		}
	}
	var differs [128]bool
	for b, n := range present {
		if n == 0 {
			continue
		}
		for _, p := range decs[min(1, len(decs)):] {
			if p.dec[b] != decs[0].dec[b] {
				differs[b] = true
			}
		}
		if len(decs) < len(cs) { // utf-8 is a candidate: every high byte tells
			differs[b] = true
		}
	}
	picked := pickWords(words, &differs)
	for i := range cs {
		cs[i].Words = make([]string, len(picked))
		for j, w := range picked {
			cs[i].Words[j] = decodeWord(cs[i].Encoding, w)
		}
	}
}

// pickWords chooses up to maxShownWords words, greedily covering the most
// not-yet-covered differing byte values, first seen first on ties.
func pickWords(words []string, differs *[128]bool) []string {
	var covered [128]bool
	var picked []string
	used := make([]bool, len(words))
	for len(picked) < maxShownWords {
		best, bestGain := -1, 0
		for i, w := range words {
			if used[i] {
				continue
			}
			gain := 0
			var seen [128]bool
			for k := 0; k < len(w); k++ {
				if b := int(w[k]) - 0x80; b >= 0 && differs[b] && !covered[b] && !seen[b] {
					seen[b] = true
					gain++
				}
			}
			if gain > bestGain {
				best, bestGain = i, gain
			}
		}
		if best < 0 {
			break
		}
		used[best] = true
		picked = append(picked, words[best])
		for k := 0; k < len(words[best]); k++ {
			if b := int(words[best][k]) - 0x80; b >= 0 {
				covered[b] = true
			}
		}
	}
	for i, w := range words { // fill up with other words, in order
		if len(picked) == maxShownWords {
			break
		}
		if !used[i] {
			picked = append(picked, w)
		}
	}
	return picked
}

func decodeWord(name, w string) string {
	if name == "utf-8" {
		return strings.ToValidUTF8(w, "\uFFFD")
	}
	for _, p := range pages {
		if p.name == name {
			rs := make([]rune, len(w))
			for i := 0; i < len(w); i++ {
				switch c := w[i]; {
				case c < 0x80:
					rs[i] = rune(c)
				case p.kind[c-0x80] == kindInvalid: // no control characters on a terminal
					rs[i] = utf8.RuneError
				default:
					rs[i] = p.dec[c-0x80]
				}
			}
			return string(rs)
		}
	}
	return w
}
