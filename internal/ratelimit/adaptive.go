package ratelimit

import (
	"math"
	"time"
)

// Phase is what the adaptive controller is doing.
type Phase string

// The phases, as the progress display and the summary show them.
const (
	Probing Phase = "probing" // climbing: no limit found yet, or the limit may have risen
	Holding Phase = "holding" // just under the limit found
	Paused  Phase = "paused"  // waiting out a Retry-After
)

// Tuning of the adaptive controller. The climb is multiplicative until the
// first 429 (×ProbeGrowth every ProbeStep); after a 429 the rate settles at
// HoldFactor of the limit found, and creeps up by HoldStep every hold
// interval (which doubles, up to MaxHold, while 429s keep coming near the
// same limit); two clean creeps in a row mean the limit may have risen, and
// the climb starts again.
const (
	ProbeGrowth = 2
	ProbeStep   = 250 * time.Millisecond
	// ReprobeGrowth is the climb after a hold: the limit is likely near.
	ReprobeGrowth = 1.15
	HoldFactor    = 0.97
	HoldStep      = 0.02
	MinHold       = 2 * time.Second
	MaxHold       = 4 * time.Second
	// searchStep is the hold between steps of the bisection after a cut.
	searchStep = time.Second
	// cutGap: 429s within this time of a cut belong to the same episode
	// (requests already under way when the rate was cut).
	cutGap = 500 * time.Millisecond
	// windowBuckets × bucketWidth is the window good answers are counted
	// over, to measure the rate the API accepts.
	windowBuckets = 10
	bucketWidth   = 100 * time.Millisecond
	// DefaultStart is the first rate of --rate auto.
	DefaultStart = 4
)

// ControllerConfig sets up an adaptive controller.
type ControllerConfig struct {
	Start float64 // the first rate; 0 means DefaultStart (and Max when Max is set: a known limit)
	Max   float64 // never above this (--rate N); 0: no ceiling
	Share float64 // use at most this share of the limit found (--rate-share); 0 means 1
	Floor float64 // never below this; 0 means 0.5
}

// Controller finds and holds the rate an API accepts, from the answers alone
// (or exactly, from rate-limit headers). It is pure: no clock, no sleeps;
// every method takes the time of the event. Not safe for concurrent use.
type Controller struct {
	cfg   ControllerConfig
	rate  float64
	phase Phase
	limit float64 // the limit found (an upper bound seen as 429s); 0: none yet

	started         time.Time // when the controller was made
	lastChange      time.Time // the last change of rate
	lastCut         time.Time // the last cut on a 429
	hi              float64   // the rate that met the last 429
	lastHi          float64   // hi, while the climb it ended is the current one
	hold            time.Duration
	cleanSteps      int           // creeps in a row without a 429
	headers         bool          // paced by the API's rate-limit headers
	trickling       bool          // a quota spent: a trickle until it is back (Spent)
	resumeRate      float64       // the rate after the trickle
	spentAt         time.Time     // the last spent quota
	resumedAt       time.Time     // the end of the last trickle
	goodSinceResume int64         // good answers since resumedAt
	allowance       int64         // good answers from resumedAt to the spent quota after it
	trust           float64       // with headers: the share of their limit used
	longestReset    time.Duration // with headers without a window
	quota           Quota         // with headers: the last one
	windowStart     time.Time     // with headers: when the quota's window seemed to start
	lastRemaining   float64       // with headers: the last remaining told

	good      [windowBuckets]int // good answers per bucket
	bad       [windowBuckets]int // 429s per bucket
	goodStart time.Time          // start of good[0]'s bucket
	throttled int64
	answers   int64
}

// NewController returns a controller starting at cfg.Start at time now.
func NewController(cfg ControllerConfig, now time.Time) *Controller {
	if cfg.Share <= 0 || cfg.Share > 1 {
		cfg.Share = 1
	}
	if cfg.Floor <= 0 {
		cfg.Floor = 0.5
	}
	if cfg.Start <= 0 {
		cfg.Start = DefaultStart
		if cfg.Max > 0 {
			cfg.Start = cfg.Max // a rate the user knows: no climb
		}
	}
	c := &Controller{cfg: cfg, phase: Probing, started: now, lastChange: now, hold: MinHold, goodStart: now.Truncate(bucketWidth)}
	c.rate = c.clamp(cfg.Start)
	if cfg.Max > 0 && c.rate >= cfg.Max {
		c.phase = Holding
	}
	return c
}

// Rate is the rate to pace at now.
func (c *Controller) Rate() float64 { return c.rate }

// Phase is what the controller is doing.
func (c *Controller) Phase() Phase { return c.phase }

// Limit is the API's limit as found (an estimate from 429s, or what its
// headers say); 0 when none has been met.
func (c *Controller) Limit() float64 { return c.limit }

// Throttled and Answers count the 429s and all answers seen.
func (c *Controller) Throttled() int64 { return c.throttled }

// Answers counts all answers seen.
func (c *Controller) Answers() int64 { return c.answers }

// clamp keeps a rate within the floor and the ceiling.
func (c *Controller) clamp(r float64) float64 {
	if c.cfg.Max > 0 {
		r = math.Min(r, c.cfg.Max)
	}
	return math.Max(r, c.cfg.Floor)
}

// Answer feeds one answer of the API (throttled: a 429) at now, and returns
// the rate to pace at from now on.
func (c *Controller) Answer(now time.Time, throttled bool) float64 {
	c.answers++
	if throttled {
		c.throttled++
		c.advance(now)
		c.bad[windowBuckets-1]++
		if c.headers {
			// The headers promised more than the API gave: trust them less.
			c.trust = math.Max(c.trust*0.99, 0.5)
			c.rate = c.clamp(c.cfg.Share * c.trust * c.limit)
			return c.rate
		}
		if !c.trickling {
			c.onThrottled(now)
		}
		return c.rate
	}
	c.countGood(now)
	c.goodSinceResume++
	if c.trickling {
		c.resume(now)
		return c.rate
	}
	if !c.headers {
		c.onGood(now)
	}
	return c.rate
}

// onThrottled cuts the rate below the limit, which now lies between the
// last rate that was clean and the rate that met the 429: the good answers
// of the last second measure what the API let through.
func (c *Controller) onThrottled(now time.Time) {
	if !c.lastCut.IsZero() && now.Sub(c.lastCut) < cutGap {
		return // the same episode: requests already under way when the rate was cut
	}
	if !c.spentAt.IsZero() && now.Sub(c.spentAt) < windowBuckets*bucketWidth {
		// Within a second of a spent quota the rate accepted counts the
		// trickle: no measure to cut on. The quota, if spent again, is
		// met by Spent.
		return
	}
	hit := c.rate
	// While part of the requests get 429s, what gets through is the limit:
	// over the last 300 ms for a token bucket, over the last second for a
	// fixed window (which may be spent for the rest of it).
	lo := c.acceptedRate(now)
	if c.phase == Probing {
		lo = math.Max(lo, c.acceptedOver(now, 3))
		if c.lastHi == 0 {
			lo = math.Max(lo, hit/ProbeGrowth) // the step before was clean
		}
	}
	lo = math.Min(math.Max(lo, hit/2), hit) // one episode at most halves the rate
	if c.hi > 0 && math.Abs(hit-c.hi) <= 0.05*c.hi {
		c.hold = min(2*c.hold, MaxHold) // the same limit again: it is steady, hold longer
	} else {
		c.hold = MinHold
	}
	c.hi, c.lastHi = hit, hit
	c.limit = math.Max(lo, math.Min(hit, c.limit))
	c.rate = c.clamp(HoldFactor * c.cfg.Share * lo)
	c.phase = Holding
	c.lastCut, c.lastChange = now, now
	c.cleanSteps = 0
}

// onGood climbs: multiplicatively while probing; while holding, halfway to
// the rate that met the last 429 after each clean hold (a bisection of the
// limit), then by small steps, and back to probing after clean steps at the
// top: the limit may have risen.
func (c *Controller) onGood(now time.Time) {
	if c.cfg.Max > 0 && c.rate >= c.cfg.Max {
		c.phase = Holding
		return
	}
	switch c.phase {
	case Probing:
		if now.Sub(c.lastChange) < ProbeStep {
			return
		}
		if c.acceptedOver(now, 3) < 0.6*c.rate && now.Sub(c.lastChange) < 8*ProbeStep {
			return // the rate is not what limits us yet (latency, workers): no evidence to climb on
		}
		growth := float64(ProbeGrowth)
		if c.hi > 0 {
			growth = ReprobeGrowth // a limit was met before: climb gently back to it
		}
		c.rate = c.clamp(c.rate * growth)
		c.lastChange = now
	case Holding:
		wait := c.hold
		top := c.hi * HoldFactor
		if c.cfg.Share < 1 {
			top = c.rate // below the limit by choice: no search
		}
		if c.rate < top*0.99 {
			wait = searchStep // still searching between clean and 429
		}
		if now.Sub(c.lastChange) < wait {
			return
		}
		switch {
		case c.rate < top*0.99:
			c.rate = c.clamp(math.Min((c.rate+top)/2, top))
		case c.cleanSteps < 1 && c.cfg.Share == 1:
			c.cleanSteps++
			c.rate = c.clamp(c.rate * (1 + HoldStep))
		case c.cfg.Share < 1:
			// Below the limit by choice: nothing tells whether it rose, and
			// finding out would cost the 429s the share is there to avoid.
		default:
			c.phase, c.cleanSteps, c.lastHi = Probing, 0, 0
			c.rate = c.clamp(c.rate * ReprobeGrowth)
		}
		c.lastChange = now
	}
}

// PauseAdvised reports whether a 429's Retry-After should pause every
// request: when most answers of the last 100-200 ms were 429s (a spent
// fixed window, or a limit far below the rate), waiting is
// cheaper than more 429s. Otherwise the cut alone is the answer: pausing
// everybody for a rounded-up second after each 429 of a token bucket would
// waste a second of the limit each time.
func (c *Controller) PauseAdvised(now time.Time) bool {
	c.advance(now)
	good, bad := 0, 0
	for i := windowBuckets - 2; i < windowBuckets; i++ {
		good += c.good[i]
		bad += c.bad[i]
	}
	return bad > 2 && bad > good
}

// MaxTrickle is the longest Retry-After a spent quota is met with a
// trickle rather than a pause (see Spent).
const MaxTrickle = 2 * time.Second

// trickleShare is the share of the limit found sent while trickling.
const trickleShare = 0.1

// Spent tells the controller of a 429 asking to wait retryAfter, and
// reports whether every request should pause that long. Only when the
// quota is spent (PauseAdvised) does a 429 call for more than the cut: then
// the limit is estimated again from the good answers of the last second
// (better, once a window was spent twice: see resume) and, for a short
// Retry-After, the controller trickles (a tenth of the estimate) until the
// first good answer says the quota is back, and goes on from there at just
// under the estimate. A Retry-After rounded up to
// whole seconds would waste most of a one-second window; a long one
// (above MaxTrickle) is waited out.
func (c *Controller) Spent(now time.Time, retryAfter time.Duration) (pause bool) {
	if c.headers || !c.PauseAdvised(now) {
		return false
	}
	if c.trickling {
		return false
	}
	// The good answers of the last second, or since the start if that is
	// more recent.
	n := windowBuckets
	if span := now.Sub(c.started); span < windowBuckets*bucketWidth {
		n = max(int((span+bucketWidth-1)/bucketWidth), 1)
	}
	est := c.acceptedOver(now, n)
	if since := now.Sub(c.resumedAt); !c.resumedAt.IsZero() && since >= 100*time.Millisecond && since < windowBuckets*bucketWidth {
		// Spent again within a second of the last trickle: the last
		// second mixes the trickle in; what got through since the resume
		// is the better measure (a token bucket's limit; a fixed window's
		// is measured at the next resume).
		est = math.Min(est, float64(c.goodSinceResume)/since.Seconds())
	} else if !c.spentAt.IsZero() && now.Sub(c.spentAt) < cutGap && c.limit > 0 {
		est = c.limit // the same spent quota, told by a late answer: no new evidence
	}
	c.spentAt = now
	if !c.resumedAt.IsZero() {
		c.allowance = c.goodSinceResume // what the quota let through since it was back
	}
	if est <= 0 {
		return true
	}
	c.limit, c.hi, c.lastHi = est, est, est
	c.lastCut, c.lastChange, c.cleanSteps = now, now, 0
	c.hold = MaxHold
	c.resumeRate = c.clamp(HoldFactor * c.cfg.Share * est)
	if retryAfter > MaxTrickle {
		c.rate, c.phase = c.resumeRate, Holding
		return true
	}
	c.trickling, c.phase = true, Paused
	c.rate = c.clamp(trickleShare * est)
	return false
}

// resume ends a trickle: the quota is back (a fixed window started again,
// a bucket has tokens), on at just under the limit. When a quota was spent
// between the last resume and this one, and that took one window's time,
// the window's allowance is known (the good answers from that resume to
// that spent quota) and its length (the time between the two resumes):
// their ratio is the limit, exactly. (Windows of half a second or more:
// an overloaded token bucket, spent again just after a resume, would
// otherwise pass for a short window and be held at too long.)
func (c *Controller) resume(now time.Time) {
	c.trickling = false
	if w := now.Sub(c.resumedAt); !c.resumedAt.IsZero() && c.allowance > 0 && w >= 500*time.Millisecond && w < 5*time.Second {
		est := float64(c.allowance) / w.Seconds()
		c.limit, c.hi, c.lastHi = est, est, est
		c.resumeRate = c.clamp(HoldFactor * c.cfg.Share * est)
		c.hold = windowHolds * MaxHold // each climb above a window costs a spent window: climb seldom
	}
	c.resumedAt, c.goodSinceResume, c.allowance = now, 1, 0
	c.rate, c.phase, c.lastChange = c.resumeRate, Holding, now
}

// windowHolds is how many MaxHold a controller holds against a fixed
// window (its limit measured by resume) before it climbs to see whether
// the limit rose.
const windowHolds = 4

// HeaderTrust is the share of a limit announced in headers that the
// controller paces at: the margin absorbs the jitter between the client's
// pacing and the API's count. Each 429 met despite the headers lowers it
// by a hundredth, down to a half (one 429 a run, from jitter at a
// window's edge, costs 1%; an API whose headers overstate its limit
// is followed down within some 70 429s).
const HeaderTrust = 0.99

// FromQuota paces to what the API's rate-limit headers say (see
// ParseQuota), at the configured share; from then on the controller no
// longer climbs or cuts on its own. inFlight is the requests sent and not
// yet answered, this one included: the quota does not count those sent
// after it. resume, when not zero, is when the quota is whole again and
// requests may go on: none is left for them now.
func (c *Controller) FromQuota(now time.Time, q Quota, inFlight int) (rate float64, resume time.Time) {
	perSecond := q.Rate()
	if perSecond == 0 && q.Limit > 0 && q.Reset > 0 {
		// A limit without its window (X-RateLimit-*): the window is the
		// longest reset seen, in whole seconds as the headers count.
		c.longestReset = max(c.longestReset, time.Duration(math.Ceil(q.Reset.Seconds()))*time.Second)
		perSecond = q.Limit / c.longestReset.Seconds()
	}
	if perSecond == 0 && q.Remaining >= 0 && q.Reset > 0 {
		perSecond = q.Remaining / q.Reset.Seconds() // what is left, spread over the time left
	}
	if perSecond <= 0 {
		return c.rate, time.Time{}
	}
	if !c.headers {
		c.headers, c.trust = true, HeaderTrust
	}
	c.limit = perSecond
	c.rate = c.clamp(c.cfg.Share * c.trust * perSecond)
	c.phase = Holding
	c.lastChange = now
	return c.rate, c.quotaSpent(now, q, perSecond, inFlight)
}

// quotaSpent returns when requests may go on if the quota has nothing left
// for another one, counting those in flight (sent after the answer that
// told it); zero otherwise. How long depends on the kind of quota, told by
// how remaining moves: a fixed window's jumps back up by most of the limit
// when the window starts again, and ends when the window does (its start
// seen as that answer: closer than the reset header's whole seconds); a
// token bucket's creeps up token by token, and has room again as soon as
// the missing tokens are back, at perSecond.
func (c *Controller) quotaSpent(now time.Time, q Quota, perSecond float64, inFlight int) time.Time {
	if q.Remaining < 0 {
		return time.Time{}
	}
	if q.Limit > 0 && q.Remaining-c.lastRemaining > q.Limit/2 {
		c.windowStart = now
	}
	c.lastRemaining = q.Remaining
	missing := float64(max(inFlight-1, 0)) - q.Remaining + 1
	if missing <= 0 {
		return time.Time{}
	}
	end := now.Add(time.Duration(missing / perSecond * float64(time.Second)))
	if !c.windowStart.IsZero() {
		window := q.Window
		if window <= 0 {
			window = c.longestReset
		}
		end = now.Add(q.Reset)
		if est := c.windowStart.Add(window); window > 0 && est.After(now) && (q.Reset == 0 || est.Before(end)) {
			end = est
		}
	} else if q.Reset > 0 && now.Add(q.Reset).Before(end) {
		end = now.Add(q.Reset)
	}
	if !end.After(now) {
		return time.Time{}
	}
	return end
}

// countGood adds a good answer to the window.
func (c *Controller) countGood(now time.Time) {
	c.advance(now)
	c.good[windowBuckets-1]++
}

// advance slides the window to now.
func (c *Controller) advance(now time.Time) {
	end := c.goodStart.Add(windowBuckets * bucketWidth)
	if now.Before(end) {
		return
	}
	shift := int(now.Sub(end)/bucketWidth) + 1
	for _, w := range []*[windowBuckets]int{&c.good, &c.bad} {
		if shift >= windowBuckets {
			*w = [windowBuckets]int{}
			continue
		}
		copy(w[:], w[shift:])
		for i := windowBuckets - shift; i < windowBuckets; i++ {
			w[i] = 0
		}
	}
	c.goodStart = c.goodStart.Add(time.Duration(shift) * bucketWidth)
}

// acceptedRate is the good answers per second over the whole window.
func (c *Controller) acceptedRate(now time.Time) float64 {
	return c.acceptedOver(now, windowBuckets)
}

// acceptedOver is the good answers per second over the last n buckets.
func (c *Controller) acceptedOver(now time.Time, n int) float64 {
	c.advance(now)
	sum := 0
	for _, g := range c.good[windowBuckets-n:] {
		sum += g
	}
	return float64(sum) / (time.Duration(n) * bucketWidth).Seconds()
}
