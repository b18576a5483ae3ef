// Package workbook reads one sheet of an .xlsx workbook as CSV text,
// streaming, so that a CSV reader (encoding/csv, gocsv) reads a workbook
// unchanged.
//
// The text is comma-delimited, with fields quoted as encoding/csv.Writer
// quotes them, and holds exactly one physical line per sheet row, from row 1:
// line N of the text is row N of the sheet, the number a person sees in
// Excel, and an empty or absent row is an empty line. A line break inside a
// cell (Alt+Enter; CR, LF or CRLF) becomes a single space, so that a row never
// spans two lines. Trailing empty cells are dropped.
//
// Cell values:
//   - text as written (Excel's _xHHHH_ escapes decoded, phonetic runs left out);
//   - a number that holds an integer as plain digits (no exponent, no ".0");
//     nothing is added: a PESEL saved as a number comes without its leading
//     zero, for the caller to restore;
//   - other numbers in the shortest form that reads back to the same float64,
//     with an exponent only below 1e-6 or from 1e21 on;
//   - a date cell (a number whose number format is a date or time format:
//     built-in formats 14-22, 27-36, 45-47 and 50-58, or a custom format with
//     d, m, y, h or s outside quotes, brackets and escapes) as YYYY-MM-DD from
//     its serial, in the workbook's 1900 or 1904 date system, followed by
//     " HH:MM:SS" (to the nearest second) unless the time is midnight; a time
//     of day alone is dated on the system's day 0 (1899-12-31 or 1904-01-01);
//   - booleans as TRUE and FALSE, error cells as written (#N/A), formula
//     cells as their cached value.
//
// Memory: the sheet is decoded as it is read, one row at a time, straight
// from the zip entry; nothing is unpacked to disk. The one structure held
// whole is the workbook's shared-strings table, which every row may index:
// it costs its text in UTF-8 plus 4 bytes per string (up to twice the text
// while it is loaded), and is refused beyond 512 MiB of text. A row wider than
// 1,000 columns or a cell bigger than 1 MiB is an error (hostile input).
//
// excelize reads the workbook's styles (number formats) and date system; it
// is given a copy of the package without its sheets and shared strings, which
// this package streams itself, since excelize's row iterator does not report
// a cell's style and its OpenFile unpacks every sheet.
package workbook
