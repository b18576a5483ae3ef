package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/job"
	"github.com/p100/p100-importer/internal/ratelimit"
)

// screen is what a terminal shows of the bytes written to it: it applies
// \r (back to column 0), ESC[K (clear to the end of the line) and \n, and
// wraps at its width as a terminal does, so a line that is too long shows
// as two.
type screen struct {
	mu    sync.Mutex
	width int
	lines [][]rune
	col   int
	raw   bytes.Buffer
}

func newScreen(width int) *screen { return &screen{width: width, lines: [][]rune{nil}} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw.Write(p)
	text := []rune(string(p))
	for i := 0; i < len(text); i++ {
		cur := len(s.lines) - 1
		switch c := text[i]; {
		case c == '\r':
			s.col = 0
		case c == '\n':
			s.lines = append(s.lines, nil)
			s.col = 0
		case c == 0x1b && i+2 < len(text) && text[i+1] == '[' && text[i+2] == 'K':
			s.lines[cur] = s.lines[cur][:min(s.col, len(s.lines[cur]))]
			i += 2
		case c == 0x1b:
			panic(fmt.Sprintf("unexpected escape sequence %q", string(text[i:min(i+6, len(text))])))
		default:
			if s.col == s.width { // the terminal wraps
				s.lines = append(s.lines, nil)
				cur++
				s.col = 0
			}
			line := s.lines[cur]
			for len(line) <= s.col {
				line = append(line, ' ')
			}
			line[s.col] = c
			s.lines[cur] = line
			s.col++
		}
	}
	return len(p), nil
}

// shown returns the screen's lines, the last one included even if empty.
func (s *screen) shown() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.lines))
	for i, l := range s.lines {
		out[i] = string(l)
	}
	return out
}

// testConsole is a console on a "terminal" of the given width.
func testConsole(width int) (*console, *screen) {
	scr := newScreen(width)
	con := newConsole(scr)
	con.fd = 0 // drawn as on a terminal; the width is the screen's
	con.cols = func() int { return width }
	return con, scr
}

func TestLogLinesPrintAboveTheBar(t *testing.T) {
	con, scr := testConsole(100)
	log, err := newLogger(con, "text", "info")
	if err != nil {
		t.Fatal(err)
	}
	p := newProgress(con, "bar", job.Start{TotalLines: 3000}, false)
	p.start()
	for range 500 {
		p.add()
	}
	con.redraw()
	log.Info("row not imported", "line", 7, "code", "INVALID")
	for range 502 {
		p.add()
	}
	con.event(slog.LevelWarn, "stopping", "importer: interrupt: stopping")
	p.finish("interrupted")

	lines := scr.shown()
	if len(lines) != 4 || lines[3] != "" {
		t.Fatalf("want the log line, the notice, the bar and the cursor on a new line; the screen shows:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.HasPrefix(lines[0], "time=") || !strings.Contains(lines[0], `msg="row not imported" line=7 code=INVALID`) || strings.Contains(lines[0], "importing") {
		t.Errorf("line 1 is not the log line alone: %q", lines[0])
	}
	if !strings.HasSuffix(lines[1], " importer: interrupt: stopping") || strings.Contains(lines[1], "1002") {
		t.Errorf("line 2 is not the notice alone: %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "interrupted [") || !strings.Contains(lines[2], " 33%  1002/3000") {
		t.Errorf("the last bar does not show the true figures: %q", lines[2])
	}
	if strings.Contains(scr.raw.String(), "100%") {
		t.Errorf("the bar showed 100%% for 1002 of 3000 rows:\n%q", scr.raw.String())
	}
}

func TestStatusLineFitsTheWidth(t *testing.T) {
	paused := time.Now().Add(time.Hour)
	stats := func() ratelimit.Stats { return ratelimit.Stats{Rate: 1234.5, Phase: ratelimit.Probing} }
	for _, width := range []int{20, 30, 40, 59, 60, 61, 80, 200} {
		for _, tc := range []struct {
			name  string
			total int64
			done  int64
			pause bool
			final string
		}{
			{"start", 3000, 0, false, ""},             // nothing done yet
			{"middle", 3000, 1002, false, ""},         // under way
			{"huge", 1 << 40, 1 << 39, false, ""},     // very long figures
			{"paused", 3000, 1002, true, ""},          // the API asked to pause
			{"unknown total", -1, 123456, false, ""},  // standard input
			{"interrupted", 3000, 1002, false, "int"}, // the last line
		} {
			t.Run(fmt.Sprintf("%d/%s", width, tc.name), func(t *testing.T) {
				con, scr := testConsole(width)
				p := newProgress(con, "bar", job.Start{TotalLines: tc.total, Rate: stats}, false)
				p.done.Store(tc.done)
				if tc.pause {
					p.pausedUntil.Store(paused.UnixMilli())
				}
				p.start()
				for range 3 {
					con.redraw()
				}
				con.Write([]byte("a log line\n"))
				p.finish(map[string]string{"": "done", "int": "interrupted"}[tc.final])
				lines := scr.shown()
				if len(lines) != 3 || lines[0] != "a log line" || lines[2] != "" {
					t.Fatalf("the status line wrapped or stacked at %d columns:\n%s", width, strings.Join(lines, "\n"))
				}
				if n := len([]rune(lines[1])); n >= width {
					t.Errorf("the status line takes %d of %d columns: %q", n, width, lines[1])
				}
				if tc.total < 0 && strings.Contains(lines[1], "%") {
					t.Errorf("an unknown total shows a percentage: %q", lines[1])
				}
				if tc.total < 0 && !strings.Contains(lines[1], "123456") {
					t.Errorf("an unknown total does not show the count: %q", lines[1])
				}
			})
		}
	}
}

func TestBarNeverPassesItsTotal(t *testing.T) {
	// The total was counted before reading; should the reader find more
	// rows than that, the bar still never shows more than 100% or a count
	// above its total, and not 100% before the end.
	p := newProgress(newConsole(&bytes.Buffer{}), "none", job.Start{TotalLines: 10}, false)
	for n := range 15 {
		p.done.Store(int64(n))
		f := p.figures(time.Now(), false)
		if f.done > f.total || f.pct > 100 || (f.pct == 100) {
			t.Errorf("after %d rows of 10: %d/%d %d%%", n, f.done, f.total, f.pct)
		}
	}
	p.done.Store(10)
	if f := p.figures(time.Now(), true); f.pct != 100 {
		t.Errorf("at the end of 10 rows of 10: %d%%, want 100%%", f.pct)
	}
}

func TestLineShowsRateAndPause(t *testing.T) {
	until := time.Now().Add(30 * time.Second)
	p := newProgress(newConsole(&bytes.Buffer{}), "none", job.Start{TotalLines: 100,
		Rate: func() ratelimit.Stats { return ratelimit.Stats{Rate: 40} }}, false)
	p.began = time.Now().Add(-10 * time.Second)
	p.samples = []sample{{p.began, 0}}
	p.done.Store(50)
	line := p.line(120, time.Now(), "")
	if !strings.Contains(line, "5.0 rows/s (limit 40.0/s)") {
		t.Errorf("no rate or limit in %q", line)
	}
	p.paused(until)
	line = p.line(120, time.Now(), "")
	if !strings.HasPrefix(line, "paused until "+until.Format(time.TimeOnly)) {
		t.Errorf("no pause in %q", line)
	}
	if line := p.line(40, time.Now(), ""); !strings.HasPrefix(line, "paused ") {
		t.Errorf("no pause in the compact line %q", line)
	}
}
