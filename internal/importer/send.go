package importer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/ratelimit"
)

// send creates one user, retrying transient failures with backoff. Every
// attempt waits for the shared limiter. It returns an error only for a
// condition that must stop the whole run; the row's outcome is in the
// result, which is nil when the run stopped before the row's first attempt
// (the row is then left for the next run).
//
// attemptCtx ends with the graceful stop or a fatal error: no new attempt
// starts after it. reqCtx bounds the requests themselves: it outlives the
// graceful stop by the drain timeout so a request already sent can finish.
func (im *Importer) send(attemptCtx, reqCtx context.Context, w work) (*RowResult, error) {
	res := &RowResult{Record: w.rec}
	req := p100.CreateUserRequest(w.rec.User)

	var last *p100.Error
	for attempt := 1; ; attempt++ {
		if err := im.cfg.Limiter.Wait(attemptCtx); err != nil {
			if attempt == 1 {
				return nil, nil
			}
			return im.giveUp(res, attempt-1, last), nil
		}
		res.Attempts = attempt
		if attempt > 1 {
			im.retries.Add(1)
		}
		im.requests.Add(1)
		sent := im.cfg.Now()
		user, err := im.cfg.Client.CreateUser(reqCtx, &req)
		im.latency.observe(im.cfg.Now().Sub(sent))
		im.watch(err)
		if err == nil {
			im.cfg.Limiter.Succeeded()
			res.Outcome, res.UserID, res.Balances = Created, user.UserID, user.BalanceIDs()
			return res, nil
		}

		var apiErr *p100.Error
		if !errors.As(err, &apiErr) {
			apiErr = &p100.Error{Class: p100.Transient, Code: p100.CodeNetwork, Err: err}
		}
		last = apiErr
		res.Code, res.Message = apiErr.Code, apiErr.Message
		if res.Message == "" && apiErr.Err != nil {
			res.Message = p100.Sanitize(apiErr.Err.Error(), 200)
		}

		switch apiErr.Class {
		case p100.Conflict:
			im.cfg.Limiter.Succeeded()
			im.exists(attemptCtx, reqCtx, res)
			return res, nil
		case p100.Permanent:
			im.cfg.Limiter.Succeeded()
			res.Outcome = Rejected
			return res, nil
		case p100.Fatal:
			res.Outcome = Failed
			res.Message = "not created: " + apiErr.Error()
			return res, &FatalAPIError{Err: apiErr}
		}

		// Transient. The user may or may not exist now; a retry that
		// answers P411 settles it.
		retryAfter, hasRetryAfter := ratelimit.ParseRetryAfter(apiErr.RetryAfter, im.cfg.Now())
		if apiErr.Status == 429 {
			im.cfg.Limiter.Throttled(retryAfter)
		} else {
			im.cfg.Limiter.Succeeded()
		}
		if attemptCtx.Err() != nil || attempt >= im.cfg.MaxAttempts {
			return im.giveUp(res, attempt, apiErr), nil
		}
		delay := ratelimit.Backoff(attempt, im.cfg.BackoffBase, im.cfg.BackoffMax, im.rand())
		if hasRetryAfter && apiErr.Status != 429 && retryAfter > delay {
			delay = retryAfter // 429 pauses go through the shared limiter
		}
		if !sleep(attemptCtx, delay) {
			return im.giveUp(res, attempt, apiErr), nil
		}
	}
}

// watch feeds an attempt's result to the circuit breaker and stops the run
// when it opens. A 429 is the API asking to slow down, not failing: the
// limiter handles it.
func (im *Importer) watch(err error) {
	var apiErr *p100.Error
	if errors.As(err, &apiErr) && apiErr.Status == 429 {
		return
	}
	transient := err != nil && p100.ClassOf(err) == p100.Transient
	if im.breaker.record(transient) {
		im.stop(fmt.Errorf("%w: the API kept failing (%d consecutive transient errors, or more than %.0f%% of the last %d attempts)",
			ErrUnavailable, im.breaker.cfg.Consecutive, im.breaker.cfg.Rate*100, im.breaker.cfg.Window))
	}
}

// giveUp settles a row whose transient failures outlasted the retries or
// the run; last is the error of its last attempt.
func (im *Importer) giveUp(res *RowResult, attempts int, last *p100.Error) *RowResult {
	res.Outcome, res.Attempts = Failed, attempts
	switch {
	case attempts >= im.cfg.MaxAttempts:
		res.Message = fmt.Sprintf("gave up after %d attempt(s): %s", attempts, last.Error())
	default:
		res.Message = fmt.Sprintf("the run stopped after %d attempt(s); last error: %s", attempts, last.Error())
	}
	return res
}

// exists settles a P411: the user is there. Its userId is looked up when
// configured; a failed lookup leaves it unknown.
func (im *Importer) exists(attemptCtx, reqCtx context.Context, res *RowResult) {
	res.Outcome, res.Code, res.Message = Exists, p100.CodeUserExists, ""
	if !im.cfg.LookupExisting {
		return
	}
	for attempt := 1; ; attempt++ {
		if err := im.cfg.Limiter.Wait(attemptCtx); err != nil {
			res.Message = "userId unknown: the run stopped before the lookup"
			return
		}
		im.requests.Add(1)
		if attempt > 1 {
			im.retries.Add(1)
		}
		user, err := im.cfg.Client.GetUser(reqCtx, res.Record.User.ExternalUserID)
		if err == nil {
			im.cfg.Limiter.Succeeded()
			res.UserID, res.Balances, res.Recovered = user.UserID, user.BalanceIDs(), true
			res.Message = ""
			return
		}
		res.Message = "userId unknown: lookup failed: " + p100.Sanitize(err.Error(), 200)
		var apiErr *p100.Error
		if !errors.As(err, &apiErr) || apiErr.Class != p100.Transient || attempt >= im.cfg.MaxAttempts {
			return // not found, or refused for good: the user exists, its userId stays unknown
		}
		retryAfter, _ := ratelimit.ParseRetryAfter(apiErr.RetryAfter, im.cfg.Now())
		if apiErr.Status == 429 {
			im.cfg.Limiter.Throttled(retryAfter)
		}
		if !sleep(attemptCtx, ratelimit.Backoff(attempt, im.cfg.BackoffBase, im.cfg.BackoffMax, im.rand())) {
			return
		}
	}
}

func (im *Importer) rand() float64 {
	if im.cfg.Rand != nil {
		return im.cfg.Rand()
	}
	return rand.Float64()
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
