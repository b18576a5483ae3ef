package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/atomicfile"
	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/htmlreport"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/ratelimit"
	"github.com/p100/p100-importer/internal/report"
	"github.com/p100/p100-importer/internal/runlock"
)

// Run runs one import with o. Errors before anything is sent are a
// *ConfigError (a setting, the input, the lock) or an
// *importer.CheckpointError (the checkpoint cannot be opened); then the
// importer's own errors; ErrRowErrors when it finished with rows not
// imported. The Result is filled once the run started, also alongside an
// error.
func Run(ctx context.Context, o Options) (Result, error) {
	o.defaults()
	log := o.Log
	o.Client.MaxConns = o.Workers
	limiter := ratelimit.New(ratelimit.Config{Auto: o.RateAuto, Share: o.RateShare, Rate: o.Rate, Burst: o.Burst})
	if o.RateAuto {
		o.Client.OnHeaders = limiter.ObserveHeaders // an API that says its limit is paced to it
	}
	client, err := p100.New(o.Client)
	if err != nil {
		return Result{}, &ConfigError{err}
	}
	defer client.CloseIdleConnections()

	for _, st := range o.Retry {
		if !slices.Contains(RetryableStates, st) {
			return Result{}, &ConfigError{fmt.Errorf("--retry %s: want failed or rejected", st)}
		}
	}
	paths := o.Inputs
	if len(paths) == 0 && o.Input != "" {
		paths = []string{o.Input}
	}
	fromLedger := len(paths) == 0 && len(o.Retry) > 0
	var src *inputs
	if !fromLedger {
		if src, err = openInputs(ctx, paths, o.Read, o.Report); err != nil {
			if ctx.Err() != nil {
				return Result{}, importer.ErrInterrupted
			}
			return Result{}, &ConfigError{err}
		}
		defer src.Close()
	}

	lock, err := runlock.AcquireCheckpoint(o.Checkpoint, "run", o.Now())
	if err != nil {
		var held *runlock.HeldError
		if errors.As(err, &held) {
			return Result{}, &ConfigError{err}
		}
		return Result{}, &importer.CheckpointError{Err: err}
	}
	defer lock.Release()
	if lock.Stale != nil {
		log.Warn("took over the lock of a run that ended without releasing it (killed?)", "holder", lock.Stale.String())
	}
	// A run killed while writing its report or summary left temporary
	// files (the report's hold personal data); the lock says no other run
	// writes them now.
	for _, f := range []string{o.Report, o.Summary, o.Metrics, o.HTMLReport} {
		if f != "" {
			if err := atomicfile.RemoveStale(f); err != nil {
				log.Warn("a temporary file of an earlier run was not removed", "file", f, "err", err)
			}
		}
	}

	store, err := checkpoint.Open(ctx, o.Checkpoint, checkpoint.Options{Now: o.Now})
	if err != nil {
		return Result{}, &importer.CheckpointError{Err: fmt.Errorf("open checkpoint %s: %w", o.Checkpoint, err)}
	}
	defer store.Close()
	inDoubt := 0
	var inputName string
	if fromLedger {
		in, err := openLedgerRows(ctx, store, o.Retry, o.Read)
		if err != nil {
			return Result{}, &importer.CheckpointError{Err: err}
		}
		src = inputsOf("(checkpoint: --retry "+joinStates(o.Retry)+")", in)
		defer src.Close()
		if c, err := store.Count(ctx); err == nil && c.ByState[checkpoint.InFlight]+c.NoUserID > 0 {
			inDoubt = c.ByState[checkpoint.InFlight] + c.NoUserID
			log.Warn("rows in doubt (left in flight by a run that died, or created without a known userId) are not settled by a retry from the checkpoint: run importer reconcile, or run again with the original --input",
				"rows", inDoubt)
		}
	}
	inputName = src.Name()
	for i, in := range src.ins {
		if cols := in.Unknown(); len(cols) > 0 {
			attrs := []any{"count", len(cols), "columns", columnList(cols)}
			if src.several() {
				attrs = append([]any{"file", src.paths[i]}, attrs...)
			}
			log.Warn("columns ignored: they map to no API field", attrs...)
		}
	}
	runID, err := store.BeginRun(ctx, "run", inputName)
	if err != nil {
		return Result{}, &importer.CheckpointError{Err: err}
	}

	var rep *report.Writer
	if o.Report != "" {
		if rep, err = report.Create(o.Report, src.Header()); err != nil {
			return Result{}, &ConfigError{err}
		}
		defer rep.Abort() // no-op after Commit
	}
	rows := &rowTeller{log: log, src: src, rep: rep, onRow: o.OnRow, notes: map[ingest.Note]bool{}, lines: &htmlreport.Collector{}}
	var ledger importer.Ledger = store
	if o.Ledger != nil {
		ledger = o.Ledger(store)
	}
	imp := importer.New(importer.Config{
		Client:           client,
		Ledger:           ledger,
		Limiter:          limiter,
		RunID:            runID,
		Workers:          o.Workers,
		MaxAttempts:      o.MaxAttempts,
		DrainTimeout:     o.DrainTimeout,
		LookupExisting:   o.LookupExisting,
		MaxErrors:        o.MaxErrors,
		MaxErrorsPercent: o.MaxErrorsPercent,
		Limit:            o.Limit,
		MaxPause:         o.MaxPause,
		OnPause: func(until time.Time, status int) {
			log.Warn("the API asked to pause: every request waits", "status", status,
				"until", until.UTC().Format(time.RFC3339), "for", time.Until(until).Round(time.Second).String())
			if o.OnPause != nil {
				o.OnPause(until)
			}
		},
		Now:            o.Now,
		OnRow:          rows.tell,
		ResendRejected: slices.Contains(o.Retry, checkpoint.Rejected),
	})
	if o.Started != nil {
		o.Started(Start{TotalLines: src.TotalLines(), Rate: limiter.Stats})
	}
	log.Debug("run started", "run", runID, "input", inputName, "checkpoint", o.Checkpoint, "base_url", o.Client.BaseURL,
		"rate", o.Rate, "burst", o.Burst, "workers", o.Workers)
	sum, runErr := imp.Run(ctx, src)
	if st := limiter.Stats(); o.RateAuto {
		sum.RateLimitFound, sum.RateFinal = round1(st.Limit), round1(st.Rate)
		sum.SecondsAtLimit = round1(st.Holding.Seconds())
	}
	if sum.Requests > 0 {
		sum.ThrottledShare = math.Round(float64(sum.Throttled)/float64(sum.Requests)*1e4) / 1e4
	}
	sum.LinesSkipped = src.SkippedLines()
	sum.Repairs = repairCounts(src.Repairs())
	final := runErr
	if final == nil && (sum.Invalid+sum.Rejected+sum.Failed > 0 || inDoubt > 0) {
		final = ErrRowErrors // a retry never reports success while rows stay in doubt
	}
	sum.ExitCode, sum.ExitReason = o.Exit(final)
	sum.Input, sum.InputSHA256 = inputName, src.SHA256()
	files := src.Files()
	if src.several() {
		sum.Inputs = files
	}

	res := Result{Summary: sum}
	if rep != nil {
		reportErr := rows.reportErr
		if reportErr == nil {
			reportErr = rep.Commit()
		}
		if reportErr != nil {
			log.Error("failure report not written", "file", o.Report, "err", reportErr)
		}
		res.ReportRows = rep.Rows()
	}
	if !fromLedger {
		if err := store.RecordRunInputs(context.WithoutCancel(ctx), runID, runInputs(files)); err != nil {
			log.Error("the run's input files not recorded in the checkpoint", "err", err)
		}
	}
	o.record(ctx, store, runID, &res.Summary)
	o.htmlReport(ctx, store, &res.Summary, rows.lines)
	if sum.DataCleared > 0 {
		// Rows that had failed now exist: leave none of their personal
		// data in the file's free space.
		if err := store.Compact(context.WithoutCancel(ctx)); err != nil {
			log.Error("checkpoint not compacted: personal data of rows that succeeded may remain in its free space", "err", err)
		}
	}
	return res, final
}

// defaults fills in what a caller left out.
func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Exit == nil {
		o.Exit = func(error) (int, string) { return 0, "" }
	}
	if o.Checkpoint == "" {
		o.Checkpoint = DefaultCheckpoint
	}
	if o.MaxPause <= 0 {
		o.MaxPause = DefaultMaxPause
	}
	if o.Rate > 0 {
		// A rate given is a ceiling ("never above"): the adaptive
		// controller starts at it, holds it while the API takes it, and
		// finds the API's limit below it when the API answers 429.
		o.RateAuto = true
	}
	rate := o.Rate
	if o.RateAuto && rate == 0 {
		rate = -1 // unknown
	}
	o.Workers = AutoWorkers(o.Workers, rate)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// record writes the run's end: into the checkpoint's run record, the
// summary file and the metrics file. Failures are logged: the run itself
// is over.
func (o *Options) record(ctx context.Context, store *checkpoint.Store, runID int64, sum *importer.Summary) {
	ctx = context.WithoutCancel(ctx)
	var b bytes.Buffer
	if err := sum.WriteJSON(&b); err != nil {
		o.Log.Error("summary not encoded", "err", err)
		return
	}
	if err := store.FinishRun(ctx, runID, sum.ExitCode, sum.InputSHA256, b.Bytes()); err != nil {
		o.Log.Error("run end not recorded in the checkpoint", "err", err)
	}
	if o.Summary != "" {
		if err := atomicfile.WriteFile(o.Summary, b.Bytes(), 0o600); err != nil {
			o.Log.Error("summary not written", "file", o.Summary, "err", err)
		}
	}
	if o.Metrics != "" {
		// Written atomically: the collector never reads half a file. 0644:
		// node_exporter may run as another user, and it holds no
		// personal data.
		lastSuccess, err := store.LastSuccess(ctx)
		if err == nil {
			var m bytes.Buffer
			if err = sum.WritePrometheus(&m, lastSuccess); err == nil {
				err = atomicfile.WriteFile(o.Metrics, m.Bytes(), 0o644)
			}
		}
		if err != nil {
			o.Log.Error("metrics not written", "file", o.Metrics, "err", err)
		}
	}
}

// rowTeller is told every row's committed outcome (on one goroutine): it
// logs repairs once per kind and rows not imported, and writes the
// failure report.
type rowTeller struct {
	log       *slog.Logger
	src       *inputs
	rep       *report.Writer
	onRow     func(*importer.RowResult)
	notes     map[ingest.Note]bool
	reportErr error
	lines     *htmlreport.Collector // rows not imported, for the HTML report
}

func (t *rowTeller) tell(r *importer.RowResult) {
	file := t.src.told(r.Record)
	var where []any // with several files, the file a line is in
	if t.src.several() {
		where = []any{"file", t.src.paths[file]}
	}
	if t.onRow != nil {
		t.onRow(r)
	}
	for _, n := range r.Record.Notes {
		// Each repair (a PESEL's lost zero, RE sent as FR...) is told once
		// per column and wording, with the first line it happened on;
		// `importer validate` lists them all.
		if !t.notes[n] {
			t.notes[n] = true
			t.log.Info("value repaired", append(where, "line", r.Record.Line, "column", n.Column, "note", n.Text)...)
		}
	}
	if r.Outcome.Succeeded() {
		return
	}
	t.lines.Add(r.Outcome, r.Code, r.Record.Line)
	t.log.Info("row not imported", append(where, "line", r.Record.Line, "externalUserId", p100.Sanitize(r.Record.User.ExternalUserID, 100),
		"outcome", string(r.Outcome), "code", r.Code, "reason", r.Message, "attempts", r.Attempts)...)
	if t.rep != nil && t.reportErr == nil {
		row := report.Row{Values: t.src.ins[file].Columns(r.Record), Line: r.Record.Line,
			Outcome: string(r.Outcome), Code: r.Code, Message: r.Message, Attempts: r.Attempts}
		if t.src.several() {
			row.File = t.src.paths[file]
		}
		t.reportErr = t.rep.Write(row)
	}
}

// runInputs turns the run's files into the checkpoint's records of them.
func runInputs(files []InputFile) []checkpoint.RunInput {
	out := make([]checkpoint.RunInput, len(files))
	for i, f := range files {
		out[i] = checkpoint.RunInput{Path: f.Path, SHA256: f.SHA256, Rows: f.Rows}
	}
	return out
}

// columnList names ignored columns for a log line: at most ten, each cut
// to 40 characters, so a header that is really a data line cannot flood
// the log.
func columnList(cols []string) string {
	var b strings.Builder
	for i, c := range cols {
		if i == 10 {
			fmt.Fprintf(&b, ", ... (%d more)", len(cols)-10)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if r := []rune(c); len(r) > 40 {
			c = string(r[:40]) + "..."
		}
		fmt.Fprintf(&b, "%q", c)
	}
	return b.String()
}

// repairCounts turns the reader's repair counts into the summary's map.
func repairCounts(m map[ingest.Repair]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

func joinStates(states []checkpoint.State) string {
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}
