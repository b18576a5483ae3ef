package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DecreaseFactor is the multiplicative decrease applied to the rate on a 429.
const DecreaseFactor = 0.5

// Decrease returns the rate after a throttled response: current times
// DecreaseFactor, never below floor.
func Decrease(current, floor float64) float64 {
	return math.Max(current*DecreaseFactor, floor)
}

// Increase returns the rate after a second of good responses: an additive
// step of a twentieth of the target (at least 0.5/s), never above target.
func Increase(current, target float64) float64 {
	return math.Min(current+math.Max(target/20, 0.5), target)
}

// Backoff returns the delay before retry number retry (1 for the first
// retry): exponential from base, capped at max, with "equal jitter": half
// the delay is fixed and half is spread by u, a draw from [0, 1).
func Backoff(retry int, base, max time.Duration, u float64) time.Duration {
	if retry < 1 {
		retry = 1
	}
	d := max
	if retry < 63 {
		if exp := base << (retry - 1); exp > 0 && exp < max {
			d = exp
		}
	}
	half := d / 2
	return half + time.Duration(u*float64(d-half))
}

// ParseRetryAfter reads a Retry-After header value, either delay-seconds or
// an HTTP date, relative to now. It reports false for an absent or malformed
// value; a date in the past gives zero.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(value, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		return time.Duration(math.Min(secs, 24*3600) * float64(time.Second)), true
	}
	when, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if d := when.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}
