package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/validate"
)

// input holds the flags that say how to read a CSV file; run and validate
// share them.
type input struct {
	Path          string   // the first --input
	Paths         []string // every --input, as given (files, directories, globs)
	Encoding      string
	Delimiter     string
	Required      string
	DateFormat    string
	DocumentTypes string
	Map           string
	MapFile       string
	Sheet         string
}

func (in *input) register(fs *flag.FlagSet) {
	fs.Var(&inputList{in}, "input", "CSV `file` of users to import; - reads standard input. May be given several times, or name a directory (its *.csv, *.csv.gz, *.tsv, *.txt and *.xlsx files, in name order) or a quoted glob: the files are imported one after another")
	fs.StringVar(&in.Encoding, "encoding", "", "character set of a file without byte-order mark; empty detects it from the content (utf-8, windows-1250, iso-8859-2, windows-1252, iso-8859-1, iso-8859-15, ibm852); a name given here always wins")
	fs.StringVar(&in.Delimiter, "delimiter", "", "field delimiter: , ; tab or |; empty detects it (Excel's sep= line, else the first lines)")
	fs.StringVar(&in.Sheet, "sheet", "", "for an .xlsx workbook: the sheet to read; empty reads the first sheet that has a header row")
	fs.StringVar(&in.Required, "required", strings.Join(ingest.DefaultRequired, ","), "comma-separated API fields every row must have (P100 does not publish its rules)")
	fs.StringVar(&in.DateFormat, "date-format", "", "Go layout of birthDate in the file, e.g. 2/1/2006 (day first); empty reads YYYY-MM-DD, DD.MM.YYYY, 'YYYY-MM-DD 00:00:00' and slashed dates decided per column; sent as YYYY-MM-DD")
	fs.StringVar(&in.DocumentTypes, "document-types", strings.Join(validate.KnownDocumentTypes, ","), "comma-separated accepted documentType values")
	fs.StringVar(&in.Map, "map", "", "extra header mapping, e.g. 'Customer Number=externalUserId,Mail=email'")
	fs.StringVar(&in.MapFile, "map-file", "", "CSV `file` of header,field pairs, for mappings too long for --map")
}

// inputList is --input: each use adds a file, directory or glob.
type inputList struct{ in *input }

func (l *inputList) String() string {
	if l == nil || l.in == nil {
		return ""
	}
	return strings.Join(l.in.Paths, ",")
}

func (l *inputList) Set(s string) error {
	l.in.Paths = append(l.in.Paths, s)
	if l.in.Path == "" {
		l.in.Path = s
	}
	return nil
}

func (in *input) check() error {
	if in.Path == "" {
		return usagef("--input is required (a CSV file, or - for standard input)")
	}
	return nil
}

// options turns the flags into ingest options.
func (in *input) options(now func() time.Time) (ingest.Options, error) {
	opts := ingest.Options{DateLayout: in.DateFormat, Encoding: in.Encoding, Sheet: in.Sheet, Now: now}
	switch in.Delimiter {
	case "":
	case "tab", `\t`:
		opts.Comma = '\t'
	default:
		r, size := utf8.DecodeRuneInString(in.Delimiter)
		if size != len(in.Delimiter) || r > unicode.MaxASCII || r == '"' || r == '\n' || r == '\r' {
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

// open opens the file and reads its header.
func (in *input) open(ctx context.Context, now func() time.Time) (*ingest.Input, error) {
	opts, err := in.options(now)
	if err != nil {
		return nil, err
	}
	src, err := ingest.Open(ctx, in.Path, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, importer.ErrInterrupted
		}
		return nil, usagef("%s: %w", in.Path, err)
	}
	return src, nil
}
