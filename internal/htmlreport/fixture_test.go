package htmlreport_test

import (
	"time"

	"github.com/p100/p100-importer/internal/htmlreport"
	"github.com/p100/p100-importer/internal/importer"
)

var start = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

// fixedRun is a made-up run of 150 s: ramping up to 20 requests a second,
// throttled around 60 s (a 3 s pause), then held at 15/s, with a few
// P411s, errors and slow answers. Its summary's figures are the
// timeline's sums.
func fixedRun() *htmlreport.Report {
	tl := &importer.Timeline{Start: start, End: start.Add(150 * time.Second), Interval: 1,
		Pauses: []importer.Span{{From: 61, To: 64}}}
	s := importer.Summary{RunID: 7, Input: "users-2026-11-23.csv",
		InputSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		StartedAt:   start, FinishedAt: start.Add(150 * time.Second), DurationSeconds: 150,
		ErrorCodes: map[string]int{}, ExitCode: 1, ExitReason: "some rows were not imported",
		LatencyMS: importer.Latency{P50: 82.5, P95: 240, P99: 410}}
	for i := range 150 {
		b := importer.Bucket{Target: 20}
		switch {
		case i < 20:
			b.Requests = i + 1
		case i < 60:
			b.Requests = 20
		case i < 61:
			b.Requests, b.Throttled = 24, 6
		case i < 64:
			b.Target = -1 // paused: no sample
		default:
			b.Target, b.Limit, b.Requests = 15, 18, 15
		}
		if i%17 == 5 {
			b.Conflicts = 2
		}
		if i%23 == 9 {
			b.Errors = 1
		}
		b.Created = max(b.Requests-b.Conflicts-b.Errors-b.Throttled-(b.Conflicts), 0)
		b.Exists = b.Conflicts
		b.Rejected = b.Errors
		if b.Requests > 0 {
			b.P50, b.P99 = 70+float64(i%11), 150+float64((i*37)%200)
		}
		tl.Buckets = append(tl.Buckets, b)
		s.Requests += int64(b.Requests)
		s.Throttled += int64(b.Throttled)
		s.Created += b.Created
		s.Exists += b.Exists
		s.Rejected += b.Rejected
	}
	s.Invalid, s.Skipped, s.Failed = 4, 120, 1
	s.Rows = s.Created + s.Exists + s.Skipped + s.Invalid + s.Rejected + s.Failed
	s.Retries = s.Throttled
	s.PausedSeconds = 3
	s.RowsPerSecond = float64(s.Rows) / 150
	s.RequestsPerSecond = float64(s.Requests) / 150
	s.ErrorCodes = map[string]int{"P403": s.Rejected, "INVALID": 4, "P501": 1}
	var c htmlreport.Collector
	for i := range s.Rejected {
		c.Add(importer.Rejected, "P403", 40+97*i)
	}
	for _, l := range []int{3, 18, 211, 1999} {
		c.Add(importer.Invalid, "INVALID", l)
	}
	c.Add(importer.Failed, "P501", 1500)
	exit1 := s
	return &htmlreport.Report{
		Summary:     s,
		Record:      htmlreport.Record{Version: "v1.4.0", BaseHost: "partner-api-stage.p100.io", Timeline: tl, NotImported: c.List()},
		ExitMeaning: "finished; some rows were not imported (see the report)",
		History: []htmlreport.Run{
			{ID: 7, Started: start, Finished: start.Add(150 * time.Second), Summary: &exit1},
			{ID: 6, Started: start.Add(-24 * time.Hour)},
			{ID: 5, Started: start.Add(-48 * time.Hour), Finished: start.Add(-48*time.Hour + time.Minute),
				Summary: &importer.Summary{Rows: 2000, Created: 1990, Invalid: 10, DurationSeconds: 61.5, ExitCode: 1}},
		},
	}
}
