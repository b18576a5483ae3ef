package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/p100/p100-importer/internal/workbook"
)

// openWorkbook reads an .xlsx workbook's sheet as CSV text; an .ods or a
// zip of something else is refused.
func (in *Input) openWorkbook(ctx context.Context, opts Options) error {
	zr, err := zip.NewReader(in.file, in.size)
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	kind := "zip"
	for _, f := range zr.File {
		switch f.Name {
		case "xl/workbook.xml":
			kind = "xlsx"
		case "mimetype":
			if rc, err := f.Open(); err == nil {
				b, _ := io.ReadAll(io.LimitReader(rc, 128))
				rc.Close()
				if bytes.Contains(b, []byte("opendocument.spreadsheet")) {
					kind = "ods"
				}
			}
		}
	}
	switch kind {
	case "ods":
		return &FormatError{FormatZip, "an OpenDocument spreadsheet (.ods)", "open it in LibreOffice and save it as .xlsx or as \"Text CSV\" with the UTF-8 character set, then import that file"}
	case "zip":
		return &FormatError{FormatZip, "a zip archive", "unpack it and import the CSV or .xlsx file inside"}
	}
	// The SHA-256 of the workbook file, read once.
	if _, err := io.Copy(in.hash, io.NewSectionReader(in.file, 0, in.size)); err != nil {
		return fmt.Errorf("read %s: %w", in.path, err)
	}
	in.sum = hex.EncodeToString(in.hash.Sum(nil))
	matcher := newHeaderMatcher(opts.Mapping)
	ws, err := workbook.Open(ctx, in.path, workbook.Options{Sheet: opts.Sheet, IsHeader: matcher.isHeader})
	if err != nil {
		return err
	}
	in.closers = append(in.closers, ws)
	opts.Encoding, opts.Comma = "utf-8", ','
	opts.format = fmt.Sprintf("xlsx workbook, sheet %q", ws.Name())
	r, err := newReaderCtx(ctx, ws, opts)
	if err != nil {
		return err
	}
	r.dialect.EncodingHow = "a workbook's text is Unicode"
	r.dialect.CommaHow, r.dialect.LineBreaks = "cells", "rows"
	in.Reader = r
	return nil
}
