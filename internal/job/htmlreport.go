package job

import (
	"context"
	"encoding/json"

	"github.com/p100/p100-importer/internal/checkpoint"
	"github.com/p100/p100-importer/internal/htmlreport"
	"github.com/p100/p100-importer/internal/importer"
	"github.com/p100/p100-importer/internal/p100"
)

// htmlReport keeps with the run in the checkpoint what its HTML report
// needs (the timeline, the first lines of each error code, the version and
// the API's host), then writes the report if asked, from the checkpoint as
// `importer status --html` does. Called once the run's end is recorded,
// also for a stopped run; failures are logged: the run itself is over.
func (o *Options) htmlReport(ctx context.Context, store *checkpoint.Store, sum *importer.Summary, lines *htmlreport.Collector) {
	ctx = context.WithoutCancel(ctx)
	base := o.Client.BaseURL
	if base == "" {
		base = p100.StagingURL
	}
	rec := htmlreport.Record{Version: o.Version, BaseHost: htmlreport.Host(base), Timeline: sum.Timeline, NotImported: lines.List()}
	data, err := json.Marshal(rec)
	if err == nil {
		err = store.SetRunReport(ctx, sum.RunID, data)
	}
	if err != nil {
		o.Log.Error("report data not recorded in the checkpoint: importer status --html cannot redraw this run", "err", err)
	}
	if o.HTMLReport == "" {
		return
	}
	rep, err := htmlreport.Load(ctx, store, sum.RunID, o.ExitMeaning)
	if err != nil {
		// The checkpoint could not give the run back (its end was not
		// recorded): the report is drawn from the run itself, without
		// the runs before it.
		o.Log.Warn("HTML report drawn without the checkpoint's history", "err", err)
		rep = &htmlreport.Report{Summary: *sum, Record: rec}
		if o.ExitMeaning != nil {
			rep.ExitMeaning = o.ExitMeaning(sum.ExitCode)
		}
	}
	err = htmlreport.WriteFile(o.HTMLReport, rep)
	if err != nil {
		o.Log.Error("HTML report not written", "file", o.HTMLReport, "err", err)
	}
}
