package main_test

// End-to-end tests of what a run writes on stderr: for cron (every line
// dated, or every line a JSON object, the exit code last) and on a real
// terminal, a tmux pane (the bar's true figures after Ctrl-C, log lines
// above the bar, a 40-column terminal, an unknown total).

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeUsersWithGaps writes n users, every 50th with an invalid email,
// with a blank line, a line of empty cells and a repeated header among
// them: lines that are not rows.
func writeUsersWithGaps(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := range n {
		row := userRow(i)
		if i%50 == 7 {
			row = strings.Replace(row, fmt.Sprintf("user%d@example.com", i), "not-an-email", 1)
		}
		b.WriteString(row)
		switch i % 100 {
		case 10:
			b.WriteString("\n")
		case 20:
			b.WriteString(",,,,,,,,,,,\n")
		case 30:
			b.WriteString(csvHeader)
		}
	}
	writeFile(t, path, b.String())
}

var stamped = regexp.MustCompile(`^(time=)?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}) `)

func TestCronLines(t *testing.T) {
	dir := t.TempDir()
	writeUsersWithGaps(t, filepath.Join(dir, "users.csv"), 300)
	// 300 rows at 100/s: about 3 s, progress lines every 0.5 s.
	common := func(sb *sandboxProc) []string {
		return []string{"run", "--input", "users.csv", "--base-url", sb.URL, "--rate", "100",
			"--progress", "log", "--progress-every", "500ms", "--report", "failed.csv"}
	}

	t.Run("text", func(t *testing.T) {
		r := runImporter(t, dir, keyEnv(), append(common(startSandbox(t)), "--checkpoint", "text.db")...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		progress := 0
		for _, l := range lines {
			if !stamped.MatchString(l) {
				t.Errorf("a line without a timestamp: %q", l)
			}
			if strings.Contains(l, " progress: ") {
				progress++
				if !strings.Contains(l, " of 300 rows (") {
					t.Errorf("the progress total is not the 300 rows (blank lines, empty cells and a repeated header are not rows): %q", l)
				}
			}
		}
		if progress == 0 {
			t.Errorf("no progress line in:\n%s", r.stderr)
		}
		if last := lines[len(lines)-1]; !regexp.MustCompile(`^\S+ exit code 1: finished`).MatchString(last) {
			t.Errorf("the last line does not tell the exit code: %q", last)
		}
	})

	t.Run("json", func(t *testing.T) {
		r := runImporter(t, dir, keyEnv(), append(common(startSandbox(t)), "--checkpoint", "json.db", "--log-format", "json")...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		msgs := map[string]int{}
		var last map[string]any
		for _, l := range lines {
			var obj map[string]any
			if err := json.Unmarshal([]byte(l), &obj); err != nil {
				t.Errorf("a line that is not one JSON object (%v): %q", err, l)
				continue
			}
			if _, ok := obj["time"].(string); !ok {
				t.Errorf("a line without a time: %q", l)
			}
			msg, _ := obj["msg"].(string)
			msgs[msg]++
			switch msg {
			case "progress":
				if obj["total"] != 300.0 {
					t.Errorf("progress total %v, want 300: %q", obj["total"], l)
				}
				if _, ok := obj["done"].(float64); !ok {
					t.Errorf("progress without done: %q", l)
				}
				if _, ok := obj["rate"].(float64); !ok {
					t.Errorf("progress without rate: %q", l)
				}
			case "summary":
				sum, _ := obj["summary"].(map[string]any)
				if sum["rows"] != 300.0 || sum["invalid"] != 6.0 || sum["created"] != 294.0 {
					t.Errorf("summary object: %q", l)
				}
			}
			last = obj
		}
		for _, m := range []string{"progress", "summary", "row not imported", "failure report", "exit"} {
			if msgs[m] == 0 {
				t.Errorf("no %q object in:\n%s", m, r.stderr)
			}
		}
		if last["msg"] != "exit" || last["exit_code"] != 1.0 {
			t.Errorf("the last line is not the exit code: %v", last)
		}
	})

	t.Run("refused", func(t *testing.T) {
		// A run refused before it starts also ends on its exit code.
		r := runImporter(t, dir, keyEnv(), "run", "--input", "missing.csv", "--base-url", "http://127.0.0.1:1", "--log-format", "json", "--checkpoint", "x.db")
		if r.code != 2 {
			t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		var last map[string]any
		for _, l := range lines {
			if err := json.Unmarshal([]byte(l), &last); err != nil {
				t.Errorf("a line that is not JSON: %q", l)
			}
		}
		if last["msg"] != "exit" || last["exit_code"] != 2.0 {
			t.Errorf("the last line is not the exit code: %v", last)
		}
	})
}

// tmuxPane is a detached tmux session of its own server.
type tmuxPane struct {
	t      *testing.T
	socket string
}

// startTmux runs script in a new tmux pane of cols x rows. The test is
// skipped when tmux is missing, unless P100_REQUIRE_TMUX is set (CI).
func startTmux(t *testing.T, cols, rows int, script string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("P100_REQUIRE_TMUX") != "" {
			t.Fatalf("tmux is required (P100_REQUIRE_TMUX is set) but not found: %v", err)
		}
		t.Skip("tmux is not installed (set P100_REQUIRE_TMUX=1 to make this a failure)")
	}
	sockDir, err := os.MkdirTemp("", "p100-tmux-")
	if err != nil {
		t.Fatal(err)
	}
	p := &tmuxPane{t: t, socket: filepath.Join(sockDir, "s")}
	t.Cleanup(func() {
		exec.Command("tmux", "-S", p.socket, "kill-server").Run()
		os.RemoveAll(sockDir)
	})
	cmd := exec.Command("tmux", "-S", p.socket, "-f", "/dev/null", "new-session", "-d", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows),
		// The shell survives the Ctrl-C sent to the importer (a trap, not
		// an ignore: the importer gets the signal's default disposition).
		"sh", "-c", `trap true INT; `+script+`; echo "EXITED $?"; sleep 120`)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	return p
}

// capture returns the pane's whole history, wrapped lines kept as the
// terminal shows them.
func (p *tmuxPane) capture() string { return p.captureArgs() }

// captureJoined returns the pane's whole history with wrapped lines joined.
func (p *tmuxPane) captureJoined() string { return p.captureArgs("-J") }

func (p *tmuxPane) captureArgs(extra ...string) string {
	out, err := exec.Command("tmux", append([]string{"-S", p.socket, "capture-pane", "-p", "-S", "-", "-E", "-"}, extra...)...).Output()
	if err != nil {
		p.t.Fatalf("tmux capture-pane: %v", err)
	}
	return string(out)
}

// waitFor polls the pane until ok says yes; it fails after a minute.
func (p *tmuxPane) waitFor(what string, ok func(screen string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		s := p.capture()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited a minute for %s; the pane shows:\n%s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *tmuxPane) sendKeys(keys ...string) {
	if out, err := exec.Command("tmux", append([]string{"-S", p.socket, "send-keys", "-t", "0"}, keys...)...).CombinedOutput(); err != nil {
		p.t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func importerScript(dir, stdin string, args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	s := "cd " + shellQuote(dir) + " && "
	if stdin != "" {
		s += "cat " + shellQuote(stdin) + " | "
	}
	return s + "env -i PATH=\"$PATH\" TERM=xterm P100_API_KEY=sandbox-key " + shellQuote(filepath.Join(binDir, "importer")) + " " + strings.Join(q, " ")
}

var barCount = regexp.MustCompile(`(\d+)/3000\b`)

func TestTerminalInterruptedRun(t *testing.T) {
	sb := startSandbox(t, "--rate-limit", "0")
	dir := t.TempDir()
	writeUsersWithGaps(t, filepath.Join(dir, "users.csv"), 3000)
	pane := startTmux(t, 100, 30, importerScript(dir, "", "run", "--input", "users.csv", "--base-url", sb.URL,
		"--rate", "100", "--checkpoint", "cp.db"))

	pane.waitFor("the bar past 300 rows", func(s string) bool {
		m := barCount.FindAllStringSubmatch(s, -1)
		if len(m) == 0 {
			return false
		}
		n, _ := strconv.Atoi(m[len(m)-1][1])
		return n >= 300
	})
	pane.sendKeys("C-c")
	screen := pane.waitFor("the importer to exit", func(s string) bool { return strings.Contains(s, "EXITED ") })

	if !strings.Contains(screen, "EXITED 4") {
		t.Fatalf("the importer did not exit 4 after Ctrl-C:\n%s", screen)
	}
	summary := regexp.MustCompile(`(?m) rows (\d+): created`).FindStringSubmatch(screen)
	last := regexp.MustCompile(`(?m)^interrupted \[[= >]+\] +(\d+)% +(\d+)/3000$`).FindStringSubmatch(screen)
	if summary == nil || last == nil {
		t.Fatalf("no summary, or no last bar ending on \"interrupted\", in:\n%s", screen)
	}
	if last[2] != summary[1] || last[2] == "3000" {
		t.Errorf("the last bar shows %s/3000; the summary counts %s rows", last[2], summary[1])
	}
	if strings.Contains(screen, "100%") {
		t.Errorf("the bar showed 100%%:\n%s", screen)
	}
	for _, l := range strings.Split(screen, "\n") {
		switch {
		case strings.Contains(l, "row not imported") && !strings.HasPrefix(l, "time="):
			t.Errorf("a log line does not start its own line: %q", l)
		case strings.Contains(l, "stopping: no new rows") && !regexp.MustCompile(`^\d\d:\d\d:\d\d importer: interrupt: stopping`).MatchString(l):
			t.Errorf("the interrupt notice does not start its own line: %q", l)
		case strings.Contains(l, "[") && strings.Contains(l, "/3000") && !strings.HasPrefix(l, "importing [") && !strings.HasPrefix(l, "interrupted ["):
			t.Errorf("a bar is glued to something: %q", l)
		}
	}
	if n := strings.Count(screen, "interrupted ["); n != 1 {
		t.Errorf("%d last bars, want 1:\n%s", n, screen)
	}
}

func TestTerminalNarrowUnknownTotal(t *testing.T) {
	sb := startSandbox(t, "--rate-limit", "0")
	dir := t.TempDir()
	writeUsersWithGaps(t, filepath.Join(dir, "users.csv"), 600)
	// Standard input: the total is unknown; 40 columns: the compact counter.
	pane := startTmux(t, 40, 20, importerScript(dir, "users.csv", "run", "--input", "-", "--base-url", sb.URL,
		"--rate", "200", "--checkpoint", "cp.db", "--log-level", "warn"))
	seen := pane.waitFor("a counter", func(s string) bool { return regexp.MustCompile(`(?m)^\d+ rows [\d.]+/s$`).MatchString(s) })
	screen := pane.waitFor("the importer to exit", func(s string) bool { return strings.Contains(s, "EXITED ") })
	if !strings.Contains(screen, "EXITED 1") {
		t.Fatalf("want exit 1 (invalid rows):\n%s", screen)
	}
	if strings.Contains(seen, "%") {
		t.Errorf("an unknown total shows a percentage:\n%s", seen)
	}
	if !regexp.MustCompile(`(?m)^done 600 rows$`).MatchString(screen) {
		t.Errorf("the last counter is not \"done 600 rows\" on a line of its own:\n%s", screen)
	}
	// With wrapped lines joined, every line is a timestamped line of the
	// summary, the shell's EXITED, or the one last counter: a counter left
	// behind, stacked or wrapped would be something else.
	joined := pane.captureJoined()
	for i, l := range strings.Split(joined, "\n") {
		l = strings.TrimRight(l, " ") // -J keeps cleared cells as spaces
		switch {
		case l == "", l == "done 600 rows", strings.HasPrefix(l, "EXITED "):
		case regexp.MustCompile(`^\d\d:\d\d:\d\d `).MatchString(l):
		default:
			t.Errorf("line %d: a counter left behind, stacked or wrapped: %q", i+1, l)
		}
	}
	if n := strings.Count(joined, "done 600 rows"); n != 1 {
		t.Errorf("%d last counters, want 1:\n%s", n, joined)
	}
}
