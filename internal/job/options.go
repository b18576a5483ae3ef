package job

import (
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/ratelimit"
)

// Defaults of a run's settings, as `importer run` documents them.
const (
	DefaultCheckpoint = "p100-import.db"
	// DefaultRate is the lookups per second of reconcile; a run's default
	// is RateAuto.
	DefaultRate         = 10
	DefaultBurst        = 5
	DefaultMaxAttempts  = 5
	DefaultTimeout      = 30 * time.Second
	DefaultDrainTimeout = 30 * time.Second
	DefaultMaxPause     = 5 * time.Minute
)

// Options are the settings of one run.
type Options struct {
	// Input is the file to import ("-": standard input); empty with Retry:
	// the rows come from the checkpoint.
	Input string
	// Inputs, when set, are the files to import, one after another in
	// this order under one checkpoint lock, as one run (Input is then
	// unused): a row's externalUserId met in an earlier file is a
	// duplicate, as within one file.
	Inputs []string
	Read   ingest.Options // how to read the input
	// Retry names states whose rows are sent again even though an earlier
	// run settled them: without Input, the checkpoint's rows in those
	// states (failed, rejected); with Input, the file's rows whose ledger
	// state is one of them, rejected ones included though unchanged.
	Retry []checkpoint.State

	Checkpoint string
	Client     p100.Config // MaxConns is set from Workers
	Rate       float64     // requests per second, never above (a ceiling: the run finds a lower limit on 429s); 0: no limit, or with RateAuto none known
	RateAuto   bool        // find the API's limit from a low start (set by Run whenever Rate > 0, which then starts at Rate)
	RateShare  float64     // with RateAuto: the share of the limit found to use; 0 means 1
	Burst      int
	Workers    int // 0: AutoWorkers(Rate)

	MaxAttempts      int
	DrainTimeout     time.Duration
	MaxPause         time.Duration // the longest Retry-After waited out; 0: DefaultMaxPause
	LookupExisting   bool
	MaxErrors        int     // 0: no limit
	MaxErrorsPercent float64 // 0: no limit
	// Limit is the most rows sent this run (0: no limit); the run then
	// stops reading and ends cleanly, and a rerun carries on.
	Limit int

	Report  string // failure report file; "" writes none
	Summary string // summary JSON file; "" writes none
	Metrics string // Prometheus textfile; "" writes none
	// HTMLReport is the HTML report file; "" writes none (the checkpoint
	// keeps what it needs either way, for `importer status --html`).
	HTMLReport string
	// Version is the importer's version, for the HTML report.
	Version string
	// ExitMeaning says what an exit code means, for the HTML report.
	ExitMeaning func(code int) string

	Log *slog.Logger // nil: discard
	Now func() time.Time
	// Started, if set, is called once the input is open, before any row
	// is sent.
	Started func(Start)
	// OnRow, if set, is called for every row after its outcome is
	// committed, on one goroutine.
	OnRow func(*importer.RowResult)
	// OnPause, if set, is told when the API asks for a pause and until
	// when (the pause is also logged), from any goroutine.
	OnPause func(until time.Time)
	// Exit maps the run's result to the exit code and reason the summary
	// and the checkpoint record; nil records 0 and "".
	Exit func(error) (code int, reason string)
	// Ledger, if set, wraps the checkpoint the importer writes (a
	// benchmark counts its transactions).
	Ledger func(*checkpoint.Store) importer.Ledger
}

// Start is what a run tells Options.Started.
type Start struct {
	// TotalLines is the lines the input has after the header; -1 when
	// unknown (standard input, a pipe).
	TotalLines int64
	// Rate reports the limiter's current state (rate, phase, limit
	// found); safe to call from any goroutine.
	Rate func() ratelimit.Stats
}

// Result is what a finished (or stopped) run leaves.
type Result struct {
	Summary    importer.Summary
	ReportRows int // rows written to the failure report
}

// Errors of a run that cmd/importer maps to exit codes.
var (
	// ErrRowErrors: the run finished, but some rows were not imported.
	ErrRowErrors = errors.New("some rows were not imported")
)

// ConfigError means the run was refused before anything was sent: a
// setting, the input, or another run holding the checkpoint.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// AutoWorkers picks the worker count when none is set: enough requests in
// flight to hold rate against up to a second of latency, within [8, 64].
// More workers would only wait for the limiter's tokens; fewer would cap
// the rate below it on a slow API.
func AutoWorkers(workers int, rate float64) int {
	if workers > 0 {
		return workers
	}
	if rate < 0 { // an unknown rate (--rate auto): enough for 64/s at a second of latency
		return 64
	}
	if rate <= 0 {
		return 8
	}
	return min(max(int(math.Ceil(rate)), 8), 64)
}
