package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"
)

// TestStatusRunsWithoutSummary: a run that never finished (running, or
// killed) has no duration, exit code or counts, and says why.
func TestStatusRunsWithoutSummary(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	end := start.Add(95 * time.Second)
	code := 0
	sum, _ := json.Marshal(map[string]int{"created": 7, "exists": 1, "skipped": 2, "invalid": 0, "rejected": 0, "failed": 0})
	rep := statusReport{Checkpoint: "cp.db", Rows: 10, States: map[string]int{"created": 7, "exists": 1}, Runs: []statusRun{
		{ID: 2, Command: "run", Input: "b.csv", Started: end},
		{ID: 1, Command: "run", Input: "a.csv", Started: start, Finished: &end, ExitCode: &code, Summary: sum},
	}}
	var b bytes.Buffer
	writeStatusText(&b, &rep)
	for _, re := range []string{
		`(?m)^  #2 +\S+ +- +run +- +- +- +- +- +- +- +b.csv \(running, or killed: no summary\)$`,
		`(?m)^  #1 +\S+ +1m35s +run +0 +7 +1 +2 +0 +0 +0 +a.csv$`,
	} {
		if !regexp.MustCompile(re).MatchString(b.String()) {
			t.Errorf("status does not match %s:\n%s", re, b.String())
		}
	}
}
