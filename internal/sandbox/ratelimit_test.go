package sandbox_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/sandbox"
)

func TestRateWindow(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := MustStart(t, sandbox.Config{RateLimit: 3, Burst: 50, RateWindow: time.Second, Now: clock.Now})
	created := 0
	try := func(name string) response {
		t.Helper()
		r := s.MustCreate(t, validBody(name))
		if r.status == http.StatusCreated {
			created++
		}
		return r
	}
	// The first window starts with the first request: three pass (the
	// burst is unused), the fourth waits for the rest of the window.
	for i := range 3 {
		if r := try(fmt.Sprint("w1-", i)); r.status != http.StatusCreated {
			t.Fatalf("request %d of the first window: status %d", i, r.status)
		}
	}
	clock.Advance(400 * time.Millisecond)
	r := try("w1-over")
	MustAPIError(t, r, http.StatusTooManyRequests, "429")
	if got := r.header.Get("Retry-After"); got != "1" { // 600 ms left, rounded up
		t.Errorf("Retry-After = %q, want 1", got)
	}
	// The next window opens at +1 s, not at the refused request's +1 s.
	clock.Advance(600 * time.Millisecond)
	for i := range 3 {
		if r := try(fmt.Sprint("w2-", i)); r.status != http.StatusCreated {
			t.Fatalf("request %d of the second window: status %d", i, r.status)
		}
	}
	MustAPIError(t, try("w2-over"), http.StatusTooManyRequests, "429")
	// A quiet spell: windows keep their rhythm (the one at +5 s to +6 s).
	clock.Advance(4500 * time.Millisecond)
	for i := range 3 {
		try(fmt.Sprint("w6-", i))
	}
	MustAPIError(t, try("w6-over"), http.StatusTooManyRequests, "429")
	clock.Advance(500 * time.Millisecond)
	if r := try("w7-0"); r.status != http.StatusCreated {
		t.Errorf("first request of a new window: status %d", r.status)
	}
	if st := s.Stats(); st.Throttled != 3 || st.Created != int64(created) || created != 10 {
		t.Errorf("stats %+v, created %d; want 3 throttled, 10 created", st, created)
	}
}

func TestRateLimitChangedAtRunTime(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := MustStart(t, sandbox.Config{Now: clock.Now})
	put := func(body string) int {
		t.Helper()
		return s.MustDo(t, s.newRequest(t, http.MethodPut, "/_sandbox/faults", "", []byte(body))).status
	}
	for i := range 5 {
		if r := s.MustCreate(t, validBody(fmt.Sprint("free-", i))); r.status != http.StatusCreated {
			t.Fatalf("unlimited: status %d", r.status)
		}
	}
	if got := put(`{"rate_limit": 1, "burst": 2}`); got != http.StatusNoContent {
		t.Fatalf("PUT rate_limit: status %d", got)
	}
	if limit, burst := s.RateLimit(); limit != 1 || burst != 2 {
		t.Errorf("RateLimit() = %v, %d; want 1, 2", limit, burst)
	}
	for i := range 2 {
		if r := s.MustCreate(t, validBody(fmt.Sprint("limited-", i))); r.status != http.StatusCreated {
			t.Fatalf("within the new burst: status %d", r.status)
		}
	}
	MustAPIError(t, s.MustCreate(t, validBody("over")), http.StatusTooManyRequests, "429")

	// A PUT without rate_limit leaves the limit alone; a bad one is refused.
	if got := put(`{"fail_rate": 0}`); got != http.StatusNoContent {
		t.Fatalf("PUT faults: status %d", got)
	}
	for _, bad := range []string{`{"rate_limit": -1}`, `{"burst": 0}`} {
		if got := put(bad); got != http.StatusBadRequest {
			t.Errorf("PUT %s: status %d, want 400", bad, got)
		}
	}
	if limit, burst := s.RateLimit(); limit != 1 || burst != 2 {
		t.Errorf("after PUTs without rate_limit: %v, %d; want 1, 2", limit, burst)
	}
	MustAPIError(t, s.MustCreate(t, validBody("still-over")), http.StatusTooManyRequests, "429")
	// Zero lifts it.
	if got := put(`{"rate_limit": 0}`); got != http.StatusNoContent {
		t.Fatalf("PUT rate_limit 0: status %d", got)
	}
	if r := s.MustCreate(t, validBody("free-again")); r.status != http.StatusCreated {
		t.Errorf("after lifting the limit: status %d", r.status)
	}
}

func TestRateHeaders(t *testing.T) {
	tests := []struct {
		name  string
		cfg   sandbox.Config
		want  [][2]string // header, value after the first request
		after [][2]string // after the limit is spent
	}{
		{"ietf, fixed window", sandbox.Config{RateLimit: 2, RateWindow: 10 * time.Second, RateHeaders: sandbox.HeadersIETF},
			[][2]string{{"RateLimit-Policy", `"default";q=2;w=10`}, {"RateLimit", `"default";r=1;t=10`}},
			[][2]string{{"RateLimit", `"default";r=0;t=10`}}},
		{"x, fixed window", sandbox.Config{RateLimit: 2, RateWindow: 10 * time.Second, RateHeaders: sandbox.HeadersX},
			[][2]string{{"X-RateLimit-Limit", "2"}, {"X-RateLimit-Remaining", "1"}, {"X-RateLimit-Reset", "10"}},
			[][2]string{{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", "10"}}},
		{"ietf, token bucket", sandbox.Config{RateLimit: 5, Burst: 2, RateHeaders: sandbox.HeadersIETF},
			[][2]string{{"RateLimit-Policy", `"default";q=5;w=1`}, {"RateLimit", `"default";r=1;t=1`}},
			[][2]string{{"RateLimit", `"default";r=0;t=1`}}},
		{"none", sandbox.Config{RateLimit: 2, RateWindow: time.Second},
			[][2]string{{"RateLimit", ""}, {"RateLimit-Policy", ""}, {"X-RateLimit-Limit", ""}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			tt.cfg.Now = clock.Now
			s := MustStart(t, tt.cfg)
			check := func(r response, want [][2]string) {
				t.Helper()
				for _, h := range want {
					if got := r.header.Get(h[0]); got != h[1] {
						t.Errorf("%s = %q, want %q", h[0], got, h[1])
					}
				}
			}
			check(s.MustCreate(t, validBody("a")), tt.want)
			s.MustCreate(t, validBody("b"))
			r := s.MustCreate(t, validBody("c")) // refused: the 429 says so too
			if r.status != http.StatusTooManyRequests {
				t.Fatalf("third request: status %d, want 429", r.status)
			}
			check(r, tt.after)
		})
	}
}
