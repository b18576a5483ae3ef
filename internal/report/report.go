// Package report writes the failure report: every row that did not
// succeed, with its original columns and why, as a CSV that can be fed back
// to the importer unchanged as --input.
package report

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"

	"github.com/p100/p100-importer/internal/atomicfile"
)

// The columns the report adds after the original ones.
var Columns = []string{"line", "outcome", "error_code", "error_message", "attempts"}

// Row is one report line.
type Row struct {
	Values   []string // the original columns, in the header's order
	Line     int
	File     string // with several inputs, the row's file: the line column is then FILE:LINE
	Outcome  string
	Code     string
	Message  string
	Attempts int
}

// Writer writes a failure report atomically (mode 0600: it holds personal
// data). Nothing appears at the path until Commit.
type Writer struct {
	file *atomicfile.File
	csv  *csv.Writer
	keep []int // indexes of the original columns that are not report columns
	rec  []string
	rows int
}

// Create starts a report for a file with the given header. Columns of a
// previous report (line, outcome, ...) are dropped from the original ones,
// so a report fed back as input gives a clean report again.
func Create(path string, header []string) (*Writer, error) {
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create report: %w", err)
	}
	w := &Writer{file: f, csv: csv.NewWriter(f)}
	out := make([]string, 0, len(header)+len(Columns))
	for i, h := range header {
		if slices.Contains(Columns, h) {
			continue
		}
		w.keep = append(w.keep, i)
		out = append(out, h)
	}
	out = append(out, Columns...)
	w.rec = make([]string, len(out))
	if err := w.csv.Write(out); err != nil {
		f.Abort()
		return nil, fmt.Errorf("write report header: %w", err)
	}
	return w, nil
}

// Write adds one row.
func (w *Writer) Write(r Row) error {
	rec := w.rec[:0]
	for _, i := range w.keep {
		v := ""
		if i < len(r.Values) {
			v = r.Values[i]
		}
		rec = append(rec, v)
	}
	line := strconv.Itoa(r.Line)
	if r.File != "" {
		line = r.File + ":" + line
	}
	rec = append(rec, line, r.Outcome, r.Code, r.Message, strconv.Itoa(r.Attempts))
	if err := w.csv.Write(rec); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	w.rows++
	return nil
}

// Rows returns how many rows were written.
func (w *Writer) Rows() int { return w.rows }

// Commit flushes the report and moves it into place.
func (w *Writer) Commit() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		w.file.Abort()
		return fmt.Errorf("write report: %w", err)
	}
	return w.file.Commit()
}

// Abort discards the report.
func (w *Writer) Abort() { w.file.Abort() }
