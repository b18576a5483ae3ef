package importer

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// WritePrometheus writes the run's figures in Prometheus text format, for
// node_exporter's textfile collector; lastSuccess is when the last run
// with exit code 0 finished (zero if none did).
func (sum *Summary) WritePrometheus(w io.Writer, lastSuccess time.Time) error {
	var b bytes.Buffer
	metric := func(name, help, typ string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("p100_import_rows_total", "Rows of the last run, by outcome.", "gauge")
	for _, o := range []struct {
		name string
		n    int
	}{
		{"created", sum.Created}, {"exists", sum.Exists}, {"skipped", sum.Skipped},
		{"invalid", sum.Invalid}, {"rejected", sum.Rejected}, {"failed", sum.Failed},
	} {
		fmt.Fprintf(&b, "p100_import_rows_total{outcome=%q} %d\n", o.name, o.n)
	}
	metric("p100_import_changed_rows", "Skipped rows of the last run whose content differs from what was created.", "gauge")
	fmt.Fprintf(&b, "p100_import_changed_rows %d\n", sum.Changed)
	metric("p100_import_requests_total", "Requests sent to the P100 API by the last run, retries included.", "gauge")
	fmt.Fprintf(&b, "p100_import_requests_total %d\n", sum.Requests)
	metric("p100_import_retries_total", "Retries of the last run.", "gauge")
	fmt.Fprintf(&b, "p100_import_retries_total %d\n", sum.Retries)
	metric("p100_import_throttled_total", "429 answers in the last run.", "gauge")
	fmt.Fprintf(&b, "p100_import_throttled_total %d\n", sum.Throttled)
	metric("p100_import_throttled_ratio", "429 answers over all requests in the last run.", "gauge")
	fmt.Fprintf(&b, "p100_import_throttled_ratio %g\n", sum.ThrottledShare)
	if sum.RateLimitFound > 0 {
		metric("p100_import_rate_limit_found", "The API's rate limit (requests per second) the last run found, with --rate auto or a --rate ceiling.", "gauge")
		fmt.Fprintf(&b, "p100_import_rate_limit_found %g\n", sum.RateLimitFound)
		metric("p100_import_rate_at_limit_seconds", "Time the last run held just under the limit it found.", "gauge")
		fmt.Fprintf(&b, "p100_import_rate_at_limit_seconds %g\n", sum.SecondsAtLimit)
	}
	metric("p100_import_run_duration_seconds", "Duration of the last run.", "gauge")
	fmt.Fprintf(&b, "p100_import_run_duration_seconds %g\n", sum.DurationSeconds)
	metric("p100_import_exit_code", "Exit code of the last run (0 ok, 1 rows not imported, 2 usage, 3 aborted by the API, 4 interrupted, 5 internal).", "gauge")
	fmt.Fprintf(&b, "p100_import_exit_code %d\n", sum.ExitCode)
	metric("p100_import_last_run_timestamp_seconds", "When the last run finished, Unix time.", "gauge")
	fmt.Fprintf(&b, "p100_import_last_run_timestamp_seconds %d\n", sum.FinishedAt.Unix())
	metric("p100_import_last_success_timestamp_seconds", "When the last run with exit code 0 finished, Unix time; 0 if none did.", "gauge")
	success := int64(0)
	if !lastSuccess.IsZero() {
		success = lastSuccess.Unix()
	}
	fmt.Fprintf(&b, "p100_import_last_success_timestamp_seconds %d\n", success)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}
