// Command p100-sandbox serves the sandbox P100 Partner API (package
// internal/sandbox) over HTTP, for the demo and for manual tests of
// p100-importer.
//
// It prints one line, "p100-sandbox listening on http://HOST:PORT", on
// stdout once it accepts connections, and serves until SIGINT or SIGTERM.
// Exit codes: 0 after a clean stop (or --help, --version), 1 when it cannot
// serve, 2 for bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/p100/p100-importer/internal/sandbox"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// shutdownTimeout bounds the graceful part of a stop; connections still
// busy after it (slow requests) are closed.
const shutdownTimeout = 2 * time.Second

// usageError is a bad command line (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps run's error to the process exit code, reporting it on
// stderr. The flag package has already reported usage errors.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		fmt.Fprintf(stderr, "p100-sandbox: %v\n", err)
		return 1
	}
}

// options are the command line settings.
type options struct {
	addr    string
	version bool
	burst   int
	cfg     sandbox.Config
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("p100-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8100", "`address` to listen on (port 0: any free port)")
	fs.StringVar(&o.cfg.APIKey, "api-key", sandbox.DefaultAPIKey, "the sandbox's own fake API `key`, expected in x-api-key")
	fs.DurationVar(&o.cfg.Latency, "latency", 0, "`delay` added to every API request")
	fs.Float64Var(&o.cfg.RateLimit, "rate-limit", 0, "API requests per second over all clients, 0 for no limit")
	fs.IntVar(&o.cfg.Burst, "burst", 10, "token bucket size of the rate limit")
	fs.DurationVar(&o.cfg.RateWindow, "rate-window", 0, "make --rate-limit N a fixed window: at most N requests in each window of this `length` (0: a token bucket)")
	fs.StringVar(&o.cfg.RateHeaders, "rate-headers", "", "announce the rate limit on every answer: ietf (RateLimit and RateLimit-Policy) or x (X-RateLimit-Limit, -Remaining, -Reset); empty sends none")
	fs.Float64Var(&o.cfg.FailRate, "fail-rate", 0, "`fraction` of creates answered P501")
	fs.Float64Var(&o.cfg.ErrorRate, "error-rate", 0, "`fraction` of creates answered P500")
	fs.Float64Var(&o.cfg.ResetRate, "reset-rate", 0, "`fraction` of creates whose connection is reset (half after creating the user)")
	fs.Float64Var(&o.cfg.SlowRate, "slow-rate", 0, "`fraction` of creates delayed by --slow-latency")
	fs.DurationVar(&o.cfg.SlowLatency, "slow-latency", 5*time.Second, "extra `delay` of slow creates")
	fs.Int64Var(&o.cfg.Seed, "seed", 1, "seed of the fault dice")
	fs.BoolVar(&o.cfg.KeepRequests, "keep-requests", false, "keep each created user's request fields, shown by GET /_sandbox/users?requests=1 (for tests)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageFailure(fs, "unexpected argument %q", fs.Arg(0))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{
		{"fail-rate", o.cfg.FailRate}, {"error-rate", o.cfg.ErrorRate},
		{"reset-rate", o.cfg.ResetRate}, {"slow-rate", o.cfg.SlowRate},
	} {
		if !(r.v >= 0 && r.v <= 1) {
			return o, usageFailure(fs, "--%s must be between 0 and 1, got %v", r.name, r.v)
		}
	}
	switch {
	case o.cfg.APIKey == "":
		return o, usageFailure(fs, "--api-key must not be empty")
	case o.cfg.Latency < 0 || o.cfg.SlowLatency < 0:
		return o, usageFailure(fs, "--latency and --slow-latency must not be negative")
	case !(o.cfg.RateLimit >= 0):
		return o, usageFailure(fs, "--rate-limit must not be negative")
	case o.cfg.RateLimit > 0 && o.cfg.Burst < 1:
		return o, usageFailure(fs, "--burst must be at least 1 with --rate-limit")
	case o.cfg.RateWindow < 0:
		return o, usageFailure(fs, "--rate-window must not be negative")
	case o.cfg.RateHeaders != "" && o.cfg.RateHeaders != sandbox.HeadersIETF && o.cfg.RateHeaders != sandbox.HeadersX:
		return o, usageFailure(fs, "--rate-headers %q: want ietf or x", o.cfg.RateHeaders)
	case o.cfg.RateHeaders != "" && o.cfg.RateWindow%time.Second != 0:
		return o, usageFailure(fs, "--rate-headers needs a --rate-window of whole seconds (the headers count in seconds)")
	}
	return o, nil
}

// usageFailure reports a bad flag value like the flag package does.
func usageFailure(fs *flag.FlagSet, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	fmt.Fprintf(fs.Output(), "%v\n", err)
	fs.Usage()
	return &usageError{err}
}

// run parses args, then serves the sandbox until ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.version {
		_, err := fmt.Fprintf(stdout, "p100-sandbox %s\n", version)
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           sandbox.New(o.cfg),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: it would cut slow answers short, which is the
		// client's timeout to provoke, not ours.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("sandbox starting",
		"addr", ln.Addr().String(),
		"version", version,
		"latency", o.cfg.Latency,
		"rate_limit", o.cfg.RateLimit,
		"burst", o.cfg.Burst,
		"rate_window", o.cfg.RateWindow,
		"rate_headers", o.cfg.RateHeaders,
		"fail_rate", o.cfg.FailRate,
		"error_rate", o.cfg.ErrorRate,
		"reset_rate", o.cfg.ResetRate,
		"slow_rate", o.cfg.SlowRate,
		"slow_latency", o.cfg.SlowLatency,
		"seed", o.cfg.Seed,
	)
	if _, err := fmt.Fprintf(stdout, "p100-sandbox listening on http://%s\n", ln.Addr()); err != nil {
		_ = ln.Close()
		return fmt.Errorf("print address: %w", err)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Slow requests outlived the grace period: drop them.
		logger.Warn("sandbox forced to close", "err", err)
		if err := srv.Close(); err != nil {
			return fmt.Errorf("close: %w", err)
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("sandbox stopped")
	return nil
}
