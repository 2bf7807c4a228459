package httpapi

import (
	"bytes"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

func (s *Server) createSampleFindings(req *request) (any, error) {
	in := input[*wire.CreateSampleFindingsRequest](req)
	return nil, s.service.CreateSampleFindings(req.ctx, req.scope, deref(in.DetectorId), in.FindingTypes)
}

// getFindings streams the stored finding documents as they are: they were
// encoded once, when written.
func (s *Server) getFindings(req *request) (any, error) {
	in := input[*wire.GetFindingsRequest](req)
	sort, err := sortCriteria(in.SortCriteria)
	if err != nil {
		return nil, err
	}
	findings, err := s.service.GetFindings(req.ctx, req.scope, deref(in.DetectorId), in.FindingIds, sort)
	if err != nil {
		return nil, err
	}
	size := len(`{"findings":[]}`)
	for _, f := range findings {
		size += len(f.Document) + 1
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(`{"findings":[`)
	for i, f := range findings {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(f.Document)
	}
	b.WriteString(`]}`)
	return rawJSON(b.Bytes()), nil
}

func (s *Server) listFindings(req *request) (any, error) {
	in := input[*wire.ListFindingsRequest](req)
	sort, err := sortCriteria(in.SortCriteria)
	if err != nil {
		return nil, err
	}
	if in.FindingCriteria != nil && len(in.FindingCriteria.Criterion) > 0 {
		return nil, guardpost.Errorf(guardpost.ENOTIMPLEMENTED, "ListFindings with findingCriteria is not implemented by guardpost yet.")
	}
	ids, next, err := s.service.ListFindings(req.ctx, req.scope, deref(in.DetectorId), guardpost.ListFindingsInput{
		Sort: sort, MaxResults: int(deref(in.MaxResults)), NextToken: deref(in.NextToken)})
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

func (s *Server) updateFindingsFeedback(req *request) (any, error) {
	in := input[*wire.UpdateFindingsFeedbackRequest](req)
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
