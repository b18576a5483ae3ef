package ratelimit_test

import (
	"math"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/ratelimit"
)

// api is a simulated rate-limited API: it answers a request made at t.
type api interface{ allow(t time.Duration) bool }

// bucket is a token bucket of rate per second and size burst.
type bucket struct {
	rate   func(t time.Duration) float64
	burst  float64
	tokens float64
	last   time.Duration
}

func (b *bucket) allow(t time.Duration) bool {
	b.tokens = math.Min(b.burst, b.tokens+(t-b.last).Seconds()*b.rate(t))
	b.last = t
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// window allows n requests in each fixed window of length d.
type window struct {
	n     int
	d     time.Duration
	cur   int64
	count int
}

func (w *window) allow(t time.Duration) bool {
	if k := int64(t / w.d); k != w.cur {
		w.cur, w.count = k, 0
	}
	if w.count < w.n {
		w.count++
		return true
	}
	return false
}

// pauseEnd is when an API's Retry-After sent at t ends: the wait until a
// fixed window's next start, or a token bucket's next token, rounded up to
// whole seconds as HTTP (and the sandbox) says it.
func pauseEnd(a api, t time.Duration) time.Duration {
	wait := time.Second
	if w, ok := a.(*window); ok {
		wait = (t/w.d+1)*w.d - t
	}
	return t + (wait+time.Second-1)/time.Second*time.Second
}

// simResult is what a simulated run achieved.
type simResult struct {
	accepted, throttled int
	elapsed             time.Duration
}

func (r simResult) rate() float64 { return float64(r.accepted) / r.elapsed.Seconds() }
func (r simResult) throttleShare() float64 {
	return float64(r.throttled) / float64(r.accepted+r.throttled)
}

// simulate sends requests paced by the controller, each answered after
// latency, until rows requests are accepted (or until deadline), and
// reports what was achieved over [from, end].
func simulate(t *testing.T, c *ratelimit.Controller, a api, latency time.Duration, rows int, from, deadline time.Duration) simResult {
	t.Helper()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	type pending struct {
		at time.Duration
		ok bool
	}
	var queue []pending
	var res simResult
	var now time.Duration
	accepted := 0
	for accepted < rows && now < deadline {
		now += time.Duration(float64(time.Second) / c.Rate())
		for len(queue) > 0 && queue[0].at <= now {
			p := queue[0]
			queue = queue[1:]
			c.Answer(start.Add(p.at), !p.ok)
			if !p.ok && c.Spent(start.Add(p.at), pauseEnd(a, p.at)-p.at) {
				now = max(now, pauseEnd(a, p.at)) // Retry-After, as the API would send it
			}
			if p.ok {
				accepted++
			}
			if p.at >= from {
				if p.ok {
					res.accepted++
				} else {
					res.throttled++
				}
			}
		}
		queue = append(queue, pending{at: now + latency, ok: a.allow(now)})
	}
	res.elapsed = now - from
	return res
}

// TestAdaptiveFindsAndHoldsTheLimit: against simulated limits the
// controller does not know, it reaches and holds the limit with few 429s.
func TestAdaptiveFindsAndHoldsTheLimit(t *testing.T) {
	constant := func(r float64) func(time.Duration) float64 { return func(time.Duration) float64 { return r } }
	tests := []struct {
		name      string
		cfg       ratelimit.ControllerConfig
		api       api
		latency   time.Duration
		rows      int
		limit     float64         // the API's limit per second
		minShare  float64         // of the limit, achieved
		max429    float64         // share of requests
		wantPhase ratelimit.Phase // "": any (a run may end amid a climb)
	}{
		// The cases: a token bucket of 150/s, burst 10.
		{"token bucket 150/s", ratelimit.ControllerConfig{}, &bucket{rate: constant(150), burst: 10, tokens: 10}, 0, 6000, 150, 0.95, 0.01, ratelimit.Holding},
		// The user guessed high: --rate 1000 is only a ceiling. (Issue
		// 13 asks 95%; the start at 1000 costs the rest.)
		{"--rate 1000 against 150/s", ratelimit.ControllerConfig{Max: 1000}, &bucket{rate: constant(150), burst: 10, tokens: 10}, 0, 6000, 150, 0.93, 0.03, ratelimit.Holding},
		// A fixed window of 400 per second, 50 ms away. (This model sends
		// uniformly and aligns windows to zero: a bound against regressions;
		// the figure of record, >= 90%, is make bench's against the sandbox.)
		{"fixed window 400/1s", ratelimit.ControllerConfig{}, &window{n: 400, d: time.Second}, 50 * time.Millisecond, 12000, 400, 0.88, 0.03, ""},
		// A small key.
		{"small key 20/s", ratelimit.ControllerConfig{}, &bucket{rate: constant(20), burst: 5, tokens: 5}, 20 * time.Millisecond, 1000, 20, 0.90, 0.02, ratelimit.Holding},
		// A known limit given as --rate: no climb, no 429.
		{"--rate 200 against 200/s", ratelimit.ControllerConfig{Max: 200}, &bucket{rate: constant(200), burst: 20, tokens: 20}, 0, 3000, 200, 0.99, 0, ratelimit.Holding},
		// Headroom: half of the limit found.
		{"--rate-share 0.5", ratelimit.ControllerConfig{Share: 0.5}, &bucket{rate: constant(150), burst: 10, tokens: 10}, 0, 4000, 75, 0.90, 0.01, ratelimit.Holding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ratelimit.NewController(tt.cfg, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
			r := simulate(t, c, tt.api, tt.latency, tt.rows, 0, time.Hour)
			share := r.rate() / tt.limit
			t.Logf("%.1f/s = %.1f%% of %v/s; 429s %.2f%%; limit found %.1f; final rate %.1f (%s)",
				r.rate(), 100*share, tt.limit, 100*r.throttleShare(), c.Limit(), c.Rate(), c.Phase())
			if share < tt.minShare {
				t.Errorf("achieved %.1f%% of the limit, want >= %.0f%%", 100*share, 100*tt.minShare)
			}
			if r.throttleShare() > tt.max429 {
				t.Errorf("429s on %.2f%% of requests, want <= %.1f%%", 100*r.throttleShare(), 100*tt.max429)
			}
			if tt.wantPhase != "" && c.Phase() != tt.wantPhase {
				t.Errorf("phase %s, want %s", c.Phase(), tt.wantPhase)
			}
		})
	}
}

// TestAdaptiveFollowsAChangingLimit: the limit drops and rises mid-run; the
// controller re-converges within 10 s each time.
func TestAdaptiveFollowsAChangingLimit(t *testing.T) {
	limitAt := func(t time.Duration) float64 {
		switch {
		case t < 20*time.Second:
			return 300
		case t < 40*time.Second:
			return 100
		}
		return 250
	}
	c := ratelimit.NewController(ratelimit.ControllerConfig{}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	b := &bucket{rate: limitAt, burst: 10, tokens: 10}
	var clock time.Duration
	for _, seg := range []struct {
		from, to time.Duration
		limit    float64
	}{{10 * time.Second, 20 * time.Second, 300}, {30 * time.Second, 40 * time.Second, 100}, {50 * time.Second, 60 * time.Second, 250}} {
		// Run to the segment's start, then measure it: from 10 s after
		// each change the rate must be back near the limit.
		r := simulateWindow(t, c, b, &clock, seg.from, seg.to)
		share := r.rate() / seg.limit
		t.Logf("%v-%v: %.1f/s = %.1f%% of %v/s, 429s %.2f%%", seg.from, seg.to, r.rate(), 100*share, seg.limit, 100*r.throttleShare())
		if share < 0.85 {
			t.Errorf("%v-%v: %.1f%% of the limit %v, want >= 85%% within 10 s of the change", seg.from, seg.to, 100*share, seg.limit)
		}
	}
}

// simulateWindow runs the simulation from *clock to to (advancing it), and
// reports what was achieved in [from, to].
func simulateWindow(t *testing.T, c *ratelimit.Controller, a api, clock *time.Duration, from, to time.Duration) simResult {
	t.Helper()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var res simResult
	for *clock < to {
		*clock += time.Duration(float64(time.Second) / c.Rate())
		ok := a.allow(*clock)
		c.Answer(start.Add(*clock), !ok)
		if *clock >= from {
			if ok {
				res.accepted++
			} else {
				res.throttled++
			}
		}
	}
	res.elapsed = to - from
	return res
}

// TestFromQuota: an API that says its limit is paced to just under it.
func TestFromQuota(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	trust := ratelimit.HeaderTrust
	tests := []struct {
		name       string
		share      float64
		quotas     []ratelimit.Quota // fed in order; the last one is checked
		inFlight   int
		wantRate   float64
		wantResume time.Duration // 0: none
	}{
		{"policy: limit per window", 1, []ratelimit.Quota{{Limit: 400, Window: time.Second, Remaining: 200, Reset: time.Second}}, 5, 400 * trust, 0},
		{"with a share", 0.5, []ratelimit.Quota{{Limit: 100, Window: 10 * time.Second, Remaining: -1}}, 1, 5 * trust, 0},
		// A window (remaining came back up by most of the limit): spent, it
		// waits for the window's end.
		{"window spent: wait for the reset", 1, []ratelimit.Quota{
			{Limit: 100, Window: time.Minute, Remaining: 99, Reset: time.Minute},
			{Limit: 100, Window: time.Minute, Remaining: 0, Reset: 20 * time.Second}}, 1, 100.0 / 60 * trust, 20 * time.Second},
		{"the requests in flight spend what is left", 1, []ratelimit.Quota{
			{Limit: 10, Window: time.Second, Remaining: 9, Reset: time.Second},
			{Limit: 10, Window: time.Second, Remaining: 3, Reset: time.Second}}, 4, 10 * trust, time.Second},
		// A token bucket (remaining never jumped): only until the missing
		// tokens are back, not the whole rounded-up reset.
		{"bucket spent: wait for the missing tokens", 1, []ratelimit.Quota{
			{Limit: 150, Window: time.Second, Remaining: 2, Reset: time.Second},
			{Limit: 150, Window: time.Second, Remaining: 0, Reset: time.Second}}, 3, 150 * trust, 20 * time.Millisecond},
		{"enough left for those in flight", 1, []ratelimit.Quota{{Limit: 10, Window: time.Second, Remaining: 4, Reset: time.Second}}, 4, 10 * trust, 0},
		// X-RateLimit-* say no window: the longest reset seen is it.
		{"window from the resets", 1, []ratelimit.Quota{
			{Limit: 600, Remaining: 590, Reset: 60 * time.Second},
			{Limit: 600, Remaining: 300, Reset: 30 * time.Second},
		}, 1, 10 * trust, 0},
		{"only what is left", 1, []ratelimit.Quota{{Limit: -1, Remaining: 50, Reset: 10 * time.Second}}, 1, 5 * trust, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ratelimit.NewController(ratelimit.ControllerConfig{Share: tt.share}, now)
			var rate float64
			var resume time.Time
			for _, q := range tt.quotas {
				rate, resume = c.FromQuota(now, q, tt.inFlight)
			}
			if math.Abs(rate-tt.wantRate) > 1e-9 || c.Rate() != rate {
				t.Errorf("rate %v (controller %v), want %v", rate, c.Rate(), tt.wantRate)
			}
			var gotResume time.Duration
			if !resume.IsZero() {
				gotResume = resume.Sub(now)
			}
			if gotResume != tt.wantResume {
				t.Errorf("resume after %v, want %v", gotResume, tt.wantResume)
			}
			if c.Phase() != ratelimit.Holding {
				t.Errorf("phase %s, want holding", c.Phase())
			}
		})
	}

	t.Run("good answers no longer move it; a 429 lowers the trust", func(t *testing.T) {
		c := ratelimit.NewController(ratelimit.ControllerConfig{}, now)
		c.FromQuota(now, ratelimit.Quota{Limit: 100, Window: time.Second, Remaining: -1}, 1)
		for i := range 100 {
			c.Answer(now.Add(time.Duration(i)*time.Second), false)
		}
		if c.Rate() != 100*trust {
			t.Errorf("rate moved to %v on good answers", c.Rate())
		}
		c.Answer(now.Add(101*time.Second), true)
		if want := 100 * trust * 0.99; math.Abs(c.Rate()-want) > 1e-9 {
			t.Errorf("after a 429: rate %v, want %v", c.Rate(), want)
		}
		c.FromQuota(now.Add(102*time.Second), ratelimit.Quota{Limit: 100, Window: time.Second, Remaining: -1}, 1)
		if want := 100 * trust * 0.99; math.Abs(c.Rate()-want) > 1e-9 {
			t.Errorf("the next headers forgot the 429: rate %v, want %v", c.Rate(), want)
		}
	})
}

// TestSpentQuota: a spent quota (most answers 429) is met by a trickle, not
// a pause, when the Retry-After is short; the first good answer ends it at
// just under the limit the good answers between two spent quotas measure.
func TestSpentQuota(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	// The controller starts a second before the first answer, so that its
	// window of the last second slides as the answers come.
	at := func(ms int) time.Time { return t0.Add(time.Second + time.Duration(ms)*time.Millisecond) }
	c := ratelimit.NewController(ratelimit.ControllerConfig{Start: 500}, t0)
	// A window of 400 a second: 400 good answers in the first 800 ms, then 429s.
	for i := range 400 {
		c.Answer(at(2*i), false)
	}
	for i := range 40 { // then only 429s, for 200 ms
		c.Answer(at(800+5*i), true)
	}
	if pause := c.Spent(at(1000), time.Second); pause {
		t.Fatal("a one-second Retry-After paused everybody; want a trickle")
	}
	if c.Phase() != ratelimit.Paused || c.Rate() > 0.2*c.Limit() {
		t.Errorf("spent: phase %s at %.1f/s (limit %.1f), want a trickle", c.Phase(), c.Rate(), c.Limit())
	}
	c.Answer(at(1001), false) // the next window opens
	if c.Phase() != ratelimit.Holding || c.Rate() < 0.9*c.Limit() || c.Rate() > c.Limit() {
		t.Errorf("quota back: phase %s at %.1f/s (limit %.1f), want holding just under it", c.Phase(), c.Rate(), c.Limit())
	}
	// The next window is spent too: 400 good answers since the last spent
	// one, 1 s before: the limit is 400/s.
	for i := range 399 {
		c.Answer(at(1002+2*i), false)
	}
	for i := range 40 {
		c.Answer(at(1800+5*i), true)
	}
	c.Spent(at(2000), time.Second)
	c.Answer(at(2001), false) // the third window opens: one window since the last
	if l := c.Limit(); l < 390 || l > 410 {
		t.Errorf("limit from a window spent between two resumes %.1f, want 400", l)
	}
	if r := c.Rate(); r < 0.95*c.Limit() || r > c.Limit() {
		t.Errorf("rate %.1f after the window's limit was measured at %.1f, want just under it", r, c.Limit())
	}
	// A long Retry-After is waited out.
	c2 := ratelimit.NewController(ratelimit.ControllerConfig{Start: 100}, t0)
	for i := range 20 {
		c2.Answer(at(i), true)
	}
	if !c2.Spent(at(20), time.Minute) {
		t.Error("a one-minute Retry-After on a spent quota did not pause")
	}
}
