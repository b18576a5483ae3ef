package main_test

// End-to-end tests of the help and of the answers to mistakes on the
// command line (issue 14, item 2): help on stdout with exit 0, short
// errors with a close name and where the help is, --no-X switches.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var helpCommands = []string{"run", "validate", "status", "export", "reconcile"}

func TestHelpGoesToStdout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, cmd := range helpCommands {
		t.Run(cmd, func(t *testing.T) {
			var first string
			for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}} {
				r := runImporter(t, dir, nil, args...)
				if r.code != 0 || r.stderr != "" {
					t.Errorf("importer %v: exit %d, stderr %q; want exit 0 and nothing on stderr", args, r.code, r.stderr)
				}
				if want := "Usage: importer " + cmd + " "; !strings.HasPrefix(r.stdout, want) {
					t.Errorf("importer %v: stdout does not start with %q:\n%s", args, want, r.stdout)
				}
				if !strings.Contains(r.stdout, "\nFlags:\n  --") {
					t.Errorf("importer %v: the help lists no flag:\n%s", args, r.stdout)
				}
				if regexp.MustCompile(`(?m)^\s+-[a-z]`).MatchString(r.stdout) {
					t.Errorf("importer %v: a flag is written with one dash:\n%s", args, r.stdout)
				}
				if first == "" {
					first = r.stdout
				} else if r.stdout != first {
					t.Errorf("importer %v prints another help than importer %s --help", args, cmd)
				}
			}
		})
	}
	t.Run("top level", func(t *testing.T) {
		for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
			r := runImporter(t, dir, nil, args...)
			if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "importer run      --input FILE") {
				t.Errorf("importer %v: exit %d, stderr %q, stdout:\n%s", args, r.code, r.stderr, r.stdout)
			}
		}
	})
	t.Run("help of an unknown command", func(t *testing.T) {
		r := runImporter(t, dir, nil, "help", "frobnicate")
		if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) || r.stdout != "" {
			t.Errorf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
}

func TestBadFlagIsShort(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		args []string
		want []string // each must be in stderr
	}{
		// A typo: the close flag and where the help is.
		{[]string{"run", "--inptu", "users.csv"}, []string{"unknown flag --inptu", "did you mean --input?", "see `importer run --help`"}},
		// One dash, a swapped pair of letters.
		{[]string{"validate", "-qiuet"}, []string{"did you mean --quiet?", "see `importer validate --help`"}},
		// The start of a flag's name.
		{[]string{"status", "--check", "cp.db"}, []string{"did you mean --checkpoint?", "see `importer status --help`"}},
		{[]string{"export", "--fromat", "json"}, []string{"did you mean --format?", "see `importer export --help`"}},
		{[]string{"reconcile", "--wrokers", "4"}, []string{"did you mean --workers?", "see `importer reconcile --help`"}},
		// Nothing close: no suggestion.
		{[]string{"run", "--zzzzzzzz"}, []string{"unknown flag --zzzzzzzz\n", "see `importer run --help`"}},
		// A bad value is named with two dashes.
		{[]string{"run", "--workers", "many"}, []string{`invalid value "many" for flag --workers`, "see `importer run --help`"}},
		// A switch given a separate value: the ways to write it.
		{[]string{"run", "--input", "users.csv", "--lookup-existing", "false"}, []string{"--lookup-existing is a switch", "--lookup-existing=false", "--no-lookup-existing"}},
		{[]string{"run", "--input", "users.csv", "extra"}, []string{`unexpected argument "extra"`, "see `importer run --help`"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runImporter(t, dir, nil, tt.args...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit 2 and nothing on stdout", r.code, r.stdout)
			}
			if n := strings.Count(r.stderr, "\n"); n > 3 {
				t.Errorf("%d lines on stderr, want a few:\n%s", n, r.stderr)
			}
			if strings.Contains(r.stderr, "Usage:") {
				t.Errorf("stderr holds the whole usage:\n%s", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(tt.want[0], "--zzzz") && strings.Contains(r.stderr, "did you mean") {
				t.Errorf("a suggestion for a name close to nothing:\n%s", r.stderr)
			}
		})
	}
}

func TestNegatedSwitches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := filepath.Join(dir, "users.csv")
	writeUsers(t, input, 0, 3)
	// validate prints the file's dialect unless --quiet: the last of the
	// switches given wins.
	tests := []struct {
		args  []string
		quiet bool
	}{
		{[]string{"--quiet"}, true},
		{[]string{"--quiet", "--no-quiet"}, false},
		{[]string{"--no-quiet"}, false},
		{[]string{"--no-quiet=false"}, true},
		{[]string{"--quiet=false"}, false},
		{[]string{"--no-quiet", "--quiet"}, true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runImporter(t, dir, nil, append([]string{"validate", "--input", input}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			if quiet := !strings.Contains(r.stdout, "format:"); quiet != tt.quiet {
				t.Errorf("quiet = %v, want %v; stdout:\n%s", quiet, tt.quiet, r.stdout)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		cmd       string
		want, not string
	}{
		{"frobnicate", `unknown command "frobnicate"`, "did you mean"},
		{"valdiate", `did you mean "validate"?`, ""},
		{"staus", `did you mean "status"?`, ""},
		// Could be a key pasted in the wrong place: never echoed.
		{"sk_live_0123456789abcdef", "unknown command (not shown", "sk_live"},
		{"--input", "the command comes first", ""},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			r := runImporter(t, dir, nil, tt.cmd)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stdout %q; want exit 2 saying %q; stderr:\n%s", r.code, r.stdout, tt.want, r.stderr)
			}
			if tt.not != "" && strings.Contains(r.stderr, tt.not) {
				t.Errorf("stderr says %q:\n%s", tt.not, r.stderr)
			}
			if n := strings.Count(r.stderr, "\n"); n > 3 {
				t.Errorf("%d lines on stderr, want a few:\n%s", n, r.stderr)
			}
		})
	}
}

// TestHelpAndReadmeSpellFlagsAlike: every flag `importer run --help` lists
// is in the README's section on run, and every flag that section names is
// one run takes.
func TestHelpAndReadmeSpellFlagsAlike(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "### `importer run`")
	if start < 0 {
		t.Fatal("README has no section ### `importer run`")
	}
	section := text[start+1:]
	section = section[:strings.Index(section, "\n### ")]
	flagName := regexp.MustCompile(`--[a-z][a-z0-9-]*`)
	inReadme := map[string]bool{}
	for _, f := range flagName.FindAllString(section, -1) {
		inReadme[f] = true
	}

	r := runImporter(t, t.TempDir(), nil, "run", "--help")
	if r.code != 0 {
		t.Fatalf("run --help: exit %d", r.code)
	}
	inHelp := map[string]bool{} // every spelling the help lists, --no-X included
	var listed []string         // the flags themselves
	for _, line := range strings.Split(r.stdout, "\n") {
		if !strings.HasPrefix(line, "  --") {
			continue
		}
		names := flagName.FindAllString(strings.Fields(line)[0], -1)
		listed = append(listed, names[0])
		for _, f := range flagName.FindAllString(line, -1) {
			inHelp[f] = true
		}
	}
	if len(listed) < 20 {
		t.Fatalf("run --help lists %d flags:\n%s", len(listed), r.stdout)
	}
	for _, f := range listed {
		if !inReadme[f] {
			t.Errorf("%s is in run --help but not in the README's section on run", f)
		}
	}
	for f := range inReadme {
		if !inHelp[f] {
			t.Errorf("the README's section on run names %s, which run --help does not list", f)
		}
	}
	if !slices.Contains(listed, "--input") {
		t.Errorf("run --help does not list --input")
	}
}
