package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/htmlreport"
)

// statusHTMLOptions are `importer status --html FILE [--run N]`.
type statusHTMLOptions struct {
	File string
	Run  int64
}

func registerStatusHTML(fs *flag.FlagSet) *statusHTMLOptions {
	var o statusHTMLOptions
	fs.StringVar(&o.File, "html", "", "write the HTML report of the last import run (or of --run N) to this `file`, from the checkpoint")
	fs.Int64Var(&o.Run, "run", 0, "with --html: the run `N` to report on (importer status lists them); 0 means the last")
	return &o
}

// runStatusHTML regenerates a run's HTML report from the checkpoint,
// without writing to it.
func runStatusHTML(ctx context.Context, path string, o *statusHTMLOptions, stdout io.Writer) error {
	switch {
	case o.File == "":
		return usagef("--run N goes with --html FILE: the HTML report of run N")
	case o.Run < 0:
		return usagef("--run %d: want a run number (importer status lists them), or 0 for the last", o.Run)
	}
	store, err := checkpoint.Open(ctx, path, checkpoint.Options{ReadOnly: true})
	if err != nil {
		return internalError{fmt.Errorf("open checkpoint %s: %w", path, err)}
	}
	defer store.Close()
	rep, err := htmlreport.Load(ctx, store, o.Run, exitMeaning)
	if errors.Is(err, htmlreport.ErrNoRun) {
		return usageError{err}
	}
	if err != nil {
		return internalError{err}
	}
	if err := htmlreport.WriteFile(o.File, rep); err != nil {
		return internalError{err}
	}
	fmt.Fprintf(stdout, "HTML report of run #%d written to %s\n", rep.Summary.RunID, o.File)
	return nil
}
