package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// Summary is the account of one run. Rows always equals Created + Exists +
// Skipped + Invalid + Rejected + Failed.
type Summary struct {
	Rows     int `json:"rows"`
	Created  int `json:"created"`
	Exists   int `json:"exists"`
	Skipped  int `json:"skipped"`
	Invalid  int `json:"invalid"`
	Rejected int `json:"rejected"`
	Failed   int `json:"failed"`

	Requests int64 `json:"requests"`
	Retries  int64 `json:"retries"`

	DurationSeconds float64 `json:"duration_seconds"`
	RowsPerSecond   float64 `json:"rows_per_second"`
	ExitCode        int     `json:"exit_code"`

	// Not in the JSON file's fixed key set; shown in the human summary.
	Changed   int            `json:"-"`
	Recovered int            `json:"-"`
	Throttled int64          `json:"-"`
	Paused    time.Duration  `json:"-"`
	Stopped   string         `json:"-"` // why the run stopped early, if it did
	Codes     map[string]int `json:"-"`
}

// add counts one row's outcome.
func (s *Summary) add(r *RowResult) {
	s.Rows++
	switch r.Outcome {
	case Created:
		s.Created++
	case Exists:
		s.Exists++
		if r.Recovered {
			s.Recovered++
		}
	case Skipped:
		s.Skipped++
		if r.Changed {
			s.Changed++
		}
	case Invalid:
		s.Invalid++
	case Rejected:
		s.Rejected++
	case Failed:
		s.Failed++
	}
	if r.Code != "" && !r.Outcome.Succeeded() {
		if s.Codes == nil {
			s.Codes = map[string]int{}
		}
		s.Codes[r.Code]++
	}
}

// Balanced reports whether the outcome counts add up to the rows.
func (s *Summary) Balanced() bool {
	return s.Rows == s.Created+s.Exists+s.Skipped+s.Invalid+s.Rejected+s.Failed
}

func (s *Summary) finish(d time.Duration) {
	s.DurationSeconds = math.Round(d.Seconds()*1000) / 1000
	if d > 0 {
		s.RowsPerSecond = math.Round(float64(s.Rows)/d.Seconds()*10) / 10
	}
}

// WriteJSON writes the summary as indented JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// WriteText writes the human summary.
func (s *Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "rows %d: created %d, exists %d, skipped %d, invalid %d, rejected %d, failed %d\n",
		s.Rows, s.Created, s.Exists, s.Skipped, s.Invalid, s.Rejected, s.Failed)
	fmt.Fprintf(w, "requests %d (retries %d, throttled %d", s.Requests, s.Retries, s.Throttled)
	if s.Paused > 0 {
		fmt.Fprintf(w, ", paused %s", s.Paused.Round(time.Millisecond))
	}
	fmt.Fprintf(w, ") in %.1fs, %.1f rows/s\n", s.DurationSeconds, s.RowsPerSecond)
	if s.Recovered > 0 {
		fmt.Fprintf(w, "exists: %d had their userId recovered by a lookup\n", s.Recovered)
	}
	if s.Changed > 0 {
		fmt.Fprintf(w, "changed: %d skipped rows differ from what was created (not re-sent; see `importer export --state changed`)\n", s.Changed)
	}
	if s.Stopped != "" {
		fmt.Fprintf(w, "stopped early: %s\n", s.Stopped)
	}
}
