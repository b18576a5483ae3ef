// Package checkpoint is the importer's ledger: a SQLite database, keyed by
// externalUserId, that records every row's outcome so an interrupted or
// failed migration can simply be run again.
//
// Rows move through the states described in docs/design.md: a row is marked
// in_flight (committed) before its request leaves, then recorded as created,
// exists, rejected or failed; rows refused locally are recorded as invalid.
// Personal data is kept only while a row has not succeeded.
//
// The store has a single write connection (SQLite wants one writer) and a
// separate pool of read connections; the database runs in WAL mode with
// synchronous=NORMAL, which survives a killed process.
package checkpoint
