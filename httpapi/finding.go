package httpapi

import (
	"slices"
	"time"
	"unicode/utf8"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

func (s *Server) createSampleFindings(req *request) (any, error) {
	in := input[*wire.CreateSampleFindingsRequest](req)
	return nil, s.service.CreateSampleFindings(req.ctx, req.scope, deref(in.DetectorId), in.FindingTypes)
}

// getFindings writes the stored finding documents as they are: they were
// encoded once, when written, and the cache's packed documents are
// unpacked straight into the pooled response buffer.
func (s *Server) getFindings(req *request) (any, error) {
	in := input[*wire.GetFindingsRequest](req)
	sort, err := sortCriteria(in.SortCriteria)
	if err != nil {
		return nil, err
	}
	b := newBody(0)
	b.WriteString(`{"findings":[`)
	out, err := s.service.AppendFindings(b.AvailableBuffer(), req.ctx, req.scope, deref(in.DetectorId), in.FindingIds, sort)
	if err != nil {
		b.free()
		return nil, err
	}
	b.Write(out) // in place when the buffer had room
	b.WriteString(`]}`)
	return b, nil
}

func (s *Server) listFindings(req *request) (any, error) {
	in := input[*wire.ListFindingsRequest](req)
	sort, err := sortCriteria(in.SortCriteria)
	if err != nil {
		return nil, err
	}
	where, err := findingCriteria(in.FindingCriteria)
	if err != nil {
		return nil, err
	}
	ids, next, err := s.service.ListFindings(req.ctx, req.scope, deref(in.DetectorId), guardpost.ListFindingsInput{
		Sort: sort, MaxResults: int(deref(in.MaxResults)), NextToken: deref(in.NextToken), Where: where})
	if err != nil {
		return nil, err
	}
	out := &wire.ListFindingsResponse{FindingIds: ids}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

func (s *Server) archiveFindings(req *request) (any, error) {
	in := input[*wire.ArchiveFindingsRequest](req)
	return nil, s.service.ArchiveFindings(req.ctx, req.scope, deref(in.DetectorId), in.FindingIds)
}

func (s *Server) unarchiveFindings(req *request) (any, error) {
	in := input[*wire.UnarchiveFindingsRequest](req)
	return nil, s.service.UnarchiveFindings(req.ctx, req.scope, deref(in.DetectorId), in.FindingIds)
}

// maxFeedbackComments bounds UpdateFindingsFeedback's comments, which the
// model leaves unbounded: each finding of the request stores a copy, so
// without a bound one request of 50 findings could add 50 times its body
// to the store.
const maxFeedbackComments = 4096

func (s *Server) updateFindingsFeedback(req *request) (any, error) {
	in := input[*wire.UpdateFindingsFeedbackRequest](req)
	if n := utf8.RuneCountInString(deref(in.Comments)); n > maxFeedbackComments {
		// Sensitive: the value is not echoed.
		return nil, &wire.ValidationError{Violations: []string{sprintf(
			"Value at 'comments' failed to satisfy constraint: Member must have length less than or equal to %d", maxFeedbackComments)}}
	}
	return nil, s.service.UpdateFindingsFeedback(req.ctx, req.scope, deref(in.DetectorId), in.FindingIds, deref(in.Feedback), deref(in.Comments))
}

// sortCriteria resolves the wire sort criteria; orderBy defaults to ASC.
func sortCriteria(sc *wire.SortCriteria) (*guardpost.SortCriteria, error) {
	if sc == nil || (sc.AttributeName == nil && sc.OrderBy == nil) {
		return nil, nil
	}
	if sc.AttributeName == nil {
		return nil, badRequest("1 validation error detected: Value null at 'sortCriteria.attributeName' failed to satisfy constraint: Member must not be null")
	}
	return guardpost.SortBy(*sc.AttributeName, deref(sc.OrderBy) == "DESC")
}

// findingCriteria converts and compiles the wire findingCriteria, folding
// the deprecated operators into the current ones: eq and neq lists are
// merged into equals and notEquals; of gt/gte/lt/lte and their current
// counterparts, the current one wins when both are given.
func findingCriteria(fc *wire.FindingCriteria) ([]guardpost.Criterion, error) {
	c := criteria(fc)
	if c == nil {
		return nil, nil
	}
	return guardpost.CompileCriteria(c)
}

// criteria converts the wire findingCriteria to the domain's, folding the
// deprecated operators in as findingCriteria describes; nil when empty.
func criteria(fc *wire.FindingCriteria) guardpost.Criteria {
	if fc == nil || len(fc.Criterion) == 0 {
		return nil
	}
	c := make(guardpost.Criteria, len(fc.Criterion))
	for name, w := range fc.Criterion {
		c[name] = guardpost.Condition{
			Equals:             mergeValues(w.Equals, w.Eq),
			NotEquals:          mergeValues(w.NotEquals, w.Neq),
			GreaterThan:        bound(w.GreaterThan, w.Gt),
			GreaterThanOrEqual: bound(w.GreaterThanOrEqual, w.Gte),
			LessThan:           bound(w.LessThan, w.Lt),
			LessThanOrEqual:    bound(w.LessThanOrEqual, w.Lte),
			Matches:            w.Matches,
			NotMatches:         w.NotMatches,
		}
	}
	return c
}

// mergeValues appends the deprecated list's values the current one lacks.
func mergeValues(current, deprecated []string) []string {
	if len(deprecated) == 0 {
		return current
	}
	if len(current) > guardpost.MaxCriterionValues || len(deprecated) > guardpost.MaxCriterionValues {
		// Too many either way (CompileCriteria refuses them): not worth a
		// quadratic search for duplicates.
		return append(slices.Clone(current), deprecated...)
	}
	out := slices.Clone(current)
	for _, v := range deprecated {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// bound prefers the current operator's bound over the deprecated one's.
// Both are 64-bit: the deprecated ones are widened on the wire (see
// internal/codegen/widen.go) because clients send epoch milliseconds there.
func bound(current, deprecated *int64) *int64 {
	if current != nil {
		return current
	}
	return deprecated
}

// getFindingsStatistics answers groupBy with the grouped rows and the
// deprecated findingStatisticTypes (COUNT_BY_SEVERITY) with countBySeverity;
// one of the two is required.
func (s *Server) getFindingsStatistics(req *request) (any, error) {
	in := input[*wire.GetFindingsStatisticsRequest](req)
	if in.GroupBy == nil && len(in.FindingStatisticTypes) == 0 {
		return nil, badRequest("The request is rejected because either groupBy or findingStatisticTypes is required.")
	}
	for _, st := range in.FindingStatisticTypes {
		if st != string(guardpost.StatCountBySeverity) {
			return nil, badRequest("1 validation error detected: Value '%s' at 'findingStatisticTypes' failed to satisfy constraint: Member must satisfy enum value set: [COUNT_BY_SEVERITY]", st)
		}
	}
	var group guardpost.StatGroup
	if in.GroupBy != nil {
		group = guardpost.StatGroup(*in.GroupBy)
		if group == guardpost.StatCountBySeverity || !guardpost.ValidStatGroup(group) {
			return nil, badRequest("1 validation error detected: Value '%s' at 'groupBy' failed to satisfy constraint: Member must satisfy enum value set: [ACCOUNT, DATE, FINDING_TYPE, RESOURCE, SEVERITY]", *in.GroupBy)
		}
	}
	descending := true
	switch o := deref(in.OrderBy); o {
	case "", "DESC":
	case "ASC":
		descending = false
	default:
		return nil, badRequest("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [ASC, DESC]", o)
	}
	maxResults := 0
	if in.MaxResults != nil {
		if n := *in.MaxResults; n < 1 || n > 100 {
			return nil, badRequest("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", n)
		}
		maxResults = int(*in.MaxResults)
	}
	where, err := findingCriteria(in.FindingCriteria)
	if err != nil {
		return nil, err
	}
	det := deref(in.DetectorId)
	stats := &wire.FindingStatistics{}
	if len(in.FindingStatisticTypes) > 0 {
		rows, err := s.service.GetFindingsStatistics(req.ctx, req.scope, det, where, guardpost.StatCountBySeverity, descending, 0)
		if err != nil {
			return nil, err
		}
		stats.CountBySeverity = make(map[string]int32, len(rows))
		for _, r := range rows {
			stats.CountBySeverity[r.Key] = int32(r.Count)
		}
	}
	if group != "" {
		rows, err := s.service.GetFindingsStatistics(req.ctx, req.scope, det, where, group, descending, maxResults)
		if err != nil {
			return nil, err
		}
		statRows(stats, group, rows, req.scope.AccountID)
	}
	return &wire.GetFindingsStatisticsResponse{FindingStatistics: stats}, nil
}

// statRows fills the list of stats that group's rows go in. A detector's
// findings are all of its account, which resources are reported in.
func statRows(stats *wire.FindingStatistics, group guardpost.StatGroup, rows []guardpost.StatRow, accountID string) {
	for _, r := range rows {
		total := int32(r.Count)
		last := &wire.Timestamp{Time: r.LastGeneratedAt}
		switch group {
		case guardpost.StatByAccount:
			stats.GroupedByAccount = append(stats.GroupedByAccount, wire.AccountStatistics{
				AccountId: ptr(r.Key), LastGeneratedAt: last, TotalFindings: &total})
		case guardpost.StatByDate:
			day, _ := time.Parse(time.DateOnly, r.Key)
			stats.GroupedByDate = append(stats.GroupedByDate, wire.DateStatistics{
				Date: &wire.Timestamp{Time: day}, LastGeneratedAt: last, Severity: ptr(r.MaxSeverity), TotalFindings: &total})
		case guardpost.StatByFindingType:
			stats.GroupedByFindingType = append(stats.GroupedByFindingType, wire.FindingTypeStatistics{
				FindingType: ptr(r.Key), LastGeneratedAt: last, TotalFindings: &total})
		case guardpost.StatByResource:
			rs := wire.ResourceStatistics{LastGeneratedAt: last, TotalFindings: &total, AccountId: ptr(accountID)}
			if r.Key != "" {
				rs.ResourceId = ptr(r.Key)
			}
			if r.ResourceType != "" {
				rs.ResourceType = ptr(r.ResourceType)
			}
			stats.GroupedByResource = append(stats.GroupedByResource, rs)
		case guardpost.StatBySeverity:
			stats.GroupedBySeverity = append(stats.GroupedBySeverity, wire.SeverityStatistics{
				LastGeneratedAt: last, Severity: ptr(r.MaxSeverity), TotalFindings: &total})
		}
	}
}
