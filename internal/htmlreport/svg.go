package htmlreport

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/p100/p100-importer/internal/importer"
)

// The charts' frame, in SVG user units (the SVG scales to the page).
const (
	chartW, chartH          = 1100, 230
	padL, padR, padT, padB  = 64, 16, 10, 30
	plotW, plotH            = chartW - padL - padR, chartH - padT - padB
	maxTimeTicks, yDivision = 9, 4
)

// frame maps a chart's values to SVG coordinates.
type frame struct {
	dur, ymax float64
	b         strings.Builder
}

func (f *frame) x(sec float64) float64 { return padL + min(max(sec/f.dur, 0), 1)*plotW }
func (f *frame) y(v float64) float64   { return padT + plotH - min(max(v/f.ymax, 0), 1)*plotH }

// span is where bucket i of tl lies, in seconds since the start; ok is
// false when it lies past the end.
func span(tl *importer.Timeline, dur float64, i int) (from, to float64, ok bool) {
	from = float64(i) * tl.Interval
	to = min(from+tl.Interval, dur)
	return from, to, to > from
}

// duration is how long tl covers, in seconds (at least one).
func duration(tl *importer.Timeline) float64 {
	return max(tl.End.Sub(tl.Start).Seconds(), 1)
}

// open starts an SVG with its axes: time along x, values up to ymax
// along y, labelled with unit.
func (f *frame) open(title, unit string, tl *importer.Timeline) {
	fmt.Fprintf(&f.b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`,
		chartW, chartH, html.EscapeString(title), html.EscapeString(title))
	step := niceStep(f.ymax / yDivision)
	for v := 0.0; v <= f.ymax+step/1e6; v += step {
		y := f.y(v)
		fmt.Fprintf(&f.b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="ylab" x="%d" y="%.1f">%s</text>`,
			padL, padL+plotW, y, y, padL-6, y+4, axisNumber(v))
	}
	fmt.Fprintf(&f.b, `<text class="unit" x="4" y="%d">%s</text>`, padT+10, html.EscapeString(unit))
	tstep := timeStep(f.dur)
	for s := 0.0; s <= f.dur+tstep/1e6; s += tstep {
		x := f.x(s)
		fmt.Fprintf(&f.b, `<line class="tick" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/><text class="xlab" x="%.1f" y="%d">%s</text>`,
			x, x, padT+plotH, padT+plotH+4, x, chartH-10, clock(s, f.dur))
	}
	fmt.Fprintf(&f.b, `<rect class="frame" x="%d" y="%d" width="%d" height="%d"/>`, padL, padT, plotW, plotH)
}

func (f *frame) close() template.HTML {
	f.b.WriteString(`</svg>`)
	return template.HTML(f.b.String()) // built from numbers and escaped text only
}

// steps draws a step line through the buckets' values; NaN leaves a gap.
func (f *frame) steps(class string, tl *importer.Timeline, value func(i int, width float64) float64) {
	var d strings.Builder
	drawing := false
	for i := range tl.Buckets {
		from, to, ok := span(tl, f.dur, i)
		if !ok {
			break
		}
		v := value(i, to-from)
		if math.IsNaN(v) {
			drawing = false
			continue
		}
		y := f.y(v)
		if drawing {
			fmt.Fprintf(&d, "L%.1f %.1f", f.x(from), y)
		} else {
			fmt.Fprintf(&d, "M%.1f %.1f", f.x(from), y)
		}
		fmt.Fprintf(&d, "H%.1f", f.x(to))
		drawing = true
	}
	if d.Len() > 0 {
		fmt.Fprintf(&f.b, `<path class="line %s" d="%s"/>`, class, d.String())
	}
}

// stack draws layers stacked from the bottom, each a step area.
func (f *frame) stack(tl *importer.Timeline, layers []layer) {
	base := make([]float64, len(tl.Buckets))
	for _, l := range layers {
		var d strings.Builder
		top := make([]float64, len(tl.Buckets))
		any := false
		for i := range tl.Buckets {
			from, to, ok := span(tl, f.dur, i)
			if !ok {
				break
			}
			v := float64(l.count(tl.Buckets[i])) / (to - from)
			top[i] = base[i] + v
			any = any || v > 0
			if i == 0 {
				fmt.Fprintf(&d, "M%.1f %.1f", f.x(from), f.y(top[i]))
			} else {
				fmt.Fprintf(&d, "V%.1f", f.y(top[i]))
			}
			fmt.Fprintf(&d, "H%.1f", f.x(to))
		}
		for i := len(tl.Buckets) - 1; i >= 0; i-- {
			from, _, ok := span(tl, f.dur, i)
			if !ok {
				continue
			}
			fmt.Fprintf(&d, "V%.1fH%.1f", f.y(base[i]), f.x(from))
		}
		if any {
			fmt.Fprintf(&f.b, `<path class="area %s" d="%sZ"/>`, l.class, d.String())
		}
		base = top
	}
}

// layer is one series of the stacked requests chart.
type layer struct {
	name, class string
	count       func(importer.Bucket) int
}

// requestLayers: what the requests of an interval got, bottom up. Created
// rows stand for their 201s; "lookups, other" is what remains (lookups of
// existing users, the answers of the rows' retries that succeeded).
var requestLayers = []layer{
	{"created (201)", "created", func(b importer.Bucket) int { return b.Created }},
	{"exists (P411)", "exists", func(b importer.Bucket) int { return b.Conflicts }},
	{"failed (other errors)", "failed", func(b importer.Bucket) int { return b.Errors }},
	{"throttled (429)", "throttled", func(b importer.Bucket) int { return b.Throttled }},
	{"lookups, other", "other", func(b importer.Bucket) int {
		return max(b.Requests-b.Created-b.Conflicts-b.Errors-b.Throttled, 0)
	}},
}

// niceStep rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*0.999999 {
			return m * p
		}
	}
	return 10 * p
}

// niceMax is the top of an axis showing values up to v.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	step := niceStep(v / yDivision)
	return math.Ceil(v/step*0.999999) * step
}

func timeStep(dur float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
		if dur/s <= maxTimeTicks {
			return s
		}
	}
	return math.Ceil(dur/maxTimeTicks/86400) * 86400
}

// clock writes seconds since the start as m:ss, or h:mm on long runs.
func clock(sec, dur float64) string {
	s := int(math.Round(sec))
	if dur < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d h", s/3600, s/60%60)
}

func axisNumber(v float64) string {
	if v == math.Trunc(v) {
		return groupInt(int64(v))
	}
	return fmt.Sprintf("%.3g", v)
}
