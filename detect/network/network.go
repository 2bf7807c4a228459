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

// Ingest analyses records on behalf of caller with the detectors that
// analyse FLOW_LOGS (see detect.Route) and writes their findings.
func (e *Engine) Ingest(ctx context.Context, caller guardpost.Scope, records []ingest.FlowRecord, now time.Time) (detect.Report, error) {
	_, rep, err := detect.Route(ctx, e.svc, caller, "FLOW_LOGS", records, func(r *ingest.FlowRecord) detect.Origin {
		return detect.Origin{Account: r.AccountID, Region: r.Region, Size: r.Size}
	})
	return rep, err
}
