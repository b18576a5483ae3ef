package main_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
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
