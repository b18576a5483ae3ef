package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/p100/p100-importer/internal/validate"
)

// commandHelp is the head of each command's --help: how it is called and
// what it does. The flags follow, listed from the command's FlagSet.
var commandHelp = map[string]struct{ usage, about string }{
	"importer run": {"importer run --input FILE [flags]",
		"Import the rows of FILE into P100. Every row's outcome is recorded in the checkpoint: a run\n" +
			"that stopped for any reason is simply run again with the same --checkpoint, and rows\n" +
			"already created are never sent twice. The API key comes from P100_API_KEY or --api-key-file."},
	"importer validate": {"importer validate --input FILE [flags]",
		"Check FILE without sending anything and without a checkpoint: the dialect detected, the\n" +
			"column mapping, a few parsed rows, every repair and every problem, and the totals."},
	"importer status": {"importer status [--checkpoint DB] [--json] [--runs N]",
		"What the checkpoint holds: rows per state, the rows in doubt, the most common errors and\n" +
			"the last runs. It only reads, and works while a run holds the checkpoint."},
	"importer export": {"importer export [--checkpoint DB] [--state S] [--format csv|json] [--output FILE]",
		"Write externalUserId -> P100 userId for the users created or found, or, for states that\n" +
			"did not succeed (--state failed,rejected,invalid), the re-feedable failure report."},
	"importer reconcile": {"importer reconcile [--checkpoint DB] [flags]",
		"Look up the rows in doubt (left in flight by a killed run, or created without a known\n" +
			"userId) in P100 and record what it says."},
}

// parseFlags parses args into fs. --help and -h print the command's help to
// stdout (errHelp, exit 0). A mistake comes back as a usageError of a few
// lines: what is wrong, a close flag name when there is one, and where the
// help is. Every boolean flag --X also takes --no-X.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	addNegations(fs)
	fs.SetOutput(io.Discard) // mistakes are reported by the caller, once
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout, fs)
			return errHelp
		}
		return usageError{explainFlagError(fs, err)}
	}
	if fs.NArg() > 0 {
		return usageError{explainStray(fs, args)}
	}
	return nil
}

// negation is the --no-X twin of the boolean flag X.
type negation struct {
	fs   *flag.FlagSet
	name string
}

func (n negation) String() string   { return "" }
func (n negation) IsBoolFlag() bool { return true }
func (n negation) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	return n.fs.Set(n.name, strconv.FormatBool(!v))
}

// isBool reports whether f is a switch (it takes no separate value).
func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func isNegation(f *flag.Flag) bool {
	_, ok := f.Value.(negation)
	return ok
}

// addNegations registers --no-X for every boolean flag X that has none.
func addNegations(fs *flag.FlagSet) {
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if isBool(f) && !isNegation(f) && fs.Lookup("no-"+f.Name) == nil {
			names = append(names, f.Name)
		}
	})
	for _, name := range names {
		fs.Var(negation{fs: fs, name: name}, "no-"+name, "turns --"+name+" off")
	}
}

// helpTopic is how the help is named in messages: `importer run --help`.
func helpTopic(fs *flag.FlagSet) string { return "`" + fs.Name() + " --help`" }

// printHelp writes a command's help: usage, what it does, every flag as
// --name (two dashes, as the README writes them) with its meaning and
// default.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	h, ok := commandHelp[fs.Name()]
	if !ok {
		h.usage = fs.Name() + " [flags]"
	}
	fmt.Fprintf(w, "Usage: %s\n\n", h.usage)
	if h.about != "" {
		fmt.Fprintf(w, "%s\n\n", h.about)
	}
	fmt.Fprintln(w, "Flags:")
	fs.VisitAll(func(f *flag.Flag) {
		if isNegation(f) {
			return
		}
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		switch {
		case isBool(f):
			line += ", --no-" + f.Name
		case arg != "":
			line += " " + argName(arg)
		}
		if def := f.DefValue; def != "" && def != "0" && def != "false" {
			usage += " (default " + def + ")"
		}
		fmt.Fprintf(w, "%s\n        %s\n", line, usage)
	})
	fmt.Fprintln(w, "\nFlags are written --name value or --name=value; a switch is on as --name and off as --no-name or --name=false.")
	fmt.Fprintln(w, "Exit codes: 0 done, 1 some rows not imported, 2 usage or input error, 3 stopped by the API's answers or --max-errors, 4 interrupted, 5 checkpoint unusable.")
}

// argName is how the help names a flag's value: the README's N, D, F for
// the flag package's int, duration, float; the word of the usage text
// (`file`) in capitals.
func argName(arg string) string {
	switch arg {
	case "int", "uint", "int64":
		return "N"
	case "duration":
		return "D"
	case "float":
		return "F"
	case "string", "value":
		return "VALUE"
	}
	return strings.ToUpper(arg)
}

// flagErrorName finds the flag name in the flag package's error messages.
var flagErrorName = regexp.MustCompile(`(^|\s)-(-?)([A-Za-z][A-Za-z0-9_-]*)`)

// explainFlagError rewords the flag package's error: --name as the help
// writes it, a close flag name for an unknown one, and where the help is.
func explainFlagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		return unknownFlag(fs, name)
	}
	// The flag package writes -name; the help and README write --name.
	msg = flagErrorName.ReplaceAllString(msg, "$1--$3")
	return fmt.Errorf("%s\nsee %s", msg, helpTopic(fs))
}

// unknownFlag says a flag does not exist, naming a close one if any.
func unknownFlag(fs *flag.FlagSet, name string) error {
	if isKeyFlag(name) {
		return fmt.Errorf("unknown flag --%s: the API key is never taken on the command line (other users could read it in the process list and shell history): set P100_API_KEY or use --api-key-file FILE", name)
	}
	shown := quoteFlag(name)
	if shown == "" {
		return fmt.Errorf("unknown flag (not shown: it does not look like a flag name)\nsee %s", helpTopic(fs))
	}
	if near := closestFlag(fs, name); near != "" {
		return fmt.Errorf("unknown flag --%s: did you mean --%s?\nsee %s", shown, near, helpTopic(fs))
	}
	return fmt.Errorf("unknown flag --%s\nsee %s", shown, helpTopic(fs))
}

// isKeyFlag reports whether name is an attempt to pass the key itself.
func isKeyFlag(name string) bool {
	switch strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(name)) {
	case "apikey", "key", "p100apikey", "xapikey", "token":
		return true
	}
	return false
}

// quoteFlag returns name if it looks like a flag name, "" if it could be
// something pasted by mistake (a key): long, or not made of letters,
// digits and dashes.
func quoteFlag(name string) string {
	if name == "" || len(name) > 32 {
		return ""
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return ""
		}
	}
	return name
}

// closestFlag is the flag of fs nearest to name: a few edits away (a typo,
// two letters swapped) or the only flag name starts with; "" if none.
func closestFlag(fs *flag.FlagSet, name string) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return closest(strings.ToLower(name), names)
}

// closest is the candidate nearest to s, or "" when none is close enough:
// within one edit for short words, two for words of five letters or more,
// or the single candidate that s is the start of.
func closest(s string, candidates []string) string {
	best, bestD := "", 0
	limit := 1
	if len([]rune(s)) >= 5 {
		limit = 2
	}
	for _, c := range candidates {
		d := validate.EditDistance(s, c)
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if len(s) >= 3 && strings.HasPrefix(c, s) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// explainStray refuses arguments left after the flags. A true or false
// after a switch is the usual one: switches take no separate value.
func explainStray(fs *flag.FlagSet, args []string) error {
	i := len(args) - fs.NArg()
	stray := args[i]
	if i > 0 {
		prev := args[i-1]
		name := strings.TrimLeft(prev, "-")
		if f := fs.Lookup(name); f != nil && strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") && isBool(f) {
			if _, err := strconv.ParseBool(stray); err == nil {
				base := name
				if isNegation(f) {
					base = f.Value.(negation).name
				}
				return fmt.Errorf("--%s is a switch and takes no separate value (%q was left over): write --%s=%s, or --%s alone to turn it on and --no-%s to turn it off\nsee %s",
					name, stray, name, stray, base, base, helpTopic(fs))
			}
		}
	}
	return fmt.Errorf("unexpected argument %q: flags come as --name value, and %s takes no arguments of its own\nsee %s",
		stray, fs.Name(), helpTopic(fs))
}

// commands are the commands run dispatches, in the order usage lists them.
var commands = []string{"run", "validate", "status", "export", "reconcile", "help", "version"}

// unknownCommand names a mistyped command (unless it could be a secret),
// with a close command if there is one.
func unknownCommand(cmd string) error {
	if strings.HasPrefix(cmd, "-") {
		return usagef("%s before any command: the command comes first, e.g. importer run --input FILE\nsee `importer --help`", quoteCommand(cmd))
	}
	shown := quoteCommand(cmd)
	msg := "unknown command " + shown
	if !strings.HasPrefix(shown, "(not shown") {
		if near := closest(strings.ToLower(cmd), commands); near != "" {
			msg += fmt.Sprintf(": did you mean %q?", near)
		}
	}
	return usagef("%s\ncommands: %s; see `importer --help`", msg, strings.Join(commands, ", "))
}
