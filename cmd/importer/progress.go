package main

// The progress display is drawn here rather than by progressbar/v3: that
// library writes to its writer on its own, so it cannot share a line with
// log output (clear, print, redraw), it has no compact mode for a narrow
// terminal (it wraps and stacks), and its Finish jumps to 100%.

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p100/p100-importer/internal/job"
	"github.com/p100/p100-importer/internal/ratelimit"
)

// Timings and sizes of the display.
const (
	statusEvery  = 10 * time.Second       // a status line without a bar (cron), by default
	redrawEvery  = 200 * time.Millisecond // the bar, with its figures of now
	rateWindow   = 5 * time.Second        // the rate shown is over this much time
	compactBelow = 60                     // columns: below, a one-line counter instead of a bar
	minBarWidth  = 10                     // the bar itself, or none
)

// progress shows how a run advances: a status line redrawn in place on a
// terminal (the bar), a status line every statusEvery otherwise (cron), or
// nothing. Its counts are rows with a committed outcome.
type progress struct {
	con   *console
	bar   bool
	log   bool
	total int64 // rows expected; -1 when unknown
	stats func() ratelimit.Stats
	began time.Time
	every time.Duration // the status line's interval without a bar

	done        atomic.Int64 // rows with a committed outcome
	pausedUntil atomic.Int64 // Unix ms: the end of the API's last pause

	mu      sync.Mutex
	samples []sample // (time, done) of the last rateWindow, oldest first

	stop chan struct{}
	wg   sync.WaitGroup
}

type sample struct {
	t    time.Time
	done int64
}

// newProgress picks the display: mode is auto, bar, log or none.
func newProgress(con *console, mode string, st job.Start, quiet bool) *progress {
	p := &progress{con: con, total: st.TotalLines, stats: st.Rate, began: time.Now(), every: statusEvery, stop: make(chan struct{})}
	p.samples = []sample{{p.began, 0}}
	if quiet {
		mode = "none"
	}
	if mode == "auto" {
		mode = "log"
		if con.terminal() {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		p.bar = true
	case "log":
		p.log = true
	}
	return p
}

// start shows the bar, or begins the periodic status line.
func (p *progress) start() {
	if !p.bar && !p.log {
		return
	}
	every := p.every
	if p.bar {
		every = redrawEvery
		p.con.showStatus(func(cols int) string { return p.line(cols, time.Now(), "") })
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				if p.bar {
					p.con.redraw() // the width is asked again each time
				} else {
					p.logLine(time.Now())
				}
			}
		}
	}()
}

// paused notes that the API asked to pause until until: the status line
// and the bar say so.
func (p *progress) paused(until time.Time) {
	if p == nil {
		return
	}
	p.pausedUntil.Store(until.UnixMilli())
	if p.bar {
		p.con.redraw()
	}
}

// add counts one finished row.
func (p *progress) add() { p.done.Add(1) }

// finish stops the display; the bar is drawn a last time with the true
// figures and outcome ("done", "interrupted", "stopped").
func (p *progress) finish(outcome string) {
	close(p.stop)
	p.wg.Wait()
	if p.bar {
		now := time.Now()
		p.con.endStatus(func(cols int) string { return p.line(cols, now, outcome) })
	}
}

// figures is what one status line tells.
type figures struct {
	done, total int64 // total -1 when unknown
	pct         int   // -1 without a total
	rate        float64
	limit       string // the limiter: "limit 50/s", "auto: probing at 50/s", or ""
	pause       time.Time
}

func (p *progress) figures(now time.Time, final bool) figures {
	f := figures{done: p.done.Load(), total: p.total, pct: -1, rate: p.rate(now)}
	if f.total >= 0 {
		f.total = max(f.total, f.done) // should the count be off: never past the end
		f.pct = 100
		if f.total > 0 {
			f.pct = int(f.done * 100 / f.total)
		}
		if !final && f.pct == 100 {
			f.pct = 99 // 100% is for the end
		}
	}
	if until := time.UnixMilli(p.pausedUntil.Load()); now.Before(until) {
		f.pause = until
	}
	if p.stats != nil {
		st := p.stats()
		switch {
		case st.Phase != "":
			f.limit = fmt.Sprintf("auto: %s at %s/s", st.Phase, perSecond(st.Rate))
		case st.Rate > 0:
			f.limit = "limit " + perSecond(st.Rate) + "/s"
		}
	}
	return f
}

// line is the status line at a width of cols; final, if not "", is how
// the run ended.
func (p *progress) line(cols int, now time.Time, final string) string {
	f := p.figures(now, final != "")
	label := "importing"
	switch {
	case final != "":
		label = final
	case !f.pause.IsZero():
		label = "paused until " + f.pause.Format(time.TimeOnly)
	}
	count := fmt.Sprintf("%d rows", f.done)
	if f.total >= 0 {
		count = fmt.Sprintf("%d/%d", f.done, f.total)
	}
	if cols < compactBelow {
		parts := []string{}
		if final != "" || !f.pause.IsZero() {
			parts = append(parts, strings.Fields(label)[0])
		}
		parts = append(parts, count)
		if f.pct >= 0 {
			parts = append(parts, fmt.Sprintf("%d%%", f.pct))
		}
		if final == "" {
			parts = append(parts, perSecond(f.rate)+"/s")
		}
		return strings.Join(parts, " ")
	}
	var tail []string
	if f.total >= 0 {
		tail = append(tail, fmt.Sprintf("%3d%%", f.pct), count)
	} else {
		tail = append(tail, count)
	}
	if final == "" {
		rate := perSecond(f.rate) + " rows/s"
		if f.limit != "" {
			rate += " (" + f.limit + ")"
		}
		tail = append(tail, rate)
		if f.total >= 0 && f.rate > 0 && f.done < f.total {
			eta := time.Duration(float64(f.total-f.done) / f.rate * float64(time.Second))
			tail = append(tail, "ETA "+eta.Round(time.Second).String())
		} else if f.total < 0 {
			tail = append(tail, now.Sub(p.began).Round(time.Second).String())
		}
	}
	head, rest := label+" ", " "+strings.Join(tail, "  ")
	if f.total < 0 {
		return label + rest
	}
	width := cols - 1 - len([]rune(head)) - len(rest) - 2
	if width < minBarWidth {
		return label + rest
	}
	fill := int(int64(width) * int64(f.pct) / 100)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	return head + "[" + bar + "]" + rest
}

// logLine writes the periodic status line.
func (p *progress) logLine(now time.Time) {
	f := p.figures(now, true) // a log line may say 100% once every row is done
	attrs := []slog.Attr{slog.Int64("done", f.done)}
	text := fmt.Sprintf("progress: %d rows", f.done)
	if f.total >= 0 {
		attrs = append(attrs, slog.Int64("total", f.total))
		text = fmt.Sprintf("progress: %d of %d rows (%d%%)", f.done, f.total, f.pct)
	}
	attrs = append(attrs, slog.Float64("rate", round1(f.rate)))
	text += ", " + perSecond(f.rate) + " rows/s"
	if p.stats != nil {
		st := p.stats()
		if st.Rate > 0 {
			attrs = append(attrs, slog.Float64("limit_rate", round1(st.Rate)))
		}
		if st.Phase != "" {
			attrs = append(attrs, slog.String("phase", string(st.Phase)))
		}
	}
	if f.limit != "" {
		text += " (" + f.limit + ")"
	}
	if !f.pause.IsZero() {
		attrs = append(attrs, slog.String("paused_until", f.pause.UTC().Format(time.RFC3339)))
		text += ", paused by the API until " + f.pause.Format(time.TimeOnly)
	}
	p.con.event(slog.LevelInfo, "progress", text, attrs...)
}

// rate is the rows per second over the last rateWindow.
func (p *progress) rate(now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	done := p.done.Load()
	if last := p.samples[len(p.samples)-1]; now.Sub(last.t) >= time.Second {
		p.samples = append(p.samples, sample{now, done})
	}
	for len(p.samples) > 2 && now.Sub(p.samples[1].t) >= rateWindow {
		p.samples = p.samples[1:]
	}
	first := p.samples[0]
	el := now.Sub(first.t).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(done-first.done) / el
}

// perSecond formats a rate: one decimal below 100, none above.
func perSecond(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
