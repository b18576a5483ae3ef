package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Summary is the account of one run; its JSON form is the --summary file,
// a stable schema the README documents. Rows always equals Created + Exists
// + Skipped + Invalid + Rejected + Failed.
type Summary struct {
	RunID       int64     `json:"run_id"`
	Input       string    `json:"input"`
	InputSHA256 string    `json:"input_sha256"` // "" when the input was not read to its end
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`

	// Inputs lists the files of a run of several, in the order read.
	Inputs []InputFile `json:"inputs,omitempty"`

	Rows     int `json:"rows"`
	Created  int `json:"created"`
	Exists   int `json:"exists"`
	Skipped  int `json:"skipped"`
	Invalid  int `json:"invalid"`
	Rejected int `json:"rejected"`
	Failed   int `json:"failed"`

	// LinesSkipped counts the lines that hold no user (blank, only empty
	// cells, a repeated header, Excel's sep= line, a title above the
	// header): not rows, so not in Rows.
	LinesSkipped int            `json:"lines_skipped"`
	Repairs      map[string]int `json:"repairs,omitempty"` // values repaired, by kind

	// DataCleared counts rows whose kept fields (personal data, kept while
	// a row had not succeeded) this run removed from the ledger.
	DataCleared int `json:"-"`

	Changed   int `json:"changed"`          // skipped rows whose content differs from what was created
	Recovered int `json:"exists_recovered"` // exists rows whose userId a lookup recovered

	// Sent counts the rows this run sent at least one request for.
	Sent int `json:"sent"`
	// Limit is --limit (0: none); LimitReached says the run stopped
	// reading there: a rerun carries on with the next rows.
	Limit        int  `json:"limit,omitempty"`
	LimitReached bool `json:"limit_reached,omitempty"`

	Requests  int64 `json:"requests"`
	Retries   int64 `json:"retries"`
	Throttled int64 `json:"throttled"`

	DurationSeconds   float64 `json:"duration_seconds"`
	RowsPerSecond     float64 `json:"rows_per_second"`
	RequestsPerSecond float64 `json:"requests_per_second"` // the effective rate
	PausedSeconds     float64 `json:"paused_seconds"`      // time every worker waited on Retry-After
	// With --rate auto: the API's limit as found (0 when no 429 was met)
	// and the rate the run ended at, in requests per second.
	RateLimitFound float64 `json:"rate_limit_found,omitempty"`
	RateFinal      float64 `json:"rate_final,omitempty"`
	// SecondsAtLimit is the time the adaptive limiter held just under the
	// limit it found; ThrottledShare the 429s over all requests.
	SecondsAtLimit float64        `json:"seconds_at_limit,omitempty"`
	ThrottledShare float64        `json:"throttled_share"`
	LatencyMS      Latency        `json:"latency_ms"`
	ErrorCodes     map[string]int `json:"error_codes"` // rows not succeeded, by code

	ExitCode   int    `json:"exit_code"`
	ExitReason string `json:"exit_reason"`

	// Timeline is the run over time (not in the JSON summary: the
	// checkpoint keeps it with the run, for the HTML report).
	Timeline *Timeline `json:"-"`
}

// InputFile is one file of a run of several: its path, its SHA-256
// (empty unless it was read to its end) and its rows that reached an
// outcome.
type InputFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
}

// Latency is the spread of request latencies, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// add counts one row's outcome.
func (s *Summary) add(r *RowResult) {
	s.Rows++
	if r.Attempts > 0 {
		s.Sent++
	}
	switch r.Outcome {
	case Created:
		s.Created++
		if r.hadData {
			s.DataCleared++
		}
	case Exists:
		s.Exists++
		if r.hadData {
			s.DataCleared++
		}
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
		s.ErrorCodes[r.Code]++
	}
}

// Balanced reports whether the outcome counts add up to the rows.
func (s *Summary) Balanced() bool {
	return s.Rows == s.Created+s.Exists+s.Skipped+s.Invalid+s.Rejected+s.Failed
}

func (s *Summary) finish(start, end time.Time, lat *latencyHistogram) {
	s.StartedAt, s.FinishedAt = start.UTC().Truncate(time.Millisecond), end.UTC().Truncate(time.Millisecond)
	d := end.Sub(start)
	s.DurationSeconds = round(d.Seconds(), 3)
	if d > 0 {
		s.RowsPerSecond = round(float64(s.Rows)/d.Seconds(), 1)
		s.RequestsPerSecond = round(float64(s.Requests)/d.Seconds(), 1)
	}
	ms := func(q float64) float64 { return round(float64(lat.quantile(q))/float64(time.Millisecond), 2) }
	s.LatencyMS = Latency{P50: ms(0.50), P95: ms(0.95), P99: ms(0.99)}
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
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
	if s.PausedSeconds > 0 {
		fmt.Fprintf(w, ", paused %.1fs", s.PausedSeconds)
	}
	fmt.Fprintf(w, ") in %.1fs, %.1f rows/s", s.DurationSeconds, s.RowsPerSecond)
	if s.Requests > 0 {
		fmt.Fprintf(w, ", latency p50 %.0fms p99 %.0fms", s.LatencyMS.P50, s.LatencyMS.P99)
	}
	fmt.Fprintln(w)
	if len(s.Inputs) > 0 {
		parts := make([]string, len(s.Inputs))
		for i, f := range s.Inputs {
			parts[i] = fmt.Sprintf("%s %d", f.Path, f.Rows)
		}
		fmt.Fprintf(w, "files %d, rows of each: %s\n", len(s.Inputs), strings.Join(parts, ", "))
	}
	if s.LimitReached {
		fmt.Fprintf(w, "stopped at --limit %d: %d rows sent; rerun to carry on\n", s.Limit, s.Sent)
	}
	if s.RateLimitFound > 0 {
		fmt.Fprintf(w, "rate: the API's limit found at %.1f/s, held for %.0fs; the run ended at %.1f/s; 429s: %.2f%% of requests\n",
			s.RateLimitFound, s.SecondsAtLimit, s.RateFinal, 100*s.ThrottledShare)
	}
	if s.LinesSkipped > 0 {
		fmt.Fprintf(w, "lines skipped %d: blank, only empty cells, a repeated header or a title (not rows)\n", s.LinesSkipped)
	}
	if len(s.Repairs) > 0 {
		fmt.Fprintf(w, "repaired: %s\n", joinCounts(s.Repairs))
	}
	if s.Recovered > 0 {
		fmt.Fprintf(w, "exists: %d had their userId recovered by a lookup\n", s.Recovered)
	}
	if s.Changed > 0 {
		fmt.Fprintf(w, "changed: %d skipped rows differ from what was created (not re-sent; see `importer export --state changed`)\n", s.Changed)
	}
	if len(s.ErrorCodes) > 0 {
		fmt.Fprintf(w, "not imported, by code: %s\n", joinCounts(s.ErrorCodes))
	}
}

// joinCounts writes counts by name, sorted by name: "P403 2, P501 1".
func joinCounts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
