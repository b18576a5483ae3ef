// Package validate holds the pure validation rules for one user's fields
// before they are sent to the P100 API: country codes, dates, PESEL numbers,
// e-mail addresses, document types and free text.
//
// Every function is pure: it reads only its arguments and the package's
// read-only tables (the ISO 3166-1 country table, [KnownDocumentTypes] and
// [MaxLen]), never the clock, the network or the environment, so the same
// input always gets the same verdict.
//
// A refused value yields a [Problem] whose Reason says, in words a person can
// act on, what is wrong. Reasons never repeat a PESEL, a document number, an
// e-mail address or a free-text value, so they can go into logs and reports;
// they point at positions ("character 5") instead. Where a value itself has
// to be shown, use [Mask].
//
// Other functions repair what a spreadsheet mangled, before the rules run, or
// refuse it saying what to do: [CleanCode] and [CleanText] remove invisible
// characters, [UnwrapFormula], [RestorePESEL] and [ScientificNotation] deal
// with numbers Excel rewrote, and [ParseDateForm] converts the date forms
// spreadsheets write.
package validate
