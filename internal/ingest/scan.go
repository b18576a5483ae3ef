package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/p100/p100-importer/internal/charset"
)

// scan reads the whole file once: it counts the rows the way the reader
// will (records, not lines: blank lines, lines of empty cells, Excel's sep=
// line, title lines and repeated headers are not rows, and a quoted field
// may hold line breaks) and, unless the character set is given or marked,
// decides it from the whole content.
func (in *Input) scan(ctx context.Context, format Format, opts *Options) error {
	var src io.Reader = bufio.NewReaderSize(in.file, 256<<10)
	if format == FormatGzip {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return fmt.Errorf("read gzip: %w", err)
		}
		src = zr
	}
	sink := &scanSink{ctx: ctx,
		detect: (opts.Encoding == "" || opts.Encoding == "auto") && format != FormatUTF16LE && format != FormatUTF16BE}
	defer sink.finish()
	raw := bufio.NewReaderSize(io.TeeReader(src, sink), 256<<10)
	head, err := raw.Peek(8)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	// The structure of a record (line breaks, quotes, delimiters) is ASCII,
	// the same bytes in UTF-8 and in every 8-bit character set; UTF-16 is
	// decoded first.
	var text io.Reader = raw
	switch {
	case bytes.HasPrefix(head, bomUTF16LE) || bytes.HasPrefix(head, bomUTF16BE):
		text = transform.NewReader(raw, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case format == FormatUTF16LE:
		text = transform.NewReader(raw, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder())
	case format == FormatUTF16BE:
		text = transform.NewReader(raw, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder())
	}
	tb := bufio.NewReaderSize(text, 64<<10)
	th, err := tb.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return err
	}
	if _, crOnly := lineBreaks(th); crOnly {
		tb = bufio.NewReaderSize(crToLF{tb}, 64<<10)
		th, _ = tb.Peek(64 << 10)
	}
	guess := guessDialect(th, byte(opts.Comma), newHeaderMatcher(opts.Mapping))
	f := newRecordFilter(tb, guess.comma, guess.titles)
	for {
		err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var tooLong *RecordTooLongError
			if !errors.As(err, &tooLong) {
				return err
			}
			// The reader stops at that record and says so: the total
			// stays unknown; the rest still goes to the detector.
			if _, err := io.Copy(io.Discard, raw); err != nil {
				return err
			}
			f.rows = -1
			break
		}
	}
	if f.rows >= 0 {
		in.TotalLines = int64(f.rows)
		in.scanTitles = guess.titles
		opts.ExpectedRows = f.rows
	}
	if sink.finish(); sink.det != nil {
		res := sink.det.Result()
		res.How += "; the whole file was read"
		opts.detected = &res
	}
	return nil
}

// scanSink sees every byte scan reads: it gives up when ctx ends, and feeds
// the character-set detector unless a byte-order mark decides. The detector
// runs on a goroutine of its own, beside the record filter that counts the
// rows: on two cores the scan takes the longer of the two, not their sum.
type scanSink struct {
	ctx    context.Context
	detect bool
	first  bool // the first bytes were seen
	det    *charset.Detector

	chunks chan []byte   // to the detector's goroutine; nil until it runs
	done   chan struct{} // closed when the detector has seen every chunk
}

func (s *scanSink) Write(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	if !s.first && len(p) > 0 {
		s.first = true
		bom := bytes.HasPrefix(p, bomUTF8) || bytes.HasPrefix(p, bomUTF16LE) || bytes.HasPrefix(p, bomUTF16BE)
		if s.detect && !bom {
			s.det = charset.NewDetector()
			s.chunks, s.done = make(chan []byte, 8), make(chan struct{})
			go func() {
				defer close(s.done)
				for c := range s.chunks {
					s.det.Write(c)
				}
			}()
		}
	}
	if s.chunks != nil {
		s.chunks <- bytes.Clone(p) // p is the reader's buffer, reused
	}
	return len(p), nil
}

// finish waits until the detector has seen every byte written; it may be
// called more than once.
func (s *scanSink) finish() {
	if s.chunks == nil {
		return
	}
	close(s.chunks)
	<-s.done
	s.chunks = nil
}
