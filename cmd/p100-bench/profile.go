package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/job"
	"github.com/p100/p100-importer/internal/p100"
)

// profileOptions are the settings of `p100-bench profile`.
type profileOptions struct {
	Mode        string // import, resume or validate
	Rows        int
	Workers     int
	Rate        float64
	Latency     time.Duration
	CPUProfile  string
	HeapProfile string
	Bin         string
	Keep        bool
}

// profileCommand is `p100-bench profile`: one phase of the pipeline run
// in-process, wired as cmd/importer wires it, under the CPU profiler.
//
//   - import: the throughput case, against a p100-sandbox child process (so
//     the profile holds the importer's work alone);
//   - resume: the same file imported first (not profiled), then again
//     against the complete checkpoint (profiled);
//   - validate: every row read and validated, as `importer validate` does.
//
// The heap profile is taken after the phase, with the reader still alive,
// so it shows what the run holds at its end.
func profileCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o profileOptions
	fs := flag.NewFlagSet("p100-bench profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Mode, "mode", "import", "what to profile: import, resume or validate")
	fs.IntVar(&o.Rows, "rows", 50_000, "rows to generate")
	fs.IntVar(&o.Workers, "workers", 8, "importer workers")
	fs.Float64Var(&o.Rate, "rate", 0, "importer rate; 0 means no limit")
	fs.DurationVar(&o.Latency, "latency", 0, "the sandbox's --latency")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "cpu.prof", "CPU profile `file`")
	fs.StringVar(&o.HeapProfile, "heapprofile", "", "heap profile `file`, taken at the end; empty writes none")
	fs.StringVar(&o.Bin, "bin", "bin", "`directory` holding p100-sandbox")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary work directory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case o.Rows < 1 || o.Workers < 1:
		return usagef("--rows and --workers must be at least 1")
	case o.Mode != "import" && o.Mode != "resume" && o.Mode != "validate":
		return usagef("--mode %q: want import, resume or validate", o.Mode)
	}
	return runProfile(ctx, o, stdout, stderr)
}

// profiled is what a profiled phase returns: rows done, and the value to
// keep alive until the heap profile is written.
type profiled struct {
	rows int
	keep any
	note string
}

func runProfile(ctx context.Context, o profileOptions, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "p100-bench-profile-*")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	if o.Keep {
		fmt.Fprintf(stderr, "p100-bench: work directory %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	file := filepath.Join(dir, "rows.csv")
	if err := writeRows(file, o.Rows); err != nil {
		return err
	}

	var phase func() (profiled, error)
	if o.Mode == "validate" {
		phase = func() (profiled, error) { return validateAll(file) }
	} else {
		var sbFlags []string
		if o.Latency > 0 {
			sbFlags = append(sbFlags, "--latency", o.Latency.String())
		}
		sb, err := startSandbox(ctx, filepath.Join(o.Bin, "p100-sandbox"), filepath.Join(dir, "sandbox.log"), sbFlags...)
		if err != nil {
			return err
		}
		defer sb.stop()
		cp := filepath.Join(dir, "p100-import.db")
		if o.Mode == "resume" {
			t := time.Now()
			res, err := importInProcess(ctx, o, file, cp, sb.URL)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "first import (not profiled): %d rows in %s\n", res.rows, time.Since(t).Round(time.Millisecond))
		}
		phase = func() (profiled, error) { return importInProcess(ctx, o, file, cp, sb.URL) }
	}

	prof, err := os.Create(o.CPUProfile)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer prof.Close()
	before := selfCPU()
	if err := pprof.StartCPUProfile(prof); err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	start := time.Now()
	res, err := phase()
	elapsed := time.Since(start)
	pprof.StopCPUProfile()
	cpu := selfCPU() - before
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d rows in %s: %.0f rows/s; CPU %s (%.1f µs/row, %.0f%% of one core)\n",
		o.Mode, res.rows, elapsed.Round(time.Millisecond), float64(res.rows)/elapsed.Seconds(), cpu.Round(time.Millisecond),
		float64(cpu.Microseconds())/float64(res.rows), cpu.Seconds()/elapsed.Seconds()*100)
	if res.note != "" {
		fmt.Fprintln(stdout, res.note)
	}
	fmt.Fprintf(stdout, "CPU profile: %s (go tool pprof -top %s)\n", o.CPUProfile, o.CPUProfile)

	if o.HeapProfile != "" {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		hf, err := os.Create(o.HeapProfile)
		if err != nil {
			return fmt.Errorf("heap profile: %w", err)
		}
		defer hf.Close()
		if err := pprof.Lookup("heap").WriteTo(hf, 0); err != nil {
			return fmt.Errorf("heap profile: %w", err)
		}
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		fmt.Fprintf(stdout, "after the phase: live heap %.1f MiB, heap from the OS %.1f MiB, %d GCs, peak RSS %.1f MiB\n",
			float64(ms.HeapAlloc)/(1<<20), float64(ms.HeapSys)/(1<<20), ms.NumGC, mib(ru.Maxrss))
		fmt.Fprintf(stdout, "heap profile: %s (go tool pprof -sample_index=inuse_space -top %s)\n", o.HeapProfile, o.HeapProfile)
	}
	runtime.KeepAlive(res.keep)
	return nil
}

// validateAll reads every row as `importer validate` does: ingest.Open
// with the defaults the CLI has (the zero options).
func validateAll(file string) (profiled, error) {
	in, err := ingest.Open(context.Background(), file, ingest.Options{})
	if err != nil {
		return profiled{}, err
	}
	defer in.Close()
	n, invalid := 0, 0
	for {
		rec, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return profiled{}, err
		}
		n++
		if len(rec.Check()) > 0 {
			invalid++
		}
	}
	if invalid > 0 {
		return profiled{}, fmt.Errorf("validate: %d invalid rows", invalid)
	}
	return profiled{rows: n, keep: in}, nil
}

// importInProcess runs one import of file into checkpoint cp with job.Run,
// as `importer run` does, counting the checkpoint's transactions.
func importInProcess(ctx context.Context, o profileOptions, file, cp, baseURL string) (profiled, error) {
	var ledger *countingLedger
	res, err := job.Run(ctx, job.Options{
		Input: file, Checkpoint: cp,
		Client:      p100.Config{BaseURL: baseURL, APIKey: apiKey, Timeout: job.DefaultTimeout, UserAgent: "p100-bench-profile"},
		Rate:        o.Rate,
		Burst:       job.DefaultBurst,
		Workers:     o.Workers,
		MaxAttempts: job.DefaultMaxAttempts, LookupExisting: true,
		Ledger: func(s *checkpoint.Store) importer.Ledger {
			ledger = &countingLedger{Store: s}
			return ledger
		},
	})
	if err != nil {
		return profiled{}, fmt.Errorf("import: %w", err)
	}
	sum := res.Summary
	if sum.Created+sum.Skipped != o.Rows {
		return profiled{}, fmt.Errorf("import: created %d and skipped %d of %d rows", sum.Created, sum.Skipped, o.Rows)
	}
	return profiled{rows: sum.Rows, note: "checkpoint transactions: " + ledger.String()}, nil
}

// selfCPU returns the user + system CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

// countingLedger is the checkpoint with its write transactions and
// lookups counted. It embeds the Store, so it is whatever ledger the
// importer wants that the Store is.
type countingLedger struct {
	*checkpoint.Store
	lookups, lookupRows     atomic.Int64
	writes, marks, outcomes atomic.Int64
}

func (l *countingLedger) Lookup(ctx context.Context, ids []string) (map[string]checkpoint.Known, error) {
	l.lookups.Add(1)
	l.lookupRows.Add(int64(len(ids)))
	return l.Store.Lookup(ctx, ids)
}

func (l *countingLedger) Write(ctx context.Context, runID int64, marks []checkpoint.Mark, outcomes []checkpoint.Outcome) error {
	if len(marks)+len(outcomes) > 0 {
		l.writes.Add(1)
		l.marks.Add(int64(len(marks)))
		l.outcomes.Add(int64(len(outcomes)))
	}
	return l.Store.Write(ctx, runID, marks, outcomes)
}

func (l *countingLedger) String() string {
	per := func(n, calls int64) float64 {
		if calls == 0 {
			return 0
		}
		return float64(n) / float64(calls)
	}
	w := l.writes.Load()
	return fmt.Sprintf("%d write transactions (%.1f marks + %.1f outcomes each), %d lookups (%.1f ids each)",
		w, per(l.marks.Load(), w), per(l.outcomes.Load(), w), l.lookups.Load(), per(l.lookupRows.Load(), l.lookups.Load()))
}
