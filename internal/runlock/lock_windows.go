//go:build windows

package runlock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// errLocked means another handle holds the lock.
var errLocked = errors.New("locked")

// lockOffset is where the one locked byte lies: far beyond any data. Windows
// byte-range locks are mandatory, so locking the file's contents would stop
// SQLite (and a second run reading the holder record) from reading them.
const lockOffset = 1 << 62

// tryLock takes an exclusive lock (LockFileEx) on one byte of f, beyond its
// end, without waiting; closing f releases it. It returns errLocked when
// someone else holds it.
func tryLock(f *os.File) error {
	ol := windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLocked
	}
	return err
}
