package htmlreport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
)

// ErrNoRun means the checkpoint holds no finished import run to report on.
var ErrNoRun = errors.New("no such import run")

// Load gathers the report of import run id (the last one when id <= 0)
// from the checkpoint: its summary, what the run kept for the report, and
// the runs before it. meaning says what an exit code means.
func Load(ctx context.Context, store *checkpoint.Store, id int64, meaning func(int) string) (*Report, error) {
	runs, err := store.RunsUpTo(ctx, "run", id, HistoryRuns)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 || (id > 0 && runs[0].ID != id) {
		if id > 0 {
			return nil, fmt.Errorf("%w: run #%d (see importer status for the runs this checkpoint holds)", ErrNoRun, id)
		}
		return nil, fmt.Errorf("%w: the checkpoint holds no import run yet", ErrNoRun)
	}
	cur := runs[0]
	if len(cur.Summary) == 0 {
		return nil, fmt.Errorf("%w: run #%d has no summary: it is still running, or it was killed", ErrNoRun, cur.ID)
	}
	r := &Report{}
	if err := json.Unmarshal(cur.Summary, &r.Summary); err != nil {
		return nil, fmt.Errorf("run #%d: read its summary: %w", cur.ID, err)
	}
	r.Summary.RunID = cur.ID
	raw, err := store.RunReport(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &r.Record); err != nil {
			return nil, fmt.Errorf("run #%d: read its report data: %w", cur.ID, err)
		}
	}
	if meaning != nil {
		r.ExitMeaning = meaning(r.Summary.ExitCode)
	}
	for _, run := range runs {
		h := Run{ID: run.ID, Started: run.Started, Finished: run.Finished}
		if len(run.Summary) > 0 {
			var s importer.Summary
			if json.Unmarshal(run.Summary, &s) == nil {
				h.Summary = &s
			}
		}
		r.History = append(r.History, h)
	}
	return r, nil
}
