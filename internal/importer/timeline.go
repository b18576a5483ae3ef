package importer

import (
	"errors"
	"sync"
	"time"

	"github.com/p100/p100-importer/internal/p100"
)

// TimelineBuckets is the most intervals a timeline holds. A run starts
// with one-second intervals; when they are all used, neighbours merge
// pairwise into intervals twice as long, so the timeline's size is bounded
// whatever the run's length (a 28-hour run ends with 256 s intervals).
const TimelineBuckets = 300

// timelinePauses is the most pauses a timeline keeps apart; beyond it the
// two closest merge into one.
const timelinePauses = 100

// Timeline is the run over time, in fixed intervals: what the HTML
// report's charts draw. Its JSON form is kept in the checkpoint's run
// record.
type Timeline struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Interval float64   `json:"interval_s"` // each bucket's length, in seconds
	Buckets  []Bucket  `json:"buckets"`    // bucket i covers [Start+i*Interval, Start+(i+1)*Interval)
	Pauses   []Span    `json:"pauses,omitempty"`
}

// Bucket is one interval of a Timeline. Requests and answers count
// attempts (retries and lookups included); the row counts are outcomes
// committed in the interval.
type Bucket struct {
	Requests  int `json:"req,omitempty"`
	Conflicts int `json:"p411,omitempty"`    // P411 answers (user exists)
	Errors    int `json:"err,omitempty"`     // error answers other than 429 and P411 (P403, P5xx, 5xx, timeouts...)
	Throttled int `json:"t429,omitempty"`    // 429 answers
	Created   int `json:"created,omitempty"` // rows
	Exists    int `json:"exists,omitempty"`
	Skipped   int `json:"skipped,omitempty"`
	Invalid   int `json:"invalid,omitempty"`
	Rejected  int `json:"rejected,omitempty"`
	Failed    int `json:"failed,omitempty"`
	// Target is the limiter's rate in requests per second (0: unlimited,
	// -1: not sampled in this interval); Limit the API's limit as found
	// by --rate auto (0: none).
	Target float64 `json:"target"`
	Limit  float64 `json:"limit,omitempty"`
	// P50 and P99 are the request latencies of the interval, in
	// milliseconds. After a merge, P50 is the mean of the two weighted by
	// requests and P99 the larger of the two.
	P50 float64 `json:"p50,omitempty"`
	P99 float64 `json:"p99,omitempty"`
}

// Span is a time the run was paused by the API (Retry-After), in seconds
// since the timeline's start.
type Span struct {
	From float64 `json:"from"`
	To   float64 `json:"to"`
}

// timeline records a run's Timeline as it goes; safe for concurrent use.
type timeline struct {
	mu       sync.Mutex
	start    time.Time
	interval time.Duration
	buckets  []tlBucket
	pauses   []Span
	open     int              // the bucket whose latencies live holds; -1 before the first
	live     latencyHistogram // latencies of the open bucket
	sampled  time.Time        // when the limiter was last sampled
	stats    func() (rate, limit float64)
}

// tlBucket is a Bucket with what merging and sampling need.
type tlBucket struct {
	Bucket
	latN              int // requests whose latency P50/P99 summarise
	targetSum, limMax float64
	samples           int
}

// newTimeline starts a timeline at start; stats samples the limiter.
func newTimeline(start time.Time, stats func() (rate, limit float64)) *timeline {
	return &timeline{start: start, interval: time.Second, open: -1, stats: stats,
		buckets: make([]tlBucket, 0, TimelineBuckets)}
}

// bucket returns the bucket holding t, merging intervals until it fits;
// t before the start falls in the first bucket. Called with mu held.
func (tl *timeline) bucket(t time.Time) *tlBucket {
	i := int(max(t.Sub(tl.start), 0) / tl.interval)
	for i >= TimelineBuckets {
		tl.merge()
		i = int(max(t.Sub(tl.start), 0) / tl.interval)
	}
	if i != tl.open {
		tl.closeOpen()
		tl.open = i
	}
	for len(tl.buckets) <= i {
		tl.buckets = append(tl.buckets, tlBucket{})
	}
	if !t.Before(tl.sampled.Add(time.Second)) && tl.stats != nil {
		tl.sampled = t
		rate, limit := tl.stats()
		b := &tl.buckets[i]
		b.targetSum += rate
		b.samples++
		b.limMax = max(b.limMax, limit)
	}
	return &tl.buckets[i]
}

// closeOpen sums up the open bucket's latencies. Called with mu held.
func (tl *timeline) closeOpen() {
	if tl.open < 0 || tl.open >= len(tl.buckets) {
		return
	}
	b := &tl.buckets[tl.open]
	var n int64
	for i := range tl.live.buckets {
		n += tl.live.buckets[i].Load()
	}
	if n > 0 {
		ms := func(q float64) float64 { return round(float64(tl.live.quantile(q))/float64(time.Millisecond), 2) }
		p50, p99 := ms(0.50), ms(0.99)
		// A bucket reopened after a merge already holds a summary.
		if b.latN > 0 {
			p50 = (b.P50*float64(b.latN) + p50*float64(n)) / float64(b.latN+int(n))
			p99 = max(b.P99, p99)
		}
		b.P50, b.P99, b.latN = round(p50, 2), p99, b.latN+int(n)
	}
	for i := range tl.live.buckets {
		tl.live.buckets[i].Store(0)
	}
}

// merge halves the buckets: neighbours merge pairwise, intervals double.
// Called with mu held.
func (tl *timeline) merge() {
	tl.closeOpen()
	tl.open = -1
	n := (len(tl.buckets) + 1) / 2
	for i := range n {
		a := tl.buckets[2*i]
		if 2*i+1 < len(tl.buckets) {
			a = mergeBuckets(a, tl.buckets[2*i+1])
		}
		tl.buckets[i] = a
	}
	tl.buckets = tl.buckets[:n]
	tl.interval *= 2
}

func mergeBuckets(a, b tlBucket) tlBucket {
	m := a
	m.Requests += b.Requests
	m.Conflicts += b.Conflicts
	m.Errors += b.Errors
	m.Throttled += b.Throttled
	m.Created += b.Created
	m.Exists += b.Exists
	m.Skipped += b.Skipped
	m.Invalid += b.Invalid
	m.Rejected += b.Rejected
	m.Failed += b.Failed
	m.targetSum += b.targetSum
	m.samples += b.samples
	m.limMax = max(a.limMax, b.limMax)
	if n := a.latN + b.latN; n > 0 {
		m.P50 = round((a.P50*float64(a.latN)+b.P50*float64(b.latN))/float64(n), 2)
		m.P99 = max(a.P99, b.P99)
		m.latN = n
	}
	return m
}

// attempt counts one request that ended at t after d, with its error.
func (tl *timeline) attempt(t time.Time, d time.Duration, err error) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	b := tl.bucket(t)
	b.Requests++
	tl.live.observe(d)
	if err == nil {
		return
	}
	var apiErr *p100.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == 429:
		b.Throttled++
	case asAPIError(err).Class == p100.Conflict:
		b.Conflicts++
	default:
		b.Errors++
	}
}

// row counts one row's outcome, committed at t.
func (tl *timeline) row(t time.Time, o Outcome) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	b := tl.bucket(t)
	switch o {
	case Created:
		b.Created++
	case Exists:
		b.Exists++
	case Skipped:
		b.Skipped++
	case Invalid:
		b.Invalid++
	case Rejected:
		b.Rejected++
	case Failed:
		b.Failed++
	}
}

// pause notes that the API paused the run from from to until.
func (tl *timeline) pause(from, until time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := Span{From: round(max(from.Sub(tl.start), 0).Seconds(), 3), To: round(max(until.Sub(tl.start), 0).Seconds(), 3)}
	if n := len(tl.pauses); n > 0 && s.From <= tl.pauses[n-1].To {
		tl.pauses[n-1].To = max(tl.pauses[n-1].To, s.To) // overlaps the last one
		return
	}
	tl.pauses = append(tl.pauses, s)
	if len(tl.pauses) > timelinePauses {
		// Merge the two closest neighbours: the picture keeps its shape.
		best := 0
		for i := 1; i < len(tl.pauses)-1; i++ {
			if tl.pauses[i+1].From-tl.pauses[i].To < tl.pauses[best+1].From-tl.pauses[best].To {
				best = i
			}
		}
		tl.pauses[best].To = tl.pauses[best+1].To
		tl.pauses = append(tl.pauses[:best+1], tl.pauses[best+2:]...)
	}
}

// snapshot returns the Timeline up to end.
func (tl *timeline) snapshot(end time.Time) *Timeline {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.sampled = time.Time{} // a last sample of the limiter at the end
	tl.bucket(end)
	tl.closeOpen()
	tl.open = -1
	out := &Timeline{Start: tl.start.UTC().Truncate(time.Millisecond), End: end.UTC().Truncate(time.Millisecond),
		Interval: tl.interval.Seconds(), Buckets: make([]Bucket, len(tl.buckets)), Pauses: append([]Span(nil), tl.pauses...)}
	for i, b := range tl.buckets {
		out.Buckets[i] = b.Bucket
		out.Buckets[i].Target = -1
		if b.samples > 0 {
			out.Buckets[i].Target = round(b.targetSum/float64(b.samples), 2)
		}
		out.Buckets[i].Limit = round(b.limMax, 2)
	}
	return out
}
