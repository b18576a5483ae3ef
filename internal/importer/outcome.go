package importer

import (
	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/ingest"
)

// Outcome is how one row of one run ended. Every row read ends in exactly
// one outcome.
type Outcome string

// The outcomes, as docs/design.md defines them.
const (
	Created  Outcome = "created"  // 201: created by this run
	Exists   Outcome = "exists"   // P411: the user was already in P100
	Skipped  Outcome = "skipped"  // done in an earlier run; not sent
	Invalid  Outcome = "invalid"  // refused locally; never sent
	Rejected Outcome = "rejected" // refused by the API; permanent
	Failed   Outcome = "failed"   // transient errors outlasted the retries, or the run stopped first
)

// Outcomes lists every outcome in report order.
var Outcomes = []Outcome{Created, Exists, Skipped, Invalid, Rejected, Failed}

// Succeeded reports whether the user exists in P100 after this row.
func (o Outcome) Succeeded() bool { return o == Created || o == Exists || o == Skipped }

// Codes the importer gives to rows that carry no API error code.
const (
	CodeInvalid = "INVALID" // local validation
)

// RowResult is a row's outcome, handed to Config.OnRow once it is committed
// to the checkpoint.
type RowResult struct {
	Record    *ingest.Record
	Outcome   Outcome
	Changed   bool   // skipped, but its content differs from what was created
	Recovered bool   // exists, and its userId was recovered by a lookup
	UserID    string // P100 userId, when known
	Balances  map[string]string
	Code      string // P100 errorCode or one of the Code* values
	Message   string // why, in words
	Attempts  int    // requests sent for this row in this run

	unchanged bool          // settled from the ledger without a request: nothing to write back
	hadData   bool          // the ledger kept this row's fields (it had not succeeded before)
	durable   chan struct{} // if set, closed by the recorder once the outcome is committed
}

// ledgerState maps an outcome to the state the checkpoint keeps; ok is
// false for outcomes that do not change the ledger.
func (r *RowResult) ledgerState() (checkpoint.State, bool) {
	if r.unchanged {
		return "", false
	}
	switch r.Outcome {
	case Created:
		return checkpoint.Created, true
	case Exists:
		return checkpoint.Exists, true
	case Rejected:
		return checkpoint.Rejected, true
	case Failed:
		return checkpoint.Failed, true
	case Invalid:
		// A duplicate row shares its key with the first row: the ledger
		// entry is the first row's. Rows without an id have no key.
		return checkpoint.Invalid, r.Record.DupOf == 0 && r.Record.User.ExternalUserID != ""
	}
	return "", false
}

// outcome is what the ledger keeps of a result; ok is false for results
// that do not change the ledger.
func (r *RowResult) outcome() (checkpoint.Outcome, bool) {
	state, ok := r.ledgerState()
	if !ok {
		return checkpoint.Outcome{}, false
	}
	o := checkpoint.Outcome{
		ExternalUserID: r.Record.User.ExternalUserID,
		State:          state,
		ContentHash:    r.Record.Hash(),
		UserID:         r.UserID,
		Balances:       r.Balances,
		Line:           r.Record.Line,
		ErrorCode:      r.Code,
		ErrorMessage:   r.Message,
		Attempts:       r.Attempts,
	}
	if !state.Succeeded() {
		o.RowData = r.Record.User.MarshalFields()
	}
	return o, true
}
