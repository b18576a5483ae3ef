package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
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
	if err := parseFlags(fs, args, stdout); err != nil {
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
	if _, err := os.Stat(o.Checkpoint); errors.Is(err, os.ErrNotExist) {
		return usagef("no checkpoint at %s: run `importer run` first, or pass --checkpoint FILE (the one your runs use)", o.Checkpoint)
	}
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
	writeStatusText(stdout, &rep)
	return nil
}

// stateMeaning says what a row in each state is, and what comes next.
var stateMeaning = map[string]string{
	string(checkpoint.InFlight): "sent, answer not recorded (a run is going, or was killed): the next run or `importer reconcile` settles them",
	string(checkpoint.Created):  "created in P100 by this tool; never sent again",
	string(checkpoint.Exists):   "already in P100 (P411); never sent again",
	string(checkpoint.Invalid):  "refused here, never sent: fix them and feed them back with --input",
	string(checkpoint.Rejected): "refused by P100 (P403...): fix them; sent again once changed",
	string(checkpoint.Failed):   "transient errors outlasted the retries: the next run sends them again",
	"changed":                   "created rows seen later with other content; not re-sent (a flag, not a state)",
}

// writeStatusText writes status for people: a table of the states, the
// rows in doubt, the most common errors and a table of the last runs.
func writeStatusText(w io.Writer, rep *statusReport) {
	fmt.Fprintf(w, "checkpoint %s: %d rows\n\n", rep.Checkpoint, rep.Rows)
	const row = "  %-10s %8v  %s\n"
	fmt.Fprintf(w, row, "state", "rows", "meaning")
	for _, s := range checkpoint.States {
		fmt.Fprintf(w, row, s, rep.States[string(s)], stateMeaning[string(s)])
	}
	fmt.Fprintf(w, row, "changed", rep.Changed, stateMeaning["changed"])
	if rep.InDoubt > 0 {
		fmt.Fprintf(w, "\nin doubt: %d rows (in flight when a run died, or created without a known userId): importer reconcile settles them\n", rep.InDoubt)
	}
	if len(rep.Errors) > 0 {
		fmt.Fprintln(w, "\nmost common errors:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  state\tcode\trows")
		for _, e := range rep.Errors {
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", e.State, orDash(e.Code), e.Count)
		}
		tw.Flush()
	}
	if len(rep.Runs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nlast runs:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  id\tstarted\tduration\tcommand\texit\tcreated\texists\tskipped\tinvalid\trejected\tfailed\tinput")
	for _, r := range rep.Runs {
		fmt.Fprintf(tw, "  #%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Started.Local().Format(time.RFC3339),
			runDuration(r), r.Command, runExit(r), runCounts(r), runInput(r))
	}
	tw.Flush()
}

// runDuration is how long a run took; "-" for one that never finished.
func runDuration(r statusRun) string {
	if r.Finished == nil {
		return "-"
	}
	d := r.Finished.Sub(r.Started)
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func runExit(r statusRun) string {
	if r.ExitCode == nil {
		return "-"
	}
	return fmt.Sprint(*r.ExitCode)
}

// runCounts is the outcome columns of a run, from its summary.
func runCounts(r statusRun) string {
	var sum importer.Summary
	if len(r.Summary) == 0 || json.Unmarshal(r.Summary, &sum) != nil {
		return "-\t-\t-\t-\t-\t-"
	}
	return fmt.Sprintf("%d\t%d\t%d\t%d\t%d\t%d", sum.Created, sum.Exists, sum.Skipped, sum.Invalid, sum.Rejected, sum.Failed)
}

// runInput is the run's input and the start of its SHA-256; a run that
// never finished says so.
func runInput(r statusRun) string {
	in := orDash(r.Input)
	if r.InputSHA256 != "" {
		in += " (sha256 " + shortHash(r.InputSHA256) + ")"
	}
	if r.Finished == nil {
		in += " (running, or killed: no summary)"
	}
	return in
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
