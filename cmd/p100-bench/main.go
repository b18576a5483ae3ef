// Command p100-bench is the reproducible benchmark behind `make bench`. It
// generates deterministic rows, runs the built importer against fresh local
// sandboxes (and vegeta against the same sandbox for the throughput
// baseline), prints a table of figures against the targets of issue 6 and
// writes it to docs/benchmarks.md.
//
// `p100-bench profile` drives internal/importer in-process under the CPU
// profiler instead, for the "what the profile showed" part of the docs.
//
// Exit codes: 0 when every case ran (whether or not the targets were met),
// 1 when a case could not run, 2 for bad flags, 3 when --strict is set and a
// target was missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps run's error to the exit code, reporting it on stderr.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "p100-bench: %v\n", err)
		return 2
	case errors.Is(err, errTargetsMissed):
		fmt.Fprintf(stderr, "p100-bench: %v\n", err)
		return 3
	default:
		fmt.Fprintf(stderr, "p100-bench: %v\n", err)
		return 1
	}
}
