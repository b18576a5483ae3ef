package checkpoint_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/p100/p100-importer/internal/checkpoint"
)

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
