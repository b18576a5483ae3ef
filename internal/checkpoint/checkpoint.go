package checkpoint

import (
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ApplicationID marks a SQLite file as a p100-importer checkpoint ("P100").
const ApplicationID = 0x50313030

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Errors a caller may branch on.
var (
	// ErrNotCheckpoint means the file is a SQLite database of another program.
	ErrNotCheckpoint = errors.New("not a p100-importer checkpoint")
	// ErrReadOnly means a write was asked of a store opened read-only.
	ErrReadOnly = errors.New("checkpoint opened read-only")
	// ErrTooNew means the checkpoint was written by a newer importer.
	ErrTooNew = errors.New("checkpoint was written by a newer version of the importer")
)

// State is where a row stands in the ledger.
type State string

// The ledger's states.
const (
	InFlight State = "in_flight" // marked before its request left; outcome unknown
	Created  State = "created"   // 201: the importer created the user
	Exists   State = "exists"    // P411: the user was already in P100
	Invalid  State = "invalid"   // refused locally, never sent
	Rejected State = "rejected"  // refused by the API, permanent
	Failed   State = "failed"    // transient errors outlasted the retries
)

// States lists every state in a stable order.
var States = []State{InFlight, Created, Exists, Invalid, Rejected, Failed}

// Succeeded reports whether the user is known to exist in P100.
func (s State) Succeeded() bool { return s == Created || s == Exists }

// ParseState returns the state named s.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown state %q (known: %s)", s, joinStates(States))
}

func joinStates(states []State) string {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Options tune Open.
type Options struct {
	// ReadOnly opens an existing checkpoint without writing to it (status, export).
	ReadOnly bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is the SQLite ledger. Writes go through a single connection, so
// callers from several goroutines are serialised rather than refused with
// SQLITE_BUSY; reads use their own pool and see the last committed state.
type Store struct {
	path   string
	writer *sql.DB // nil when read-only
	reader *sql.DB
	now    func() time.Time

	lookup    *sql.Stmt // on the reader
	lookupErr *sql.Stmt // on the reader
	// Multi-row writes, on the writer.
	markStmts, outcomeStmts, p100UserStmts writeStmts
}

// Open opens or creates the checkpoint at path, switches it to WAL and runs
// the embedded migrations. The file is created with mode 0600.
func Open(ctx context.Context, filename string, opts Options) (*Store, error) {
	s := &Store{path: filename, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.ReadOnly {
		if _, err := os.Stat(filename); err != nil {
			return nil, fmt.Errorf("open checkpoint: %w", err)
		}
	} else if err := createPrivate(filename); err != nil {
		return nil, fmt.Errorf("create checkpoint: %w", err)
	}
	// Refuse what is not a checkpoint before SQLite opens it for writing:
	// opening would switch it to WAL, modifying a file that is not ours.
	if err := inspectHeader(filename); err != nil {
		return nil, err
	}

	var err error
	s.reader, err = sql.Open("sqlite", dsn(filename, true))
	if err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	if !opts.ReadOnly {
		s.writer, err = sql.Open("sqlite", dsn(filename, false))
		if err != nil {
			s.reader.Close()
			return nil, fmt.Errorf("open checkpoint: %w", err)
		}
		s.writer.SetMaxOpenConns(1)
		s.writer.SetConnMaxIdleTime(0)
		if err := s.prepareWriter(ctx); err != nil {
			s.Close()
			return nil, err
		}
		if s.markStmts, err = prepareWrites(ctx, s.writer, markWrite); err == nil {
			if s.outcomeStmts, err = prepareWrites(ctx, s.writer, outcomeWrite); err == nil {
				s.p100UserStmts, err = prepareWrites(ctx, s.writer, p100UserWrite)
			}
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open checkpoint: prepare writes: %w", err)
		}

	}
	if err := s.checkIdentity(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// The lookup runs for every row of every rerun. It answers a whole
	// batch in one row, "index state hex(hash) changed" per known id joined
	// by ';': going through database/sql row by row cost more than the
	// lookups themselves (2.4 -> 1.5 us per id, BenchmarkLookup).
	s.lookup, err = s.reader.PrepareContext(ctx, `
		SELECT group_concat(j.key || ' ' || u.state || ' ' || hex(u.content_hash) || ' ' || u.changed, ';')
		FROM json_each(?) AS j JOIN users AS u ON u.external_user_id = j.value`)
	if err == nil {
		s.lookupErr, err = s.reader.PrepareContext(ctx, `
			SELECT u.external_user_id, coalesce(u.error_code, ''), coalesce(u.error_message, '')
			FROM json_each(?) AS j JOIN users AS u ON u.external_user_id = j.value`)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open checkpoint: prepare lookup: %w", err)
	}
	return s, nil
}

// inspectHeader reads a database file's header, without SQLite: a file that
// is not SQLite, or a SQLite database of another application (another
// application_id, and more than the one page of an empty database), is not
// a checkpoint. An empty file, or a database a killed run created before its
// first migration, is.
func inspectHeader(filename string) error {
	f, err := os.Open(filename)
	if err != nil {
		return fmt.Errorf("open checkpoint: %w", err)
	}
	defer f.Close()
	var h [100]byte
	n, err := io.ReadFull(f, h[:])
	switch {
	case n == 0:
		return nil // new
	case err != nil || string(h[:16]) != "SQLite format 3\x00":
		return fmt.Errorf("open checkpoint %s: %w (it is not even a SQLite database)", filename, ErrNotCheckpoint)
	}
	appID := binary.BigEndian.Uint32(h[68:72])
	pages := binary.BigEndian.Uint32(h[28:32])
	if appID != ApplicationID && (appID != 0 || pages > 1) {
		return fmt.Errorf("open checkpoint %s: %w (a SQLite database of another application: left as it is)", filename, ErrNotCheckpoint)
	}
	return nil
}

// createPrivate creates filename with mode 0600 when it does not exist yet,
// so SQLite (which gives -wal and -shm the database's mode) never makes it
// readable by others.
func createPrivate(filename string) error {
	f, err := os.OpenFile(filename, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

func dsn(filename string, readOnly bool) string {
	q := "_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
	if readOnly {
		q += "&mode=ro&_pragma=query_only(1)"
	} else {
		// secure_delete zeroes deleted content, so personal data removed
		// from a row that succeeded does not linger in free page space.
		q += "&_pragma=journal_mode(WAL)&_pragma=secure_delete(1)&_txlock=immediate"
	}
	// Escape the characters that would end the path part of an SQLite URI.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filename)
	return "file:" + escaped + "?" + q
}

func (s *Store) prepareWriter(ctx context.Context) error {
	var mode string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("open checkpoint %s: %w", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open checkpoint %s: journal mode is %q, want wal (is the file on a network filesystem?)", s.path, mode)
	}
	return s.migrate(ctx)
}

// checkIdentity refuses SQLite files that are not ours.
func (s *Store) checkIdentity(ctx context.Context) error {
	var appID int64
	if err := s.reader.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return fmt.Errorf("open checkpoint %s: %w", s.path, err)
	}
	if appID != ApplicationID {
		return fmt.Errorf("open checkpoint %s: %w", s.path, ErrNotCheckpoint)
	}
	return nil
}

// migrate applies the embedded migrations newer than PRAGMA user_version,
// each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate checkpoint: %w", err)
	}
	sort.Strings(names)

	var appID, version int64
	if err := s.writer.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return fmt.Errorf("migrate checkpoint: %w", err)
	}
	if err := s.writer.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("migrate checkpoint: %w", err)
	}
	if appID != ApplicationID {
		var tables int
		if err := s.writer.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
			return fmt.Errorf("migrate checkpoint: %w", err)
		}
		if tables > 0 || appID != 0 {
			return fmt.Errorf("open checkpoint %s: %w", s.path, ErrNotCheckpoint)
		}
	}
	if version > int64(len(names)) {
		return fmt.Errorf("open checkpoint %s: %w (schema %d, this build knows %d)", s.path, ErrTooNew, version, len(names))
	}
	for i := int(version); i < len(names); i++ {
		body, err := migrationFiles.ReadFile(names[i])
		if err != nil {
			return fmt.Errorf("migrate checkpoint: %w", err)
		}
		if err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("apply %s: %w", path.Base(names[i]), err)
			}
			// PRAGMAs cannot take parameters; both values are our own integers.
			if _, err := tx.ExecContext(ctx, `PRAGMA application_id = `+strconv.Itoa(ApplicationID)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `PRAGMA user_version = `+strconv.Itoa(i+1))
			return err
		}); err != nil {
			return fmt.Errorf("migrate checkpoint %s: %w", s.path, err)
		}
	}
	return nil
}

// inTx runs fn in a write transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.writer == nil {
		return ErrReadOnly
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// After Commit, Rollback only answers sql.ErrTxDone; on every other
	// path it undoes the partial work.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Path returns the checkpoint's file name.
func (s *Store) Path() string { return s.path }

// Close checkpoints the WAL and closes the database.
func (s *Store) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.lookup, s.lookupErr} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, w := range []writeStmts{s.markStmts, s.outcomeStmts, s.p100UserStmts} {
		errs = append(errs, w.close())
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	return errors.Join(errs...)
}

// Compact rewrites the checkpoint file without the free space inside its
// pages (VACUUM), and folds the WAL into it. Call it after rows whose
// personal data was kept (failed, rejected, invalid) succeeded: SQLite's
// secure_delete zeroes freed cells, but a page rewritten in place can keep
// old bytes in its unused gap; only a rewrite of the file removes them.
func (s *Store) Compact(ctx context.Context) error {
	if s.writer == nil {
		return errors.New("compact checkpoint: opened read-only")
	}
	if _, err := s.writer.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("compact checkpoint: %w", err)
	}
	if _, err := s.writer.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("compact checkpoint: %w", err)
	}
	return nil
}

func (s *Store) millis() int64 { return s.now().UnixMilli() }

func fromMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64).UTC()
}
