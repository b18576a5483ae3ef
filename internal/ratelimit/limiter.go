package ratelimit

import (
	"context"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultPause is how long every worker waits after a 429 without a usable
// Retry-After header.
const DefaultPause = time.Second

// Config sets up a Limiter.
type Config struct {
	// Auto finds the API's limit (see Controller) instead of pacing at
	// Rate; with Rate set too, Rate is the ceiling ("never above").
	Auto bool
	// Share is the share of the limit found that Auto uses (0 < F <= 1).
	Share float64
	// Rate is the target in requests per second; 0 or less means unlimited.
	Rate float64
	// Burst is how many requests may leave at once; at least 1.
	Burst int
	// Floor is the lowest rate a run of 429s can push the limiter down to;
	// 0 means a twentieth of Rate, at least 0.1/s.
	Floor float64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Limiter is the one pacer shared by every worker of a run. Every attempt,
// retries included, waits for a token. It is safe for concurrent use.
type Limiter struct {
	bucket *rate.Limiter
	target float64 // 0: unlimited
	floor  float64
	now    func() time.Time

	mu        sync.Mutex
	ctl       *Controller // with Config.Auto
	current   float64
	good      int       // good responses since the last change of rate
	notBefore time.Time // shared pause after a 429
	throttled int64
	paused    time.Duration

	granted, answered atomic.Int64 // requests let through, and answers told

	holding    time.Duration // with Auto: time spent holding just under the limit
	lastAnswer time.Time     // with Auto: the answer holding was last counted to
}

// New returns a Limiter for cfg.
func New(cfg Config) *Limiter {
	l := &Limiter{now: cfg.Now}
	if l.now == nil {
		l.now = time.Now
	}
	burst := max(cfg.Burst, 1)
	if cfg.Auto {
		l.ctl = NewController(ControllerConfig{Max: math.Max(cfg.Rate, 0), Share: cfg.Share, Floor: cfg.Floor}, l.now())
		l.current = l.ctl.Rate()
		l.bucket = rate.NewLimiter(rate.Limit(l.current), burst)
		return l
	}
	if cfg.Rate <= 0 {
		l.bucket = rate.NewLimiter(rate.Inf, burst)
		return l
	}
	l.target, l.current = cfg.Rate, cfg.Rate
	l.floor = cfg.Floor
	if l.floor <= 0 {
		l.floor = math.Max(cfg.Rate/20, 0.1)
	}
	l.floor = math.Min(l.floor, cfg.Rate)
	l.bucket = rate.NewLimiter(rate.Limit(cfg.Rate), burst)
	return l
}

// Wait blocks until the shared pause (if any) is over and a token is
// available, or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := l.waitPause(ctx); err != nil {
			return err
		}
		if err := l.waitToken(ctx); err != nil {
			return err
		}
		// A pause that began while the token was awaited (a 429, a spent
		// quota) holds this request too.
		l.mu.Lock()
		paused := l.now().Before(l.notBefore)
		l.mu.Unlock()
		if !paused {
			l.granted.Add(1)
			return nil
		}
	}
}

// maxTokenWait is the longest a waiter sleeps before it looks at the
// bucket again. A waiter takes a token only when one is there (AllowN),
// never a reservation of one in the future: a rate raised meanwhile (the
// adaptive climb, the way back up after a cut) then speeds every waiter
// up, where rate.Limiter's own Wait keeps each asleep until the time its
// token was due at the old rate (64 workers at 4 requests a second: 16 s);
// and no reservation given back can leak tokens (CancelAt restores less
// than it took once later reservations exist).
const maxTokenWait = 50 * time.Millisecond

// waitToken takes a token of the bucket, or returns ctx's error.
func (l *Limiter) waitToken(ctx context.Context) error {
	for {
		now := time.Now()
		if l.bucket.AllowN(now, 1) {
			return nil
		}
		d := maxTokenWait
		if limit := float64(l.bucket.Limit()); limit > 0 {
			missing := 1 - l.bucket.TokensAt(now)
			d = min(d, max(time.Duration(missing/limit*float64(time.Second)), 100*time.Microsecond))
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// waitPause blocks until the shared pause (if any) is over, or ctx is done.
func (l *Limiter) waitPause(ctx context.Context) error {
	for {
		l.mu.Lock()
		d := l.notBefore.Sub(l.now())
		l.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// sleep waits d, or returns ctx's error if it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Throttled tells the limiter the API answered 429. Every worker pauses for
// retryAfter (DefaultPause when it is zero or negative) and, for a finite
// target, the rate is cut by DecreaseFactor down to the floor, once per
// episode: 429s arriving during the pause only extend it. It returns the
// end of the pause, or zero when it did not pause (Auto, see
// Controller.Spent).
func (l *Limiter) Throttled(retryAfter time.Duration) (pausedUntil time.Time) {
	if retryAfter <= 0 {
		retryAfter = DefaultPause
	}
	l.answered.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.throttled++
	now := l.now()
	if l.ctl != nil {
		// The adaptive controller cuts the rate just under what the API
		// accepted, and meets a spent quota with a trickle; the API's pause
		// is waited out only when it is long (see Controller.Spent): a
		// rounded-up second after every 429 would waste a second of the
		// limit each time.
		l.countHolding(now)
		l.ctl.Answer(now, true)
		pause := l.ctl.Spent(now, retryAfter)
		l.setRate(l.ctl.Rate())
		if !pause {
			return time.Time{}
		}
	}
	// The 429s of one episode (the requests that were in flight together)
	// cut the rate once: a 429 that arrives while the pause it caused is
	// still running only extends the pause.
	episode := now.Before(l.notBefore)
	until := now.Add(retryAfter)
	if until.After(l.notBefore) {
		from := now
		if episode {
			from = l.notBefore
		}
		l.paused += until.Sub(from)
		l.notBefore = until
	}
	if l.ctl == nil && l.target > 0 && !episode {
		l.setRate(Decrease(l.current, l.floor))
	}
	return l.notBefore
}

// Succeeded tells the limiter a response was not throttled. After about a
// second's worth of good responses the rate climbs back towards the target.
func (l *Limiter) Succeeded() {
	l.answered.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctl != nil {
		now := l.now()
		l.countHolding(now)
		l.setRate(l.ctl.Answer(now, false))
		return
	}
	if l.target == 0 || l.current >= l.target {
		return
	}
	l.good++
	if float64(l.good) >= l.current {
		l.setRate(Increase(l.current, l.target))
	}
}

// countHolding adds the time since the last answer to the time holding,
// when the controller was holding at a limit it found; l.mu must be held.
func (l *Limiter) countHolding(now time.Time) {
	if !l.lastAnswer.IsZero() && l.ctl.Phase() == Holding && l.ctl.Limit() > 0 && !now.Before(l.notBefore) {
		l.holding += now.Sub(l.lastAnswer)
	}
	l.lastAnswer = now
}

// setRate changes the bucket's rate; l.mu must be held.
func (l *Limiter) setRate(r float64) {
	l.good = 0
	if r == l.current {
		return
	}
	l.current = r
	l.bucket.SetLimit(rate.Limit(r))
}

// Stats is what the limiter did during a run.
type Stats struct {
	Throttled int64         // 429 answers reported
	Paused    time.Duration // wall time every worker spent paused by Retry-After
	Rate      float64       // current rate; 0 means unlimited
	Phase     Phase         // with Auto: probing, holding or paused; "" otherwise
	Limit     float64       // with Auto: the API's limit as found; 0 when none was met
	Holding   time.Duration // with Auto: time spent holding just under that limit
}

// Stats returns the limiter's counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Stats{Throttled: l.throttled, Paused: l.paused, Rate: l.current}
	if l.ctl != nil {
		st.Phase, st.Limit, st.Holding = l.ctl.Phase(), l.ctl.Limit(), l.holding
		if l.now().Before(l.notBefore) {
			st.Phase = Paused
		}
	}
	return st
}

// ObserveHeaders reads the rate-limit headers of an answer (see
// ParseQuota) and, with Config.Auto, paces to them: call it for every
// answer, before Succeeded or Throttled. A quota spent pauses every
// request until it resets.
func (l *Limiter) ObserveHeaders(h http.Header) {
	if l.ctl == nil {
		return
	}
	now := l.now()
	q, ok := ParseQuota(h, now)
	if !ok {
		return
	}
	inFlight := int(l.granted.Load() - l.answered.Load())
	l.mu.Lock()
	defer l.mu.Unlock()
	r, resume := l.ctl.FromQuota(now, q, inFlight)
	l.setRate(r)
	if resume.After(l.notBefore) {
		l.paused += resume.Sub(maxTime(now, l.notBefore))
		l.notBefore = resume
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
