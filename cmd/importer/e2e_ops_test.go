package main_test

// End-to-end tests of issue 5 (operating the importer): status and export
// against golden files, the failure-report rerun loop, --retry-failed, the
// Prometheus metrics file, the nightly incremental sequence and --version.
// Every test runs the real binaries (see e2e_helpers_test.go).

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/importer"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden/ with the current output")

// requiredNoCity is --required without city: the importer accepts a row
// with an empty city, which the sandbox refuses with P403, so the tests get
// "rejected" rows from a real answer of the API.
const requiredNoCity = "externalUserId,email,firstName,lastName,address,country,documentType,documentNumber"

// opsRow is one CSV row for the golden scenario; city may be empty.
func opsRow(id, email, city string) string {
	return fmt.Sprintf("%s,%s,Anna,Nowak,ul. Polna 7,%s,PL,PASSPORT,DOC-%s,,PL,1990-01-15\n", id, email, city, id)
}

// writeFile writes a test file with mode 0600.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mustRun runs the importer and fails the test unless it exits with want.
func mustRun(t *testing.T, dir string, env []string, want int, args ...string) result {
	t.Helper()
	r := runImporter(t, dir, env, args...)
	if r.code != want {
		t.Fatalf("importer %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// The golden files hold the output of status and export with the volatile
// parts replaced by placeholders, so that they compare equal from one run to
// the next: UUIDs (P100 userIds and balance ids, random in the sandbox),
// timestamps (RFC 3339, with or without fractions), SHA-256 digests (whole
// or the 12-digit prefix status prints), durations, rates and latencies
// (measured), and the temporary directory. Run ids are kept: the scenario
// starts from an empty checkpoint, so they are always 1, 2, 3.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<UUID>"},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<SHA256>"},
	{regexp.MustCompile(`(sha256 )[0-9a-f]{12}\b`), "${1}<SHA256>"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`), "<TIME>"},
	// The duration column of status's table of runs, 8 wide plus 2.
	{regexp.MustCompile(`(<TIME>  )[0-9][0-9.hms]* +`), "${1}<DUR>     "},
	{regexp.MustCompile(`("(?:duration_seconds|rows_per_second|requests_per_second|paused_seconds|p50|p95|p99)":\s*)-?[0-9][0-9.e+-]*`), "${1}<N>"},
}

// normalise replaces the volatile parts of out (see volatile) and the
// test's directory.
func normalise(out, dir string) string {
	for _, d := range []string{dir, evalSymlinks(dir)} {
		if d != "" {
			out = strings.ReplaceAll(out, d, "<DIR>")
		}
	}
	for _, v := range volatile {
		out = v.re.ReplaceAllString(out, v.with)
	}
	return out
}

func evalSymlinks(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return r
}

// checkGolden compares got with testdata/golden/name, or rewrites the file
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./cmd/importer -run '%s' -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (refresh with -update if the change is intended):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff shows the lines of want and got that differ, with line numbers.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %q\n  got:  %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// TestStatusAndExportGolden builds a checkpoint with three real runs against
// the sandbox binary, holding every kind of row, and compares the output of
// status and export with the golden files:
//
//	run 1 (night1.csv): golden-01..05 created, golden-06 invalid (bad email),
//	      golden-07 rejected by the sandbox (P403: empty city, which
//	      --required lets through);
//	run 2 (extra.csv), the sandbox failing every create (P501) and
//	      --max-attempts 1: golden-08, golden-09 failed;
//	run 3 (night1-changed.csv): night1.csv with golden-02's city changed:
//	      golden-02 skipped and flagged changed; nothing else is sent.
func TestStatusAndExportGolden(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	common := []string{"--checkpoint", "cp.db", "--base-url", sb.URL, "--rate", "0", "--progress", "none", "--required", requiredNoCity}

	night := func(changedCity string) string {
		var b strings.Builder
		b.WriteString(csvHeader)
		for i := 1; i <= 5; i++ {
			city := "Gdańsk"
			if i == 2 && changedCity != "" {
				city = changedCity
			}
			b.WriteString(opsRow(fmt.Sprintf("golden-%02d", i), fmt.Sprintf("golden%d@example.com", i), city))
		}
		b.WriteString(opsRow("golden-06", "not-an-email", "Gdańsk"))
		b.WriteString(opsRow("golden-07", "golden7@example.com", ""))
		return b.String()
	}
	writeFile(t, filepath.Join(dir, "night1.csv"), night(""))
	writeFile(t, filepath.Join(dir, "extra.csv"), csvHeader+opsRow("golden-08", "golden8@example.com", "Sopot")+opsRow("golden-09", "golden9@example.com", "Sopot"))
	writeFile(t, filepath.Join(dir, "night1-changed.csv"), night("Kraków"))

	mustRun(t, dir, keyEnv(), 1, append([]string{"run", "--input", "night1.csv", "--summary", "s1.json"}, common...)...)
	if s := readSummary(t, filepath.Join(dir, "s1.json")); s.Created != 5 || s.Invalid != 1 || s.Rejected != 1 {
		t.Fatalf("run 1 summary = %+v, want 5 created, 1 invalid, 1 rejected", s)
	}
	sb.SetFaults(t, `{"fail_rate": 1}`)
	mustRun(t, dir, keyEnv(), 1, append([]string{"run", "--input", "extra.csv", "--max-attempts", "1", "--summary", "s2.json"}, common...)...)
	if s := readSummary(t, filepath.Join(dir, "s2.json")); s.Failed != 2 || s.ErrorCodes["P501"] != 2 {
		t.Fatalf("run 2 summary = %+v, want 2 failed with P501", s)
	}
	sb.SetFaults(t, `{}`)
	before := sb.Stats(t).Requests
	mustRun(t, dir, keyEnv(), 1, append([]string{"run", "--input", "night1-changed.csv", "--summary", "s3.json"}, common...)...)
	if s := readSummary(t, filepath.Join(dir, "s3.json")); s.Skipped != 5 || s.Changed != 1 || s.Requests != 0 {
		t.Fatalf("run 3 summary = %+v, want 5 skipped, 1 changed, no request", s)
	}
	if n := sb.Stats(t).Requests - before; n != 0 {
		t.Fatalf("run 3 sent %d requests, want 0", n)
	}

	tests := []struct {
		golden string
		args   []string
	}{
		{"status.txt", []string{"status"}},
		{"status.json", []string{"status", "--json"}},
		{"export-created-exists.csv", []string{"export", "--state", "created,exists"}},
		{"export-created-exists.json", []string{"export", "--state", "created,exists", "--format", "json"}},
		{"export-failed-rejected-invalid.csv", []string{"export", "--state", "failed,rejected,invalid"}},
		{"export-failed-rejected-invalid.json", []string{"export", "--state", "failed,rejected,invalid", "--format", "json"}},
		{"export-changed.csv", []string{"export", "--state", "changed"}},
		{"export-changed.json", []string{"export", "--state", "changed", "--format", "json"}},
		{"export-all.csv", []string{"export", "--state", "all"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			// No key: status and export never talk to the API.
			r := mustRun(t, dir, nil, 0, append(tt.args, "--checkpoint", "cp.db")...)
			if r.stderr != "" {
				t.Errorf("stderr is not empty:\n%s", r.stderr)
			}
			checkGolden(t, tt.golden, normalise(r.stdout, dir))

			// --output writes the same bytes to a file, mode 0600.
			out := filepath.Join(dir, "out-"+tt.golden)
			if tt.args[0] == "export" {
				mustRun(t, dir, nil, 0, append(tt.args, "--checkpoint", "cp.db", "--output", out)...)
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if string(data) != r.stdout {
					t.Errorf("--output file differs from standard output:\n%s", lineDiff(r.stdout, string(data)))
				}
				checkMode(t, out, 0o600)
			}
		})
	}

	t.Run("failure export is re-feedable", func(t *testing.T) {
		// The regenerated report holds the original row data, so feeding it
		// back sends the failed rows again (the sandbox no longer fails).
		mustRun(t, dir, nil, 0, "export", "--checkpoint", "cp.db", "--state", "failed", "--output", "failed.csv")
		before := sb.Stats(t)
		mustRun(t, dir, keyEnv(), 0, append([]string{"run", "--input", "failed.csv", "--summary", "s4.json"}, common...)...)
		if s := readSummary(t, filepath.Join(dir, "s4.json")); s.Rows != 2 || s.Created != 2 {
			t.Errorf("rerun of the exported failures: %+v, want 2 rows created", s)
		}
		if after := sb.Stats(t); after.Created-before.Created != 2 || after.Conflicts != before.Conflicts {
			t.Errorf("sandbox before %+v, after %+v: want 2 created, no conflict", before, after)
		}
	})
}

// checkMode fails the test unless path has exactly the permission bits want.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", filepath.Base(path), got, want)
	}
}

// TestFailureReportRoundTrip: a run against a sandbox that fails part of the
// creates writes a failure report; once the sandbox stops failing, the
// report fed back as --input (same checkpoint) creates every valid row and
// sends none of them twice. The second sub-test does the same job with
// run --retry-failed, from the checkpoint alone.
func TestFailureReportRoundTrip(t *testing.T) {
	t.Parallel()
	const valid = 60
	for _, tc := range []struct {
		name string
		// rerun is the second run's own arguments.
		rerun []string
	}{
		{"report fed back as --input", []string{"--input", "report.csv"}},
		{"run --retry-failed", []string{"--retry-failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// P501 for 30% of the creates, and no retry: about 18 rows fail
			// (the dice are seeded, so always the same number).
			sb := startSandbox(t, "--fail-rate", "0.3", "--seed", "7")
			dir := t.TempDir()
			writeUsers(t, filepath.Join(dir, "users.csv"), 0, valid,
				"bad-row,not-an-email,Jan,Nowak,ul. Krótka 1,Gdańsk,PL,ID_CARD,XYZ000001,,PL,1980-01-01\n")
			common := []string{"--checkpoint", "cp.db", "--base-url", sb.URL, "--rate", "0", "--progress", "none", "--max-attempts", "1"}

			mustRun(t, dir, keyEnv(), 1, append([]string{"run", "--input", "users.csv", "--report", "report.csv", "--summary", "s1.json"}, common...)...)
			s1 := readSummary(t, filepath.Join(dir, "s1.json"))
			if s1.Failed == 0 || s1.Invalid != 1 || s1.Created+s1.Failed != valid {
				t.Fatalf("first run: %+v, want some failed, 1 invalid, the rest created", s1)
			}
			checkMode(t, filepath.Join(dir, "report.csv"), 0o600)
			if n := countCSVRows(t, filepath.Join(dir, "report.csv")); n != s1.Failed+s1.Invalid {
				t.Errorf("report has %d rows, want %d failed + %d invalid", n, s1.Failed, s1.Invalid)
			}

			sb.SetFaults(t, `{"fail_rate": 0, "error_rate": 0, "reset_rate": 0, "slow_rate": 0}`)
			before := sb.Stats(t)
			r := runImporter(t, dir, keyEnv(), append(append([]string{"run", "--summary", "s2.json"}, tc.rerun...), common...)...)
			s2 := readSummary(t, filepath.Join(dir, "s2.json"))
			after := sb.Stats(t)

			if s2.Created != s1.Failed || s2.Failed != 0 || s2.Rejected != 0 || s2.Exists != 0 {
				t.Errorf("rerun: %+v, want the %d failed rows created and nothing else sent", s2, s1.Failed)
			}
			if n := after.Requests - before.Requests; n != int64(s1.Failed) || s2.Requests != int64(s1.Failed) {
				t.Errorf("rerun sent %d requests (summary says %d), want exactly the %d failed rows", n, s2.Requests, s1.Failed)
			}
			if after.Conflicts != 0 {
				t.Errorf("the sandbox answered P411 %d times: some rows were sent twice", after.Conflicts)
			}
			if after.Users != valid {
				t.Errorf("the sandbox holds %d users, want %d (every valid row)", after.Users, valid)
			}
			wantCode := 0
			if tc.rerun[0] == "--input" {
				// The report also holds the invalid row: still invalid.
				wantCode = 1
				if s2.Invalid != 1 {
					t.Errorf("rerun: %d invalid, want the 1 invalid row of the report", s2.Invalid)
				}
			}
			if r.code != wantCode {
				t.Errorf("rerun: exit %d, want %d; stderr:\n%s", r.code, wantCode, r.stderr)
			}

			// The ledger agrees: every valid row created, with the userId the
			// sandbox gave it.
			users := sb.Users(t)
			exp := mustRun(t, dir, nil, 0, "export", "--checkpoint", "cp.db", "--state", "created,exists")
			recs := parseCSV(t, exp.stdout)
			if len(recs)-1 != valid {
				t.Errorf("export lists %d created rows, want %d", len(recs)-1, valid)
			}
			for _, rec := range recs[1:] {
				if users[rec[0]] != rec[1] {
					t.Errorf("%s: checkpoint userId %q, sandbox %q", rec[0], rec[1], users[rec[0]])
				}
			}
		})
	}
}

func parseCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, s)
	}
	if len(recs) == 0 {
		t.Fatalf("empty CSV, want at least a header")
	}
	return recs
}

func countCSVRows(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return len(parseCSV(t, string(data))) - 1
}

// promFamily is one metric family of a Prometheus text file.
type promFamily struct {
	help, typ        string
	hasHelp, hasType bool
	samples          []promSample
}

type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	promMetricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	promLabelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	promTypes      = []string{"counter", "gauge", "histogram", "summary", "untyped"}
)

// parsePromText checks text against the Prometheus text exposition format
// (version 0.0.4), strictly, and returns its families by name. It refuses:
// a file not ending in a newline; invalid metric or label names, label names
// starting with "__"; label values with bad escapes; values that are not
// Go/Prometheus floats (NaN, +Inf, -Inf allowed); a sample whose family has
// no # HELP and # TYPE before it; HELP or TYPE given twice or after the
// family's samples; an unknown type; the samples of one family split in two
// groups; the same series (name and label set) twice.
func parsePromText(text string) (map[string]*promFamily, error) {
	if text == "" || !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("empty or not ending in a newline")
	}
	fams := map[string]*promFamily{}
	family := func(name string) *promFamily {
		f := fams[name]
		if f == nil {
			f = &promFamily{}
			fams[name] = f
		}
		return f
	}
	series := map[string]bool{}
	closed := map[string]bool{}
	current := ""
	enter := func(name string) error {
		if name == current {
			return nil
		}
		if closed[name] {
			return fmt.Errorf("lines of metric %s are not one group", name)
		}
		if current != "" {
			closed[current] = true
		}
		current = name
		return nil
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d %q: %s", i+1, line, fmt.Sprintf(format, args...))
		}
		switch {
		case strings.TrimSpace(line) == "":
			continue // the format ignores empty lines
		case strings.HasPrefix(line, "#"):
			parts := strings.SplitN(line, " ", 4)
			if len(parts) < 3 || parts[0] != "#" || (parts[1] != "HELP" && parts[1] != "TYPE") {
				continue // a plain comment
			}
			name := parts[2]
			if !promMetricName.MatchString(name) {
				return nil, fail("invalid metric name %q", name)
			}
			f := family(name)
			if len(f.samples) > 0 {
				return nil, fail("%s after the samples of %s", parts[1], name)
			}
			if err := enter(name); err != nil {
				return nil, fail("%v", err)
			}
			rest := ""
			if len(parts) == 4 {
				rest = parts[3]
			}
			if parts[1] == "HELP" {
				if f.hasHelp {
					return nil, fail("second HELP for %s", name)
				}
				if err := checkEscapes(rest, false); err != nil {
					return nil, fail("HELP text: %v", err)
				}
				f.help, f.hasHelp = rest, true
			} else {
				if f.hasType {
					return nil, fail("second TYPE for %s", name)
				}
				if !slices.Contains(promTypes, rest) {
					return nil, fail("unknown type %q", rest)
				}
				f.typ, f.hasType = rest, true
			}
		default:
			s, err := parsePromSample(line)
			if err != nil {
				return nil, fail("%v", err)
			}
			famName := s.name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(s.name, suffix); ok {
					if f := fams[base]; f != nil && (f.typ == "histogram" || f.typ == "summary") {
						famName = base
					}
				}
			}
			f := fams[famName]
			if f == nil || !f.hasHelp || !f.hasType {
				return nil, fail("sample of %s without # HELP and # TYPE before it", famName)
			}
			if err := enter(famName); err != nil {
				return nil, fail("%v", err)
			}
			key := seriesKey(s)
			if series[key] {
				return nil, fail("duplicate series %s", key)
			}
			series[key] = true
			f.samples = append(f.samples, s)
		}
	}
	return fams, nil
}

func seriesKey(s promSample) string {
	names := make([]string, 0, len(s.labels))
	for n := range s.labels {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(s.name)
	for _, n := range names {
		fmt.Fprintf(&b, ",%s=%q", n, s.labels[n])
	}
	return b.String()
}

// checkEscapes accepts only the escapes the format knows: \\ and \n, and
// \" too inside label values.
func checkEscapes(s string, quoted bool) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 == len(s) {
			return fmt.Errorf("dangling backslash")
		}
		switch c := s[i+1]; {
		case c == '\\' || c == 'n' || (quoted && c == '"'):
			i++
		default:
			return fmt.Errorf("unknown escape \\%c", c)
		}
	}
	return nil
}

// parsePromSample reads `name{label="value",...} value [timestamp]`.
func parsePromSample(line string) (promSample, error) {
	s := promSample{labels: map[string]string{}}
	end := strings.IndexAny(line, "{ ")
	if end <= 0 {
		return s, fmt.Errorf("no metric name followed by labels or a space")
	}
	s.name = line[:end]
	if !promMetricName.MatchString(s.name) {
		return s, fmt.Errorf("invalid metric name %q", s.name)
	}
	rest := line[end:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			eq := strings.IndexByte(rest, '=')
			if eq < 0 {
				return s, fmt.Errorf("label without '='")
			}
			name := rest[:eq]
			if !promLabelName.MatchString(name) || strings.HasPrefix(name, "__") {
				return s, fmt.Errorf("invalid label name %q", name)
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %q twice", name)
			}
			rest = rest[eq+1:]
			if !strings.HasPrefix(rest, `"`) {
				return s, fmt.Errorf("label %s: value not quoted", name)
			}
			var value strings.Builder
			closedQuote := false
			i := 1
			for ; i < len(rest); i++ {
				c := rest[i]
				if c == '\\' {
					if i+1 == len(rest) {
						return s, fmt.Errorf("label %s: dangling backslash", name)
					}
					switch rest[i+1] {
					case '\\':
						value.WriteByte('\\')
					case '"':
						value.WriteByte('"')
					case 'n':
						value.WriteByte('\n')
					default:
						return s, fmt.Errorf("label %s: unknown escape \\%c", name, rest[i+1])
					}
					i++
					continue
				}
				if c == '"' {
					closedQuote = true
					break
				}
				if c == '\n' {
					return s, fmt.Errorf("label %s: raw newline", name)
				}
				value.WriteByte(c)
			}
			if !closedQuote {
				return s, fmt.Errorf("label %s: unterminated value", name)
			}
			s.labels[name] = value.String()
			rest = rest[i+1:]
			switch {
			case strings.HasPrefix(rest, ","):
				rest = rest[1:]
				if strings.HasPrefix(rest, "}") {
					return s, fmt.Errorf("trailing comma in labels")
				}
			case strings.HasPrefix(rest, "}"):
			default:
				return s, fmt.Errorf("expected ',' or '}' after label %s", name)
			}
		}
		rest = rest[1:]
	}
	fields := strings.Split(rest, " ")
	if len(fields) < 2 || len(fields) > 3 || fields[0] != "" {
		return s, fmt.Errorf("want exactly one space, a value and an optional timestamp after the name and labels")
	}
	v, err := parsePromValue(fields[1])
	if err != nil {
		return s, err
	}
	s.value = v
	if len(fields) == 3 {
		if _, err := strconv.ParseInt(fields[2], 10, 64); err != nil {
			return s, fmt.Errorf("timestamp %q is not an integer", fields[2])
		}
	}
	return s, nil
}

func parsePromValue(v string) (float64, error) {
	switch v {
	case "NaN":
		return math.NaN(), nil
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	if v == "" || strings.ContainsAny(v, "xX_pPnNiI") { // no hex, underscores, or spelt-out specials
		return 0, fmt.Errorf("value %q is not a float", v)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a float", v)
	}
	return f, nil
}

func TestParsePromTextRefusesBadInput(t *testing.T) {
	t.Parallel()
	const head = "# HELP m A metric.\n# TYPE m gauge\n"
	tests := []struct {
		name, text string
	}{
		{"no trailing newline", head + "m 1"},
		{"no HELP", "# TYPE m gauge\nm 1\n"},
		{"no TYPE", "# HELP m A metric.\nm 1\n"},
		{"TYPE after sample", "# HELP m A metric.\nm 1\n# TYPE m gauge\n"},
		{"unknown type", "# HELP m A metric.\n# TYPE m gaug\nm 1\n"},
		{"bad metric name", "# HELP 1m A metric.\n# TYPE 1m gauge\n1m 1\n"},
		{"bad label name", head + "m{1a=\"x\"} 1\n"},
		{"reserved label name", head + "m{__name__=\"x\"} 1\n"},
		{"unquoted label value", head + "m{a=x} 1\n"},
		{"bad escape", head + "m{a=\"\\t\"} 1\n"},
		{"unterminated label", head + "m{a=\"x} 1\n"},
		{"trailing comma", head + "m{a=\"x\",} 1\n"},
		{"not a float", head + "m one\n"},
		{"hex float", head + "m 0x1p3\n"},
		{"two spaces", head + "m  1\n"},
		{"duplicate series", head + "m{a=\"x\"} 1\nm{a=\"x\"} 2\n"},
		{"split group", head + "m 1\n# HELP n B.\n# TYPE n gauge\nn 1\nm{a=\"y\"} 2\n"},
		{"second HELP", head + "# HELP m Again.\nm 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parsePromText(tt.text); err == nil {
				t.Errorf("accepted:\n%s", tt.text)
			}
		})
	}
	if _, err := parsePromText(head + "m{a=\"x\\\"y\\\\z\\n\",b=\"\"} -1.5e3 1700000000000\nm{a=\"y\"} NaN\n"); err != nil {
		t.Errorf("refused a valid file: %v", err)
	}
}

// TestMetricsFile checks that --metrics-file is valid Prometheus text format
// (strict check above, no dependency) and that its figures are the
// summary's, for a run with row errors and retries, then for a clean run.
func TestMetricsFile(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--error-rate", "0.3", "--seed", "3")
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 30,
		"bad-row,not-an-email,Jan,Nowak,ul. Krótka 1,Gdańsk,PL,ID_CARD,XYZ000001,,PL,1980-01-01\n",
		opsRow("no-city", "nocity@example.com", ""))
	writeUsers(t, filepath.Join(dir, "clean.csv"), 100, 110)

	check := func(t *testing.T, metricsFile, summaryFile string) importer.Summary {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, metricsFile))
		if err != nil {
			t.Fatal(err)
		}
		fams, err := parsePromText(string(data))
		if err != nil {
			t.Fatalf("metrics file is not valid Prometheus text format: %v\n%s", err, data)
		}
		s := readSummary(t, filepath.Join(dir, summaryFile))
		value := func(name string, labels map[string]string) float64 {
			t.Helper()
			f := fams[name]
			if f == nil {
				t.Errorf("metric %s missing", name)
				return math.NaN()
			}
			for _, smp := range f.samples {
				if smp.name == name && fmt.Sprint(smp.labels) == fmt.Sprint(labels) {
					return smp.value
				}
			}
			t.Errorf("metric %s%v missing", name, labels)
			return math.NaN()
		}
		for outcome, n := range map[string]int{"created": s.Created, "exists": s.Exists, "skipped": s.Skipped,
			"invalid": s.Invalid, "rejected": s.Rejected, "failed": s.Failed} {
			if got := value("p100_import_rows_total", map[string]string{"outcome": outcome}); got != float64(n) {
				t.Errorf("p100_import_rows_total{outcome=%q} = %v, summary says %d", outcome, got, n)
			}
		}
		if n := len(fams["p100_import_rows_total"].samples); n != 6 {
			t.Errorf("p100_import_rows_total has %d series, want one per outcome (6)", n)
		}
		for name, want := range map[string]float64{
			"p100_import_changed_rows":         float64(s.Changed),
			"p100_import_requests_total":       float64(s.Requests),
			"p100_import_retries_total":        float64(s.Retries),
			"p100_import_throttled_total":      float64(s.Throttled),
			"p100_import_exit_code":            float64(s.ExitCode),
			"p100_import_run_duration_seconds": s.DurationSeconds,
		} {
			if got := value(name, map[string]string{}); got != want {
				t.Errorf("%s = %v, summary says %v", name, got, want)
			}
		}
		if got, want := value("p100_import_last_run_timestamp_seconds", map[string]string{}), float64(s.FinishedAt.Unix()); got != want {
			t.Errorf("p100_import_last_run_timestamp_seconds = %v, summary finished_at %v (%v)", got, s.FinishedAt, want)
		}
		last := value("p100_import_last_success_timestamp_seconds", map[string]string{})
		switch {
		case s.ExitCode != 0 && last != 0:
			t.Errorf("p100_import_last_success_timestamp_seconds = %v, want 0: no run of this checkpoint succeeded", last)
		case s.ExitCode == 0 && math.Abs(last-float64(s.FinishedAt.Unix())) > 1:
			t.Errorf("p100_import_last_success_timestamp_seconds = %v, want this run's end %v", last, s.FinishedAt.Unix())
		}
		return s
	}

	t.Run("run with row errors and retries", func(t *testing.T) {
		mustRun(t, dir, keyEnv(), 1, "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
			"--rate", "0", "--progress", "none", "--required", requiredNoCity, "--max-attempts", "10",
			"--summary", "s1.json", "--metrics-file", "m1.prom")
		s := check(t, "m1.prom", "s1.json")
		if s.Retries == 0 || s.Invalid != 1 || s.Rejected != 1 || s.Created != 30 {
			t.Errorf("summary %+v: want retries, 1 invalid, 1 rejected, 30 created", s)
		}
	})
	t.Run("clean run", func(t *testing.T) {
		mustRun(t, dir, keyEnv(), 0, "run", "--input", "clean.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
			"--rate", "0", "--progress", "none", "--max-attempts", "10", "--summary", "s2.json", "--metrics-file", "m2.prom")
		check(t, "m2.prom", "s2.json")
	})
}

// TestNightlySequence: night 1 imports users 0..99; night 2's file has users
// 0..149, 5 of the first 100 with another city. Night 2 sends only the 50
// new users; the 5 changed are reported (summary, export --state changed,
// status) and never re-created.
func TestNightlySequence(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	changed := []int{3, 17, 42, 68, 99}
	writeUsers(t, filepath.Join(dir, "night1.csv"), 0, 100)
	var night2 strings.Builder
	night2.WriteString(csvHeader)
	for n := range 150 {
		row := userRow(n)
		if slices.Contains(changed, n) {
			row = strings.Replace(row, ",Gdańsk,", ",Kraków,", 1)
		}
		night2.WriteString(row)
	}
	writeFile(t, filepath.Join(dir, "night2.csv"), night2.String())
	common := []string{"--checkpoint", "nightly.db", "--base-url", sb.URL, "--rate", "0", "--progress", "none", "--quiet"}

	mustRun(t, dir, keyEnv(), 0, append([]string{"run", "--input", "night1.csv", "--summary", "s1.json"}, common...)...)
	if s := readSummary(t, filepath.Join(dir, "s1.json")); s.Created != 100 {
		t.Fatalf("night 1: %+v, want 100 created", s)
	}
	night1Users := sb.Users(t)
	before := sb.Stats(t)

	r := mustRun(t, dir, keyEnv(), 0, append([]string{"run", "--input", "night2.csv", "--summary", "s2.json"}, common...)...)
	s := readSummary(t, filepath.Join(dir, "s2.json"))
	after := sb.Stats(t)
	if s.Rows != 150 || s.Created != 50 || s.Skipped != 100 || s.Changed != 5 || s.Requests != 50 {
		t.Errorf("night 2: %+v, want 150 rows: 50 created, 100 skipped of which 5 changed, 50 requests", s)
	}
	if n := after.Requests - before.Requests; n != 50 {
		t.Errorf("night 2 sent %d requests, want 50 (only the new users)", n)
	}
	if after.Conflicts != 0 || after.Users != 150 {
		t.Errorf("sandbox after night 2: %+v, want 150 users and no P411", after)
	}
	if !strings.Contains(r.stderr, "changed: 5") {
		t.Errorf("night 2's summary line does not report the 5 changed rows:\n%s", r.stderr)
	}
	users := sb.Users(t)
	for _, n := range changed {
		id := fmt.Sprintf("user-%06d", n)
		if users[id] != night1Users[id] {
			t.Errorf("%s: userId %s after night 2, %s after night 1: re-created", id, users[id], night1Users[id])
		}
	}

	wantIDs := make([]string, len(changed))
	for i, n := range changed {
		wantIDs[i] = fmt.Sprintf("user-%06d", n)
	}
	t.Run("export --state changed", func(t *testing.T) {
		exp := mustRun(t, dir, nil, 0, "export", "--checkpoint", "nightly.db", "--state", "changed")
		recs := parseCSV(t, exp.stdout)
		var ids []string
		for _, rec := range recs[1:] {
			ids = append(ids, rec[0])
			if rec[2] != "created" || rec[3] != "true" || rec[1] != night1Users[rec[0]] {
				t.Errorf("changed row %v: want outcome created, changed true, night 1's userId %s", rec, night1Users[rec[0]])
			}
		}
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("export --state changed lists %v, want %v", ids, wantIDs)
		}
		var entries []struct {
			ExternalUserID string `json:"externalUserId"`
			Changed        bool   `json:"changed"`
		}
		exp = mustRun(t, dir, nil, 0, "export", "--checkpoint", "nightly.db", "--state", "changed", "--format", "json")
		if err := json.Unmarshal([]byte(exp.stdout), &entries); err != nil {
			t.Fatalf("JSON export: %v\n%s", err, exp.stdout)
		}
		ids = ids[:0]
		for _, e := range entries {
			ids = append(ids, e.ExternalUserID)
		}
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("JSON export --state changed lists %v, want %v", ids, wantIDs)
		}
	})
	t.Run("status", func(t *testing.T) {
		st := mustRun(t, dir, nil, 0, "status", "--checkpoint", "nightly.db")
		if !regexp.MustCompile(`(?m)^\s+changed\s+5\b`).MatchString(st.stdout) || !regexp.MustCompile(`(?m)^\s+created\s+150\b`).MatchString(st.stdout) {
			t.Errorf("status does not show 150 created and 5 changed:\n%s", st.stdout)
		}
		var rep struct {
			Changed int            `json:"changed"`
			States  map[string]int `json:"states"`
		}
		st = mustRun(t, dir, nil, 0, "status", "--checkpoint", "nightly.db", "--json")
		if err := json.Unmarshal([]byte(st.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Changed != 5 || rep.States["created"] != 150 {
			t.Errorf("status --json: changed %d, created %d; want 5 and 150", rep.Changed, rep.States["created"])
		}
	})
	t.Run("night 3 with night 1's content clears the flag", func(t *testing.T) {
		writeUsers(t, filepath.Join(dir, "night3.csv"), 0, 150)
		before := sb.Stats(t).Requests
		mustRun(t, dir, keyEnv(), 0, append([]string{"run", "--input", "night3.csv", "--summary", "s3.json"}, common...)...)
		if s := readSummary(t, filepath.Join(dir, "s3.json")); s.Skipped != 150 || s.Changed != 0 {
			t.Errorf("night 3: %+v, want 150 skipped, none changed", s)
		}
		if n := sb.Stats(t).Requests - before; n != 0 {
			t.Errorf("night 3 sent %d requests", n)
		}
		exp := mustRun(t, dir, nil, 0, "export", "--checkpoint", "nightly.db", "--state", "changed")
		if n := len(parseCSV(t, exp.stdout)) - 1; n != 0 {
			t.Errorf("export --state changed lists %d rows after night 3, want 0", n)
		}
	})
}

// TestRejectedMessageStable: a row P100 refused is not re-sent while its
// content is unchanged, night after night, and its recorded message does not
// grow with every night.
func TestRejectedMessageStable(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "users.csv"), csvHeader+opsRow("no-city", "nocity@example.com", ""))
	args := []string{"run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL, "--rate", "0",
		"--progress", "none", "--required", requiredNoCity}
	var messages []string
	for night := 1; night <= 3; night++ {
		mustRun(t, dir, keyEnv(), 1, args...)
		exp := mustRun(t, dir, nil, 0, "export", "--checkpoint", "cp.db", "--state", "rejected", "--format", "json")
		var entries []struct {
			Message string `json:"error_message"`
		}
		if err := json.Unmarshal([]byte(exp.stdout), &entries); err != nil || len(entries) != 1 {
			t.Fatalf("night %d: export: %v\n%s", night, err, exp.stdout)
		}
		messages = append(messages, entries[0].Message)
	}
	if st := sb.Stats(t); st.Requests != 1 {
		t.Errorf("the unchanged rejected row was sent %d times over 3 nights, want once", st.Requests)
	}
	if messages[1] != messages[2] {
		t.Errorf("the rejected row's message grows night after night:\nnight 2: %q\nnight 3: %q", messages[1], messages[2])
	}
}

// TestStatusWhileRunning: status reads the checkpoint while a run holds its
// lock, and shows the rows in flight.
func TestStatusWhileRunning(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, "--latency", "300ms")
	dir := t.TempDir()
	writeUsers(t, filepath.Join(dir, "users.csv"), 0, 20)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := importerCmd(ctx, dir, keyEnv(), "run", "--input", "users.csv", "--checkpoint", "cp.db", "--base-url", sb.URL,
		"--rate", "0", "--workers", "4", "--progress", "none")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return sb.Stats(t).Requests >= 2 })
	st := runImporter(t, dir, nil, "status", "--checkpoint", "cp.db", "--json")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v; stderr:\n%s", err, stderr.String())
	}
	if st.code != 0 {
		t.Fatalf("status during a run: exit %d; stderr:\n%s", st.code, st.stderr)
	}
	var rep struct {
		InFlight int `json:"in_flight"`
		Runs     []struct {
			Finished *time.Time `json:"finished"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.InFlight == 0 || len(rep.Runs) != 1 || rep.Runs[0].Finished != nil {
		t.Errorf("status during a run: %s\nwant rows in flight and one unfinished run", st.stdout)
	}
}

// waitFor polls cond every 10ms until it holds, or fails the test.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestVersion: importer --version prints "importer VERSION" on stdout; the
// version is the one stamped with -ldflags -X main.version (as the Makefile
// does), "dev" otherwise.
func TestVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, arg := range []string{"--version", "-version", "version"} {
		r := mustRun(t, dir, nil, 0, arg)
		if !regexp.MustCompile(`^importer \S+\n$`).MatchString(r.stdout) || r.stderr != "" {
			t.Errorf("importer %s: stdout %q, stderr %q; want one line \"importer VERSION\"", arg, r.stdout, r.stderr)
		}
	}
	t.Run("stamped", func(t *testing.T) {
		const stamp = "v9.8.7-e2e"
		bin := filepath.Join(t.TempDir(), "importer")
		build := exec.Command("go", "build", "-ldflags", "-X main.version="+stamp, "-o", bin, "github.com/p100/p100-importer/cmd/importer")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "--version").Output()
		if err != nil || string(out) != "importer "+stamp+"\n" {
			t.Errorf("stamped --version: %q, %v; want %q", out, err, "importer "+stamp+"\n")
		}
	})
}
