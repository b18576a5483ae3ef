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
)

// run is one call of Importer.Run: it owns the pipeline's channels,
// contexts and counters, and its stages are its methods (see doc.go).
type run struct {
	cfg     *Config
	start   time.Time
	breaker *breaker

	// parent ends at the graceful stop. requests bounds the requests
	// themselves: it outlives the stop by DrainTimeout so that a request
	// already sent can finish, and ends at once on a fatal error (it is
	// the errgroup's context). attempts ends at the stop or at a fatal
	// condition: no row is read, dispatched or attempted after it; stop
	// ends it with a cause.
	parent      context.Context
	requests    context.Context
	attempts    context.Context
	stop        context.CancelCauseFunc
	cancelDrain context.CancelCauseFunc
	unwatch     []func() bool

	group     *errgroup.Group
	producers sync.WaitGroup // the dispatcher and the workers: the senders of results

	records      chan *ingest.Record // read -> lookup
	batches      chan lookedUp       // lookup -> dispatch
	queue        chan work           // dispatch -> work
	results      chan *RowResult     // dispatch, work -> record
	writes       chan ledgerWrite    // dispatch -> record: marks and changed flags
	recorderDone chan struct{}       // closed when the recorder returns
	enough       chan struct{}       // closed by the dispatcher once Config.Limit rows are queued
	queued       int                 // rows queued to be sent (the dispatcher's)

	sum         Summary
	latency     latencyHistogram
	timeline    *timeline // the run over time, for the HTML report
	nRequests   atomic.Int64
	nRetries    atomic.Int64
	pausedUntil atomic.Int64 // Unix ms: the end of the last pause told to OnPause
	commitNanos atomic.Int64 // how long the recorder's last commit took
	budgetSpent *budgetError // the --max-errors stop, once reached; the recorder's own
	nBad        atomic.Int64 // rows emitted invalid or rejected, for --max-errors
	nEmitted    atomic.Int64 // rows emitted
	unsentMu    sync.Mutex
	unsent      []checkpoint.Release // rows marked in flight whose request never left
}

// work is a row on its way to a worker.
type work struct {
	rec  *ingest.Record
	prev *checkpoint.Known // the ledger's entry before the mark; nil if new
}

// lookedUp is a batch of rows with what the ledger knows of them.
type lookedUp struct {
	batch []*ingest.Record
	known map[string]checkpoint.Known
}

// durableWaitRatio: a worker waits for its row's commit before its next
// request when its request took at least this many commits' time.
const durableWaitRatio = 50

// lookupBatch is how many rows the lookup stage looks up in one query.
const lookupBatch = 256

func newRun(ctx context.Context, cfg *Config) *run {
	r := &run{
		cfg:     cfg,
		start:   cfg.Now(),
		breaker: newBreaker(cfg.Breaker),
		parent:  ctx,
		sum:     Summary{RunID: cfg.RunID, ErrorCodes: map[string]int{}},
		timeline: newTimeline(cfg.Now(), func() (float64, float64) {
			st := cfg.Limiter.Stats()
			return st.Rate, st.Limit
		}),

		records:      make(chan *ingest.Record, lookupBatch),
		batches:      make(chan lookedUp, 2),
		queue:        make(chan work, max(cfg.Workers, markChunk)),
		results:      make(chan *RowResult, 2*lookupBatch),
		writes:       make(chan ledgerWrite),
		recorderDone: make(chan struct{}),
		enough:       make(chan struct{}),
	}
	var drainCtx context.Context
	drainCtx, r.cancelDrain = context.WithCancelCause(context.WithoutCancel(ctx))
	r.unwatch = append(r.unwatch, context.AfterFunc(ctx, func() {
		t := time.AfterFunc(cfg.DrainTimeout, func() {
			r.cancelDrain(fmt.Errorf("drain timeout %s passed", cfg.DrainTimeout))
		})
		context.AfterFunc(drainCtx, func() { t.Stop() })
	}))
	r.group, r.requests = errgroup.WithContext(drainCtx)
	r.attempts, r.stop = context.WithCancelCause(r.requests)
	r.unwatch = append(r.unwatch, context.AfterFunc(ctx, func() { r.stop(ErrInterrupted) }))
	return r
}

// close releases the run's contexts.
func (r *run) close() {
	for _, u := range r.unwatch {
		u()
	}
	r.stop(nil)
	r.cancelDrain(nil)
}

// stopped reports whether the run takes no new row or attempt.
func (r *run) stopped() bool { return r.attempts.Err() != nil }

// finish fills the summary and returns the run's result.
func (r *run) finish(err error) (Summary, error) {
	r.sum.Requests, r.sum.Retries = r.nRequests.Load(), r.nRetries.Load()
	r.sum.Limit = r.cfg.Limit
	select {
	case <-r.enough:
		r.sum.LimitReached = true
	default:
	}
	st := r.cfg.Limiter.Stats()
	r.sum.Throttled, r.sum.PausedSeconds = st.Throttled, round(st.Paused.Seconds(), 3)
	r.sum.finish(r.start, r.cfg.Now(), &r.latency)
	r.sum.Timeline = r.timeline.snapshot(r.cfg.Now())
	var (
		offScript *OffScriptError
		pause     *PauseError
	)
	if cause := context.Cause(r.attempts); err == nil &&
		(errors.Is(cause, ErrInterrupted) || errors.Is(cause, ErrUnavailable) || errors.Is(cause, ErrErrorBudget) ||
			errors.As(cause, &offScript) || errors.As(cause, &pause)) {
		err = cause
	}
	return r.sum, err
}

// read is the first stage: it hands the source's rows on, in file order,
// until the source ends, the run stops or the limit is reached.
func (r *run) read(src Source) error {
	defer close(r.records)
	for !r.stopped() && !r.limitReached() {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &InputError{Err: err}
		}
		select {
		case r.records <- rec:
		case <-r.attempts.Done():
		case <-r.enough:
		}
	}
	return nil
}

// limitReached reports whether Config.Limit rows are queued: no further
// row is read or settled; those queued are sent.
func (r *run) limitReached() bool {
	select {
	case <-r.enough:
		return true
	default:
		return false
	}
}

// lookup gathers rows into batches and looks them up in the ledger, one
// query a batch, ahead of the dispatcher: on a rerun the lookups are the
// largest cost, and this way they overlap the reading and the settling.
// Batches never share an id (a repeated id is a duplicate, not looked up),
// so a lookup cannot miss a mark the dispatcher has yet to commit. Lookups
// only read the ledger.
func (r *run) lookup() error {
	defer close(r.batches)
	for {
		batch := make([]*ingest.Record, 0, lookupBatch)
		select {
		case rec, ok := <-r.records:
			if !ok {
				return nil
			}
			batch = append(batch, rec)
		case <-r.attempts.Done():
			return nil
		case <-r.enough:
			return nil
		}
	fill:
		for len(batch) < lookupBatch {
			select {
			case rec, ok := <-r.records:
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
		known, err := r.cfg.Ledger.Lookup(context.WithoutCancel(r.attempts), ids)
		if err != nil {
			return &CheckpointError{Err: err}
		}
		select {
		case r.batches <- lookedUp{batch: batch, known: known}:
		case <-r.attempts.Done():
			return nil
		case <-r.enough:
			return nil
		}
	}
}

// dispatch settles looked-up batches: rows that need no request get their
// outcome now; the others are marked in flight and queued for the workers.
func (r *run) dispatch() error {
	defer r.producers.Done()
	defer close(r.writes)
	defer close(r.queue)
	for lb := range r.batches {
		if r.stopped() {
			return nil // take no further batch
		}
		room := -1
		if r.cfg.Limit > 0 {
			room = r.cfg.Limit - r.queued
		}
		toSend, cut, err := r.settle(lb.batch, lb.known, room)
		if err != nil {
			return err
		}
		r.queued += len(toSend)
		if err := r.enqueue(toSend); err != nil {
			return err
		}
		if cut && !r.stopped() {
			close(r.enough) // the rows queued go out; no further row is read
			return nil
		}
	}
	return nil
}

// settle decides each row of a batch: a row done in an earlier run is
// skipped unchecked (nothing is sent, so its field rules need not run); any
// other row is checked here, where it is decided whether it is sent. With
// room at 0 or more, it stops at the first row to send past room rows and
// reports the cut: that row and the rest of the batch are left unread, for
// the next run.
func (r *run) settle(batch []*ingest.Record, known map[string]checkpoint.Known, room int) (toSend []work, cut bool, err error) {
	var changed map[string]bool
	for _, rec := range batch {
		id := rec.User.ExternalUserID
		k, seen := known[id]
		if rec.DupOf > 0 {
			seen = false // the ledger entry belongs to the first row with this id
		}
		if seen && k.State.Succeeded() {
			// Done in an earlier run: never re-sent. A content change is
			// flagged, not re-created.
			isChanged := string(rec.Hash()) != string(k.ContentHash)
			if isChanged != k.Changed {
				if changed == nil {
					changed = map[string]bool{}
				}
				changed[id] = isChanged
			}
			r.emit(&RowResult{Record: rec, Outcome: Skipped, Changed: isChanged})
			continue
		}
		if problems := rec.Check(); len(problems) > 0 {
			r.emit(&RowResult{Record: rec, Outcome: Invalid, Code: CodeInvalid, Message: rec.Reason()})
			continue
		}
		if seen && k.State == checkpoint.Rejected && string(rec.Hash()) == string(k.ContentHash) && !r.cfg.ResendRejected {
			// P100 refused this very content before: it would again. The
			// ledger keeps P100's own message; only the report says why
			// nothing was sent.
			r.emit(&RowResult{Record: rec, Outcome: Rejected, Code: k.ErrorCode, unchanged: true,
				Message: "unchanged since P100 refused it in an earlier run: " + k.ErrorMessage})
			continue
		}
		if room >= 0 && len(toSend) >= room {
			cut = true
			break
		}
		w := work{rec: rec}
		if seen {
			w.prev = &k
		}
		toSend = append(toSend, w)
	}
	if len(changed) > 0 {
		return toSend, cut, r.write(ledgerWrite{changed: changed})
	}
	return toSend, cut, nil
}

// enqueue marks rows in flight, a worker's worth at a time, and queues them.
// A row is queued only once its mark is committed.
func (r *run) enqueue(rows []work) error {
	chunk := cap(r.queue)
	for len(rows) > 0 && !r.stopped() {
		n := min(chunk, len(rows))
		marks := make([]checkpoint.Mark, n)
		for i, w := range rows[:n] {
			// No personal data in the mark: most rows succeed, and SQLite
			// may leave the bytes of overwritten values in free page space.
			marks[i] = checkpoint.Mark{ExternalUserID: w.rec.User.ExternalUserID, ContentHash: w.rec.Hash(), Line: w.rec.Line}
		}
		if err := r.write(ledgerWrite{marks: marks}); err != nil {
			return err
		}
		for i, w := range rows[:n] {
			if r.stopped() { // select would pick at random between a free slot and the stop
				r.release(rows[i:n]...)
				return nil
			}
			select {
			case r.queue <- w:
			case <-r.attempts.Done():
				r.release(rows[i:n]...)
				return nil
			}
		}
		rows = rows[n:]
	}
	return nil
}

// work is a worker: it sends the queued rows, one request at a time. Once
// the run stops it goes on draining the queue, so that every row queued but
// never sent is released, whichever worker saw the end.
func (r *run) work() error {
	defer r.producers.Done()
	var first error
	for w := range r.queue {
		if r.stopped() {
			r.release(w) // never sent
			continue
		}
		sent := time.Now()
		res, err := r.create(w)
		cycle := time.Since(sent)
		switch {
		case res == nil:
			r.release(w) // not sent, or its answer said nothing of it
		case cycle >= durableWaitRatio*time.Duration(r.commitNanos.Load()):
			// The next request leaves only once this row's outcome is
			// durable, so a killed process leaves at most one created but
			// unrecorded row a worker (its request in flight) to be sent
			// again. Against a real API the wait costs under 2% of a
			// request's time; against a local one answering faster than
			// that, the worker goes on at once, and a kill may leave up to
			// two such rows a worker.
			res.durable = make(chan struct{})
			r.emit(res)
			select {
			case <-res.durable:
			case <-r.recorderDone:
			}
		default:
			r.emit(res)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// emit hands a settled row to the recorder. The row that reaches
// --max-errors stops the run at once: no attempt starts after it, and the
// requests already out finish and are recorded.
func (r *run) emit(res *RowResult) {
	if r.cfg.MaxErrors > 0 || r.cfg.MaxErrorsPercent > 0 {
		bad := r.nBad.Load()
		if res.Outcome == Invalid || res.Outcome == Rejected {
			bad = r.nBad.Add(1)
		}
		if rows := r.nEmitted.Add(1); r.overBudget(int(bad), int(rows)) {
			r.stop(&budgetError{bad: int(bad), rows: int(rows), max: r.cfg.MaxErrors, pct: r.cfg.MaxErrorsPercent})
		}
	}
	select {
	case r.results <- res:
	case <-r.recorderDone: // the recorder failed; its error ends the run
	}
}

// release notes rows marked in flight that were never sent: the recorder
// gives them their previous state back at the end.
func (r *run) release(ws ...work) {
	r.unsentMu.Lock()
	defer r.unsentMu.Unlock()
	for _, w := range ws {
		r.unsent = append(r.unsent, checkpoint.Release{ExternalUserID: w.rec.User.ExternalUserID, Prev: w.prev})
	}
}
