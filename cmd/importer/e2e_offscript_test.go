package main_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWrongBaseURLDoesNotPoisonTheCheckpoint: with --base-url pointing at
// the sandbox's /api (every answer a 404), the run stops at once (exit 3)
// saying what is likely wrong, records no row, and a rerun with the right
// URL sends every row.
func TestWrongBaseURLDoesNotPoisonTheCheckpoint(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 200)
	args := func(base string) []string {
		return []string{"run", "--input", "users.csv", "--base-url", base, "--rate", "0", "--progress", "none",
			"--summary", "summary.json", "--report", "report.csv"}
	}
	r := runImporter(t, dir, keyEnv(), args(sb.URL+"/api")...)
	if r.code != 3 || !strings.Contains(r.stderr, "answered like something else") || !strings.Contains(r.stderr, "--base-url") {
		t.Fatalf("exit %d, want 3 naming --base-url; stderr:\n%s", r.code, r.stderr)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Rows != 0 || s.Rejected != 0 || s.Failed != 0 || s.Requests > 16 {
		t.Errorf("summary %+v: want no row recorded, a handful of requests", s)
	}
	st := runImporter(t, dir, nil, "status", "--json")
	if !strings.Contains(st.stdout, `"rows": 0,`) {
		t.Errorf("status after the wrong URL:\n%s", st.stdout)
	}

	r = runImporter(t, dir, keyEnv(), args(sb.URL)...)
	if r.code != 0 {
		t.Fatalf("rerun: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if s := readSummary(t, filepath.Join(dir, "summary.json")); s.Created != 200 || sb.Stats(t).Created != 200 {
		t.Errorf("rerun: %+v; sandbox %+v", s, sb.Stats(t))
	}
}
