package checkpoint

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	fastjson "github.com/goccy/go-json"
)

// The writes the writer makes for every row, as multi-row statements: one
// statement per up to rowsPerStatement rows, so the per-statement cost of
// database/sql and the driver is paid once per batch, not per row (it was
// most of the ledger's cost: ~8 us a statement). Each statement is
// "INSERT ... VALUES" + n rows of the values + the conflict clause.
var (
	markWrite = multiRow{
		head: `INSERT INTO users (external_user_id, state, content_hash, line, run_id, first_seen_at, updated_at) VALUES `,
		row:  `(?, 'in_flight', ?, ?, ?, ?, ?)`,
		tail: ` ON CONFLICT (external_user_id) DO UPDATE SET
			state = 'in_flight', content_hash = excluded.content_hash, changed = 0, line = excluded.line,
			run_id = excluded.run_id, updated_at = excluded.updated_at`,
	}
	// A succeeded row is never downgraded by a later failure for the same
	// user.
	outcomeWrite = multiRow{
		head: `INSERT INTO users (external_user_id, state, content_hash, line, run_id, error_code, error_message,
			attempts, row_data, first_seen_at, updated_at) VALUES `,
		row: `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tail: ` ON CONFLICT (external_user_id) DO UPDATE SET
			state = excluded.state, content_hash = excluded.content_hash, changed = 0, line = excluded.line,
			run_id = excluded.run_id, error_code = excluded.error_code, error_message = excluded.error_message,
			attempts = excluded.attempts, row_data = excluded.row_data, updated_at = excluded.updated_at
			WHERE users.state NOT IN ('created', 'exists') OR excluded.state IN ('created', 'exists')`,
	}
	// What P100 answered for a user; a lookup that failed (no userId) never
	// erases one recorded before.
	p100UserWrite = multiRow{
		head: `INSERT INTO p100_users (external_user_id, user_id, balances) VALUES `,
		row:  `(?, ?, ?)`,
		tail: ` ON CONFLICT (external_user_id) DO UPDATE SET
			user_id = coalesce(excluded.user_id, user_id), balances = coalesce(excluded.balances, balances)`,
	}
)

// statementRows are the row counts the multi-row statements are prepared
// for, largest first: a batch is written as 64-row statements, then the
// rest in 16-, 4- and 1-row ones (at most 9 more statements).
var statementRows = []int{64, 16, 4, 1}

// multiRow builds an INSERT of n rows.
type multiRow struct{ head, row, tail string }

func (m multiRow) sql(n int) string {
	var b strings.Builder
	b.WriteString(m.head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.row)
	}
	b.WriteString(m.tail)
	return b.String()
}

// writeStmts holds a multi-row write prepared for each of statementRows,
// on the write connection. They are prepared at Open: preparing inside a
// transaction would wait for the single connection the transaction holds.
type writeStmts map[int]*sql.Stmt

func prepareWrites(ctx context.Context, db *sql.DB, w multiRow) (writeStmts, error) {
	stmts := writeStmts{}
	for _, n := range statementRows {
		st, err := db.PrepareContext(ctx, w.sql(n))
		if err != nil {
			stmts.close()
			return nil, err
		}
		stmts[n] = st
	}
	return stmts, nil
}

func (w writeStmts) close() error {
	var errs []error
	for _, st := range w {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// exec writes args, rowArgs values a row, in as few statements as the
// prepared sizes allow.
func (w writeStmts) exec(ctx context.Context, tx *sql.Tx, rowArgs int, args []any) error {
	for _, n := range statementRows {
		st := tx.StmtContext(ctx, w[n])
		for len(args) >= n*rowArgs {
			if _, err := st.ExecContext(ctx, args[:n*rowArgs]...); err != nil {
				return err
			}
			args = args[n*rowArgs:]
		}
	}
	return nil
}

// Known is what the ledger holds about a row, as a rerun needs it.
type Known struct {
	State        State
	ContentHash  []byte
	Changed      bool
	ErrorCode    string // rejected rows only
	ErrorMessage string // rejected rows only
}

// Lookup returns the ledger entries of the given externalUserIds; ids the
// ledger has never seen are absent from the map.
func (s *Store) Lookup(ctx context.Context, ids []string) (map[string]Known, error) {
	found := make(map[string]Known, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("look up rows: %w", err)
	}
	var packed sql.NullString
	if err := s.lookup.QueryRowContext(ctx, string(arg)).Scan(&packed); err != nil {
		return nil, fmt.Errorf("look up rows: %w", err)
	}
	var rejected []string
	for entry := range strings.SplitSeq(packed.String, ";") {
		if entry == "" {
			continue
		}
		f := strings.Split(entry, " ")
		if len(f) != 4 {
			return nil, fmt.Errorf("look up rows: unexpected entry %q", entry)
		}
		i, err := strconv.Atoi(f[0])
		if err != nil || i < 0 || i >= len(ids) {
			return nil, fmt.Errorf("look up rows: unexpected index in %q", entry)
		}
		hash, err := hex.DecodeString(f[2])
		if err != nil {
			return nil, fmt.Errorf("look up rows: %w", err)
		}
		k := Known{State: State(f[1]), ContentHash: hash, Changed: f[3] == "1"}
		found[ids[i]] = k
		if k.State == Rejected {
			rejected = append(rejected, ids[i])
		}
	}
	if len(rejected) > 0 {
		if err := s.lookupErrors(ctx, rejected, found); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// lookupErrors adds the stored error to rejected rows: a rerun repeats it
// for a rejected row that did not change.
func (s *Store) lookupErrors(ctx context.Context, ids []string, found map[string]Known) error {
	arg, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("look up errors: %w", err)
	}
	rows, err := s.lookupErr.QueryContext(ctx, string(arg))
	if err != nil {
		return fmt.Errorf("look up errors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, code, msg string
		if err := rows.Scan(&id, &code, &msg); err != nil {
			return fmt.Errorf("look up errors: %w", err)
		}
		k := found[id]
		k.ErrorCode, k.ErrorMessage = code, msg
		found[id] = k
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up errors: %w", err)
	}
	return nil
}

// Mark is a row about to be sent.
type Mark struct {
	ExternalUserID string
	ContentHash    []byte
	Line           int
}

// Release is a row marked in flight whose request never left (the run
// stopped first), with what the ledger held before the mark.
type Release struct {
	ExternalUserID string
	Prev           *Known // nil: the row was new
}

// Unmark returns rows that were marked in flight but never sent to the
// state they had before: new rows are removed, others get their previous
// state and content hash back. Rows no longer in flight are left alone.
func (s *Store) Unmark(ctx context.Context, rows []Release) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			var err error
			if r.Prev == nil {
				_, err = tx.ExecContext(ctx,
					`DELETE FROM users WHERE external_user_id = ? AND state = 'in_flight'`, r.ExternalUserID)
			} else {
				_, err = tx.ExecContext(ctx,
					`UPDATE users SET state = ?, content_hash = ? WHERE external_user_id = ? AND state = 'in_flight'`,
					string(r.Prev.State), r.Prev.ContentHash, r.ExternalUserID)
			}
			if err != nil {
				return fmt.Errorf("row %s: %w", r.ExternalUserID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release %d rows never sent: %w", len(rows), err)
	}
	return nil
}

// Outcome is a row's final state in one run.
type Outcome struct {
	ExternalUserID string
	State          State
	ContentHash    []byte
	UserID         string            // created/exists, when known
	Balances       map[string]string // currency -> balance id, created rows
	Line           int
	ErrorCode      string
	ErrorMessage   string
	Attempts       int
	RowData        []byte // kept only for rows that did not succeed
}

// Write commits in-flight marks and outcomes together in one transaction:
// the group commit that keeps the ledger off the pipeline's critical path.
// It returns once both are durable (as WAL with synchronous=NORMAL makes
// them: safe from a killed process).
func (s *Store) Write(ctx context.Context, runID int64, marks []Mark, outcomes []Outcome) error {
	if len(marks) == 0 && len(outcomes) == 0 {
		return nil
	}
	now := s.millis()
	markArgs := make([]any, 0, 6*len(marks))
	for _, m := range marks {
		markArgs = append(markArgs, m.ExternalUserID, m.ContentHash, m.Line, runID, now, now)
	}
	outArgs := make([]any, 0, 11*len(outcomes))
	var idArgs []any
	for _, o := range outcomes {
		var balances, rowData, code, message any
		if len(o.Balances) > 0 {
			b, err := fastjson.Marshal(o.Balances) // sorted keys, as encoding/json; 4 us -> ~1 us a row
			if err != nil {
				return fmt.Errorf("record row %s: %w", o.ExternalUserID, err)
			}
			balances = string(b)
		}
		if !o.State.Succeeded() {
			rowData = nullBytes(o.RowData)
			code, message = nullString(o.ErrorCode), nullString(o.ErrorMessage)
		}
		outArgs = append(outArgs, o.ExternalUserID, string(o.State), o.ContentHash, o.Line, runID,
			code, message, o.Attempts, rowData, now, now)
		if o.State.Succeeded() && (o.UserID != "" || balances != nil) {
			idArgs = append(idArgs, o.ExternalUserID, nullString(o.UserID), balances)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.markStmts.exec(ctx, tx, 6, markArgs); err != nil {
			return fmt.Errorf("mark rows in flight: %w", err)
		}
		if err := s.outcomeStmts.exec(ctx, tx, 11, outArgs); err != nil {
			return fmt.Errorf("record outcomes: %w", err)
		}
		if err := s.p100UserStmts.exec(ctx, tx, 3, idArgs); err != nil {
			return fmt.Errorf("record P100 ids: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %d marks and %d outcomes: %w", len(marks), len(outcomes), err)
	}
	return nil
}

// SetChanged sets or clears the "changed" flag of succeeded rows: a row seen
// again with content other than what was created.
func (s *Store) SetChanged(ctx context.Context, changed map[string]bool) error {
	if len(changed) == 0 {
		return nil
	}
	now := s.millis()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for id, flag := range changed {
			if _, err := tx.ExecContext(ctx,
				`UPDATE users SET changed = ?1, updated_at = ?2 WHERE external_user_id = ?3`, flag, now, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("flag changed rows: %w", err)
	}
	return nil
}

// Entry is a full ledger row, as status and export read it.
type Entry struct {
	ExternalUserID string
	State          State
	Changed        bool
	UserID         string
	Balances       map[string]string
	Line           int
	RunID          int64
	ErrorCode      string
	ErrorMessage   string
	Attempts       int
	RowData        map[string]string
	FirstSeen      time.Time
	Updated        time.Time
}

// Filter selects ledger rows for Scan.
type Filter struct {
	States      []State // empty: every state
	ChangedOnly bool
}

// Scan calls fn for every ledger row matching f, ordered by externalUserId.
// fn must not call the Store's write methods.
func (s *Store) Scan(ctx context.Context, f Filter, fn func(Entry) error) error {
	q := `SELECT u.external_user_id, u.state, u.changed, p.user_id, p.balances, u.line, u.run_id, u.error_code,
	             u.error_message, u.attempts, u.row_data, u.first_seen_at, u.updated_at
	      FROM users AS u LEFT JOIN p100_users AS p ON p.external_user_id = u.external_user_id
	      WHERE (?1 = '[]' OR u.state IN (SELECT value FROM json_each(?1))) AND (?2 = 0 OR u.changed = 1)
	      ORDER BY u.external_user_id`
	states, err := json.Marshal(stateNames(f.States))
	if err != nil {
		return fmt.Errorf("scan checkpoint: %w", err)
	}
	rows, err := s.reader.QueryContext(ctx, q, string(states), f.ChangedOnly)
	if err != nil {
		return fmt.Errorf("scan checkpoint: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e                                    Entry
			state                                string
			userID, balances, code, msg, rowData sql.NullString
			line, runID                          sql.NullInt64
			firstSeen, updated                   sql.NullInt64
		)
		if err := rows.Scan(&e.ExternalUserID, &state, &e.Changed, &userID, &balances, &line, &runID,
			&code, &msg, &e.Attempts, &rowData, &firstSeen, &updated); err != nil {
			return fmt.Errorf("scan checkpoint: %w", err)
		}
		e.State = State(state)
		e.UserID, e.ErrorCode, e.ErrorMessage = userID.String, code.String, msg.String
		e.Line, e.RunID = int(line.Int64), runID.Int64
		e.FirstSeen, e.Updated = fromMillis(firstSeen), fromMillis(updated)
		if balances.Valid {
			if err := json.Unmarshal([]byte(balances.String), &e.Balances); err != nil {
				return fmt.Errorf("scan checkpoint: balances of %s: %w", e.ExternalUserID, err)
			}
		}
		if rowData.Valid {
			if err := json.Unmarshal([]byte(rowData.String), &e.RowData); err != nil {
				return fmt.Errorf("scan checkpoint: row data of %s: %w", e.ExternalUserID, err)
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan checkpoint: %w", err)
	}
	return nil
}

func stateNames(states []State) []string {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return names
}

// Counts is the number of ledger rows per state.
type Counts struct {
	ByState map[State]int
	Changed int
	Total   int
	// NoUserID counts created or exists rows whose P100 userId is not
	// known (a lookup failed): with the in-flight rows, the rows in doubt.
	NoUserID int
}

// Count returns the number of ledger rows per state.
func (s *Store) Count(ctx context.Context) (Counts, error) {
	c := Counts{ByState: make(map[State]int, len(States))}
	rows, err := s.reader.QueryContext(ctx, `SELECT state, count(*), sum(changed) FROM users GROUP BY state`)
	if err != nil {
		return c, fmt.Errorf("count checkpoint rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			state      string
			n, changed int
		)
		if err := rows.Scan(&state, &n, &changed); err != nil {
			return c, fmt.Errorf("count checkpoint rows: %w", err)
		}
		c.ByState[State(state)] = n
		c.Changed += changed
		c.Total += n
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("count checkpoint rows: %w", err)
	}
	err = s.reader.QueryRowContext(ctx, `SELECT count(*) FROM users AS u LEFT JOIN p100_users AS p
		ON p.external_user_id = u.external_user_id
		WHERE u.state IN ('created', 'exists') AND coalesce(p.user_id, '') = ''`).Scan(&c.NoUserID)
	if err != nil {
		return c, fmt.Errorf("count checkpoint rows: %w", err)
	}
	return c, nil
}

// ErrorCount is how many rows of a state carry an error code.
type ErrorCount struct {
	State State
	Code  string
	Count int
}

// TopErrors returns the most common error codes among rows that did not
// succeed, most frequent first.
func (s *Store) TopErrors(ctx context.Context, limit int) ([]ErrorCount, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT state, coalesce(error_code, ''), count(*) AS n FROM users
		WHERE state NOT IN ('created', 'exists')
		GROUP BY state, error_code ORDER BY n DESC, state, error_code LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("count errors: %w", err)
	}
	defer rows.Close()
	var out []ErrorCount
	for rows.Next() {
		var (
			e     ErrorCount
			state string
		)
		if err := rows.Scan(&state, &e.Code, &e.Count); err != nil {
			return nil, fmt.Errorf("count errors: %w", err)
		}
		e.State = State(state)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count errors: %w", err)
	}
	return out, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// Currencies returns the currencies of every balance id the ledger holds,
// sorted.
func (s *Store) Currencies(ctx context.Context) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx,
		`SELECT DISTINCT j.key FROM p100_users AS p, json_each(p.balances) AS j WHERE p.balances IS NOT NULL ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list currencies: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("list currencies: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list currencies: %w", err)
	}
	return out, nil
}
