package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guardpost/guardpost"
)

// Store wraps next so that every call is timed in
// guardpost_store_duration_seconds{method}. The methods are written out
// rather than promoted from an embedded Store, so that a method added to
// the interface fails the build here instead of going untimed.
func (m *Metrics) Store(next guardpost.Store) guardpost.Store {
	o := func(method string) prometheus.Observer { return m.storeDuration.WithLabelValues(method) }
	return &store{next: next,
		insertDetector: o("InsertDetector"), detector: o("Detector"), findingsMark: o("FindingsMark"), detectors: o("Detectors"),
		updateDetector: o("UpdateDetector"), deleteDetector: o("DeleteDetector"),
		mergeFindings: o("MergeFindings"), findings: o("Findings"), listFindings: o("ListFindings"),
		updateFindings: o("UpdateFindings"), findingStatistics: o("FindingStatistics"),
		createFilter: o("CreateFilter"), filter: o("Filter"), filters: o("Filters"),
		updateFilter: o("UpdateFilter"), deleteFilter: o("DeleteFilter"),
		updateTags: o("UpdateTags"), findingChanges: o("FindingChanges"), tokenKey: o("TokenKey"),
		memberships: o("Memberships"), membershipsOf: o("MembershipsOf"), invitations: o("Invitations"),
		changeMemberships: o("ChangeMemberships"),
		createThreatList:  o("CreateThreatList"), threatList: o("ThreatList"), threatLists: o("ThreatLists"),
		updateThreatList: o("UpdateThreatList"), finishThreatList: o("FinishThreatList"),
		threatListEntries: o("ThreatListEntries"), unsettledThreatLists: o("UnsettledThreatLists"),
		organizationConfigs: o("OrganizationConfigs"), changeOrganization: o("ChangeOrganization"),
		mergeDetections: o("MergeDetections"), detectionState: o("DetectionState"), evidence: o("Evidence"),
		usage: newUsageObservers(o),
	}
}

var _ guardpost.Store = (*store)(nil)

// store holds one observer per method, looked up once: a call costs a
// clock read and a histogram update, no label hashing.
type store struct {
	next guardpost.Store

	insertDetector, detector, findingsMark, detectors                        prometheus.Observer
	updateDetector, deleteDetector                                           prometheus.Observer
	mergeFindings, findings, listFindings, updateFindings, findingStatistics prometheus.Observer
	createFilter, filter, filters, updateFilter, deleteFilter                prometheus.Observer
	updateTags, findingChanges, tokenKey                                     prometheus.Observer
	memberships, membershipsOf, invitations, changeMemberships               prometheus.Observer
	createThreatList, threatList, threatLists, updateThreatList              prometheus.Observer
	finishThreatList, threatListEntries, unsettledThreatLists                prometheus.Observer
	organizationConfigs, changeOrganization                                  prometheus.Observer
	mergeDetections, detectionState, evidence                                prometheus.Observer
	usage                                                                    usageObservers
}

func (s *store) CreateThreatList(ctx context.Context, scope guardpost.Scope, detectorID string, kind guardpost.ThreatListKind, decide func([]*guardpost.ThreatList) (*guardpost.ThreatList, error)) error {
	defer observe(s.createThreatList, time.Now())
	return s.next.CreateThreatList(ctx, scope, detectorID, kind, decide)
}

func (s *store) ThreatList(ctx context.Context, scope guardpost.Scope, detectorID string, kind guardpost.ThreatListKind, id string) (*guardpost.ThreatList, error) {
	defer observe(s.threatList, time.Now())
	return s.next.ThreatList(ctx, scope, detectorID, kind, id)
}

func (s *store) ThreatLists(ctx context.Context, scope guardpost.Scope, detectorID string, kind guardpost.ThreatListKind, after string, limit int) ([]*guardpost.ThreatList, error) {
	defer observe(s.threatLists, time.Now())
	return s.next.ThreatLists(ctx, scope, detectorID, kind, after, limit)
}

func (s *store) UpdateThreatList(ctx context.Context, scope guardpost.Scope, detectorID string, kind guardpost.ThreatListKind, id string, update func(*guardpost.ThreatList) error) error {
	defer observe(s.updateThreatList, time.Now())
	return s.next.UpdateThreatList(ctx, scope, detectorID, kind, id, update)
}

func (s *store) FinishThreatList(ctx context.Context, l *guardpost.ThreatList, entries []string) (bool, error) {
	defer observe(s.finishThreatList, time.Now())
	return s.next.FinishThreatList(ctx, l, entries)
}

func (s *store) ThreatListEntries(ctx context.Context, l *guardpost.ThreatList) ([]string, error) {
	defer observe(s.threatListEntries, time.Now())
	return s.next.ThreatListEntries(ctx, l)
}

func (s *store) UnsettledThreatLists(ctx context.Context) ([]*guardpost.ThreatList, error) {
	defer observe(s.unsettledThreatLists, time.Now())
	return s.next.UnsettledThreatLists(ctx)
}

func observe(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

func (s *store) InsertDetector(ctx context.Context, d *guardpost.Detector) error {
	defer observe(s.insertDetector, time.Now())
	return s.next.InsertDetector(ctx, d)
}

func (s *store) Detector(ctx context.Context, scope guardpost.Scope, id string) (*guardpost.Detector, error) {
	defer observe(s.detector, time.Now())
	return s.next.Detector(ctx, scope, id)
}

func (s *store) FindingsMark(ctx context.Context, scope guardpost.Scope, id string) (guardpost.FindingsMark, error) {
	defer observe(s.findingsMark, time.Now())
	return s.next.FindingsMark(ctx, scope, id)
}

func (s *store) Detectors(ctx context.Context, scope guardpost.Scope, after string, limit int) ([]*guardpost.Detector, error) {
	defer observe(s.detectors, time.Now())
	return s.next.Detectors(ctx, scope, after, limit)
}

func (s *store) UpdateDetector(ctx context.Context, scope guardpost.Scope, id string, update func(*guardpost.Detector) error) error {
	defer observe(s.updateDetector, time.Now())
	return s.next.UpdateDetector(ctx, scope, id, update)
}

func (s *store) DeleteDetector(ctx context.Context, scope guardpost.Scope, id string) error {
	defer observe(s.deleteDetector, time.Now())
	return s.next.DeleteDetector(ctx, scope, id)
}

func (s *store) MergeFindings(ctx context.Context, scope guardpost.Scope, detectorID string, findings []*guardpost.Finding, newMerge func(filters []*guardpost.Filter) guardpost.MergeFunc) ([]guardpost.FindingChange, error) {
	defer observe(s.mergeFindings, time.Now())
	return s.next.MergeFindings(ctx, scope, detectorID, findings, newMerge)
}

func (s *store) MergeDetections(ctx context.Context, scope guardpost.Scope, detectorID string, findings []*guardpost.Finding, state map[string][]byte, newMerge func(filters []*guardpost.Filter) guardpost.MergeFunc) ([]guardpost.FindingChange, error) {
	defer observe(s.mergeDetections, time.Now())
	return s.next.MergeDetections(ctx, scope, detectorID, findings, state, newMerge)
}

func (s *store) DetectionState(ctx context.Context, scope guardpost.Scope, detectorID, name string) ([]byte, error) {
	defer observe(s.detectionState, time.Now())
	return s.next.DetectionState(ctx, scope, detectorID, name)
}

func (s *store) Evidence(ctx context.Context, scope guardpost.Scope, detectorID, findingID string) (guardpost.Evidence, error) {
	defer observe(s.evidence, time.Now())
	return s.next.Evidence(ctx, scope, detectorID, findingID)
}

func (s *store) Findings(ctx context.Context, vis guardpost.Visibility, ids []string) ([]*guardpost.Finding, error) {
	defer observe(s.findings, time.Now())
	return s.next.Findings(ctx, vis, ids)
}

func (s *store) ListFindings(ctx context.Context, vis guardpost.Visibility, q guardpost.FindingQuery) ([]guardpost.FindingCursor, error) {
	defer observe(s.listFindings, time.Now())
	return s.next.ListFindings(ctx, vis, q)
}

func (s *store) UpdateFindings(ctx context.Context, vis guardpost.Visibility, ids []string, update func(*guardpost.Finding) (*guardpost.Finding, error)) ([]guardpost.FindingChange, error) {
	defer observe(s.updateFindings, time.Now())
	return s.next.UpdateFindings(ctx, vis, ids, update)
}

func (s *store) FindingStatistics(ctx context.Context, vis guardpost.Visibility, where []guardpost.Criterion, group guardpost.StatGroup) ([]guardpost.StatRow, error) {
	defer observe(s.findingStatistics, time.Now())
	return s.next.FindingStatistics(ctx, vis, where, group)
}

func (s *store) CreateFilter(ctx context.Context, scope guardpost.Scope, detectorID string, decide func(existing []*guardpost.Filter) (*guardpost.Filter, error)) error {
	defer observe(s.createFilter, time.Now())
	return s.next.CreateFilter(ctx, scope, detectorID, decide)
}

func (s *store) Filter(ctx context.Context, scope guardpost.Scope, detectorID, name string) (*guardpost.Filter, error) {
	defer observe(s.filter, time.Now())
	return s.next.Filter(ctx, scope, detectorID, name)
}

func (s *store) Filters(ctx context.Context, scope guardpost.Scope, detectorID, after string, limit int) ([]*guardpost.Filter, error) {
	defer observe(s.filters, time.Now())
	return s.next.Filters(ctx, scope, detectorID, after, limit)
}

func (s *store) UpdateFilter(ctx context.Context, scope guardpost.Scope, detectorID, name string, update func(*guardpost.Filter) error) error {
	defer observe(s.updateFilter, time.Now())
	return s.next.UpdateFilter(ctx, scope, detectorID, name, update)
}

func (s *store) DeleteFilter(ctx context.Context, scope guardpost.Scope, detectorID, name string) error {
	defer observe(s.deleteFilter, time.Now())
	return s.next.DeleteFilter(ctx, scope, detectorID, name)
}

func (s *store) UpdateTags(ctx context.Context, scope guardpost.Scope, r guardpost.Resource, update func(tags map[string]string) (map[string]string, error)) error {
	defer observe(s.updateTags, time.Now())
	return s.next.UpdateTags(ctx, scope, r, update)
}

func (s *store) FindingChanges(ctx context.Context, after int64, limit int) ([]guardpost.FindingChange, error) {
	defer observe(s.findingChanges, time.Now())
	return s.next.FindingChanges(ctx, after, limit)
}

func (s *store) TokenKey(ctx context.Context) ([]byte, error) {
	defer observe(s.tokenKey, time.Now())
	return s.next.TokenKey(ctx)
}

// Close is not timed: it happens once.
func (s *store) Close() error { return s.next.Close() }

func (s *store) Memberships(ctx context.Context, admin guardpost.Scope, after string, limit int, associatedOnly bool) ([]*guardpost.Membership, error) {
	defer observe(s.memberships, time.Now())
	return s.next.Memberships(ctx, admin, after, limit, associatedOnly)
}

func (s *store) MembershipsOf(ctx context.Context, admin guardpost.Scope, accountIDs []string) ([]*guardpost.Membership, error) {
	defer observe(s.membershipsOf, time.Now())
	return s.next.MembershipsOf(ctx, admin, accountIDs)
}

func (s *store) Invitations(ctx context.Context, member guardpost.Scope, after string, limit int) ([]*guardpost.Membership, error) {
	defer observe(s.invitations, time.Now())
	return s.next.Invitations(ctx, member, after, limit)
}

func (s *store) ChangeMemberships(ctx context.Context, c guardpost.MembershipChange, change func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error)) error {
	defer observe(s.changeMemberships, time.Now())
	return s.next.ChangeMemberships(ctx, c, change)
}

func (s *store) OrganizationConfigs(ctx context.Context, organizationID string) ([]*guardpost.OrganizationConfig, error) {
	defer observe(s.organizationConfigs, time.Now())
	return s.next.OrganizationConfigs(ctx, organizationID)
}

func (s *store) ChangeOrganization(ctx context.Context, organizationID, region string, change func(current *guardpost.OrganizationConfig) (*guardpost.OrganizationConfig, error)) error {
	defer observe(s.changeOrganization, time.Now())
	return s.next.ChangeOrganization(ctx, organizationID, region, change)
}
