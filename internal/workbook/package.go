package workbook

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"
)

// book is an open workbook: its zip archive, its sheets, and what every
// sheet's cells need (shared strings, number formats, date system).
type book struct {
	path     string
	zr       *zip.ReadCloser
	parts    map[string]*zip.File // by lower-cased part name, without a leading "/"
	sheets   []sheetInfo
	sst      sharedStrings
	styles   styles
	date1904 bool
	meta     *excelize.File // styles and workbook properties only
}

// sheetInfo is one sheet of the workbook.
type sheetInfo struct {
	name   string
	part   string // the worksheet's part; "" for a chart or dialog sheet
	hidden bool
}

// sniff refuses, by their first bytes, files that are not zip archives,
// naming what they are instead.
func sniff(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("open workbook: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", name, err)
	}
	head = head[:n]
	text := bytes.ToLower(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"))
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return nil
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return notWorkbook(name, "an Excel 97-2003 workbook (.xls) or a password-protected .xlsx",
			"save it as \"Excel Workbook (.xlsx)\" without a password, or as CSV UTF-8")
	case bytes.HasPrefix(text, []byte("<")):
		return notWorkbook(name, "an HTML or XML file (web panels' \"Excel\" downloads often are)",
			"open it in a spreadsheet and save it as .xlsx or CSV UTF-8")
	case n == 0:
		return notWorkbook(name, "empty", "export the workbook again")
	}
	return notWorkbook(name, "not a zip archive, which every .xlsx workbook is", "save it from a spreadsheet as .xlsx or CSV UTF-8")
}

func notWorkbook(name, what, fix string) error {
	return fmt.Errorf("%s: %w: the file is %s: %s", name, ErrNotWorkbook, what, fix)
}

// openBook opens the zip archive and reads everything but the sheets.
func openBook(name string) (_ *book, err error) {
	zr, err := zip.OpenReader(name)
	if errors.Is(err, zip.ErrInsecurePath) {
		err = nil // part names like "../x" or "/x": harmless, nothing is written to disk
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read it as a zip archive (%w): save it again as .xlsx", ErrNotWorkbook, err)
	}
	b := &book{path: name, zr: zr, parts: make(map[string]*zip.File, len(zr.File))}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	for _, f := range zr.File {
		b.parts[partKey(f.Name)] = f
	}
	if mt, ok := b.parts["mimetype"]; ok {
		if data, err := readPart(mt, 256); err == nil && bytes.Contains(data, []byte("opendocument")) {
			return nil, fmt.Errorf("%w: it is an OpenDocument file (.ods): open it in LibreOffice and save it as .xlsx or CSV UTF-8", ErrNotWorkbook)
		}
	}

	wbPart := "xl/workbook.xml"
	if rels, err := b.rels("_rels/.rels"); err == nil {
		for _, r := range rels {
			if r.is("officeDocument") {
				wbPart = r.target
			}
		}
	}
	if b.parts[partKey(wbPart)] == nil {
		return nil, fmt.Errorf("%w: it is a zip archive without an Excel workbook in it (no %s)", ErrNotWorkbook, wbPart)
	}
	relsPart := path.Join(path.Dir(wbPart), "_rels", path.Base(wbPart)+".rels")
	rels, err := b.rels(relsPart)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]rel, len(rels))
	stylesPart, sstPart := "", ""
	for _, r := range rels {
		byID[r.id] = r
		switch {
		case r.is("styles"):
			stylesPart = r.target
		case r.is("sharedStrings"):
			sstPart = r.target
		}
	}
	if err := b.readSheets(wbPart, byID); err != nil {
		return nil, err
	}
	if sstPart == "" && b.parts["xl/sharedstrings.xml"] != nil {
		sstPart = "xl/sharedStrings.xml" // some writers forget the relationship
	}
	if f := b.parts[partKey(sstPart)]; f != nil {
		if b.sst, err = loadSharedStrings(f); err != nil {
			return nil, fmt.Errorf("read shared strings (%s): %w", f.Name, err)
		}
	}
	if err := b.openMeta(wbPart, relsPart, stylesPart); err != nil {
		return nil, err
	}
	b.styles.meta = b.meta
	return b, nil
}

// openMeta opens, with excelize, a copy of the package holding only the
// workbook, its relationships and its styles: excelize would otherwise
// unpack every sheet (to memory, or to temporary files past 16 MiB).
func (b *book) openMeta(wbPart, relsPart, stylesPart string) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", wbPart, relsPart, stylesPart} {
		f := b.parts[partKey(name)]
		if name == "" || f == nil {
			continue
		}
		if f.UncompressedSize64 > maxMetaPartBytes {
			return fmt.Errorf("%w: its part %s is %d MiB, more than a workbook's %d MiB limit", ErrNotWorkbook,
				f.Name, f.UncompressedSize64>>20, maxMetaPartBytes>>20)
		}
		if err := zw.Copy(f); err != nil { // the compressed bytes, as they are
			return fmt.Errorf("read %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("copy workbook parts: %w", err)
	}
	meta, err := excelize.OpenReader(&buf)
	if err != nil {
		return fmt.Errorf("read workbook and styles: %w", err)
	}
	b.meta = meta
	props, err := meta.GetWorkbookProps()
	if err != nil {
		return fmt.Errorf("read workbook properties: %w", err)
	}
	b.date1904 = props.Date1904 != nil && *props.Date1904
	return nil
}

// readSheets reads the workbook's sheet list and where each sheet is.
func (b *book) readSheets(wbPart string, byID map[string]rel) error {
	data, err := readPart(b.parts[partKey(wbPart)], maxMetaPartBytes)
	if err != nil {
		return fmt.Errorf("read %s: %w", wbPart, err)
	}
	var wb struct {
		Sheets []struct {
			Name  string `xml:"name,attr"`
			ID    string `xml:"id,attr"` // r:id, in whichever namespace
			State string `xml:"state,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(data, &wb); err != nil {
		return fmt.Errorf("read %s: %w", wbPart, err)
	}
	for _, s := range wb.Sheets {
		info := sheetInfo{name: s.Name, hidden: s.State == "hidden" || s.State == "veryHidden"}
		if r, ok := byID[s.ID]; ok && r.is("worksheet") && b.parts[partKey(r.target)] != nil {
			info.part = r.target
		}
		b.sheets = append(b.sheets, info)
	}
	return nil
}

// rel is one package relationship, its target resolved to a part name.
type rel struct{ id, typ, target string }

// is reports whether the relationship has the given type, in the
// transitional or the strict namespace.
func (r rel) is(kind string) bool { return strings.HasSuffix(r.typ, "/"+kind) }

// rels reads a relationships part; targets are resolved against the
// directory of the part the relationships belong to.
func (b *book) rels(relsPart string) ([]rel, error) {
	f := b.parts[partKey(relsPart)]
	if f == nil {
		return nil, nil
	}
	data, err := readPart(f, maxMetaPartBytes)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", relsPart, err)
	}
	var doc struct {
		Rels []struct {
			ID         string `xml:"Id,attr"`
			Type       string `xml:"Type,attr"`
			Target     string `xml:"Target,attr"`
			TargetMode string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read %s: %w", relsPart, err)
	}
	base := path.Dir(path.Dir(relsPart)) // "xl/_rels/workbook.xml.rels" -> "xl"
	out := make([]rel, 0, len(doc.Rels))
	for _, r := range doc.Rels {
		if r.TargetMode == "External" {
			continue
		}
		target := strings.ReplaceAll(r.Target, "\\", "/")
		if strings.HasPrefix(target, "/") {
			target = path.Clean(target[1:])
		} else {
			target = path.Join(base, target)
		}
		out = append(out, rel{id: r.ID, typ: r.Type, target: target})
	}
	return out, nil
}

// rows starts reading a worksheet's rows.
func (b *book) rows(info *sheetInfo) (*rowReader, error) {
	f := b.parts[partKey(info.part)]
	if info.part == "" || f == nil {
		return nil, fmt.Errorf("sheet %q has no cells (its part is missing)", info.name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("read sheet %q (%s): %w", info.name, f.Name, err)
	}
	return newRowReader(b, info.name, rc), nil
}

// find returns the sheet called name: exactly, else without regard to case,
// as Excel compares sheet names.
func (b *book) find(name string) *sheetInfo {
	for i := range b.sheets {
		if b.sheets[i].name == name {
			return &b.sheets[i]
		}
	}
	for i := range b.sheets {
		if strings.EqualFold(b.sheets[i].name, name) {
			return &b.sheets[i]
		}
	}
	return nil
}

func (b *book) names() []string {
	names := make([]string, len(b.sheets))
	for i, s := range b.sheets {
		names[i] = s.name
	}
	return names
}

func (b *book) close() error {
	var errs []error
	if b.meta != nil {
		errs = append(errs, b.meta.Close())
		b.meta = nil
	}
	if b.zr != nil {
		errs = append(errs, b.zr.Close())
		b.zr = nil
	}
	return errors.Join(errs...)
}

// partKey is the map key of a part name: part names compare without regard
// to case, and some writers use backslashes or a leading slash.
func partKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(name, "\\", "/"), "/"))
}

// readPart reads a whole small part, refusing one bigger than limit.
func readPart(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is bigger than %d MiB", f.Name, limit>>20)
	}
	return data, nil
}

// ignoreEOF returns nil for io.EOF.
func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
