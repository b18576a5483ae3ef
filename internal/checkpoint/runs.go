package checkpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Run is one invocation of the importer against this checkpoint.
type Run struct {
	ID          int64
	Command     string
	Input       string
	InputSHA256 string
	Started     time.Time
	Finished    time.Time // zero while running or after a crash
	ExitCode    *int
	Summary     json.RawMessage
}

// BeginRun records the start of a run and returns its id.
func (s *Store) BeginRun(ctx context.Context, command, input string) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO runs (command, input, started_at) VALUES (?, ?, ?) RETURNING id`,
			command, nullString(input), s.millis()).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
	}
	return id, nil
}

// FinishRun records the end of a run: its exit code, the input's SHA-256
// and its JSON summary.
func (s *Store) FinishRun(ctx context.Context, id int64, exitCode int, inputSHA256 string, summary []byte) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`UPDATE runs SET finished_at = ?, exit_code = ?, input_sha256 = ?, summary = ? WHERE id = ?`,
			s.millis(), exitCode, nullString(inputSHA256), nullBytes(summary), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	return nil
}

// Runs returns the last runs, newest first.
func (s *Store) Runs(ctx context.Context, limit int) ([]Run, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT id, command, input, input_sha256, started_at, finished_at, exit_code, summary
		FROM runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return scanRuns(rows)
}

// RunsUpTo returns the last runs of command whose id is at most id (any id
// when id <= 0), newest first.
func (s *Store) RunsUpTo(ctx context.Context, command string, id int64, limit int) ([]Run, error) {
	if id <= 0 {
		id = math.MaxInt64
	}
	rows, err := s.reader.QueryContext(ctx, `
		SELECT id, command, input, input_sha256, started_at, finished_at, exit_code, summary
		FROM runs WHERE command = ? AND id <= ? ORDER BY id DESC LIMIT ?`, command, id, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return scanRuns(rows)
}

func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var (
			r                       Run
			input, sha, summary     sql.NullString
			started, finished, code sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Command, &input, &sha, &started, &finished, &code, &summary); err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		r.Input, r.InputSHA256 = input.String, sha.String
		r.Started, r.Finished = fromMillis(started), fromMillis(finished)
		if code.Valid {
			c := int(code.Int64)
			r.ExitCode = &c
		}
		if summary.Valid {
			r.Summary = json.RawMessage(summary.String)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// LastSuccess returns when the last import run that exited 0 finished;
// zero when none did.
func (s *Store) LastSuccess(ctx context.Context) (time.Time, error) {
	var ms sql.NullInt64
	err := s.reader.QueryRowContext(ctx,
		`SELECT max(finished_at) FROM runs WHERE command = 'run' AND exit_code = 0`).Scan(&ms)
	if err != nil {
		return time.Time{}, fmt.Errorf("last successful run: %w", err)
	}
	return fromMillis(ms), nil
}

// SetRunReport keeps what the HTML report of run id needs besides its
// summary (JSON, no personal data).
func (s *Store) SetRunReport(ctx context.Context, id int64, report []byte) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET report = ? WHERE id = ?`, nullBytes(report), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("record run report: %w", err)
	}
	return nil
}

// RunInput is one input file of a run, in the order read.
type RunInput struct {
	Path   string
	SHA256 string // "" unless the file was read to its end
	Rows   int    // rows of the file that reached an outcome in the run
}

// RecordRunInputs records the files a run read, in order, in one
// transaction.
func (s *Store) RecordRunInputs(ctx context.Context, runID int64, files []RunInput) error {
	if len(files) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, f := range files {
			if _, err := tx.ExecContext(ctx,
				`INSERT OR REPLACE INTO run_inputs (run_id, seq, path, sha256, rows) VALUES (?, ?, ?, ?, ?)`,
				runID, i+1, f.Path, nullString(f.SHA256), f.Rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record run inputs: %w", err)
	}
	return nil
}

// RunReport returns what SetRunReport kept for run id; nil when nothing
// was (a run killed before its end, or by a version without reports).
func (s *Store) RunReport(ctx context.Context, id int64) ([]byte, error) {
	// A store opened read-only is not migrated: an older checkpoint may
	// lack the column.
	var has int
	if err := s.reader.QueryRowContext(ctx,
		`SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'report'`).Scan(&has); err != nil {
		return nil, fmt.Errorf("read run report: %w", err)
	}
	if has == 0 {
		return nil, nil
	}
	var report sql.NullString
	err := s.reader.QueryRowContext(ctx, `SELECT report FROM runs WHERE id = ?`, id).Scan(&report)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run report: %w", err)
	}
	if !report.Valid {
		return nil, nil
	}
	return []byte(report.String), nil
}

// RunInputs returns the files a run read, in order.
func (s *Store) RunInputs(ctx context.Context, runID int64) ([]RunInput, error) {
	rows, err := s.reader.QueryContext(ctx,
		`SELECT path, sha256, rows FROM run_inputs WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("list run inputs: %w", err)
	}
	defer rows.Close()
	var out []RunInput
	for rows.Next() {
		var (
			f   RunInput
			sha sql.NullString
		)
		if err := rows.Scan(&f.Path, &sha, &f.Rows); err != nil {
			return nil, fmt.Errorf("list run inputs: %w", err)
		}
		f.SHA256 = sha.String
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list run inputs: %w", err)
	}
	return out, nil
}
