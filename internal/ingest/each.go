package ingest

import (
	"context"
	"errors"
	"io"
)

// eachBatch is how many rows the reading goroutine hands over at a time.
const eachBatch = 256

// Each reads every row of in and calls fn with each, in file order, on the
// caller's goroutine: reading (decoding, normalising, the duplicate check)
// runs on a goroutine of its own, so a caller that checks the rows in fn
// keeps a second core busy. It stops at fn's first error, at an error of
// the input, or when ctx ends (returning ctx's error).
func (in *Input) Each(ctx context.Context, fn func(*Record) error) error {
	batches := make(chan []*Record, 4)
	stop := make(chan struct{})
	var readErr error // read after batches is closed
	go func() {
		defer close(batches)
		batch := make([]*Record, 0, eachBatch)
		for ctx.Err() == nil {
			rec, err := in.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				readErr = err
				break
			}
			if batch = append(batch, rec); len(batch) == cap(batch) {
				select {
				case batches <- batch:
				case <-stop:
					return
				}
				batch = make([]*Record, 0, eachBatch)
			}
		}
		select {
		case batches <- batch:
		case <-stop:
		}
	}()
	for batch := range batches {
		for _, rec := range batch {
			if err := fn(rec); err != nil {
				close(stop)
				for range batches { // let the reader finish
				}
				return err
			}
		}
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}
