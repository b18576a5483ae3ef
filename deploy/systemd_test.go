package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSystemdService checks deploy/systemd/p100-importer.service: a oneshot
// run of the job file as a dedicated user, the checkpoint in its state
// directory, the key handed over as a credential file (never in the
// environment or the command line), exit 1 counted as success, hardened.
func TestSystemdService(t *testing.T) {
	u := mustUnit(t, "systemd/p100-importer.service")
	for key, want := range map[string]string{
		"Type":              "oneshot",
		"StateDirectory":    strings.TrimPrefix(stateDir, "/var/lib/"),
		"SuccessExitStatus": "1",
		"ProtectSystem":     "strict",
		"NoNewPrivileges":   "yes",
		"PrivateTmp":        "yes",
		"ProtectHome":       "yes",
	} {
		if got := u.last("Service", key); got != want {
			t.Errorf("[Service] %s=%q, want %q", key, got, want)
		}
	}
	if user := u.last("Service", "User"); (user == "" || user == "root" || user == "0") && u.last("Service", "DynamicUser") != "yes" {
		t.Errorf("[Service] User=%q: want a dedicated user (User= or DynamicUser=yes)", user)
	}
	for _, k := range []string{"Environment", "EnvironmentFile", "PassEnvironment"} {
		for _, v := range u["Service"][k] {
			if strings.Contains(v, "P100_API_KEY") || strings.Contains(strings.ToLower(v), "key") {
				t.Errorf("[Service] %s=%s: the key must reach the run as a credential file, not the environment", k, v)
			}
		}
	}
	cred, _, ok := strings.Cut(u.last("Service", "LoadCredential"), ":")
	if !ok || cred == "" {
		t.Fatalf("[Service] LoadCredential=%q: want NAME:/path/of/the/key", u.last("Service", "LoadCredential"))
	}

	exec := strings.Fields(u.last("Service", "ExecStart"))
	if len(exec) < 2 || exec[1] != "run" {
		t.Fatalf("ExecStart=%v: want IMPORTER run ...", exec)
	}
	if want := makeVar(t, "PREFIX") + "/bin/importer"; exec[0] != want {
		t.Errorf("ExecStart runs %s; make install puts the importer in %s", exec[0], want)
	}
	config, _ := argAfter(exec, "--config")
	if _, dockerConfig := argAfter(mustDockerImage(t).cmd, "--config"); config == "" || !dockerConfig || config != dockerConfigPath(t) {
		t.Errorf("ExecStart --config %q: want %q, the job file's place in the image and the CronJob too", config, dockerConfigPath(t))
	}
	if keyFile, _ := argAfter(exec, "--api-key-file"); keyFile != "%d/"+cred {
		t.Errorf("ExecStart --api-key-file %q: want %%d/%s (the credential's file)", keyFile, cred)
	}
	if stop := u.last("Service", "TimeoutStopSec"); stop == "" {
		t.Error("[Service] no TimeoutStopSec: the drain after SIGTERM needs it above drain-timeout")
	}
}

// TestSystemdTimer checks deploy/systemd/p100-importer.timer: nightly,
// catching up a missed night, spread, installed into timers.target.
func TestSystemdTimer(t *testing.T) {
	u := mustUnit(t, "systemd/p100-importer.timer")
	if u.last("Timer", "OnCalendar") == "" {
		t.Error("[Timer] no OnCalendar")
	}
	if got := u.last("Timer", "Persistent"); got != "true" {
		t.Errorf("[Timer] Persistent=%q, want true", got)
	}
	if u.last("Timer", "RandomizedDelaySec") == "" {
		t.Error("[Timer] no RandomizedDelaySec")
	}
	if got := u.last("Install", "WantedBy"); got != "timers.target" {
		t.Errorf("[Install] WantedBy=%q, want timers.target", got)
	}
	if unit := u.last("Timer", "Unit"); unit != "" && unit != "p100-importer.service" {
		t.Errorf("[Timer] Unit=%q starts another service", unit)
	}
}

// TestSystemdVerify runs systemd-analyze verify on both units (the
// service's ExecStart pointed at a built importer) and fails on anything it
// says: it exits 0 even for unknown keys, which it only warns about.
func TestSystemdVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd)")
	}
	dir := t.TempDir()
	svc, err := os.ReadFile("systemd/p100-importer.service")
	if err != nil {
		t.Fatal(err)
	}
	svc = []byte(strings.ReplaceAll(string(svc), makeVar(t, "PREFIX")+"/bin/importer", mustImporter(t)))
	timer, err := os.ReadFile("systemd/p100-importer.timer")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"p100-importer.service": svc, "p100-importer.timer": timer} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", filepath.Join(dir, "p100-importer.service"), filepath.Join(dir, "p100-importer.timer"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// makeVar returns the default of a variable the Makefile sets with ?=.
func makeVar(tb testing.TB, name string) string {
	tb.Helper()
	data, err := os.ReadFile("../Makefile")
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + `\s*\?=\s*(\S+)\s*$`).FindSubmatch(data)
	if m == nil {
		tb.Fatalf("the Makefile sets no %s ?= ...", name)
	}
	return string(m[1])
}

// dockerConfigPath is the job file's path in the image's CMD.
func dockerConfigPath(tb testing.TB) string {
	tb.Helper()
	p, _ := argAfter(mustDockerImage(tb).cmd, "--config")
	return p
}
