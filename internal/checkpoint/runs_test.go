package checkpoint_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/p100/p100-importer/internal/checkpoint"
)

func TestRunReportIsKeptWithTheRun(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	s := MustOpen(t, path)
	var ids []int64
	for _, cmd := range []string{"run", "reconcile", "run", "run"} {
		id, err := s.BeginRun(ctx, cmd, "users.csv")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := s.SetRunReport(ctx, ids[2], []byte(`{"version":"v1.2"}`)); err != nil {
		t.Fatal(err)
	}

	ro, err := checkpoint.Open(ctx, path, checkpoint.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	t.Run("read back, read-only", func(t *testing.T) {
		got, err := ro.RunReport(ctx, ids[2])
		if err != nil || string(got) != `{"version":"v1.2"}` {
			t.Errorf("RunReport = %q, %v; want what was set", got, err)
		}
	})
	t.Run("a run without a report, or no such run: nil", func(t *testing.T) {
		for _, id := range []int64{ids[3], 99} {
			if got, err := ro.RunReport(ctx, id); err != nil || got != nil {
				t.Errorf("RunReport(%d) = %q, %v; want nil, nil", id, got, err)
			}
		}
	})
	t.Run("runs of one command up to an id, newest first", func(t *testing.T) {
		runs, err := ro.RunsUpTo(ctx, "run", ids[2], 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[0].ID != ids[2] || runs[1].ID != ids[0] {
			t.Errorf("RunsUpTo(run, %d) = %+v; want runs %d and %d", ids[2], runs, ids[2], ids[0])
		}
		all, err := ro.RunsUpTo(ctx, "run", 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].ID != ids[3] {
			t.Errorf("RunsUpTo(run, 0, 2) = %+v; want the last 2 runs, %d first", all, ids[3])
		}
	})
}

func TestRunInputs(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "c.db"))
	first, err := s.BeginRun(ctx, "run", "b.csv, a.csv")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.BeginRun(ctx, "run", "c.csv")
	if err != nil {
		t.Fatal(err)
	}
	files := []checkpoint.RunInput{{Path: "b.csv", SHA256: "bb", Rows: 3}, {Path: "a.csv", Rows: 7}}
	if err := s.RecordRunInputs(ctx, first, files); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordRunInputs(ctx, second, []checkpoint.RunInput{{Path: "c.csv", SHA256: "cc", Rows: 1}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.RunInputs(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != files[0] || got[1] != files[1] {
		t.Errorf("run inputs %+v, want %+v in that order", got, files)
	}
	if got, err := s.RunInputs(ctx, second); err != nil || len(got) != 1 || got[0].Path != "c.csv" {
		t.Errorf("second run's inputs %+v (%v)", got, err)
	}
	if got, err := s.RunInputs(ctx, second+1); err != nil || len(got) != 0 {
		t.Errorf("a run without inputs: %+v (%v)", got, err)
	}
}
