package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

var listening = regexp.MustCompile(`^p100-sandbox listening on (http://127\.0\.0\.1:[0-9]+)$`)

const createBody = `{"externalUserId":"cli-1","email":"johndoe@gmail.com","firstName":"John","lastName":"Doe",` +
	`"address":"Adama Matuszczaka 51/4","city":"Rzeszów","country":"PL","documentType":"PASSPORT","documentNumber":"CEV124630"}`

// MustCreate posts one user to base with key and checks the 201.
func MustCreate(tb testing.TB, base, key string) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, base+"/v1/user/balances/crypto", strings.NewReader(createBody))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header["x-api-key"] = []string{key}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("create: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(body, []byte(`"userId"`)) {
		tb.Fatalf("create: status %d, body %s", resp.StatusCode, body)
	}
}

// MustReadURL reads the listening line from r and returns the base URL.
func MustReadURL(tb testing.TB, r io.Reader) string {
	tb.Helper()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		m := listening.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			tb.Fatalf("first line %q is not the listening line", line)
		}
		return m[1]
	case <-time.After(5 * time.Second):
		tb.Fatal("no listening line within 5s")
		return ""
	}
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdoutR, stdoutW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--api-key", "k1", "--seed", "3"}, stdoutW, &stderr)
		stdoutW.Close()
	}()
	base := MustReadURL(t, stdoutR)
	MustCreate(t, base, "k1")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	// Exactly one line on stdout; the settings logged once on stderr.
	if rest, _ := io.ReadAll(stdoutR); len(rest) != 0 {
		t.Errorf("more on stdout: %q", rest)
	}
	log := stderr.String()
	if strings.Count(log, "sandbox starting") != 1 || !strings.Contains(log, "seed=3") {
		t.Errorf("stderr = %q, want one start line with the settings", log)
	}
	if strings.Contains(log, "k1") {
		t.Errorf("stderr shows the API key: %q", log)
	}
}

func TestExitCodes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // exact, when not empty
		stderr string // substring, when not empty
	}{
		{"version", []string{"--version"}, 0, "p100-sandbox dev\n", ""},
		// -h prints the flags and is not a failure.
		{"help", []string{"-h"}, 0, "", "-slow-latency"},
		{"unknown flag", []string{"--bogus"}, 2, "", "flag provided but not defined"},
		{"bad duration", []string{"--latency", "fast"}, 2, "", "invalid value"},
		{"rate above 1", []string{"--fail-rate", "1.5"}, 2, "", "--fail-rate must be between 0 and 1"},
		{"negative rate", []string{"--reset-rate", "-0.1"}, 2, "", "--reset-rate must be between 0 and 1"},
		{"burst 0 with a limit", []string{"--rate-limit", "5", "--burst", "0"}, 2, "", "--burst must be at least 1"},
		{"empty key", []string{"--api-key", ""}, 2, "", "--api-key must not be empty"},
		{"argument", []string{"serve"}, 2, "", `unexpected argument "serve"`},
		// The address is taken: not a usage error.
		{"address in use", []string{"--addr", busy.Addr().String()}, 1, "", "listen:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			code := exitCode(run(ctx, tt.args, &stdout, &stderr), &stderr)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if tt.stdout != "" && stdout.String() != tt.stdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.stderr)
			}
		})
	}
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGTERM")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	bin := filepath.Join(t.TempDir(), "p100-sandbox")
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // in case the test failed before it stopped
	})

	base := MustReadURL(t, stdout)
	if d := time.Since(start); d > time.Second {
		t.Errorf("listening after %v, want well under a second", d)
	}
	MustCreate(t, base, "sandbox-key")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil { // an *exec.ExitError for a non-zero status
			t.Fatalf("exit after SIGTERM: %v\nstderr: %s", err, stderr.String())
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("still running 3s after SIGTERM\nstderr: %s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "sandbox stopped") {
		t.Errorf("stderr = %q, want a clean stop", stderr.String())
	}
}
