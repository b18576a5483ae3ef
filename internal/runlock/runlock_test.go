package runlock_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/runlock"
)

func TestSecondAcquireNamesTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db.lock")
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	first, err := runlock.Acquire(path, "run", now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = runlock.Acquire(path, "run", now)
	var held *runlock.HeldError
	if !errors.As(err, &held) || !errors.Is(err, runlock.ErrHeld) {
		t.Fatalf("second acquire: %v", err)
	}
	if held.Holder.PID != os.Getpid() || !strings.Contains(err.Error(), "2026-11-24T02:00:00Z") {
		t.Errorf("holder = %+v, message %q", held.Holder, err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := runlock.Acquire(path, "run", now)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if again.Stale != nil {
		t.Errorf("a released lock is reported stale: %+v", again.Stale)
	}
	again.Release()
}

// TestHelperHolder is not a test: run by TestStaleLockIsTakenOver in a
// child process, it takes the lock, says so, and sleeps until killed.
func TestHelperHolder(t *testing.T) {
	path := os.Getenv("RUNLOCK_HELPER_PATH")
	if path == "" {
		t.Skip("helper process only")
	}
	if _, err := runlock.Acquire(path, "helper", time.Now()); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute)
}

// TestStaleLockIsTakenOver kills (SIGKILL) a process holding the lock and
// takes the lock over.
func TestStaleLockIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHolder$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HELPER_PATH="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "locked" {
		t.Fatalf("helper: %q %v", buf, err)
	}
	if _, err := runlock.Acquire(path, "run", time.Now()); !errors.Is(err, runlock.ErrHeld) {
		t.Fatalf("while the helper lives: %v, want ErrHeld", err)
	}
	cmd.Process.Kill() // like kill -9: no cleanup
	cmd.Wait()
	l, err := runlock.Acquire(path, "run", time.Now())
	if err != nil {
		t.Fatalf("the lock of a killed process was not taken over: %v", err)
	}
	defer l.Release()
	if l.Stale == nil || l.Stale.PID != cmd.Process.Pid || l.Stale.Command != "helper" {
		t.Errorf("stale holder = %+v, want pid %d", l.Stale, cmd.Process.Pid)
	}
}

// TestCheckpointLockCannotBeFooled: a symlink to the checkpoint is the same
// checkpoint, and removing the .lock file during a run does not let a
// second run in.
func TestCheckpointLockCannotBeFooled(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "migration.db")
	first, err := runlock.AcquireCheckpoint(db, "run", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	if _, err := runlock.AcquireCheckpoint(link, "run", time.Now()); !errors.Is(err, runlock.ErrHeld) {
		t.Errorf("through a symlink: err = %v, want ErrHeld", err)
	}
	if err := os.Remove(db + ".lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := runlock.AcquireCheckpoint(db, "run", time.Now()); !errors.Is(err, runlock.ErrHeld) {
		t.Errorf("after removing the .lock file: err = %v, want ErrHeld", err)
	}
	first.Release()
	again, err := runlock.AcquireCheckpoint(link, "run", time.Now())
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}
