package importer

import (
	"context"

	"errors"
	"fmt"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"

	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/ratelimit"
)

// tried is how a call under retry ended.
type tried struct {
	attempts int         // requests sent
	err      *p100.Error // the last attempt's error; nil when it succeeded
	stopped  bool        // the run stopped before an attempt could start
}

// retry makes call, the one request it wraps, under the run's rules, for
// creates and lookups alike: every attempt waits for the shared limiter and
// is counted, timed and fed to the circuit breaker; a 429 slows the whole
// run down (the limiter honours its Retry-After); other transient errors
// are retried with exponential backoff and jitter, waiting at least their
// Retry-After, up to MaxAttempts; anything else ends it at once.
//
// No attempt starts after the run stopped; a request already sent runs in
// the requests context, which outlives the stop by the drain timeout.
func (r *run) retry(call func(ctx context.Context) error) tried {
	var last *p100.Error
	for attempt := 1; ; attempt++ {
		if err := r.cfg.Limiter.Wait(r.attempts); err != nil {
			return tried{attempts: attempt - 1, err: last, stopped: true}
		}
		r.nRequests.Add(1)
		if attempt > 1 {
			r.nRetries.Add(1)
		}
		sent := r.cfg.Now()
		err := call(r.requests)
		answered := r.cfg.Now()
		r.latency.observe(answered.Sub(sent))
		r.timeline.attempt(answered, answered.Sub(sent), err)
		r.watch(err)
		if err == nil {
			r.cfg.Limiter.Succeeded()
			return tried{attempts: attempt}
		}
		apiErr := asAPIError(err)
		last = apiErr
		if apiErr.Class != p100.Transient {
			if apiErr.Class != p100.Fatal {
				r.cfg.Limiter.Succeeded() // the API answered: it is not overloaded
			}
			return tried{attempts: attempt, err: apiErr}
		}
		retryAfter, hasRetryAfter := ratelimit.ParseRetryAfter(apiErr.RetryAfter, r.cfg.Now())
		if hasRetryAfter && retryAfter > r.cfg.MaxPause {
			r.tooLongPause(apiErr.Status, retryAfter)
			return tried{attempts: attempt, err: apiErr} // the run stopped
		}
		if apiErr.Status == 429 {
			// The limiter decides whether everybody waits (--rate auto
			// may only slow down): the pause is told only when it does.
			if until := r.cfg.Limiter.Throttled(retryAfter); !until.IsZero() {
				r.pause(apiErr.Status, until)
			}
		} else {
			if hasRetryAfter {
				r.pause(apiErr.Status, r.cfg.Now().Add(retryAfter))
			}
			r.cfg.Limiter.Succeeded()
		}
		if r.stopped() || attempt >= r.cfg.MaxAttempts {
			return tried{attempts: attempt, err: apiErr}
		}
		delay := ratelimit.Backoff(attempt, r.cfg.BackoffBase, r.cfg.BackoffMax, r.cfg.Rand())
		if hasRetryAfter && apiErr.Status != 429 && retryAfter > delay {
			delay = retryAfter // 429 pauses go through the shared limiter
		}
		if !sleep(r.attempts, delay) {
			return tried{attempts: attempt, err: apiErr}
		}
	}
}

// tooLongPause stops the run: the API asked for a pause longer than
// MaxPause.
func (r *run) tooLongPause(status int, d time.Duration) {
	r.stop(&PauseError{Status: status, RetryAfter: d, Until: r.cfg.Now().Add(d), Max: r.cfg.MaxPause})
}

// pause records a pause until until and tells OnPause once, when it ends
// later than the pause before.
func (r *run) pause(status int, until time.Time) {
	r.timeline.pause(r.cfg.Now(), until)
	for {
		prev := r.pausedUntil.Load()
		if until.UnixMilli() <= prev+1000 {
			return // within a second of the pause already told
		}
		if r.pausedUntil.CompareAndSwap(prev, until.UnixMilli()) {
			r.cfg.OnPause(until, status)
			return
		}
	}
}

// asAPIError classifies an error a call returned: a lookup's "not found"
// is P100's answer, final; an error that is not an API answer is
// transient.
func asAPIError(err error) *p100.Error {
	var apiErr *p100.Error
	switch {
	case errors.Is(err, p100.ErrNotFound):
		return &p100.Error{Class: p100.Permanent, Code: p100.CodeInvalidUser, Message: "not found", Err: err}
	case !errors.As(err, &apiErr):
		apiErr = &p100.Error{Class: p100.Transient, Code: p100.CodeNetwork, Err: err}
	}
	return apiErr
}

// watch feeds an attempt's result to the circuit breaker and stops the run
// when it opens. A 429 is the API asking to slow down, not failing: the
// limiter handles it.
func (r *run) watch(err error) {
	var apiErr *p100.Error
	if errors.As(err, &apiErr) && apiErr.Status == 429 {
		return
	}
	var last *p100.Error
	if err != nil {
		last = asAPIError(err)
	}
	transient := last != nil && last.Class == p100.Transient
	if r.breaker.record(transient) {
		r.stop(&UnavailableError{Consecutive: r.breaker.cfg.Consecutive, Rate: r.breaker.cfg.Rate, Window: r.breaker.cfg.Window, Last: last})
	}
}

// create sends one row's create request. It returns an error only for a
// condition that must stop the whole run; the row's outcome is in the
// result, which is nil when the run stopped before the row's first attempt
// (the row is then left for the next run).
func (r *run) create(w work) (*RowResult, error) {
	res := &RowResult{Record: w.rec}
	res.hadData = w.prev != nil && w.prev.State != checkpoint.InFlight && !w.prev.State.Succeeded()
	if w.prev != nil && w.prev.State == checkpoint.InFlight && r.cfg.LookupExisting && r.alreadyThere(res) {
		return res, nil
	}
	req := p100.CreateUserRequest(w.rec.User)
	var user *p100.User
	t := r.retry(func(ctx context.Context) error {
		var err error
		user, err = r.cfg.Client.CreateUser(ctx, &req)
		return err
	})
	if t.attempts == 0 {
		return nil, nil
	}
	res.Attempts += t.attempts
	if t.err == nil {
		res.Outcome, res.UserID, res.Balances = Created, user.UserID, user.BalanceIDs()
		if res.UserID == "" {
			// Created, but the answer did not say as whom: look it up;
			// never send the create again.
			r.lookUp(res, "created")
		}
		return res, nil
	}
	if t.err.Class == p100.OffScript {
		// Not P100's answer: it says nothing of this row. The row goes
		// back unsent, and the run stops taking rows; requests already
		// sent finish and are judged on their own answers.
		r.stop(&OffScriptError{Err: t.err})
		return nil, nil
	}
	res.Code, res.Message = t.err.Code, t.err.Message
	if res.Message == "" && t.err.Err != nil {
		res.Message = p100.Sanitize(t.err.Err.Error(), 200)
	}
	switch t.err.Class {
	case p100.Conflict:
		r.exists(res)
	case p100.Permanent:
		res.Outcome = Rejected
	case p100.Fatal:
		// Every request would fail (401): stop everything at once, the
		// requests in flight too.
		res.Outcome = Failed
		res.Message = "not created: " + t.err.Error()
		fatal := &FatalAPIError{Err: t.err}
		r.stop(fatal)
		r.cancelDrain(fatal)
		return res, fatal
	default:
		// Transient errors outlasted the retries or the run. The user may
		// or may not exist now: the next run's attempt settles it (P411).
		res.Outcome = Failed
		var fatal *FatalAPIError
		if t.attempts >= r.cfg.MaxAttempts {
			res.Message = fmt.Sprintf("gave up after %d attempt(s): %s", t.attempts, t.err.Error())
		} else if errors.As(context.Cause(r.requests), &fatal) {
			// Cut off when another request met the fatal answer.
			res.Message = "the run stopped while this request was out: " + fatal.Error()
		} else {
			res.Message = fmt.Sprintf("the run stopped after %d attempt(s); last error: %s", t.attempts, t.err.Error())
		}
	}
	return res, nil
}

// alreadyThere settles a row an earlier run left in flight (killed while
// its request was out) by asking P100 first: found, the row is exists with
// its userId, and no create is sent; not found (or no clear answer), the
// create goes out as for a new row.
func (r *run) alreadyThere(res *RowResult) bool {
	var user *p100.User
	t := r.retry(func(ctx context.Context) error {
		var err error
		user, err = r.cfg.Client.GetUser(ctx, res.Record.User.ExternalUserID)
		return err
	})
	res.Attempts = t.attempts
	if t.attempts == 0 || t.err != nil {
		return false
	}
	res.Outcome, res.Code, res.Recovered = Exists, p100.CodeUserExists, true
	res.UserID, res.Balances = user.UserID, user.BalanceIDs()
	return true
}

// exists settles a P411: the user is there. Its userId is looked up when
// configured.
func (r *run) exists(res *RowResult) {
	res.Outcome, res.Code, res.Message = Exists, p100.CodeUserExists, ""
	if r.cfg.LookupExisting {
		r.lookUp(res, "exists")
	}
}

// lookUp asks P100 for the userId of a user known to be there, under the
// same rules as a create; a failed lookup leaves it unknown (and the row's
// outcome as it is).
func (r *run) lookUp(res *RowResult, why string) {
	var user *p100.User
	t := r.retry(func(ctx context.Context) error {
		var err error
		user, err = r.cfg.Client.GetUser(ctx, res.Record.User.ExternalUserID)
		return err
	})
	switch {
	case t.attempts == 0:
		res.Message = "userId unknown: the run stopped before the lookup"
	case t.err != nil:
		// Not found, refused for good, or still failing: the user is
		// there, its userId stays unknown.
		res.Message = "userId unknown: lookup failed: " + p100.Sanitize(t.err.Error(), 200)
	default:
		res.UserID, res.Balances, res.Recovered = user.UserID, user.BalanceIDs(), true
	}
	if why == "created" && res.Message != "" {
		res.Message = "created, but the answer held no userId; " + res.Message
	}
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
