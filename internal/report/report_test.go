package report_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/report"
)

func TestReportIsRefeedable(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "failures.csv")
	w, err := report.Create(first, []string{"externalUserId", "email", "Note"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(report.Row{Values: []string{"u-1", "a@b", "line \"one\", two"}, Line: 7, Outcome: "invalid", Code: "INVALID", Message: "email: no dot", Attempts: 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Fatal("the report is visible before Commit")
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, first)
	want := [][]string{
		{"externalUserId", "email", "Note", "line", "outcome", "error_code", "error_message", "attempts"},
		{"u-1", "a@b", "line \"one\", two", "7", "invalid", "INVALID", "email: no dot", "0"},
	}
	if !equal(recs, want) {
		t.Fatalf("report = %q", recs)
	}
	if fi, _ := os.Stat(first); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %o", fi.Mode().Perm())
	}

	// Fed back: the report's own columns are replaced, not repeated.
	second := filepath.Join(dir, "failures2.csv")
	w2, err := report.Create(second, recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Write(report.Row{Values: recs[1], Line: 2, Outcome: "failed", Code: "P501", Attempts: 5}); err != nil {
		t.Fatal(err)
	}
	if err := w2.Commit(); err != nil {
		t.Fatal(err)
	}
	recs2 := readCSV(t, second)
	if strings.Join(recs2[0], ",") != strings.Join(want[0], ",") || recs2[1][3] != "2" || recs2[1][5] != "P501" {
		t.Errorf("second report = %q", recs2)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func equal(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}
