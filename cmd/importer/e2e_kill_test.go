package main_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKillResendsStayWithinWorkers kills the importer with SIGKILL 20 times
// against a fault-free API and counts, at each kill, the users the sandbox
// holds that the checkpoint still has in flight: the rows the next run sends
// again (they come back as P411). A worker sends its next request only once
// its last row's outcome is committed (when that costs it under 2% of a
// request: against a real API's latency; the sandbox answers after 300 ms
// here, so that it holds even for the race-built binaries' slow commits),
// so the re-sends must stay within the requests truly in flight: at most
// the worker count a kill.
func TestKillResendsStayWithinWorkers(t *testing.T) {
	t.Parallel()
	const (
		rows    = 400
		workers = 8
		kills   = 20
	)
	sb := startSandbox(t, "--latency", "300ms")
	dir := t.TempDir()
	input := filepath.Join(dir, "users.csv")
	writeUsers(t, input, 0, rows)
	args := []string{"run", "--input", input, "--base-url", sb.URL, "--checkpoint", "cp.db",
		"--rate", "0", "--workers", fmt.Sprint(workers), "--progress", "none", "--quiet"}
	rng := rand.New(rand.NewPCG(20261201, 7))
	var resends []int
	for k := 1; k <= kills; k++ {
		delay := time.Duration(300+rng.IntN(400)) * time.Millisecond
		p := startBg(t, dir, keyEnv(), args...)
		if code, ended := p.wait(delay); ended {
			t.Fatalf("run %d ended on its own (exit %d) within %v: too short an import for this test", k, code, delay)
		}
		p.cmd.Process.Kill()
		<-p.done
		ledger, err := tryReadLedger(t, dir, "cp.db")
		if err != nil {
			t.Logf("kill %d before the checkpoint was initialised: %v", k, err)
			resends = append(resends, 0)
			continue
		}
		n := 0
		for id := range sb.Users(t) {
			if ledger[id].Outcome == "in_flight" {
				n++
			}
		}
		resends = append(resends, n)
	}
	sum := 0
	for _, n := range resends {
		sum += n
	}
	worst := slices.Max(resends)
	t.Logf("re-sends a kill over %d kills with %d workers: mean %.1f, max %d (each: %v)",
		kills, workers, float64(sum)/float64(len(resends)), worst, resends)
	if worst > workers {
		t.Errorf("a kill left %d created users in flight (re-sent next run), more than the %d requests in flight", worst, workers)
	}
	// Nothing is lost or created twice: a last run finishes the file.
	if r := runImporter(t, dir, keyEnv(), args...); r.code != 0 {
		t.Fatalf("final run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	checkAllImported(t, sb, readLedger(t, dir, "cp.db"), 0, rows)
	if st := sb.Stats(t); st.Created != rows || st.Conflicts > int64(sum) {
		t.Errorf("sandbox %+v: want %d created and at most %d conflicts (the re-sends counted)", st, rows, sum)
	}
}

// TestReconcileSettlesRowsInDoubt: after a kill, reconcile looks up every
// row in flight: those P100 has become exists with their userId, the others
// are free to be sent; a retry from the checkpoint alone does not report
// success while rows are in doubt; the next run with the input sends only
// what P100 does not have (no P411).
func TestReconcileSettlesRowsInDoubt(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--latency", "300ms")
	dir := t.TempDir()
	input := filepath.Join(dir, "users.csv")
	writeUsers(t, input, 0, 300)
	run := []string{"run", "--input", input, "--base-url", sb.URL, "--checkpoint", "cp.db",
		"--rate", "0", "--workers", "8", "--progress", "none", "--quiet"}
	p := startBg(t, dir, keyEnv(), run...)
	// Kill once requests are under way (a loaded machine, or race-built
	// binaries, may take a while to get there).
	for deadline := time.Now().Add(30 * time.Second); sb.Stats(t).Requests < 16; {
		if time.Now().After(deadline) {
			t.Fatal("the run sent nothing within 30 s")
		}
		if _, ended := p.wait(50 * time.Millisecond); ended {
			t.Fatal("the run ended before the kill")
		}
	}
	p.cmd.Process.Kill()
	<-p.done
	time.Sleep(400 * time.Millisecond) // the sandbox finishes the requests it had
	ledger := readLedger(t, dir, "cp.db")
	users := sb.Users(t)
	inFlight, created := 0, 0
	for id, row := range ledger {
		if row.Outcome == "in_flight" {
			inFlight++
			if _, ok := users[id]; ok {
				created++
			}
		}
	}
	if inFlight == 0 || created == 0 {
		t.Fatalf("the kill left %d rows in flight, %d of them created: nothing to reconcile", inFlight, created)
	}

	retry := runImporter(t, dir, keyEnv(), "run", "--retry-failed", "--base-url", sb.URL, "--checkpoint", "cp.db", "--progress", "none")
	if retry.code != 1 || !strings.Contains(retry.stderr, "importer reconcile") {
		t.Errorf("--retry-failed with rows in doubt: exit %d, want 1 naming importer reconcile; stderr:\n%s", retry.code, retry.stderr)
	}
	if st := runImporter(t, dir, nil, "status", "--checkpoint", "cp.db"); !strings.Contains(st.stdout, fmt.Sprintf("in doubt: %d rows", inFlight)) {
		t.Errorf("status does not show the rows in doubt:\n%s", st.stdout)
	}

	r := runImporter(t, dir, keyEnv(), "reconcile", "--base-url", sb.URL, "--checkpoint", "cp.db", "--rate", "0")
	want := fmt.Sprintf("in doubt %d: found in P100 %d", inFlight, created)
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("reconcile: exit %d, want 0 and %q; stdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
	}
	for id, row := range readLedger(t, dir, "cp.db") {
		if row.Outcome == "in_flight" {
			t.Errorf("%s still in flight after reconcile", id)
		}
		if sbID, ok := users[id]; ok && row.UserID != sbID {
			t.Errorf("%s: userId %q, sandbox %q", id, row.UserID, sbID)
		}
	}
	before := sb.Stats(t)
	if r := runImporter(t, dir, keyEnv(), run...); r.code != 0 {
		t.Fatalf("final run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if st := sb.Stats(t); st.Conflicts != before.Conflicts || st.Users != 300 {
		t.Errorf("after reconcile the final run met %d P411 (want none); sandbox %+v", st.Conflicts-before.Conflicts, st)
	}
}
