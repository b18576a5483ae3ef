package importer_test

import (
	"context"
	"errors"
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

// failingLedger is a real checkpoint whose chosen operation starts failing
// after a number of calls: a disk that fills up, a file that is removed.
type failingLedger struct {
	*checkpoint.Store
	op    string // "Lookup", "Write", "SetChanged", "Unmark"
	after int64  // calls that succeed first
	calls atomic.Int64
}

var errDiskFull = errors.New("disk full (test)")

func (l *failingLedger) fail(op string) error {
	if op == l.op && l.calls.Add(1) > l.after {
		return errDiskFull
	}
	return nil
}

func (l *failingLedger) Lookup(ctx context.Context, ids []string) (map[string]checkpoint.Known, error) {
	if err := l.fail("Lookup"); err != nil {
		return nil, err
	}
	return l.Store.Lookup(ctx, ids)
}

func (l *failingLedger) Write(ctx context.Context, runID int64, marks []checkpoint.Mark, outcomes []checkpoint.Outcome) error {
	if err := l.fail("Write"); err != nil {
		return err
	}
	return l.Store.Write(ctx, runID, marks, outcomes)
}

func (l *failingLedger) SetChanged(ctx context.Context, changed map[string]bool) error {
	if err := l.fail("SetChanged"); err != nil {
		return err
	}
	return l.Store.SetChanged(ctx, changed)
}

func (l *failingLedger) Unmark(ctx context.Context, rows []checkpoint.Release) error {
	if err := l.fail("Unmark"); err != nil {
		return err
	}
	return l.Store.Unmark(ctx, rows)
}

// TestLedgerFailsMidRun: whichever ledger operation fails, the run ends
// promptly with a CheckpointError (exit 5), reports only rows whose outcome
// was committed, and a rerun on a working ledger finishes the file without
// creating anybody twice.
func TestLedgerFailsMidRun(t *testing.T) {
	const rows = 2000
	tests := []struct {
		name  string
		op    string
		after int64
		stop  bool // cancel the run after a few rows, so rows are left to unmark
		rerun bool // first import everything, then change some rows (for SetChanged)
	}{
		{name: "lookup", op: "Lookup", after: 2},
		{name: "write of marks and outcomes", op: "Write", after: 5},
		{name: "the first write", op: "Write", after: 0},
		{name: "changed flags", op: "SetChanged", after: 0, rerun: true},
		{name: "unmark after a stop", op: "Unmark", after: 0, stop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Config{Latency: time.Millisecond}, nil)
			input := header + validRows(0, rows)
			if tt.rerun {
				if _, _, err := e.run(context.Background(), input, runOpts{workers: 4}); err != nil {
					t.Fatal(err)
				}
				input = header + strings.ReplaceAll(validRows(0, rows), "Rzeszów", "Krosno")
			}
			store, err := checkpoint.Open(context.Background(), e.db, checkpoint.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ledger := &failingLedger{Store: store, op: tt.op, after: tt.after}
			client, _ := p100.New(p100.Config{BaseURL: e.server.URL, APIKey: e.key})
			src, _ := ingest.NewReader(strings.NewReader(input), ingest.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			reported := 0
			imp := importer.New(importer.Config{
				Client: client, Ledger: ledger, Limiter: ratelimit.New(ratelimit.Config{}),
				Workers: 4, MaxAttempts: 2, RunID: 2,
				OnRow: func(*importer.RowResult) {
					mu.Lock()
					defer mu.Unlock()
					if reported++; tt.stop && reported == 20 {
						cancel()
					}
				},
			})
			done := make(chan struct{})
			var sum importer.Summary
			go func() {
				defer close(done)
				sum, err = imp.Run(ctx, src)
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not return: a stage waits for a recorder that is gone")
			}
			var cpErr *importer.CheckpointError
			if !errors.As(err, &cpErr) || !errors.Is(err, errDiskFull) {
				t.Fatalf("err = %v, want a CheckpointError", err)
			}
			if !sum.Balanced() || sum.Rows != reported {
				t.Errorf("summary %+v: %d rows reported to OnRow", sum, reported)
			}
			if sum.Rows >= rows {
				t.Errorf("the run went on after the ledger failed: %d rows", sum.Rows)
			}
			store.Close()

			// Nothing is lost: the whole file is done after a rerun.
			before := e.sandbox.Stats()
			sum2, _, err := e.run(context.Background(), input, runOpts{workers: 4, lookup: true})
			if err != nil {
				t.Fatal(err)
			}
			after := e.sandbox.Stats()
			if after.Users != rows || sum2.Rows != rows {
				t.Errorf("after the rerun: sandbox %+v, rerun %+v", after, sum2)
			}
			// Only rows whose outcome was lost are sent again (P411, then
			// recovered); nobody is created twice.
			if after.Created-before.Created+before.Users != rows {
				t.Errorf("created %d more, had %d users: want %d in all", after.Created-before.Created, before.Users, rows)
			}
		})
	}
}
