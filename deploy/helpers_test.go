package deploy_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/BurntSushi/toml"
)

// stateDir is where every recipe keeps the checkpoint: systemd's
// StateDirectory, the image's VOLUME, the CronJob's volume.
const stateDir = "/var/lib/p100-importer"

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
	buildOut  []byte
)

// mustImporter builds cmd/importer once for the package's tests and
// returns the binary's path.
func mustImporter(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "p100-deploy-test-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "importer")
		cmd := exec.Command("go", "build", "-o", buildBin, "../cmd/importer")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		tb.Fatalf("build cmd/importer: %v\n%s", buildErr, buildOut)
	}
	return buildBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildBin != "" {
		os.RemoveAll(filepath.Dir(buildBin))
	}
	os.Exit(code)
}

// runFlag is a flag of `importer run` as its help lists it.
type runFlag struct {
	name string
	kind string // the help's placeholder: duration, int, float, string, file...; "" for a boolean
}

var helpFlag = regexp.MustCompile(`^\s+--?([a-z][a-z0-9-]*)(?:[ =]([A-Za-z]+))?`)

// mustRunFlags returns the flags of `importer run --help`, by name.
func mustRunFlags(tb testing.TB) map[string]runFlag {
	tb.Helper()
	out, _ := exec.Command(mustImporter(tb), "run", "--help").CombinedOutput()
	flags := map[string]runFlag{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := helpFlag.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[1]] = runFlag{name: m[1], kind: m[2]}
		}
	}
	if flags["input"].name == "" || flags["checkpoint"].name == "" {
		tb.Fatalf("importer run --help lists no --input or --checkpoint:\n%s", out)
	}
	return flags
}

// mustJobFile decodes deploy/nightly.toml.
func mustJobFile(tb testing.TB) (map[string]any, toml.MetaData) {
	tb.Helper()
	var job map[string]any
	md, err := toml.DecodeFile("nightly.toml", &job)
	if err != nil {
		tb.Fatalf("nightly.toml: %v", err)
	}
	return job, md
}

// dockerInstr is one instruction of a Dockerfile, continuation lines joined.
type dockerInstr struct {
	cmd  string // upper case: FROM, RUN, COPY...
	args string
	line int
}

// mustDockerfile reads ../Dockerfile into its instructions.
func mustDockerfile(tb testing.TB) []dockerInstr {
	tb.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		tb.Fatal(err)
	}
	var out []dockerInstr
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		} else if strings.HasPrefix(t, "#") {
			continue // a comment inside a continued instruction
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		tb.Fatalf("Dockerfile ends inside a continued instruction (line %d)", start)
	}
	return out
}

// unit is a systemd unit file: section -> key -> values, in order.
type unit map[string]map[string][]string

// mustUnit reads a systemd unit file.
func mustUnit(tb testing.TB, path string) unit {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	u := unit{}
	section := ""
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";"):
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			section = t[1 : len(t)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(t, "=")
			if !ok || section == "" {
				tb.Fatalf("%s:%d: not a key=value line in a section: %q", path, i+1, t)
			}
			k = strings.TrimSpace(k)
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	return u
}

// last returns the effective (last) value of key in section, "" if unset.
func (u unit) last(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// argAfter returns the argument that follows flag in args (as "--flag v" or
// "--flag=v"), and whether flag was there.
func argAfter(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}
