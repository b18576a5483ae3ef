package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/p100/p100-importer/internal/sandbox"
)

// apiKey is the sandbox's fake key (sandbox.DefaultAPIKey).
const apiKey = "sandbox-key"

// sandboxProc is a p100-sandbox child process.
type sandboxProc struct {
	cmd  *exec.Cmd
	URL  string
	done chan error
}

// startSandbox starts bin/p100-sandbox on a free loopback port with extra
// flags and waits for its "listening on" line.
func startSandbox(ctx context.Context, bin, logPath string, flags ...string) (*sandboxProc, error) {
	args := append([]string{"--addr", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	s := &sandboxProc{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "p100-sandbox listening on "); ok {
				lines <- url
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case s.URL = <-lines:
		return s, nil
	case err := <-s.done:
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("start sandbox %s: exited (%v): %s", strings.Join(args, " "), err, tail(log))
	case <-time.After(10 * time.Second):
		s.stop()
		return nil, fmt.Errorf("start sandbox: no 'listening on' line within 10s (log: %s)", logPath)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// stats reads the sandbox's counters.
func (s *sandboxProc) stats(ctx context.Context) (sandbox.Stats, error) {
	var st sandbox.Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_sandbox/stats", nil)
	if err != nil {
		return st, fmt.Errorf("sandbox stats: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("sandbox stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("sandbox stats: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("sandbox stats: %w", err)
	}
	return st, nil
}

// stop ends the sandbox with SIGTERM (SIGKILL after 5s), waits for it and
// returns the CPU time it used.
func (s *sandboxProc) stop() time.Duration {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if ps := s.cmd.ProcessState; ps != nil {
		return ps.UserTime() + ps.SystemTime()
	}
	return 0
}

// childResult is what a finished child process cost.
type childResult struct {
	Wall time.Duration
	CPU  time.Duration // user + system
	// MaxRSS is the child's ru_maxrss (KiB). On Linux it is at least the
	// RSS this program had when it started the child: Go starts children
	// with clone(CLONE_VM|CLONE_VFORK), and execve records the shared
	// memory's high-water mark in the child's maxrss. runChild shrinks
	// this program's RSS and resets its high-water mark first (ParentRSS is
	// what remained), so MaxRSS is exact whenever it is above ParentRSS.
	MaxRSS    int64
	ParentRSS int64 // KiB: this program's RSS when the child started
	// PolledHWM is the child's VmHWM read from /proc every 10 ms while it
	// ran: a lower bound of its own peak, free of the parent's memory.
	PolledHWM int64
	Exit      int
	Stdout    []byte
	Stderr    []byte
	Command   string
}

// PeakRSS is the child's peak RSS in KiB: ru_maxrss, unless it may be the
// parent's memory showing through (see MaxRSS), then the polled VmHWM.
func (r childResult) PeakRSS() int64 {
	if r.MaxRSS > r.ParentRSS || r.PolledHWM == 0 {
		return r.MaxRSS
	}
	return r.PolledHWM
}

// runChild runs bin with args to completion and measures it. A non-zero
// exit is returned as an error carrying the tail of stderr.
func runChild(ctx context.Context, env []string, bin string, args ...string) (childResult, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := childResult{Command: filepath.Base(bin) + " " + strings.Join(args, " ")}

	debug.FreeOSMemory()
	resetPeakRSS()
	r.ParentRSS = procStatusKiB("self", "VmRSS")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("%s: %w", r.Command, err)
	}
	polled := make(chan int64, 1)
	exited := make(chan struct{})
	go func() { polled <- pollHWM(cmd.Process.Pid, exited) }()
	err := cmd.Wait()
	r.Wall = time.Since(start)
	close(exited)
	r.PolledHWM = <-polled
	r.Stdout, r.Stderr = stdout.Bytes(), stderr.Bytes()
	if ps := cmd.ProcessState; ps != nil {
		r.Exit = ps.ExitCode()
		r.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w: %s", r.Command, err, tail(r.Stderr))
	}
	return r, nil
}

// pollHWM reads the VmHWM of process pid every 10 ms until exited is
// closed and returns the highest value read (KiB).
func pollHWM(pid int, exited <-chan struct{}) int64 {
	name := strconv.Itoa(pid)
	var hwm int64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		hwm = max(hwm, procStatusKiB(name, "VmHWM"))
		select {
		case <-exited:
			return hwm
		case <-t.C:
		}
	}
}

// procStatusKiB returns a "kB" field of /proc/<pid>/status; 0 if unknown.
func procStatusKiB(pid, field string) int64 {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeakRSS resets this process's RSS high-water mark to its current
// RSS (Linux: "5" to /proc/self/clear_refs), so a child started next does
// not inherit an earlier peak of ours in its ru_maxrss. Best effort.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// tail returns the last lines of a child's output for an error message.
func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if lines := strings.Split(s, "\n"); len(lines) > 8 {
		s = strings.Join(lines[len(lines)-8:], "\n")
	}
	if s == "" {
		return "(no output)"
	}
	return s
}

// importSummary is the part of the importer's --summary JSON the
// benchmark reads.
type importSummary struct {
	Rows            int     `json:"rows"`
	Created         int     `json:"created"`
	Skipped         int     `json:"skipped"`
	Invalid         int     `json:"invalid"`
	Failed          int     `json:"failed"`
	Requests        int64   `json:"requests"`
	DurationSeconds float64 `json:"duration_seconds"`
	RowsPerSecond   float64 `json:"rows_per_second"`
	ExitCode        int     `json:"exit_code"`
	RateLimitFound  float64 `json:"rate_limit_found"`
}

// importRun is one `importer run` and what it cost.
type importRun struct {
	childResult
	Summary importSummary
}

// runImporter runs `importer run` with the given flags (after --input,
// --checkpoint, --base-url, --summary, --progress none, --quiet).
func runImporter(ctx context.Context, o *options, input, checkpoint, baseURL string, flags ...string) (importRun, error) {
	sumPath := checkpoint + ".summary.json"
	_ = os.Remove(sumPath)
	args := append([]string{"run", "--input", input, "--checkpoint", checkpoint, "--base-url", baseURL,
		"--summary", sumPath, "--progress", "none", "--quiet"}, flags...)
	env := append([]string{"P100_API_KEY=" + apiKey}, o.ImporterEnv...)
	res, err := runChild(ctx, env, o.importerBin(), args...)
	ir := importRun{childResult: res}
	if err != nil {
		return ir, err
	}
	data, err := os.ReadFile(sumPath)
	if err != nil {
		return ir, fmt.Errorf("read importer summary: %w", err)
	}
	if err := json.Unmarshal(data, &ir.Summary); err != nil {
		return ir, fmt.Errorf("read importer summary %s: %w", sumPath, err)
	}
	return ir, nil
}

// vegetaReport is the part of `vegeta report -type=json` the benchmark reads.
type vegetaReport struct {
	Requests    int64            `json:"requests"`
	Duration    time.Duration    `json:"duration"` // first to last request sent
	Wait        time.Duration    `json:"wait"`     // last request's latency
	Throughput  float64          `json:"throughput"`
	StatusCodes map[string]int64 `json:"status_codes"`
	Errors      []string         `json:"errors"`
}

// vegetaRun is one `vegeta attack` and what it cost.
type vegetaRun struct {
	childResult
	Report  vegetaReport
	Created int64 // 201 answers
}

// runVegeta attacks baseURL with targetsPath at an unlimited rate with
// exactly workers concurrent requests and reads its report.
func runVegeta(ctx context.Context, o *options, targetsPath string, workers int) (vegetaRun, error) {
	resultsPath := targetsPath + ".results.bin"
	w := fmt.Sprint(workers)
	res, err := runChild(ctx, nil, o.Vegeta, "attack", "-format=json", "-lazy", "-rate=0",
		"-workers="+w, "-max-workers="+w, "-targets="+targetsPath, "-output="+resultsPath)
	vr := vegetaRun{childResult: res}
	if err != nil {
		return vr, err
	}
	rep, err := runChild(ctx, nil, o.Vegeta, "report", "-type=json", resultsPath)
	if err != nil {
		return vr, err
	}
	if err := json.Unmarshal(rep.Stdout, &vr.Report); err != nil {
		return vr, fmt.Errorf("read vegeta report: %w", err)
	}
	vr.Created = vr.Report.StatusCodes["201"]
	return vr, nil
}

// fileSize returns the size of path, 0 when it does not exist.
func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
