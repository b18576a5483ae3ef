package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSampleEndToEnd runs the bundled sample as `make demo` does.
func TestSampleEndToEnd(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	sample, err := filepath.Abs("../../samples/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--input", sample, "--base-url", sb.URL, "--rate", "0", "--progress", "none",
		"--report", "failures.csv", "--summary", "summary.json"}
	r := runImporter(t, dir, keyEnv(), args...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (the sample has invalid rows); stderr:\n%s", r.code, r.stderr)
	}
	s := readSummary(t, filepath.Join(dir, "summary.json"))
	if s.Rows != 50 || s.Created != 45 || s.Invalid != 5 || s.ExitCode != 1 {
		t.Errorf("summary = %+v", s)
	}
	report, err := os.ReadFile(filepath.Join(dir, "failures.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(report), "\n"); n != 6 {
		t.Errorf("report has %d lines, want header + 5", n)
	}

	t.Run("rerun sends nothing", func(t *testing.T) {
		before := sb.Stats(t).Requests
		r := runImporter(t, dir, keyEnv(), args...)
		if r.code != 1 {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		if after := sb.Stats(t).Requests; after != before {
			t.Errorf("rerun sent %d requests", after-before)
		}
		if s := readSummary(t, filepath.Join(dir, "summary.json")); s.Skipped != 45 || s.Requests != 0 {
			t.Errorf("rerun summary = %+v", s)
		}
	})
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeUsers(t, users, 0, 20)

	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantErr  string // in stderr
	}{
		{"all created", keyEnv(), []string{"run", "--input", users, "--base-url", sb.URL, "--checkpoint", "ok.db"}, 0, "exit code 0"},
		{"no key", nil, []string{"run", "--input", users, "--base-url", sb.URL}, 2, "P100_API_KEY"},
		{"unknown flag", keyEnv(), []string{"run", "--input", users, "--api-key", "x"}, 2, "unknown flag --api-key"},
		{"missing input file", keyEnv(), []string{"run", "--input", "nope.csv", "--base-url", sb.URL}, 2, "nope.csv"},
		{"plain http to a remote host", keyEnv(), []string{"run", "--input", users, "--base-url", "http://example.com"}, 2, "plain http"},
		{"wrong key", []string{"P100_API_KEY=not-the-key"}, []string{"run", "--input", users, "--base-url", sb.URL, "--checkpoint", "bad.db"}, 3, "xo2"},
		{"checkpoint that is not ours", keyEnv(), []string{"run", "--input", users, "--base-url", sb.URL, "--checkpoint", users}, 5, "checkpoint"},
		{"no command", nil, nil, 2, "Usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runImporter(t, dir, tt.env, tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, want %d with %q in stderr:\n%s", r.code, tt.wantCode, tt.wantErr, r.stderr)
			}
		})
	}
}

func TestMissingColumnStopsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "users.csv")
	os.WriteFile(path, []byte("externalUserId,email,Shoe Size\nu-1,a@example.com,42\n"), 0o600)
	r := runImporter(t, dir, keyEnv(), "run", "--input", path, "--base-url", sb.URL)
	if r.code != 2 || !strings.Contains(r.stderr, "missing required column") || !strings.Contains(r.stderr, "Shoe Size") {
		t.Errorf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if st := sb.Stats(t); st.Requests != 0 {
		t.Errorf("%d requests sent", st.Requests)
	}
}

func TestValidateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sample, _ := filepath.Abs("../../samples/users.csv")
	clean := filepath.Join(dir, "clean.csv")
	writeUsers(t, clean, 0, 300)
	missing := filepath.Join(dir, "missing.csv")
	os.WriteFile(missing, []byte("externalUserId,email\nu-1,a@example.com\n"), 0o600)

	t.Run("sample: every problem, in file order, and a report", func(t *testing.T) {
		r := runImporter(t, dir, nil, "validate", "--input", sample, "--report", "invalid.csv")
		if r.code != 1 {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		var lines []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(l, "line ") && strings.Contains(l, "column") {
				lines = append(lines, l[:strings.Index(l, ",")])
			}
		}
		if got := strings.Join(lines, " "); got != "line 12 line 23 line 24 line 40 line 51 line 51" {
			t.Errorf("problems by line: %q", got)
		}
		flat := strings.Join(strings.Fields(r.stdout), " ")
		if !strings.Contains(flat, "delimiter: comma") || !strings.Contains(flat, "encoding: UTF-8 (valid UTF-8; the whole file was read)") ||
			!strings.Contains(r.stdout, "rows 50: valid 45, invalid 5") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		report, _ := os.ReadFile(filepath.Join(dir, "invalid.csv"))
		if n := strings.Count(string(report), "\n"); n != 6 {
			t.Errorf("report has %d lines, want header + 5", n)
		}
		if strings.Contains(r.stdout, "ZNM554572") || strings.Contains(r.stdout, "59081583045") || !strings.Contains(r.stdout, "******572") {
			t.Errorf("validate printed a document number or PESEL in full:\n%s", r.stdout)
		}
	})
	t.Run("clean file", func(t *testing.T) {
		r := runImporter(t, dir, nil, "validate", "--input", clean, "--quiet")
		if r.code != 0 || !strings.Contains(r.stdout, "rows 300: valid 300, invalid 0") {
			t.Errorf("exit %d; stdout:\n%s", r.code, r.stdout)
		}
	})
	t.Run("unusable file", func(t *testing.T) {
		r := runImporter(t, dir, nil, "validate", "--input", missing)
		if r.code != 2 || !strings.Contains(r.stderr, "missing required column") {
			t.Errorf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
	})
}

func TestMapFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := filepath.Join(dir, "crm.csv")
	os.WriteFile(input, []byte("Customer Number;Mail;firstName;lastName;address;city;country;documentType;documentNumber;Segment\n"+
		"c-1;a@example.pl;Jan;Kowalski;Długa 1;Gdańsk;re;PASSPORT;X1;gold\n"), 0o600)
	mapFile := filepath.Join(dir, "mapping.csv")
	os.WriteFile(mapFile, []byte("header,field\nMail,email\n"), 0o600)

	r := runImporter(t, dir, nil, "validate", "--input", input, "--map", "Customer Number=externalUserId", "--map-file", mapFile)
	if r.code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	flat := strings.Join(strings.Fields(r.stdout), " ")
	for _, want := range []string{`"Customer Number" -> externalUserId`, `"Mail" -> email`,
		`"Segment" (ignored: maps to no API field)`, "line 2: repaired: country: RE (Réunion) is sent as FR", "country=FR"} {
		if !strings.Contains(flat, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runImporter(t, dir, nil, "validate", "--input", input, "--map", "Customer Number=customerId")
	if r.code != 2 || !strings.Contains(r.stderr, "want 'header=field'") {
		t.Errorf("bad mapping: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}
