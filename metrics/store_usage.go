package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guardpost/guardpost"
)

// usageObservers time the usage and coverage methods of the store.
type usageObservers struct {
	addUsage, usage, observeResources, coveredResources prometheus.Observer
}

func newUsageObservers(o func(string) prometheus.Observer) usageObservers {
	return usageObservers{addUsage: o("AddUsage"), usage: o("Usage"), observeResources: o("ObserveResources"), coveredResources: o("CoveredResources")}
}

func (s *store) AddUsage(ctx context.Context, scope guardpost.Scope, detectorID string, day time.Time, usage []guardpost.UsageRecord) error {
	defer observe(s.usage.addUsage, time.Now())
	return s.next.AddUsage(ctx, scope, detectorID, day, usage)
}

func (s *store) Usage(ctx context.Context, region string, detectors []guardpost.DetectorRef, since time.Time) ([]guardpost.UsageTotal, error) {
	defer observe(s.usage.usage, time.Now())
	return s.next.Usage(ctx, region, detectors, since)
}

func (s *store) ObserveResources(ctx context.Context, scope guardpost.Scope, detectorID string, rs []guardpost.ObservedResource) error {
	defer observe(s.usage.observeResources, time.Now())
	return s.next.ObserveResources(ctx, scope, detectorID, rs)
}

func (s *store) CoveredResources(ctx context.Context, region string, detectors []guardpost.DetectorRef) ([]*guardpost.CoveredResource, error) {
	defer observe(s.usage.coveredResources, time.Now())
	return s.next.CoveredResources(ctx, region, detectors)
}
