package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/p100/p100-importer/internal/job"
	"github.com/p100/p100-importer/internal/p100"
)

// reconcileOptions are the settings of `importer reconcile`.
type reconcileOptions struct {
	Checkpoint  string
	BaseURL     string
	APIKeyFile  string
	Rate        float64
	Burst       int
	Workers     int
	MaxAttempts int
	Timeout     time.Duration
	LogFormat   string
	LogLevel    string
}

func reconcileCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o reconcileOptions
	fs := flag.NewFlagSet("importer reconcile", flag.ContinueOnError)
	fs.StringVar(&o.Checkpoint, "checkpoint", job.DefaultCheckpoint, "SQLite checkpoint `file` whose rows in doubt to settle")
	fs.StringVar(&o.BaseURL, "base-url", envOr("P100_BASE_URL", p100.StagingURL), "P100 API base `URL` (env P100_BASE_URL); production is "+p100.ProductionURL)
	fs.StringVar(&o.APIKeyFile, "api-key-file", "", "read the API key from `file` (mode 0600) instead of the environment variable P100_API_KEY")
	fs.Float64Var(&o.Rate, "rate", job.DefaultRate, "lookups per second; 0 means no limit")
	fs.IntVar(&o.Burst, "burst", job.DefaultBurst, "lookups that may leave at once before --rate paces them")
	fs.IntVar(&o.Workers, "workers", 0, "concurrent lookups; 0 (auto) as for run")
	fs.IntVar(&o.MaxAttempts, "max-attempts", job.DefaultMaxAttempts, "attempts per lookup for transient errors")
	fs.DurationVar(&o.Timeout, "timeout", job.DefaultTimeout, "timeout of one request")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	log, err := newLogger(stderr, o.LogFormat, o.LogLevel)
	if err != nil {
		return err
	}
	key, err := readAPIKey(o.APIKeyFile)
	if err != nil {
		return err
	}
	res, err := job.Reconcile(ctx, job.ReconcileOptions{
		Checkpoint: o.Checkpoint, Rate: o.Rate, Burst: o.Burst, Workers: o.Workers, MaxAttempts: o.MaxAttempts, Log: log,
		Client: p100.Config{BaseURL: o.BaseURL, APIKey: key, Timeout: o.Timeout, UserAgent: "p100-importer/" + version},
	})
	var cfgErr *job.ConfigError
	if errors.As(err, &cfgErr) {
		return usageError{cfgErr.Err}
	}
	fmt.Fprintf(stdout, "in doubt %d: found in P100 %d (recorded as exists, with their userId), not in P100 %d (sent by the next run",
		res.InDoubt, res.Found, res.NotThere)
	if res.NeedInput > 0 {
		fmt.Fprintf(stdout, "; %d of them need the original --input: the checkpoint keeps no fields of rows in flight", res.NeedInput)
	}
	fmt.Fprintf(stdout, "), still in doubt %d\n", res.Unsettled)
	if err != nil {
		return err
	}
	if res.Unsettled > 0 {
		return errRowErrors
	}
	return nil
}
