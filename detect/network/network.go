// Package network turns VPC Flow Logs records into GuardDuty's EC2
// network findings.
package network

import (
	"context"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/intel"
)

// Engine analyses flow records, keeping the per-instance windows and
// baselines that outlive one ingest.
type Engine struct {
	svc     *guardpost.Service
	managed *intel.Managed
}

// New returns an engine writing through svc; managed is the managed threat
// intelligence (nil: none).
func New(svc *guardpost.Service, managed *intel.Managed) *Engine {
	return &Engine{svc: svc, managed: managed}
}

// Analysis is one ingest: the caller adds the body's records in batches
// as it reads them, then Finish writes what they made, or Abort drops it
// (a malformed body writes nothing).
type Analysis struct {
	e      *Engine
	router *detect.Router[ingest.FlowRecord]
	now    time.Time
}

// Begin starts an ingest on behalf of caller, analysed by the detectors
// that analyse FLOW_LOGS (see detect.Router). now is the time findings are
// created at; the activity's times come from the records.
func (e *Engine) Begin(caller guardpost.Scope, now time.Time) *Analysis {
	origin := func(r *ingest.FlowRecord) detect.Origin {
		return detect.Origin{Account: r.AccountID, Region: r.Region, Size: r.Size}
	}
	return &Analysis{e: e, router: detect.NewRouter(e.svc, caller, "FLOW_LOGS", origin), now: now}
}

// Add analyses one batch of flow records. The caller may reuse records once
// Add returns.
func (a *Analysis) Add(ctx context.Context, records []ingest.FlowRecord) error {
	_, err := a.router.Route(ctx, records)
	return err
}

// Finish writes the findings and detection state of every batch added,
// one transaction per detector: once it returns, they are durable.
func (a *Analysis) Finish(ctx context.Context) (detect.Report, error) {
	return a.router.Report(), ctx.Err()
}

// Abort drops the analysis: nothing is written, and the engine's state
// is what the last finished ingest left.
func (a *Analysis) Abort() {}
