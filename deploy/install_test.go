package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInstall: `make install` with DESTDIR and PREFIX puts one
// executable importer in DESTDIR/PREFIX/bin that prints its version, and
// not the sandbox; `make install-systemd` installs both units and the job
// file, and keeps a job file already there.
func TestMakeInstall(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	dest := t.TempDir()
	bin := t.TempDir() // BIN: build outside the work tree's bin/
	make := func(args ...string) {
		t.Helper()
		cmd := exec.Command(mk, append([]string{"-C", "..", "BIN=" + bin, "DESTDIR=" + dest}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make %v: %v\n%s", args, err, out)
		}
	}

	make("install", "PREFIX=/opt/p100", "VERSION=v9.8.7-test")
	installed := filepath.Join(dest, "opt/p100/bin/importer")
	fi, err := os.Stat(installed)
	if err != nil {
		t.Fatalf("make install: %v", err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("installed importer mode %04o, want 0755", fi.Mode().Perm())
	}
	out, err := exec.Command(installed, "--version").Output()
	if err != nil || string(out) != "importer v9.8.7-test\n" {
		t.Errorf("installed importer --version: %q, %v; want %q", out, err, "importer v9.8.7-test\n")
	}
	entries, _ := os.ReadDir(filepath.Dir(installed))
	if len(entries) != 1 {
		t.Errorf("make install put %d files in bin/, want the importer alone (the sandbox is a test tool)", len(entries))
	}

	jobFile := filepath.Join(dest, "etc/p100-importer/nightly.toml")
	make("install-systemd")
	for _, f := range []string{"etc/systemd/system/p100-importer.service", "etc/systemd/system/p100-importer.timer", "etc/p100-importer/nightly.toml"} {
		got, err := os.ReadFile(filepath.Join(dest, f))
		want, _ := os.ReadFile(filepath.Join(map[bool]string{true: "systemd", false: "."}[strings.Contains(f, "systemd")], filepath.Base(f)))
		if err != nil || string(got) != string(want) || len(want) == 0 {
			t.Errorf("make install-systemd: %s is not deploy's copy (%v)", f, err)
		}
	}
	if err := os.WriteFile(jobFile, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	make("install-systemd")
	if got, _ := os.ReadFile(jobFile); string(got) != "# mine\n" {
		t.Errorf("a second make install-systemd replaced the job file already there")
	}
}
