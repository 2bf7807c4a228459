package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/httpapi/wire"
)

// coverageCriteria converts the wire's filter criteria.
func coverageCriteria(fc *wire.CoverageFilterCriteria) []guardpost.CoverageCriterion {
	if fc == nil {
		return nil
	}
	out := make([]guardpost.CoverageCriterion, 0, len(fc.FilterCriterion))
	for _, c := range fc.FilterCriterion {
		cr := guardpost.CoverageCriterion{Key: deref(c.CriterionKey)}
		if c.FilterCondition != nil {
			cr.Equals, cr.NotEquals = c.FilterCondition.Equals, c.FilterCondition.NotEquals
		}
		out = append(out, cr)
	}
	return out
}

// coverageResource is a covered resource as ListCoverage reports it:
// updatedAt is when an analysed log last named it.
func coverageResource(c guardpost.Coverage) wire.CoverageResource {
	r := wire.CoverageResource{
		ResourceId: ptr(c.ID), DetectorId: ptr(c.DetectorID), AccountId: ptr(c.AccountID),
		CoverageStatus: ptr(c.Status), UpdatedAt: &wire.Timestamp{Time: c.LastSeen},
		ResourceDetails: &wire.CoverageResourceDetails{ResourceType: ptr(c.Type)},
	}
	if c.Issue != "" {
		r.Issue = ptr(c.Issue)
	}
	orNil := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	switch c.Type {
	case guardpost.CoverageEC2:
		r.ResourceDetails.Ec2InstanceDetails = &wire.CoverageEc2InstanceDetails{InstanceId: ptr(c.ID), InstanceType: orNil(c.InstanceType)}
	case guardpost.CoverageEKS:
		r.ResourceDetails.EksClusterDetails = &wire.CoverageEksClusterDetails{ClusterName: ptr(c.ID)}
	}
	return r
}

func (s *Server) listCoverage(req *request) (any, error) {
	in := input[*wire.ListCoverageRequest](req)
	q := guardpost.CoverageQuery{Criteria: coverageCriteria(in.FilterCriteria), MaxResults: int(deref(in.MaxResults)), NextToken: deref(in.NextToken)}
	if sc := in.SortCriteria; sc != nil {
		q.SortBy, q.Descending = deref(sc.AttributeName), deref(sc.OrderBy) == "DESC"
	}
	cs, next, err := s.service.ListCoverage(req.ctx, req.scope, deref(in.DetectorId), q)
	if err != nil {
		return nil, err
	}
	out := &wire.ListCoverageResponse{Resources: make([]wire.CoverageResource, 0, len(cs))}
	for _, c := range cs {
		out.Resources = append(out.Resources, coverageResource(c))
	}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

func (s *Server) getCoverageStatistics(req *request) (any, error) {
	in := input[*wire.GetCoverageStatisticsRequest](req)
	if len(in.StatisticsType) == 0 {
		return nil, badRequest("The request is rejected because statisticsType is empty: ask for COUNT_BY_RESOURCE_TYPE, COUNT_BY_COVERAGE_STATUS or both.")
	}
	st, err := s.service.GetCoverageStatistics(req.ctx, req.scope, deref(in.DetectorId), coverageCriteria(in.FilterCriteria),
		slices.Contains(in.StatisticsType, "COUNT_BY_RESOURCE_TYPE"), slices.Contains(in.StatisticsType, "COUNT_BY_COVERAGE_STATUS"))
	if err != nil {
		return nil, err
	}
	return &wire.GetCoverageStatisticsResponse{CoverageStatistics: &wire.CoverageStatistics{
		CountByResourceType: st.ByResourceType, CountByCoverageStatus: st.ByCoverageStatus}}, nil
}

// observeCloudTrail records as covered the EC2 instances whose
// instance-profile credentials made the calls of an ingest (the session
// of an assumed role is named after the instance, as EC2 names it), each
// for the detector that analysed the record, last seen at the latest
// record's time. A failure is logged, as recordUsage's is.
func (s *Server) observeCloudTrail(r *http.Request, caller guardpost.Scope, records []detect.Record, report detect.Report) {
	analysing := map[string]detect.Analysed{}
	for _, a := range report.Analysed {
		analysing[a.Scope.AccountID] = a
	}
	seen := map[string]map[string]time.Time{} // account → instance → last seen
	for i := range records {
		rec := &records[i]
		if _, ok := analysing[rec.RecipientAccountID]; !ok || (rec.AWSRegion != caller.Region && !rec.Global()) {
			continue
		}
		id := rec.UserIdentity.SessionInstance()
		if id == "" {
			continue
		}
		at := rec.Time()
		m := seen[rec.RecipientAccountID]
		if m == nil {
			m = map[string]time.Time{}
			seen[rec.RecipientAccountID] = m
		}
		if at.After(m[id]) {
			m[id] = at
		}
	}
	for account, instances := range seen {
		a := analysing[account]
		rs := make([]guardpost.ObservedResource, 0, len(instances))
		for id, at := range instances {
			rs = append(rs, guardpost.ObservedResource{Type: guardpost.CoverageEC2, ID: id, LastSeen: at})
		}
		if err := s.service.ObserveResources(r.Context(), a.Scope, a.DetectorID, rs); err != nil && guardpost.ErrorKind(err) != guardpost.ENOTFOUND {
			s.log.ErrorContext(r.Context(), "coverage not recorded", "account", account, "detector", a.DetectorID, "err", err)
		}
	}
}
