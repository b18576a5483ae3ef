package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// console is a command's stderr. Every line goes through it whole and one
// at a time: the slog handler's, the summary's, the signal notices and the
// progress display's. While a status line (the bar) is on screen, a line
// clears it, prints, and the status line is drawn again below, so a log
// line never lands inside the bar.
//
// The command's own lines are timestamped (slog's text lines carry
// time= already) or, with JSON logs, written as one JSON object each, so
// that every line of a cron log is dated and parses.
type console struct {
	mu      sync.Mutex
	w       io.Writer
	fd      int  // the terminal's file descriptor; -1 when w is not one
	json    bool // --log-format json
	cols    func() int
	status  func(cols int) string // draws the status line; nil when none is shown
	drawn   bool                  // a status line is on screen
	partial []byte                // written without its line break yet
	jlog    *slog.Logger          // writes the command's own lines under json
}

// newConsole wraps w, which is a terminal when it is one.
func newConsole(w io.Writer) *console {
	c := &console{w: w, fd: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		c.fd = int(f.Fd())
	}
	return c
}

// consoleOf returns w if it is a console, else a console writing to w.
func consoleOf(w io.Writer) *console {
	if c, ok := w.(*console); ok {
		return c
	}
	return newConsole(w)
}

// terminal reports whether the console writes to a terminal.
func (c *console) terminal() bool { return c.fd >= 0 }

// setJSON makes the command's own lines JSON objects.
func (c *console) setJSON(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.json = on
	if on && c.jlog == nil {
		c.jlog = slog.New(slog.NewJSONHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// jsonLogger returns the logger of the command's own lines under json, or
// nil in text mode.
func (c *console) jsonLogger() *slog.Logger {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.json {
		return nil
	}
	return c.jlog
}

// columns is the terminal's width now (it may change while a run goes
// on); 80 when it is not a terminal or the width is unknown.
func (c *console) columns() int {
	if c.cols != nil {
		return c.cols()
	}
	if c.fd >= 0 {
		if w, _, err := term.GetSize(c.fd); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// Write writes whole lines above the status line; a write that does not
// end in a line break is held until the rest comes.
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	i := bytes.LastIndexByte(c.partial, '\n')
	if i < 0 {
		return len(p), nil
	}
	lines := c.partial[:i+1]
	err := c.writeAbove(lines)
	c.partial = append(c.partial[:0], c.partial[i+1:]...)
	return len(p), err
}

// flush writes what is held without its line break (the process ends).
func (c *console) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.partial) > 0 {
		c.writeAbove(c.partial)
		c.partial = c.partial[:0]
	}
}

// writeAbove writes lines, clearing the status line first and drawing it
// again after; c.mu is held.
func (c *console) writeAbove(lines []byte) error {
	var b bytes.Buffer
	if c.drawn {
		b.WriteString("\r\x1b[K")
	}
	b.Write(lines)
	c.drawn = false
	if c.status != nil {
		c.drawStatus(&b)
	}
	_, err := c.w.Write(b.Bytes())
	return err
}

// drawStatus appends the status line, cut to the width so that it never
// wraps; c.mu is held.
func (c *console) drawStatus(b *bytes.Buffer) {
	cols := c.columns()
	b.WriteString("\r")
	// Two columns are kept free for the terminal's echo of ^C.
	b.WriteString(fit(c.status(cols-2), cols-3))
	b.WriteString("\x1b[K")
	c.drawn = true
}

// fit cuts s to at most n runes.
func fit(s string, n int) string {
	if n < 1 {
		n = 1
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// showStatus starts showing the status line that draw returns.
func (c *console) showStatus(draw func(cols int) string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = draw
	c.redrawLocked()
}

// redraw draws the status line again, with its figures of now.
func (c *console) redraw() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.redrawLocked()
}

func (c *console) redrawLocked() {
	if c.status == nil {
		return
	}
	var b bytes.Buffer
	c.drawStatus(&b)
	c.w.Write(b.Bytes())
}

// endStatus draws the status line one last time with last, ends it with
// a line break and stops showing it.
func (c *console) endStatus(last func(cols int) string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == nil {
		return
	}
	c.status = last
	var b bytes.Buffer
	c.drawStatus(&b)
	b.WriteString("\n")
	c.status, c.drawn = nil, false
	c.w.Write(b.Bytes())
}

// dropStatus clears the status line and stops showing it (the process is
// about to exit).
func (c *console) dropStatus() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drawn {
		c.w.Write([]byte("\r\x1b[K"))
	}
	c.status, c.drawn = nil, false
}

// stamp is the timestamp the command's own text lines begin with: the
// time of day at a terminal, the full date and time otherwise (a log).
func (c *console) stamp(t time.Time) string {
	if c.terminal() {
		return t.Format(time.TimeOnly)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// event writes one line of the command's own: text, timestamped, or under
// json an object with msg and attrs.
func (c *console) event(level slog.Level, msg, text string, attrs ...slog.Attr) {
	if jlog := c.jsonLogger(); jlog != nil {
		jlog.LogAttrs(context.Background(), level, msg, attrs...)
		return
	}
	c.Write([]byte(c.stamp(time.Now()) + " " + text + "\n"))
}

// textLines returns a writer whose every line is timestamped: for text
// written by others (the summary's WriteText).
func (c *console) textLines() io.Writer { return &stampWriter{c: c} }

// stampWriter timestamps each line written to it.
type stampWriter struct {
	c       *console
	partial []byte
}

func (s *stampWriter) Write(p []byte) (int, error) {
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		if _, err := s.c.Write([]byte(s.c.stamp(time.Now()) + " " + line + "\n")); err != nil {
			return len(p), err
		}
	}
}

// reportedError is an error the command has already written to stderr,
// with the exit line after it: run does not print it again.
type reportedError struct{ err error }

func (e reportedError) Error() string { return e.err.Error() }
func (e reportedError) Unwrap() error { return e.err }
