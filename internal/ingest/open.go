package ingest

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"
)

// Input is a file of users being read: its rows, and what is known of the
// file. Next serves the rows of a regular file only once the file is known
// not to have changed since it was opened (see ChangedError).
type Input struct {
	*Reader
	// TotalLines is the number of rows after the header, counted as the
	// reader counts them (blank lines, title lines and repeated headers
	// are not rows), for a progress total; -1 when unknown (standard
	// input, a workbook, a record too long to read).
	TotalLines int64

	scanTitles int // title lines the scan found above the header

	path    string
	file    *os.File
	regular bool // a regular file: checked for changes while it is read
	size    int64
	modTime time.Time
	hash    hash.Hash
	sum     string // the SHA-256, once known
	tee     *eofWatcher
	closers []io.Closer

	batch    []*Record // rows read and checked, not yet returned
	readErr  error     // what ended the reading (io.EOF at the end)
	lastLine int       // the line of the last row returned
}

// ChangedError means the input file changed while it was read: an export
// still being written. Rows read after the change are never returned.
type ChangedError struct {
	Path                  string
	SizeBefore, SizeAfter int64
	ModBefore, ModAfter   time.Time
	AfterLine             int // the last line returned before the change was seen
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while it was read (size %d -> %d bytes, modified %s -> %s): it is probably still being written; "+
		"no row read after line %d was sent: run again once the export is complete",
		e.Path, e.SizeBefore, e.SizeAfter, e.ModBefore.Format(time.TimeOnly), e.ModAfter.Format(time.TimeOnly), e.AfterLine)
}

// checkBatch is how many rows are read ahead before the file is checked
// for changes: a change is seen before any of them is returned.
const checkBatch = 256

// Open opens path ("-" for standard input) and reads its header. It
// recognises gzip (by content, whatever the name), .xlsx workbooks, and
// refuses with a *FormatError what it cannot read (an .xls, .ods or HTML
// "Excel" download, PDF, binary data). A regular file is scanned once
// before reading: its character set is decided from the whole content and
// its lines are counted.
func Open(ctx context.Context, path string, opts Options) (*Input, error) {
	in := &Input{path: path, TotalLines: -1, hash: sha256.New()}
	opts.name = path
	if path == "-" {
		in.file = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		in.file = f
		in.closers = append(in.closers, f)
	}
	fi, err := in.file.Stat()
	if err != nil {
		in.Close()
		return nil, err
	}
	regular := fi.Mode().IsRegular()
	in.regular = regular
	if regular {
		in.size, in.modTime = fi.Size(), fi.ModTime()
	}

	raw := bufio.NewReaderSize(in.file, 64<<10)
	head, err := peekCtx(ctx, raw, 8<<10)
	if err != nil {
		in.Close()
		return nil, err
	}
	format := sniff(head)
	switch format {
	case FormatZip:
		if !regular {
			in.Close()
			return nil, errors.New("a workbook (zip) on standard input cannot be read: give the file itself with --input FILE.xlsx")
		}
		if err := in.openWorkbook(ctx, opts); err != nil {
			in.Close()
			return nil, err
		}
		return in, nil
	case FormatText, FormatGzip, FormatUTF16LE, FormatUTF16BE:
	default:
		in.Close()
		return nil, formatError(format)
	}

	if regular {
		if _, err := in.file.Seek(0, io.SeekStart); err != nil { // the sniff read ahead
			in.Close()
			return nil, err
		}
		if err := in.scan(ctx, format, &opts); err != nil {
			in.Close()
			return nil, err
		}
		if _, err := in.file.Seek(0, io.SeekStart); err != nil {
			in.Close()
			return nil, err
		}
		raw.Reset(io.LimitReader(in.file, in.size)) // bytes appended later are never read
	}
	// The SHA-256 is of the bytes on disk, compressed or not.
	in.tee = &eofWatcher{r: io.TeeReader(raw, in.hash)}
	var text io.Reader = in.tee
	if format == FormatGzip {
		zr, err := gzip.NewReader(bufio.NewReader(in.tee))
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("read gzip: %w", err)
		}
		text = zr
		opts.format = "CSV (gzip-compressed)"
	}
	r, err := newReaderCtx(ctx, text, opts)
	if err != nil {
		in.Close()
		return nil, err
	}
	in.Reader = r
	if in.TotalLines >= 0 {
		// The reader decides the title lines from the decoded text; the
		// scan guessed them from the bytes.
		in.TotalLines = max(in.TotalLines+int64(in.scanTitles-r.Skipped().Title), 0)
	}
	return in, nil
}

// NewInput reads rows from a stream that is not a file (such as the rows
// a checkpoint holds, written as CSV); closer, if not nil, is closed with it.
func NewInput(ctx context.Context, stream io.Reader, closer io.Closer, opts Options) (*Input, error) {
	r, err := newReaderCtx(ctx, stream, opts)
	if err != nil {
		return nil, err
	}
	return InputOf(r, closer), nil
}

// peekCtx peeks at the first n bytes, or fewer at the end of the input, and
// gives up when ctx ends: standard input may send nothing for a long time.
func peekCtx(ctx context.Context, br *bufio.Reader, n int) ([]byte, error) {
	done := make(chan []byte, 1)
	go func() {
		head, _ := br.Peek(n)
		done <- head
	}()
	select {
	case head := <-done:
		return head, nil
	case <-ctx.Done():
		return nil, ctx.Err() // the peeking goroutine ends with the process
	}
}

// InputOf makes an Input of a Reader that reads no file (see NewRowReader);
// closer, if not nil, is closed with it.
func InputOf(r *Reader, closer io.Closer) *Input {
	in := &Input{Reader: r, TotalLines: -1}
	if closer != nil {
		in.closers = append(in.closers, closer)
	}
	return in
}

// newReaderCtx is NewReader that gives up when ctx ends: reading the header
// of standard input can block for as long as the writer takes.
func newReaderCtx(ctx context.Context, text io.Reader, opts Options) (*Reader, error) {
	type result struct {
		r   *Reader
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := NewReader(text, opts)
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.r, res.err
	case <-ctx.Done():
		return nil, ctx.Err() // the reading goroutine ends with the process
	}
}

// Next returns the next row, or io.EOF after the last. For a regular file,
// rows come in batches that are returned only after the file is seen
// unchanged since it was opened.
func (in *Input) Next() (*Record, error) {
	if len(in.batch) == 0 {
		if err := in.fill(); err != nil {
			return nil, err
		}
	}
	rec := in.batch[0]
	in.batch = in.batch[1:]
	in.lastLine = rec.Line
	return rec, nil
}

func (in *Input) fill() error {
	if in.readErr != nil {
		return in.readErr
	}
	if !in.regular {
		rec, err := in.Reader.Next()
		if err != nil {
			in.readErr = err
			return err
		}
		in.batch = append(in.batch[:0], rec)
		return nil
	}
	in.batch = in.batch[:0]
	for len(in.batch) < checkBatch {
		rec, err := in.Reader.Next()
		if err != nil {
			in.readErr = err
			break
		}
		in.batch = append(in.batch, rec)
	}
	if err := in.unchanged(); err != nil {
		in.batch = in.batch[:0]
		in.readErr = err
		return err
	}
	if len(in.batch) == 0 {
		return in.readErr
	}
	return nil
}

// unchanged checks that the file still has the size and modification time
// it had when it was opened.
func (in *Input) unchanged() error {
	fi, err := in.file.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", in.path, err)
	}
	if fi.Size() != in.size || !fi.ModTime().Equal(in.modTime) {
		return &ChangedError{Path: in.path, SizeBefore: in.size, SizeAfter: fi.Size(),
			ModBefore: in.modTime, ModAfter: fi.ModTime(), AfterLine: in.lastLine}
	}
	return nil
}

// SHA256 returns the input's SHA-256 (of the bytes on disk, compressed or
// not) once it was read to the end, else "".
func (in *Input) SHA256() string {
	if in.sum != "" {
		if in.readErr != nil && errors.Is(in.readErr, io.EOF) {
			return in.sum
		}
		return ""
	}
	if in.tee == nil || !in.tee.eof {
		return ""
	}
	return hex.EncodeToString(in.hash.Sum(nil))
}

// Close releases the file and the reader's temporary files.
func (in *Input) Close() error {
	var first error
	if in.Reader != nil {
		first = in.Reader.Close()
	}
	for i := len(in.closers) - 1; i >= 0; i-- {
		if err := in.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// eofWatcher notes when its reader reached the end.
type eofWatcher struct {
	r   io.Reader
	eof bool
}

func (w *eofWatcher) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if errors.Is(err, io.EOF) {
		w.eof = true
	}
	return n, err
}
