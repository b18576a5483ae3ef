// Package charset tells which character set a partner's CSV file is in,
// from its bytes: UTF-8, or one of the legacy code pages partners export
// from Excel, LibreOffice and CRMs (windows-1250, iso-8859-2, ibm852,
// windows-1252, iso-8859-15, iso-8859-1). It decides only when the
// evidence is clear. Otherwise it lists the plausible readings with the
// same sample words decoded each way, so a person can pick --encoding.
//
// Feed a Detector the raw file (it is an io.Writer, in constant memory)
// and read its Result:
//
//	d := charset.NewDetector()
//	io.Copy(d, f)
//	r := d.Result() // r.Encoding, r.Decided, r.How, r.Candidates
//
// Every Result.Encoding value is accepted by the importer's --encoding
// lookup (golang.org/x/text ianaindex.IANA, then htmlindex). "ibm852" is
// known to IANA only (canonical name IBM852; cp852 and 852 work too), not
// to WHATWG. "iso-8859-1" means what IANA says: true Latin-1, 0x80-0x9F
// being C1 controls, not windows-1252.
//
// # Why not a library
//
// Measured before writing this (scratch module, golang.org/x/text
// encoders, 1-line and 4-line Polish and German/French CSVs):
// github.com/wlynxg/chardet v1.0.5 answered Windows-1254 (Turkish) for
// Polish windows-1250 (even for 50 times the text), ISO-8859-1 for Polish
// iso-8859-2, MacRoman for Polish ibm852 and for one Polish line, and
// ISO-8859-9 for German windows-1252. github.com/saintfish/chardet
// (2023-01-01) answered windows-1252 for Polish windows-1250 and ibm852,
// ISO-8859-1 for Polish iso-8859-2, and "Charset not detected" for one
// Polish line. Neither ever answered windows-1250.
//
// # How it decides
//
// UTF-8 first: no byte >= 0x80 is "ASCII only"; no invalid sequence is
// "valid UTF-8"; at least 4 valid multi-byte sequences per invalid byte is
// still UTF-8 ("UTF-8 with N invalid bytes": the importer refuses those
// rows). Between that and "fewer valid sequences than invalid bytes" the
// result is undecided, with utf-8 as the first candidate.
//
// Otherwise the Detector has counted each high byte value by the class of
// its neighbours (a-z, A-Z, high byte, other). Pages that decode every
// byte value present to the same text form one reading. Where there is
// only one reading, there is no ambiguity: it is decided, and How lists
// the pages that read the file the same. The name chosen is the Windows
// page of the region whose language the letters fit best.
//
// Each reading gets bad points for what its decoding puts where names
// and addresses never have it (weights in tables.go):
//   - 4 for a C1 control or undefined position, or box drawing (ibm852
//     0xB0-0xDF read wrong);
//   - 3 for a symbol between letters ("Wroc³aw", "Krzy¿anowska"), an odd
//     symbol (¨ ¯ ¬ ˘ ...) beside a letter ("¯aneta"), a symbol glued to
//     the wrong side of a word ("™mer", "£ód¼"), or a capital after a-z
//     ("ŁódŸ");
//   - 2 for a small letter inside capitals ("MüLLER"), or a no-break space
//     between letters (ibm852's á read as windows-125x);
//   - 1 for a no-break space beside one letter, or an odd symbol alone.
//
// A reading with at least 3 bad points more than the best one (and at
// least twice as many) is dropped. If even the best reading has more than
// 4 + 0.2 per high byte, or over 40% of high bytes stand between high
// bytes (Cyrillic or Greek read as Latin), nothing fits and it is
// undecided.
//
// The readings left are scored by language. Each of 17 language profiles
// (10 Western, 7 Central European) gives each letter a weight, roughly
// log10 of its share of the non-ASCII letters in that country's names and
// addresses, foreign names included (-3 when unlisted). A reading's score
// is the best profile's sum over its letters, each letter case-blind and
// weighted by 1 + log2(its count). Each non-letter counts once, by a
// symbol weight of -1.5 to -4. Two priors are added: -1.5 when the
// language's region is not the page's (German read through windows-1250),
// and a page prior of 0 for windows-125x, -0.5 for iso-8859-1, -0.7 for
// iso-8859-2 and -15, and -1.5 for ibm852. The best reading is decided on
// only if all of these hold:
//   - it leads the next by at least 2.0 (100 to 1);
//   - the file has at least 2 distinct non-ASCII characters (one letter is
//     no context for itself: a lone 0xEF is ï or ď);
//   - its mean score per unit of weight is at least -2.2;
//   - no reading of the other region is vetoed in. A rival vetoes when, on
//     the bytes the two read differently, its letters (at least 2
//     distinct) fit one language better than the best reading's letters
//     do. "Dvořák" among German names is the case: č ř are Czech, while è
//     ø are French and Danish.
//
// Otherwise the readings within 4.0 of the best (at most 4) are the
// Candidates.
//
// # What it gets wrong
//
// On generated files (see calibration_test.go) it never read a
// one-language file wrong. With one word in ten a foreign name, it read
// 0.08% of the files it decided wrong, all of them mixes with one
// distinguishing letter: a German-language file written in windows-1250
// whose only Latin-2 letter is in one Czech name ("Kováčová" read as
// "Kováèová"), or a Spanish file with "Søren" read as Czech "Sřren". The
// region prior that reads "Anaïs" among German names as windows-1252 reads
// the mirror case the same way. A one-line file such as
// "Anaïs;Müller;Jäger;René" is undecided (a Slovak reading with ď is
// within the margin); a few lines of it are decided.
package charset
