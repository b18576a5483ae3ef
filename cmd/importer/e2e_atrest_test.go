package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckpointAtRest: after a normal end the checkpoint is one
// self-contained file (no -wal left to copy with it), and the personal data
// of rows that failed and were then created is gone from every byte of it.
func TestCheckpointAtRest(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--fail-rate", "0.3", "--seed", "7")
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(csvHeader)
	for n := range 300 {
		fmt.Fprintf(&b, "user-%04d,secret%04dmail@example.com,Zofia,Wiśniewska,ul. Tajna %d,Gdańsk,PL,ID_CARD,QZX%06d,,PL,1985-03-01\n", n, n, n, n)
	}
	os.WriteFile(filepath.Join(dir, "users.csv"), []byte(b.String()), 0o600)
	args := []string{"run", "--input", "users.csv", "--base-url", sb.URL, "--rate", "0", "--progress", "none", "--max-attempts", "1"}
	r := runImporter(t, dir, keyEnv(), args...)
	if r.code != 1 {
		t.Fatalf("first run: exit %d, want 1 (some rows failed); stderr:\n%s", r.code, r.stderr)
	}
	db := filepath.Join(dir, "p100-import.db")
	raw, _ := os.ReadFile(db)
	if !strings.Contains(string(raw), "QZX") {
		t.Fatal("the failed rows' data is not in the checkpoint: the test would prove nothing")
	}
	sb.SetFaults(t, `{}`)
	if r := runImporter(t, dir, keyEnv(), args...); r.code != 0 {
		t.Fatalf("second run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(db + "-wal"); err == nil {
		t.Error("a -wal file is left after the run: the .db alone is not a complete copy")
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"QZX", "secret0", "ul. Tajna"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("%q is still in the checkpoint's bytes after every row succeeded", secret)
		}
	}
}
