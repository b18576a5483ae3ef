package importer_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/ratelimit"
	"github.com/p100/p100-importer/internal/sandbox"
)

// TestOffScriptAnswers: only P100's own answers decide a row. An answer P100
// does not give stops the run with an OffScriptError and records nothing
// for the row (a rerun against the real API sends it); a 2xx is a created
// user, looked up when its body does not say who, never sent again.
func TestOffScriptAnswers(t *testing.T) {
	t.Parallel()
	const rows = 30
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter, r *http.Request)
		stop    bool // the run stops off-script
		created int  // rows created by the first run
	}{
		{"404: a wrong base URL", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, true, 0},
		{"405", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(405) }, true, 0},
		{"302 to a login page", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/login", http.StatusFound) }, true, 0},
		{"200 HTML (a captive portal)", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>wifi</html>") }, true, 0},
		{"400 without a body", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(400) }, true, 0},
		{"400 HTML (a proxy)", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, "<html><h1>400 Bad Request</h1>nginx</html>")
		}, true, 0},
		// A created user whose answer does not say who: created, looked up.
		{"201 without userId", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.WriteHeader(201)
				io.WriteString(w, `{"balances":[]}`)
				return
			}
			io.WriteString(w, `{"userId":"looked-up","balances":[]}`)
		}, false, rows},
		{"201 with broken JSON", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(201)
			io.WriteString(w, `{"userId": "u-`)
		}, false, rows},
		{"200 with a userId", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"userId":"u-200","balances":[]}`)
		}, false, rows},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var posts atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					posts.Add(1)
				}
				tt.answer(w, r)
			}))
			t.Cleanup(srv.Close)
			e := newEnv(t, sandbox.Config{}, nil) // the real API, for the rerun
			client, _ := p100.New(p100.Config{BaseURL: srv.URL, APIKey: e.key, Timeout: 5 * time.Second})
			store, err := checkpoint.Open(context.Background(), e.db, checkpoint.Options{})
			if err != nil {
				t.Fatal(err)
			}
			src, _ := ingest.NewReader(strings.NewReader(header+validRows(0, rows)), ingest.Options{})
			imp := importer.New(importer.Config{Client: client, Ledger: store, Limiter: ratelimit.New(ratelimit.Config{}),
				Workers: 4, MaxAttempts: 3, LookupExisting: true, BackoffBase: time.Millisecond})
			sum, err := imp.Run(context.Background(), src)
			counts, _ := store.Count(context.Background())
			store.Close()

			var off *importer.OffScriptError
			if tt.stop {
				if !errors.As(err, &off) || !strings.Contains(err.Error(), "--base-url") {
					t.Fatalf("err = %v, want an OffScriptError naming --base-url", err)
				}
				// Nothing was decided from those answers: no row rejected or
				// failed, none left in flight, at most one request a worker.
				if sum.Rejected+sum.Failed != 0 || counts.ByState[checkpoint.Rejected]+counts.ByState[checkpoint.Failed]+counts.ByState[checkpoint.InFlight] != 0 {
					t.Errorf("summary %+v, checkpoint %+v: rows recorded from off-script answers", sum, counts)
				}
				if n := posts.Load(); n > 4 {
					t.Errorf("%d requests after the first off-script answer, want at most one a worker", n)
				}
			} else {
				if err != nil || sum.Created != tt.created {
					t.Fatalf("err = %v, summary %+v; want %d created", err, sum, tt.created)
				}
				if n := posts.Load(); n != rows {
					t.Errorf("%d creates for %d rows: a created user was sent again", n, rows)
				}
			}

			// A rerun against the real API finishes the file, nobody twice.
			sum2, _, err := e.run(context.Background(), header+validRows(0, rows), runOpts{workers: 4})
			if err != nil {
				t.Fatal(err)
			}
			if tt.stop && (sum2.Created != rows || e.sandbox.Stats().Created != rows) {
				t.Errorf("rerun: %+v, sandbox %+v", sum2, e.sandbox.Stats())
			}
			if !tt.stop && (sum2.Skipped != rows || e.sandbox.Stats().Requests != 0) {
				t.Errorf("rerun sent rows already created: %+v, sandbox %+v", sum2, e.sandbox.Stats())
			}
		})
	}
}

// TestPausesAreToldAndBounded: a pause the API asks for is told at once
// with its end; one longer than MaxPause stops the run (a PauseError) at
// once instead of waiting silently, a 429's and a 503's alike.
func TestPausesAreToldAndBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
		stop       bool
	}{
		{"429 for an hour", 429, "3600", true},
		{"503 for a day", 503, "86400", true},
		{"429 for a second", 429, "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 { // the first request is asked to wait
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(tt.status)
					return
				}
				w.WriteHeader(201)
				io.WriteString(w, `{"userId":"u","balances":[]}`)
			}))
			t.Cleanup(srv.Close)
			e := newEnv(t, sandbox.Config{}, nil)
			client, _ := p100.New(p100.Config{BaseURL: srv.URL, APIKey: e.key, Timeout: 5 * time.Second})
			store, err := checkpoint.Open(context.Background(), e.db, checkpoint.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			src, _ := ingest.NewReader(strings.NewReader(header+validRows(0, 10)), ingest.Options{})
			var told atomic.Int64
			var until atomic.Int64
			imp := importer.New(importer.Config{Client: client, Ledger: store, Limiter: ratelimit.New(ratelimit.Config{}),
				Workers: 2, MaxAttempts: 5, BackoffBase: time.Millisecond, MaxPause: time.Minute,
				OnPause: func(u time.Time, status int) {
					told.Add(1)
					until.Store(u.Unix())
				}})
			start := time.Now()
			sum, err := imp.Run(context.Background(), src)
			took := time.Since(start)
			var pause *importer.PauseError
			if tt.stop {
				if !errors.As(err, &pause) || pause.Status != tt.status || !strings.Contains(err.Error(), "--max-pause") {
					t.Fatalf("err = %v, want a PauseError", err)
				}
				if took > 5*time.Second {
					t.Errorf("the run took %s to stop", took)
				}
				if told.Load() != 0 {
					t.Errorf("a pause over the limit was told as a wait")
				}
				return
			}
			if err != nil || sum.Created != 10 {
				t.Fatalf("err = %v, summary %+v", err, sum)
			}
			if n := told.Load(); n != 1 {
				t.Errorf("the pause was told %d times, want once", n)
			}
			if d := time.Until(time.Unix(until.Load(), 0)); d > time.Second || d < -5*time.Second {
				t.Errorf("the pause ends %s from now, want about now (it lasted a second)", d)
			}
		})
	}
}
