// Package dnsquery turns Route 53 Resolver query logs into GuardDuty's
// EC2 DNS findings.
package dnsquery

import (
	"context"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/intel"
)

// Engine analyses query logs, keeping the windows that outlive one
// ingest.
type Engine struct {
	svc     *guardpost.Service
	managed *intel.Managed
}

// New returns an engine writing through svc; managed is the managed threat
// intelligence (nil: none).
func New(svc *guardpost.Service, managed *intel.Managed) *Engine {
	return &Engine{svc: svc, managed: managed}
}

// Ingest analyses queries on behalf of caller with the detectors that
// analyse DNS_LOGS (see detect.Route) and writes their findings.
func (e *Engine) Ingest(ctx context.Context, caller guardpost.Scope, queries []ingest.DNSQuery, now time.Time) (detect.Report, error) {
	_, rep, err := detect.Route(ctx, e.svc, caller, "DNS_LOGS", queries, func(q *ingest.DNSQuery) detect.Origin {
		return detect.Origin{Account: q.AccountID, Region: q.Region, Size: q.Size}
	})
	return rep, err
}
