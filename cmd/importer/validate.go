package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/ingest"

	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/report"
	"github.com/p100/p100-importer/internal/validate"
)

// validateOptions are the settings of `importer validate`.
type validateOptions struct {
	input
	Report     string
	Show       int
	Quiet      bool
	CPUProfile string
	Config     string

	now func() time.Time
}

func validateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o validateOptions
	fs := flag.NewFlagSet("importer validate", flag.ContinueOnError)
	o.input.register(fs)
	fs.StringVar(&o.Report, "report", "", "write the invalid rows to this CSV `file` (re-feedable as --input)")
	fs.IntVar(&o.Show, "show", 3, "how many parsed rows to print")
	fs.BoolVar(&o.Quiet, "quiet", false, "print only the problems and the totals")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "for developers: write a Go CPU profile of the run to this `file`")
	fs.StringVar(&o.Config, "config", "", "read how to read the input (input, encoding, delimiter, map, ...) from this run job `file`; its other keys are ignored")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if _, err := applyJobFile(fs, newRunFlags(&runOptions{}), o.Config, inputKeys()); err != nil {
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
	files, err := expandInputs(o.Paths, o.Report)
	if err != nil {
		return err
	}
	if len(files) > 1 {
		return usagef("validate checks one file at a time; --input names %d files (%s, ...): validate each", len(files), files[0])
	}
	o.Path = files[0]
	if o.CPUProfile != "" {
		stop, err := startCPUProfile(o.CPUProfile)
		if err != nil {
			return usageError{err}
		}
		defer stop()
	}
	in, err := o.input.open(ctx, o.now)
	if err != nil {
		return err
	}
	defer in.Close()
	r := in.Reader

	if !o.Quiet {
		d := r.Dialect()
		fmt.Fprintf(stdout, "file:        %s\n", o.Path)
		fmt.Fprintf(stdout, "format:      %s\n", d.Format)
		fmt.Fprintf(stdout, "encoding:    %s (%s)\n", d.Encoding, d.EncodingHow)
		if d.CommaHow != "cells" {
			fmt.Fprintf(stdout, "delimiter:   %s (%s)\n", ingest.DelimiterName(d.Comma), d.CommaHow)
			fmt.Fprintf(stdout, "line breaks: %s\n", d.LineBreaks)
		}
		fmt.Fprintf(stdout, "header:      line %d\n", d.HeaderLine)
		fmt.Fprintln(stdout, "columns:")
		for i, h := range r.Header() {
			field := "(ignored: maps to no API field)"
			if f := r.FieldAt(i); f != "" {
				field = "-> " + f
			}
			fmt.Fprintf(stdout, "  %-24q %s\n", h, field)
		}
		fmt.Fprintf(stdout, "required:    %s\n", strings.Join(r.RequiredFields(), ", "))
	}

	var rep *report.Writer
	if o.Report != "" {
		if rep, err = report.Create(o.Report, r.Header()); err != nil {
			return usageError{err}
		}
		defer rep.Abort()
	}

	// Rows are read on a goroutine of their own (in.Each), and checked here.
	rows, invalid, shown := 0, 0, 0
	notesShown := map[ingest.Repair]int{}
	err = in.Each(ctx, func(rec *ingest.Record) error {
		rows++
		for _, n := range rec.Notes {
			// Every repair is counted below; the first few of each kind
			// are shown with their line.
			if notesShown[n.Kind]++; notesShown[n.Kind] <= maxNotesShown && !o.Quiet {
				fmt.Fprintf(stdout, "line %d: repaired: %s\n", rec.Line, n)
			}
		}
		problems := rec.Check()
		if len(problems) == 0 {
			if shown < o.Show && !o.Quiet {
				shown++
				u := rec.User
				fmt.Fprintf(stdout, "line %d: externalUserId=%s email=(%d chars) name=%s %s city=%s country=%s documentType=%s documentNumber=%s birthDate=%s\n",
					rec.Line, u.ExternalUserID, len(u.Email), u.FirstName, u.LastName, u.City, u.Country, u.DocumentType,
					validate.Mask(u.DocumentNumber), orDash(u.BirthDate))
			}
			return nil
		}
		invalid++
		for _, p := range problems {
			fmt.Fprintln(stdout, p.String())
		}
		if rep == nil {
			return nil
		}
		if err := rep.Write(report.Row{Values: r.Columns(rec), Line: rec.Line, Outcome: string(importer.Invalid),
			Code: importer.CodeInvalid, Message: rec.Reason()}); err != nil {
			return internalError{err}
		}
		return nil
	})
	var reportErr internalError
	switch {
	case ctx.Err() != nil:
		return importer.ErrInterrupted
	case errors.As(err, &reportErr):
		return err
	case err != nil:
		return usageError{fmt.Errorf("%s: %w", o.Path, err)}
	}
	if rep != nil {
		if err := rep.Commit(); err != nil {
			return err
		}
	}
	printRepairs(stdout, r.Repairs(), r.Skipped())
	fmt.Fprintf(stdout, "rows %d: valid %d, invalid %d\n", rows, rows-invalid, invalid)
	if invalid > 0 {
		return errRowErrors
	}
	return nil
}

// maxNotesShown is how many repairs of each kind validate lists by line.
const maxNotesShown = 10

// printRepairs writes the count of each kind of repair and of the lines
// skipped.
func printRepairs(w io.Writer, repairs map[ingest.Repair]int, sk ingest.Skipped) {
	for _, k := range ingest.Repairs {
		if n := repairs[k]; n > 0 {
			more := ""
			if n > maxNotesShown {
				more = fmt.Sprintf(" (the first %d are listed above)", maxNotesShown)
			}
			fmt.Fprintf(w, "repaired:    %d %s%s\n", n, k, more)
		}
	}
	skips := []struct {
		n    int
		what string
	}{
		{sk.Blank, "blank or only empty cells"},
		{sk.Hint, "Excel's sep= line"},
		{sk.Title, "above the header (a title)"},
		{sk.RepeatedHeader, "the header repeated (two exports joined?)"},
	}
	for _, s := range skips {
		if s.n > 0 {
			fmt.Fprintf(w, "skipped:     %d line(s) %s\n", s.n, s.what)
		}
	}
	if len(sk.RepeatedAt) > 0 {
		lines := make([]string, len(sk.RepeatedAt))
		for i, l := range sk.RepeatedAt {
			lines[i] = strconv.Itoa(l)
		}
		fmt.Fprintf(w, "             repeated header on line %s\n", strings.Join(lines, ", "))
	}
	if sk.Padded+sk.Trimmed > 0 {
		fmt.Fprintf(w, "mended:      %d row(s) with empty cells beyond the header's named columns (a trailing delimiter)\n", sk.Padded+sk.Trimmed)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
