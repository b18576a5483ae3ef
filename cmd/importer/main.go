// Command importer migrates a partner's users into the P100 Partner API
// from CSV files, recording every row's outcome in a SQLite checkpoint so
// that an interrupted or failed migration is simply run again.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	tuneGC()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	// Every line on stderr goes through one console, so that the notices
	// below print above the progress bar, never on its line.
	stderr := newConsole(os.Stderr)
	go func() {
		sig := <-signals
		stderr.event(slog.LevelWarn, "stopping", fmt.Sprintf("importer: %v: stopping: no new rows, finishing requests already sent (send it again to exit at once)", sig),
			slog.String("signal", sig.String()))
		cancel()
		<-signals
		stderr.dropStatus()
		stderr.event(slog.LevelWarn, "exiting now", "importer: second signal: exiting now; the checkpoint stays consistent, rerun to carry on")
		stderr.event(slog.LevelInfo, "exit", fmt.Sprintf("exit code %d: %s", ExitInterrupted, exitMeaning(ExitInterrupted)),
			slog.Int("exit_code", ExitInterrupted), slog.String("meaning", exitMeaning(ExitInterrupted)))
		os.Exit(ExitInterrupted)
	}()
	err := run(ctx, os.Args[1:], os.Stdout, stderr)
	stderr.flush()
	os.Exit(exitCode(err))
}

// tuneGC trades a little memory for CPU. The importer's live heap is small
// and flat (a few MiB whatever the file's size), so the default GOGC=100
// collects very often; at 300, with a 32 MiB soft limit as a backstop, an
// unlimited import spends markedly less CPU in the collector. GOGC and
// GOMEMLIMIT in the environment still win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(32 << 20)
	}
}
