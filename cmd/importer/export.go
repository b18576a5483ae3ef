package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/p100/p100-importer/internal/atomicfile"
	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/job"
	"github.com/p100/p100-importer/internal/report"
)

// exportOptions are the settings of `importer export`.
type exportOptions struct {
	Checkpoint string
	State      string
	Format     string
	Output     string
}

func exportCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o exportOptions
	fs := flag.NewFlagSet("importer export", flag.ContinueOnError)
	fs.StringVar(&o.Checkpoint, "checkpoint", "p100-import.db", "SQLite checkpoint `file` to read")
	fs.StringVar(&o.State, "state", "created,exists", "comma-separated states to export: created, exists, failed, rejected, invalid, in_flight, changed, or all")
	fs.StringVar(&o.Format, "format", "csv", "csv or json")
	fs.StringVar(&o.Output, "output", "", "write to this `file` (atomically, mode 0600) instead of standard output")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	return runExport(ctx, o, stdout)
}

// currencies is the column order of balance ids in the CSV export; P100
// may add currencies, which then follow in alphabetical order.
var currencies = []string{"eth", "usdc", "eur", "ltc", "btc", "doge", "pol"}

// runExport writes the mapping externalUserId -> P100 userId for succeeded
// rows, or the re-feedable failure report for the others.
func runExport(ctx context.Context, o exportOptions, stdout io.Writer) error {
	filter, failures, err := parseExportState(o.State)
	if err != nil {
		return err
	}
	if o.Format != "csv" && o.Format != "json" {
		return usagef("--format %q: want csv or json", o.Format)
	}
	store, err := checkpoint.Open(ctx, o.Checkpoint, checkpoint.Options{ReadOnly: true})
	if err != nil {
		return internalError{fmt.Errorf("open checkpoint %s: %w", o.Checkpoint, err)}
	}
	defer store.Close()

	if failures && o.Format == "csv" {
		return exportFailures(ctx, store, filter, o.Output, stdout)
	}
	write := func(w io.Writer) error {
		if o.Format == "json" {
			return exportJSON(ctx, store, filter, w)
		}
		return exportCSV(ctx, store, filter, w)
	}
	return writeOutput(o.Output, stdout, write)
}

// parseExportState turns --state into a filter; failures is true when every
// state asked for is one that did not succeed.
func parseExportState(s string) (checkpoint.Filter, bool, error) {
	var f checkpoint.Filter
	if s == "all" {
		return f, false, nil
	}
	failures := true
	for _, name := range splitList(s) {
		if name == "changed" {
			f.ChangedOnly = true
			failures = false
			continue
		}
		st, err := checkpoint.ParseState(name)
		if err != nil {
			return f, false, usagef("--state: %w", err)
		}
		if st.Succeeded() {
			failures = false
		}
		f.States = append(f.States, st)
	}
	if len(f.States) == 0 && !f.ChangedOnly {
		return f, false, usagef("--state: name at least one state")
	}
	return f, failures, nil
}

func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return usageError{err}
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return err
	}
	return f.Commit()
}

// exportCSV streams the mapping, one balance_<currency> column per currency
// the checkpoint holds.
func exportCSV(ctx context.Context, store *checkpoint.Store, filter checkpoint.Filter, w io.Writer) error {
	held, err := store.Currencies(ctx)
	if err != nil {
		return internalError{err}
	}
	cols := slices.Clone(currencies)
	for _, c := range held {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}

	cw := csv.NewWriter(w)
	header := []string{"externalUserId", "userId", "outcome", "changed", "updated_at"}
	for _, c := range cols {
		header = append(header, "balance_"+c)
	}
	cw.Write(header)
	err = store.Scan(ctx, filter, func(e checkpoint.Entry) error {
		rec := []string{e.ExternalUserID, e.UserID, string(e.State), fmt.Sprint(e.Changed), e.Updated.Format(time.RFC3339)}
		for _, c := range cols {
			rec = append(rec, e.Balances[c])
		}
		return cw.Write(rec)
	})
	if err != nil {
		return internalError{err}
	}
	cw.Flush()
	return cw.Error()
}

// exportEntry is one row of the JSON export.
type exportEntry struct {
	ExternalUserID string            `json:"externalUserId"`
	UserID         string            `json:"userId,omitempty"`
	Outcome        string            `json:"outcome"`
	Changed        bool              `json:"changed"`
	UpdatedAt      time.Time         `json:"updated_at"`
	Balances       map[string]string `json:"balances,omitempty"`
	Line           int               `json:"line,omitempty"`
	ErrorCode      string            `json:"error_code,omitempty"`
	ErrorMessage   string            `json:"error_message,omitempty"`
	Attempts       int               `json:"attempts,omitempty"`
	Row            map[string]string `json:"row,omitempty"`
}

// exportJSON streams a JSON array, one entry at a time.
func exportJSON(ctx context.Context, store *checkpoint.Store, filter checkpoint.Filter, w io.Writer) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	first := true
	err := store.Scan(ctx, filter, func(e checkpoint.Entry) error {
		b, err := json.Marshal(exportEntry{ExternalUserID: e.ExternalUserID, UserID: e.UserID, Outcome: string(e.State),
			Changed: e.Changed, UpdatedAt: e.Updated, Balances: e.Balances, Line: e.Line, ErrorCode: e.ErrorCode,
			ErrorMessage: e.ErrorMessage, Attempts: e.Attempts, Row: e.RowData})
		if err != nil {
			return err
		}
		sep := ",\n  "
		if first {
			sep, first = "\n  ", false
		}
		_, err = io.WriteString(w, sep+string(b))
		return err
	})
	if err != nil {
		return internalError{err}
	}
	_, err = io.WriteString(w, "\n]\n")
	return err
}

// exportFailures regenerates the failure report from the checkpoint: the
// request fields kept for rows that did not succeed, plus the report's
// columns. It can be fed back as --input.
func exportFailures(ctx context.Context, store *checkpoint.Store, filter checkpoint.Filter, path string, stdout io.Writer) error {
	header := slices.Clone(ingest.Fields)
	if path == "" {
		return writeFailures(ctx, store, filter, header, stdout)
	}
	rep, err := report.Create(path, header)
	if err != nil {
		return usageError{err}
	}
	defer rep.Abort()
	if err := scanFailures(ctx, store, filter, header, rep.Write); err != nil {
		return err
	}
	return rep.Commit()
}

func writeFailures(ctx context.Context, store *checkpoint.Store, filter checkpoint.Filter, header []string, w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(append(slices.Clone(header), report.Columns...))
	err := scanFailures(ctx, store, filter, header, func(r report.Row) error {
		return cw.Write(append(r.Values, fmt.Sprint(r.Line), r.Outcome, r.Code, r.Message, fmt.Sprint(r.Attempts)))
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

func scanFailures(ctx context.Context, store *checkpoint.Store, filter checkpoint.Filter, header []string, write func(report.Row) error) error {
	err := store.Scan(ctx, filter, func(e checkpoint.Entry) error {
		return write(report.Row{Values: job.EntryValues(e), Line: e.Line, Outcome: string(e.State), Code: e.ErrorCode,
			Message: e.ErrorMessage, Attempts: e.Attempts})
	})
	if err != nil {
		return internalError{err}
	}
	return nil
}
