package job_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/job"
	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/sandbox"
)

// TestRunAndRetryFailed drives job.Run as a second front-end would: a run
// whose rows all fail transiently, then a retry of the failed rows from the
// checkpoint alone, against a sandbox over loopback HTTP.
func TestRunAndRetryFailed(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Config{FailRate: 1, KeepRequests: true})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	input := filepath.Join(dir, "users.csv")
	var b strings.Builder
	b.WriteString("externalUserId;E-mail;Imię;Nazwisko;Adres;Miasto;Kraj;Typ dokumentu;Numer dokumentu\n")
	for n := range 10 {
		fmt.Fprintf(&b, "u-%d;u%d@example.pl;Jan;Kowalski;Długa 1;Gdańsk;Polska;Dowód osobisty;ABC%06d\n", n, n, n)
	}
	b.WriteString("bad;not-an-email;Jan;K;A;C;PL;PASSPORT;X1\n")
	os.WriteFile(input, []byte(b.String()), 0o600)

	opts := job.Options{
		Input: input, Checkpoint: filepath.Join(dir, "cp.db"),
		Client: p100.Config{BaseURL: srv.URL, APIKey: sandbox.DefaultAPIKey},
		Rate:   0, Burst: 1, Workers: 4, MaxAttempts: 1,
		Report:  filepath.Join(dir, "failures.csv"),
		Summary: filepath.Join(dir, "summary.json"),
		Metrics: filepath.Join(dir, "metrics.prom"),
		Exit:    func(err error) (int, string) { return map[bool]int{true: 0, false: 1}[err == nil], fmt.Sprint(err) },
	}
	res, err := job.Run(context.Background(), opts)
	if !errors.Is(err, job.ErrRowErrors) {
		t.Fatalf("err = %v, want ErrRowErrors", err)
	}
	s := res.Summary
	if s.Rows != 11 || s.Failed != 10 || s.Invalid != 1 || !s.Balanced() || res.ReportRows != 11 || s.ExitCode != 1 {
		t.Errorf("first run: %+v, report rows %d", s, res.ReportRows)
	}
	if s.Repairs[string(ingest.RepairCountryName)] != 10 {
		t.Errorf("repairs = %v", s.Repairs)
	}
	for _, f := range []string{opts.Report, opts.Summary, opts.Metrics} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}

	// The API is back: the failed rows go out again from the checkpoint.
	sb.SetFaults(sandbox.Faults{})
	retry := opts
	retry.Input, retry.Retry, retry.Report = "", []checkpoint.State{checkpoint.Failed}, ""
	res, err = job.Run(context.Background(), retry)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if s := res.Summary; s.Rows != 10 || s.Created != 10 || sb.Stats().Users != 10 {
		t.Errorf("retry: %+v; sandbox %+v", s, sb.Stats())
	}
	// The retried rows arrive as the first run read them: names mapped.
	if got := sb.Requests()["u-1"]; got["country"] != "PL" || got["documentType"] != "ID_CARD" || got["firstName"] != "Jan" {
		t.Errorf("u-1 arrived as %v", got)
	}
}

// TestRunRefusals: what refuses a run before anything is sent is a
// ConfigError or a CheckpointError, so a front-end can tell usage from a
// broken checkpoint.
func TestRunRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := job.Options{Client: p100.Config{BaseURL: "http://127.0.0.1:1", APIKey: "k"}, Checkpoint: filepath.Join(dir, "cp.db")}
	missing := good
	missing.Input = filepath.Join(dir, "nope.csv")
	var cfgErr *job.ConfigError
	if _, err := job.Run(context.Background(), missing); !errors.As(err, &cfgErr) {
		t.Errorf("a missing input: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "users.csv"), []byte("externalUserId,email\n"), 0o600)
	broken := good
	broken.Input = filepath.Join(dir, "users.csv")
	broken.Checkpoint = filepath.Join(dir, "not-a-dir", "cp.db")
	var cpErr *importer.CheckpointError
	if _, err := job.Run(context.Background(), broken); !errors.As(err, &cpErr) && !errors.As(err, &cfgErr) {
		t.Errorf("an unusable checkpoint: %v", err)
	}
}

// TestRetryRejected: rows rejected in an earlier run are not sent again
// while unchanged, unless --retry rejected says so: from the file, or from
// the checkpoint alone.
func TestRetryRejected(t *testing.T) {
	t.Parallel()
	for _, fromCheckpoint := range []bool{false, true} {
		t.Run(fmt.Sprintf("from the checkpoint %v", fromCheckpoint), func(t *testing.T) {
			t.Parallel()
			refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(400)
				io.WriteString(w, `{"errorCode":"P403","errorMessage":"refused by a misconfigured test"}`)
			}))
			t.Cleanup(refuse.Close)
			sb := sandbox.New(sandbox.Config{})
			real := httptest.NewServer(sb)
			t.Cleanup(real.Close)
			dir := t.TempDir()
			input := filepath.Join(dir, "users.csv")
			var b strings.Builder
			b.WriteString("externalUserId,email,firstName,lastName,address,city,country,documentType,documentNumber\n")
			for n := range 5 {
				fmt.Fprintf(&b, "u-%d,u%d@example.pl,Jan,Kowalski,Długa 1,Gdańsk,PL,PASSPORT,ABC%06d\n", n, n, n)
			}
			os.WriteFile(input, []byte(b.String()), 0o600)
			opts := job.Options{Input: input, Checkpoint: filepath.Join(dir, "cp.db"), Workers: 2, MaxAttempts: 1,
				Client: p100.Config{BaseURL: refuse.URL, APIKey: sandbox.DefaultAPIKey}}
			if res, _ := job.Run(context.Background(), opts); res.Summary.Rejected != 5 {
				t.Fatalf("first run: %+v", res.Summary)
			}
			opts.Client.BaseURL = real.URL
			if res, _ := job.Run(context.Background(), opts); res.Summary.Rejected != 5 || sb.Stats().Requests != 0 {
				t.Fatalf("a plain rerun sent rejected rows: %+v, %+v", res.Summary, sb.Stats())
			}
			opts.Retry = []checkpoint.State{checkpoint.Rejected}
			if fromCheckpoint {
				opts.Input = ""
			}
			res, err := job.Run(context.Background(), opts)
			if err != nil || res.Summary.Created != 5 || sb.Stats().Users != 5 {
				t.Errorf("--retry rejected: %v, %+v, %+v", err, res.Summary, sb.Stats())
			}
		})
	}
}
