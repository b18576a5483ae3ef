package importer_test

import (
	"context"
	"errors"
	"hash/fnv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/ratelimit"
)

// memLedger is an in-memory Ledger for the accounting fuzz test.
type memLedger struct {
	mu   sync.Mutex
	rows map[string]checkpoint.Known
}

func (m *memLedger) Lookup(_ context.Context, ids []string) (map[string]checkpoint.Known, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]checkpoint.Known{}
	for _, id := range ids {
		if k, ok := m.rows[id]; ok {
			out[id] = k
		}
	}
	return out, nil
}

func (m *memLedger) Write(_ context.Context, _ int64, marks []checkpoint.Mark, outs []checkpoint.Outcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mk := range marks {
		m.rows[mk.ExternalUserID] = checkpoint.Known{State: checkpoint.InFlight, ContentHash: mk.ContentHash}
	}
	for _, o := range outs {
		if k, ok := m.rows[o.ExternalUserID]; ok && k.State.Succeeded() && !o.State.Succeeded() {
			continue
		}
		m.rows[o.ExternalUserID] = checkpoint.Known{State: o.State, ContentHash: o.ContentHash, ErrorCode: o.ErrorCode}
	}
	return nil
}

func (m *memLedger) Unmark(_ context.Context, rows []checkpoint.Release) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rows {
		if r.Prev == nil {
			delete(m.rows, r.ExternalUserID)
		} else {
			m.rows[r.ExternalUserID] = *r.Prev
		}
	}
	return nil
}

func (m *memLedger) SetChanged(context.Context, map[string]bool) error { return nil }

// diceClient answers by a hash of the externalUserId: created, P411, P403,
// P501 (transient) or a network error.
type diceClient struct{}

func (diceClient) CreateUser(_ context.Context, r *p100.CreateUserRequest) (*p100.User, error) {
	h := fnv.New32a()
	h.Write([]byte(r.ExternalUserID))
	switch h.Sum32() % 6 {
	case 0:
		return nil, &p100.Error{Class: p100.Conflict, Status: 400, Code: "P411"}
	case 1:
		return nil, &p100.Error{Class: p100.Permanent, Status: 400, Code: "P403", Message: "bad"}
	case 2:
		return nil, &p100.Error{Class: p100.Transient, Status: 400, Code: "P501"}
	case 3:
		return nil, errors.New("connection reset")
	}
	return &p100.User{UserID: "p-" + r.ExternalUserID}, nil
}

func (diceClient) GetUser(_ context.Context, id string) (*p100.User, error) {
	return &p100.User{UserID: "p-" + id}, nil
}

// FuzzAccounting: for any input, every row read ends in exactly one
// outcome, the counts add up, and a second run over the same input and
// ledger accounts for the same rows again.
func FuzzAccounting(f *testing.F) {
	f.Add(validRows(0, 20))
	f.Add(validRows(0, 5) + "a,b\n" + validRow(2) + `x,"never closed` + "\n" + validRows(5, 9))
	f.Add(",,,,,,,,,,,\n\n\r\n" + validRow(1) + validRow(1))
	f.Fuzz(func(t *testing.T, body string) {
		ledger := &memLedger{rows: map[string]checkpoint.Known{}}
		for run := range 2 {
			src, err := ingest.NewReader(strings.NewReader(header+body), ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			lines := map[int]int{}
			var mu sync.Mutex
			imp := importer.New(importer.Config{
				Client: diceClient{}, Ledger: ledger, Limiter: ratelimit.New(ratelimit.Config{}),
				Workers: 3, MaxAttempts: 2, BackoffBase: time.Microsecond, BackoffMax: time.Microsecond,
				Breaker: importer.BreakerConfig{Consecutive: 1 << 30, Window: 1 << 20},
				OnRow: func(r *importer.RowResult) {
					mu.Lock()
					lines[r.Record.Line]++
					mu.Unlock()
				},
			})
			sum, err := imp.Run(context.Background(), src)
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
			if !sum.Balanced() || sum.Rows != src.Rows() {
				t.Fatalf("run %d: rows read %d, summary %+v", run, src.Rows(), sum)
			}
			for line, n := range lines {
				if n != 1 {
					t.Fatalf("run %d: line %d has %d outcomes", run, line, n)
				}
			}
			if len(lines) != sum.Rows {
				t.Fatalf("run %d: %d lines with outcomes, %d rows", run, len(lines), sum.Rows)
			}
		}
	})
}
