package importer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/ratelimit"
)

// Client is the part of the P100 API the importer calls.
type Client interface {
	CreateUser(ctx context.Context, r *p100.CreateUserRequest) (*p100.User, error)
	GetUser(ctx context.Context, externalUserID string) (*p100.User, error)
}

// Ledger is the part of the checkpoint the importer writes.
type Ledger interface {
	Lookup(ctx context.Context, ids []string) (map[string]checkpoint.Known, error)
	// Write commits marks and outcomes in one transaction.
	Write(ctx context.Context, runID int64, marks []checkpoint.Mark, outcomes []checkpoint.Outcome) error
	// Unmark gives rows marked but never sent their previous state back.
	Unmark(ctx context.Context, rows []checkpoint.Release) error
	SetChanged(ctx context.Context, changed map[string]bool) error
}

// Limiter paces every request of the run.
type Limiter interface {
	Wait(ctx context.Context) error
	// Throttled is told of a 429; it returns when every request may go
	// on again if it paused them all, zero otherwise.
	Throttled(retryAfter time.Duration) (pausedUntil time.Time)
	Succeeded()
	Stats() ratelimit.Stats
}

// Source yields the rows to import; io.EOF ends it.
type Source interface {
	Next() (*ingest.Record, error)
}

// Config wires a run.
type Config struct {
	Client  Client
	Ledger  Ledger
	Limiter Limiter
	RunID   int64

	Workers     int           // concurrent requests; at least 1
	MaxAttempts int           // attempts per row for transient errors; at least 1
	BackoffBase time.Duration // first retry delay; 0 means 250ms
	BackoffMax  time.Duration // longest retry delay; 0 means 30s
	// DrainTimeout bounds how long requests already sent may take to finish
	// after the run is told to stop; 0 means 30s.
	DrainTimeout time.Duration
	// LookupExisting looks up the userId of users that answer P411.
	LookupExisting bool
	// ResendRejected sends rows P100 rejected in an earlier run even when
	// their content is unchanged (--retry rejected): the way out after a
	// misconfigured run recorded rejections that were not P100's.
	ResendRejected bool
	// MaxPause is the longest pause (a Retry-After) the run waits out; a
	// longer one stops the run with a *PauseError. 0 means 5 minutes.
	MaxPause time.Duration
	// OnPause, if set, is told when the API asks the run to pause (429 or
	// 503 with Retry-After), with when the pause ends; called at the start
	// of each pause that ends later than the one before, from any goroutine.
	OnPause func(until time.Time, status int)
	// Breaker sets when a run stops because the API keeps failing.
	Breaker BreakerConfig
	// MaxErrors stops the run once this many rows are invalid or rejected
	// (0: no limit). MaxErrorsPercent does the same for a share of the
	// rows done, judged once 100 rows are done (0: no limit).
	MaxErrors        int
	MaxErrorsPercent float64
	// Limit, when above 0, is the most rows the run sends: once that many
	// are queued it reads no further row, lets them finish and ends
	// without an error (Summary.LimitReached). Rows that need no request
	// (done before, invalid, duplicates) do not count.
	Limit int

	// OnRow is called once per row, in one goroutine, after the row's
	// outcome is committed to the checkpoint.
	OnRow func(*RowResult)
	// Rand returns a number in [0, 1) for backoff jitter; nil uses math/rand.
	Rand func() float64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Errors that end a run early; see the exit codes in the README.
var (
	// ErrInterrupted: the run was stopped by a signal; safe to rerun.
	ErrInterrupted = errors.New("interrupted")
	// ErrUnavailable: the API kept failing and the run stopped dispatching
	// (circuit breaker); safe to rerun.
	ErrUnavailable = errors.New("API unavailable, safe to rerun")
	// ErrErrorBudget: more rows were invalid or rejected than --max-errors
	// allows; the run stopped. Fix the input and rerun.
	ErrErrorBudget = errors.New("error budget exhausted")
)

// FatalAPIError means the API refused in a way every row would meet (401):
// the run stopped at once.
type FatalAPIError struct{ Err error }

// Error says what the API refused and what to check.
func (e *FatalAPIError) Error() string {
	var apiErr *p100.Error
	if !errors.As(e.Err, &apiErr) {
		return "stopped: the API refused every request (" + e.Err.Error() + "); safe to rerun"
	}
	said := ""
	if apiErr.Message != "" {
		said = ": " + apiErr.Message
	}
	switch {
	case apiErr.Status == 401 || apiErr.Status == 403:
		if strings.Contains(apiErr.Message, "xo3") {
			return fmt.Sprintf("the API refused this machine's address (HTTP %d%s): P100 allows production calls only from allow-listed IPs; ask P100 to add it; safe to rerun", apiErr.Status, said)
		}
		return fmt.Sprintf("the API refused the key (HTTP %d%s): check P100_API_KEY or --api-key-file, and that the key is for this --base-url (staging and production keys differ); safe to rerun", apiErr.Status, said)
	case apiErr.Code == p100.CodeTLS:
		return fmt.Sprintf("stopped: the API's TLS certificate does not verify (%v): check --base-url, a proxy that intercepts HTTPS, or the system's CA certificates; safe to rerun", apiErr.Err)
	}
	return "stopped: the API refused every request (" + apiErr.Error() + "); safe to rerun"
}

// Unwrap returns the API's error.
func (e *FatalAPIError) Unwrap() error { return e.Err }

// UnavailableError is the circuit breaker's stop: the API kept failing, or
// nothing answered at its address. It is ErrUnavailable.
type UnavailableError struct {
	Consecutive int         // the breaker's limits, for the message
	Window      int         //
	Rate        float64     //
	Last        *p100.Error // the last error seen
}

// Error tells "nothing answers there" from "the API kept failing".
func (e *UnavailableError) Error() string {
	if e.Last != nil && e.Last.Unreachable() {
		addr := e.Last.Addr
		if addr == "" {
			addr = "the API's address"
		}
		return fmt.Sprintf("API unavailable: nothing answers at %s (%v): check --base-url (P100's are %s and %s), the network or a firewall; safe to rerun",
			addr, e.Last.Err, p100.ProductionURL, p100.StagingURL)
	}
	last := ""
	if e.Last != nil {
		last = "; last: " + e.Last.Error()
	}
	return fmt.Sprintf("API unavailable: the API kept failing (%d transient errors in a row, or more than %.0f%% of the last %d attempts%s): safe to rerun later with the same checkpoint; the rows not sent wait for it",
		e.Consecutive, e.Rate*100, e.Window, last)
}

// Is makes an UnavailableError ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// budgetError is the stop at --max-errors. It is ErrErrorBudget.
type budgetError struct {
	bad, rows, max int
	pct            float64
}

func (e *budgetError) Error() string {
	limit := fmt.Sprintf("the --max-errors limit (%d)", e.max)
	if e.max == 0 {
		limit = fmt.Sprintf("over the --max-errors limit (%g%% of %d rows)", e.pct, e.rows)
	}
	return fmt.Sprintf("stopped: %d rows invalid or rejected, %s: fix them and rerun; the rows not reached are sent then", e.bad, limit)
}

func (e *budgetError) Is(target error) bool { return target == ErrErrorBudget }

// OffScriptError means the API answered as P100 does not (a 404 or 405, a
// redirect, an HTML or empty error body, a 2xx without a user): the tool is
// not talking to the API it thinks. The run stopped at once, and the rows
// that got such answers were not recorded: a rerun with the right URL
// sends them.
type OffScriptError struct{ Err *p100.Error }

func (e *OffScriptError) Error() string {
	return "stopped: the API answered like something else (" + e.Err.Error() + "): check --base-url " +
		"(P100's are " + p100.ProductionURL + " and " + p100.StagingURL + ", without a path), a proxy (HTTPS_PROXY), " +
		"or a captive portal or VPN page; no row's outcome was taken from these answers: rerun once the URL is right"
}
func (e *OffScriptError) Unwrap() error { return e.Err }

// PauseError means the API asked for a pause longer than MaxPause: the run
// stopped rather than wait silently; rerun after Until.
type PauseError struct {
	Status     int
	RetryAfter time.Duration
	Until      time.Time
	Max        time.Duration
}

func (e *PauseError) Error() string {
	return fmt.Sprintf("stopped: the API asked to pause for %s (HTTP %d with Retry-After), until %s, longer than --max-pause %s: rerun after that time",
		e.RetryAfter.Round(time.Second), e.Status, e.Until.UTC().Format("2006-01-02 15:04:05 UTC"), e.Max)
}

// CheckpointError means the ledger could not be written: the run stopped
// rather than send requests whose outcome it could not record.
type CheckpointError struct{ Err error }

func (e *CheckpointError) Error() string { return "checkpoint unusable: " + e.Err.Error() }
func (e *CheckpointError) Unwrap() error { return e.Err }

// InputError means the input stopped being readable mid-run.
type InputError struct{ Err error }

func (e *InputError) Error() string { return "read input: " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Importer runs imports with one configuration; each Run is independent.
type Importer struct {
	cfg Config
}

// New returns an Importer for cfg.
func New(cfg Config) *Importer {
	cfg.Workers = max(cfg.Workers, 1)
	cfg.MaxAttempts = max(cfg.MaxAttempts, 1)
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 250 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 30 * time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	if cfg.MaxPause <= 0 {
		cfg.MaxPause = 5 * time.Minute
	}
	if cfg.OnPause == nil {
		cfg.OnPause = func(time.Time, int) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnRow == nil {
		cfg.OnRow = func(*RowResult) {}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	return &Importer{cfg: cfg}
}

// Run imports every row of src. Cancelling ctx is the graceful stop: no new
// row is read or sent, requests already sent finish (bounded by
// DrainTimeout) and are recorded, and Run returns ErrInterrupted. A stopped
// run accounts for the rows it settled; rows read ahead but never sent are
// not counted, their in-flight marks are undone, and they go out on the
// next run.
//
// The returned Summary is always filled, also alongside an error.
func (im *Importer) Run(ctx context.Context, src Source) (Summary, error) {
	r := newRun(ctx, &im.cfg)
	defer r.close()

	r.group.Go(func() error { return r.read(src) })
	r.group.Go(r.lookup)
	r.producers.Add(1 + im.cfg.Workers)
	r.group.Go(r.dispatch)
	for range im.cfg.Workers {
		r.group.Go(r.work)
	}
	go func() { // the results end when the last producer does
		r.producers.Wait()
		close(r.results)
	}()
	r.group.Go(r.record)

	err := r.group.Wait()
	return r.finish(err)
}
