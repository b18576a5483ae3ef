package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/sandbox"
)

// adaptiveCase is one run of issue 13's table: a sandbox limit the importer
// is not told, and what it must achieve.
type adaptiveCase struct {
	name     string
	rows     int
	limit    float64  // the sandbox's limit, requests per second
	sandbox  []string // sandbox flags
	importer []string // importer flags
	minShare float64  // rows/s over the limit, at least
	max429   float64  // 429s over requests, at most; < 0: not a target
}

// adaptive: --rate auto against limits it is not told (issue 13).
func (b *bench) adaptive(ctx context.Context) error {
	cases := []adaptiveCase{
		{"token bucket L=150/s (burst 10)", 6000, 150,
			[]string{"--rate-limit", "150", "--burst", "10"}, []string{"--rate", "auto"}, 0.95, 0.01},
		{"--rate 1000 against L=150/s (guessed high)", 6000, 150,
			[]string{"--rate-limit", "150", "--burst", "10"}, []string{"--rate", "1000"}, 0.95, -1},
		{"fixed window L=400 per 1s, 50 ms latency", 12000, 400,
			[]string{"--rate-limit", "400", "--rate-window", "1s", "--latency", "50ms"}, []string{"--rate", "auto"}, 0.90, 0.02},
		{"small key L=20/s (burst 5)", 1000, 20,
			[]string{"--rate-limit", "20", "--burst", "5"}, []string{"--rate", "auto"}, 0.90, -1},
		{"headers (IETF), fixed window L=400 per 1s", 12000, 400,
			[]string{"--rate-limit", "400", "--rate-window", "1s", "--rate-headers", sandbox.HeadersIETF}, []string{"--rate", "auto"}, 0.97, 0},
		{"headers (X-RateLimit), token bucket L=150/s", 6000, 150,
			[]string{"--rate-limit", "150", "--burst", "10", "--rate-headers", sandbox.HeadersX}, []string{"--rate", "auto"}, 0.97, 0},
	}
	b.detail("### Adaptive rate (issue 13): `--rate auto` against limits it is not told")
	b.detail("")
	b.detail("| case | rows | sandbox | importer | rows/s | share of L | 429s | limit found | target |")
	b.detail("|---|---|---|---|---|---|---|---|---|")
	for _, c := range cases {
		file, err := b.csv(c.rows)
		if err != nil {
			return err
		}
		ir, st, _, err := b.importFresh(ctx, "adaptive", file, c.rows, c.sandbox, c.importer...)
		if err != nil {
			return err
		}
		rate := float64(ir.Summary.Created) / ir.Summary.DurationSeconds
		share := rate / c.limit
		throttled := float64(st.Throttled) / float64(max(st.Requests, 1))
		pass := share >= c.minShare && (c.max429 < 0 || throttled <= c.max429)
		target := fmt.Sprintf(">= %.0f%% of L", 100*c.minShare)
		switch {
		case c.max429 == 0:
			target += ", 0 × 429"
		case c.max429 > 0:
			target += fmt.Sprintf(", 429s <= %.0f%%", 100*c.max429)
		}
		b.log("adaptive %s: %.1f rows/s (%.1f%% of %v), %d 429s (%.2f%%), limit found %.1f",
			c.name, rate, 100*share, c.limit, st.Throttled, 100*throttled, ir.Summary.RateLimitFound)
		b.detail("| %s | %d | `%s` | `%s` | %.1f | %.1f%% | %d (%.2f%%) | %.1f | %s |", c.name, c.rows,
			strings.Join(c.sandbox, " "), strings.Join(c.importer, " "), rate, 100*share,
			st.Throttled, 100*throttled, ir.Summary.RateLimitFound, target)
		value := fmt.Sprintf("%.1f%% of L, %d × 429 (%.2f%%)", 100*share, st.Throttled, 100*throttled)
		b.target("adaptive: "+c.name, value, target, pass)
	}
	b.detail("")
	return b.adaptiveChanging(ctx)
}

// limitStep is a change of the sandbox's limit during the changing case.
type limitStep struct {
	at    time.Duration
	limit float64
}

// sample is the sandbox's counters at one moment of the changing case.
type sample struct {
	at                         time.Duration
	created, throttled, allReq int64
}

// adaptiveChanging: the sandbox's limit goes 300 -> 100 -> 250 during the
// run; the importer must re-converge within 10 s of each change.
func (b *bench) adaptiveChanging(ctx context.Context) error {
	steps := []limitStep{{0, 300}, {20 * time.Second, 100}, {40 * time.Second, 250}}
	const rows, end = 16000, 60 * time.Second
	file, err := b.csv(rows)
	if err != nil {
		return err
	}
	sb, err := b.sandbox(ctx, "adaptive-changing", "--rate-limit", "300", "--burst", "10")
	if err != nil {
		return err
	}
	defer sb.stop()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := runImporter(runCtx, b.o, file, b.freshCheckpoint("adaptive-changing"), sb.URL, "--rate", "auto")
		done <- err
	}()

	start := time.Now()
	var samples []sample
	next := 1
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	finished := false
	for !finished && time.Since(start) < end {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			if err != nil {
				return fmt.Errorf("changing limit: %w", err)
			}
			finished = true
		case <-tick.C:
		}
		if next < len(steps) && time.Since(start) >= steps[next].at {
			if err := setSandboxLimit(ctx, sb.URL, steps[next].limit); err != nil {
				return err
			}
			next++
		}
		st, err := sb.stats(ctx)
		if err != nil {
			return err
		}
		samples = append(samples, sample{time.Since(start), st.Created, st.Throttled, st.Requests})
	}
	cancel() // the file outlasts the 60 s of the case
	<-done

	series := perSecond(samples)
	b.detail("### Adaptive rate: the limit changed mid-run (sandbox `--rate-limit 300 --burst 10`, then 100 at 20 s, 250 at 40 s; importer `--rate auto`)")
	b.detail("")
	b.detail("Per second: rows created and 429s, as the sandbox counted them.")
	b.detail("")
	b.detail("| second | limit | created | 429s |")
	b.detail("|---|---|---|---|")
	for i, p := range series {
		b.detail("| %d | %v | %d | %d |", i+1, limitAt(steps, time.Duration(i)*time.Second), p.created, p.throttled)
	}
	b.detail("")
	for i, s := range steps {
		to := end
		if i+1 < len(steps) {
			to = steps[i+1].at
		}
		conv, ok := convergence(series, s, to)
		name := fmt.Sprintf("adaptive: limit changed to %v/s at %v: re-converged after", s.limit, s.at)
		if i == 0 {
			name = "adaptive: limit 300/s from the start: converged after"
		}
		value := "never"
		if ok {
			value = fmt.Sprintf("%d s", conv)
		}
		b.target(name, value, "<= 10 s", ok && conv <= 10)
	}
	return nil
}

// setSandboxLimit changes a running sandbox's rate limit.
func setSandboxLimit(ctx context.Context, url string, limit float64) error {
	body := []byte(`{"rate_limit": ` + strconv.FormatFloat(limit, 'f', -1, 64) + `}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url+"/_sandbox/faults", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("set sandbox limit: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("set sandbox limit: HTTP %d", resp.StatusCode)
	}
	return nil
}

// secondCounts is one second of the changing case.
type secondCounts struct{ created, throttled int64 }

// perSecond turns cumulative samples into counts per whole second (a last
// partial second is left out).
func perSecond(samples []sample) []secondCounts {
	var out []secondCounts
	var prev sample
	i := 0
	for sec := time.Second; ; sec += time.Second {
		cur := prev
		for i < len(samples) && samples[i].at < sec {
			cur = samples[i]
			i++
		}
		if i == len(samples) {
			return out
		}
		out = append(out, secondCounts{cur.created - prev.created, cur.throttled - prev.throttled})
		prev = cur
	}
}

// limitAt is the sandbox's limit at time t of the changing case.
func limitAt(steps []limitStep, t time.Duration) float64 {
	l := steps[0].limit
	for _, s := range steps {
		if t >= s.at {
			l = s.limit
		}
	}
	return l
}

// convergence is how many seconds after s began the rate stayed at the
// limit: from then to the end of the step, every second created at least
// 85% of the limit with 429s under 5% of it.
func convergence(series []secondCounts, s limitStep, to time.Duration) (int, bool) {
	from, last := int(s.at/time.Second), min(int(to/time.Second), len(series))
	for k := from; k < last; k++ {
		ok := true
		for _, p := range series[k:last] {
			if float64(p.created) < 0.85*s.limit || float64(p.throttled) > 0.05*s.limit {
				ok = false
				break
			}
		}
		if ok {
			return k - from, true
		}
	}
	return 0, false
}
