// Package runlock makes sure only one importer run uses a checkpoint at a
// time. It holds an advisory lock (flock) on a file beside the checkpoint;
// the kernel releases it when the process ends, however it ends, so a lock
// left by a killed run is stale by construction and simply taken over. The
// file records who holds it, for the message a second run prints.
package runlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrHeld means another live process holds the lock.
var ErrHeld = errors.New("checkpoint is in use by another run")

// Holder describes the process holding a lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Command string    `json:"command,omitempty"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on %s, started %s", h.PID, h.Host, h.Started.Format(time.RFC3339))
}

// HeldError is returned when the lock is taken; it names the holder.
type HeldError struct {
	Path   string
	Holder Holder
}

func (e *HeldError) Error() string {
	who := e.Holder.String()
	if e.Holder.PID == 0 {
		who = "its holder is not recorded: the lock file was removed during its run"
	}
	return fmt.Sprintf("%v (%s; lock on %s): wait for it to finish or stop it; two runs on one checkpoint are refused", ErrHeld, who, e.Path)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is a held lock.
type Lock struct {
	f    *os.File
	db   *os.File // the checkpoint file itself, with AcquireCheckpoint
	path string
	// Stale is the holder recorded by a previous process that died without
	// releasing the lock, if any.
	Stale *Holder
}

// Acquire takes the lock at path without waiting. now stamps the holder.
func Acquire(path, command string, now time.Time) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	prev := readHolder(f)
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			h := Holder{}
			if prev != nil {
				h = *prev
			}
			return nil, &HeldError{Path: path, Holder: h}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	me := Holder{PID: os.Getpid(), Host: host, Started: now.UTC().Truncate(time.Second), Command: command}
	data, _ := json.Marshal(me)
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(data, '\n'), 0)
	}
	l := &Lock{f: f, path: path}
	if prev != nil && prev.PID != 0 {
		l.Stale = prev
	}
	return l, nil
}

func readHolder(f *os.File) *Holder {
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	if n == 0 {
		return nil
	}
	var h Holder
	if json.Unmarshal(buf[:n], &h) != nil {
		return nil
	}
	return &h
}

// Release frees the lock and clears the holder record.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	if l.db != nil {
		l.db.Close()
		l.db = nil
	}
	return err
}

// AcquireCheckpoint takes the one-run lock of the checkpoint at dbPath. The
// lock follows the checkpoint's real path (a symlink to it is the same
// checkpoint), and it is held twice: on dbPath's ".lock" file, which says
// who holds it, and on the checkpoint file itself, so that removing the
// ".lock" file during a run cannot let a second run in. The checkpoint file
// is created (empty) if it does not exist yet.
func AcquireCheckpoint(dbPath, command string, now time.Time) (*Lock, error) {
	real, err := realPath(dbPath)
	if err != nil {
		return nil, err
	}
	l, err := Acquire(real+".lock", command, now)
	if err != nil {
		return nil, err
	}
	db, err := os.OpenFile(real, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		l.Release()
		return nil, fmt.Errorf("open checkpoint %s: %w", real, err)
	}
	if err := tryLock(db); err != nil {
		db.Close()
		l.Release()
		if errors.Is(err, errLocked) {
			return nil, &HeldError{Path: real, Holder: Holder{}}
		}
		return nil, fmt.Errorf("lock checkpoint %s: %w", real, err)
	}
	l.db = db
	return l, nil
}

// realPath resolves the symlinks of path, or of its directory when the file
// does not exist yet.
func realPath(path string) (string, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real, nil
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return "", fmt.Errorf("checkpoint directory of %s: %w", path, err)
	}
	return filepath.Join(dir, filepath.Base(path)), nil
}
