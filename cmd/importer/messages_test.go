package main_test

// End-to-end tests of the messages a run ends with (issue 14, item 2):
// every exit 1 or 3 says what happened in words and what to do next.

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// checkSays fails the test unless every want is in text and no not is.
func checkSays(t *testing.T, what, text string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, text)
		}
	}
	for _, n := range not {
		if strings.Contains(text, n) {
			t.Errorf("%s says %q:\n%s", what, n, text)
		}
	}
}

func TestWrongKeyMessage(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--api-key", "the-right-key")
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 30)
	r := runImporter(t, dir, []string{"P100_API_KEY=a-wrong-key"}, "run", "--input", "users.csv", "--checkpoint", "cp.db",
		"--base-url", sb.URL, "--progress", "none", "--workers", "4", "--summary", "summary.json")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr:\n%s", r.code, r.stderr)
	}
	want := []string{"the API refused the key (HTTP 401", "check P100_API_KEY or --api-key-file"}
	not := []string{"401 401", "aborted by the API", "a-wrong-key"}
	checkSays(t, "stderr", r.stderr, want, not)
	// The reason names no transport error (requests cut off by the stop
	// are NETWORK rows, and their log lines say why).
	not = append(not, "NETWORK")
	sum := readSummary(t, filepath.Join(dir, "summary.json"))
	checkSays(t, "the summary's exit_reason", sum.ExitReason, want, not)
	// The last line is the exit code; the reason is the line above it.
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	last, reason := lines[len(lines)-1], lines[max(len(lines)-2, 0)]
	checkSays(t, "the line before the last", reason, want, not)
	if !strings.Contains(reason, "importer: the API refused the key") || !strings.Contains(last, "exit code 3: stopped early, for the reason above") {
		t.Errorf("the last lines are %q and %q, want the reason then the exit code", reason, last)
	}
	checkSays(t, "stderr", r.stderr, nil, []string{"NETWORK: aborted", "last error: p100: NETWORK"})
}

func TestNothingAnswersMessage(t *testing.T) {
	t.Parallel()
	// A loopback port nothing listens on: connections are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 60)
	r := runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", url,
		"--progress", "none", "--log-level", "warn", "--rate", "0", "--max-attempts", "1", "--workers", "2")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr:\n%s", r.code, r.stderr)
	}
	checkSays(t, "stderr", r.stderr, []string{"nothing answers at " + url, "check --base-url", "connection refused"},
		[]string{"kept failing", "aborted by the API"})
}

func TestAPIKeptFailingMessage(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--fail-rate", "1") // every create answers P501
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 60)
	r := runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
		"--progress", "none", "--log-level", "warn", "--rate", "0", "--max-attempts", "1", "--workers", "2")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr:\n%s", r.code, r.stderr)
	}
	checkSays(t, "stderr", r.stderr, []string{"the API kept failing", "P501", "safe to rerun"},
		[]string{"nothing answers", "aborted by the API"})
}

// TestMaxErrorsStopsAtExactlyN: with rows settled in batches and several
// workers, the run stops when the Nth invalid row is recorded, not a
// batch later.
func TestMaxErrorsStopsAtExactlyN(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(csvHeader)
	for n := range 60 {
		row := userRow(n)
		if n%3 == 0 { // every third row has no email: refused locally
			row = strings.Replace(row, fmt.Sprintf("user%d@example.com", n), "", 1)
		}
		b.WriteString(row)
	}
	writeFile(t, filepath.Join(dir, "users.csv"), b.String())
	r := runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
		"--progress", "none", "--rate", "0", "--workers", "4", "--max-errors", "2", "--summary", "summary.json")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr:\n%s", r.code, r.stderr)
	}
	sum := readSummary(t, filepath.Join(dir, "summary.json"))
	if sum.Invalid+sum.Rejected != 2 {
		t.Errorf("summary: invalid %d, rejected %d; want 2 in all", sum.Invalid, sum.Rejected)
	}
	checkSays(t, "stderr", r.stderr, []string{"stopped: 2 rows invalid or rejected, the --max-errors limit (2)", "fix them and rerun"},
		[]string{"aborted by the API", "error budget"})
	// Counted honestly: what was created is what the summary says, and a
	// rerun without the limit settles every row once.
	if st := sb.Stats(t); st.Created != int64(sum.Created) {
		t.Errorf("sandbox created %d, summary says %d", st.Created, sum.Created)
	}
	r = runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
		"--progress", "none", "--rate", "0", "--workers", "4", "--summary", "summary2.json")
	if s := readSummary(t, filepath.Join(dir, "summary2.json")); r.code != 1 || s.Invalid != 20 || s.Created+s.Skipped != 40 || sb.Stats(t).Created != 40 {
		t.Errorf("rerun: exit %d, %+v; want 20 invalid and the 40 valid rows created once", r.code, s)
	}
}

// TestMaxErrorsRejectedInFlight: rows P100 rejects are counted as they
// come back, in-flight ones included: the run stops at the Nth and every
// row the API answered is recorded.
func TestMaxErrorsRejectedInFlight(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(csvHeader)
	for n := range 100 { // no city: the sandbox answers P403
		b.WriteString(opsRow(fmt.Sprintf("rej-%03d", n), fmt.Sprintf("rej%d@example.com", n), ""))
	}
	writeFile(t, filepath.Join(dir, "users.csv"), b.String())
	const workers = 4
	r := runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
		"--progress", "none", "--log-level", "warn", "--rate", "0", "--workers", fmt.Sprint(workers), "--max-errors", "2",
		"--required", requiredNoCity, "--summary", "summary.json")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr:\n%s", r.code, r.stderr)
	}
	sum := readSummary(t, filepath.Join(dir, "summary.json"))
	st := sb.Stats(t)
	if sum.Rejected < 2 || sum.Rejected > 2+workers || int64(sum.Rejected) != st.Rejected {
		t.Errorf("rejected %d, sandbox rejected %d: want 2 to %d, every answer recorded", sum.Rejected, st.Rejected, 2+workers)
	}
	checkSays(t, "stderr", r.stderr, []string{"stopped: 2 rows invalid or rejected, the --max-errors limit (2)"}, nil)
}

// TestFailureAdvice: the summary's last lines name where the rows not
// imported are and what to do with them, by what happened to them.
func TestFailureAdvice(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--fail-rate", "1")
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 3)
	args := []string{"run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL, "--progress", "none",
		"--rate", "0", "--max-attempts", "1"}

	t.Run("only P501, with --report", func(t *testing.T) {
		r := mustRun(t, dir, keyEnv(), 1, append(args, "--report", "failures.csv")...)
		checkSays(t, "stderr", r.stderr, []string{"failure report: failures.csv (3 rows;", "rerun with the same checkpoint to send them again",
			"exit code 1: finished; some rows were not imported: see the report"}, []string{"fix them"})
	})
	t.Run("without --report", func(t *testing.T) {
		r := mustRun(t, dir, keyEnv(), 1, args...)
		export := "importer export --checkpoint cp.db --state failed"
		checkSays(t, "stderr", r.stderr, []string{"rerun with --report FILE to get them", "`" + export + "`"},
			[]string{"see the report", "failure report:"})
		// The command it names lists the rows.
		out := mustRun(t, dir, nil, 0, strings.Fields(export)[1:]...)
		if n := strings.Count(out.stdout, "\n"); n != 4 {
			t.Errorf("%s: %d lines, want a header and 3 rows:\n%s", export, n, out.stdout)
		}
	})
	t.Run("invalid and failed, with --report", func(t *testing.T) {
		writeUsers(t, filepath.Join(dir, "mixed.csv"), 10, 12, strings.Replace(userRow(20), "user20@example.com", "", 1))
		r := mustRun(t, dir, keyEnv(), 1, "run", "--input", "mixed.csv", "--checkpoint", "cp2.db", "--base-url", sb.URL,
			"--progress", "none", "--rate", "0", "--max-attempts", "1", "--report", "mixed-failures.csv")
		checkSays(t, "stderr", r.stderr, []string{"fix the 1 invalid or rejected and feed the file back with --input",
			"the 2 failed on transient errors are sent again by any rerun"}, nil)
	})
}
