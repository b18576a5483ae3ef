package main_test

// End-to-end tests of issue 7 (secrets and personal data): the API key and
// personal data never leak into output or files they do not belong in, the
// client refuses redirects, plain http to remote hosts and oversized
// answers, error text is stripped of terminal escapes, and every file that
// may hold personal data is private (0600).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The keys are distinctive so that a leak is found by a plain byte search.
const (
	secretKey = "sk_live_DISTINCTIVE_0123456789abcdef"
	wrongKey  = "sk_live_WRONGKEY_fedcba9876543210abcd"
)

// output is one captured stream of one command.
type output struct {
	name string
	data string
}

// outputs collects the stdout and stderr of every command a test runs.
type outputs struct{ list []output }

func (o *outputs) add(name string, r result) {
	o.list = append(o.list, output{name + ": stdout", r.stdout}, output{name + ": stderr", r.stderr})
}

// assertAbsent fails the test for every needle found in data.
func assertAbsent(t *testing.T, where string, data []byte, needles ...string) {
	t.Helper()
	for _, n := range needles {
		if i := bytes.Index(data, []byte(n)); i >= 0 {
			lo, hi := max(i-80, 0), min(i+len(n)+80, len(data))
			t.Errorf("%s contains %q at byte %d: ...%q...", where, n, i, data[lo:hi])
		}
	}
}

// assertTreeAbsent searches every file under dir for the needles.
func assertTreeAbsent(t *testing.T, dir string, needles ...string) (files []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, rel)
		assertAbsent(t, "file "+rel, data, needles...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// startKilled starts the importer, waits until the sandbox has seen at
// least n requests, and SIGKILLs it: a crash mid-run.
func startKilled(t *testing.T, sb *sandboxProc, n int64, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := importerCmd(ctx, dir, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := sb.Stats(t).Requests
	deadline := time.Now().Add(15 * time.Second)
	for sb.Stats(t).Requests-base < n {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the run sent fewer than %d requests in 15s; stderr:\n%s", n, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("run was not killed: %v; stderr:\n%s", err, stderr.String())
	}
	return result{code: -1, stdout: stdout.String(), stderr: stderr.String()}
}

// TestAPIKeyNeverLeaks runs the whole pipeline with a distinctive key:
// from the environment and from a 0600 key file, with text and JSON debug
// logs, through faults and retries, a 401 run with a distinctive wrong key,
// a SIGKILLed run and its resumption, status and every export; then it
// searches every captured stdout and stderr and every file the runs wrote
// (checkpoints with their -wal and -shm, reports, summaries, metrics,
// exports, lock files) for both keys.
func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--api-key", secretKey, "--seed", "11")
	dir := t.TempDir()
	keyDir := t.TempDir() // outside dir: the final search covers all of dir
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 40,
		"bad-row,not-an-email,Jan,Nowak,ul. Krótka 1,Gdańsk,PL,ID_CARD,XYZ000001,,PL,1980-01-01\n",
		opsRow("no-city", "nocity@example.com", ""))
	keyFile := filepath.Join(keyDir, "key")
	writeFile(t, keyFile, secretKey+"\n")
	wrongKeyFile := filepath.Join(keyDir, "wrong-key")
	writeFile(t, wrongKeyFile, wrongKey+"\n")

	var seen outputs
	run := func(t *testing.T, name string, env []string, want int, args ...string) result {
		t.Helper()
		r := runImporter(t, dir, env, args...)
		seen.add(name, r)
		if r.code != want {
			t.Fatalf("%s: exit %d, want %d; stderr:\n%s", name, r.code, want, r.stderr)
		}
		return r
	}
	runArgs := func(cp, logFormat string, extra ...string) []string {
		return append([]string{"run", "--input", "users.csv", "--checkpoint", cp, "--base-url", sb.URL,
			"--rate", "0", "--progress", "none", "--required", requiredNoCity, "--log-level", "debug",
			"--log-format", logFormat, "--max-attempts", "4",
			"--report", cp + "-report.csv", "--summary", cp + "-summary.json", "--metrics-file", cp + ".prom"}, extra...)
	}

	// P501 for 20% and P500 for 10% of the creates: retries, and some rows
	// that fail for good.
	sb.SetFaults(t, `{"fail_rate": 0.2, "error_rate": 0.1}`)
	t.Run("key from the environment, text logs", func(t *testing.T) {
		run(t, "env key", []string{"P100_API_KEY=" + secretKey}, 1, runArgs("env.db", "text")...)
		if s := readSummary(t, filepath.Join(dir, "env.db-summary.json")); s.Retries == 0 || s.Created == 0 {
			t.Errorf("summary %+v: want retries and created rows", s)
		}
	})
	t.Run("key from a 0600 file, JSON logs", func(t *testing.T) {
		run(t, "key file", nil, 1, runArgs("file.db", "json", "--api-key-file", keyFile)...)
		// Same sandbox: the users exist now, so this run takes the P411
		// and lookup path.
		if s := readSummary(t, filepath.Join(dir, "file.db-summary.json")); s.Retries == 0 || s.Exists == 0 {
			t.Errorf("summary %+v: want retries and existing rows", s)
		}
	})
	sb.SetFaults(t, `{}`)
	t.Run("wrong key from the environment: 401", func(t *testing.T) {
		r := run(t, "wrong env key", []string{"P100_API_KEY=" + wrongKey}, 3, runArgs("wrong.db", "text")...)
		if !strings.Contains(r.stderr, "xo2") {
			t.Errorf("stderr does not name the 401 (xo2):\n%s", r.stderr)
		}
	})
	t.Run("wrong key from a file: 401", func(t *testing.T) {
		run(t, "wrong key file", nil, 3, runArgs("wrong-file.db", "json", "--api-key-file", wrongKeyFile)...)
	})
	t.Run("killed run, then resumed", func(t *testing.T) {
		slow := startSandbox(t, "--api-key", secretKey, "--latency", "200ms")
		writeUsers(t, filepath.Join(dir, "kill.csv"), 500, 560)
		args := []string{"run", "--input", "kill.csv", "--checkpoint", "killed.db", "--base-url", slow.URL,
			"--rate", "0", "--workers", "4", "--progress", "none", "--log-level", "debug"}
		env := []string{"P100_API_KEY=" + secretKey}
		seen.add("killed run", startKilled(t, slow, 4, dir, env, args...))
		// The crash left the WAL behind: search it now, before a clean
		// close folds it into the database.
		for _, f := range []string{"killed.db", "killed.db-wal", "killed.db-shm"} {
			if data, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
				assertAbsent(t, f+" after the crash", data, secretKey, wrongKey)
			}
		}
		setFlag(args, "--workers", "32") // finish quickly
		run(t, "resumed run", env, 0, append(args, "--summary", "killed-summary.json")...)
	})
	t.Run("status and exports", func(t *testing.T) {
		for _, cp := range []string{"env.db", "file.db", "wrong.db", "killed.db"} {
			run(t, "status "+cp, nil, 0, "status", "--checkpoint", cp)
			run(t, "status --json "+cp, nil, 0, "status", "--checkpoint", cp, "--json")
			// "all" in JSON holds every column the checkpoint keeps; the
			// failure export in CSV is the regenerated report.
			for _, e := range []struct{ state, format string }{{"all", "json"}, {"all", "csv"}, {"failed,rejected,invalid", "csv"}, {"failed,rejected,invalid", "json"}} {
				name := fmt.Sprintf("export %s %s %s", cp, e.state, e.format)
				out := fmt.Sprintf("%s-%s.%s", cp, strings.ReplaceAll(e.state, ",", "-"), e.format)
				run(t, name, nil, 0, "export", "--checkpoint", cp, "--state", e.state, "--format", e.format, "--output", out)
			}
		}
		run(t, "export to stdout", nil, 0, "export", "--checkpoint", "env.db", "--state", "all", "--format", "json")
	})
	t.Run("key file readable by others is refused", func(t *testing.T) {
		open := filepath.Join(keyDir, "open-key")
		writeFile(t, open, secretKey)
		if err := os.Chmod(open, 0o644); err != nil {
			t.Fatal(err)
		}
		before := sb.Stats(t).Requests
		r := run(t, "0644 key file", nil, 2, runArgs("open.db", "text", "--api-key-file", open)...)
		if !strings.Contains(r.stderr, "chmod 600") || !strings.Contains(r.stderr, "open-key") {
			t.Errorf("stderr does not name the file and the chmod fix:\n%s", r.stderr)
		}
		if n := sb.Stats(t).Requests - before; n != 0 {
			t.Errorf("%d requests sent with a refused key file", n)
		}
	})
	t.Run("help", func(t *testing.T) {
		env := []string{"P100_API_KEY=" + secretKey}
		for _, args := range [][]string{{"run", "--help"}, {"run", "-h"}, {"validate", "--help"}, {"status", "--help"},
			{"export", "--help"}, {"--help"}, {}} {
			r := runImporter(t, dir, env, args...)
			seen.add("importer "+strings.Join(args, " "), r)
			want := 0
			if len(args) == 0 {
				want = 2
			}
			if r.code != want || len(r.stdout+r.stderr) < 100 {
				t.Errorf("importer %v: exit %d (want %d), help text:\n%s%s", args, r.code, want, r.stdout, r.stderr)
			}
		}
	})
	t.Run("key on the command line is refused", func(t *testing.T) {
		for _, args := range [][]string{{"--api-key", secretKey}, {"--api-key=" + secretKey}, {"-api-key", secretKey}} {
			r := run(t, "run "+args[0], nil, 2, append([]string{"run", "--input", "users.csv", "--base-url", sb.URL}, args...)...)
			if !strings.Contains(r.stderr, "api-key") {
				t.Errorf("stderr does not say why:\n%s", r.stderr)
			}
		}
	})

	for _, o := range seen.list {
		assertAbsent(t, o.name, []byte(o.data), secretKey, wrongKey)
	}
	files := assertTreeAbsent(t, dir, secretKey, wrongKey)
	// The search must have covered the kinds of files the issue names.
	for _, want := range []string{"env.db", "file.db", "killed.db", "env.db-report.csv", "env.db-summary.json", "env.db.prom",
		"env.db-all.csv", "env.db-failed-rejected-invalid.json", "wrong.db-summary.json"} {
		found := false
		for _, f := range files {
			found = found || f == want
		}
		if !found {
			t.Errorf("%s was not written, so not searched (files: %v)", want, files)
		}
	}
	t.Logf("searched %d outputs and %d files", len(seen.list), len(files))
}

// pesel completes the first 10 digits of a PESEL with its check digit.
func pesel(first10 string) string {
	sum := 0
	for i, w := range []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3} {
		sum += int(first10[i]-'0') * w
	}
	return first10 + string(rune('0'+(10-sum%10)%10))
}

// brokenCheckDigit changes the check digit of a valid PESEL.
func brokenCheckDigit(p string) string {
	return p[:10] + string(rune('0'+(p[10]-'0'+1)%10))
}

// setFlag sets the value that follows flag in args.
func setFlag(args []string, flag, value string) {
	for i := range args[:len(args)-1] {
		if args[i] == flag {
			args[i+1] = value
			return
		}
	}
	panic("no flag " + flag)
}

// piiRow is a row with the given personal data.
func piiRow(id, city, doc, pesel, birth string) string {
	return fmt.Sprintf("%s,%s@example.com,Ewa,Zielińska,ul. Słoneczna 3,%s,PL,ID_CARD,%s,%s,PL,%s\n", id, id, city, doc, pesel, birth)
}

// piiCase is the personal data of the PII tests: distinctive PESELs (with
// a valid check digit, except the invalid row's) and document numbers.
type piiCase struct {
	okPESEL, okDoc, rejPESEL, rejDoc, invPESEL, invDoc string
}

func newPIICase() piiCase {
	return piiCase{
		okPESEL: pesel("8706141234"), okDoc: "ZQX918273", // 1987-06-14: created
		rejPESEL: pesel("9203157788"), rejDoc: "KWP564738", // 1992-03-15: rejected by the API (no city)
		invPESEL: brokenCheckDigit(pesel("7511023456")), invDoc: "MNB102938", // refused locally
	}
}

func (p piiCase) all() []string {
	return []string{p.okPESEL, p.okDoc, p.rejPESEL, p.rejDoc, p.invPESEL, p.invDoc}
}

// writeFile writes filler users with the three PII rows among them.
func (p piiCase) writeFile(t *testing.T, path string, filler int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(csvHeader)
	for n := range filler {
		b.WriteString(userRow(n))
		switch n {
		case filler / 5:
			b.WriteString(piiRow("pii-ok", "Gdańsk", p.okDoc, p.okPESEL, "1987-06-14"))
		case filler * 2 / 5:
			b.WriteString(piiRow("pii-rejected", "", p.rejDoc, p.rejPESEL, "1992-03-15"))
		case filler * 3 / 5:
			b.WriteString(piiRow("pii-invalid", "Gdańsk", p.invDoc, p.invPESEL, "1975-11-02"))
		}
	}
	writeFile(t, path, b.String())
}

// TestPersonalDataStaysOut: distinctive PESELs and document numbers, in a
// row that succeeds, one the API rejects and one refused locally, never
// appear in stdout or stderr (debug logs, text and JSON), status, summary
// or metrics. The rejected and invalid rows' data does stay in the
// checkpoint and in the failure report (0600), by design: docs/design.md keeps
// personal data in the ledger while a row has not succeeded, because a
// rerun or a regenerated failure report needs it.
// TestCheckpointForgetsSucceededRows checks that it goes once they succeed.
func TestPersonalDataStaysOut(t *testing.T) {
	t.Parallel()
	p := newPIICase()
	sb := startSandbox(t)
	dir := t.TempDir()
	const filler = 150
	p.writeFile(t, filepath.Join(dir, "users.csv"), filler)

	var seen outputs
	for _, tc := range []struct{ cp, format string }{
		{"text.db", "text"}, // creates every user
		{"json.db", "json"}, // same sandbox: every user exists (P411 + lookup)
	} {
		r := runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", tc.cp, "--base-url", sb.URL,
			"--rate", "0", "--progress", "none", "--required", requiredNoCity, "--log-level", "debug", "--log-format", tc.format,
			"--report", tc.cp+"-report.csv", "--summary", tc.cp+"-summary.json", "--metrics-file", tc.cp+".prom")
		seen.add("run "+tc.cp, r)
		if r.code != 1 {
			t.Fatalf("run %s: exit %d, want 1; stderr:\n%s", tc.cp, r.code, r.stderr)
		}
		s := readSummary(t, filepath.Join(dir, tc.cp+"-summary.json"))
		if s.Created+s.Exists != filler+1 || s.Rejected != 1 || s.Invalid != 1 {
			t.Fatalf("run %s: %+v, want %d succeeded, 1 rejected, 1 invalid", tc.cp, s, filler+1)
		}
		if !strings.Contains(r.stderr, "pii-rejected") || !strings.Contains(r.stderr, "pii-invalid") {
			t.Errorf("run %s: the rows not imported are not logged (by externalUserId):\n%s", tc.cp, r.stderr)
		}
		seen.add("status "+tc.cp, runImporter(t, dir, nil, "status", "--checkpoint", tc.cp))
		seen.add("status --json "+tc.cp, runImporter(t, dir, nil, "status", "--checkpoint", tc.cp, "--json"))
		for _, f := range []string{tc.cp + "-summary.json", tc.cp + ".prom"} {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			assertAbsent(t, f, data, p.all()...)
		}

		// By design the rows that did not succeed keep their data.
		exp := runImporter(t, dir, nil, "export", "--checkpoint", tc.cp, "--state", "rejected,invalid", "--format", "json")
		var entries []struct {
			ID  string            `json:"externalUserId"`
			Row map[string]string `json:"row"`
		}
		if err := json.Unmarshal([]byte(exp.stdout), &entries); err != nil {
			t.Fatalf("export: %v\n%s", err, exp.stdout)
		}
		kept := map[string][2]string{}
		for _, e := range entries {
			kept[e.ID] = [2]string{e.Row["pesel"], e.Row["documentNumber"]}
		}
		if kept["pii-rejected"] != [2]string{p.rejPESEL, p.rejDoc} || kept["pii-invalid"] != [2]string{p.invPESEL, p.invDoc} {
			t.Errorf("%s: the failed rows' data is not kept for a rerun: %v", tc.cp, kept)
		}
		report, err := os.ReadFile(filepath.Join(dir, tc.cp+"-report.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(report, []byte(p.rejPESEL)) || !bytes.Contains(report, []byte(p.invDoc)) {
			t.Errorf("%s: the failure report lacks the data a rerun needs", tc.cp)
		}
		assertAbsent(t, tc.cp+"-report.csv", report, p.okPESEL, p.okDoc)
		checkMode(t, filepath.Join(dir, tc.cp+"-report.csv"), 0o600)
		checkMode(t, filepath.Join(dir, tc.cp), 0o600)
	}
	for _, o := range seen.list {
		assertAbsent(t, o.name, []byte(o.data), p.all()...)
	}
}

// TestCheckpointForgetsSucceededRows: once a row has succeeded, no byte of
// the checkpoint (database and WAL, live rows or freed space) holds its
// PESEL, document number or email; only the rows not yet succeeded keep
// theirs. Checked after a clean run big enough for SQLite to reuse pages
// and checkpoint its WAL mid-run (as a real import does), after a rejected
// row is fixed and succeeds, and after a killed run is resumed.
func TestCheckpointForgetsSucceededRows(t *testing.T) {
	t.Parallel()
	p := newPIICase()
	sb := startSandbox(t)
	dir := t.TempDir()
	p.writeFile(t, filepath.Join(dir, "users.csv"), 2000)
	r := runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
		"--rate", "0", "--workers", "16", "--progress", "none", "--required", requiredNoCity, "--summary", "summary.json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if s := readSummary(t, filepath.Join(dir, "summary.json")); s.Created != 2001 || s.Rejected != 1 || s.Invalid != 1 {
		t.Fatalf("summary %+v: want 2001 created, 1 rejected, 1 invalid", s)
	}
	checkCheckpointAbsent(t, filepath.Join(dir, "cp.db"), p.okPESEL, p.okDoc)
	checkCheckpointPII(t, filepath.Join(dir, "cp.db"), p.rejPESEL, p.rejDoc, "pii-rejected@example.com", p.invPESEL, p.invDoc, "pii-invalid@example.com")

	t.Run("fixed row succeeds and its data goes", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "fixed.csv"), csvHeader+piiRow("pii-rejected", "Sopot", p.rejDoc, p.rejPESEL, "1992-03-15"))
		r := runImporter(t, dir, keyEnv(), "run", "--input", "fixed.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
			"--rate", "0", "--progress", "none")
		if r.code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		checkCheckpointAbsent(t, filepath.Join(dir, "cp.db"), p.rejPESEL, p.rejDoc, p.okPESEL, p.okDoc)
		checkCheckpointPII(t, filepath.Join(dir, "cp.db"), p.invPESEL, p.invDoc, "pii-invalid@example.com")
	})

	t.Run("after a crash and a resumed run", func(t *testing.T) {
		slow := startSandbox(t, "--latency", "100ms")
		writeUsers(t, filepath.Join(dir, "crash.csv"), 5000, 5080)
		args := []string{"run", "--input", "crash.csv", "--checkpoint", "crash.db", "--base-url", slow.URL,
			"--rate", "0", "--workers", "8", "--progress", "none"}
		startKilled(t, slow, 24, dir, keyEnv(), args...)
		setFlag(args, "--workers", "80") // finish quickly
		if r := runImporter(t, dir, keyEnv(), args...); r.code != 0 {
			t.Fatalf("resumed run: exit %d; stderr:\n%s", r.code, r.stderr)
		}
		checkCheckpointPII(t, filepath.Join(dir, "crash.db"))
	})
}

// checkCheckpointAbsent searches the checkpoint database and its WAL for
// the needles.
func checkCheckpointAbsent(t *testing.T, db string, needles ...string) {
	t.Helper()
	for _, f := range []string{db, db + "-wal"} {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) && f != db {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		assertAbsent(t, filepath.Base(f), data, needles...)
	}
}

// piiField finds the personal fields of the row data the checkpoint keeps
// as JSON, in the raw bytes of the file, live or left over. A value is
// printable text: a match across binary page content is not a value.
var piiField = regexp.MustCompile(`"(pesel|documentNumber|email|birthDate|address)":"([^"\\\x00-\x1f\x7f]{1,200})"`)

// checkCheckpointPII fails for every PESEL, document number, email, birth
// date or address found in the checkpoint's bytes (database and WAL), live
// or in freed space, other than the allowed values: those of the rows that
// have not succeeded.
func checkCheckpointPII(t *testing.T, db string, allowed ...string) {
	t.Helper()
	for _, f := range []string{db, db + "-wal"} {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) && f != db {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var leaked []string
		for _, m := range piiField.FindAllSubmatch(data, -1) {
			field, value := string(m[1]), string(m[2])
			if field == "birthDate" || field == "address" {
				// Shared by many rows: reported only when no allowed row
				// explains them, which the distinctive fields already do.
				continue
			}
			if !slices.Contains(allowed, value) {
				leaked = append(leaked, field+"="+value)
			}
		}
		if len(leaked) > 0 {
			slices.Sort(leaked)
			leaked = slices.Compact(leaked)
			byField := map[string]int{}
			for _, l := range leaked {
				field, _, _ := strings.Cut(l, "=")
				byField[field]++
			}
			t.Errorf("%s holds personal data of rows that succeeded: %d distinct values %v, e.g. %v",
				filepath.Base(f), len(leaked), byField, leaked[:min(len(leaked), 4)])
		}
	}
}

// recorder is a loopback server that records every request it receives.
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.requests = append(rec.requests, r.Clone(context.Background()))
		rec.mu.Unlock()
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) countMethod(method string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, req := range r.requests {
		if req.Method == method {
			n++
		}
	}
	return n
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// TestRedirectIsNotFollowed: an API answering 307 to another loopback
// server: that server receives nothing (Go would forward x-api-key to it);
// a redirect is not an answer P100 gives, so the run stops (exit 3) naming
// the redirect and its target, and records no row.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	target := newRecorder(t, nil)
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 3)
	r := runImporter(t, dir, []string{"P100_API_KEY=" + secretKey}, "run", "--input", "users.csv", "--base-url", api.URL,
		"--rate", "0", "--progress", "none", "--report", "report.csv", "--summary", "summary.json")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr:\n%s", r.code, r.stderr)
	}
	if n := target.count(); n != 0 {
		t.Errorf("the redirect target received %d requests (headers of the first: %v)", n, target.requests[0].Header)
	}
	if n := api.count(); n < 1 || n > 3 {
		t.Errorf("the API received %d requests, want 1 to 3 (no retry of a redirect)", n)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Rows != 0 || s.Rejected != 0 {
		t.Errorf("summary %+v: want no row recorded from a redirect", s)
	}
	host := strings.TrimPrefix(target.URL, "http://")
	if !strings.Contains(r.stderr, "redirect") || !strings.Contains(r.stderr, host) || !strings.Contains(r.stderr, "--base-url") {
		t.Errorf("stderr does not name the redirect to %s and --base-url:\n%s", host, r.stderr)
	}
	assertAbsent(t, "stdout+stderr", []byte(r.stdout+r.stderr), secretKey)
}

// acceptCounter listens on addr and counts the connections it accepts.
type acceptCounter struct {
	ln net.Listener
	n  atomic.Int64
}

func newAcceptCounter(t *testing.T, addr string) *acceptCounter {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil
	}
	a := &acceptCounter{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			a.n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return a
}

// nonLoopbackIPv4 returns an address of this machine that is not loopback,
// or "" when it has none.
func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	return ""
}

// TestPlainHTTPToRemoteHostRefused: http:// to a host that is not loopback
// ends with exit 2 before any connection: a listener on a non-loopback
// address of this machine (when it has one) and an HTTP proxy named by the
// environment (through which a request to example.com would go) both see
// nothing.
func TestPlainHTTPToRemoteHostRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 3)
	proxy := newAcceptCounter(t, "127.0.0.1:0")
	if proxy == nil {
		t.Fatal("cannot listen on loopback")
	}
	proxyURL := "http://" + proxy.ln.Addr().String()
	env := []string{"P100_API_KEY=" + secretKey, "HTTP_PROXY=" + proxyURL, "http_proxy=" + proxyURL,
		"HTTPS_PROXY=" + proxyURL, "https_proxy=" + proxyURL}

	urls := []string{"http://example.com", "http://93.184.215.14:8080", "http://localhost.example.com", "http://127.0.0.1.nip.io"}
	var remote *acceptCounter
	if ip := nonLoopbackIPv4(); ip != "" {
		if remote = newAcceptCounter(t, ip+":0"); remote != nil {
			urls = append(urls, "http://"+remote.ln.Addr().String())
		}
	}
	if remote == nil {
		t.Log("no non-loopback address to listen on: only the proxy watches for connections")
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			for _, how := range []struct {
				name string
				env  []string
				args []string
			}{
				{"--base-url", env, []string{"--base-url", u}},
				{"P100_BASE_URL", append(env[:len(env):len(env)], "P100_BASE_URL="+u), nil},
			} {
				r := runImporter(t, dir, how.env, append([]string{"run", "--input", "users.csv", "--checkpoint", "http.db",
					"--rate", "0", "--progress", "none"}, how.args...)...)
				if r.code != 2 || !strings.Contains(r.stderr, "plain http") {
					t.Errorf("%s: exit %d, want 2 with \"plain http\" in stderr:\n%s", how.name, r.code, r.stderr)
				}
				assertAbsent(t, how.name+" output", []byte(r.stdout+r.stderr), secretKey)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let a late connection be counted
	if n := proxy.n.Load(); n != 0 {
		t.Errorf("the proxy received %d connections", n)
	}
	if remote != nil && remote.n.Load() != 0 {
		t.Errorf("the non-loopback listener received %d connections", remote.n.Load())
	}
}

// TestOversizedResponse: an answer larger than 1 MiB is read no further,
// without a crash or an out-of-memory: an error answer is a clear error for
// that row; a 201 is still a created user (never sent again) whose userId
// is unknown.
func TestOversizedResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
	}{
		{"201 with a 2 MiB body", http.StatusCreated},
		{"400 with a 2 MiB body", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, `{"userId":"`+strings.Repeat("a", 2<<20)+`","balances":[]}`)
			})
			dir := t.TempDir()
			writeUsers(t, filepath.Join(dir, "users.csv"), 0, 2)
			r := runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--base-url", api.URL, "--rate", "0",
				"--progress", "none", "--max-attempts", "2", "--report", "report.csv", "--summary", "summary.json")
			if tc.status == http.StatusCreated {
				s := readSummary(t, filepath.Join(dir, "summary.json"))
				if r.code != 0 || s.Created != 2 || api.countMethod(http.MethodPost) != 2 {
					t.Errorf("exit %d, summary %+v, %d creates: want both created, each sent once; stderr:\n%s",
						r.code, s, api.countMethod(http.MethodPost), r.stderr)
				}
				return
			}
			if r.code != 1 || strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("exit %d, want 1 without a crash; stderr:\n%s", r.code, r.stderr)
			}
			s := readSummary(t, filepath.Join(dir, "summary.json"))
			if s.Failed+s.Rejected != 2 {
				t.Errorf("summary %+v: want both rows not imported", s)
			}
			report, err := os.ReadFile(filepath.Join(dir, "report.csv"))
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range parseCSV(t, string(report))[1:] {
				if msg := rec[len(rec)-2]; !strings.Contains(msg, "larger than 1048576 bytes") {
					t.Errorf("report message %q does not say the answer was too large", msg)
				}
			}
			if len(report) > 64<<10 {
				t.Errorf("report is %d bytes: the oversized body was copied into it", len(report))
			}
		})
	}
}

// TestEscapesAreStripped: an errorMessage from the API and a CSV value
// holding terminal escapes, bell and line breaks reach neither the console
// (text or JSON logs) nor the report's message column as control
// characters, and cannot forge a log line.
func TestEscapesAreStripped(t *testing.T) {
	t.Parallel()
	const evil = "\x1b]0;pwned\x07\x1b[31mEVIL\x1b[0m\r\nlevel=ERROR msg=forged\u202eevil"
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := json.Marshal(map[string]string{"errorCode": "P403", "errorName": "bad\x1b[2Jname", "errorMessage": evil})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write(body)
	})
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 2, "\"evil\x1b[2J\x07id\",e@example.com,Jan,Nowak,ul. A 1,Gdańsk,PL,ID_CARD,XYZ000001,,PL,1980-01-01\n")
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			r := runImporter(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", format+".db", "--base-url", api.URL,
				"--rate", "0", "--progress", "none", "--log-format", format, "--report", format+"-report.csv")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "EVIL") {
				t.Errorf("the API's message is not logged at all:\n%s", r.stderr)
			}
			for i, c := range []byte(r.stderr + r.stdout) {
				if (c < 0x20 && c != '\n') || c == 0x7f {
					t.Errorf("console output holds control byte %#x at %d: %q", c, i, r.stderr)
					break
				}
			}
			for _, bad := range []string{`\u001b`, `\x1b`, `\u0007`, `\r`, "\u202e", `\u202e`} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("console output holds %q:\n%s", bad, r.stderr)
				}
			}
			for _, line := range strings.Split(r.stderr, "\n") {
				if strings.HasPrefix(line, "level=ERROR msg=forged") || strings.HasPrefix(line, "msg=forged") {
					t.Errorf("a forged log line: %q", line)
				}
			}
			report, err := os.ReadFile(filepath.Join(dir, format+"-report.csv"))
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range parseCSV(t, string(report))[1:] {
				if msg := rec[len(rec)-2]; strings.ContainsAny(msg, "\x1b\x07\r\n\u202e") {
					t.Errorf("report message %q holds control characters", msg)
				}
			}
		})
	}
}

// umaskCmd runs the importer under umask 000, so that a file whose mode
// is left to the umask shows up as world-readable.
func umaskCmd(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := importerCmd(ctx, dir, env, args...)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to set the umask")
	}
	cmd.Args = append([]string{"sh", "-c", `umask 000 && exec "$0" "$@"`, cmd.Path}, args...)
	cmd.Path = sh
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// TestFileModes: the checkpoint with its -wal and -shm, the failure report,
// the summary and the exports are 0600 even under umask 000. The metrics
// file is meant for node_exporter, which may run as another user: it must
// only not be writable by others.
func TestFileModes(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--latency", "100ms")
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 40, opsRow("no-city", "nocity@example.com", ""))

	// A killed run leaves -wal and -shm behind.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := importerCmd(ctx, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
		"--rate", "0", "--workers", "4", "--progress", "none", "--required", requiredNoCity)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to set the umask")
	}
	cmd.Args = append([]string{"sh", "-c", `umask 000 && exec "$0" "$@"`, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = sh
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return sb.Stats(t).Requests >= 4 })
	cmd.Process.Kill()
	cmd.Wait()
	for _, f := range []string{"cp.db", "cp.db-wal", "cp.db-shm"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after the crash: %v", err)
			continue
		}
		checkMode(t, filepath.Join(dir, f), 0o600)
	}

	r := umaskCmd(t, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
		"--rate", "0", "--workers", "40", "--progress", "none", "--required", requiredNoCity,
		"--report", "report.csv", "--summary", "summary.json", "--metrics-file", "metrics.prom")
	if r.code != 1 {
		t.Fatalf("run: exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	for _, state := range []string{"created,exists", "failed,rejected,invalid", "all"} {
		for _, format := range []string{"csv", "json"} {
			out := fmt.Sprintf("export-%s.%s", strings.ReplaceAll(state, ",", "-"), format)
			if r := umaskCmd(t, dir, nil, "export", "--checkpoint", "cp.db", "--state", state, "--format", format, "--output", out); r.code != 0 {
				t.Fatalf("export: exit %d; stderr:\n%s", r.code, r.stderr)
			}
			checkMode(t, filepath.Join(dir, out), 0o600)
		}
	}
	for _, f := range []string{"cp.db", "report.csv", "summary.json"} {
		checkMode(t, filepath.Join(dir, f), 0o600)
	}
	for _, f := range []string{"cp.db-wal", "cp.db-shm"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			checkMode(t, filepath.Join(dir, f), 0o600)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "metrics.prom")); err != nil || fi.Mode().Perm()&0o022 != 0 {
		t.Errorf("metrics file: %v, mode %v: must not be writable by group or others", err, fi.Mode())
	}
	// No temporary file of an atomic write is left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}
