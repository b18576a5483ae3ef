package htmlreport_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/htmlreport"
	"github.com/p100/p100-importer/internal/importer"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func render(tb testing.TB, r *htmlreport.Report) string {
	tb.Helper()
	var b bytes.Buffer
	if err := htmlreport.Write(&b, r); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// outline is the page's structure: one line per element, indented by
// depth, with its id, class and data-* attributes and its own text; SVG
// drawing data (paths, coordinates) is left out, the number of each kind
// of shape is kept.
func outline(page string) string {
	tag := regexp.MustCompile(`(?s)<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*?)(/?)>|([^<]+)`)
	keep := regexp.MustCompile(`\b(id|class|data-[a-z_]+|colspan|lang)="([^"]*)"`)
	void := map[string]bool{"meta": true, "br": true, "link": true, "img": true, "input": true,
		"line": true, "rect": true, "path": true}
	var b strings.Builder
	depth := 0
	inStyle := false
	for _, m := range tag.FindAllStringSubmatch(page, -1) {
		switch {
		case m[5] != "":
			if inStyle {
				continue
			}
			if text := strings.Join(strings.Fields(m[5]), " "); text != "" {
				fmt.Fprintf(&b, "%s%q\n", strings.Repeat("  ", depth), text)
			}
		case m[1] == "/":
			depth--
			if m[2] == "style" {
				inStyle = false
			}
		default:
			var attrs []string
			for _, a := range keep.FindAllStringSubmatch(m[3], -1) {
				attrs = append(attrs, a[1]+"="+a[2])
			}
			fmt.Fprintf(&b, "%s<%s %s>\n", strings.Repeat("  ", depth), m[2], strings.Join(attrs, " "))
			if m[2] == "style" {
				inStyle = true
			}
			if m[4] == "" && !void[strings.ToLower(m[2])] && !strings.HasPrefix(m[2], "!") {
				depth++
			}
		}
	}
	return b.String()
}

func TestGoldenStructure(t *testing.T) {
	got := outline(render(t, fixedRun()))
	golden := filepath.Join("testdata", "fixed-run.outline")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/htmlreport -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("structure differs from %s at line %d:\n got  %s\n want %s\n(go test ./internal/htmlreport -update refreshes it after a deliberate change)", golden, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("structure differs from %s: %d lines, want %d", golden, len(gl), len(wl))
	}
}

// TestSelfContained: nothing on the page points outside it.
func TestSelfContained(t *testing.T) {
	for name, page := range map[string]string{"fixed run": render(t, fixedRun()), "long run": render(t, longRun())} {
		t.Run(name, func(t *testing.T) {
			for _, bad := range []*regexp.Regexp{
				regexp.MustCompile(`(?i)\b(src|href|xlink:href|action|poster|srcset)\s*=`),
				regexp.MustCompile(`(?i)url\(`),
				regexp.MustCompile(`(?i)@import`),
				regexp.MustCompile(`(?i)<(link|script|img|iframe|object|embed|image|use|foreignObject)\b`),
			} {
				if loc := bad.FindStringIndex(page); loc != nil {
					t.Errorf("the page refers outside itself: %q", page[max(loc[0]-40, 0):min(loc[1]+40, len(page))])
				}
			}
		})
	}
}

// longRun is the largest report the bounds allow: a timeline of
// importer.TimelineBuckets intervals (a 28-hour, million-row run), every
// series drawn in every interval, the most pauses, error codes and
// history the report keeps.
func longRun() *htmlreport.Report {
	r := fixedRun()
	tl := &importer.Timeline{Start: start, End: start.Add(100_000 * time.Second), Interval: 512}
	for i := range importer.TimelineBuckets {
		tl.Buckets = append(tl.Buckets, importer.Bucket{Requests: 5200 + i, Conflicts: 300 + i%7, Errors: 17 + i%5,
			Throttled: 90 + i%13, Created: 4700 + i%3, Target: 10 + float64(i%9), Limit: 11.5, P50: 80 + float64(i%17), P99: 300 + float64(i%71)})
	}
	for i := range 100 {
		tl.Pauses = append(tl.Pauses, importer.Span{From: float64(i) * 990, To: float64(i)*990 + 7})
	}
	r.Record.Timeline = tl
	var c htmlreport.Collector
	for code := range 60 {
		for line := range 1000 {
			c.Add(importer.Rejected, fmt.Sprintf("P%d", 400+code), 1_000_000+line*17)
		}
	}
	r.Record.NotImported = c.List()
	r.Summary.Rows = 1_000_000
	for i := range htmlreport.HistoryRuns - len(r.History) {
		r.History = append(r.History, htmlreport.Run{ID: int64(4 - i), Started: start.Add(-time.Duration(i+3) * 24 * time.Hour)})
	}
	return r
}

func TestSizeOfAMillionRowRun(t *testing.T) {
	page := render(t, longRun())
	if len(page) > 1<<20 {
		t.Errorf("report of a long run is %d bytes; want under 1 MB", len(page))
	}
	if n := strings.Count(page, "<tr data-code="); n != htmlreport.MaxCodes+1 {
		t.Errorf("%d error codes listed; want %d and %s for the rest", n, htmlreport.MaxCodes, htmlreport.OtherCode)
	}
	if !strings.Contains(page, `data-code="OTHER"`) {
		t.Errorf("codes beyond %d are not gathered under OTHER", htmlreport.MaxCodes)
	}
	t.Logf("a %d-interval report: %d bytes", importer.TimelineBuckets, len(page))
}

func TestCollectorBounds(t *testing.T) {
	var c htmlreport.Collector
	for i := range 25 {
		c.Add(importer.Invalid, "INVALID", i+2)
	}
	c.Add(importer.Rejected, "P403", 0)                      // a row from the checkpoint: no line
	c.Add(importer.Rejected, "jan.kowalski@example.com", 99) // not a code's shape: never printed
	c.Add(importer.Failed, "", 5)
	got := c.List()
	if len(got) != 4 || got[0].Code != "INVALID" || got[0].Rows != 25 || len(got[0].Lines) != htmlreport.FirstLines || got[0].Lines[0] != 2 {
		t.Fatalf("List() = %+v; want INVALID first with 25 rows and its first %d lines", got, htmlreport.FirstLines)
	}
	for _, n := range got {
		if strings.Contains(n.Code, "@") {
			t.Errorf("a code that is free text was kept: %q", n.Code)
		}
	}
}
