package ingest

import (
	"bytes"
	"fmt"
)

// Format is what a file turned out to be, from its first bytes.
type Format int

// The formats the importer recognises.
const (
	FormatText     Format = iota // text: read as CSV
	FormatGzip                   // gzip-compressed (of any of these)
	FormatZip                    // a zip archive: an .xlsx or .ods workbook, or an archive
	FormatUTF16LE                // UTF-16 little-endian text without a byte-order mark
	FormatUTF16BE                // UTF-16 big-endian text without a byte-order mark
	FormatXLS                    // an Excel 97-2003 binary workbook (or another OLE2 file)
	FormatHTML                   // an HTML page, such as a web panel's "Excel" download
	FormatXMLSheet               // an Excel 2003 XML spreadsheet
	FormatXML                    // some other XML document
	FormatPDF                    // a PDF document
	FormatRTF                    // an RTF document
	FormatJSON                   // JSON
	FormatBinary                 // binary data of no known kind
)

// FormatError means the file is not something the importer can read; the
// message says what it is and how to get a CSV or workbook out of it.
type FormatError struct {
	Format Format
	What   string // "an HTML page"
	Fix    string // "save it as CSV UTF-8 from your spreadsheet"
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("this is %s, not a CSV file: %s", e.What, e.Fix)
}

// saveAsCSV is the advice for a document a spreadsheet can open.
const saveAsCSV = "open it in your spreadsheet and save it as \"CSV UTF-8\" (or as .xlsx), then import that file"

// sniff tells a file's format from its first bytes (up to a few KiB).
func sniff(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return FormatGzip
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return FormatZip
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return FormatXLS
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return FormatPDF
	case bytes.HasPrefix(head, []byte(`{\rtf`)):
		return FormatRTF
	case bytes.HasPrefix(head, bomUTF16LE), bytes.HasPrefix(head, bomUTF16BE):
		return FormatText // decoded by its BOM
	}
	if f, ok := sniffUTF16(head); ok {
		return f
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return FormatBinary
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(head, bomUTF8), " \t\r\n")
	lower := bytes.ToLower(text[:min(len(text), 1024)])
	switch {
	case bytes.HasPrefix(lower, []byte("<?xml")):
		if bytes.Contains(lower, []byte("urn:schemas-microsoft-com:office:spreadsheet")) ||
			bytes.Contains(lower, []byte("progid=\"excel.sheet\"")) {
			return FormatXMLSheet
		}
		if bytes.Contains(lower, []byte("<html")) {
			return FormatHTML
		}
		return FormatXML
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")),
		bytes.HasPrefix(lower, []byte("<table")), bytes.HasPrefix(lower, []byte("<meta")),
		bytes.HasPrefix(lower, []byte("<head")), bytes.HasPrefix(lower, []byte("<body")),
		bytes.HasPrefix(lower, []byte("<!--")) && bytes.Contains(lower, []byte("<html")):
		return FormatHTML
	case len(text) > 0 && (text[0] == '{' || text[0] == '[') && looksLikeJSON(text):
		return FormatJSON
	}
	return FormatText
}

// sniffUTF16 recognises UTF-16 text without a byte-order mark: mostly ASCII
// text leaves every other byte zero.
func sniffUTF16(head []byte) (Format, bool) {
	n := len(head) &^ 1
	if n < 8 {
		return 0, false
	}
	var zeroEven, zeroOdd int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			zeroEven++
		}
		if head[i+1] == 0 {
			zeroOdd++
		}
	}
	pairs := n / 2
	switch {
	case zeroOdd*10 >= pairs*7 && zeroEven*10 <= pairs:
		return FormatUTF16LE, true
	case zeroEven*10 >= pairs*7 && zeroOdd*10 <= pairs:
		return FormatUTF16BE, true
	}
	return 0, false
}

// looksLikeJSON says whether text opens like a JSON document rather than a
// CSV line that happens to start with a brace.
func looksLikeJSON(text []byte) bool {
	t := bytes.TrimLeft(text[1:], " \t\r\n")
	if len(t) == 0 {
		return false
	}
	switch text[0] {
	case '{':
		return t[0] == '"' || t[0] == '}'
	default: // '['
		return t[0] == '{' || t[0] == '[' || t[0] == '"' || t[0] == ']'
	}
}

// formatError returns the refusal for a format the importer cannot read.
func formatError(f Format) *FormatError {
	switch f {
	case FormatXLS:
		return &FormatError{f, "an old Excel workbook (.xls, Excel 97-2003)", "open it in Excel or LibreOffice and save it as .xlsx or as \"CSV UTF-8\", then import that file"}
	case FormatHTML:
		return &FormatError{f, "an HTML page (web panels often name such a download .xls)", saveAsCSV}
	case FormatXMLSheet:
		return &FormatError{f, "an Excel 2003 XML spreadsheet", saveAsCSV}
	case FormatXML:
		return &FormatError{f, "an XML document", "export the users as CSV (UTF-8) instead"}
	case FormatPDF:
		return &FormatError{f, "a PDF document", "export the users from the system that made it as CSV (UTF-8) or .xlsx"}
	case FormatRTF:
		return &FormatError{f, "an RTF document", saveAsCSV}
	case FormatJSON:
		return &FormatError{f, "JSON", "export the users as CSV (UTF-8) instead"}
	case FormatBinary:
		return &FormatError{f, "binary data (it holds NUL bytes)", "give the CSV or .xlsx file itself; if this is one, it is damaged"}
	}
	return &FormatError{f, "a file of an unknown kind", saveAsCSV}
}
