package main_test

// Runs of a part (--limit) and of several files (--input repeated, a
// directory, a glob), against the sandbox binary.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/checkpoint"
)

// sandboxIDs returns the externalUserIds the sandbox holds, sorted.
func sandboxIDs(t *testing.T, sb *sandboxProc) []string {
	t.Helper()
	var ids []string
	for id := range sb.Users(t) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func userIDs(from, to int) []string {
	var ids []string
	for n := from; n < to; n++ {
		ids = append(ids, fmt.Sprintf("user-%06d", n))
	}
	return ids
}

func TestLimitCanaryThenRerun(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeUsers(t, users, 0, 30)
	args := []string{"run", "--input", users, "--base-url", sb.URL, "--rate", "0", "--workers", "8",
		"--progress", "none", "--summary", "summary.json"}

	// The canary: five rows, in file order, and a clean stop.
	r := runImporter(t, dir, keyEnv(), append(args, "--limit", "5")...)
	if r.code != 0 {
		t.Fatalf("--limit 5: exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 5)) {
		t.Errorf("after --limit 5 the sandbox holds %q, want the first five rows", got)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Rows != 5 || s.Created != 5 || s.Sent != 5 || !s.LimitReached || s.Limit != 5 || s.ExitCode != 0 {
		t.Errorf("--limit 5 summary: rows %d created %d sent %d limit %d reached %v exit %d",
			s.Rows, s.Created, s.Sent, s.Limit, s.LimitReached, s.ExitCode)
	}
	if !strings.Contains(r.stderr, "stopped at --limit 5: 5 rows sent; rerun to carry on") {
		t.Errorf("the summary does not tell the limit was reached:\n%s", r.stderr)
	}

	// A rerun with a larger limit: the done rows are skipped and do not
	// count; the next ten are sent.
	r = runImporter(t, dir, keyEnv(), append(args, "--limit", "10")...)
	if r.code != 0 {
		t.Fatalf("--limit 10: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 15)) {
		t.Errorf("after --limit 10 the sandbox holds %q, want the first fifteen rows", got)
	}
	s = readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Skipped != 5 || s.Created != 10 || s.Sent != 10 || !s.LimitReached {
		t.Errorf("--limit 10 summary: skipped %d created %d sent %d reached %v", s.Skipped, s.Created, s.Sent, s.LimitReached)
	}

	// Without a limit: the rest, and nothing twice.
	r = runImporter(t, dir, keyEnv(), args...)
	if r.code != 0 {
		t.Fatalf("no limit: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 30)) {
		t.Errorf("the sandbox holds %q, want all thirty rows", got)
	}
	st := sb.Stats(t)
	if st.Created != 30 || st.Conflicts != 0 || st.Requests != 30 {
		t.Errorf("sandbox: created %d, conflicts %d, requests %d: want 30 requests creating 30 users, none twice",
			st.Created, st.Conflicts, st.Requests)
	}
	s = readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Skipped != 15 || s.Created != 15 || s.LimitReached || s.Rows != 30 {
		t.Errorf("last summary: skipped %d created %d rows %d reached %v", s.Skipped, s.Created, s.Rows, s.LimitReached)
	}
	if strings.Contains(r.stderr, "--limit") {
		t.Errorf("a run without --limit mentions it:\n%s", r.stderr)
	}

	// A limit the rows needing a request do not reach: the run is
	// simply complete.
	r = runImporter(t, dir, keyEnv(), append(args, "--limit", "3")...)
	if s := readSummary(t, filepath.Join(dir, "summary.json")); r.code != 0 || s.LimitReached || s.Skipped != 30 || s.Sent != 0 {
		t.Errorf("rerun of a finished file with --limit 3: exit %d, %+v", r.code, s)
	}
}

// Invalid rows and duplicates need no request: they do not count against
// the limit, and they keep their outcome.
func TestLimitCountsOnlyRowsSent(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	bad := "bad-1,not-an-email,Jan,Kowalski,ul. Krótka 1,Kraków,PL,ID_CARD,XYZ000001,,PL,1990-01-01\n"
	var b strings.Builder
	b.WriteString(userRow(0))
	b.WriteString(bad)
	b.WriteString(userRow(0)) // a duplicate of line 2
	for n := 1; n < 10; n++ {
		b.WriteString(userRow(n))
	}
	writeUsers(t, users, 0, 0, b.String())
	r := runImporter(t, dir, keyEnv(), "run", "--input", users, "--base-url", sb.URL, "--rate", "0",
		"--progress", "none", "--summary", "summary.json", "--limit", "3")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (an invalid row and a duplicate were read); stderr:\n%s", r.code, r.stderr)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Sent != 3 || s.Created != 3 || s.Invalid != 2 || s.Rows != 5 || !s.LimitReached {
		t.Errorf("summary: sent %d created %d invalid %d rows %d reached %v; want 3 sent, 2 invalid, 5 rows",
			s.Sent, s.Created, s.Invalid, s.Rows, s.LimitReached)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 3)) {
		t.Errorf("sandbox holds %q", got)
	}
	r = runImporter(t, dir, keyEnv(), "run", "--input", users, "--base-url", sb.URL, "--limit", "-1")
	if r.code != 2 || !strings.Contains(r.stderr, "--limit") {
		t.Errorf("--limit -1: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}

// writeFileIn writes raw text, making its directory.
func writeFileIn(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runInputsOf reads the checkpoint's record of the files of its last run.
func runInputsOf(t *testing.T, db string) []checkpoint.RunInput {
	t.Helper()
	ctx := context.Background()
	store, err := checkpoint.Open(ctx, db, checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.Runs(ctx, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	files, err := store.RunInputs(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSeveralInputs(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	drop := filepath.Join(dir, "drop")
	if err := os.Mkdir(drop, 0o755); err != nil {
		t.Fatal(err)
	}
	// Name order is not the order written: b before c, and a.csv.gz
	// (compressed) first.
	writeUsers(t, filepath.Join(drop, "c.csv"), 20, 30)
	writeUsers(t, filepath.Join(drop, "b.csv"), 10, 20, userRow(3)) // user 3 again: a duplicate across files
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	var plain strings.Builder
	plain.WriteString(csvHeader)
	for n := 0; n < 10; n++ {
		plain.WriteString(userRow(n))
	}
	zw.Write([]byte(plain.String()))
	zw.Close()
	writeFileIn(t, filepath.Join(drop, "a.csv.gz"), gz.String())
	writeFileIn(t, filepath.Join(drop, "notes.md"), "not an input\n")
	writeFileIn(t, filepath.Join(drop, ".hidden.csv"), csvHeader+userRow(99))

	base := []string{"run", "--base-url", sb.URL, "--rate", "0", "--progress", "none", "--summary", "summary.json"}
	wantFiles := []string{filepath.Join(drop, "a.csv.gz"), filepath.Join(drop, "b.csv"), filepath.Join(drop, "c.csv")}

	r := runImporter(t, dir, keyEnv(), append(base, "--input", drop, "--checkpoint", "dir.db", "--report", "failed.csv")...)
	if r.code != 1 {
		t.Fatalf("directory: exit %d, want 1 (one duplicate); stderr:\n%s", r.code, r.stderr)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Rows != 31 || s.Created != 30 || s.Invalid != 1 {
		t.Errorf("summary over the files: rows %d created %d invalid %d, want 31, 30, 1", s.Rows, s.Created, s.Invalid)
	}
	var paths []string
	sumRows := 0
	for _, f := range s.Inputs {
		paths = append(paths, f.Path)
		sumRows += f.Rows
		if f.SHA256 == "" {
			t.Errorf("%s: no SHA-256 though read to its end", f.Path)
		}
	}
	if !slices.Equal(paths, wantFiles) || sumRows != s.Rows {
		t.Errorf("summary inputs %q (rows %d), want %q adding up to %d", paths, sumRows, wantFiles, s.Rows)
	}
	files := runInputsOf(t, filepath.Join(dir, "dir.db"))
	var recorded []string
	for _, f := range files {
		recorded = append(recorded, f.Path)
	}
	if !slices.Equal(recorded, wantFiles) || files[0].Rows != 10 || files[1].Rows != 11 || files[2].Rows != 10 {
		t.Errorf("checkpoint run entry lists %+v, want %q with 10, 11, 10 rows", files, wantFiles)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 30)) || sb.Stats(t).Requests != 30 {
		t.Errorf("sandbox holds %d users after %d requests, want 30 and 30", len(got), sb.Stats(t).Requests)
	}
	// The duplicate names the other file; the report stays re-feedable.
	if !strings.Contains(r.stderr, "file="+filepath.Join(drop, "b.csv")) || !strings.Contains(r.stderr, "duplicate of "+filepath.Join(drop, "a.csv.gz")+" line 5") {
		t.Errorf("the duplicate's log line does not name both files:\n%s", r.stderr)
	}
	report, err := os.ReadFile(filepath.Join(dir, "failed.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), filepath.Join(drop, "b.csv")+":12,invalid") {
		t.Errorf("report line does not name the file:\n%s", report)
	}
	// Fed back alone, the report's row reads as a row (the report's own
	// columns are ignored).
	if v := runImporter(t, dir, nil, "validate", "--input", filepath.Join(dir, "failed.csv")); v.code != 0 || !strings.Contains(v.stdout, "rows 1: valid 1") {
		t.Errorf("validate of the report: exit %d\n%s", v.code, v.stdout)
	}

	// The same files as a glob and as repeated --input: the same order; a
	// rerun sends nothing.
	before := sb.Stats(t).Requests
	r = runImporter(t, dir, keyEnv(), append(base, "--input", filepath.Join(drop, "*.csv*"), "--checkpoint", "dir.db")...)
	s = readSummary(t, filepath.Join(dir, "summary.json"))
	if r.code != 1 || s.Skipped != 30 || s.Invalid != 1 || sb.Stats(t).Requests != before {
		t.Errorf("glob rerun: exit %d, skipped %d invalid %d, %d requests", r.code, s.Skipped, s.Invalid, sb.Stats(t).Requests-before)
	}
	if files := runInputsOf(t, filepath.Join(dir, "dir.db")); len(files) != 3 || files[0].Path != wantFiles[0] || files[2].Path != wantFiles[2] {
		t.Errorf("glob: files %+v", files)
	}
	r = runImporter(t, dir, keyEnv(), append(base, "--input", wantFiles[2], "--input", wantFiles[0], "--checkpoint", "repeat.db")...)
	if r.code != 0 {
		t.Fatalf("repeated --input: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	files = runInputsOf(t, filepath.Join(dir, "repeat.db"))
	if len(files) != 2 || files[0].Path != wantFiles[2] || files[1].Path != wantFiles[0] {
		t.Errorf("repeated --input: files %+v, want c.csv then a.csv.gz, as given", files)
	}
	if s := readSummary(t, filepath.Join(dir, "summary.json")); s.Rows != 20 || s.Exists+s.Created != 20 {
		t.Errorf("repeated --input summary: %+v", s)
	}
}

func TestSeveralInputsRefused(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "a.csv"), 0, 3)
	// The same columns, email first: fine for the run, not for one report.
	writeFileIn(t, filepath.Join(dir, "other.csv"), "email,externalUserId,firstName,lastName,address,city,country,documentType,documentNumber,pesel,birthCountry,birthDate\n"+
		"x@example.com,u-1,Jan,Nowak,ul. A 1,Gdańsk,PL,ID_CARD,ABC000001,,PL,1985-03-01\n")
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFileIn(t, filepath.Join(dir, "empty", "readme.md"), "no csv here\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"empty directory", []string{"--input", filepath.Join(dir, "empty")}, "holds no input file"},
		{"glob matching nothing", []string{"--input", filepath.Join(dir, "*.xlsx")}, "matches no file"},
		{"a file twice", []string{"--input", filepath.Join(dir, "a.csv"), "--input", dir}, "given twice"},
		{"stdin among files", []string{"--input", "-", "--input", filepath.Join(dir, "a.csv")}, "only input"},
		{"headers differ with --report", []string{"--input", filepath.Join(dir, "a.csv"), "--input", filepath.Join(dir, "other.csv"), "--report", "f.csv"}, "different headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runImporter(t, dir, keyEnv(), append([]string{"run", "--base-url", sb.URL, "--progress", "none"}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s", r.code, tc.want, r.stderr)
			}
		})
	}
	if n := sb.Stats(t).Requests; n != 0 {
		t.Errorf("refused runs sent %d requests", n)
	}
	// Without --report, files of differing headers are one run.
	r := runImporter(t, dir, keyEnv(), "run", "--base-url", sb.URL, "--progress", "none", "--rate", "0",
		"--input", filepath.Join(dir, "a.csv"), "--input", filepath.Join(dir, "other.csv"), "--summary", "s.json")
	if s := readSummary(t, filepath.Join(dir, "s.json")); r.code != 0 || s.Created != 4 || len(s.Inputs) != 2 {
		t.Errorf("differing headers without --report: exit %d, %+v\n%s", r.code, s, r.stderr)
	}
}

// A job file run from another directory: its relative paths are the job
// file's, the command line wins, and the key comes from the environment.
func TestJobFileRun(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	jobDir := filepath.Join(t.TempDir(), "job")
	if err := os.MkdirAll(filepath.Join(jobDir, "exports"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeUsers(t, filepath.Join(jobDir, "exports", "1.csv"), 0, 4)
	writeUsers(t, filepath.Join(jobDir, "exports", "2.csv"), 4, 8)
	writeFileIn(t, filepath.Join(jobDir, "nightly.toml"), `
input = "exports"
checkpoint = "state/nightly.db"
base-url = "`+sb.URL+`"
rate = 0
workers = 2
progress = "none"
summary = "summary.json"
limit = 3
`)
	if err := os.Mkdir(filepath.Join(jobDir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	r := runImporter(t, elsewhere, keyEnv(), "run", "--config", filepath.Join(jobDir, "nightly.toml"), "--limit", "6")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	s := readSummary(t, filepath.Join(jobDir, "summary.json"))
	if s.Sent != 6 || !s.LimitReached || len(s.Inputs) != 2 {
		t.Errorf("summary: sent %d (the command line's --limit 6 wins over the file's 3), reached %v, inputs %d", s.Sent, s.LimitReached, len(s.Inputs))
	}
	if _, err := os.Stat(filepath.Join(jobDir, "state", "nightly.db")); err != nil {
		t.Errorf("the checkpoint is not beside the job file: %v", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("the run wrote into the working directory: %v", entries)
	}
	if got := sandboxIDs(t, sb); !slices.Equal(got, userIDs(0, 6)) {
		t.Errorf("sandbox holds %q", got)
	}
}
