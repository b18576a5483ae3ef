package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/p100/p100-importer/internal/validate"
)

// RowSource yields rows already split into the API's fields: the values in
// the order of Fields, and the line of the file each came from. io.EOF ends
// it; any other error is the source failing.
type RowSource func() (values []string, line int, err error)

// NewRowReader reads rows from next, such as the rows a checkpoint keeps
// for a retry, with the same normalisation, repairs and field rules as the
// rows of a file, and no CSV in between. Its header is Fields.
func NewRowReader(next RowSource, opts Options) (*Reader, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DocumentTypes == nil {
		opts.DocumentTypes = validate.KnownDocumentTypes
	}
	r := &Reader{opts: opts, required: opts.Required, repairs: map[Repair]int{}, source: next,
		dialect: Dialect{Format: "rows", Encoding: "UTF-8", EncodingHow: "already decoded"}}
	if r.required == nil {
		r.required = DefaultRequired
	}
	r.header = slices.Clone(Fields)
	r.fieldOf = slices.Clone(Fields)
	r.columnOf = make(map[string]string, len(Fields))
	for _, f := range Fields {
		r.columnOf[f] = f
	}
	r.seen = newSeenIn(opts)
	return r, nil
}

// readSource reads the next row of a RowSource.
func (r *Reader) readSource() (*Record, *csv.ParseError, error) {
	values, line, err := r.source()
	if errors.Is(err, io.EOF) {
		return nil, nil, io.EOF
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read after line %d: %w", r.lastLine, err)
	}
	if len(values) != len(Fields) {
		return nil, nil, fmt.Errorf("a row of %d values, want %d (Fields)", len(values), len(Fields))
	}
	var u User
	for i, f := range Fields {
		u.Set(f, values[i])
	}
	r.lastLine = line
	rec := &Record{Line: line, input: u}
	if err := r.prepare(rec); err != nil {
		return nil, nil, err
	}
	return rec, nil, nil
}
