package deploy_test

import (
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
	"time"
)

// TestJobFile: deploy/nightly.toml is TOML whose keys are all flags of
// `importer run`, with values of the flags' types, never an API key, and
// its paths in the state directory every recipe mounts.
func TestJobFile(t *testing.T) {
	job, md := mustJobFile(t)
	flags := mustRunFlags(t)
	for _, k := range md.Keys() {
		if len(k) != 1 {
			t.Errorf("key %v: the job file has only top-level keys", k)
		}
	}
	for name, v := range job {
		lower := strings.ToLower(name)
		if name != "api-key-file" && (strings.Contains(lower, "key") || strings.Contains(lower, "token") || strings.Contains(lower, "secret")) {
			t.Errorf("key %q would hold a secret: the key comes from P100_API_KEY or api-key-file", name)
		}
		f, ok := flags[name]
		if !ok {
			t.Errorf("key %q is not a flag of importer run", name)
			continue
		}
		switch f.kind {
		case "duration":
			s, ok := v.(string)
			if _, err := time.ParseDuration(s); !ok || err != nil {
				t.Errorf("key %q = %v: want a duration as a string (\"30s\")", name, v)
			}
		case "int":
			if _, ok := v.(int64); !ok {
				t.Errorf("key %q = %v (%T): want an integer", name, v, v)
			}
		case "":
			if _, ok := v.(bool); !ok {
				t.Errorf("key %q = %v (%T): want a boolean", name, v, v)
			}
		}
	}
	for _, key := range []string{"input", "checkpoint", "report", "summary"} {
		p, _ := job[key].(string)
		if path.Dir(p) != stateDir {
			t.Errorf("%s = %q: want a file in %s (the volume of every recipe)", key, p, stateDir)
		}
	}
	if job["log-format"] != "json" {
		t.Errorf("log-format = %v: the nightly job logs JSON lines (journald, kubectl logs)", job["log-format"])
	}
}

// TestJobFileAccepted: once the importer reads job files (--config), it
// accepts deploy/nightly.toml and --print-config shows its checkpoint. The
// importer is given no key: --print-config needs none.
func TestJobFileAccepted(t *testing.T) {
	if _, ok := mustRunFlags(t)["config"]; !ok {
		t.Skip("this importer has no --config yet")
	}
	cmd := exec.Command(mustImporter(t), "run", "--config", "nightly.toml", "--print-config")
	cmd.Env = withoutKey(os.Environ())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("importer run --config nightly.toml --print-config: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), stateDir+"/nightly.db") {
		t.Errorf("--print-config does not show the job file's checkpoint %s/nightly.db:\n%s", stateDir, out)
	}
}

func withoutKey(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "P100_") {
			out = append(out, e)
		}
	}
	return out
}
