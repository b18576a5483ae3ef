package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/job"
)

// Exit codes, as the README documents them.
const (
	ExitOK          = 0 // every row created, exists or skipped
	ExitRowErrors   = 1 // finished; some rows invalid, rejected or failed
	ExitUsage       = 2 // usage, configuration or input error
	ExitAborted     = 3 // aborted by the API (401, unavailable); safe to rerun
	ExitInterrupted = 4 // stopped by a signal; safe to rerun
	ExitInternal    = 5 // internal error: the checkpoint is unusable
)

// Errors main maps to exit codes.
var (
	// errRowErrors: the run finished, but not every row succeeded.
	errRowErrors = job.ErrRowErrors
)

// usageError is a bad flag, a missing key, an unreadable file.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// internalError is a checkpoint that cannot be opened or written.
type internalError struct{ err error }

func (e internalError) Error() string { return e.err.Error() }
func (e internalError) Unwrap() error { return e.err }

// exitCode maps the error run returned to the process's exit code.
func exitCode(err error) int {
	var (
		usage     usageError
		internal  internalError
		fatal     *importer.FatalAPIError
		offScript *importer.OffScriptError
		pause     *importer.PauseError
		cpErr     *importer.CheckpointError
		inErr     *importer.InputError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errHelp):
		return ExitOK
	case errors.Is(err, errRowErrors):
		return ExitRowErrors
	case errors.As(err, &usage), errors.As(err, &inErr):
		return ExitUsage
	case errors.As(err, &fatal), errors.As(err, &offScript), errors.As(err, &pause), errors.Is(err, importer.ErrUnavailable), errors.Is(err, importer.ErrErrorBudget):
		return ExitAborted
	case errors.Is(err, importer.ErrInterrupted):
		return ExitInterrupted
	case errors.As(err, &internal), errors.As(err, &cpErr):
		return ExitInternal
	}
	return ExitInternal
}

// errHelp is returned after printing help on request.
var errHelp = errors.New("help requested")

const usageText = `importer migrates users into the P100 Partner API from CSV files.

Usage:
  importer run      --input FILE [flags]   import the rows of FILE (see: importer run --help)
  importer validate --input FILE [flags]   check FILE without sending anything
  importer status   [--checkpoint DB]      what the checkpoint holds
  importer export   [--checkpoint DB]      externalUserId -> P100 userId, or the failures
  importer reconcile [--checkpoint DB]     look up the rows in doubt in P100 and record what it says
  importer help COMMAND                    the flags of COMMAND (also: importer COMMAND --help)
  importer --version

The API key is read from the environment variable P100_API_KEY or from the
file named by --api-key-file; it is never taken on the command line.
`

// run executes one command line and returns what main turns into an exit
// code. Output goes to stdout (machine-readable) and stderr (people).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return usagef("no command given")
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		err = runCommand(ctx, rest, stdout, stderr)
	case "validate":
		err = validateCommand(ctx, rest, stdout, stderr)
	case "status":
		err = statusCommand(ctx, rest, stdout, stderr)
	case "export":
		err = exportCommand(ctx, rest, stdout, stderr)
	case "reconcile":
		err = reconcileCommand(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "importer %s\n", version)
		return nil
	case "help", "-h", "--help", "-help":
		if len(rest) == 0 || rest[0] == "help" {
			fmt.Fprint(stdout, usageText)
			return nil
		}
		if rest[0] == "version" {
			fmt.Fprintln(stdout, "importer version (or --version): print the version and exit")
			return nil
		}
		if !slices.Contains(commands, rest[0]) {
			err = unknownCommand(rest[0])
			break
		}
		return run(ctx, []string{rest[0], "--help"}, stdout, stderr) // the command's own help
	default:
		err = unknownCommand(cmd)
	}
	var reported reportedError
	if err != nil && !errors.Is(err, errHelp) && !errors.Is(err, errRowErrors) && !errors.As(err, &reported) {
		fmt.Fprintf(stderr, "importer: %v\n", err)
	}
	return err
}

// quoteCommand echoes a mistyped command, unless it looks like it could be a
// secret pasted by mistake (long, or not made of letters).
func quoteCommand(cmd string) string {
	if len(cmd) > 16 {
		return "(not shown: too long to be a command)"
	}
	for _, r := range cmd {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return "(not shown)"
		}
	}
	return fmt.Sprintf("%q", cmd)
}

// newLogger builds the one logger of a command: text or JSON on stderr.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}
