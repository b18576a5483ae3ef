package deploy_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// dockerImage is what the tests take from the Dockerfile.
type dockerImage struct {
	stages     []string // the FROM lines' images
	user       string   // the final stage's USER
	volumes    []string
	entrypoint []string
	cmd        []string
	copies     map[string]string // final stage: source -> destination
	buildRuns  []string          // RUN lines of the stages before the final one
	secretVars []string          // ENV or ARG names that look like secrets
}

var secretName = regexp.MustCompile(`(?i)(key|token|secret|passw)`)

func mustDockerImage(tb testing.TB) dockerImage {
	tb.Helper()
	var img dockerImage
	img.copies = map[string]string{}
	instrs := mustDockerfile(tb)
	final := 0
	for i, in := range instrs {
		if in.cmd == "FROM" {
			final = i
		}
	}
	for i, in := range instrs {
		switch in.cmd {
		case "FROM":
			img.stages = append(img.stages, strings.Fields(in.args)[0])
		case "RUN":
			if i < final {
				img.buildRuns = append(img.buildRuns, in.args)
			}
		case "ENV", "ARG":
			name, _, _ := strings.Cut(in.args, "=")
			name = strings.Fields(name)[0]
			if secretName.MatchString(name) {
				img.secretVars = append(img.secretVars, name)
			}
		}
		if i < final {
			continue
		}
		switch in.cmd {
		case "USER":
			img.user = in.args
		case "VOLUME":
			img.volumes = append(img.volumes, jsonOrFields(tb, in)...)
		case "ENTRYPOINT":
			img.entrypoint = jsonOrFields(tb, in)
		case "CMD":
			img.cmd = jsonOrFields(tb, in)
		case "COPY":
			var parts []string
			for _, f := range strings.Fields(in.args) {
				if !strings.HasPrefix(f, "--") {
					parts = append(parts, f)
				}
			}
			if len(parts) == 2 {
				img.copies[parts[0]] = parts[1]
			}
		}
	}
	return img
}

// jsonOrFields reads an instruction's exec form (a JSON array), else its words.
func jsonOrFields(tb testing.TB, in dockerInstr) []string {
	tb.Helper()
	if strings.HasPrefix(in.args, "[") {
		var v []string
		if err := json.Unmarshal([]byte(in.args), &v); err != nil {
			tb.Fatalf("Dockerfile line %d: %s %s: %v", in.line, in.cmd, in.args, err)
		}
		return v
	}
	return strings.Fields(in.args)
}

// TestDockerfile checks the Dockerfile without a Docker daemon: a Go
// builder of go.mod's version, a static build stamped with the version, a
// distroless or scratch final stage run as non-root, the checkpoint on a
// VOLUME, no secret in ENV or ARG, the job file where the entrypoint's
// arguments look for it.
func TestDockerfile(t *testing.T) {
	img := mustDockerImage(t)
	if len(img.stages) < 2 {
		t.Fatalf("FROM stages %v: want a builder stage and a final stage", img.stages)
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if want := "golang:" + string(m[1]); !strings.HasPrefix(img.stages[0], want) {
		t.Errorf("builder stage FROM %s: want %s (go.mod's Go version)", img.stages[0], want)
	}
	last := img.stages[len(img.stages)-1]
	if last != "scratch" && !strings.HasPrefix(last, "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %s: want gcr.io/distroless/static* or scratch (a static binary needs no libc)", last)
	}
	build := strings.Join(img.buildRuns, "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "./cmd/importer"} {
		if !strings.Contains(build, want) {
			t.Errorf("the builder's RUN lines lack %q", want)
		}
	}
	user, _, _ := strings.Cut(img.user, ":")
	if user == "" || user == "root" || user == "0" {
		t.Errorf("final stage USER %q: want a non-root user", img.user)
	}
	if len(img.secretVars) > 0 {
		t.Errorf("ENV/ARG %v look like secrets: an image must hold no key", img.secretVars)
	}
	if !contains(img.volumes, stateDir) {
		t.Errorf("VOLUME %v: want %s (the checkpoint)", img.volumes, stateDir)
	}
	if len(img.entrypoint) != 1 || !strings.HasSuffix(img.entrypoint[0], "/importer") {
		t.Fatalf("ENTRYPOINT %v: want the importer binary alone", img.entrypoint)
	}
	if dest := img.copies["/out/importer"]; dest != img.entrypoint[0] {
		t.Errorf("the binary is copied to %q, the ENTRYPOINT runs %q", dest, img.entrypoint[0])
	}
	if len(img.cmd) == 0 || img.cmd[0] != "run" {
		t.Fatalf("CMD %v: want run --config ...", img.cmd)
	}
	config, ok := argAfter(img.cmd, "--config")
	if !ok {
		t.Fatalf("CMD %v: no --config", img.cmd)
	}
	if dest := img.copies["deploy/nightly.toml"]; dest != config {
		t.Errorf("deploy/nightly.toml is copied to %q, CMD reads --config %q", dest, config)
	}

	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(ignore))
	for _, want := range []string{".git", "*.db", "dist/", "bin/"} {
		if !contains(lines, want) {
			t.Errorf(".dockerignore lacks %q: the build context would carry it (checkpoints hold personal data)", want)
		}
	}
}

// dockerUID is the numeric user the image runs as.
func dockerUID(tb testing.TB) string {
	tb.Helper()
	u, _, _ := strings.Cut(mustDockerImage(tb).user, ":")
	return u
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
