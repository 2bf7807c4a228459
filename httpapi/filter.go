package httpapi

import (
	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

func (s *Server) createFilter(req *request) (any, error) {
	in := input[*wire.CreateFilterRequest](req)
	f := guardpost.Filter{
		Name:        deref(in.Name),
		Description: deref(in.Description),
		Action:      deref(in.Action),
		Rank:        int(deref(in.Rank)),
		Criteria:    criteria(in.FindingCriteria),
		Tags:        in.Tags,
		ClientToken: deref(in.ClientToken),
	}
	name, err := s.service.CreateFilter(req.ctx, req.scope, deref(in.DetectorId), f)
	if err != nil {
		return nil, err
	}
	return &wire.CreateFilterResponse{Name: &name}, nil
}

func (s *Server) getFilter(req *request) (any, error) {
	in := input[*wire.GetFilterRequest](req)
	f, err := s.service.GetFilter(req.ctx, req.scope, deref(in.DetectorId), deref(in.FilterName))
	if err != nil {
		return nil, err
	}
	out := &wire.GetFilterResponse{
		Name:        ptr(f.Name),
		Description: ptr(f.Description),
		Action:      ptr(f.Action),
		Rank:        ptr(int32(f.Rank)),
		Tags:        f.Tags,
		FindingCriteria: &wire.FindingCriteria{
			Criterion: make(map[string]wire.Condition, len(f.Criteria)),
		},
	}
	for name, c := range f.Criteria {
		out.FindingCriteria.Criterion[name] = wire.Condition{
			Equals:             c.Equals,
			NotEquals:          c.NotEquals,
			GreaterThan:        c.GreaterThan,
			GreaterThanOrEqual: c.GreaterThanOrEqual,
			LessThan:           c.LessThan,
			LessThanOrEqual:    c.LessThanOrEqual,
			Matches:            c.Matches,
			NotMatches:         c.NotMatches,
		}
	}
	return out, nil
}

func (s *Server) updateFilter(req *request) (any, error) {
	in := input[*wire.UpdateFilterRequest](req)
	settings := guardpost.FilterSettings{Description: in.Description, Action: in.Action}
	if in.Rank != nil {
		settings.Rank = ptr(int(*in.Rank))
	}
	if in.FindingCriteria != nil {
		settings.Criteria = criteria(in.FindingCriteria)
		if settings.Criteria == nil {
			settings.Criteria = guardpost.Criteria{}
		}
	}
	name, err := s.service.UpdateFilter(req.ctx, req.scope, deref(in.DetectorId), deref(in.FilterName), settings)
	if err != nil {
		return nil, err
	}
	return &wire.UpdateFilterResponse{Name: &name}, nil
}

func (s *Server) deleteFilter(req *request) (any, error) {
	in := input[*wire.DeleteFilterRequest](req)
	return nil, s.service.DeleteFilter(req.ctx, req.scope, deref(in.DetectorId), deref(in.FilterName))
}

func (s *Server) listFilters(req *request) (any, error) {
	in := input[*wire.ListFiltersRequest](req)
	names, next, err := s.service.ListFilters(req.ctx, req.scope, deref(in.DetectorId), int(deref(in.MaxResults)), deref(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &wire.ListFiltersResponse{FilterNames: names}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}
