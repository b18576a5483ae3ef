package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/p100/p100-importer/internal/job"
)

// writeJob writes a job file into a new directory and returns its path.
func writeJob(t *testing.T, text string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "jobs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "nightly.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func parseRun(t *testing.T, args ...string) (runOptions, *jobFile, error) {
	t.Helper()
	var o runOptions
	fs := newRunFlags(&o)
	jf, err := parseRunFlags(fs, &o, args, io.Discard)
	return o, jf, err
}

func TestJobFilePrecedence(t *testing.T) {
	path := writeJob(t, `
input = "/data/users.csv"
workers = 16
rate = 3.5
burst = 9
lookup-existing = false
quiet = true
timeout = "45s"
max-errors = 50
log-format = "json"
`)
	o, jf, err := parseRun(t, "--config", path, "--workers", "4", "--log-format", "text")
	if err != nil {
		t.Fatal(err)
	}
	// The command line wins over the file.
	if o.Workers != 4 || o.LogFormat != "text" {
		t.Errorf("flags given on the command line lost to the file: workers %d, log-format %q", o.Workers, o.LogFormat)
	}
	// The file wins over the defaults, with its types.
	if o.Rate.n != 3.5 || o.Rate.auto || o.Burst != 9 || o.Lookup || !o.Quiet || o.Timeout != 45*time.Second ||
		o.MaxErrors != "50" || o.Path != "/data/users.csv" {
		t.Errorf("file values not applied: %+v", o)
	}
	// What neither sets keeps its default.
	if o.MaxAttempts != job.DefaultMaxAttempts || o.DrainTimeout != job.DefaultDrainTimeout || o.Progress != "auto" {
		t.Errorf("defaults changed: max-attempts %d, drain-timeout %s, progress %q", o.MaxAttempts, o.DrainTimeout, o.Progress)
	}
	want := map[string]string{"workers": fromFlag, "log-format": fromFlag, "config": fromFlag, "rate": fromFile, "timeout": fromFile, "burst": fromFile}
	for name, src := range want {
		if jf.source[name] != src {
			t.Errorf("source of %s: %q, want %q", name, jf.source[name], src)
		}
	}
	if _, ok := jf.source["max-attempts"]; ok {
		t.Errorf("max-attempts is a default, recorded as %q", jf.source["max-attempts"])
	}

	// rate may also be "auto", and input an array.
	path = writeJob(t, `rate = "auto"
input = ["/a.csv", "/b.csv"]`)
	o, _, err = parseRun(t, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Rate.auto || strings.Join(o.Paths, " ") != "/a.csv /b.csv" {
		t.Errorf("rate auto %v, inputs %q", o.Rate.auto, o.Paths)
	}
	// --input on the command line replaces the file's list, not adds to it.
	o, _, err = parseRun(t, "--config", path, "--input", "/c.csv")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Paths, " ") != "/c.csv" {
		t.Errorf("inputs %q, want only the command line's", o.Paths)
	}
}

func TestJobFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"unknown key", "\n# c\ninptu = \"x.csv\"\n", []string{"line 3", `unknown key "inptu"`, `did you mean "input"?`}},
		{"underscores", `base_url = "http://x"`, []string{`did you mean "base-url"?`}},
		{"far from any", `colour = "blue"`, []string{`unknown key "colour"`, "importer run --help"}},
		{"int as string", "rate = 2\nworkers = \"8\"", []string{"line 2", `key "workers"`, "want an integer, got a string"}},
		{"bool as string", `lookup-existing = "no"`, []string{`key "lookup-existing"`, "want a boolean"}},
		{"duration as number", `timeout = 30`, []string{`key "timeout"`, "duration as a string", "got an integer"}},
		{"bad duration", `timeout = "half a minute"`, []string{`key "timeout"`, "not a duration"}},
		{"float for int", `burst = 2.5`, []string{`key "burst"`, "want an integer, got a float"}},
		{"rate word", `rate = "fast"`, []string{`key "rate"`, "want auto or a number"}},
		{"input number", `input = 5`, []string{`key "input"`, "a string or an array of strings"}},
		{"empty input array", `input = []`, []string{`key "input"`, "empty array"}},
		{"table", "[run]\nworkers = 3", []string{`unknown key "run"`}},
		{"config in config", `config = "other.toml"`, []string{"cannot name another job file"}},
		{"syntax", "workers = = 3", []string{"line 1", "not valid TOML"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseRun(t, "--config", writeJob(t, tc.text))
			if err == nil {
				t.Fatal("accepted")
			}
			if exitCode(err) != ExitUsage {
				t.Errorf("exit code %d, want %d", exitCode(err), ExitUsage)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestJobFileRefusesTheKey(t *testing.T) {
	const secret = "sk_live_TOPSECRET_0123456789"
	for _, text := range []string{
		`api-key = "` + secret + `"`,
		`apikey = "` + secret + `"`,
		`API_KEY = "` + secret + `"`,
		`key = "` + secret + `"`,
		`token = "` + secret + `"`,
		"workers = 2\ntoken = " + secret, // not even valid TOML
		`rate = ` + secret,               // the key as a bare value elsewhere
	} {
		_, _, err := parseRun(t, "--config", writeJob(t, text))
		if err == nil {
			t.Fatalf("%q accepted", text)
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("the value is echoed: %v", err)
		}
		if exitCode(err) != ExitUsage {
			t.Errorf("%q: exit code %d", text, exitCode(err))
		}
		if !strings.HasPrefix(text, "rate") && !strings.Contains(err.Error(), refusedKeyHint) {
			t.Errorf("%q: error %q does not say %q", text, err, refusedKeyHint)
		}
	}
}

func TestJobFileRelativePaths(t *testing.T) {
	path := writeJob(t, `
input = ["in/a.csv", "/abs/b.csv", "drops/*.csv"]
checkpoint = "state/p100.db"
report = "../reports/failed.csv"
api-key-file = "secrets/key"
map-file = "map.csv"
`)
	dir := filepath.Dir(path)
	o, _, err := parseRun(t, "--config", path, "--summary", "rel/summary.json")
	if err != nil {
		t.Fatal(err)
	}
	wantIn := []string{filepath.Join(dir, "in/a.csv"), "/abs/b.csv", filepath.Join(dir, "drops/*.csv")}
	if strings.Join(o.Paths, "|") != strings.Join(wantIn, "|") {
		t.Errorf("inputs %q, want %q", o.Paths, wantIn)
	}
	for got, want := range map[string]string{
		o.Checkpoint: filepath.Join(dir, "state/p100.db"),
		o.Report:     filepath.Join(filepath.Dir(dir), "reports/failed.csv"),
		o.APIKeyFile: filepath.Join(dir, "secrets/key"),
		o.MapFile:    filepath.Join(dir, "map.csv"),
		o.Summary:    "rel/summary.json", // the command line's stay relative to the working directory
	} {
		if got != want {
			t.Errorf("path %q, want %q", got, want)
		}
	}
	// - (standard input) is not a path.
	o, _, err = parseRun(t, "--config", writeJob(t, `input = "-"`))
	if err != nil || o.Path != "-" {
		t.Errorf("input - became %q (%v)", o.Path, err)
	}
}

func TestPrintConfig(t *testing.T) {
	const secret = "sandbox-key-PRINTME-never"
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := writeJob(t, `
input = ["a.csv", "b.csv"]
workers = 16
lookup-existing = false
timeout = "45s"
api-key-file = "`+keyFile+`"
`)
	t.Setenv("P100_API_KEY", secret)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "--config", path, "--print-config", "--rate", "7"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("--print-config: %v; stderr %s", err, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "PRINTME") || strings.Contains(stderr.String(), "PRINTME") {
		t.Fatalf("the API key is printed:\n%s", out)
	}
	dirOf := filepath.Dir(path)
	for _, want := range []string{
		"# API key: set, from --api-key-file (the job file)",
		"workers = 16  # file",
		"rate = 7.0  # flag",
		"burst = 5  # default",
		"lookup-existing = false  # file",
		`timeout = "45s"  # file`,
		`input = ["` + filepath.Join(dirOf, "a.csv") + `", "` + filepath.Join(dirOf, "b.csv") + `"]  # file`,
		"limit = 0  # default",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}
	// Every run flag is there, and the output is a job file giving the
	// same settings.
	var fs = newRunFlags(&runOptions{})
	var values map[string]any
	if _, err := toml.Decode(out, &values); err != nil {
		t.Fatalf("--print-config is not TOML: %v\n%s", err, out)
	}
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if _, skip := commandLineOnly[f.Name]; !skip {
			n++
			if _, ok := values[f.Name]; !ok {
				t.Errorf("--print-config lacks %s", f.Name)
			}
		}
	})
	if len(values) != n {
		t.Errorf("--print-config has %d keys, want %d", len(values), n)
	}
	again := filepath.Join(t.TempDir(), "again.toml")
	if err := os.WriteFile(again, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := run(context.Background(), []string{"run", "--config", again, "--print-config"}, &second, io.Discard); err != nil {
		t.Fatal(err)
	}
	strip := func(s string) string { // the sources differ (flag -> file), and the file's name
		var b strings.Builder
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "#") {
				continue
			}
			l, _, _ = strings.Cut(l, "  # ")
			b.WriteString(l + "\n")
		}
		return b.String()
	}
	if strip(second.String()) != strip(out) {
		t.Errorf("settings differ when --print-config is fed back:\n%s\nvs\n%s", second.String(), out)
	}

	// Without a key file: the environment, still never its value.
	stdout.Reset()
	if err := run(context.Background(), []string{"run", "--print-config"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "# API key: set, from the environment variable P100_API_KEY") || strings.Contains(stdout.String(), "PRINTME") {
		t.Errorf("key source wrong or key shown:\n%s", stdout.String())
	}
	t.Setenv("P100_API_KEY", "")
	stdout.Reset()
	if err := run(context.Background(), []string{"run", "--print-config", "--api-key-file", secret}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "PRINTME") {
		t.Errorf("a key pasted as --api-key-file is printed:\n%s", stdout.String())
	}
}

func TestValidateJobFile(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(csv, []byte("externalUserId;email\nu1;a@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The run-only keys (report: the run's failure report) are ignored:
	// validate must not write over the run's files.
	report := filepath.Join(dir, "failed.csv")
	path := writeJob(t, `input = "`+csv+`"
delimiter = ";"
required = ["externalUserId", "email"]
report = "`+report+`"
workers = 8
`)
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"validate", "--config", path}, &stdout, io.Discard)
	if err != nil {
		t.Fatalf("validate --config: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), csv) {
		t.Errorf("validate did not read the job file's input:\n%s", stdout.String())
	}
	if _, err := os.Stat(report); err == nil {
		t.Error("validate wrote the run's report file")
	}
	// An unknown key is still an error.
	err = run(context.Background(), []string{"validate", "--config", writeJob(t, `inptu = "x"`)}, io.Discard, io.Discard)
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), `did you mean "input"?`) {
		t.Errorf("validate with an unknown key: %v", err)
	}
}
