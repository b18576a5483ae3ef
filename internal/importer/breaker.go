package importer

import "sync"

// BreakerConfig sets when the circuit breaker stops a run: after
// Consecutive transient failures in a row, or when more than Rate of the
// last Window attempts failed transiently. Zero values take the defaults
// (20, 0.5 over 100).
type BreakerConfig struct {
	Consecutive int
	Window      int
	Rate        float64
}

// breaker watches the outcome of every attempt and opens when the API
// keeps failing, so a run stops dispatching instead of burning the rest of
// the file into the failure report. It is safe for concurrent use.
type breaker struct {
	cfg BreakerConfig

	mu          sync.Mutex
	consecutive int
	window      []bool // ring of the last attempts: true = transient failure
	next        int
	filled      int
	failures    int
	open        bool
}

func newBreaker(cfg BreakerConfig) *breaker {
	if cfg.Consecutive <= 0 {
		cfg.Consecutive = 20
	}
	if cfg.Window <= 0 {
		cfg.Window = 100
	}
	if cfg.Rate <= 0 || cfg.Rate > 1 {
		cfg.Rate = 0.5
	}
	return &breaker{cfg: cfg, window: make([]bool, cfg.Window)}
}

// record notes one attempt and reports whether the breaker is open.
// Only a full window is judged by rate, so a few early failures do not
// stop a run.
func (b *breaker) record(transientFailure bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if transientFailure {
		b.consecutive++
	} else {
		b.consecutive = 0
	}
	if b.filled == len(b.window) {
		if b.window[b.next] {
			b.failures--
		}
	} else {
		b.filled++
	}
	b.window[b.next] = transientFailure
	if transientFailure {
		b.failures++
	}
	b.next = (b.next + 1) % len(b.window)

	if b.consecutive >= b.cfg.Consecutive ||
		(b.filled == len(b.window) && float64(b.failures) > b.cfg.Rate*float64(len(b.window))) {
		b.open = true
	}
	return b.open
}
