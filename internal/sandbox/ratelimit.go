package sandbox

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Header styles the rate limit can announce (Config.RateHeaders).
const (
	// HeadersIETF sends the fields of draft-ietf-httpapi-ratelimit-headers:
	// RateLimit-Policy: "default";q=LIMIT;w=WINDOW and
	// RateLimit: "default";r=REMAINING;t=RESET (seconds).
	HeadersIETF = "ietf"
	// HeadersX sends the common X-RateLimit-Limit, -Remaining and -Reset
	// (seconds until the window resets).
	HeadersX = "x"
)

// gate is the sandbox's rate limit over every API request: a token bucket
// (Limit per second, Burst at once) or, with a Window, a fixed window (at
// most Limit requests in each Window, counted from the first request). It
// can change while the server runs (PUT /_sandbox/faults).
type gate struct {
	mu      sync.Mutex
	limit   float64 // 0: unlimited
	burst   int
	window  time.Duration // 0: token bucket
	headers string        // "", HeadersIETF or HeadersX
	bucket  *rate.Limiter

	windowStart time.Time
	windowCount int
}

func newGate(limit float64, burst int, window time.Duration, headers string) *gate {
	g := &gate{window: max(window, 0), headers: headers}
	g.set(limit, burst)
	return g
}

// set changes the limit (0 or less, or +Inf: none) and the bucket's size.
func (g *gate) set(limit float64, burst int) {
	if !(limit > 0) || math.IsInf(limit, 1) {
		limit = 0
	}
	g.limit, g.burst = limit, max(burst, 1)
	g.bucket = nil
	if limit > 0 && g.window == 0 {
		g.bucket = rate.NewLimiter(rate.Limit(limit), g.burst)
	}
	g.windowStart, g.windowCount = time.Time{}, 0
}

// setLimit is set under the lock, for the faults endpoint.
func (g *gate) setLimit(limit float64, burst int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.set(limit, burst)
}

// current returns the limit and burst in force.
func (g *gate) current() (float64, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit, g.burst
}

// quota is what the gate tells a client about its limit.
type quota struct {
	limit     float64       // requests per window
	window    time.Duration // the window the limit counts over
	remaining int           // requests left in this window
	reset     time.Duration // until the window resets (the bucket is full)
}

// admit takes one request at now: ok false means 429, to retry after
// retryAfter. The quota describes the limit after this request.
func (g *gate) admit(now time.Time) (ok bool, retryAfter time.Duration, q quota) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.limit == 0:
		return true, 0, quota{}
	case g.window > 0:
		return g.admitWindow(now)
	}
	res := g.bucket.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	ok = res.OK() && delay <= 0
	if !ok {
		res.CancelAt(now)
	}
	tokens := g.bucket.TokensAt(now)
	q = quota{limit: g.limit, window: time.Second, remaining: max(int(tokens), 0)}
	q.reset = time.Duration((float64(g.burst) - tokens) / g.limit * float64(time.Second))
	return ok, delay, q
}

func (g *gate) admitWindow(now time.Time) (bool, time.Duration, quota) {
	end := g.windowStart.Add(g.window)
	if g.windowStart.IsZero() || !now.Before(end) {
		// A new window: aligned to the last one, so that windows keep a
		// fixed rhythm whatever the gaps between requests.
		start := now
		if !g.windowStart.IsZero() {
			start = g.windowStart.Add(now.Sub(g.windowStart) / g.window * g.window)
		}
		g.windowStart, g.windowCount = start, 0
		end = start.Add(g.window)
	}
	limit := int(g.limit)
	q := quota{limit: float64(limit), window: g.window, reset: end.Sub(now)}
	if g.windowCount >= limit {
		return false, end.Sub(now), q
	}
	g.windowCount++
	q.remaining = limit - g.windowCount
	return true, 0, q
}

// writeHeaders announces q on w in the gate's style.
func (g *gate) writeHeaders(w http.ResponseWriter, q quota) {
	if g.headers == "" || q.window == 0 {
		return
	}
	limit := strconv.FormatFloat(q.limit, 'f', -1, 64)
	reset := strconv.Itoa(int(math.Ceil(q.reset.Seconds())))
	h := w.Header()
	switch g.headers {
	case HeadersIETF:
		h.Set("RateLimit-Policy", `"default";q=`+limit+";w="+strconv.Itoa(int(math.Ceil(q.window.Seconds()))))
		h.Set("RateLimit", `"default";r=`+strconv.Itoa(q.remaining)+";t="+reset)
	case HeadersX:
		h.Set("X-RateLimit-Limit", limit)
		h.Set("X-RateLimit-Remaining", strconv.Itoa(q.remaining))
		h.Set("X-RateLimit-Reset", reset)
	}
}
