package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/job"
	"github.com/p100/p100-importer/internal/p100"
)

// runOptions are the settings of `importer run`.
type runOptions struct {
	input
	Checkpoint   string
	BaseURL      string
	APIKeyFile   string
	Rate         rateValue
	RateShare    float64
	Burst        int
	Workers      int
	MaxAttempts  int
	Timeout      time.Duration
	DrainTimeout time.Duration
	MaxPause     time.Duration
	Lookup       bool
	Report       string
	Summary      string
	Metrics      string
	HTMLReport   string
	MaxErrors    string
	RetryFailed  bool
	Retry        string
	Progress     string
	ProgressLog  time.Duration
	LogFormat    string
	LogLevel     string
	Quiet        bool
	CPUProfile   string
	Config       string // --config: the job file
	PrintConfig  bool
	Limit        int

	now func() time.Time
}

func newRunFlags(o *runOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("importer run", flag.ContinueOnError)
	o.input.register(fs)
	fs.StringVar(&o.Checkpoint, "checkpoint", job.DefaultCheckpoint, "SQLite checkpoint `file`: the ledger of every row's outcome; reuse it to resume")
	fs.StringVar(&o.BaseURL, "base-url", envOr("P100_BASE_URL", p100.StagingURL), "P100 API base `URL` (env P100_BASE_URL); production is "+p100.ProductionURL)
	fs.StringVar(&o.APIKeyFile, "api-key-file", "", "read the API key from `file` (mode 0600) instead of the environment variable P100_API_KEY")
	o.Rate = rateValue{auto: true}
	fs.Var(&o.Rate, "rate", "auto (the default) finds the API's limit and holds just under it; a number N is a ceiling: requests per second over all workers, retries and lookups included, never above N (below it when the API answers 429); 0 means no limit at all (see the README)")
	fs.Float64Var(&o.RateShare, "rate-share", 1, "with --rate auto: use at most this share (0 < F <= 1) of the limit found, leaving the rest to other traffic on the same key")
	fs.IntVar(&o.Burst, "burst", job.DefaultBurst, "requests that may leave at once before --rate paces them")
	fs.IntVar(&o.Workers, "workers", 0, "concurrent requests; 0 (auto) means --rate x 1s, between 8 and 64: enough for latencies up to 1s, or up to 64/rate s above 64/s (to sustain --rate R at latency L seconds you need R*L); 8 when --rate is 0")
	fs.IntVar(&o.MaxAttempts, "max-attempts", job.DefaultMaxAttempts, "attempts per row for transient errors (P500, P501, 429, 5xx, timeouts)")
	fs.DurationVar(&o.Timeout, "timeout", job.DefaultTimeout, "timeout of one request")
	fs.DurationVar(&o.MaxPause, "max-pause", job.DefaultMaxPause, "the longest pause the API may ask for (Retry-After) that the run waits out; a longer one stops it (exit 3) saying when to rerun")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", job.DefaultDrainTimeout, "after a stop signal, how long requests already sent may take to finish")
	fs.BoolVar(&o.Lookup, "lookup-existing", true, "after P411 (user exists), look the user up to record its userId")
	fs.StringVar(&o.Report, "report", "", "write the rows that did not succeed to this CSV `file` (re-feedable as --input)")
	fs.StringVar(&o.Summary, "summary", "", "write the run's summary as JSON to this `file`")
	fs.StringVar(&o.HTMLReport, "html-report", "", "write a self-contained HTML report of the run (charts, rows not imported by code; no personal data) to this `file`")
	fs.StringVar(&o.Metrics, "metrics-file", "", "write the run's figures in Prometheus text format to this `file` (node_exporter textfile collector)")
	fs.StringVar(&o.MaxErrors, "max-errors", "", "stop once N rows (or N% of the rows, judged after 100) are invalid or rejected, e.g. 50 or 5%; exit code 3")
	fs.BoolVar(&o.RetryFailed, "retry-failed", false, "send again the rows the checkpoint holds as failed, without --input: --retry failed (rows left in flight need the original --input)")
	fs.StringVar(&o.Retry, "retry", "", "comma-separated `states` to send again: failed, rejected. Without --input the checkpoint's rows in those states; with --input the file's, rejected ones even if unchanged (after a run against a wrong URL)")
	fs.StringVar(&o.Progress, "progress", "auto", "progress display: auto (a bar on a terminal, a log line every 10s otherwise), bar, log or none")
	fs.DurationVar(&o.ProgressLog, "progress-every", statusEvery, "with --progress log (or auto without a terminal): how often a progress line is written")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&o.Quiet, "quiet", false, "for cron: only warnings, errors and the final summary line")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "for developers: write a Go CPU profile of the run to this `file`")
	fs.IntVar(&o.Limit, "limit", 0, "send at most N rows this run, then stop cleanly (a canary: --limit 5, check P100, then run without); rows done before, invalid rows and duplicates do not count; 0: no limit")
	fs.StringVar(&o.Config, "config", "", "read the settings from this TOML job `file`: its keys are these flags' names (input, checkpoint, rate, ...); flags given here win over it")
	fs.BoolVar(&o.PrintConfig, "print-config", false, "print the effective settings (TOML, where each came from) and exit without running; the API key is never shown")
	return fs
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o runOptions
	fs := newRunFlags(&o)
	jf, err := parseRunFlags(fs, &o, args, stdout)
	if err != nil {
		return err
	}
	if o.PrintConfig {
		return printConfig(stdout, fs, jf, os.Getenv)
	}
	return runImport(ctx, o, stdout, stderr)
}

// parseRunFlags parses the command line, then the job file of --config
// under it: flags given on the command line win.
func parseRunFlags(fs *flag.FlagSet, o *runOptions, args []string, stdout io.Writer) (*jobFile, error) {
	if err := parseFlags(fs, args, stdout); err != nil {
		return nil, err
	}
	return applyJobFile(fs, fs, o.Config, nil)
}

// runImport is `importer run`: the flags become job.Options, and the run's
// result the summary on stderr and an exit code.
func runImport(ctx context.Context, o runOptions, stdout, stderr io.Writer) error {
	if o.now == nil {
		o.now = time.Now
	}
	level := o.LogLevel
	if o.Quiet {
		level = "warn"
	}
	con := consoleOf(stderr)
	log, err := newLogger(con, o.LogFormat, level)
	if err != nil {
		return err
	}
	con.setJSON(o.LogFormat == "json")
	// From here on, the error (if any) and the exit code are the last lines
	// on stderr, timestamped or JSON like the rest.
	res, err := o.execute(ctx, con, log)
	var sum *importer.Summary
	if res.Summary.RunID != 0 {
		sum = &res.Summary
		printSummary(con, sum, o, res.ReportRows)
	}
	return endRun(con, err, sum, o)
}

// execute checks the settings and runs the import.
func (o runOptions) execute(ctx context.Context, con *console, log *slog.Logger) (job.Result, error) {
	if err := o.check(); err != nil {
		return job.Result{}, err
	}
	if o.CPUProfile != "" {
		stop, err := startCPUProfile(o.CPUProfile)
		if err != nil {
			return job.Result{}, usageError{err}
		}
		defer stop()
	}
	maxErrors, maxErrorsPct, err := parseMaxErrors(o.MaxErrors)
	if err != nil {
		return job.Result{}, err
	}
	var files []string
	if len(o.Paths) > 0 {
		if files, err = expandInputs(o.Paths, o.Report, o.Summary, o.Metrics); err != nil {
			return job.Result{}, err
		}
	}
	key, err := readAPIKey(o.APIKeyFile)
	if err != nil {
		return job.Result{}, err
	}
	read, err := o.input.options(o.now)
	if err != nil {
		return job.Result{}, err
	}
	var prog *progress
	res, err := job.Run(ctx, job.Options{
		Input: o.Path, Inputs: files, Read: read, Retry: o.retryStates(), Checkpoint: o.Checkpoint,
		Client: p100.Config{BaseURL: o.BaseURL, APIKey: key, Timeout: o.Timeout, UserAgent: "p100-importer/" + version},
		Rate:   o.Rate.n, RateAuto: o.Rate.auto, RateShare: o.RateShare, Burst: o.Burst, Workers: o.Workers,
		MaxAttempts: o.MaxAttempts, DrainTimeout: o.DrainTimeout, MaxPause: o.MaxPause, LookupExisting: o.Lookup,
		MaxErrors: maxErrors, MaxErrorsPercent: maxErrorsPct, Limit: o.Limit,
		Report: o.Report, Summary: o.Summary, Metrics: o.Metrics,
		HTMLReport: o.HTMLReport, Version: version, ExitMeaning: exitMeaning,
		Log: log, Now: o.now,
		Started: func(st job.Start) {
			prog = newProgress(con, o.Progress, st, o.Quiet)
			prog.every = o.ProgressLog
			prog.start()
		},
		OnRow:   func(*importer.RowResult) { prog.add() },
		OnPause: func(until time.Time) { prog.paused(until) },
		Exit:    func(err error) (int, string) { return exitCode(err), exitReason(err) },
	})
	if prog != nil {
		prog.finish(outcomeWord(err))
	}
	var cfgErr *job.ConfigError
	if errors.As(err, &cfgErr) {
		return res, usageError{cfgErr.Err}
	}
	return res, err
}

// parseMaxErrors reads --max-errors: "" (no limit), "N" or "N%".
func parseMaxErrors(s string) (int, float64, error) {
	if s == "" {
		return 0, 0, nil
	}
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(pct, 64)
		if err != nil || v <= 0 || v > 100 {
			return 0, 0, usagef("--max-errors %q: want a count such as 50 or a share such as 5%%", s)
		}
		return 0, v, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, 0, usagef("--max-errors %q: want a count such as 50 or a share such as 5%%", s)
	}
	return n, 0, nil
}

func (o *runOptions) check() error {
	switch {
	case o.Workers < 0:
		return usagef("--workers must be 0 (auto) or more")
	case o.Workers > maxWorkers:
		return usagef("--workers %d: at most %d (more requests in flight than that only wait for the rate limit, and each holds a connection)", o.Workers, maxWorkers)
	case o.Rate.n < 0:
		return usagef("--rate must be auto, 0 (no limit) or more")
	case o.RateShare <= 0 || o.RateShare > 1:
		return usagef("--rate-share %v: want a share above 0 and at most 1, such as 0.5", o.RateShare)
	case o.Burst < 1:
		return usagef("--burst must be at least 1")
	case o.MaxAttempts < 1:
		return usagef("--max-attempts must be at least 1")
	case o.Timeout <= 0:
		return usagef("--timeout must be positive")
	case o.MaxPause <= 0:
		return usagef("--max-pause must be positive")
	case o.ProgressLog <= 0:
		return usagef("--progress-every must be positive, such as 1m")
	case o.Checkpoint == "":
		return usagef("--checkpoint must name a file")
	case o.Limit < 0:
		return usagef("--limit must be 0 (no limit) or more")
	}
	switch o.Progress {
	case "auto", "bar", "log", "none":
	default:
		return usagef("--progress %q: want auto, bar, log or none", o.Progress)
	}
	for _, st := range splitList(o.Retry) {
		if st != string(checkpoint.Failed) && st != string(checkpoint.Rejected) {
			return usagef("--retry %q: want failed, rejected or both (failed,rejected)", st)
		}
	}
	if o.RetryFailed {
		if o.Path != "" {
			return usagef("--retry-failed reads the rows from the checkpoint: drop --input (or use --retry failed with it)")
		}
		return nil
	}
	if o.Path == "" && o.Retry != "" {
		return nil // the rows come from the checkpoint
	}
	return o.input.check()
}

// retryStates is --retry, with --retry-failed as its shorthand.
func (o *runOptions) retryStates() []checkpoint.State {
	var states []checkpoint.State
	if o.RetryFailed {
		states = append(states, checkpoint.Failed)
	}
	for _, st := range splitList(o.Retry) {
		if s := checkpoint.State(st); !slices.Contains(states, s) {
			states = append(states, s)
		}
	}
	return states
}

// maxWorkers bounds --workers: enough for 512 requests a second at a
// second of latency.
const maxWorkers = 512

// readAPIKey reads the key from --api-key-file or P100_API_KEY. The value
// never appears in any message.
func readAPIKey(file string) (p100.APIKey, error) {
	if file != "" {
		// The path is not echoed in errors: pasted by mistake, it could be
		// the key itself.
		fi, err := os.Stat(file)
		if err != nil {
			return "", usagef("--api-key-file: %s", pathErrorKind(err))
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", usagef("--api-key-file %s is readable by group or others (mode %04o): run chmod 600 %s", file, fi.Mode().Perm(), file)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("--api-key-file: %s", pathErrorKind(err))
		}
		key := trimKey(string(data))
		if key == "" {
			return "", usagef("--api-key-file %s is empty", file)
		}
		return p100.APIKey(key), nil
	}
	key := trimKey(os.Getenv("P100_API_KEY"))
	if key == "" {
		return "", usagef("no API key: set P100_API_KEY or use --api-key-file FILE")
	}
	return p100.APIKey(key), nil
}

// pathErrorKind describes a file error without its path.
func pathErrorKind(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file (the path is not shown in case it is the key itself)"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return "cannot read the file"
}

func trimKey(s string) string { return strings.TrimRight(s, "\r\n ") }

// printSummary writes the summary to stderr: the human text, each line
// timestamped, or one JSON object.
func printSummary(con *console, sum *importer.Summary, o runOptions, reportRows int) {
	if con.jsonLogger() != nil {
		con.event(slog.LevelInfo, "summary", "", slog.Any("summary", sum))
	} else {
		sum.WriteText(con.textLines())
	}
	if reportRows > 0 {
		con.event(slog.LevelInfo, "failure report",
			fmt.Sprintf("failure report: %s (%d rows; %s)", o.Report, reportRows, reportAdvice(sum)),
			slog.String("file", o.Report), slog.Int("rows", reportRows))
	}
}

// endRun writes the run's last lines: the error, if one ended it, then the
// exit code and its meaning (for exit 1 with sum, where the rows not
// imported are listed). run does not print the error again.
func endRun(con *console, err error, sum *importer.Summary, o runOptions) error {
	code := exitCode(err)
	if err != nil && !errors.Is(err, errRowErrors) {
		con.event(slog.LevelError, "run failed", "importer: "+err.Error(), slog.String("err", err.Error()))
	}
	meaning := exitMeaning(code)
	if code == ExitRowErrors && sum != nil {
		meaning = "finished; some rows were not imported: " + rowsAdvice(sum, o)
	}
	con.event(slog.LevelInfo, "exit", fmt.Sprintf("exit code %d: %s", code, meaning),
		slog.Int("exit_code", code), slog.String("meaning", meaning))
	if err == nil {
		return nil
	}
	return reportedError{err}
}

// outcomeWord is how the progress display names the end of a run.
func outcomeWord(err error) string {
	switch exitCode(err) {
	case ExitOK, ExitRowErrors:
		return "done"
	case ExitInterrupted:
		return "interrupted"
	}
	return "stopped"
}

// reportAdvice says what to do with the failure report's rows: invalid and
// rejected ones need fixing; failed ones (P500, P501, 429, 5xx, timeouts)
// only need sending again.
func reportAdvice(sum *importer.Summary) string {
	fix, resend := sum.Invalid+sum.Rejected, sum.Failed
	switch {
	case fix == 0:
		return "they failed on transient errors, which say nothing against the rows: rerun with the same checkpoint to send them again (--retry-failed needs no --input)"
	case resend == 0:
		return "fix them and feed the file back with --input"
	}
	return fmt.Sprintf("fix the %d invalid or rejected and feed the file back with --input; the %d failed on transient errors are sent again by any rerun", fix, resend)
}

// rowsAdvice says where the rows not imported are listed.
func rowsAdvice(sum *importer.Summary, o runOptions) string {
	if o.Report != "" {
		return "see the report"
	}
	states := []string{}
	for _, s := range []struct {
		n    int
		name string
	}{{sum.Invalid, "invalid"}, {sum.Rejected, "rejected"}, {sum.Failed, "failed"}} {
		if s.n > 0 {
			states = append(states, s.name)
		}
	}
	if len(states) == 0 {
		states = []string{"failed", "rejected", "invalid"}
	}
	return fmt.Sprintf("rerun with --report FILE to get them, or list them with `importer export --checkpoint %s --state %s`",
		o.Checkpoint, strings.Join(states, ","))
}

// exitReason says in words why the run ended as it did.
func exitReason(err error) string {
	if err == nil {
		return exitMeaning(ExitOK)
	}
	return err.Error()
}

func exitMeaning(code int) string {
	switch code {
	case ExitOK:
		return "every row created, existing or done before"
	case ExitRowErrors:
		return "finished; some rows were not imported"
	case ExitUsage:
		return "usage, configuration or input error"
	case ExitAborted:
		return "stopped early, for the reason above; the checkpoint keeps what was done: rerun once it is dealt with"
	case ExitInterrupted:
		return "interrupted; safe to rerun with the same checkpoint"
	}
	return "internal error"
}

// startCPUProfile profiles the process until the returned func is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// rateValue is --rate: a number of requests per second, or auto.
type rateValue struct {
	auto bool
	n    float64
}

func (r *rateValue) String() string {
	if r.auto {
		return "auto"
	}
	return strconv.FormatFloat(r.n, 'g', -1, 64)
}

func (r *rateValue) Set(s string) error {
	if strings.EqualFold(s, "auto") {
		r.auto, r.n = true, 0
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want auto or a number of requests per second")
	}
	r.auto, r.n = false, n
	return nil
}
