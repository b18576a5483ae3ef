package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/sandbox"
)

// figure is one line of the results table.
type figure struct {
	Name   string
	Value  string
	Target string // "" for a figure given for information
	Pass   bool
}

// bench is one benchmark run: its settings, files and results.
type bench struct {
	o         *options
	dir       string
	log       func(format string, a ...any)
	started   time.Time
	loadStart string // /proc/loadavg when the run began

	files   map[int]string // generated CSV files by row count
	figures []figure
	details []string // Markdown lines: every single run, for the docs

	bigCheckpoint string // the checkpoint of the largest memory-case import
}

func (b *bench) info(name, value string) {
	b.figures = append(b.figures, figure{Name: name, Value: value})
}

func (b *bench) target(name, value, target string, pass bool) {
	b.figures = append(b.figures, figure{Name: name, Value: value, Target: target, Pass: pass})
}

func (b *bench) detail(format string, a ...any) {
	b.details = append(b.details, fmt.Sprintf(format, a...))
}

func (b *bench) allPassed() bool {
	for _, f := range b.figures {
		if f.Target != "" && !f.Pass {
			return false
		}
	}
	return true
}

// all runs the selected cases in order.
func (b *bench) all(ctx context.Context) error {
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"throughput", b.throughput},
		{"rate", b.ratePrecision},
		{"adaptive", b.adaptive},
		{"latency", b.latencyHiding},
		{"memory", b.memory},
		{"resume", b.resume},
		{"validate", b.validateSpeed},
		{"hostile", b.hostile},
	}
	for _, s := range steps {
		if !b.o.runs(s.name) {
			continue
		}
		t := time.Now()
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("case %s: %w", s.name, err)
		}
		b.log("case %s done in %s", s.name, time.Since(t).Round(time.Second))
	}
	return nil
}

// csv returns the generated file of n rows, writing it the first time.
func (b *bench) csv(n int) (string, error) {
	if p, ok := b.files[n]; ok {
		return p, nil
	}
	p := filepath.Join(b.dir, fmt.Sprintf("rows-%d.csv", n))
	t := time.Now()
	if err := writeRows(p, n); err != nil {
		return "", err
	}
	if b.files == nil {
		b.files = map[int]string{}
	}
	b.files[n] = p
	b.log("generated %d rows in %s", n, time.Since(t).Round(time.Millisecond))
	return p, nil
}

// sandbox starts a fresh sandbox whose log goes to the work directory.
func (b *bench) sandbox(ctx context.Context, name string, flags ...string) (*sandboxProc, error) {
	return startSandbox(ctx, b.o.sandboxBin(), filepath.Join(b.dir, name+".sandbox.log"), flags...)
}

// freshCheckpoint returns a checkpoint path with no file behind it.
func (b *bench) freshCheckpoint(name string) string {
	p := filepath.Join(b.dir, name+".db")
	for _, suffix := range []string{"", "-wal", "-shm", ".summary.json"} {
		_ = os.Remove(p + suffix)
	}
	return p
}

// importFresh imports file into a fresh checkpoint against a fresh sandbox
// and checks that every row was created.
func (b *bench) importFresh(ctx context.Context, name, file string, rows int, sandboxFlags []string, flags ...string) (importRun, sandbox.Stats, time.Duration, error) {
	sb, err := b.sandbox(ctx, name, sandboxFlags...)
	if err != nil {
		return importRun{}, sandbox.Stats{}, 0, err
	}
	ir, err := runImporter(ctx, b.o, file, b.freshCheckpoint(name), sb.URL, flags...)
	st, stErr := sb.stats(ctx)
	sbCPU := sb.stop()
	if err != nil {
		return ir, st, sbCPU, err
	}
	if stErr != nil {
		return ir, st, sbCPU, stErr
	}
	if ir.Summary.Created != rows || st.Created != int64(rows) {
		return ir, st, sbCPU, fmt.Errorf("%s: importer created %d, sandbox created %d, want %d", name, ir.Summary.Created, st.Created, rows)
	}
	return ir, st, sbCPU, nil
}

// throughput: the importer against vegeta, each against a fresh sandbox
// with no latency and no limit, the same bodies and the same concurrency.
func (b *bench) throughput(ctx context.Context) error {
	o := b.o
	file, err := b.csv(o.Rows)
	if err != nil {
		return err
	}
	bodies, err := requestBodies(file)
	if err != nil {
		return err
	}
	if len(bodies) != o.Rows {
		return fmt.Errorf("encoded %d bodies from %d rows", len(bodies), o.Rows)
	}
	w := strconv.Itoa(o.Workers)
	targets := filepath.Join(b.dir, "targets.json")
	var impRate, vegRate, ratios, impWall, vegWall, impCPU, vegCPU, sbImp, sbVeg []float64
	b.detail("### Throughput (%d rows, W=%d)", o.Rows, o.Workers)
	b.detail("")
	b.detail("| run | load average before | importer rows/s | vegeta 201/s | ratio | importer CPU µs/row | vegeta CPU µs/row | sandbox CPU µs/row (importer / vegeta run) |")
	b.detail("|---|---|---|---|---|---|---|---|")
	for rep := 1; rep <= o.ThroughputRepeat; rep++ {
		load, _, _ := strings.Cut(loadAvg(), ",")
		ir, _, sbCPU, err := b.importFresh(ctx, "throughput-importer", file, o.Rows, nil, "--rate", "0", "--workers", w)
		if err != nil {
			return err
		}
		ri := float64(ir.Summary.Created) / ir.Summary.DurationSeconds
		impRate = append(impRate, ri)
		impWall = append(impWall, float64(o.Rows)/ir.Wall.Seconds())
		impCPU = append(impCPU, perRow(ir.CPU, o.Rows))
		sbImp = append(sbImp, perRow(sbCPU, o.Rows))

		sb, err := b.sandbox(ctx, "throughput-vegeta")
		if err != nil {
			return err
		}
		if err := writeTargets(targets, sb.URL, apiKey, bodies); err != nil {
			sb.stop()
			return err
		}
		vr, err := runVegeta(ctx, o, targets, o.Workers)
		st, stErr := sb.stats(ctx)
		sbCPU = sb.stop()
		if err != nil {
			return err
		}
		if stErr != nil {
			return stErr
		}
		if vr.Created != int64(o.Rows) || st.Created != int64(o.Rows) {
			return fmt.Errorf("vegeta: %d answers 201, sandbox created %d, want %d (errors: %v)", vr.Created, st.Created, o.Rows, vr.Report.Errors)
		}
		rv := float64(vr.Created) / (vr.Report.Duration + vr.Report.Wait).Seconds()
		vegRate = append(vegRate, rv)
		vegWall = append(vegWall, float64(o.Rows)/vr.Wall.Seconds())
		vegCPU = append(vegCPU, perRow(vr.CPU, o.Rows))
		sbVeg = append(sbVeg, perRow(sbCPU, o.Rows))

		ratios = append(ratios, ri/rv)
		b.log("throughput %d/%d: importer %.0f rows/s, vegeta %.0f/s, ratio %.3f", rep, o.ThroughputRepeat, ri, rv, ri/rv)
		b.detail("| %d | %s | %.0f | %.0f | %.3f | %.1f | %.1f | %.1f / %.1f |", rep, load, ri, rv, ri/rv,
			impCPU[rep-1], vegCPU[rep-1], sbImp[rep-1], sbVeg[rep-1])
	}
	b.detail("")
	b.detail("Importer rows/s is rows created / the run's own duration (its --summary); vegeta's is 201 answers /")
	b.detail("(duration + wait) from `vegeta report`. Wall-clock rates, process start to exit: importer %.0f rows/s,",
		median(impWall))
	b.detail("vegeta %.0f/s (median).", median(vegWall))
	b.detail("")

	mi, mv := median(impRate), median(vegRate)
	ratio := median(ratios)
	b.info(fmt.Sprintf("throughput: importer, %d rows, W=%d (median of %d)", o.Rows, o.Workers, o.ThroughputRepeat), fmt.Sprintf("%.0f rows/s", mi))
	b.info(fmt.Sprintf("throughput: vegeta, same bodies, W=%d (median of %d)", o.Workers, o.ThroughputRepeat), fmt.Sprintf("%.0f rows/s", mv))
	// Each importer run is paired with the vegeta run right after it, so
	// the median of the pairs' ratios is less exposed to load that comes
	// and goes on a shared machine than the ratio of the two medians.
	b.target(fmt.Sprintf("throughput: ratio importer / vegeta (median of %d paired runs)", o.ThroughputRepeat), fmt.Sprintf("%.3f", ratio), ">= 0.90", ratio >= 0.90)
	b.info("throughput: ratio of the two medians above", fmt.Sprintf("%.3f", mi/mv))
	b.info("throughput: CPU per row, importer / vegeta (median)", fmt.Sprintf("%.1f µs / %.1f µs", median(impCPU), median(vegCPU)))
	return nil
}

func perRow(d time.Duration, rows int) float64 {
	return float64(d.Microseconds()) / float64(rows)
}

// ratePrecision: a strict sandbox limit, the importer configured at it.
func (b *bench) ratePrecision(ctx context.Context) error {
	o := b.o
	file, err := b.csv(o.RateRows)
	if err != nil {
		return err
	}
	rate := fmtNum(o.Rate)
	var achieved []float64
	var throttled int64
	b.detail("### Rate precision (%d rows; sandbox --rate-limit %s --burst %d; importer --rate %s --burst %d)", o.RateRows, rate, o.APIBurst, rate, o.ImporterBurst)
	b.detail("")
	b.detail("| run | requests | duration s | achieved /s | error | 429s |")
	b.detail("|---|---|---|---|---|---|")
	for rep := 1; rep <= o.Repeat; rep++ {
		sb, err := b.sandbox(ctx, "rate", "--rate-limit", rate, "--burst", strconv.Itoa(o.APIBurst))
		if err != nil {
			return err
		}
		ir, err := runImporter(ctx, o, file, b.freshCheckpoint("rate"), sb.URL, "--rate", rate, "--burst", strconv.Itoa(o.ImporterBurst))
		st, stErr := sb.stats(ctx)
		sb.stop()
		if err != nil {
			return err
		}
		if stErr != nil {
			return stErr
		}
		a := float64(ir.Summary.Requests) / ir.Summary.DurationSeconds
		achieved = append(achieved, a)
		throttled += st.Throttled
		b.log("rate %d/%d: %.2f/s, %d 429s", rep, o.Repeat, a, st.Throttled)
		b.detail("| %d | %d | %.3f | %.2f | %+.2f%% | %d |", rep, ir.Summary.Requests, ir.Summary.DurationSeconds, a, (a/o.Rate-1)*100, st.Throttled)
	}
	b.detail("")
	m := median(achieved)
	dev := (m/o.Rate - 1) * 100
	b.target(fmt.Sprintf("rate precision: achieved at --rate %s (median of %d)", rate, o.Repeat),
		fmt.Sprintf("%.2f/s (%+.2f%%)", m, dev), "within 1% of "+rate+"/s", math.Abs(dev) <= 1)
	b.target("rate precision: 429 answers (all runs)", strconv.FormatInt(throttled, 10), "0", throttled == 0)
	return nil
}

// latencyHiding: a slow API, the importer with its default workers and with
// workers = ceil(rate x latency x 1.2).
func (b *bench) latencyHiding(ctx context.Context) error {
	o := b.o
	file, err := b.csv(o.LatencyRows)
	if err != nil {
		return err
	}
	rate := fmtNum(o.LatencyRate)
	sized := int(math.Ceil(o.LatencyRate * o.Latency.Seconds() * 1.2))
	variants := []struct {
		label string
		flags []string
	}{
		{"default workers", nil},
		{fmt.Sprintf("--workers %d (ceil(rate x latency x 1.2))", sized), []string{"--workers", strconv.Itoa(sized)}},
	}
	b.detail("### Latency hiding (%d rows; sandbox --latency %s; importer --rate %s)", o.LatencyRows, o.Latency, rate)
	b.detail("")
	b.detail("| workers | run | requests | duration s | achieved /s | of the rate |")
	b.detail("|---|---|---|---|---|---|")
	for _, v := range variants {
		var pct []float64
		for rep := 1; rep <= o.Repeat; rep++ {
			flags := append([]string{"--rate", rate}, v.flags...)
			ir, _, _, err := b.importFresh(ctx, "latency", file, o.LatencyRows, []string{"--latency", o.Latency.String()}, flags...)
			if err != nil {
				return err
			}
			a := float64(ir.Summary.Requests) / ir.Summary.DurationSeconds
			pct = append(pct, a/o.LatencyRate*100)
			b.log("latency, %s, %d/%d: %.1f/s (%.1f%%)", v.label, rep, o.Repeat, a, a/o.LatencyRate*100)
			b.detail("| %s | %d | %d | %.3f | %.1f | %.1f%% |", v.label, rep, ir.Summary.Requests, ir.Summary.DurationSeconds, a, a/o.LatencyRate*100)
		}
		m := median(pct)
		b.target(fmt.Sprintf("latency hiding: %s, %s latency (median of %d)", v.label, o.Latency, o.Repeat),
			fmt.Sprintf("%.1f%% of %s/s", m, rate), ">= 98%", m >= 98)
	}
	b.detail("")
	return nil
}

// memory: peak RSS of imports of growing files, unlimited rate.
func (b *bench) memory(ctx context.Context) error {
	o := b.o
	w := strconv.Itoa(o.Workers)
	rss := make([]int64, len(o.MemRows))
	b.detail("### Memory (unlimited rate, W=%d, fresh checkpoint and sandbox)", o.Workers)
	b.detail("")
	b.detail("| rows | peak RSS MiB | ru_maxrss MiB | VmHWM polled MiB | p100-bench's RSS at the start MiB | wall s | rows/s | importer CPU µs/row |")
	b.detail("|---|---|---|---|---|---|---|---|")
	for i, n := range o.MemRows {
		file, err := b.csv(n)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("memory-%d", n)
		ir, _, _, err := b.importFresh(ctx, name, file, n, nil, "--rate", "0", "--workers", w)
		if err != nil {
			return err
		}
		peak := ir.PeakRSS()
		rss[i] = peak
		b.log("memory %d rows: peak RSS %.1f MiB (ru_maxrss %.1f, VmHWM %.1f), %.0f rows/s", n, mib(peak), mib(ir.MaxRSS), mib(ir.PolledHWM), ir.Summary.RowsPerSecond)
		b.detail("| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f |", n, mib(peak), mib(ir.MaxRSS), mib(ir.PolledHWM), mib(ir.ParentRSS),
			ir.Wall.Seconds(), ir.Summary.RowsPerSecond, perRow(ir.CPU, n))
		last := i == len(o.MemRows)-1
		if last {
			b.target(fmt.Sprintf("memory: peak RSS, %s rows", thousands(n)), fmt.Sprintf("%.1f MiB", mib(peak)), "<= 64 MiB", mib(peak) <= 64)
			b.bigCheckpoint = filepath.Join(b.dir, name+".db")
			db, err1 := fileSize(b.bigCheckpoint)
			wal, err2 := fileSize(b.bigCheckpoint + "-wal")
			if err1 != nil || err2 != nil {
				return fmt.Errorf("checkpoint size: %v %v", err1, err2)
			}
			b.info(fmt.Sprintf("checkpoint size per row after %s rows (db + wal)", thousands(n)),
				fmt.Sprintf("%.0f bytes (%.1f MiB + %.1f MiB)", float64(db+wal)/float64(n), mib(db/1024), mib(wal/1024)))
			b.info(fmt.Sprintf("import rate at %s rows, W=%d", thousands(n), o.Workers), fmt.Sprintf("%.0f rows/s", ir.Summary.RowsPerSecond))
		} else {
			b.info(fmt.Sprintf("memory: peak RSS, %s rows", thousands(n)), fmt.Sprintf("%.1f MiB", mib(peak)))
		}
	}
	b.detail("")
	if len(rss) > 1 {
		r := float64(rss[len(rss)-1]) / float64(rss[0])
		b.target(fmt.Sprintf("memory: RSS %s rows / RSS %s rows", thousands(o.MemRows[len(rss)-1]), thousands(o.MemRows[0])),
			fmt.Sprintf("%.2f", r), "<= 1.25", r <= 1.25)
	}
	return nil
}

// resume: rerun the largest file against its own, complete checkpoint.
func (b *bench) resume(ctx context.Context) error {
	o := b.o
	n := o.MemRows[len(o.MemRows)-1]
	file, err := b.csv(n)
	if err != nil {
		return err
	}
	w := strconv.Itoa(o.Workers)
	if b.bigCheckpoint == "" { // the memory case did not run: import first
		name := fmt.Sprintf("memory-%d", n)
		if _, _, _, err := b.importFresh(ctx, name, file, n, nil, "--rate", "0", "--workers", w); err != nil {
			return err
		}
		b.bigCheckpoint = filepath.Join(b.dir, name+".db")
	}
	var walls []float64
	var requests int64
	b.detail("### Resume scan (%d rows, all done before; fresh sandbox; \"the run itself\" is the summary's duration, without start-up and shut-down)", n)
	b.detail("")
	b.detail("| run | wall s | of which the run itself s | skipped | requests (sandbox) | peak RSS MiB |")
	b.detail("|---|---|---|---|---|---|")
	for rep := 1; rep <= o.Repeat; rep++ {
		sb, err := b.sandbox(ctx, "resume")
		if err != nil {
			return err
		}
		ir, err := runImporter(ctx, o, file, b.bigCheckpoint, sb.URL, "--rate", "0", "--workers", w)
		st, stErr := sb.stats(ctx)
		sb.stop()
		if err != nil {
			return err
		}
		if stErr != nil {
			return stErr
		}
		if ir.Summary.Skipped != n {
			return fmt.Errorf("resume: %d rows skipped, want %d", ir.Summary.Skipped, n)
		}
		walls = append(walls, ir.Wall.Seconds())
		requests += st.Requests
		b.log("resume %d/%d: %.2fs, %d requests", rep, o.Repeat, ir.Wall.Seconds(), st.Requests)
		b.detail("| %d | %.2f | %.2f | %d | %d | %.1f |", rep, ir.Wall.Seconds(), ir.Summary.DurationSeconds, ir.Summary.Skipped, st.Requests, mib(ir.PeakRSS()))
	}
	b.detail("")
	m := median(walls)
	b.target(fmt.Sprintf("resume scan: %s rows already imported, wall (median of %d)", thousands(n), o.Repeat), fmt.Sprintf("%.2f s", m), "<= 5 s", m <= 5)
	b.target("resume scan: requests sent (all runs)", strconv.FormatInt(requests, 10), "0", requests == 0)
	return nil
}

// validateSpeed: `importer validate --quiet` on the largest file.
func (b *bench) validateSpeed(ctx context.Context) error {
	o := b.o
	n := o.MemRows[len(o.MemRows)-1]
	file, err := b.csv(n)
	if err != nil {
		return err
	}
	var rates []float64
	b.detail("### Validate (%d rows, `importer validate --quiet`)", n)
	b.detail("")
	b.detail("| run | wall s | rows/s | peak RSS MiB |")
	b.detail("|---|---|---|---|")
	want := fmt.Sprintf("rows %d: valid %d, invalid 0", n, n)
	for rep := 1; rep <= o.Repeat; rep++ {
		res, err := runChild(ctx, nil, o.importerBin(), "validate", "--input", file, "--quiet")
		if err != nil {
			return err
		}
		if !strings.Contains(string(res.Stdout), want) {
			return fmt.Errorf("validate: want %q, got: %s", want, tail(res.Stdout))
		}
		r := float64(n) / res.Wall.Seconds()
		rates = append(rates, r)
		b.log("validate %d/%d: %.0f rows/s", rep, o.Repeat, r)
		b.detail("| %d | %.2f | %.0f | %.1f |", rep, res.Wall.Seconds(), r, mib(res.PeakRSS()))
	}
	b.detail("")
	m := median(rates)
	b.target(fmt.Sprintf("validate: %s rows, wall-clock rate (median of %d)", thousands(n), o.Repeat), fmt.Sprintf("%.0f rows/s", m), ">= 300,000 rows/s", m >= 300_000)
	return nil
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// thousands writes n with comma separators: 1000000 -> "1,000,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
