package main_test

// Helpers for the end-to-end tests: they build the real binaries once,
// start the sandbox binary on a free loopback port and run the importer
// binary as a user would, checking exit codes, stdout and stderr.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/sandbox"
)

// binDir holds the binaries TestMain builds.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "p100-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	args := []string{"build", "-o", dir}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/p100/p100-importer/cmd/importer", "github.com/p100/p100-importer/cmd/p100-sandbox")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sandboxProc is a running p100-sandbox binary.
type sandboxProc struct {
	URL string
	cmd *exec.Cmd
}

// startSandbox starts the sandbox binary with extra flags; it is stopped
// when the test ends.
func startSandbox(t *testing.T, args ...string) *sandboxProc {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "p100-sandbox"), append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("sandbox did not start: %v; stderr: %s", err, stderr.String())
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "p100-sandbox listening on "))
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("unexpected sandbox line %q", line)
	}
	go io.Copy(io.Discard, out)
	return &sandboxProc{URL: url, cmd: cmd}
}

// Stats reads GET /_sandbox/stats.
func (s *sandboxProc) Stats(t *testing.T) sandbox.Stats {
	t.Helper()
	var st sandbox.Stats
	s.getJSON(t, "/_sandbox/stats", &st)
	return st
}

// Users returns externalUserId -> userId for every user the sandbox holds.
func (s *sandboxProc) Users(t *testing.T) map[string]string {
	t.Helper()
	users := map[string]string{}
	s.getJSON(t, "/_sandbox/users", &users)
	return users
}

func (s *sandboxProc) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// SetFaults changes the sandbox's fault rates at runtime.
func (s *sandboxProc) SetFaults(t *testing.T, faults string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, s.URL+"/_sandbox/faults", strings.NewReader(faults))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT /_sandbox/faults %s: %s", faults, resp.Status)
	}
}

// result is how an importer process ended.
type result struct {
	code           int
	stdout, stderr string
}

// importerCmd prepares the importer binary with args, in dir, with the
// given environment on top of a minimal one (no P100_* from the host).
func importerCmd(ctx context.Context, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "importer"), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	return cmd
}

// runImporter runs the importer to completion (at most a minute).
func runImporter(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := importerCmd(ctx, dir, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run importer: %v", err)
		}
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		t.Fatalf("importer %v did not finish within a minute; stderr:\n%s", args, stderr.String())
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// keyEnv is the environment that gives the importer the sandbox's key.
func keyEnv(extra ...string) []string {
	return append([]string{"P100_API_KEY=sandbox-key"}, extra...)
}

const csvHeader = "externalUserId,email,firstName,lastName,address,city,country,documentType,documentNumber,pesel,birthCountry,birthDate\n"

// userRow is a valid row for user n.
func userRow(n int) string {
	return fmt.Sprintf("user-%06d,user%d@example.com,Zofia,Wiśniewska,ul. Długa %d,Gdańsk,PL,ID_CARD,ABC%06d,,PL,1985-03-%02d\n",
		n, n, n%100+1, n, n%28+1)
}

// writeUsers writes a CSV of users [from, to) plus any extra raw lines.
func writeUsers(t *testing.T, path string, from, to int, extra ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(csvHeader)
	for n := from; n < to; n++ {
		b.WriteString(userRow(n))
	}
	for _, l := range extra {
		b.WriteString(l)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// readSummary reads a --summary file and checks its counts add up.
func readSummary(t *testing.T, path string) importer.Summary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s importer.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("summary %s: %v", path, err)
	}
	if s.Rows != s.Created+s.Exists+s.Skipped+s.Invalid+s.Rejected+s.Failed {
		t.Errorf("summary counts do not add up: %+v", s)
	}
	return s
}

// Requests returns externalUserId -> the fields the sandbox received for
// each user it created (the sandbox must run with --keep-requests).
func (s *sandboxProc) Requests(t *testing.T) map[string]map[string]string {
	t.Helper()
	reqs := map[string]map[string]string{}
	s.getJSON(t, "/_sandbox/users?requests=1", &reqs)
	return reqs
}
