package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors run returns.
var (
	// errTargetsMissed: --strict was set and a figure missed its target.
	errTargetsMissed = errors.New("some targets were missed")
)

// usageError is a bad command line (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// caseNames lists the benchmark cases in the order they run.
var caseNames = []string{"throughput", "rate", "adaptive", "latency", "memory", "resume", "validate", "hostile"}

// options are the settings of a benchmark run; the defaults are issue 6's.
type options struct {
	Rows             int // throughput rows
	Workers          int // W: importer and vegeta workers in the throughput and memory cases
	Repeat           int
	ThroughputRepeat int // paired importer/vegeta runs: the figure most exposed to other load

	RateRows      int
	Rate          float64 // importer --rate and sandbox --rate-limit
	APIBurst      int     // sandbox --burst
	ImporterBurst int     // importer --burst

	LatencyRows int
	Latency     time.Duration
	LatencyRate float64

	MemRows []int // the last is the "1M" file of the resume and validate cases

	Cases   []string
	Bin     string
	Vegeta  string
	Out     string
	WorkDir string
	Keep    bool
	Strict  bool
	Command string // how the run was invoked, for the docs
	// ImporterEnv is extra environment for every importer run (KEY=VALUE),
	// for experiments such as GOGC=200; empty for the figures of record.
	ImporterEnv []string
}

func (o *options) importerBin() string { return filepath.Join(o.Bin, "importer") }
func (o *options) sandboxBin() string  { return filepath.Join(o.Bin, "p100-sandbox") }

func (o *options) runs(name string) bool { return slices.Contains(o.Cases, name) }

// intList is a flag of comma-separated positive integers.
type intList struct{ v *[]int }

func (l intList) String() string {
	if l.v == nil {
		return ""
	}
	s := make([]string, len(*l.v))
	for i, n := range *l.v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l intList) Set(s string) error {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive integer", p)
		}
		out = append(out, n)
	}
	*l.v = out
	return nil
}

func newFlags(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("p100-bench", flag.ContinueOnError)
	fs.IntVar(&o.Rows, "rows", 50_000, "rows of the throughput case (importer and vegeta)")
	fs.IntVar(&o.Workers, "workers", 8, "W: workers of the importer and of vegeta in the throughput and memory cases")
	fs.IntVar(&o.Repeat, "repeat", 3, "repetitions of each timed case; the figures are medians")
	fs.IntVar(&o.ThroughputRepeat, "throughput-repeat", 5, "paired importer and vegeta runs of the throughput case; the ratio is their median")
	fs.IntVar(&o.RateRows, "rate-rows", 3_000, "rows of the rate precision case")
	fs.Float64Var(&o.Rate, "rate", 200, "rate precision case: the sandbox's limit and the importer's --rate")
	fs.IntVar(&o.APIBurst, "api-burst", 20, "rate precision case: the sandbox's --burst")
	fs.IntVar(&o.ImporterBurst, "importer-burst", 10, "rate precision case: the importer's --burst")
	fs.IntVar(&o.LatencyRows, "latency-rows", 3_000, "rows of the latency hiding case")
	fs.DurationVar(&o.Latency, "latency", 100*time.Millisecond, "latency hiding case: the sandbox's --latency")
	fs.Float64Var(&o.LatencyRate, "latency-rate", 300, "latency hiding case: the importer's --rate")
	o.MemRows = []int{100_000, 1_000_000}
	fs.Var(intList{&o.MemRows}, "mem-rows", "comma-separated row counts of the memory case; the last one is also used by the resume and validate cases")
	fs.Func("cases", "comma-separated cases to run, of "+strings.Join(caseNames, ","), func(s string) error {
		o.Cases = nil
		for _, c := range strings.Split(s, ",") {
			c = strings.TrimSpace(c)
			if !slices.Contains(caseNames, c) {
				return fmt.Errorf("unknown case %q (known: %s)", c, strings.Join(caseNames, ", "))
			}
			o.Cases = append(o.Cases, c)
		}
		return nil
	})
	fs.StringVar(&o.Bin, "bin", "bin", "`directory` holding the built importer and p100-sandbox")
	fs.StringVar(&o.Vegeta, "vegeta", ".tools/bin/vegeta", "vegeta `binary`")
	fs.StringVar(&o.Out, "out", "docs/benchmarks.md", "Markdown `file` to write the results to; empty writes none")
	fs.StringVar(&o.WorkDir, "workdir", "", "`directory` for generated files and checkpoints; empty: a temporary one, removed afterwards")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary work directory")
	fs.BoolVar(&o.Strict, "strict", false, "exit with code 3 when a target is missed")
	fs.StringVar(&o.Command, "command", "", "the command line to quote in the docs; empty: this program's own")
	fs.Func("importer-env", "extra `KEY=VALUE` environment for every importer run, for experiments (repeatable), e.g. GOGC=200", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("%q is not KEY=VALUE", s)
		}
		o.ImporterEnv = append(o.ImporterEnv, s)
		return nil
	})
	return fs
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "profile" {
		return profileCommand(ctx, args[1:], stdout, stderr)
	}
	var o options
	o.Cases = slices.Clone(caseNames)
	fs := newFlags(&o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := o.check(); err != nil {
		return err
	}
	if o.Command == "" {
		o.Command = strings.Join(append([]string{"p100-bench"}, args...), " ")
	}

	dir := o.WorkDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "p100-bench-*"); err != nil {
			return fmt.Errorf("work directory: %w", err)
		}
		if !o.Keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "p100-bench: "+format+"\n", a...) }
	// Run copies of the binaries, so a rebuild of bin/ during the run
	// (make build in another shell) cannot change them half-way.
	snap := filepath.Join(dir, "bin")
	for _, bin := range []string{o.importerBin(), o.sandboxBin()} {
		if err := copyFile(bin, filepath.Join(snap, filepath.Base(bin))); err != nil {
			return fmt.Errorf("snapshot the binaries: %w", err)
		}
	}
	o.Bin = snap
	logf("work directory %s; load average %s", dir, loadAvg())

	b := &bench{o: &o, dir: dir, log: logf, started: time.Now(), loadStart: loadAvg()}
	if err := b.all(ctx); err != nil {
		return err
	}
	b.printTable(stdout)
	if o.Out != "" {
		if err := b.writeMarkdown(o.Out); err != nil {
			return err
		}
		logf("wrote %s", o.Out)
	}
	if o.Strict && !b.allPassed() {
		return errTargetsMissed
	}
	return nil
}

func (o *options) check() error {
	switch {
	case o.Rows < 1, o.RateRows < 1, o.LatencyRows < 1:
		return usagef("row counts must be at least 1")
	case o.Workers < 1:
		return usagef("--workers must be at least 1")
	case o.Repeat < 1, o.ThroughputRepeat < 1:
		return usagef("--repeat and --throughput-repeat must be at least 1")
	case o.Rate <= 0, o.LatencyRate <= 0:
		return usagef("--rate and --latency-rate must be positive")
	case o.APIBurst < 1, o.ImporterBurst < 1:
		return usagef("bursts must be at least 1")
	case o.Latency <= 0:
		return usagef("--latency must be positive")
	case len(o.MemRows) == 0:
		return usagef("--mem-rows needs at least one row count")
	}
	for _, bin := range []string{o.importerBin(), o.sandboxBin()} {
		if _, err := os.Stat(bin); err != nil {
			return usagef("%s: %w (run make build first)", bin, err)
		}
	}
	if o.runs("throughput") {
		if _, err := os.Stat(o.Vegeta); err != nil {
			return usagef("--vegeta %s: %w (scripts/bench.sh installs it)", o.Vegeta, err)
		}
	}
	return nil
}

// copyFile copies an executable file to dst, creating dst's directory.
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// median returns the median of xs (the mean of the middle two for an even
// count); NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
