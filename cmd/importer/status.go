package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
)

// statusOptions are the settings of `importer status`.
type statusOptions struct {
	Checkpoint string
	JSON       bool
	Runs       int
}

func statusCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o statusOptions
	fs := flag.NewFlagSet("importer status", flag.ContinueOnError)
	fs.StringVar(&o.Checkpoint, "checkpoint", "p100-import.db", "SQLite checkpoint `file` to read")
	fs.BoolVar(&o.JSON, "json", false, "print JSON instead of text")
	fs.IntVar(&o.Runs, "runs", 5, "how many of the last runs to show")
	html := registerStatusHTML(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if html.File != "" || html.Run != 0 {
		return runStatusHTML(ctx, o.Checkpoint, html, stdout)
	}
	return runStatus(ctx, o, stdout)
}

// statusReport is the JSON form of `importer status`.
type statusReport struct {
	Checkpoint string         `json:"checkpoint"`
	Rows       int            `json:"rows"`
	States     map[string]int `json:"states"`
	InFlight   int            `json:"in_flight"`
	InDoubt    int            `json:"in_doubt"` // in flight, plus created/exists without a known userId
	Changed    int            `json:"changed"`
	Errors     []statusError  `json:"errors"`
	Runs       []statusRun    `json:"runs"`
}

type statusError struct {
	State string `json:"state"`
	Code  string `json:"code"`
	Count int    `json:"count"`
}

type statusRun struct {
	ID          int64           `json:"id"`
	Command     string          `json:"command"`
	Input       string          `json:"input,omitempty"`
	InputSHA256 string          `json:"input_sha256,omitempty"`
	Started     time.Time       `json:"started"`
	Finished    *time.Time      `json:"finished,omitempty"`
	ExitCode    *int            `json:"exit_code,omitempty"`
	Summary     json.RawMessage `json:"summary,omitempty"`
}

// runStatus reads the checkpoint without writing to it; it works while a
// run holds the checkpoint.
func runStatus(ctx context.Context, o statusOptions, stdout io.Writer) error {
	store, err := checkpoint.Open(ctx, o.Checkpoint, checkpoint.Options{ReadOnly: true})
	if err != nil {
		return internalError{fmt.Errorf("open checkpoint %s: %w", o.Checkpoint, err)}
	}
	defer store.Close()

	counts, err := store.Count(ctx)
	if err != nil {
		return internalError{err}
	}
	top, err := store.TopErrors(ctx, 10)
	if err != nil {
		return internalError{err}
	}
	runs, err := store.Runs(ctx, o.Runs)
	if err != nil {
		return internalError{err}
	}

	rep := statusReport{Checkpoint: o.Checkpoint, Rows: counts.Total, States: map[string]int{},
		InFlight: counts.ByState[checkpoint.InFlight], InDoubt: counts.ByState[checkpoint.InFlight] + counts.NoUserID, Changed: counts.Changed, Errors: []statusError{}, Runs: []statusRun{}}
	for _, s := range checkpoint.States {
		rep.States[string(s)] = counts.ByState[s]
	}
	for _, e := range top {
		rep.Errors = append(rep.Errors, statusError{State: string(e.State), Code: e.Code, Count: e.Count})
	}
	for _, r := range runs {
		sr := statusRun{ID: r.ID, Command: r.Command, Input: r.Input, InputSHA256: r.InputSHA256, Started: r.Started,
			ExitCode: r.ExitCode, Summary: r.Summary}
		if !r.Finished.IsZero() {
			f := r.Finished
			sr.Finished = &f
		}
		rep.Runs = append(rep.Runs, sr)
	}

	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "checkpoint %s: %d rows\n", o.Checkpoint, rep.Rows)
	for _, s := range checkpoint.States {
		fmt.Fprintf(stdout, "  %-10s %d\n", s, rep.States[string(s)])
	}
	fmt.Fprintf(stdout, "  %-10s %d (created rows seen later with other content; not re-sent)\n", "changed", rep.Changed)
	if rep.InDoubt > 0 {
		fmt.Fprintf(stdout, "in doubt: %d rows (in flight when a run died, or created without a known userId): importer reconcile settles them\n", rep.InDoubt)
	}
	if len(rep.Errors) > 0 {
		fmt.Fprintln(stdout, "most common errors:")
		for _, e := range rep.Errors {
			fmt.Fprintf(stdout, "  %-8s %-14s %d\n", e.State, orDash(e.Code), e.Count)
		}
	}
	if len(rep.Runs) > 0 {
		fmt.Fprintln(stdout, "last runs:")
		for _, r := range rep.Runs {
			end, code := "running or killed", "-"
			if r.Finished != nil {
				end = r.Finished.Format(time.RFC3339)
			}
			if r.ExitCode != nil {
				code = fmt.Sprint(*r.ExitCode)
			}
			fmt.Fprintf(stdout, "  #%d %s %s -> %s exit %s input %s sha256 %s\n", r.ID, r.Command,
				r.Started.Format(time.RFC3339), end, code, orDash(r.Input), orDash(shortHash(r.InputSHA256)))
			if len(r.Summary) > 0 {
				fmt.Fprintf(stdout, "     %s\n", compactJSON(r.Summary))
			}
		}
	}
	return nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func compactJSON(raw json.RawMessage) string {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return string(raw)
	}
	b, _ := json.Marshal(m)
	return string(b)
}
