package main

import (
	"context"
	"encoding/csv"
	"io"
	"time"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/ingest"
)

// retryStates are the rows --retry-failed sends again. Rows left in flight
// are not among them: the checkpoint keeps no personal data for them (most
// succeed), so only a run with the original file can send them again.
var retryStates = []checkpoint.State{checkpoint.Failed}

// openLedgerInput streams the rows the checkpoint holds as failed as CSV, with the API field names as header, into an ingest
// reader: the same validation as a file, in constant memory, and no need
// for the original file.
func openLedgerInput(ctx context.Context, store *checkpoint.Store, now func() time.Time, required []string) (*ingest.Input, error) {
	pr, pw := io.Pipe()
	go func() {
		cw := csv.NewWriter(pw)
		cw.Write(ingest.Fields)
		values := make([]string, len(ingest.Fields))
		err := store.Scan(ctx, checkpoint.Filter{States: retryStates}, func(e checkpoint.Entry) error {
			for i, f := range ingest.Fields {
				values[i] = e.RowData[f]
			}
			values[0] = e.ExternalUserID
			return cw.Write(values)
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		pw.CloseWithError(err)
	}()
	in, err := ingest.NewInput(ctx, pr, pr, ingest.Options{Now: now, Required: required, Encoding: "utf-8"})
	if err != nil {
		pr.Close()
		return nil, internalError{err}
	}
	return in, nil
}
