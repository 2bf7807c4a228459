package detect

import (
	"context"
	"strings"
	"time"

	"github.com/guardpost/guardpost"
)

// Usage gathers, for one ingest, the records each detector analysed by
// the resource they are about (an instance, or an interface when no
// instance is known; "" for records about none), and the instances they
// named with the time of the latest record: what usage statistics
// (SUM_BY_RESOURCE, TOP_RESOURCES) and coverage report. The records of a
// detector add up to its Analysed totals.
type Usage struct {
	Feature string // the data source: "FLOW_LOGS", "DNS_LOGS"
	tally   guardpost.UsageTally
	last    usageLast // the previous record's key and count, as records of one resource come in runs
}

type usageLast struct {
	scope      guardpost.Scope
	detectorID string
	resource   string
	records    int64
	bytes      int64
	seen       time.Time
}

// Add counts one record of size bytes, about resource, at its event time.
func (u *Usage) Add(scope guardpost.Scope, detectorID, resource string, size int, at time.Time) {
	l := &u.last
	if l.records > 0 && (l.resource != resource || l.detectorID != detectorID || l.scope != scope) {
		u.flush()
	}
	l.scope, l.detectorID, l.resource = scope, detectorID, resource
	l.records++
	l.bytes += int64(size)
	if at.After(l.seen) {
		l.seen = at
	}
}

// flush folds the current run into the tally.
func (u *Usage) flush() {
	l := &u.last
	if l.records == 0 {
		return
	}
	u.tally.Add(l.scope, l.detectorID, u.Feature, l.resource, l.records, l.bytes)
	if strings.HasPrefix(l.resource, "i-") {
		u.tally.Observe(l.scope, l.detectorID, guardpost.ObservedResource{Type: guardpost.CoverageEC2, ID: l.resource, LastSeen: l.seen})
	}
	*l = usageLast{}
}

// Record writes the usage and the resources seen, dated at (see
// guardpost.UsageTally.Record).
func (u *Usage) Record(ctx context.Context, svc *guardpost.Service, at time.Time) error {
	u.flush()
	return u.tally.Record(ctx, svc, at)
}
