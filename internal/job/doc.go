// Package job wires one import run from its settings, so that every
// front-end runs the same thing: cmd/importer (which keeps flags, output
// and exit codes), cmd/p100-bench, and tests.
//
// Run opens the input (ingest.Open: format, digest, line total) or, for a
// retry of failed rows, the rows the checkpoint keeps; takes the
// checkpoint's lock and opens it; builds the API client and the limiter;
// runs the importer; and writes what a run leaves behind: the failure
// report, the summary (to a file and into the checkpoint's run record) and
// the metrics file.
package job
