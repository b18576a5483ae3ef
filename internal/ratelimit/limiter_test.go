package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/ratelimit"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLimiterSlowsDownAndRecovers(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := ratelimit.New(ratelimit.Config{Rate: 100, Burst: 10, Now: clock.Now})

	l.Throttled(2 * time.Second)
	if got := l.Stats().Rate; got != 50 {
		t.Fatalf("rate after one 429 = %v, want 50", got)
	}
	// More 429s during the pause belong to the same episode: no more cuts.
	for range 10 {
		l.Throttled(0)
	}
	if got := l.Stats().Rate; got != 50 {
		t.Fatalf("rate after 429s within one pause = %v, want 50", got)
	}
	// Episodes after the pause each cut the rate, down to the floor.
	for range 10 {
		clock.Add(3 * time.Second)
		l.Throttled(time.Second)
	}
	if got := l.Stats().Rate; got != 5 {
		t.Fatalf("rate after many episodes = %v, want the floor 5", got)
	}
	// Enough good responses climb back to the target, never past it.
	for range 10_000 {
		l.Succeeded()
	}
	st := l.Stats()
	if st.Rate != 100 {
		t.Errorf("rate after recovery = %v, want 100", st.Rate)
	}
	if st.Throttled != 21 {
		t.Errorf("throttled = %d, want 21", st.Throttled)
	}
	// Overlapping pauses count once: 2 s (the 1 s ones inside it add
	// nothing), then ten separate 1 s pauses.
	if st.Paused != 12*time.Second {
		t.Errorf("paused = %v, want 12s", st.Paused)
	}
}

func TestLimiterPauseBlocksEveryWaiter(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 1000, Burst: 100})
	l.Throttled(300 * time.Millisecond)
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("waiters passed after %v, before the 300ms pause ended", waited)
	}
}

func TestLimiterWaitHonoursCancel(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 10, Burst: 1})
	l.Throttled(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want deadline exceeded", err)
	}
}

func TestUnlimitedOnlyPauses(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := ratelimit.New(ratelimit.Config{Rate: 0, Now: clock.Now})
	l.Throttled(time.Second)
	st := l.Stats()
	if st.Rate != 0 || st.Throttled != 1 || st.Paused != time.Second {
		t.Errorf("stats = %+v", st)
	}
}

// TestHoldingTime: the time at the limit found counts while the adaptive
// limiter holds there, and not before a limit is found.
func TestHoldingTime(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l := ratelimit.New(ratelimit.Config{Auto: true, Rate: 100, Burst: 1, Now: clock})
	for range 3 { // holding at the ceiling, no limit found: not counted
		now = now.Add(time.Second)
		l.Succeeded()
	}
	if h := l.Stats().Holding; h != 0 {
		t.Fatalf("holding %v before any limit was found", h)
	}
	now = now.Add(time.Second)
	l.Throttled(time.Second) // a limit found: below 100/s
	for range 4 {
		now = now.Add(500 * time.Millisecond)
		l.Succeeded()
	}
	st := l.Stats()
	if st.Phase != ratelimit.Holding || st.Limit <= 0 || st.Holding != 2*time.Second {
		t.Errorf("after 2 s at the limit found: %+v, want holding for 2s", st)
	}
}
