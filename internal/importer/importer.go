package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

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
	Throttled(retryAfter time.Duration)
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
	// Breaker sets when a run stops because the API keeps failing.
	Breaker BreakerConfig
	// MaxErrors stops the run once this many rows are invalid or rejected
	// (0: no limit). MaxErrorsPercent does the same for a share of the
	// rows done, judged once 100 rows are done (0: no limit).
	MaxErrors        int
	MaxErrorsPercent float64

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

func (e *FatalAPIError) Error() string { return "aborted by the API: " + e.Err.Error() }
func (e *FatalAPIError) Unwrap() error { return e.Err }

// CheckpointError means the ledger could not be written: the run stopped
// rather than send requests whose outcome it could not record.
type CheckpointError struct{ Err error }

func (e *CheckpointError) Error() string { return "checkpoint unusable: " + e.Err.Error() }
func (e *CheckpointError) Unwrap() error { return e.Err }

// InputError means the input stopped being readable mid-run.
type InputError struct{ Err error }

func (e *InputError) Error() string { return "read input: " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Importer runs one import.
type Importer struct {
	cfg     Config
	breaker *breaker
	stop    context.CancelCauseFunc // ends attempts: signal, breaker, error budget

	latency  latencyHistogram
	requests atomic.Int64
	retries  atomic.Int64
	done     atomic.Int64 // rows with a committed outcome
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnRow == nil {
		cfg.OnRow = func(*RowResult) {}
	}
	return &Importer{cfg: cfg, breaker: newBreaker(cfg.Breaker)}
}

// Done returns how many rows have a committed outcome; safe from any
// goroutine.
func (im *Importer) Done() int64 { return im.done.Load() }

// work is a row on its way to a worker.
type work struct {
	rec  *ingest.Record
	prev *checkpoint.Known // the ledger's entry before the mark; nil if new
}

// lookupBatch is how many rows the lookup stage looks up in one query.
const lookupBatch = 256

// Run imports every row of src. Cancelling ctx is the graceful stop: no new
// row is read or sent, requests already sent finish (bounded by
// DrainTimeout) and are recorded, and Run returns ErrInterrupted. A stopped
// run accounts for the rows it settled; rows read ahead but never sent are
// not counted, their in-flight marks are undone, and they go out on the
// next run.
//
// The returned Summary is always filled, also alongside an error.
func (im *Importer) Run(ctx context.Context, src Source) (Summary, error) {
	start := im.cfg.Now()
	sum := Summary{RunID: im.cfg.RunID, ErrorCodes: map[string]int{}}

	// runCtx outlives the graceful stop so requests already sent can finish;
	// it ends DrainTimeout after the stop, or at once on a fatal error.
	runCtx, cancelRun := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelRun(nil)
	stopWatch := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(im.cfg.DrainTimeout, func() { cancelRun(fmt.Errorf("drain timeout %s passed", im.cfg.DrainTimeout)) })
		context.AfterFunc(runCtx, func() { t.Stop() })
	})
	defer stopWatch()

	g, gctx := errgroup.WithContext(runCtx)
	records := make(chan *ingest.Record, lookupBatch)
	queue := make(chan work, max(im.cfg.Workers, markChunk))
	results := make(chan *RowResult, 2*lookupBatch)
	markReqs := make(chan markRequest)
	recorderDone := make(chan struct{})

	// attemptCtx ends with the graceful stop or a fatal error: no new row or
	// attempt starts after it.
	attemptCtx, cancelAttempts := context.WithCancelCause(gctx)
	defer cancelAttempts(nil)
	defer context.AfterFunc(ctx, func() { cancelAttempts(ErrInterrupted) })()
	im.stop = cancelAttempts
	stopped := func() bool { return attemptCtx.Err() != nil }
	// unsent gathers rows marked in flight whose request never left because
	// the run stopped; their marks are undone at the end.
	var (
		unsentMu sync.Mutex
		unsent   []checkpoint.Release
	)
	release := func(ws ...work) {
		unsentMu.Lock()
		defer unsentMu.Unlock()
		for _, w := range ws {
			unsent = append(unsent, checkpoint.Release{ExternalUserID: w.rec.User.ExternalUserID, Prev: w.prev})
		}
	}
	emit := func(r *RowResult) {
		select {
		case results <- r:
		case <-recorderDone: // the recorder failed; its error ends the run
		}
	}
	// mark has the recorder commit marks (with whatever outcomes are
	// pending) and waits for the commit.
	mark := func(marks []checkpoint.Mark) error {
		req := markRequest{marks: marks, done: make(chan error, 1)}
		select {
		case markReqs <- req:
		case <-recorderDone:
			return errRecorderGone
		}
		select {
		case err := <-req.done:
			return err
		case <-recorderDone:
			return errRecorderGone
		}
	}

	g.Go(func() error { // reader
		defer close(records)
		for !stopped() {
			rec, err := src.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return &InputError{Err: err}
			}
			select {
			case records <- rec:
			case <-attemptCtx.Done():
			}
		}
		return nil
	})

	var producers sync.WaitGroup
	producers.Add(1 + im.cfg.Workers)
	go func() {
		producers.Wait()
		close(results)
	}()

	batches := make(chan lookedUp, 2)
	g.Go(func() error { // lookup
		defer close(batches)
		return im.lookup(attemptCtx, records, batches)
	})

	g.Go(func() error { // dispatcher
		defer producers.Done()
		defer close(markReqs)
		defer close(queue)
		return im.dispatch(attemptCtx, batches, queue, emit, mark, release)
	})

	for range im.cfg.Workers {
		g.Go(func() error {
			defer producers.Done()
			for w := range queue {
				if stopped() {
					release(w) // never sent
					continue
				}
				r, err := im.send(attemptCtx, gctx, w)
				if r == nil {
					release(w) // the run stopped before its first attempt
				} else {
					emit(r)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}

	g.Go(func() error { // recorder
		defer close(recorderDone)
		return im.record(runCtx, results, markReqs, &sum)
	})

	err := g.Wait()
	if len(unsent) > 0 {
		// Every writer has finished: undo the marks of rows never sent, so
		// a stopped run leaves in flight only requests that really left.
		if uerr := im.cfg.Ledger.Unmark(context.WithoutCancel(ctx), unsent); uerr != nil && err == nil {
			err = &CheckpointError{Err: uerr}
		}
	}
	sum.Requests, sum.Retries = im.requests.Load(), im.retries.Load()
	st := im.cfg.Limiter.Stats()
	sum.Throttled, sum.PausedSeconds = st.Throttled, round(st.Paused.Seconds(), 3)
	sum.finish(start, im.cfg.Now(), &im.latency)
	if cause := context.Cause(attemptCtx); err == nil &&
		(errors.Is(cause, ErrInterrupted) || errors.Is(cause, ErrUnavailable) || errors.Is(cause, ErrErrorBudget)) {
		err = cause
	}
	return sum, err
}

// lookedUp is a batch of rows with what the ledger knows of them.
type lookedUp struct {
	batch []*ingest.Record
	known map[string]checkpoint.Known
}

// lookup gathers rows into batches and looks them up in the ledger, one
// query a batch, ahead of the dispatcher: on a rerun the lookups are the
// largest cost, and this way they overlap the reading and the settling.
// Batches never share an id (a repeated id is a duplicate, not looked up),
// so a lookup cannot miss a mark the dispatcher has yet to commit.
func (im *Importer) lookup(ctx context.Context, records <-chan *ingest.Record, out chan<- lookedUp) error {
	for {
		batch := make([]*ingest.Record, 0, lookupBatch)
		select {
		case rec, ok := <-records:
			if !ok {
				return nil
			}
			batch = append(batch, rec)
		case <-ctx.Done():
			return nil
		}
	fill:
		for len(batch) < lookupBatch {
			select {
			case rec, ok := <-records:
				if !ok {
					break fill
				}
				batch = append(batch, rec)
			default:
				break fill
			}
		}
		ids := make([]string, 0, len(batch))
		for _, rec := range batch {
			if id := rec.User.ExternalUserID; id != "" && rec.DupOf == 0 {
				ids = append(ids, id)
			}
		}
		known, err := im.cfg.Ledger.Lookup(context.WithoutCancel(ctx), ids)
		if err != nil {
			return &CheckpointError{Err: err}
		}
		select {
		case out <- lookedUp{batch: batch, known: known}:
		case <-ctx.Done():
			return nil
		}
	}
}

// dispatch settles looked-up batches: rows that need no request get their
// outcome now; the others are marked in flight and queued for the workers.
func (im *Importer) dispatch(ctx context.Context, batches <-chan lookedUp, queue chan<- work,
	emit func(*RowResult), mark func([]checkpoint.Mark) error, release func(...work)) error {
	for lb := range batches {
		if ctx.Err() != nil {
			return nil // stopped: take no further batch
		}
		toSend, err := im.settle(ctx, lb.batch, lb.known, emit)
		if err != nil {
			return err
		}
		if err := im.enqueue(ctx, toSend, queue, mark, release); err != nil {
			return err
		}
	}
	return nil
}

// settle decides each row of a batch: rows that need no request get their
// outcome now; the rest are returned to be sent.
func (im *Importer) settle(ctx context.Context, batch []*ingest.Record, known map[string]checkpoint.Known, emit func(*RowResult)) ([]work, error) {
	var (
		toSend  []work
		changed map[string]bool
	)
	for _, rec := range batch {
		id := rec.User.ExternalUserID
		k, seen := known[id]
		if rec.DupOf > 0 {
			seen = false // the ledger entry belongs to the first row with this id
		}
		hash := rec.Hash()
		switch {
		case seen && k.State.Succeeded():
			// Done in an earlier run: never re-sent. A content change is
			// flagged, not re-created.
			// (Validation is not run for these rows: nothing is sent.)
			isChanged := string(hash) != string(k.ContentHash)
			if isChanged != k.Changed {
				if changed == nil {
					changed = map[string]bool{}
				}
				changed[id] = isChanged
			}
			emit(&RowResult{Record: rec, Outcome: Skipped, Changed: isChanged})
		case !rec.Valid():
			emit(&RowResult{Record: rec, Outcome: Invalid, Code: CodeInvalid, Message: rec.Reason()})
		case seen && k.State == checkpoint.Rejected && string(hash) == string(k.ContentHash):
			// P100 refused this very content before: it would again.
			// The ledger keeps P100's own message; only the report says why
			// nothing was sent.
			emit(&RowResult{Record: rec, Outcome: Rejected, Code: k.ErrorCode, unchanged: true,
				Message: "unchanged since P100 refused it in an earlier run: " + k.ErrorMessage})
		default:
			w := work{rec: rec}
			if seen {
				w.prev = &k
			}
			toSend = append(toSend, w)
		}
	}
	if err := im.cfg.Ledger.SetChanged(context.WithoutCancel(ctx), changed); err != nil {
		return nil, &CheckpointError{Err: err}
	}
	return toSend, nil
}

// enqueue marks rows in flight, a worker's worth at a time, and queues them.
// A row is queued only once its mark is committed.
func (im *Importer) enqueue(ctx context.Context, rows []work, queue chan<- work, mark func([]checkpoint.Mark) error, release func(...work)) error {
	chunk := cap(queue)
	for len(rows) > 0 && ctx.Err() == nil {
		n := min(chunk, len(rows))
		marks := make([]checkpoint.Mark, n)
		for i, w := range rows[:n] {
			// No personal data in the mark: most rows succeed, and SQLite
			// may leave the bytes of overwritten values in free page space.
			marks[i] = checkpoint.Mark{ExternalUserID: w.rec.User.ExternalUserID, ContentHash: w.rec.Hash(), Line: w.rec.Line}
		}
		if err := mark(marks); err != nil {
			return err
		}
		for i, w := range rows[:n] {
			if ctx.Err() != nil { // select would pick at random between a free slot and the stop
				release(rows[i:n]...)
				return nil
			}
			select {
			case queue <- w:
			case <-ctx.Done():
				release(rows[i:n]...)
				return nil
			}
		}
		rows = rows[n:]
	}
	return nil
}

// Group commit: outcomes are committed in batches of up to recordBatch,
// at most commitDelay after the first of a batch arrived; a mark request
// commits at once, taking the pending outcomes along.
const (
	recordBatch = 512
	commitDelay = 25 * time.Millisecond
	// markChunk is how many rows are marked in flight per commit (and the
	// least the work queue holds): fewer commits, a few more rows in
	// flight (never sent, so never re-sent as P411) if the run dies.
	markChunk = 256
)

// markRequest asks the recorder to commit in-flight marks; the dispatcher
// waits on done before it queues the rows.
type markRequest struct {
	marks []checkpoint.Mark
	done  chan error
}

// errRecorderGone: the recorder stopped (its own error ends the run).
var errRecorderGone = errors.New("the checkpoint writer stopped")

// record is the ledger's single writer: it commits in-flight marks and
// outcomes together in batches, and only then counts and reports outcomes.
func (im *Importer) record(ctx context.Context, results <-chan *RowResult, marks <-chan markRequest, sum *Summary) error {
	ctx = context.WithoutCancel(ctx) // an outcome the API confirmed is never dropped
	var (
		batch    = make([]*RowResult, 0, recordBatch)
		waiting  []markRequest
		outcomes = make([]checkpoint.Outcome, 0, recordBatch)
		timer    = time.NewTimer(time.Hour)
		timerOn  bool
	)
	timer.Stop()
	flush := func() error {
		if len(batch) == 0 && len(waiting) == 0 {
			return nil
		}
		if timerOn {
			timer.Stop()
			timerOn = false
		}
		var ms []checkpoint.Mark
		for _, w := range waiting {
			ms = append(ms, w.marks...)
		}
		outcomes = outcomes[:0]
		for _, r := range batch {
			if o, ok := r.outcome(); ok {
				outcomes = append(outcomes, o)
			}
		}
		err := im.cfg.Ledger.Write(ctx, im.cfg.RunID, ms, outcomes)
		if err != nil {
			err = &CheckpointError{Err: err}
		}
		for _, w := range waiting {
			w.done <- err
		}
		waiting = waiting[:0]
		if err != nil {
			return err
		}
		for _, r := range batch {
			sum.add(r)
			im.done.Add(1)
			im.cfg.OnRow(r)
		}
		batch = batch[:0]
		if im.overBudget(sum) {
			im.stop(fmt.Errorf("%w: %d rows invalid or rejected", ErrErrorBudget, sum.Invalid+sum.Rejected))
		}
		return nil
	}
	for results != nil || marks != nil {
		due := false
		var tick <-chan time.Time
		if timerOn {
			tick = timer.C
		}
		select {
		case r, ok := <-results:
			if !ok {
				results = nil
				due = true
				break
			}
			batch = append(batch, r)
			if !timerOn {
				timer.Reset(commitDelay)
				timerOn = true
			}
		case m, ok := <-marks:
			if !ok {
				marks = nil
				break
			}
			waiting = append(waiting, m)
		case <-tick:
			timerOn = false
			due = true
		}
		if due || len(waiting) > 0 || len(batch) >= recordBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// overBudget reports whether permanent row errors passed --max-errors.
func (im *Importer) overBudget(sum *Summary) bool {
	bad := sum.Invalid + sum.Rejected
	if im.cfg.MaxErrors > 0 && bad >= im.cfg.MaxErrors {
		return true
	}
	return im.cfg.MaxErrorsPercent > 0 && sum.Rows >= 100 &&
		float64(bad)*100 > im.cfg.MaxErrorsPercent*float64(sum.Rows)
}
