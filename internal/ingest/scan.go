package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/p100/p100-importer/internal/charset"
)

// scan reads the whole file once: it counts the lines and, unless the
// character set is given or marked, decides it from the whole content.
func (in *Input) scan(ctx context.Context, format Format, opts *Options) error {
	var src io.Reader = bufio.NewReaderSize(in.file, 256<<10)
	if format == FormatGzip {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return fmt.Errorf("read gzip: %w", err)
		}
		src = zr
	}
	var det *charset.Detector
	detect := (opts.Encoding == "" || opts.Encoding == "auto") && format != FormatUTF16LE && format != FormatUTF16BE
	buf := make([]byte, 256<<10)
	var lf, cr int64
	var last byte = '\n'
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(src, buf)
		chunk := buf[:n]
		if first && n > 0 {
			first = false
			if bytes.HasPrefix(chunk, bomUTF8) || bytes.HasPrefix(chunk, bomUTF16LE) || bytes.HasPrefix(chunk, bomUTF16BE) {
				detect = false // the byte-order mark decides
			}
			if detect {
				det = charset.NewDetector()
			}
		}
		if n > 0 {
			lf += int64(bytes.Count(chunk, []byte{'\n'}))
			cr += int64(bytes.Count(chunk, []byte{'\r'}))
			last = chunk[n-1]
			if det != nil {
				det.Write(chunk)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	lines := lf
	if lf == 0 {
		lines = cr // old-Mac line breaks
	}
	if last != '\n' && last != '\r' {
		lines++
	}
	if format != FormatUTF16LE && format != FormatUTF16BE {
		in.TotalLines = max(lines-1, 0)
		opts.ExpectedRows = int(in.TotalLines)
	}
	if det != nil {
		res := det.Result()
		res.How += "; the whole file was read"
		opts.detected = &res
	}
	return nil
}
