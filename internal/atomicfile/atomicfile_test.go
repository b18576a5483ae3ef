package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/p100/p100-importer/internal/atomicfile"
)

func TestCommitReplacesWholeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new content")
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("before commit the target reads %q, want the old content", got)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "new content" || fi.Mode().Perm() != 0o600 {
		t.Errorf("after commit: %q mode %o", got, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	f, err := atomicfile.Create(filepath.Join(dir, "x.json"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("partial")
	f.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("abort left %v", entries)
	}
}

// TestRemoveStale: the temporary files a killed writer left for a path are
// removed; other files, and other paths' temporary files, are not.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report[1].csv")
	left := []string{"." + "report[1].csv" + ".tmp-123", "." + "report[1].csv" + ".tmp-abc"}
	keep := []string{"report[1].csv", ".summary.json.tmp-9", "report[1].csv.tmp-1"}
	for _, f := range append(left, keep...) {
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600)
	}
	if err := atomicfile.RemoveStale(path); err != nil {
		t.Fatal(err)
	}
	for _, f := range left {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
	for _, f := range keep {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s removed", f)
		}
	}
}
