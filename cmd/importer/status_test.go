package main_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestStatusTable: status prints the states and the last runs as tables,
// a run's outcome counts from its summary.
func TestStatusTable(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 4, strings.Replace(userRow(9), "user9@example.com", "", 1))
	mustRun(t, dir, keyEnv(), 1, "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL, "--progress", "none")
	mustRun(t, dir, keyEnv(), 1, "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL, "--progress", "none")

	r := mustRun(t, dir, nil, 0, "status", "--checkpoint", "cp.db")
	for _, re := range []string{
		`(?m)^  state +rows +meaning$`,
		`(?m)^  created +4  created in P100`,
		`(?m)^  invalid +1  refused here, never sent`,
		`(?m)^  id +started +duration +command +exit +created +exists +skipped +invalid +rejected +failed +input$`,
		// Newest first: the rerun skipped the 4 created rows.
		`(?m)^  #2 +\S+ +[0-9.]+s +run +1 +0 +0 +4 +1 +0 +0 +users.csv \(sha256 [0-9a-f]{12}\)$`,
		`(?m)^  #1 +\S+ +[0-9.]+s +run +1 +4 +0 +0 +1 +0 +0 +users.csv`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("status does not match %s:\n%s", re, r.stdout)
		}
	}
	if strings.Contains(r.stdout, `{"`) {
		t.Errorf("status prints JSON:\n%s", r.stdout)
	}
}

// TestStatusWithoutCheckpoint: a missing checkpoint is a usage error that
// says what to do, not an internal error.
func TestStatusWithoutCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{{"status"}, {"status", "--checkpoint", "nightly.db"}, {"status", "--json", "--checkpoint", "nightly.db"}} {
		r := runImporter(t, dir, nil, args...)
		name := "p100-import.db"
		if len(args) > 1 {
			name = "nightly.db"
		}
		want := "no checkpoint at " + name + ": run `importer run` first, or pass --checkpoint"
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "stat ") {
			t.Errorf("importer %v: exit %d, stdout %q; want exit 2 saying %q; stderr:\n%s", args, r.code, r.stdout, want, r.stderr)
		}
	}
}
