package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Quota is what an API's rate-limit headers say about the client's limit.
type Quota struct {
	Limit     float64       // requests allowed per Window
	Window    time.Duration // the window Limit counts over; 0: not said
	Remaining float64       // requests left until Reset; -1: not said
	Reset     time.Duration // until the quota is whole again; 0: not said
}

// Rate is the quota as requests per second: Limit per Window; 0 when the
// window is unknown.
func (q Quota) Rate() float64 {
	if q.Window <= 0 || q.Limit <= 0 {
		return 0
	}
	return q.Limit / q.Window.Seconds()
}

// ParseQuota reads the rate-limit headers of an answer at now, in the forms
// APIs use:
//
//   - draft-ietf-httpapi-ratelimit-headers (-08 and later), structured
//     fields: RateLimit-Policy: "p";q=100;w=60 and RateLimit: "p";r=50;t=30
//     (with several policies, the most restrictive);
//   - its earlier drafts: RateLimit-Limit, RateLimit-Remaining,
//     RateLimit-Reset, RateLimit-Policy: 100;w=60, and the single-field
//     RateLimit: limit=100, remaining=50, reset=30;
//   - the common X-RateLimit-Limit, X-RateLimit-Remaining and
//     X-RateLimit-Reset (seconds until reset, or a Unix time in seconds or
//     milliseconds, as some APIs send).
//
// ok is false when the answer has none of them, or nothing usable.
func ParseQuota(h http.Header, now time.Time) (q Quota, ok bool) {
	q.Remaining = -1
	var policy string
	if v := h.Get("RateLimit-Policy"); v != "" {
		policy, q.Limit, q.Window = parsePolicy(v)
	}
	if v := h.Get("RateLimit"); v != "" {
		parseRateLimitField(v, policy, &q)
	}
	for _, prefix := range []string{"RateLimit-", "X-RateLimit-"} {
		if q.Limit <= 0 {
			q.Limit = headerNumber(h, prefix+"Limit")
		}
		if q.Remaining < 0 {
			q.Remaining = headerNumber(h, prefix+"Remaining")
		}
		if q.Reset <= 0 {
			q.Reset = resetDelay(h.Get(prefix+"Reset"), now)
		}
	}
	if q.Limit <= 0 && q.Remaining < 0 {
		return Quota{Remaining: -1}, false
	}
	return q, true
}

// parsePolicy reads RateLimit-Policy: the structured form ("p";q=100;w=60)
// or the older one (100;w=60), keeping the most restrictive of a list.
func parsePolicy(v string) (name string, limit float64, window time.Duration) {
	best := math.Inf(1)
	for _, item := range strings.Split(v, ",") {
		params := strings.Split(strings.TrimSpace(item), ";")
		itemName := strings.Trim(strings.TrimSpace(params[0]), `"`)
		l, w := -1.0, time.Duration(0)
		if n, err := strconv.ParseFloat(strings.TrimSpace(params[0]), 64); err == nil {
			l = n // the older form: the limit first
		}
		for _, p := range params[1:] {
			key, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			n, err := strconv.ParseFloat(strings.Trim(val, `"`), 64)
			if err != nil || n < 0 {
				continue
			}
			switch key {
			case "q":
				l = n
			case "w":
				w = time.Duration(n * float64(time.Second))
			}
		}
		if l <= 0 || w <= 0 {
			continue
		}
		if r := l / w.Seconds(); r < best {
			best, name, limit, window = r, itemName, l, w
		}
	}
	return name, limit, window
}

// parseRateLimitField reads RateLimit: the structured form ("p";r=50;t=30:
// the item of the policy named, else the smallest r of a list) or the
// single-field draft (limit=100, remaining=50, reset=30).
func parseRateLimitField(v, policy string, q *Quota) {
	items := strings.Split(v, ",")
	for _, item := range items {
		params := strings.Split(strings.TrimSpace(item), ";")
		if name := strings.Trim(strings.TrimSpace(params[0]), `"`); policy != "" && name == policy {
			items = []string{item} // the policy that limits: its own remaining and reset
			break
		}
	}
	for _, item := range items {
		for _, p := range strings.Split(strings.TrimSpace(item), ";") {
			key, val, found := strings.Cut(strings.TrimSpace(p), "=")
			if !found {
				continue
			}
			n, err := strconv.ParseFloat(strings.Trim(val, `"`), 64)
			if err != nil || n < 0 {
				continue
			}
			switch key {
			case "r", "remaining":
				if q.Remaining < 0 || n < q.Remaining {
					q.Remaining = n
				}
			case "t", "reset":
				if d := time.Duration(n * float64(time.Second)); d > q.Reset {
					q.Reset = d
				}
			case "limit":
				q.Limit = n
			}
		}
	}
}

// headerNumber is a header's non-negative number; -1 when absent or not one.
func headerNumber(h http.Header, name string) float64 {
	n, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return -1
	}
	return n
}

// resetDelay reads a reset header: seconds from now, or a Unix time (in
// seconds above 10^9, in milliseconds above 10^12).
func resetDelay(v string, now time.Time) time.Duration {
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || n <= 0 || math.IsInf(n, 0) {
		return 0
	}
	switch {
	case n > 1e12:
		return max(time.UnixMilli(int64(n)).Sub(now), 0)
	case n > 1e9:
		return max(time.Unix(int64(n), 0).Sub(now), 0)
	}
	return time.Duration(n * float64(time.Second))
}
