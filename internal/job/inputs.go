package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/ingest"
)

// InputFile is one input of a run, as the summary tells it.
type InputFile = importer.InputFile

// inputs are the files of one run, read one after another as one source
// of rows. With several, each row is known by the file it came from, for
// its report line and its log lines.
type inputs struct {
	paths []string
	ins   []*ingest.Input
	dups  *ingest.DupCheck // shared by the files; nil with one
	cur   int              // the file being read (the reader's)

	mu     sync.Mutex
	fileOf map[*ingest.Record]int // rows handed on and not yet told; only with several files
	rows   []int                  // rows told, by file
}

// openInputs opens every file before anything is sent, so that a file
// that cannot be read refuses the run at once. With several files, a
// failure report needs them to share one header (a report of rows with
// different columns could not be fed back as one file).
func openInputs(ctx context.Context, paths []string, read ingest.Options, report string) (*inputs, error) {
	s := &inputs{paths: paths, rows: make([]int, len(paths))}
	if len(paths) > 1 {
		s.dups = ingest.NewDupCheck(read.TempDir)
		read.DupCheck = s.dups
		s.fileOf = map[*ingest.Record]int{}
	}
	for _, p := range paths {
		in, err := ingest.Open(ctx, p, read)
		if err != nil {
			s.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		s.ins = append(s.ins, in)
	}
	if report != "" {
		for i, in := range s.ins[1:] {
			if !slices.Equal(in.Header(), s.ins[0].Header()) {
				s.Close()
				return nil, fmt.Errorf("--report: %s and %s have different headers, and one report could not be fed back as one file: "+
					"give the inputs one header (the same columns in the same order), or import them in separate runs each with its --report",
					paths[0], paths[i+1])
			}
		}
	}
	return s, nil
}

// inputsOf makes a source of one input already open (the checkpoint's
// rows for a retry).
func inputsOf(name string, in *ingest.Input) *inputs {
	return &inputs{paths: []string{name}, ins: []*ingest.Input{in}, rows: make([]int, 1)}
}

// Next returns the next row of the current file, moving on to the next
// file at the end of one; io.EOF after the last.
func (s *inputs) Next() (*ingest.Record, error) {
	for s.cur < len(s.ins) {
		rec, err := s.ins[s.cur].Next()
		if errors.Is(err, io.EOF) {
			s.cur++
			continue
		}
		if err != nil {
			var changed *ingest.ChangedError
			if len(s.ins) > 1 && !errors.As(err, &changed) {
				err = fmt.Errorf("%s: %w", s.paths[s.cur], err)
			}
			return nil, err
		}
		if s.fileOf != nil {
			s.mu.Lock()
			s.fileOf[rec] = s.cur
			s.mu.Unlock()
		}
		return rec, nil
	}
	return nil, io.EOF
}

// told notes a row's outcome and returns the file it came from.
func (s *inputs) told(rec *ingest.Record) int {
	i := 0
	if s.fileOf != nil {
		s.mu.Lock()
		i = s.fileOf[rec]
		delete(s.fileOf, rec)
		s.mu.Unlock()
	}
	s.rows[i]++
	return i
}

// several reports whether the run has more than one file.
func (s *inputs) several() bool { return len(s.ins) > 1 }

// Header is the first file's header (with a report, every file's).
func (s *inputs) Header() []string { return s.ins[0].Header() }

// TotalLines adds up the files' lines after their headers; -1 when one is
// unknown.
func (s *inputs) TotalLines() int64 {
	var n int64
	for _, in := range s.ins {
		if in.TotalLines < 0 {
			return -1
		}
		n += in.TotalLines
	}
	return n
}

// SkippedLines adds up the lines that hold no user.
func (s *inputs) SkippedLines() int {
	n := 0
	for _, in := range s.ins {
		n += in.Skipped().Lines()
	}
	return n
}

// Repairs adds up the files' repair counts.
func (s *inputs) Repairs() map[ingest.Repair]int {
	var out map[ingest.Repair]int
	for _, in := range s.ins {
		for k, v := range in.Repairs() {
			if out == nil {
				out = map[ingest.Repair]int{}
			}
			out[k] += v
		}
	}
	return out
}

// Files says what became of each file, in order.
func (s *inputs) Files() []InputFile {
	out := make([]InputFile, len(s.ins))
	for i, in := range s.ins {
		out[i] = InputFile{Path: s.paths[i], SHA256: in.SHA256(), Rows: s.rows[i]}
	}
	return out
}

// Name is the run's input as the checkpoint's run record and the summary
// name it: the file, or the files joined by ", ".
func (s *inputs) Name() string { return strings.Join(s.paths, ", ") }

// SHA256 is the one file's digest; "" with several (each is in Files).
func (s *inputs) SHA256() string {
	if len(s.ins) == 1 {
		return s.ins[0].SHA256()
	}
	return ""
}

// Close closes every file and the shared duplicate check.
func (s *inputs) Close() error {
	var first error
	for _, in := range s.ins {
		if err := in.Close(); err != nil && first == nil {
			first = err
		}
	}
	if s.dups != nil {
		if err := s.dups.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
