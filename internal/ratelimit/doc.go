// Package ratelimit paces every request of a run through one shared token
// bucket (golang.org/x/time/rate) and slows it down for everybody when the
// API answers 429: a multiplicative decrease of the rate, a shared pause for
// Retry-After, and an additive climb back to the configured rate while
// responses are good.
//
// The arithmetic (Decrease, Increase, Backoff, ParseRetryAfter) is pure, free
// of clocks and sleeps, so table tests cover it exhaustively.
package ratelimit
