package main_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealPartnerFiles runs `importer run` with no input flags on files as
// partners' tools write them, against the sandbox binary, and checks what
// P100 received: every user exactly as the partner sees it in the
// spreadsheet, nothing invisible, no personal data in the logs.
func TestRealPartnerFiles(t *testing.T) {
	t.Parallel()
	real, _ := filepath.Abs("../../internal/ingest/testdata/real")
	dir := t.TempDir()

	// Issue 10's three serious cases, as files.
	crOnly := filepath.Join(dir, "mac.csv") // old-Mac line breaks
	os.WriteFile(crOnly, []byte(strings.ReplaceAll(csvHeader+userRow(1)+userRow(2)+userRow(3), "\n", "\r")), 0o600)
	pasted := filepath.Join(dir, "pasted.csv") // an id and an e-mail pasted from a web page
	os.WriteFile(pasted, []byte(csvHeader+strings.Replace(strings.Replace(userRow(4), "user-000004", "user-\u200b000004", 1),
		"user4@example.com", "user4@exam\u200bple.com\u00a0", 1)), 0o600)

	tests := []struct {
		name   string
		file   string
		oracle string // a CSV of the users as P100 must receive them; "" checks ids only
		ids    []string
	}{
		{name: "CR line breaks", file: crOnly, ids: []string{"user-000001", "user-000002", "user-000003"}},
		{name: "invisible characters", file: pasted, ids: []string{"user-000004"}},
		{name: "German windows-1252", file: filepath.Join(real, "libreoffice-windows1252.csv"), oracle: filepath.Join(real, "expected-de.csv")},
		{name: "Polish windows-1250 with ;", file: filepath.Join(real, "libreoffice-windows1250-semicolon.csv"), oracle: filepath.Join(real, "expected-pl.csv")},
		{name: "xlsx with a title row", file: filepath.Join(real, "libreoffice-title-row.xlsx"), oracle: filepath.Join(real, "expected.csv")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := startSandbox(t, "--keep-requests")
			r := runImporter(t, dir, keyEnv(), "run", "--input", tt.file, "--checkpoint", filepath.Join(t.TempDir(), "cp.db"),
				"--base-url", sb.URL, "--rate", "0", "--progress", "none", "--summary", filepath.Join(dir, "summary.json"))
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			got := sb.Requests(t)
			want := map[string]map[string]string{}
			if tt.oracle != "" {
				want = readOracleCSV(t, tt.oracle)
			} else {
				for _, id := range tt.ids {
					want[id] = nil
				}
			}
			if len(got) != len(want) {
				t.Fatalf("the sandbox created %d users, want %d", len(got), len(want))
			}
			for id, fields := range want {
				g, ok := got[id]
				if !ok {
					t.Errorf("user %q not created (created: %v)", id, keys(got))
					continue
				}
				for f, v := range fields {
					if g[f] != v {
						t.Errorf("%s: %s = %q, want %q", id, f, g[f], v)
					}
				}
				for f, v := range g {
					if strings.ContainsAny(v, "\u200b\u00a0\ufeff\u00ad") {
						t.Errorf("%s: %s sent with an invisible character: %q", id, f, v)
					}
				}
			}
			s := readSummary(t, filepath.Join(dir, "summary.json"))
			if s.Rows != len(want) || s.Created != len(want) {
				t.Errorf("summary rows %d created %d, want %d", s.Rows, s.Created, len(want))
			}
			// Personal data never reaches the logs.
			for _, fields := range got {
				for _, f := range []string{"pesel", "documentNumber", "email"} {
					if v := fields[f]; v != "" && strings.Contains(r.stderr, v) {
						t.Errorf("stderr shows a %s: %s", f, r.stderr)
					}
				}
			}
		})
	}
}

// readOracleCSV reads an oracle CSV: externalUserId -> field -> value.
func readOracleCSV(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, name := range rows[0] {
			if row[i] != "" {
				m[name] = row[i]
			}
		}
		out[m["externalUserId"]] = m
	}
	return out
}

func keys(m map[string]map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
