package checkpoint_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/p100/p100-importer/internal/checkpoint"
)

// BenchmarkBatchCommit measures the checkpoint's cost per imported row, one
// op per row: the row marked in flight and then recorded as created, each
// in a transaction of batch rows (WAL, synchronous NORMAL, as Open sets
// it). batch=500 is the batching the issue asks for; the small batches show
// what batching is worth (before group commit the importer committed about
// 8 marks or 4-5 outcomes per transaction in the throughput case).
func BenchmarkBatchCommit(b *testing.B) {
	for _, batch := range []int{500, 64, 8, 4, 1} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, runID := mustBenchStore(b)
			ctx := context.Background()
			marks := make([]checkpoint.Mark, batch)
			outcomes := make([]checkpoint.Outcome, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				for i := range n {
					marks[i], outcomes[i] = benchRow(done + i)
				}
				if err := s.Write(ctx, runID, marks[:n], nil); err != nil {
					b.Fatal(err)
				}
				if err := s.Write(ctx, runID, nil, outcomes[:n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite measures the same per-row cost the way the importer's
// single writer commits: one Write per batch carrying the marks of the
// next batch and the outcomes of the previous one.
func BenchmarkWrite(b *testing.B) {
	for _, batch := range []int{500, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, runID := mustBenchStore(b)
			ctx := context.Background()
			marks := make([]checkpoint.Mark, batch)
			outcomes := make([]checkpoint.Outcome, 0, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				for i := range n {
					marks[i], _ = benchRow(done + i)
				}
				if err := s.Write(ctx, runID, marks[:n], outcomes); err != nil {
					b.Fatal(err)
				}
				outcomes = outcomes[:0]
				for i := range n {
					_, o := benchRow(done + i)
					outcomes = append(outcomes, o)
				}
			}
			if err := s.Write(ctx, runID, nil, outcomes); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// mustBenchStore opens a checkpoint in a temporary directory and begins a
// run.
func mustBenchStore(b *testing.B) (*checkpoint.Store, int64) {
	b.Helper()
	s := MustOpen(b, filepath.Join(b.TempDir(), "cp.db"))
	runID, err := s.BeginRun(context.Background(), "run", "bench.csv")
	if err != nil {
		b.Fatal(err)
	}
	return s, runID
}

var (
	benchHash     = []byte("0123456789abcdef")
	benchBalances = map[string]string{
		"eth": "705cbea0-c541-4581-b5b6-9533e1d524bc", "usdc": "ec34fdce-5ca8-49d1-a09e-7b7640946b1b",
		"eur": "4e6d1e88-3427-4881-a8f9-7fde399d2932", "ltc": "184d098d-9096-4bba-84a9-d65eb1aa4861",
		"btc": "79cd01af-fc3f-443d-a26a-02edd24d080c", "doge": "8815cb0e-2437-474b-8d58-ca71d4d9285c",
		"pol": "90e11490-1510-4603-a914-573c8315fb0f",
	}
)

// benchRow returns row i's in-flight mark and its "created" outcome, as
// the throughput benchmark's rows produce them (seven balances).
func benchRow(i int) (checkpoint.Mark, checkpoint.Outcome) {
	id := fmt.Sprintf("bench-%09d", i)
	return checkpoint.Mark{ExternalUserID: id, ContentHash: benchHash, Line: i + 2},
		checkpoint.Outcome{ExternalUserID: id, State: checkpoint.Created, ContentHash: benchHash,
			UserID: "751388be-7f2e-405b-b95f-3946c5a90a03", Balances: benchBalances, Line: i + 2, Attempts: 1}
}
