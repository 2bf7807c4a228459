package guardpost

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The resource types coverage reports.
const (
	CoverageEC2 = "EC2"
	CoverageEKS = "EKS"
	CoverageECS = "ECS"
)

// The coverage statuses.
const (
	CoverageHealthy   = "HEALTHY"
	CoverageUnhealthy = "UNHEALTHY"
)

// CoverageStale is how long a resource stays HEALTHY after the last
// analysed log record that named it.
const CoverageStale = 24 * time.Hour

// ObservedResource is a resource an analysed log named: an instance that
// sent or received flows or DNS queries or made API calls, or an EKS
// cluster.
type ObservedResource struct {
	Type         string // CoverageEC2 or CoverageEKS
	ID           string // instance id, or the cluster's name
	InstanceType string // EC2, when the log says
	// ClusterName is, for an instance, the EKS cluster it is a node of,
	// when the log says.
	ClusterName string
	// LastSeen is the time of the latest record that named it (the
	// record's own time, not the ingest's).
	LastSeen time.Time
}

// CoveredResource is a resource a detector has observed.
type CoveredResource struct {
	AccountID  string
	DetectorID string
	ObservedResource
}

// CoverageStore keeps the resources detectors observed.
type CoverageStore interface {
	// ObserveResources records the resources for the detector, one row
	// per (type, id): a known resource keeps the later LastSeen, and its
	// instance type and cluster unless the new observation names them.
	// One transaction; ENOTFOUND when the detector does not exist.
	ObserveResources(ctx context.Context, scope Scope, detectorID string, rs []ObservedResource) error
	// CoveredResources returns the resources of the detectors of region,
	// in no particular order.
	CoveredResources(ctx context.Context, region string, detectors []DetectorRef) ([]*CoveredResource, error)
}

// ObserveResources records that analysed logs named the resources (see
// ObservedResource); the ingest paths call it after a successful ingest.
// Several observations of one resource become one.
func (s *Service) ObserveResources(ctx context.Context, scope Scope, detectorID string, rs []ObservedResource) error {
	type key struct{ typ, id string }
	index := map[key]int{}
	var merged []ObservedResource
	for _, r := range rs {
		if r.ID == "" {
			continue
		}
		if r.Type != CoverageEC2 && r.Type != CoverageEKS && r.Type != CoverageECS {
			return Errorf(EINVALID, "resource %s has type %q: coverage knows EC2, EKS and ECS", r.ID, r.Type)
		}
		k := key{r.Type, r.ID}
		i, ok := index[k]
		if !ok {
			index[k] = len(merged)
			merged = append(merged, r)
			continue
		}
		m := &merged[i]
		m.LastSeen = later(m.LastSeen, r.LastSeen)
		m.InstanceType = cmp.Or(r.InstanceType, m.InstanceType)
		m.ClusterName = cmp.Or(r.ClusterName, m.ClusterName)
	}
	if len(merged) == 0 {
		return nil
	}
	return s.Store.ObserveResources(ctx, scope, detectorID, merged)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Coverage is a covered resource as the API reports it.
type Coverage struct {
	*CoveredResource
	Status string
	Issue  string // why it is UNHEALTHY
}

// coverageOf decides a resource's status: HEALTHY while analysed logs
// keep naming it, UNHEALTHY once none has for coverageStale (an instance
// stopped, or whose logs no longer reach guardpost).
func coverageOf(r *CoveredResource, now time.Time) Coverage {
	if now.Sub(r.LastSeen) <= CoverageStale {
		return Coverage{CoveredResource: r, Status: CoverageHealthy}
	}
	return Coverage{CoveredResource: r, Status: CoverageUnhealthy,
		Issue: fmt.Sprintf("No analysed log has named this resource since %s (more than 24 hours ago): check that its logs still reach guardpost.",
			r.LastSeen.UTC().Format(time.RFC3339))}
}

// CoverageCriterion is one filterCriterion of ListCoverage and
// GetCoverageStatistics: the resource's value of Key must be one of
// Equals (when given) and none of NotEquals.
type CoverageCriterion struct {
	Key       string
	Equals    []string
	NotEquals []string
}

// coverageValue is the value a filter or sort key has for a resource; the
// keys of agents, add-ons and ECS are always "" (guardpost runs no agent).
func coverageValue(c Coverage, key string) string {
	switch key {
	case "ACCOUNT_ID":
		return c.AccountID
	case "RESOURCE_TYPE":
		return c.Type
	case "COVERAGE_STATUS":
		return c.Status
	case "ISSUE":
		return c.Issue
	case "INSTANCE_ID":
		if c.Type == CoverageEC2 {
			return c.ID
		}
	case "CLUSTER_NAME", "EKS_CLUSTER_NAME":
		if c.Type == CoverageEKS {
			return c.ID
		}
		return c.ClusterName
	case "UPDATED_AT":
		// Fixed width, so that text order is time order.
		return fmt.Sprintf("%020d", c.LastSeen.UnixMilli())
	}
	return ""
}

// checkCoverageCriteria rejects criteria without a key or a condition,
// and values a key can never have (an unknown status or resource type, an
// account id that is not 12 digits).
func checkCoverageCriteria(criteria []CoverageCriterion) error {
	valid := map[string][]string{
		"RESOURCE_TYPE":   {CoverageEC2, CoverageEKS, CoverageECS},
		"COVERAGE_STATUS": {CoverageHealthy, CoverageUnhealthy},
		"MANAGEMENT_TYPE": {"AUTO_MANAGED", "MANUAL", "DISABLED"},
	}
	for _, c := range criteria {
		if c.Key == "" {
			return Errorf(EINVALID, "The request is rejected because a filterCriterion has no criterionKey: name the attribute to filter on.")
		}
		if len(c.Equals) == 0 && len(c.NotEquals) == 0 {
			return Errorf(EINVALID, "The request is rejected because the filterCriterion on %s has no condition: give filterCondition.equals or filterCondition.notEquals values.", c.Key)
		}
		for _, v := range slices.Concat(c.Equals, c.NotEquals) {
			if allowed, ok := valid[c.Key]; ok && !slices.Contains(allowed, v) {
				return Errorf(EINVALID, "The request is rejected because %q is not a valid %s: use one of %s.", v, c.Key, strings.Join(allowed, ", "))
			}
			if c.Key == "ACCOUNT_ID" && !validAccountID(v) {
				return Errorf(EINVALID, "The request is rejected because %q is not an account id: ACCOUNT_ID values are 12 digits.", v)
			}
		}
	}
	return nil
}

func matchCoverage(c Coverage, criteria []CoverageCriterion) bool {
	for _, cr := range criteria {
		v := coverageValue(c, cr.Key)
		if len(cr.Equals) > 0 && !slices.Contains(cr.Equals, v) {
			return false
		}
		if slices.Contains(cr.NotEquals, v) {
			return false
		}
	}
	return true
}

// coverage returns the resources the caller sees through its detector
// (its own, and its monitored members' for an administrator) that match
// criteria, with their status at now.
func (s *Service) coverage(ctx context.Context, caller Scope, detectorID string, criteria []CoverageCriterion) ([]Coverage, error) {
	vis, err := s.visibility(ctx, caller, detectorID)
	if err != nil {
		return nil, err
	}
	if err := checkCoverageCriteria(criteria); err != nil {
		return nil, err
	}
	rs, err := s.Store.CoveredResources(ctx, caller.Region, vis.Detectors)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Coverage, 0, len(rs))
	for _, r := range rs {
		if c := coverageOf(r, now); matchCoverage(c, criteria) {
			out = append(out, c)
		}
	}
	return out, nil
}

// CoverageQuery is a ListCoverage request.
type CoverageQuery struct {
	Criteria   []CoverageCriterion
	SortBy     string // a CoverageSortKey; "" sorts by account
	Descending bool
	MaxResults int
	NextToken  string
}

// ListCoverage lists the resources the caller's detector (and, for an
// administrator, its monitored members' detectors) has observed in
// analysed logs, filtered and sorted as asked, in pages that resume after
// the last resource of the previous one.
func (s *Service) ListCoverage(ctx context.Context, caller Scope, detectorID string, q CoverageQuery) ([]Coverage, string, error) {
	cs, err := s.coverage(ctx, caller, detectorID, q.Criteria)
	if err != nil {
		return nil, "", err
	}
	sortBy := cmp.Or(q.SortBy, "ACCOUNT_ID")
	// The resource's identity breaks ties, so the order is total and a
	// page resumes exactly after the last one.
	identity := func(c Coverage) string { return c.AccountID + "|" + c.Type + "|" + c.ID }
	compare := func(av, aid, bv, bid string) int {
		c := strings.Compare(av, bv)
		if q.Descending {
			c = -c
		}
		return cmp.Or(c, strings.Compare(aid, bid))
	}
	slices.SortFunc(cs, func(a, b Coverage) int {
		return compare(coverageValue(a, sortBy), identity(a), coverageValue(b, sortBy), identity(b))
	})
	var crit strings.Builder
	for _, c := range q.Criteria {
		fmt.Fprintf(&crit, "%s=%q!%q;", c.Key, c.Equals, c.NotEquals)
	}
	binding := "coverage|" + caller.AccountID + "|" + caller.Region + "|" + detectorID + "|" + sortBy + "|" + strconv.FormatBool(q.Descending) + "|" + crit.String()
	start := 0
	if q.NextToken != "" {
		cur, err := s.Tokens.decode(binding, q.NextToken)
		if err != nil {
			return nil, "", err
		}
		after, _ := cur.SortKey.(string)
		start, _ = slices.BinarySearchFunc(cs, cur.ID, func(c Coverage, id string) int {
			if r := compare(coverageValue(c, sortBy), identity(c), after, id); r != 0 {
				return r
			}
			return -1 // the last one itself was listed: start after it
		})
	}
	limit := q.MaxResults
	if limit <= 0 {
		limit = 50
	}
	end := min(start+limit, len(cs))
	page := cs[start:end]
	next := ""
	if end < len(cs) {
		last := page[len(page)-1]
		next = s.Tokens.encode(binding, FindingCursor{ID: identity(last), SortKey: coverageValue(last, sortBy)})
	}
	return page, next, nil
}

// CoverageStatistics counts the covered resources by type and by status
// (the maps the caller asked for; nil for the others).
type CoverageStatistics struct {
	ByResourceType   map[string]int64
	ByCoverageStatus map[string]int64
}

// GetCoverageStatistics counts what ListCoverage would list with the same
// criteria.
func (s *Service) GetCoverageStatistics(ctx context.Context, caller Scope, detectorID string, criteria []CoverageCriterion, byType, byStatus bool) (*CoverageStatistics, error) {
	cs, err := s.coverage(ctx, caller, detectorID, criteria)
	if err != nil {
		return nil, err
	}
	out := &CoverageStatistics{}
	if byType {
		out.ByResourceType = map[string]int64{}
	}
	if byStatus {
		out.ByCoverageStatus = map[string]int64{}
	}
	for _, c := range cs {
		if byType {
			out.ByResourceType[c.Type]++
		}
		if byStatus {
			out.ByCoverageStatus[c.Status]++
		}
	}
	return out, nil
}

// FreeTrialDays is what GetRemainingFreeTrialDays answers for every
// feature and data source: guardpost is free, so no trial ever runs out;
// it answers the real trial's full length, as on its first day.
const FreeTrialDays = 30

// FreeTrialAccounts splits ids into the accounts the caller may ask the
// free trial of (itself and the associated members it administers) and
// the others, reported as unprocessed.
func (s *Service) FreeTrialAccounts(ctx context.Context, caller Scope, detectorID string, ids []string) ([]string, []UnprocessedAccount, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, nil, err
	}
	var (
		ok          []string
		unprocessed []UnprocessedAccount
		seen        = map[string]bool{}
	)
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		switch {
		case !validAccountID(id):
			unprocessed = append(unprocessed, UnprocessedAccount{AccountID: id, Result: msgInvalidInput})
		case id == caller.AccountID:
			ok = append(ok, id)
		default:
			admin, err := s.Administers(ctx, caller, id)
			if err != nil {
				return nil, nil, err
			}
			if admin {
				ok = append(ok, id)
			} else {
				unprocessed = append(unprocessed, UnprocessedAccount{AccountID: id, Result: msgNotAssociatedMember})
			}
		}
	}
	return ok, unprocessed, nil
}
