package main_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// chromiumPath finds Debian's chromium; the test is skipped without it
// unless P100_REQUIRE_CHROMIUM is set (CI sets it, so it cannot skip).
func chromiumPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("P100_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("chromium not found and P100_REQUIRE_CHROMIUM is set: apt-get install chromium")
		}
		t.Skip("chromium not installed (apt-get install chromium); set P100_REQUIRE_CHROMIUM=1 to make this a failure")
	}
	return p
}

// headless runs chromium on a local file with the given extra flags and
// returns its stdout.
func headless(t *testing.T, bin, page string, extra ...string) []byte {
	t.Helper()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, extra...)
	cmd := exec.Command(bin, append(args, "file://"+page)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
	}
	return out
}

// chromiumOwn are requests chromium makes by itself (time, updates,
// accounts) whatever the page, despite the flags above.
var chromiumOwn = regexp.MustCompile(`^https?://(clients2\.google\.com/time/|update\.googleapis\.com/service/update2/|accounts\.google\.com/ListAccounts)`)

// pageRequests loads page in chromium with a net log and returns the URLs
// requested other than chromium's own and the page itself.
func pageRequests(t *testing.T, bin, page string) []string {
	t.Helper()
	netlog := filepath.Join(t.TempDir(), "net.json")
	headless(t, bin, page, "--log-net-log="+netlog, "--dump-dom")
	data, err := os.ReadFile(netlog)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`"url":"([^"]*)"`).FindAllSubmatch(data, -1) {
		u := string(m[1])
		if chromiumOwn.MatchString(u) || strings.HasPrefix(u, "file://") || seen[u] {
			continue
		}
		seen[u] = true
		urls = append(urls, u)
	}
	return urls
}

// TestHTMLReportInChromium runs a real import through the sandbox, with
// rows invalid locally and rows P100 rejects, writes the HTML report, and
// opens it in headless Chromium: the figures are the summary's, the page
// asks nothing of the network, no personal data of the input is in it,
// and `status --html` redraws the same page from the checkpoint.
func TestHTMLReportInChromium(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	sb := startSandbox(t)
	dir := t.TempDir()

	// The sample's rows (real-looking names, emails, PESELs, document
	// numbers; 5 invalid), plus copies with new ids and no city: the
	// importer is told city is optional, the sandbox refuses them (P403).
	sample, err := os.ReadFile("../../samples/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(sample)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(recs)
	for i, r := range recs[1:4] {
		r := append([]string(nil), r...)
		r[col["externalUserId"]] = "p403-" + strconv.Itoa(i)
		r[col["city"]] = ""
		w.Write(r)
	}
	w.Flush()
	input := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(input, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	required := "externalUserId,email,firstName,lastName,address,country,documentType,documentNumber"
	r := runImporter(t, dir, keyEnv(), "run", "--input", input, "--base-url", sb.URL, "--rate", "0", "--progress", "none",
		"--required", required, "--summary", "summary.json", "--html-report", "report.html")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	sum := readSummary(t, filepath.Join(dir, "summary.json"))
	if sum.Invalid == 0 || sum.Rejected != 3 {
		t.Fatalf("summary %+v: want invalid rows and 3 rejected, for the test to mean something", sum)
	}
	page := filepath.Join(dir, "report.html")
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the figures in the browser are the summary's", func(t *testing.T) {
		dom := string(headless(t, bin, page, "--dump-dom"))
		figures := map[string]string{}
		for _, m := range regexp.MustCompile(`data-figure="([a-z_0-9]+)"[^>]*>([^<]*)<`).FindAllStringSubmatch(dom, -1) {
			if _, seen := figures[m[1]]; !seen {
				figures[m[1]] = strings.ReplaceAll(m[2], ",", "")
			}
		}
		want := map[string]string{
			"rows": strconv.Itoa(sum.Rows), "created": strconv.Itoa(sum.Created), "exists": strconv.Itoa(sum.Exists),
			"skipped": strconv.Itoa(sum.Skipped), "invalid": strconv.Itoa(sum.Invalid), "rejected": strconv.Itoa(sum.Rejected),
			"failed": strconv.Itoa(sum.Failed), "requests": strconv.FormatInt(sum.Requests, 10),
			"throttled": strconv.FormatInt(sum.Throttled, 10), "exit_code": strconv.Itoa(sum.ExitCode),
			"input_sha256": sum.InputSHA256, "host": strings.TrimPrefix(sb.URL, "http://"),
			"version": "dev",
		}
		for k, v := range want {
			if figures[k] != v {
				t.Errorf("figure %s = %q in the browser; the summary has %q", k, figures[k], v)
			}
		}
		for _, code := range []string{"P403", "INVALID"} {
			if !strings.Contains(dom, `data-code="`+code+`"`) {
				t.Errorf("no row for %s in the table of rows not imported", code)
			}
		}
		if n := strings.Count(dom, `<svg class="chart"`); n != 3 {
			t.Errorf("%d charts drawn; want 3", n)
		}
	})

	t.Run("the page loads nothing from the network", func(t *testing.T) {
		for _, bad := range []string{"http://", "https://", "url(", "<link", "<script", "src="} {
			if i := bytes.Index(html, []byte(bad)); i >= 0 {
				t.Errorf("the page holds %q: %q", bad, html[max(i-60, 0):min(i+60, len(html))])
			}
		}
		if urls := pageRequests(t, bin, page); len(urls) > 0 {
			t.Errorf("loading the report requested %v", urls)
		}
		// The net log does see what a page loads: a page with one image
		// on a local address shows its request.
		canary := filepath.Join(t.TempDir(), "canary.html")
		os.WriteFile(canary, []byte(`<!DOCTYPE html><img src="http://127.0.0.1:9/canary.png">`), 0o600)
		if urls := pageRequests(t, bin, canary); len(urls) != 1 || !strings.Contains(urls[0], "canary.png") {
			t.Errorf("a page loading an image: net log shows %v; want its one request (else this check proves nothing)", urls)
		}
	})

	t.Run("no personal data of the input is in the report", func(t *testing.T) {
		fields := []string{"externalUserId", "email", "firstName", "lastName", "address", "city", "documentNumber", "pesel", "birthDate"}
		checked := 0
		for _, rec := range recs[1:] {
			for _, f := range fields {
				v := strings.TrimSpace(rec[col[f]])
				if len([]rune(v)) < 4 { // too short to tell from the page's own words
					continue
				}
				checked++
				if bytes.Contains(html, []byte(v)) {
					t.Errorf("the report holds the %s %q of the input", f, v)
				}
			}
		}
		if checked < 300 {
			t.Fatalf("only %d values checked", checked)
		}
	})

	t.Run("a screenshot shows the page", func(t *testing.T) {
		shot := filepath.Join(t.TempDir(), "report.png")
		headless(t, bin, page, "--screenshot="+shot, "--window-size=1200,1800", "--hide-scrollbars")
		png, err := os.ReadFile(shot)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 20_000 {
			t.Fatalf("screenshot: %d bytes, %v; want a PNG of a drawn page", len(png), err)
		}
		if out := os.Getenv("P100_SCREENSHOT"); out != "" { // refresh docs/html-report.png
			os.WriteFile(out, png, 0o644)
		}
	})

	t.Run("status --html redraws the same report from the checkpoint", func(t *testing.T) {
		r := runImporter(t, dir, nil, "status", "--html", "again.html")
		if r.code != 0 {
			t.Fatalf("status --html: exit %d; stderr:\n%s", r.code, r.stderr)
		}
		again, err := os.ReadFile(filepath.Join(dir, "again.html"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, html) {
			t.Errorf("status --html wrote another page than the run (%d bytes, want %d)", len(again), len(html))
		}
		r = runImporter(t, dir, nil, "status", "--html", "run1.html", "--run", strconv.FormatInt(sum.RunID, 10))
		if r.code != 0 {
			t.Fatalf("status --html --run: exit %d; stderr:\n%s", r.code, r.stderr)
		}
		if r := runImporter(t, dir, nil, "status", "--html", "none.html", "--run", "99"); r.code != 2 {
			t.Errorf("status --html --run 99 (no such run): exit %d, want 2; stderr:\n%s", r.code, r.stderr)
		}
	})

	t.Run("the next run's report lists both runs", func(t *testing.T) {
		r := runImporter(t, dir, keyEnv(), "run", "--input", input, "--base-url", sb.URL, "--rate", "0", "--progress", "none",
			"--required", required, "--html-report", "second.html")
		if r.code != 1 {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		second, _ := os.ReadFile(filepath.Join(dir, "second.html"))
		for _, id := range []int64{sum.RunID, sum.RunID + 1} {
			if !bytes.Contains(second, []byte(`data-run="`+strconv.FormatInt(id, 10)+`"`)) {
				t.Errorf("the second run's report does not list run #%d", id)
			}
		}
	})
}
