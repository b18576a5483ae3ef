package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/atomicfile"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/p100"
)

// Report is everything one report shows.
type Report struct {
	Summary importer.Summary
	Record  Record
	// ExitMeaning says what the run's exit code means, as the README's
	// table does.
	ExitMeaning string
	// History is the checkpoint's last import runs, newest first, this
	// one included.
	History []Run
}

// Run is one line of the table of last runs.
type Run struct {
	ID       int64
	Started  time.Time
	Finished time.Time         // zero: still running, or killed
	Summary  *importer.Summary // nil: none recorded
}

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":     func(n int) string { return groupInt(int64(n)) },
	"num64":   groupInt,
	"seconds": seconds,
	"ms":      func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " ms" },
	"when":    when,
	"lines":   lineList,
	"f1":      func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
}).Parse(pageSource))

// Write renders r as one self-contained HTML page.
func Write(w io.Writer, r *Report) error {
	if err := page.Execute(w, view(r)); err != nil {
		return fmt.Errorf("render HTML report: %w", err)
	}
	return nil
}

// WriteFile renders r into path atomically. Mode 0644: the report is
// made to be shared, and holds no personal data.
func WriteFile(path string, r *Report) error {
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

// pageView is what the template reads.
type pageView struct {
	S           *importer.Summary
	R           *Record
	ExitMeaning string
	ExitReason  string
	Status      string // ok, warn, bad, stopped: the headline's colour
	Outcomes    []outcomeView
	Charts      []chart
	NotImported []notImportedView
	History     []historyView
	SumBalanced bool
}

type outcomeView struct {
	Name, Class string
	Rows        int
	Share       string
}

type notImportedView struct {
	NotImported
	advice
	More int // rows beyond the lines listed
}

type historyView struct {
	ID                int64
	Started, Duration string
	Current, Known    bool
	S                 *importer.Summary
	ExitCode          int
	Finished          bool
}

func view(r *Report) *pageView {
	s := &r.Summary
	v := &pageView{S: s, R: &r.Record, ExitMeaning: r.ExitMeaning, ExitReason: p100.Sanitize(s.ExitReason, 300),
		Charts: charts(r.Record.Timeline), SumBalanced: s.Balanced()}
	switch s.ExitCode {
	case 0:
		v.Status = "ok"
	case 1:
		v.Status = "warn"
	case 4:
		v.Status = "stopped"
	default:
		v.Status = "bad"
	}
	for _, o := range []struct {
		name string
		n    int
	}{{"created", s.Created}, {"exists", s.Exists}, {"skipped", s.Skipped}, {"invalid", s.Invalid}, {"rejected", s.Rejected}, {"failed", s.Failed}} {
		share := "-"
		if s.Rows > 0 {
			share = strconv.FormatFloat(math.Round(float64(o.n)*1000/float64(s.Rows))/10, 'f', 1, 64) + "%"
		}
		v.Outcomes = append(v.Outcomes, outcomeView{Name: o.name, Class: o.name, Rows: o.n, Share: share})
	}
	for _, n := range r.Record.NotImported {
		v.NotImported = append(v.NotImported, notImportedView{NotImported: n, advice: adviceFor(n.Code), More: n.Rows - len(n.Lines)})
	}
	for _, h := range r.History {
		hv := historyView{ID: h.ID, Started: when(h.Started), Current: h.ID == s.RunID, Known: h.Summary != nil,
			S: h.Summary, Finished: !h.Finished.IsZero(), Duration: "-"}
		if h.Summary != nil {
			hv.ExitCode = h.Summary.ExitCode
			hv.Duration = seconds(h.Summary.DurationSeconds)
		}
		v.History = append(v.History, hv)
	}
	return v
}

// groupInt writes n with thin-space-free comma groups: 1,234,567.
func groupInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// seconds writes a duration given in seconds for a reader: 4.2 s, 3 min 20 s, 2 h 05 min.
func seconds(v float64) string {
	switch {
	case v < 60:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " s"
	case v < 3600:
		s := int(math.Round(v))
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	}
	m := int(math.Round(v / 60))
	return fmt.Sprintf("%d h %02d min", m/60, m%60)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// lineList writes line numbers: "3, 7, 12".
func lineList(lines []int) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = strconv.Itoa(l)
	}
	return strings.Join(parts, ", ")
}
