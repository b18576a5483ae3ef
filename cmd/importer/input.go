package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/p100/p100-importer/internal/ingest"
)

// input holds the flags that say how to read a CSV file; run and validate
// share them.
type input struct {
	Path          string
	Encoding      string
	Delimiter     string
	Required      string
	DateFormat    string
	DocumentTypes string
	Map           string
	MapFile       string
}

func (in *input) register(fs *flag.FlagSet) {
	fs.StringVar(&in.Path, "input", "", "CSV `file` of users to import; - reads standard input")
	fs.StringVar(&in.Encoding, "encoding", "utf-8", "character set of a file without byte-order mark: utf-8, utf-16le, utf-16be, windows-1250, iso-8859-2, windows-1252, ...")
	fs.StringVar(&in.Delimiter, "delimiter", "", "field delimiter: , ; tab or |; empty detects it from the header line")
	fs.StringVar(&in.Required, "required", strings.Join(ingest.DefaultRequired, ","), "comma-separated API fields every row must have (P100 does not publish its rules)")
	fs.StringVar(&in.DateFormat, "date-format", "2006-01-02", "Go layout of birthDate in the file, e.g. 02.01.2006; it is sent as YYYY-MM-DD")
	fs.StringVar(&in.DocumentTypes, "document-types", "PASSPORT,ID_CARD,RESIDENCE_PERMIT", "comma-separated accepted documentType values")
	fs.StringVar(&in.Map, "map", "", "extra header mapping, e.g. 'Customer Number=externalUserId,Mail=email'")
	fs.StringVar(&in.MapFile, "map-file", "", "CSV `file` of header,field pairs, for mappings too long for --map")
}

func (in *input) check() error {
	if in.Path == "" {
		return usagef("--input is required (a CSV file, or - for standard input)")
	}
	return nil
}

// options turns the flags into ingest options.
func (in *input) options(now func() time.Time) (ingest.Options, error) {
	opts := ingest.Options{DateLayout: in.DateFormat, Encoding: in.Encoding, Now: now}
	switch in.Delimiter {
	case "":
	case "tab", `\t`:
		opts.Comma = '\t'
	default:
		r, size := utf8.DecodeRuneInString(in.Delimiter)
		if size != len(in.Delimiter) || r == '"' || r == '\n' || r == '\r' {
			return opts, usagef("--delimiter %q: want one character such as , ; | or the word tab", in.Delimiter)
		}
		opts.Comma = r
	}
	opts.Required = splitList(in.Required)
	opts.DocumentTypes = splitList(in.DocumentTypes)
	if len(opts.DocumentTypes) == 0 {
		return opts, usagef("--document-types must list at least one type")
	}
	mapping, err := in.mapping()
	if err != nil {
		return opts, err
	}
	opts.Mapping = mapping
	return opts, nil
}

// mapping reads --map and --map-file into header -> field.
func (in *input) mapping() (map[string]string, error) {
	m := map[string]string{}
	add := func(header, field, where string) error {
		header, field = strings.TrimSpace(header), strings.TrimSpace(field)
		known := false
		for _, f := range ingest.Fields {
			if strings.EqualFold(f, field) {
				field, known = f, true
			}
		}
		if header == "" || !known {
			return usagef("%s: %q=%q: want 'header=field' with field one of %s", where, header, field, strings.Join(ingest.Fields, ", "))
		}
		m[header] = field
		return nil
	}
	if in.Map != "" {
		for _, pair := range strings.Split(in.Map, ",") {
			h, f, ok := strings.Cut(pair, "=")
			if !ok {
				return nil, usagef("--map: %q is not header=field", pair)
			}
			if err := add(h, f, "--map"); err != nil {
				return nil, err
			}
		}
	}
	if in.MapFile != "" {
		f, err := os.Open(in.MapFile)
		if err != nil {
			return nil, usagef("--map-file: %w", err)
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.FieldsPerRecord = 2
		for line := 1; ; line++ {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, usagef("--map-file %s: %w", in.MapFile, err)
			}
			if line == 1 && strings.EqualFold(rec[0], "header") && strings.EqualFold(rec[1], "field") {
				continue
			}
			if err := add(rec[0], rec[1], fmt.Sprintf("--map-file %s line %d", in.MapFile, line)); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// openInput is an input file being read.
type openInput struct {
	reader    *ingest.Reader
	totalRows int64 // -1 when unknown (standard input)
	file      *os.File
	hash      hash.Hash
	tee       *eofWatcher
	closer    io.Closer // for inputs that are not files
}

// open opens the file and reads its header.
func (in *input) open(now func() time.Time) (*openInput, error) {
	opts, err := in.options(now)
	if err != nil {
		return nil, err
	}
	oi := &openInput{totalRows: -1, hash: sha256.New()}
	if in.Path == "-" {
		oi.file = os.Stdin
	} else {
		f, err := os.Open(in.Path)
		if err != nil {
			return nil, usagef("--input: %w", err)
		}
		oi.file = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(in.Path, ".gz") {
			if n, err := countLines(f); err == nil {
				oi.totalRows = max(n-1, 0)
				opts.ExpectedRows = int(oi.totalRows)
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				f.Close()
				return nil, usagef("--input: %w", err)
			}
		}
	}
	// The SHA-256 is of the bytes on disk, compressed or not.
	oi.tee = &eofWatcher{r: io.TeeReader(oi.file, oi.hash)}
	text, err := gunzipIfCompressed(oi.tee)
	if err != nil {
		oi.Close()
		return nil, usagef("%s: %w", in.Path, err)
	}
	oi.reader, err = ingest.NewReader(text, opts)
	if err != nil {
		oi.Close()
		return nil, usagef("%s: %w", in.Path, err)
	}
	return oi, nil
}

// gunzipIfCompressed reads gzip data (recognised by its magic bytes, not
// its name) transparently.
func gunzipIfCompressed(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("read gzip: %w", err)
	}
	return zr, nil
}

// sha256 returns the input's SHA-256 when it was read to the end, else "".
func (oi *openInput) sha256() string {
	if oi.tee == nil || !oi.tee.eof {
		return ""
	}
	return hex.EncodeToString(oi.hash.Sum(nil))
}

func (oi *openInput) Close() error {
	if oi.reader != nil {
		oi.reader.Close()
	}
	switch {
	case oi.closer != nil:
		return oi.closer.Close()
	case oi.file == nil || oi.file == os.Stdin:
		return nil
	}
	return oi.file.Close()
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

// countLines counts the lines of r (a last line without a newline counts).
func countLines(r io.Reader) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	var last byte = '\n'
	for {
		k, err := r.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}
