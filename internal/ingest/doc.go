// Package ingest turns a CSV export of a partner's users into validated
// create requests, one Record per data row, in constant memory.
//
// It detects the dialect (UTF-8 BOM, delimiter), maps the header to P100's
// field names, decodes rows with gocsv, normalises and validates every field,
// and flags the same externalUserId seen twice in one file. A row that cannot
// be used is never an error that stops the read: it is a Record carrying
// Problems (line, column, reason) so the caller can report it and go on.
package ingest
