// Package importer runs an import: it reads rows, looks them up in the
// ledger, sends the ones that need it to P100 through a shared limiter and a
// pool of workers, and records every row's outcome before it is reported.
//
// Importer.Run starts one run (run.go); its stages are methods of the run,
// each on its own goroutine, joined by channels:
//
//	source ─read─▶ records ─lookup─▶ batches ─dispatch─▶ queue ─work ×W─▶ ┐
//	                  (Ledger.Lookup, a          │                         │
//	                   read, one query           │ settled rows            │ sent rows
//	                   per 256 rows)             ▼                         ▼
//	                                  writes (marks, flags) ──▶ record ◀── results
//	                                                           (the only writer:
//	                                                  Ledger.Write, SetChanged, Unmark)
//
// The stages:
//
//   - read hands the source's rows on in file order.
//   - lookup batches them and asks the ledger what it knows of each id.
//   - dispatch settles what needs no request (skipped: done before;
//     invalid: it checks the row here, Record.Check; rejected unchanged),
//     and for the rest has the recorder commit in-flight marks before it
//     queues the rows: a row is never sent before its mark is durable.
//   - work sends a row's create (and, on P411, the lookup of its userId)
//     through retry (attempt.go): the shared limiter, backoff,
//     Retry-After, the circuit breaker, latency and request counters.
//   - record is the ledger's single writer (record.go): it commits marks,
//     changed flags and outcomes in group commits, and only then counts a
//     row in the summary and calls Config.OnRow; at the end, once every
//     other stage is done, it gives rows marked but never sent their
//     previous state back (Unmark).
//
// Contexts: the caller's context ends at the graceful stop (a signal); it
// ends the attempts context, so no row is read, dispatched or attempted
// after it. Requests already sent run in the requests context (the
// errgroup's), which outlives the stop by Config.DrainTimeout and ends at
// once on a fatal error (401, a broken ledger). The breaker and the error
// budget end the attempts context with their cause, which becomes Run's
// error. The recorder writes with a context that is never cancelled: an
// outcome the API confirmed is always recorded.
//
// The row's life (outcomes, the ledger's states, exit codes) is described
// in docs/design.md.
package importer
