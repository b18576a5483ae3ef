package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/p100/p100-importer/internal/ingest"
	"io"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/report"
	"github.com/p100/p100-importer/internal/validate"
)

// validateOptions are the settings of `importer validate`.
type validateOptions struct {
	input
	Report string
	Show   int
	Quiet  bool

	now func() time.Time
}

func validateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o validateOptions
	fs := flag.NewFlagSet("importer validate", flag.ContinueOnError)
	o.input.register(fs)
	fs.StringVar(&o.Report, "report", "", "write the invalid rows to this CSV `file` (re-feedable as --input)")
	fs.IntVar(&o.Show, "show", 3, "how many parsed rows to print")
	fs.BoolVar(&o.Quiet, "quiet", false, "print only the problems and the totals")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	return runValidate(ctx, o, stdout)
}

// runValidate reads the whole file once, sends nothing and writes no
// checkpoint; it prints the dialect, a few parsed rows and every problem.
func runValidate(ctx context.Context, o validateOptions, stdout io.Writer) error {
	if o.now == nil {
		o.now = time.Now
	}
	if err := o.input.check(); err != nil {
		return err
	}
	in, err := o.input.open(o.now)
	if err != nil {
		return err
	}
	defer in.Close()
	r := in.reader

	if !o.Quiet {
		fmt.Fprintf(stdout, "file:      %s\n", o.Path)
		fmt.Fprintf(stdout, "delimiter: %s\n", delimiterName(r.Comma()))
		fmt.Fprintf(stdout, "encoding:  %s\n", r.Encoding())
		fmt.Fprintln(stdout, "columns:")
		for i, h := range r.Header() {
			field := "(ignored: maps to no API field)"
			if f := r.FieldAt(i); f != "" {
				field = "-> " + f
			}
			fmt.Fprintf(stdout, "  %-24q %s\n", h, field)
		}
		fmt.Fprintf(stdout, "required:  %s\n", strings.Join(r.RequiredFields(), ", "))
	}

	var rep *report.Writer
	if o.Report != "" {
		if rep, err = report.Create(o.Report, r.Header()); err != nil {
			return usageError{err}
		}
		defer rep.Abort()
	}

	// Reading (decode, normalise, duplicate check) and the field rules run
	// on two goroutines, so both cores work; records stay in file order.
	batches := make(chan []*ingest.Record, 4)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		batch := make([]*ingest.Record, 0, 256)
		for ctx.Err() == nil {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				readErr <- err
				return
			}
			batch = append(batch, rec)
			if len(batch) == cap(batch) {
				batches <- batch
				batch = make([]*ingest.Record, 0, 256)
			}
		}
		batches <- batch
	}()

	rows, invalid, shown := 0, 0, 0
	for batch := range batches {
		for _, rec := range batch {
			rows++
			for _, n := range rec.Notes {
				if !o.Quiet {
					fmt.Fprintf(stdout, "line %d: note: %s\n", rec.Line, n)
				}
			}
			if rec.Valid() {
				if shown < o.Show && !o.Quiet {
					shown++
					u := rec.User
					fmt.Fprintf(stdout, "line %d: externalUserId=%s email=(%d chars) name=%s %s city=%s country=%s documentType=%s documentNumber=%s birthDate=%s\n",
						rec.Line, u.ExternalUserID, len(u.Email), u.FirstName, u.LastName, u.City, u.Country, u.DocumentType,
						validate.Mask(u.DocumentNumber), orDash(u.BirthDate))
				}
				continue
			}
			invalid++
			for _, p := range rec.Problems() {
				fmt.Fprintln(stdout, p.String())
			}
			if rep != nil {
				if err := rep.Write(report.Row{Values: r.Columns(rec), Line: rec.Line, Outcome: string(importer.Invalid),
					Code: importer.CodeInvalid, Message: rec.Reason()}); err != nil {
					for range batches { // let the reader finish
					}
					return err
				}
			}
		}
	}
	select {
	case err := <-readErr:
		return usageError{fmt.Errorf("%s: %w", o.Path, err)}
	default:
	}
	if err := ctx.Err(); err != nil {
		return importer.ErrInterrupted
	}
	if rep != nil {
		if err := rep.Commit(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "rows %d: valid %d, invalid %d\n", rows, rows-invalid, invalid)
	if invalid > 0 {
		return errRowErrors
	}
	return nil
}

func delimiterName(r rune) string {
	switch r {
	case '\t':
		return "tab"
	case ',':
		return "comma (,)"
	case ';':
		return "semicolon (;)"
	case '|':
		return "pipe (|)"
	}
	return fmt.Sprintf("%q", r)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
