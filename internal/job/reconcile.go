package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/ratelimit"
	"github.com/p100/p100-importer/internal/runlock"
)

// ReconcileOptions are the settings of `importer reconcile`.
type ReconcileOptions struct {
	Checkpoint  string
	Client      p100.Config
	Rate        float64
	Burst       int
	Workers     int
	MaxAttempts int
	Log         *slog.Logger
	Now         func() time.Time
}

// ReconcileResult says what became of the rows in doubt.
type ReconcileResult struct {
	InDoubt   int `json:"in_doubt"`   // rows in flight, and created/exists rows without userId
	Found     int `json:"found"`      // P100 has the user: recorded as exists (or its userId recorded)
	NotThere  int `json:"not_there"`  // P100 has no such user: safe to send again
	NeedInput int `json:"need_input"` // of NotThere: their fields are not in the checkpoint; the next run with the input sends them
	Unsettled int `json:"unsettled"`  // no clear answer (errors): still in doubt
}

// doubt is one row in doubt.
type doubt struct {
	id      string
	state   checkpoint.State
	hasData bool
	line    int
}

// Reconcile looks up in P100 (GET, through the limiter) every row in
// flight and every succeeded row without a userId, and records what P100
// says: exists with its userId, or not there (back to failed when its
// fields are in the checkpoint, else to new: the next run with the input
// sends it).
func Reconcile(ctx context.Context, o ReconcileOptions) (ReconcileResult, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	o.Workers = AutoWorkers(o.Workers, o.Rate)
	o.MaxAttempts = max(o.MaxAttempts, 1)
	o.Client.MaxConns = o.Workers
	client, err := p100.New(o.Client)
	if err != nil {
		return ReconcileResult{}, &ConfigError{err}
	}
	defer client.CloseIdleConnections()
	lock, err := runlock.AcquireCheckpoint(o.Checkpoint, "reconcile", o.Now())
	if err != nil {
		var held *runlock.HeldError
		if errors.As(err, &held) {
			return ReconcileResult{}, &ConfigError{err}
		}
		return ReconcileResult{}, &importer.CheckpointError{Err: err}
	}
	defer lock.Release()
	store, err := checkpoint.Open(ctx, o.Checkpoint, checkpoint.Options{Now: o.Now})
	if err != nil {
		return ReconcileResult{}, &importer.CheckpointError{Err: fmt.Errorf("open checkpoint %s: %w", o.Checkpoint, err)}
	}
	defer store.Close()

	var doubts []doubt
	err = store.Scan(ctx, checkpoint.Filter{States: []checkpoint.State{checkpoint.InFlight, checkpoint.Created, checkpoint.Exists}},
		func(e checkpoint.Entry) error {
			if e.State == checkpoint.InFlight || e.UserID == "" {
				doubts = append(doubts, doubt{id: e.ExternalUserID, state: e.State, hasData: len(e.RowData) > 0, line: e.Line})
			}
			return nil
		})
	if err != nil {
		return ReconcileResult{}, &importer.CheckpointError{Err: err}
	}
	res := ReconcileResult{InDoubt: len(doubts)}
	if len(doubts) == 0 {
		return res, nil
	}
	runID, err := store.BeginRun(ctx, "reconcile", "(checkpoint: rows in doubt)")
	if err != nil {
		return res, &importer.CheckpointError{Err: err}
	}
	ids := make([]string, len(doubts))
	for i, d := range doubts {
		ids[i] = d.id
	}
	known, err := store.Lookup(ctx, ids)
	if err != nil {
		return res, &importer.CheckpointError{Err: err}
	}

	limiter := ratelimit.New(ratelimit.Config{Rate: o.Rate, Burst: max(o.Burst, 1)})
	var (
		mu       sync.Mutex
		outcomes []checkpoint.Outcome
		releases []checkpoint.Release
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for _, d := range doubts {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			user, err := lookUpWithRetry(gctx, client, limiter, d.id, o.MaxAttempts)
			mu.Lock()
			defer mu.Unlock()
			k := known[d.id]
			switch {
			case err == nil:
				state := d.state
				if state == checkpoint.InFlight {
					state = checkpoint.Exists
				}
				res.Found++
				outcomes = append(outcomes, checkpoint.Outcome{ExternalUserID: d.id, State: state, ContentHash: k.ContentHash,
					UserID: user.UserID, Balances: user.BalanceIDs(), Line: d.line})
			case errors.Is(err, p100.ErrNotFound) && d.state == checkpoint.InFlight:
				res.NotThere++
				if d.hasData {
					releases = append(releases, checkpoint.Release{ExternalUserID: d.id,
						Prev: &checkpoint.Known{State: checkpoint.Failed, ContentHash: k.ContentHash}})
				} else {
					res.NeedInput++
					releases = append(releases, checkpoint.Release{ExternalUserID: d.id})
				}
			default:
				res.Unsettled++
				var apiErr *p100.Error
				if errors.As(err, &apiErr) && (apiErr.Class == p100.Fatal || apiErr.Class == p100.OffScript) {
					return &importer.FatalAPIError{Err: apiErr}
				}
				o.Log.Info("row still in doubt", "line", d.line, "externalUserId", p100.Sanitize(d.id, 100), "err", p100.Sanitize(err.Error(), 200))
			}
			return nil
		})
	}
	runErr := g.Wait()
	wctx := context.WithoutCancel(ctx)
	if err := store.Write(wctx, runID, nil, outcomes); err != nil {
		return res, &importer.CheckpointError{Err: err}
	}
	if err := store.Unmark(wctx, releases); err != nil {
		return res, &importer.CheckpointError{Err: err}
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = importer.ErrInterrupted
	}
	exit := 0
	if runErr != nil || res.Unsettled > 0 {
		exit = 1
	}
	summary, _ := json.Marshal(res)
	if err := store.FinishRun(wctx, runID, exit, "", summary); err != nil {
		o.Log.Error("reconcile end not recorded in the checkpoint", "err", err)
	}
	return res, runErr
}

// lookUpWithRetry asks P100 for one user, retrying transient failures with
// backoff through the limiter; P100's "not found" is final.
func lookUpWithRetry(ctx context.Context, c *p100.Client, l *ratelimit.Limiter, id string, attempts int) (*p100.User, error) {
	var last error
	for attempt := 1; attempt <= attempts; attempt++ {
		if err := l.Wait(ctx); err != nil {
			return nil, err
		}
		user, err := c.GetUser(ctx, id)
		if err == nil {
			l.Succeeded()
			return user, nil
		}
		last = err
		if errors.Is(err, p100.ErrNotFound) || p100.ClassOf(err) != p100.Transient {
			return nil, err
		}
		var apiErr *p100.Error
		if errors.As(err, &apiErr) && apiErr.Status == 429 {
			d, _ := ratelimit.ParseRetryAfter(apiErr.RetryAfter, time.Now())
			l.Throttled(d)
		}
		t := time.NewTimer(ratelimit.Backoff(attempt, 250*time.Millisecond, 10*time.Second, 0.5))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	return nil, last
}
