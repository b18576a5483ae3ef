package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// keepMarker ends the generated part of the Markdown file: whatever follows
// it (the hand-written notes on the profile) is kept on every rewrite.
const keepMarker = "<!-- p100-bench: end of the generated part; everything below is hand-written and kept -->"

// defaultNotes starts the hand-written part of a new file.
const defaultNotes = "\n## What the profile showed\n\n(To be written: run `p100-bench profile` and summarise `go tool pprof -top`.)\n"

func verdict(f figure) string {
	switch {
	case f.Target == "":
		return "info"
	case f.Pass:
		return "PASS"
	default:
		return "FAIL"
	}
}

// printTable writes the results table for a terminal.
func (b *bench) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tMEASURED\tTARGET\tRESULT")
	for _, f := range b.figures {
		target := f.Target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, f.Value, target, verdict(f))
	}
	tw.Flush()
}

// machine describes where the figures were taken.
func (b *bench) machine() []string {
	model := "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	importerVersion := "unknown"
	if out, err := exec.Command(b.o.importerBin(), "--version").Output(); err == nil {
		importerVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "importer ")
	}
	var mem string
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if line, _, ok := strings.Cut(string(data), "\n"); ok {
			mem = strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	return []string{
		fmt.Sprintf("- CPU: %d × %s (`nproc` = %d), shared by the importer or vegeta, the sandbox and this program", runtime.NumCPU(), model, runtime.NumCPU()),
		fmt.Sprintf("- Memory: %s; %s/%s, kernel %s", mem, runtime.GOOS, runtime.GOARCH, strings.TrimSpace(string(kernel))),
		fmt.Sprintf("- Go: %s; importer: %s; vegeta v12.13.0", runtime.Version(), importerVersion),
	}
}

// writeMarkdown writes the results to path, keeping the hand-written part
// after keepMarker of an existing file.
func (b *bench) writeMarkdown(path string) error {
	notes := defaultNotes
	if old, err := os.ReadFile(path); err == nil {
		if _, rest, ok := strings.Cut(string(old), keepMarker); ok {
			notes = rest
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}

	var s strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&s, format+"\n", a...) }
	o := b.o
	p("# Benchmarks")
	p("")
	p("Written by `make bench` (`cmd/p100-bench`, driven by `scripts/bench.sh`); the targets are issue 6's.")
	p("Everything above the marker line is regenerated on every run.")
	p("")
	p("- Date: %s (the run took %s)", b.started.UTC().Format("2006-01-02 15:04 MST"), time.Since(b.started).Round(time.Second))
	for _, line := range b.machine() {
		p("%s", line)
	}
	p("- Command: `%s`", o.Command)
	if len(o.ImporterEnv) > 0 {
		p("- Importer environment (an experiment, not the figures of record): `%s`", strings.Join(o.ImporterEnv, " "))
	}
	p("- Settings: throughput %d rows, W=%d, %d paired runs; rate case %d rows; latency case %d rows; memory %s rows; repetitions of the other timed cases: %d (medians quoted)",
		o.Rows, o.Workers, o.ThroughputRepeat, o.RateRows, o.LatencyRows, joinInts(o.MemRows), o.Repeat)
	p("- Load average (1, 5, 15 min) at the start: %s; at the end: %s. Other work on this shared machine skews the figures.", b.loadStart, loadAvg())
	p("")
	p("## Results")
	p("")
	p("| Figure | Measured | Target | Result |")
	p("|---|---|---|---|")
	for _, f := range b.figures {
		target := f.Target
		if target == "" {
			target = "–"
		}
		p("| %s | %s | %s | %s |", f.Name, f.Value, target, verdict(f))
	}
	p("")
	p("## Every run")
	p("")
	for _, d := range b.details {
		p("%s", d)
	}
	p("How the figures are taken: each case starts its own `p100-sandbox` (a fresh process, so no state")
	p("carries over) and a fresh checkpoint; the importer runs with `--progress none --quiet`. The resume wall")
	p("time and the validate rate are process start to exit.")
	p("")
	p("Peak RSS is the importer's `ru_maxrss` (from `wait4`), taken with care: Go starts a child with")
	p("`clone(CLONE_VM|CLONE_VFORK)`, and on Linux `execve` folds the high-water mark of the memory the child")
	p("shared with its parent into the child's `ru_maxrss`, so a child looks at least as big as p100-bench was.")
	p("p100-bench therefore returns its free memory to the OS and resets its own high-water mark")
	p("(`/proc/self/clear_refs`) before starting a child, and cross-checks with the child's `VmHWM` read from")
	p("`/proc` every 10 ms; when `ru_maxrss` is not above p100-bench's own RSS, the polled figure is used.")
	p("")
	s.WriteString(keepMarker)
	s.WriteString(notes)

	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = thousands(n)
	}
	return strings.Join(s, " and ")
}
