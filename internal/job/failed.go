package job

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/ingest"
)

// RetryableStates are the states Options.Retry may name. Rows left in
// flight are not among them: the checkpoint keeps no personal data for
// them (most succeed), so only a run with the original file can send them;
// nor are invalid rows, which a fixed file sends anyway.
var RetryableStates = []checkpoint.State{checkpoint.Failed, checkpoint.Rejected}

// EntryValues returns the request fields the checkpoint keeps for a row
// that did not succeed, in the order of ingest.Fields, its key as the
// externalUserId: the one mapping from a ledger entry to a row, for a retry
// and for a regenerated failure report alike.
func EntryValues(e checkpoint.Entry) []string {
	values := make([]string, len(ingest.Fields))
	for i, f := range ingest.Fields {
		values[i] = e.RowData[f]
	}
	values[0] = e.ExternalUserID
	return values
}

// openLedgerRows reads the rows the checkpoint holds in the given states,
// with the same validation as a file, in constant memory, and no need for
// the original file.
func openLedgerRows(ctx context.Context, store *checkpoint.Store, states []checkpoint.State, opts ingest.Options) (*ingest.Input, error) {
	s := &ledgerRows{entries: make(chan checkpoint.Entry, 64), done: make(chan struct{})}
	go s.scan(ctx, store, states)
	// Only the row rules apply: the checkpoint keeps values normalised
	// (dates in the API's form), so the file's reading options do not.
	r, err := ingest.NewRowReader(s.next, ingest.Options{Now: opts.Now, Required: opts.Required, DocumentTypes: opts.DocumentTypes})
	if err != nil {
		s.Close()
		return nil, err
	}
	return ingest.InputOf(r, s), nil
}

// ledgerRows streams checkpoint entries to a row reader: the checkpoint's
// scan pushes, the reader pulls.
type ledgerRows struct {
	entries chan checkpoint.Entry
	done    chan struct{} // closed by Close: the scan stops
	once    sync.Once
	err     error // the scan's error, read after entries is closed
}

var errScanStopped = errors.New("stopped")

func (s *ledgerRows) scan(ctx context.Context, store *checkpoint.Store, states []checkpoint.State) {
	defer close(s.entries)
	err := store.Scan(ctx, checkpoint.Filter{States: states}, func(e checkpoint.Entry) error {
		select {
		case s.entries <- e:
			return nil
		case <-s.done:
			return errScanStopped
		}
	})
	if !errors.Is(err, errScanStopped) {
		s.err = err
	}
}

func (s *ledgerRows) next() ([]string, int, error) {
	e, ok := <-s.entries
	if !ok {
		if s.err != nil {
			return nil, 0, s.err
		}
		return nil, 0, io.EOF
	}
	return EntryValues(e), e.Line, nil
}

// Close stops the scan.
func (s *ledgerRows) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}
