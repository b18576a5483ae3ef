package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// statusEvery is how often a status line is logged when there is no bar.
const statusEvery = 10 * time.Second

// progress shows how a run advances: a bar on a terminal, a status line
// every statusEvery otherwise (cron), or nothing.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	total int64
	log   bool

	done        atomic.Int64 // rows with a committed outcome
	pausedUntil atomic.Int64 // Unix ms: the end of the API's last pause

	stop chan struct{}
	wg   sync.WaitGroup
}

// newProgress picks the display: mode is auto, bar, log or none.
func newProgress(w io.Writer, mode string, total int64, quiet bool) *progress {
	p := &progress{w: w, total: total, stop: make(chan struct{})}
	if quiet {
		mode = "none"
	}
	if mode == "auto" {
		mode = "log"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		max := total
		if max < 0 {
			max = -1 // spinner
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(w),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	case "log":
		p.log = true
	}
	return p
}

// start begins the periodic status line.
func (p *progress) start() {
	if !p.log {
		return
	}
	began := time.Now()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				n := p.done.Load()
				rate := float64(n) / time.Since(began).Seconds()
				pause := ""
				if until := time.UnixMilli(p.pausedUntil.Load()); time.Now().Before(until) {
					pause = fmt.Sprintf(", paused by the API until %s", until.Format(time.TimeOnly))
				}
				if p.total >= 0 {
					fmt.Fprintf(p.w, "progress: %d of %d rows (%.1f rows/s%s)\n", n, p.total, rate, pause)
				} else {
					fmt.Fprintf(p.w, "progress: %d rows (%.1f rows/s%s)\n", n, rate, pause)
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
	if p.bar != nil {
		p.bar.Describe("paused by the API until " + until.Format(time.TimeOnly))
		time.AfterFunc(time.Until(until), func() {
			if p.pausedUntil.Load() == until.UnixMilli() {
				p.bar.Describe("importing")
			}
		})
	}
}

// add counts one finished row.
func (p *progress) add() {
	p.done.Add(1)
	if p.bar != nil {
		p.bar.Add(1)
	}
}

// finish stops the display.
func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar != nil {
		p.bar.Finish()
	}
}
