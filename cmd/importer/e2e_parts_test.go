package main_test

// Runs of a part (--limit) and of several files (--input repeated, a
// directory, a glob), against the sandbox binary.

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sandboxIDs returns the externalUserIds the sandbox holds, sorted.
func sandboxIDs(t *testing.T, sb *sandboxProc) []string {
	t.Helper()
	var ids []string
	for id := range sb.Users(t) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func userIDs(from, to int) []string {
	var ids []string
	for n := from; n < to; n++ {
		ids = append(ids, fmt.Sprintf("user-%06d", n))
	}
	return ids
}

func TestLimitCanaryThenRerun(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeUsers(t, users, 0, 30)
	args := []string{"run", "--input", users, "--base-url", sb.URL, "--rate", "0", "--workers", "8",
		"--progress", "none", "--summary", "summary.json"}

	// The canary: five rows, in file order, and a clean stop.
	r := runImporter(t, dir, keyEnv(), append(args, "--limit", "5")...)
	if r.code != 0 {
		t.Fatalf("--limit 5: exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 5)) {
		t.Errorf("after --limit 5 the sandbox holds %q, want the first five rows", got)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Rows != 5 || s.Created != 5 || s.Sent != 5 || !s.LimitReached || s.Limit != 5 || s.ExitCode != 0 {
		t.Errorf("--limit 5 summary: rows %d created %d sent %d limit %d reached %v exit %d",
			s.Rows, s.Created, s.Sent, s.Limit, s.LimitReached, s.ExitCode)
	}
	if !strings.Contains(r.stderr, "stopped at --limit 5: 5 rows sent; rerun to carry on") {
		t.Errorf("the summary does not tell the limit was reached:\n%s", r.stderr)
	}

	// A rerun with a larger limit: the done rows are skipped and do not
	// count; the next ten are sent.
	r = runImporter(t, dir, keyEnv(), append(args, "--limit", "10")...)
	if r.code != 0 {
		t.Fatalf("--limit 10: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 15)) {
		t.Errorf("after --limit 10 the sandbox holds %q, want the first fifteen rows", got)
	}
	s = readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Skipped != 5 || s.Created != 10 || s.Sent != 10 || !s.LimitReached {
		t.Errorf("--limit 10 summary: skipped %d created %d sent %d reached %v", s.Skipped, s.Created, s.Sent, s.LimitReached)
	}

	// Without a limit: the rest, and nothing twice.
	r = runImporter(t, dir, keyEnv(), args...)
	if r.code != 0 {
		t.Fatalf("no limit: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 30)) {
		t.Errorf("the sandbox holds %q, want all thirty rows", got)
	}
	st := sb.Stats(t)
	if st.Created != 30 || st.Conflicts != 0 || st.Requests != 30 {
		t.Errorf("sandbox: created %d, conflicts %d, requests %d: want 30 requests creating 30 users, none twice",
			st.Created, st.Conflicts, st.Requests)
	}
	s = readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Skipped != 15 || s.Created != 15 || s.LimitReached || s.Rows != 30 {
		t.Errorf("last summary: skipped %d created %d rows %d reached %v", s.Skipped, s.Created, s.Rows, s.LimitReached)
	}
	if strings.Contains(r.stderr, "--limit") {
		t.Errorf("a run without --limit mentions it:\n%s", r.stderr)
	}

	// A limit the rows needing a request do not reach: the run is
	// simply complete.
	r = runImporter(t, dir, keyEnv(), append(args, "--limit", "3")...)
	if s := readSummary(t, filepath.Join(dir, "summary.json")); r.code != 0 || s.LimitReached || s.Skipped != 30 || s.Sent != 0 {
		t.Errorf("rerun of a finished file with --limit 3: exit %d, %+v", r.code, s)
	}
}

// Invalid rows and duplicates need no request: they do not count against
// the limit, and they keep their outcome.
func TestLimitCountsOnlyRowsSent(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	bad := "bad-1,not-an-email,Jan,Kowalski,ul. Krótka 1,Kraków,PL,ID_CARD,XYZ000001,,PL,1990-01-01\n"
	var b strings.Builder
	b.WriteString(userRow(0))
	b.WriteString(bad)
	b.WriteString(userRow(0)) // a duplicate of line 2
	for n := 1; n < 10; n++ {
		b.WriteString(userRow(n))
	}
	writeUsers(t, users, 0, 0, b.String())
	r := runImporter(t, dir, keyEnv(), "run", "--input", users, "--base-url", sb.URL, "--rate", "0",
		"--progress", "none", "--summary", "summary.json", "--limit", "3")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (an invalid row and a duplicate were read); stderr:\n%s", r.code, r.stderr)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Sent != 3 || s.Created != 3 || s.Invalid != 2 || s.Rows != 5 || !s.LimitReached {
		t.Errorf("summary: sent %d created %d invalid %d rows %d reached %v; want 3 sent, 2 invalid, 5 rows",
			s.Sent, s.Created, s.Invalid, s.Rows, s.LimitReached)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 3)) {
		t.Errorf("sandbox holds %q", got)
	}
	r = runImporter(t, dir, keyEnv(), "run", "--input", users, "--base-url", sb.URL, "--limit", "-1")
	if r.code != 2 || !strings.Contains(r.stderr, "--limit") {
		t.Errorf("--limit -1: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}
