package importer

import (
	"context"
	"errors"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
)

// Group commit: the recorder commits whatever is pending as soon as it is
// free, at most one commit every commitSpacing and up to recordBatch
// outcomes at a time (see record).
const (
	recordBatch   = 512
	commitSpacing = time.Millisecond
	// markChunk is how many rows are marked in flight per commit (and the
	// least the work queue holds): fewer commits, a few more rows in
	// flight (never sent, so never re-sent as P411) if the run dies.
	markChunk = 256
)

// ledgerWrite asks the recorder to commit in-flight marks or changed
// flags; the dispatcher waits on done before it goes on.
type ledgerWrite struct {
	marks   []checkpoint.Mark
	changed map[string]bool
	done    chan error
}

// errRecorderGone: the recorder stopped (its own error ends the run).
var errRecorderGone = errors.New("the checkpoint writer stopped")

// write has the recorder commit w and waits for the commit.
func (r *run) write(w ledgerWrite) error {
	w.done = make(chan error, 1)
	select {
	case r.writes <- w:
	case <-r.recorderDone:
		return errRecorderGone
	}
	select {
	case err := <-w.done:
		return err
	case <-r.recorderDone:
		return errRecorderGone
	}
}

// record is the ledger's only writer: it commits in-flight marks, changed
// flags and outcomes, and only then counts and reports the outcomes; at the
// end, once every other stage is done, it gives the rows never sent their
// previous state back.
//
// It commits as soon as it is free: what arrived while the last commit ran
// goes into the next one. At low load an outcome is durable within a
// commit's time (a millisecond or two); at high load commits batch by
// themselves, at most one every commitSpacing (up to recordBatch outcomes),
// which keeps the ledger's cost per row low. The fewer answered rows wait
// uncommitted, the fewer a killed process leaves in flight to be re-sent:
// at most the requests in flight plus the rows answered in the last
// commitSpacing. A write request (marks, which gate sending) commits at once.
func (r *run) record() error {
	defer close(r.recorderDone)
	ctx := context.WithoutCancel(r.parent) // an outcome the API confirmed is never dropped
	c := committer{run: r, ctx: ctx, batch: make([]*RowResult, 0, recordBatch), outcomes: make([]checkpoint.Outcome, 0, recordBatch)}
	results, writes := r.results, r.writes
	var lastCommit time.Time
	spacing := time.NewTimer(time.Hour)
	spacing.Stop()
	take := func(res *RowResult, ok bool) {
		if !ok {
			results = nil
			return
		}
		c.batch = append(c.batch, res)
	}
	takeWrite := func(w ledgerWrite, ok bool) {
		if !ok {
			writes = nil
			return
		}
		c.waiting = append(c.waiting, w)
	}
	for results != nil || writes != nil {
		select { // wait for something to commit
		case res, ok := <-results:
			take(res, ok)
		case w, ok := <-writes:
			takeWrite(w, ok)
		}
		// Commits are spaced: within commitSpacing of the last one, gather
		// what arrives until the spacing is over.
		if wait := commitSpacing - time.Since(lastCommit); wait > 0 && len(c.waiting) == 0 && !c.workerWaits() {
			spacing.Reset(wait)
		gather:
			for len(c.batch) < recordBatch && len(c.waiting) == 0 && !c.workerWaits() && (results != nil || writes != nil) {
				select {
				case res, ok := <-results:
					take(res, ok)
				case w, ok := <-writes:
					takeWrite(w, ok)
				case <-spacing.C:
					break gather
				}
			}
			spacing.Stop()
		}
		// Take along whatever else is already there, and commit.
	more:
		for len(c.batch) < recordBatch && (results != nil || writes != nil) {
			select {
			case res, ok := <-results:
				take(res, ok)
			case w, ok := <-writes:
				takeWrite(w, ok)
			default:
				break more
			}
		}
		start := time.Now()
		if err := c.flush(); err != nil {
			return err
		}
		lastCommit = time.Now()
		r.commitNanos.Store(int64(lastCommit.Sub(start)))
	}
	if err := c.flush(); err != nil {
		return err
	}
	if len(r.unsent) > 0 {
		// Every other stage has finished: undo the marks of rows never
		// sent, so a stopped run leaves in flight only requests that left.
		if err := r.cfg.Ledger.Unmark(ctx, r.unsent); err != nil {
			return &CheckpointError{Err: err}
		}
	}
	return nil
}

// workerWaits reports whether a worker waits for the pending batch's
// commit: then it is committed at once.
func (c *committer) workerWaits() bool {
	for _, res := range c.batch {
		if res.durable != nil {
			return true
		}
	}
	return false
}

// committer is the recorder's pending work.
type committer struct {
	run      *run
	ctx      context.Context
	batch    []*RowResult
	waiting  []ledgerWrite
	outcomes []checkpoint.Outcome
}

// flush commits what is pending in one transaction (changed flags in a
// second one), answers the waiting writes, then counts and reports the
// outcomes.
func (c *committer) flush() error {
	r := c.run
	if len(c.batch) == 0 && len(c.waiting) == 0 {
		return nil
	}
	var (
		marks   []checkpoint.Mark
		changed map[string]bool
	)
	for _, w := range c.waiting {
		marks = append(marks, w.marks...)
		for id, v := range w.changed {
			if changed == nil {
				changed = map[string]bool{}
			}
			changed[id] = v
		}
	}
	c.spendBudget()
	c.outcomes = c.outcomes[:0]
	for _, res := range c.batch {
		if o, ok := res.outcome(); ok {
			c.outcomes = append(c.outcomes, o)
		}
	}
	err := r.cfg.Ledger.Write(c.ctx, r.cfg.RunID, marks, c.outcomes)
	if err == nil && len(changed) > 0 {
		err = r.cfg.Ledger.SetChanged(c.ctx, changed)
	}
	if err != nil {
		err = &CheckpointError{Err: err}
	}
	for _, w := range c.waiting {
		w.done <- err
	}
	c.waiting = c.waiting[:0]
	if err != nil {
		return err
	}
	now := r.cfg.Now()
	for _, res := range c.batch {
		if res.durable != nil {
			close(res.durable)
		}
		r.sum.add(res)
		r.timeline.row(now, res.Outcome)
		r.cfg.OnRow(res)
	}
	c.batch = c.batch[:0]
	if r.budgetSpent != nil {
		r.stop(r.budgetSpent)
	}
	return nil
}

// spendBudget applies --max-errors to the pending batch, row by row in the
// order the rows were settled: the run stops when the row that reaches the
// limit is recorded. Rows after it that no request was sent for (invalid,
// skipped, refused unchanged) are dropped from the batch: like rows read
// ahead, they are not counted and the next run settles them. Rows whose
// request was sent finish and are counted as they ended.
func (c *committer) spendBudget() {
	r := c.run
	if r.cfg.MaxErrors <= 0 && r.cfg.MaxErrorsPercent <= 0 {
		return
	}
	bad, rows := r.sum.Invalid+r.sum.Rejected, r.sum.Rows
	kept := c.batch[:0]
	for _, res := range c.batch {
		if r.budgetSpent != nil && res.Attempts == 0 && res.durable == nil {
			continue
		}
		kept = append(kept, res)
		rows++
		if res.Outcome == Invalid || res.Outcome == Rejected {
			bad++
		}
		if r.budgetSpent == nil && r.overBudget(bad, rows) {
			r.budgetSpent = &budgetError{bad: bad, rows: rows, max: r.cfg.MaxErrors, pct: r.cfg.MaxErrorsPercent}
		}
	}
	clear(c.batch[len(kept):]) // drop the references
	c.batch = kept
}

// overBudget reports whether bad permanent row errors among rows reach
// --max-errors.
func (r *run) overBudget(bad, rows int) bool {
	if r.cfg.MaxErrors > 0 && bad >= r.cfg.MaxErrors {
		return true
	}
	return r.cfg.MaxErrorsPercent > 0 && rows >= 100 &&
		float64(bad)*100 > r.cfg.MaxErrorsPercent*float64(rows)
}
