package charset

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// region is the part of Europe whose data a code page was made for.
type region uint8

const (
	west    region = iota // windows-1252, iso-8859-1, iso-8859-15
	central               // windows-1250, iso-8859-2, ibm852
)

// page is one candidate legacy code page and its decoding of 0x80-0xFF.
type page struct {
	name   string // the --encoding value
	region region
	prior  float64 // log10 weight of a partner file being in this page at all
	cm     *charmap.Charmap
	dec    [128]rune
	kind   [128]kind
}

// pages are the candidates, in the order of the pageOrder preferences below.
// Excel and most CRMs on Windows export windows-125x; the ISO pages come
// from Unix systems, ibm852 from DOS-era ones.
var pages = []*page{
	{name: "windows-1250", region: central, prior: 0, cm: charmap.Windows1250},
	{name: "iso-8859-2", region: central, prior: -0.7, cm: charmap.ISO8859_2},
	{name: "ibm852", region: central, prior: -1.5, cm: charmap.CodePage852},
	{name: "windows-1252", region: west, prior: 0, cm: charmap.Windows1252},
	{name: "iso-8859-15", region: west, prior: -0.7, cm: charmap.ISO8859_15},
	{name: "iso-8859-1", region: west, prior: -0.5, cm: charmap.ISO8859_1},
}

// pageOrder lists page indexes by preference when several pages read a
// file the same: the region of the file's language first, the Windows page
// (a superset of the ISO one's printable range) before the ISO pages.
var pageOrder = map[region][]int{
	central: {0, 1, 2, 3, 4, 5},
	west:    {3, 4, 5, 0, 1, 2},
}

func init() {
	for _, p := range pages {
		for i := range p.dec {
			r := p.cm.DecodeByte(byte(0x80 + i))
			p.dec[i] = r
			p.kind[i] = kindOf(r)
		}
	}
}

// kind is what a decoded high byte is, as far as plausibility goes.
type kind uint8

const (
	kindLetter  kind = iota
	kindInword       // apostrophes, dashes, spaces: fine anywhere, even inside a word
	kindEdge         // quotes, currency, degree, superscripts...: fine beside a word, not inside one
	kindOdd          // spacing diacritics and oddities (¨ ¯ ˘ ˇ ¬ ¤ ...): implausible near letters
	kindBox          // box drawing and block graphics (ibm852 0xB0-0xDF)
	kindInvalid      // C1 control or a position the page leaves undefined
)

const (
	inwordRunes = "’‘´·–—‐\u00a0"
	oddRunes    = "¨¯¸˘˙˝˛ˇˆ˜¦¬¤ƒ"
	// suffixRunes follow a word or number ("Firma™", "20°"), never lead
	// one; prefixRunes lead one ("¿Qué"), never follow.
	suffixRunes = "™®°²³‰"
	prefixRunes = "¿¡"
	// aloneRunes stand apart from words ("© 2024", "5½", "± 2", "§ 3").
	aloneRunes = "©¼½¾¹±×÷¶§£¥¢µ"
	// commonEdge are the symbols that turn up in name and address data.
	commonEdge = "„“”«»‚‹›°€§©®…•™"
	// notLetters are Unicode letters that are symbols in this data.
	notLetters = "µªºƒ"
)

func kindOf(r rune) kind {
	switch {
	case r == utf8.RuneError || (r >= 0x80 && r <= 0x9F):
		return kindInvalid
	case r >= 0x2500 && r <= 0x25FF:
		return kindBox
	case strings.ContainsRune(oddRunes, r):
		return kindOdd
	case unicode.IsLetter(r) && !unicode.Is(unicode.Lm, r) && !strings.ContainsRune(notLetters, r):
		return kindLetter
	case strings.ContainsRune(inwordRunes, r):
		return kindInword
	}
	return kindEdge
}

// symbolScore is the language-independent log10 weight of a non-letter
// appearing in name and address data at all (see langScore).
func symbolScore(k kind, r rune) float64 {
	switch k {
	case kindInword:
		if r == '´' {
			return -2.5
		}
		return -1.5
	case kindEdge:
		if strings.ContainsRune(commonEdge, r) {
			return -1.5
		}
		return -2.5
	case kindOdd:
		return -3.5
	}
	return -4 // box, invalid
}

// Neighbour classes of a high byte.
const (
	clsOther = iota // digit, space, punctuation, line end, start or end of input
	clsLower        // a-z
	clsUpper        // A-Z
	clsHigh         // another byte >= 0x80
	nCls
)

var byteCls = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = clsLower
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = clsUpper
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = clsHigh
	}
	return t
}()

func letterish(c int) bool { return c != clsOther }

func asciiLetter(c int) bool { return c == clsLower || c == clsUpper }

// Plausibility weights ("bad" points) of one decoded high byte in context.
// A candidate with at least badMargin points more than the best one (and
// at least twice as many) is dropped before language scoring.
const (
	badInvalid     = 4 // C1 control or undefined position, anywhere
	badBox         = 4 // box drawing, anywhere
	badInside      = 3 // edge or odd symbol with letters on both sides ("Wroc³aw")
	badOddBeside   = 3 // odd symbol with a letter on one side ("¯aneta", "¬ródło")
	badGlued       = 3 // a symbol glued to the wrong side of a word ("™mer", "Pawe¹", "£ód¼")
	badOddAlone    = 1 // odd symbol between non-letters
	badMidCapital  = 3 // capital letter after a-z ("ŁódŸ"), or between A-Z and a-z ("MŘller")
	badLowerInCaps = 2 // small letter between A-Z ("MüLLER")
	badSpaceInWord = 2 // no-break space between a-z/A-Z: rare in names, ibm852's á ("Zolt n")
	badSpaceBeside = 1 // no-break space after or before a-z/A-Z only ("Bansk ;")
	badMargin      = 3
)

func badWeight(k kind, r rune, left, right int) int {
	switch k {
	case kindInvalid:
		return badInvalid
	case kindBox:
		return badBox
	case kindInword:
		switch {
		case r == '\u00a0' && asciiLetter(left) && asciiLetter(right):
			return badSpaceInWord
		case r == '\u00a0' && (asciiLetter(left) || asciiLetter(right)):
			return badSpaceBeside
		case r == '´' && !letterish(left) && letterish(right): // "´eljko"
			return badGlued
		}
	case kindEdge:
		switch {
		case letterish(left) && letterish(right):
			return badInside
		case letterish(right) && strings.ContainsRune(suffixRunes, r),
			letterish(left) && strings.ContainsRune(prefixRunes, r),
			(letterish(left) || letterish(right)) && strings.ContainsRune(aloneRunes, r):
			return badGlued
		}
	case kindOdd:
		switch {
		case letterish(left) && letterish(right):
			return badInside
		case letterish(left) || letterish(right):
			return badOddBeside
		}
		return badOddAlone
	case kindLetter:
		if unicode.IsUpper(r) && (left == clsLower || left == clsUpper && right == clsLower) {
			return badMidCapital
		}
		if unicode.IsLower(r) && left == clsUpper && right == clsUpper {
			return badLowerInCaps
		}
	}
	return 0
}

// language is a letter profile: roughly log10 of each letter's share of the
// non-ASCII letters in that country's names and addresses, foreign names
// included. Letters not listed score unlisted.
type language struct {
	name   string
	region region
	freq   map[rune]float64
}

const (
	unlisted      = -3.0 // a letter the language's data hardly ever has
	regionPenalty = -1.5 // a language read through a code page of the other region
)

// profile parses "letters=score letters=score ...".
func profile(name string, r region, spec string) language {
	l := language{name: name, region: r, freq: map[rune]float64{}}
	for _, f := range strings.Fields(spec) {
		letters, score, _ := strings.Cut(f, "=")
		v, err := strconv.ParseFloat(score, 64)
		if err != nil {
			panic("charset: bad profile " + name + ": " + f)
		}
		for _, c := range letters {
			l.freq[c] = v
		}
	}
	return l
}

var languages = []language{
	profile("German", west, "üß=-0.6 äö=-0.7 é=-1.5 èàçëïôâêáóíñú=-2.3 øåæ=-2.5 šž=-2.7"),
	profile("French", west, "é=-0.35 è=-0.9 à=-1.1 ç=-1.2 ê=-1.3 âô=-1.7 îûùëïœ=-2 ü=-2.3 äöñáóí=-2.5 ß=-2.7 æ=-3 ÿ=-3.5"),
	profile("Spanish", west, "ó=-0.7 áéíñ=-0.8 ú=-1.3 üàèòçï=-2.3 äö=-2.5 êô=-2.7"),
	profile("Portuguese", west, "ã=-0.7 ç=-0.8 éá=-1 óí=-1.1 ê=-1.2 ôõú=-1.4 â=-1.5 à=-1.7 üñè=-2.3"),
	profile("Italian", west, "àèéìòù=-0.8 íóúî=-2.3 ïüöäçñ=-2.5"),
	profile("Dutch", west, "é=-0.7 ë=-0.8 ïö=-1.2 üè=-1.5 áàäóêçôûñ=-2.3"),
	profile("Catalan", west, "àèéòó=-0.8 ç=-0.9 í=-1 ú=-1.3 ïü=-1.5 ñ=-2 á=-2.3"),
	profile("Danish or Norwegian", west, "øå=-0.5 æ=-0.6 é=-1.7 äöü=-2"),
	profile("Swedish", west, "äö=-0.5 å=-0.6 é=-1.7 ü=-2 øæ=-2.3"),
	profile("Finnish", west, "ä=-0.3 ö=-0.5 å=-1.5 šžüé=-2.3"),
	profile("Polish", central, "ł=-0.7 óż=-0.85 śąę=-1 ćń=-1.1 ź=-1.6 äöüé=-2.3 áčšžřňýíúě=-2.7"),
	profile("Czech", central, "á=-0.7 í=-0.8 é=-0.9 ěřčšžý=-1 ů=-1.3 ú=-1.5 ň=-1.6 ťď=-1.8 ó=-2 ľĺôŕä=-2.2 öü=-2.3 ąęłśżźćń=-2.7"),
	profile("Slovak", central, "á=-0.7 íéýčš=-1 ž=-1.1 úľ=-1.3 ť=-1.5 ô=-1.6 ňó=-1.7 ďä=-1.8 ěřů=-2 öüőű=-2.2 ŕĺ=-2.3"),
	profile("Hungarian", central, "é=-0.5 á=-0.7 óö=-0.9 ő=-1.1 íü=-1.2 úű=-1.5 äčšž=-2.5"),
	profile("Croatian", central, "š=-0.5 čž=-0.6 ć=-0.7 đ=-1.2 äöüé=-2.5"),
	profile("Slovene", central, "čš=-0.4 ž=-0.5 ćđ=-2 äöüé=-2.5"),
	profile("Romanian", central, "ă=-0.5 ş=-0.6 ţ=-0.7 î=-0.8 â=-1 äöüé=-2.5"),
}

// score is the log10 weight of letter r (any case) in l.
func (l *language) score(r rune) float64 {
	if v, ok := l.freq[unicode.ToLower(r)]; ok {
		return v
	}
	return unlisted
}
