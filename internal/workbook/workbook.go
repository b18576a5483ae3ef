package workbook

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Limits against hostile input.
const (
	maxColumns       = 1000      // cells a row may have
	maxCellBytes     = 1 << 20   // text of one cell
	maxTokenBytes    = 2 << 20   // one XML token as written (a cell's text, escaped)
	maxSharedText    = 512 << 20 // text of the shared-strings table
	maxMetaPartBytes = 16 << 20  // workbook.xml, styles.xml, relationships
	maxSheetRows     = 1 << 20   // Excel's 1,048,576 rows
	defaultScanRows  = 20
)

// Errors a caller may branch on; the messages wrapping them say where and
// what to do.
var (
	ErrNotWorkbook = errors.New("not an .xlsx workbook")
	ErrNoSheet     = errors.New("no such sheet")
	ErrNoHeader    = errors.New("no sheet has a header row")
	ErrTooWide     = errors.New("row is wider than 1000 columns")
	ErrCellTooBig  = errors.New("cell is bigger than 1 MiB")
)

// Options choose the sheet.
type Options struct {
	// Sheet names the sheet to read (compared without regard to case when
	// no name matches exactly); "" means the first visible sheet that has a
	// header row.
	Sheet string
	// IsHeader recognises a header row from its cells (as they appear in
	// the CSV text, trailing empty cells dropped; the slice is reused after
	// the call returns); the caller supplies it, since it knows the column
	// names. nil accepts any row with a non-empty cell.
	IsHeader func(cells []string) bool
	// MaxScanRows is how many rows of each sheet (by row number) are looked
	// at for a header; 0 means 20.
	MaxScanRows int
}

// Sheet is one sheet of a workbook as CSV text: an io.ReadCloser. It is not
// safe for concurrent use.
type Sheet struct {
	ctx    context.Context
	book   *book
	name   string
	rows   *rowReader
	out    bytes.Buffer  // CSV text not yet read
	bw     *bufio.Writer // csv's buffer, flushed into out
	csv    *csv.Writer
	line   int // sheet rows written so far as lines
	err    error
	closed bool
}

// Open opens the workbook at path and chooses a sheet as opts says. ctx
// governs Open and every later Read: once it is done, Read returns its error.
// The caller must Close the Sheet.
func Open(ctx context.Context, path string, opts Options) (*Sheet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sniff(path); err != nil {
		return nil, err
	}
	b, err := openBook(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info, err := b.choose(ctx, opts)
	if err != nil {
		b.close()
		return nil, err
	}
	rows, err := b.rows(info)
	if err != nil {
		b.close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &Sheet{ctx: ctx, book: b, name: info.name, rows: rows}
	s.bw = bufio.NewWriterSize(&s.out, 64<<10)
	s.csv = csv.NewWriter(s.bw) // writes straight into bw: it is a big enough bufio.Writer
	return s, nil
}

// Name returns the name of the sheet read.
func (s *Sheet) Name() string { return s.name }

// Sheets returns the name of every sheet in the workbook, in tab order,
// hidden ones included.
func (s *Sheet) Sheets() []string { return s.book.names() }

// Read reads CSV text.
func (s *Sheet) Read(p []byte) (int, error) {
	if s.closed {
		return 0, os.ErrClosed
	}
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.out.Len() == 0 && s.err == nil {
		s.err = s.fill(len(p))
	}
	if s.out.Len() > 0 {
		return s.out.Read(p)
	}
	return 0, s.err
}

// fill converts rows until at least want bytes of text are ready, or the
// sheet ends (io.EOF) or fails.
func (s *Sheet) fill(want int) error {
	want = max(want, 4096)
	for n := 1; ; n++ {
		if n%1024 == 0 { // rows that give no text (styled, empty) are not free either
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		num, cells, err := s.rows.next()
		if err != nil {
			s.flush()
			return err
		}
		for s.line < num-1 { // rows absent from the sheet: empty lines
			s.csv.Write(nil)
			s.line++
		}
		s.csv.Write(cells)
		s.line = num
		if s.out.Len()+s.bw.Buffered() >= want {
			return s.flush()
		}
	}
}

func (s *Sheet) flush() error {
	s.csv.Flush()
	return s.csv.Error() // writes to a bytes.Buffer do not fail
}

// Close releases the workbook file.
func (s *Sheet) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.rows.close()
	return errors.Join(err, s.book.close())
}

// choose returns the sheet opts names, or the first visible worksheet with a
// header row among its first MaxScanRows rows.
func (b *book) choose(ctx context.Context, opts Options) (*sheetInfo, error) {
	if opts.Sheet != "" {
		info := b.find(opts.Sheet)
		if info == nil {
			return nil, fmt.Errorf("%s: %w %q; the workbook's sheets are %s: name one of them with --sheet NAME",
				b.path, ErrNoSheet, opts.Sheet, quoteList(b.names()))
		}
		if info.part == "" {
			return nil, fmt.Errorf("%s: sheet %q is a chart or dialog sheet, it has no cells: name a worksheet with --sheet NAME (sheets: %s)",
				b.path, info.name, quoteList(b.names()))
		}
		return info, nil
	}
	isHeader := opts.IsHeader
	if isHeader == nil {
		isHeader = func(cells []string) bool { return len(cells) > 0 }
	}
	scan := opts.MaxScanRows
	if scan <= 0 {
		scan = defaultScanRows
	}
	var looked []string
	hidden := false
	for i := range b.sheets {
		info := &b.sheets[i]
		if info.hidden {
			hidden = true
			continue
		}
		if info.part == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		looked = append(looked, info.name)
		found, err := b.hasHeader(info, isHeader, scan)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.path, err)
		}
		if found {
			return info, nil
		}
	}
	looks := fmt.Sprintf("looked at the first %d rows of %s", scan, quoteList(looked))
	if hidden {
		looks += "; hidden sheets are not looked at"
	}
	return nil, fmt.Errorf("%s: %w (%s): name the sheet to read with --sheet NAME", b.path, ErrNoHeader, looks)
}

// hasHeader reports whether one of the sheet's first scan rows is a header.
func (b *book) hasHeader(info *sheetInfo, isHeader func([]string) bool, scan int) (bool, error) {
	rows, err := b.rows(info)
	if err != nil {
		return false, err
	}
	defer rows.close()
	for {
		num, cells, err := rows.next()
		if err != nil || num > scan {
			return false, ignoreEOF(err)
		}
		if isHeader(cells) {
			return true, nil
		}
	}
}

// quoteList formats names as "a", "b", "c".
func quoteList(names []string) string {
	if len(names) == 0 {
		return "no sheets"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
