package importer

import (
	"errors"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/p100"
)

var t0 = time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)

func TestTimelineCountsAnswersPerInterval(t *testing.T) {
	tl := newTimeline(t0, func() (float64, float64) { return 10, 0 })
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tl.attempt(at(0.1), 20*time.Millisecond, nil)
	tl.attempt(at(0.2), 20*time.Millisecond, &p100.Error{Status: 429, Code: p100.CodeRateLimited, Class: p100.Transient})
	tl.attempt(at(1.5), 40*time.Millisecond, &p100.Error{Status: 400, Code: p100.CodeUserExists, Class: p100.Conflict})
	tl.attempt(at(1.6), 400*time.Millisecond, &p100.Error{Status: 400, Code: p100.CodeValidation, Class: p100.Permanent})
	tl.attempt(at(1.7), time.Second, errors.New("connection reset"))
	tl.row(at(0.15), Created)
	tl.row(at(1.55), Exists)
	tl.row(at(1.65), Rejected)
	tl.row(at(1.75), Failed)
	tl.row(at(2.5), Invalid)
	got := tl.snapshot(at(5.2))

	if got.Interval != 1 || len(got.Buckets) != 6 {
		t.Fatalf("interval %v, %d buckets; want 1 s and 6 buckets", got.Interval, len(got.Buckets))
	}
	b0, b1, b2 := got.Buckets[0], got.Buckets[1], got.Buckets[2]
	if b0.Requests != 2 || b0.Throttled != 1 || b0.Errors != 0 || b0.Created != 1 {
		t.Errorf("second 0: %+v; want 2 requests, one 429, one created", b0)
	}
	if b1.Requests != 3 || b1.Conflicts != 1 || b1.Errors != 2 || b1.Exists != 1 || b1.Rejected != 1 || b1.Failed != 1 {
		t.Errorf("second 1: %+v; want 3 requests: a P411, two errors; rows exists, rejected, failed", b1)
	}
	if b2.Requests != 0 || b2.Invalid != 1 {
		t.Errorf("second 2: %+v; want no request and one invalid row", b2)
	}
	// Latencies: p50 within the histogram's 9% of the middle one, p99 of the slowest.
	if b1.P50 < 400*0.9 || b1.P50 > 400*1.1 || b1.P99 < 1000*0.9 || b1.P99 > 1000*1.1 {
		t.Errorf("second 1 latency p50 %v p99 %v; want about 400 and 1000 ms", b1.P50, b1.P99)
	}
	if b0.Target != 10 {
		t.Errorf("second 0 target %v; want the limiter's 10/s", b0.Target)
	}
	if got.Buckets[3].Target != -1 {
		t.Errorf("second 3 target %v; want -1: nothing happened, the limiter was not sampled then", got.Buckets[3].Target)
	}
}

func TestTimelineStaysBoundedOverALongRun(t *testing.T) {
	tl := newTimeline(t0, func() (float64, float64) { return 8, 12 })
	const seconds = 100_000 // 27.8 hours: a million rows at 10/s
	for s := range seconds {
		at := t0.Add(time.Duration(s)*time.Second + 500*time.Millisecond)
		lat := 50 * time.Millisecond
		if s == 10 {
			lat = 3 * time.Second // the p99 of its second, early in the run
		}
		tl.attempt(at, lat, nil)
		tl.row(at, Created)
	}
	got := tl.snapshot(t0.Add(seconds * time.Second))
	if len(got.Buckets) > TimelineBuckets || len(got.Buckets) < TimelineBuckets/2 {
		t.Fatalf("%d buckets; want between %d and %d", len(got.Buckets), TimelineBuckets/2, TimelineBuckets)
	}
	if want := 512.0; got.Interval != want {
		t.Errorf("interval %v s; want %v (1 s doubled until %d buckets hold the run)", got.Interval, want, TimelineBuckets)
	}
	var req, created int
	slow := 0
	for _, b := range got.Buckets {
		req += b.Requests
		created += b.Created
		if b.P99 > 2000 {
			slow++
		}
		if b.Limit != 12 {
			t.Fatalf("bucket limit %v; want 12", b.Limit)
		}
	}
	if req != seconds || created != seconds {
		t.Errorf("requests %d, created %d after merging; want %d each: merging loses nothing", req, created, seconds)
	}
	if slow != 1 {
		t.Errorf("%d buckets show the slow request in p99; want exactly 1 (merging keeps the larger p99)", slow)
	}
}

func TestTimelinePausesMergeAndStayBounded(t *testing.T) {
	tl := newTimeline(t0, nil)
	tl.pause(t0.Add(10*time.Second), t0.Add(15*time.Second))
	tl.pause(t0.Add(12*time.Second), t0.Add(20*time.Second)) // overlaps: extends
	tl.pause(t0.Add(30*time.Second), t0.Add(31*time.Second))
	got := tl.snapshot(t0.Add(40 * time.Second))
	want := []Span{{From: 10, To: 20}, {From: 30, To: 31}}
	if len(got.Pauses) != len(want) || got.Pauses[0] != want[0] || got.Pauses[1] != want[1] {
		t.Errorf("pauses %v; want %v", got.Pauses, want)
	}
	for i := range 3 * timelinePauses {
		from := t0.Add(time.Duration(100+10*i) * time.Second)
		tl.pause(from, from.Add(time.Second))
	}
	got = tl.snapshot(t0.Add(time.Hour))
	if len(got.Pauses) > timelinePauses {
		t.Errorf("%d pauses kept; want at most %d", len(got.Pauses), timelinePauses)
	}
	last := got.Pauses[len(got.Pauses)-1]
	if wantTo := float64(100 + 10*(3*timelinePauses-1) + 1); last.To != wantTo {
		t.Errorf("last pause ends at %v; want %v (merging keeps the extent)", last.To, wantTo)
	}
}
