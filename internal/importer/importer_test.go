package importer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
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

const header = "externalUserId,email,firstName,lastName,address,city,country,documentType,documentNumber,pesel,birthCountry,birthDate\n"

// validRow returns a valid row for id n.
func validRow(n int) string {
	return fmt.Sprintf("user-%05d,user%d@example.com,Jan,Kowalski,Adama Matuszczaka 51/4,Rzeszów,PL,PASSPORT,CEV%06d,,PL,1990-01-02\n", n, n, n)
}

func validRows(from, to int) string {
	var b strings.Builder
	for n := from; n < to; n++ {
		b.WriteString(validRow(n))
	}
	return b.String()
}

// env is one test's world: a sandbox behind real loopback HTTP and a
// checkpoint in a temporary directory.
type env struct {
	t       *testing.T
	sandbox *sandbox.Server
	server  *httptest.Server
	db      string
	key     p100.APIKey
}

func newEnv(t *testing.T, cfg sandbox.Config, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	sb := sandbox.New(cfg)
	var h http.Handler = sb
	if wrap != nil {
		h = wrap(sb)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, sandbox: sb, server: srv, db: filepath.Join(t.TempDir(), "cp.db"), key: sandbox.DefaultAPIKey}
}

type runOpts struct {
	workers     int
	rate        float64
	maxAttempts int
	required    []string
	lookup      bool
}

// run imports input against the env and returns the summary and the rows'
// results.
func (e *env) run(ctx context.Context, input string, o runOpts) (importer.Summary, []*importer.RowResult, error) {
	e.t.Helper()
	client, err := p100.New(p100.Config{BaseURL: e.server.URL, APIKey: e.key, Timeout: 5 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	store, err := checkpoint.Open(context.Background(), e.db, checkpoint.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer store.Close()
	src, err := ingest.NewReader(strings.NewReader(input), ingest.Options{Required: o.required})
	if err != nil {
		e.t.Fatal(err)
	}
	var mu sync.Mutex
	var results []*importer.RowResult
	imp := importer.New(importer.Config{
		Client:         client,
		Ledger:         store,
		Limiter:        ratelimit.New(ratelimit.Config{Rate: o.rate, Burst: 1}),
		RunID:          1,
		Workers:        max(o.workers, 1),
		MaxAttempts:    max(o.maxAttempts, 1),
		BackoffBase:    time.Millisecond,
		BackoffMax:     10 * time.Millisecond,
		LookupExisting: o.lookup,
		OnRow: func(r *importer.RowResult) {
			mu.Lock()
			defer mu.Unlock()
			results = append(results, r)
		},
	})
	sum, err := imp.Run(ctx, src)
	return sum, results, err
}

func checkBalanced(t *testing.T, sum importer.Summary, wantRows int) {
	t.Helper()
	if !sum.Balanced() {
		t.Errorf("counts do not add up: %+v", sum)
	}
	if sum.Rows != wantRows {
		t.Errorf("rows = %d, want %d (every row of the file)", sum.Rows, wantRows)
	}
}

func TestNoRowIsLost(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, nil)
	input := header + validRows(0, 30) +
		"bad-1,not-an-email,Jan,K,A,C,PL,PASSPORT,X1,,,\n" + // invalid email
		"a,b,c\n" + // ragged
		validRow(3) + // duplicate of line 5
		",x@example.com,Jan,K,A,C,PL,PASSPORT,X1,,,\n" + // no id
		validRows(30, 40)
	sum, results, err := e.run(context.Background(), input, runOpts{workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkBalanced(t, sum, 44)
	if sum.Created != 40 || sum.Invalid != 4 || len(results) != 44 {
		t.Errorf("summary = %+v, results %d", sum, len(results))
	}
	if got := e.sandbox.Stats().Created; got != 40 {
		t.Errorf("sandbox created %d users, want 40", got)
	}
	lines := map[int]bool{}
	for _, r := range results {
		if lines[r.Record.Line] {
			t.Errorf("line %d has two outcomes", r.Record.Line)
		}
		lines[r.Record.Line] = true
	}
}

func TestRerunSendsNothing(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, nil)
	input := header + validRows(0, 50)
	if _, _, err := e.run(context.Background(), input, runOpts{workers: 4}); err != nil {
		t.Fatal(err)
	}
	before := e.sandbox.Stats().Requests
	sum, _, err := e.run(context.Background(), input, runOpts{workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if after := e.sandbox.Stats().Requests; after != before {
		t.Errorf("the rerun sent %d requests, want 0", after-before)
	}
	checkBalanced(t, sum, 50)
	if sum.Skipped != 50 || sum.Requests != 0 {
		t.Errorf("rerun summary = %+v", sum)
	}

	t.Run("new rows and changed rows", func(t *testing.T) {
		changed := strings.Replace(validRow(7), "Rzeszów", "Krosno", 1)
		input := header + validRows(0, 7) + changed + validRows(8, 60)
		sum, results, err := e.run(context.Background(), input, runOpts{workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		checkBalanced(t, sum, 60)
		if sum.Created != 10 || sum.Skipped != 50 || sum.Changed != 1 {
			t.Errorf("summary = %+v", sum)
		}
		for _, r := range results {
			if r.Changed && r.Record.User.ExternalUserID != "user-00007" {
				t.Errorf("%s flagged changed", r.Record.User.ExternalUserID)
			}
		}
	})
}

func TestOutcomesByAnswer(t *testing.T) {
	t.Run("P411 is exists, with the userId recovered", func(t *testing.T) {
		e := newEnv(t, sandbox.Config{}, nil)
		// Another tool created user-00001 before us.
		if _, _, err := e.run(context.Background(), header+validRow(1), runOpts{}); err != nil {
			t.Fatal(err)
		}
		e.db = filepath.Join(t.TempDir(), "fresh.db") // a checkpoint that never saw it
		sum, results, err := e.run(context.Background(), header+validRows(0, 3), runOpts{lookup: true})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Exists != 1 || sum.Created != 2 || sum.Failed != 0 {
			t.Fatalf("summary = %+v", sum)
		}
		for _, r := range results {
			if r.Outcome == importer.Exists && (r.UserID == "" || !r.Recovered) {
				t.Errorf("exists without its userId: %+v", r)
			}
		}
	})

	t.Run("P403 is rejected and not retried", func(t *testing.T) {
		e := newEnv(t, sandbox.Config{}, nil)
		// Locally city is optional; the sandbox requires it.
		required := []string{"externalUserId", "email", "firstName", "lastName", "address", "country", "documentType", "documentNumber"}
		input := header + "u-1,jan@example.com,Jan,K,A,,PL,PASSPORT,X1,,,\n"
		sum, results, err := e.run(context.Background(), input, runOpts{required: required, maxAttempts: 5})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Rejected != 1 || sum.Requests != 1 || e.sandbox.Stats().Requests != 1 {
			t.Fatalf("summary = %+v, sandbox %+v", sum, e.sandbox.Stats())
		}
		if r := results[0]; r.Code != "P403" || !strings.Contains(r.Message, "city") {
			t.Errorf("result = %+v", r)
		}
		// Unchanged, it is not sent again on the next run.
		before := e.sandbox.Stats().Requests
		sum, _, err = e.run(context.Background(), input, runOpts{required: required})
		if err != nil || sum.Rejected != 1 || e.sandbox.Stats().Requests != before {
			t.Errorf("rerun of a rejected row: %+v, err %v, sent %d", sum, err, e.sandbox.Stats().Requests-before)
		}
	})

	t.Run("P501 is retried and then succeeds", func(t *testing.T) {
		var failed sync.Map
		e := newEnv(t, sandbox.Config{}, failFirstAttempt(&failed))
		sum, results, err := e.run(context.Background(), header+validRows(0, 10), runOpts{workers: 3, maxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Created != 10 || sum.Retries != 10 || sum.Requests != 20 {
			t.Fatalf("summary = %+v", sum)
		}
		for _, r := range results {
			if r.Attempts != 2 {
				t.Errorf("%s took %d attempts, want 2", r.Record.User.ExternalUserID, r.Attempts)
			}
		}
	})

	t.Run("transient errors outlasting the retries are failed", func(t *testing.T) {
		e := newEnv(t, sandbox.Config{FailRate: 1}, nil)
		sum, results, err := e.run(context.Background(), header+validRows(0, 2), runOpts{maxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Failed != 2 || sum.Requests != 6 {
			t.Fatalf("summary = %+v", sum)
		}
		if r := results[0]; r.Code != "P501" || !strings.Contains(r.Message, "gave up after 3 attempt(s)") {
			t.Errorf("result = %+v", r)
		}
		// Failed rows are sent again on the next run.
		e.sandbox.SetFaults(sandbox.Faults{})
		sum, _, err = e.run(context.Background(), header+validRows(0, 2), runOpts{})
		if err != nil || sum.Created != 2 {
			t.Errorf("rerun: %+v, %v", sum, err)
		}
	})
}

// failFirstAttempt answers P501 to the first create of each externalUserId.
func failFirstAttempt(seen *sync.Map) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				body := new(strings.Builder)
				buf := make([]byte, 4096)
				for {
					n, err := r.Body.Read(buf)
					body.Write(buf[:n])
					if err != nil {
						break
					}
				}
				id := body.String()
				if _, dup := seen.LoadOrStore(id, true); !dup {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprint(w, `{"errorCode":"P501","errorName":"service-unavailable","errorMessage":"Service temporarily unavailable"}`)
					return
				}
				r.Body = readCloser{strings.NewReader(id)}
			}
			next.ServeHTTP(w, r)
		})
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func TestUnauthorizedStopsAtOnce(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, nil)
	e.key = "wrong-key"
	const workers = 4
	sum, _, err := e.run(context.Background(), header+validRows(0, 200), runOpts{workers: workers})
	var fatal *importer.FatalAPIError
	if !errors.As(err, &fatal) {
		t.Fatalf("err = %v, want FatalAPIError", err)
	}
	if got := e.sandbox.Stats().Requests; got > workers {
		t.Errorf("%d requests reached the API after a 401, want at most %d", got, workers)
	}
	if !sum.Balanced() || sum.Created != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("the error shows the key: %v", err)
	}
}

func TestLimiterHolds(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, nil)
	start := time.Now()
	sum, _, err := e.run(context.Background(), header+validRows(0, 200), runOpts{workers: 8, rate: 50})
	if err != nil {
		t.Fatal(err)
	}
	// 200 requests at 50/s with a burst of 1 cannot take less than 199/50 s.
	if d := time.Since(start); d < 3500*time.Millisecond {
		t.Errorf("200 rows at --rate 50 took %v, want at least 3.5s", d)
	}
	if sum.Created != 200 {
		t.Errorf("summary = %+v", sum)
	}
}

func TestGracefulStop(t *testing.T) {
	e := newEnv(t, sandbox.Config{Latency: 20 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int64
	client, _ := p100.New(p100.Config{BaseURL: e.server.URL, APIKey: e.key})
	store, err := checkpoint.Open(context.Background(), e.db, checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, _ := ingest.NewReader(strings.NewReader(header+validRows(0, 500)), ingest.Options{})
	imp := importer.New(importer.Config{
		Client: client, Ledger: store, Limiter: ratelimit.New(ratelimit.Config{Rate: 200, Burst: 1}),
		Workers: 4, MaxAttempts: 3,
		OnRow: func(*importer.RowResult) {
			if done.Add(1) == 50 {
				cancel()
			}
		},
	})
	sum, err := imp.Run(ctx, src)
	counts, cerr := store.Count(context.Background())
	store.Close()
	if !errors.Is(err, importer.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	// Requests already sent were drained and recorded; rows marked but
	// never sent had their marks undone: nothing is left in flight.
	if cerr != nil || counts.ByState[checkpoint.InFlight] != 0 {
		t.Errorf("after a graceful stop: %+v, %v", counts, cerr)
	}
	if !sum.Balanced() || sum.Rows >= 500 {
		t.Fatalf("summary = %+v", sum)
	}
	// Every user the sandbox created is recorded as created.
	if int64(sum.Created) != e.sandbox.Stats().Created {
		t.Errorf("created %d, sandbox has %d", sum.Created, e.sandbox.Stats().Created)
	}
	// A rerun completes the file without creating anybody twice.
	sum2, _, err := e.run(context.Background(), header+validRows(0, 500), runOpts{workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Created+sum2.Skipped != 500 || e.sandbox.Stats().Conflicts != 0 || e.sandbox.Stats().Users != 500 {
		t.Errorf("rerun = %+v, sandbox %+v", sum2, e.sandbox.Stats())
	}
}

func TestCircuitBreakerStopsDispatching(t *testing.T) {
	e := newEnv(t, sandbox.Config{FailRate: 1}, nil)
	const rows = 2000
	sum, _, err := e.run(context.Background(), header+validRows(0, rows), runOpts{workers: 4, maxAttempts: 2})
	if !errors.Is(err, importer.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if !sum.Balanced() {
		t.Errorf("summary = %+v", sum)
	}
	// It stopped early: most of the file was never tried.
	if sum.Rows > 100 || e.sandbox.Stats().Requests > 100 {
		t.Errorf("the breaker let %d rows and %d requests through", sum.Rows, e.sandbox.Stats().Requests)
	}
	// Rows never tried are not in the ledger; a rerun against a healthy
	// API imports the whole file.
	e.sandbox.SetFaults(sandbox.Faults{})
	sum, _, err = e.run(context.Background(), header+validRows(0, rows), runOpts{workers: 4})
	if err != nil || sum.Created != rows {
		t.Errorf("rerun = %+v, %v", sum, err)
	}
}

func TestErrorBudget(t *testing.T) {
	e := newEnv(t, sandbox.Config{}, nil)
	var b strings.Builder
	b.WriteString(header)
	for n := range 300 {
		b.WriteString(validRow(n))
		if n%2 == 0 {
			fmt.Fprintf(&b, "bad-%d,not-an-email,Jan,K,A,C,PL,PASSPORT,X1,,,\n", n)
		}
	}
	client, _ := p100.New(p100.Config{BaseURL: e.server.URL, APIKey: e.key})
	store, err := checkpoint.Open(context.Background(), e.db, checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	src, _ := ingest.NewReader(strings.NewReader(b.String()), ingest.Options{})
	imp := importer.New(importer.Config{Client: client, Ledger: store, Limiter: ratelimit.New(ratelimit.Config{}),
		Workers: 2, MaxErrors: 10})
	sum, err := imp.Run(context.Background(), src)
	if !errors.Is(err, importer.ErrErrorBudget) {
		t.Fatalf("err = %v, want ErrErrorBudget", err)
	}
	if !sum.Balanced() || sum.Invalid < 10 || sum.Rows >= 450 {
		t.Errorf("summary = %+v", sum)
	}
}
