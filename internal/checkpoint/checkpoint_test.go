package checkpoint_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	_ "modernc.org/sqlite"
)

func MustOpen(tb testing.TB, path string) *checkpoint.Store {
	tb.Helper()
	s, err := checkpoint.Open(context.Background(), path, checkpoint.Options{
		Now: func() time.Time { return time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestOpen(t *testing.T) {
	t.Run("creates a private WAL database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cp.db")
		MustOpen(t, path)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("mode = %o, want 600", mode)
		}
	})
	t.Run("reopens and keeps data", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cp.db")
		s := MustOpen(t, path)
		ctx := context.Background()
		if err := s.Write(ctx, 1, nil, []checkpoint.Outcome{{ExternalUserID: "u1", State: checkpoint.Created, ContentHash: []byte{1}, UserID: "p-1"}}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s2 := MustOpen(t, path)
		var got []checkpoint.Entry
		if err := s2.Scan(ctx, checkpoint.Filter{}, func(e checkpoint.Entry) error {
			got = append(got, e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].State != checkpoint.Created || got[0].UserID != "p-1" {
			t.Errorf("after reopen: %+v", got)
		}
	})
	t.Run("refuses another program's database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, err = checkpoint.Open(context.Background(), path, checkpoint.Options{})
		if !errors.Is(err, checkpoint.ErrNotCheckpoint) {
			t.Fatalf("err = %v, want ErrNotCheckpoint", err)
		}
	})
	t.Run("refuses a file that is not SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "users.csv")
		if err := os.WriteFile(path, []byte(strings.Repeat("externalUserId,email\n", 200)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := checkpoint.Open(context.Background(), path, checkpoint.Options{}); err == nil {
			t.Fatal("opened a CSV file as a checkpoint")
		}
	})
	t.Run("read-only open of a missing file fails", func(t *testing.T) {
		_, err := checkpoint.Open(context.Background(), filepath.Join(t.TempDir(), "none.db"), checkpoint.Options{ReadOnly: true})
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want not exist", err)
		}
	})
}

func TestLedger(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "cp.db"))

	marks := []checkpoint.Mark{
		{ExternalUserID: "a", ContentHash: []byte("ha"), Line: 2},
		{ExternalUserID: "b", ContentHash: []byte("hb"), Line: 3},
		{ExternalUserID: "c", ContentHash: []byte("hc"), Line: 4},
	}
	if err := s.Write(ctx, 7, marks, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Lookup(ctx, []string{"a", "b", "c", "never"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["a"].State != checkpoint.InFlight || string(got["b"].ContentHash) != "hb" {
		t.Fatalf("after marks: %+v", got)
	}

	outcomes := []checkpoint.Outcome{
		{ExternalUserID: "a", State: checkpoint.Created, ContentHash: []byte("ha"), UserID: "p-a",
			Balances: map[string]string{"eth": "b-1", "eur": "b-2"}, Line: 2, Attempts: 1, RowData: []byte(`{"email":"a@x.pl"}`)},
		{ExternalUserID: "b", State: checkpoint.Rejected, ContentHash: []byte("hb"), Line: 3, Attempts: 1,
			ErrorCode: "P403", ErrorMessage: "email must be an email", RowData: []byte(`{"email":"b@x.pl"}`)},
		{ExternalUserID: "c", State: checkpoint.Failed, ContentHash: []byte("hc"), Line: 4, Attempts: 5,
			ErrorCode: "P501", ErrorMessage: "unavailable", RowData: []byte(`{"email":"c@x.pl"}`)},
	}
	if err := s.Write(ctx, 7, nil, outcomes); err != nil {
		t.Fatal(err)
	}

	t.Run("succeeded rows drop personal data and errors", func(t *testing.T) {
		var entries []checkpoint.Entry
		if err := s.Scan(ctx, checkpoint.Filter{}, func(e checkpoint.Entry) error {
			entries = append(entries, e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(entries) != 3 {
			t.Fatalf("got %d entries", len(entries))
		}
		a := entries[0]
		if a.ExternalUserID != "a" || a.RowData != nil || a.ErrorCode != "" || a.UserID != "p-a" || a.Balances["eth"] != "b-1" {
			t.Errorf("created row: %+v", a)
		}
		b := entries[1]
		if b.RowData["email"] != "b@x.pl" || b.ErrorCode != "P403" {
			t.Errorf("rejected row keeps its data and error: %+v", b)
		}
	})

	t.Run("a success is never downgraded", func(t *testing.T) {
		if err := s.Write(ctx, 8, nil, []checkpoint.Outcome{{ExternalUserID: "a", State: checkpoint.Failed, ContentHash: []byte("ha2"), ErrorCode: "P500"}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Lookup(ctx, []string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		if got["a"].State != checkpoint.Created {
			t.Errorf("state = %s, want created", got["a"].State)
		}
	})

	t.Run("exists keeps a userId recovered earlier", func(t *testing.T) {
		if err := s.Write(ctx, 8, nil, []checkpoint.Outcome{{ExternalUserID: "c", State: checkpoint.Exists, ContentHash: []byte("hc")}}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Lookup(ctx, []string{"c"})
		if got["c"].State != checkpoint.Exists || got["c"].ErrorCode != "" {
			t.Errorf("c = %+v", got["c"])
		}
	})

	t.Run("counts and filters", func(t *testing.T) {
		if err := s.SetChanged(ctx, map[string]bool{"a": true}); err != nil {
			t.Fatal(err)
		}
		c, err := s.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Total != 3 || c.ByState[checkpoint.Created] != 1 || c.ByState[checkpoint.Exists] != 1 || c.ByState[checkpoint.Rejected] != 1 || c.Changed != 1 {
			t.Errorf("counts = %+v", c)
		}
		var ids []string
		if err := s.Scan(ctx, checkpoint.Filter{ChangedOnly: true}, func(e checkpoint.Entry) error {
			ids = append(ids, e.ExternalUserID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(ids, ",") != "a" {
			t.Errorf("changed rows = %v", ids)
		}
		ids = nil
		if err := s.Scan(ctx, checkpoint.Filter{States: []checkpoint.State{checkpoint.Rejected, checkpoint.Exists}}, func(e checkpoint.Entry) error {
			ids = append(ids, e.ExternalUserID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(ids, ",") != "b,c" {
			t.Errorf("rejected+exists rows = %v", ids)
		}
		top, err := s.TopErrors(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(top) != 1 || top[0].Code != "P403" || top[0].Count != 1 {
			t.Errorf("top errors = %+v", top)
		}
	})

	t.Run("runs", func(t *testing.T) {
		id, err := s.BeginRun(ctx, "run", "users.csv")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRun(ctx, id, 1, "abc", []byte(`{"rows":3}`)); err != nil {
			t.Fatal(err)
		}
		runs, err := s.Runs(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].ID != id || *runs[0].ExitCode != 1 || runs[0].InputSHA256 != "abc" || string(runs[0].Summary) != `{"rows":3}` {
			t.Errorf("runs = %+v", runs)
		}
	})
}

func TestReadOnlyDoesNotWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	MustOpen(t, path).Close()
	ro, err := checkpoint.Open(ctx, path, checkpoint.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Write(ctx, 1, nil, []checkpoint.Outcome{{ExternalUserID: "x", State: checkpoint.Created, ContentHash: []byte{1}}}); err == nil {
		t.Fatal("a read-only store accepted a write")
	}
}

func TestUnmarkRestoresThePreviousState(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "cp.db"))
	// "old" failed in an earlier run and keeps its data; "new" was never seen.
	if err := s.Write(ctx, 1, nil, []checkpoint.Outcome{{ExternalUserID: "old", State: checkpoint.Failed, ContentHash: []byte("h1"),
		ErrorCode: "P501", RowData: []byte(`{"email":"o@x.pl"}`)}}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Lookup(ctx, []string{"old"})
	prev := before["old"]
	if err := s.Write(ctx, 2, []checkpoint.Mark{{ExternalUserID: "old", ContentHash: []byte("h2")}, {ExternalUserID: "new", ContentHash: []byte("h3")}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Unmark(ctx, []checkpoint.Release{{ExternalUserID: "old", Prev: &prev}, {ExternalUserID: "new"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Lookup(ctx, []string{"old", "new"})
	if _, ok := got["new"]; ok {
		t.Errorf("a new row never sent is still in the ledger: %+v", got["new"])
	}
	if o := got["old"]; o.State != checkpoint.Failed || string(o.ContentHash) != "h1" {
		t.Errorf("old = %+v, want failed with its old hash", o)
	}
	var data map[string]string
	s.Scan(ctx, checkpoint.Filter{States: []checkpoint.State{checkpoint.Failed}}, func(e checkpoint.Entry) error {
		data = e.RowData
		return nil
	})
	if data["email"] != "o@x.pl" {
		t.Errorf("the failed row lost its data through mark and unmark: %v", data)
	}
}

// TestMigrationKeepsUserIDs opens a checkpoint written with the first
// schema (userId and balances in the users table) and finds them after the
// migration that moves them to p100_users.
func TestMigrationKeepsUserIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile(filepath.Join("migrations", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(v1), "PRAGMA application_id = " + fmt.Sprint(checkpoint.ApplicationID), "PRAGMA user_version = 1",
		`INSERT INTO users (external_user_id, state, content_hash, user_id, balances, first_seen_at, updated_at)
		 VALUES ('u-1', 'created', x'01', 'p-1', '{"eth":"b-1"}', 0, 0), ('u-2', 'failed', x'02', NULL, NULL, 0, 0)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := MustOpen(t, path)
	var got []checkpoint.Entry
	if err := s.Scan(context.Background(), checkpoint.Filter{}, func(e checkpoint.Entry) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].UserID != "p-1" || got[0].Balances["eth"] != "b-1" || got[1].State != checkpoint.Failed || got[1].UserID != "" {
		t.Errorf("after migration: %+v", got)
	}
}

// TestForeignDatabaseLeftUntouched: a SQLite database of another
// application given as the checkpoint is refused before anything is
// written to it: its bytes are unchanged and it is not switched to WAL.
func TestForeignDatabaseLeftUntouched(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crm.sqlite")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	_, err = checkpoint.Open(ctx, path, checkpoint.Options{})
	if !errors.Is(err, checkpoint.ErrNotCheckpoint) {
		t.Fatalf("err = %v, want ErrNotCheckpoint", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the foreign database was modified")
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Error("the foreign database was switched to WAL")
	}
	// Not SQLite at all.
	text := filepath.Join(t.TempDir(), "users.csv")
	os.WriteFile(text, []byte("externalUserId,email\n"), 0o600)
	if _, err := checkpoint.Open(ctx, text, checkpoint.Options{}); !errors.Is(err, checkpoint.ErrNotCheckpoint) {
		t.Errorf("a CSV as the checkpoint: err = %v", err)
	}
}
