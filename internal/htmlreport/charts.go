package htmlreport

import (
	"fmt"
	"math"

	"github.com/p100/p100-importer/internal/importer"
)

// chart is one chart of the report: its SVG and its legend.
type chart struct {
	ID, Title, Note string
	SVG             any // template.HTML
	Legend          []legendItem
}

type legendItem struct{ Class, Name, Value string }

// charts draws the run over time: requests per second by answer, the
// limiter's rate with the pauses, and the latency per interval.
func charts(tl *importer.Timeline) []chart {
	if tl == nil || len(tl.Buckets) == 0 || tl.Interval <= 0 {
		return nil
	}
	dur := duration(tl)
	rate := func(n, width float64) float64 { return n / width }
	every := fmt.Sprintf("per interval of %s", seconds(tl.Interval))

	// Requests per second, stacked by what they got.
	var peak float64
	totals := make([]int, len(requestLayers))
	for i, b := range tl.Buckets {
		from, to, ok := span(tl, dur, i)
		if !ok {
			break
		}
		peak = max(peak, rate(float64(max(b.Requests, b.Created+b.Conflicts+b.Errors+b.Throttled)), to-from))
		for j, l := range requestLayers {
			totals[j] += l.count(b)
		}
	}
	req := frame{dur: dur, ymax: niceMax(peak)}
	req.open("Requests per second, by answer", "req/s", tl)
	req.stack(tl, requestLayers)
	c1 := chart{ID: "chart-requests", Title: "Requests per second", Note: "stacked by answer, " + every, SVG: req.close()}
	for j, l := range requestLayers {
		c1.Legend = append(c1.Legend, legendItem{Class: l.class, Name: l.name, Value: groupInt(int64(totals[j]))})
	}

	// The limiter's rate: its target, the rate reached, the limit found,
	// and the pauses the API asked for.
	peak = 0
	var limit float64
	var sampled bool
	for i, b := range tl.Buckets {
		from, to, ok := span(tl, dur, i)
		if !ok {
			break
		}
		peak = max(peak, b.Target, b.Limit, rate(float64(b.Requests), to-from))
		limit = max(limit, b.Limit)
		sampled = sampled || b.Target > 0
	}
	rt := frame{dur: dur, ymax: niceMax(peak)}
	rt.open("The limiter's rate: target and reached, pauses shaded", "req/s", tl)
	var paused float64
	for _, p := range tl.Pauses {
		x0, x1 := rt.x(p.From), rt.x(p.To)
		fmt.Fprintf(&rt.b, `<rect class="pause" x="%.1f" y="%d" width="%.1f" height="%d"/>`, x0, padT, max(x1-x0, 1), plotH)
		paused += p.To - p.From
	}
	if limit > 0 {
		rt.steps("limit", tl, func(i int, _ float64) float64 {
			if tl.Buckets[i].Limit <= 0 {
				return math.NaN()
			}
			return tl.Buckets[i].Limit
		})
	}
	rt.steps("current", tl, func(i int, w float64) float64 { return rate(float64(tl.Buckets[i].Requests), w) })
	rt.steps("target", tl, func(i int, _ float64) float64 {
		if t := tl.Buckets[i].Target; t > 0 {
			return t
		}
		return math.NaN() // not sampled, or unlimited
	})
	c2 := chart{ID: "chart-rate", Title: "Rate", Note: "requests per second, " + every, SVG: rt.close()}
	target := "unlimited"
	if sampled {
		target = ""
	}
	c2.Legend = []legendItem{{Class: "target", Name: "limiter's target", Value: target}, {Class: "current", Name: "reached"}}
	if limit > 0 {
		c2.Legend = append(c2.Legend, legendItem{Class: "limit", Name: "API's limit found", Value: fmt.Sprintf("%.1f/s", limit)})
	}
	c2.Legend = append(c2.Legend, legendItem{Class: "pause", Name: "paused by the API", Value: seconds(paused)})

	// Latency per interval.
	peak = 0
	for _, b := range tl.Buckets {
		peak = max(peak, b.P99, b.P50)
	}
	lat := frame{dur: dur, ymax: niceMax(peak)}
	lat.open("Request latency per interval: p50 and p99", "ms", tl)
	for _, q := range []struct {
		class string
		v     func(importer.Bucket) float64
	}{{"p99", func(b importer.Bucket) float64 { return b.P99 }}, {"p50", func(b importer.Bucket) float64 { return b.P50 }}} {
		lat.steps(q.class, tl, func(i int, _ float64) float64 {
			if tl.Buckets[i].Requests == 0 || q.v(tl.Buckets[i]) <= 0 {
				return math.NaN()
			}
			return q.v(tl.Buckets[i])
		})
	}
	c3 := chart{ID: "chart-latency", Title: "Latency", Note: "milliseconds, " + every, SVG: lat.close(),
		Legend: []legendItem{{Class: "p50", Name: "p50"}, {Class: "p99", Name: "p99"}}}
	return []chart{c1, c2, c3}
}
