package httpapi

import (
	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

// The four list resources (IP sets, threat intel sets, trusted and threat
// entity sets) share one domain implementation; these handlers only move
// each operation's fields to and from it.

// listCreate is the part of every Create…Set request the domain needs.
type listCreate struct {
	detector, name, format, location, owner, token *string
	activate                                       *bool
	tags                                           map[string]string
}

func (s *Server) createList(req *request, kind guardpost.ThreatListKind, in listCreate) (string, error) {
	l := guardpost.ThreatList{Kind: kind, Name: deref(in.name), Format: deref(in.format), Location: deref(in.location),
		ExpectedBucketOwner: deref(in.owner), ClientToken: deref(in.token), Tags: in.tags}
	return s.service.CreateThreatList(req.ctx, req.scope, deref(in.detector), l, deref(in.activate))
}

func (s *Server) updateList(req *request, kind guardpost.ThreatListKind, detector, id *string, set guardpost.ThreatListSettings) (any, error) {
	return nil, s.service.UpdateThreatList(req.ctx, req.scope, deref(detector), kind, deref(id), set)
}

func (s *Server) deleteList(req *request, kind guardpost.ThreatListKind, detector, id *string) (any, error) {
	return nil, s.service.DeleteThreatList(req.ctx, req.scope, deref(detector), kind, deref(id))
}

func (s *Server) listLists(req *request, kind guardpost.ThreatListKind, detector *string, maxResults *int32, token *string) ([]string, *string, error) {
	ids, next, err := s.service.ListThreatLists(req.ctx, req.scope, deref(detector), kind, int(deref(maxResults)), deref(token))
	if err != nil {
		return nil, nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	if next == "" {
		return ids, nil, nil
	}
	return ids, &next, nil
}

// listTags returns a list's tags for a Get answer: always an object, as
// for detectors and filters.
func listTags(l *guardpost.ThreatList) map[string]string {
	if l.Tags == nil {
		return map[string]string{}
	}
	return l.Tags
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) createIPSet(req *request) (any, error) {
	in := input[*wire.CreateIPSetRequest](req)
	id, err := s.createList(req, guardpost.KindIPSet, listCreate{in.DetectorId, in.Name, in.Format, in.Location, in.ExpectedBucketOwner, in.ClientToken, in.Activate, in.Tags})
	if err != nil {
		return nil, err
	}
	return &wire.CreateIPSetResponse{IpSetId: &id}, nil
}

func (s *Server) getIPSet(req *request) (any, error) {
	in := input[*wire.GetIPSetRequest](req)
	l, err := s.service.GetThreatList(req.ctx, req.scope, deref(in.DetectorId), guardpost.KindIPSet, deref(in.IpSetId))
	if err != nil {
		return nil, err
	}
	return &wire.GetIPSetResponse{Name: &l.Name, Format: &l.Format, Location: &l.Location, Status: &l.Status,
		Tags: listTags(l), ExpectedBucketOwner: optional(l.ExpectedBucketOwner)}, nil
}

func (s *Server) updateIPSet(req *request) (any, error) {
	in := input[*wire.UpdateIPSetRequest](req)
	return s.updateList(req, guardpost.KindIPSet, in.DetectorId, in.IpSetId,
		guardpost.ThreatListSettings{Name: in.Name, Location: in.Location, ExpectedBucketOwner: in.ExpectedBucketOwner, Activate: in.Activate})
}

func (s *Server) deleteIPSet(req *request) (any, error) {
	in := input[*wire.DeleteIPSetRequest](req)
	return s.deleteList(req, guardpost.KindIPSet, in.DetectorId, in.IpSetId)
}

func (s *Server) listIPSets(req *request) (any, error) {
	in := input[*wire.ListIPSetsRequest](req)
	ids, next, err := s.listLists(req, guardpost.KindIPSet, in.DetectorId, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &wire.ListIPSetsResponse{IpSetIds: ids, NextToken: next}, nil
}

func (s *Server) createThreatIntelSet(req *request) (any, error) {
	in := input[*wire.CreateThreatIntelSetRequest](req)
	id, err := s.createList(req, guardpost.KindThreatIntelSet, listCreate{in.DetectorId, in.Name, in.Format, in.Location, in.ExpectedBucketOwner, in.ClientToken, in.Activate, in.Tags})
	if err != nil {
		return nil, err
	}
	return &wire.CreateThreatIntelSetResponse{ThreatIntelSetId: &id}, nil
}

func (s *Server) getThreatIntelSet(req *request) (any, error) {
	in := input[*wire.GetThreatIntelSetRequest](req)
	l, err := s.service.GetThreatList(req.ctx, req.scope, deref(in.DetectorId), guardpost.KindThreatIntelSet, deref(in.ThreatIntelSetId))
	if err != nil {
		return nil, err
	}
	return &wire.GetThreatIntelSetResponse{Name: &l.Name, Format: &l.Format, Location: &l.Location, Status: &l.Status,
		Tags: listTags(l), ExpectedBucketOwner: optional(l.ExpectedBucketOwner)}, nil
}

func (s *Server) updateThreatIntelSet(req *request) (any, error) {
	in := input[*wire.UpdateThreatIntelSetRequest](req)
	return s.updateList(req, guardpost.KindThreatIntelSet, in.DetectorId, in.ThreatIntelSetId,
		guardpost.ThreatListSettings{Name: in.Name, Location: in.Location, ExpectedBucketOwner: in.ExpectedBucketOwner, Activate: in.Activate})
}

func (s *Server) deleteThreatIntelSet(req *request) (any, error) {
	in := input[*wire.DeleteThreatIntelSetRequest](req)
	return s.deleteList(req, guardpost.KindThreatIntelSet, in.DetectorId, in.ThreatIntelSetId)
}

func (s *Server) listThreatIntelSets(req *request) (any, error) {
	in := input[*wire.ListThreatIntelSetsRequest](req)
	ids, next, err := s.listLists(req, guardpost.KindThreatIntelSet, in.DetectorId, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &wire.ListThreatIntelSetsResponse{ThreatIntelSetIds: ids, NextToken: next}, nil
}

func (s *Server) createTrustedEntitySet(req *request) (any, error) {
	in := input[*wire.CreateTrustedEntitySetRequest](req)
	id, err := s.createList(req, guardpost.KindTrustedEntitySet, listCreate{in.DetectorId, in.Name, in.Format, in.Location, in.ExpectedBucketOwner, in.ClientToken, in.Activate, in.Tags})
	if err != nil {
		return nil, err
	}
	return &wire.CreateTrustedEntitySetResponse{TrustedEntitySetId: &id}, nil
}

func (s *Server) getTrustedEntitySet(req *request) (any, error) {
	in := input[*wire.GetTrustedEntitySetRequest](req)
	l, err := s.service.GetThreatList(req.ctx, req.scope, deref(in.DetectorId), guardpost.KindTrustedEntitySet, deref(in.TrustedEntitySetId))
	if err != nil {
		return nil, err
	}
	return &wire.GetTrustedEntitySetResponse{Name: &l.Name, Format: &l.Format, Location: &l.Location, Status: &l.Status,
		Tags: listTags(l), ExpectedBucketOwner: optional(l.ExpectedBucketOwner), ErrorDetails: optional(l.ErrorDetails),
		CreatedAt: &wire.Timestamp{Time: l.CreatedAt}, UpdatedAt: &wire.Timestamp{Time: l.UpdatedAt}}, nil
}

func (s *Server) updateTrustedEntitySet(req *request) (any, error) {
	in := input[*wire.UpdateTrustedEntitySetRequest](req)
	return s.updateList(req, guardpost.KindTrustedEntitySet, in.DetectorId, in.TrustedEntitySetId,
		guardpost.ThreatListSettings{Name: in.Name, Location: in.Location, ExpectedBucketOwner: in.ExpectedBucketOwner, Activate: in.Activate})
}

func (s *Server) deleteTrustedEntitySet(req *request) (any, error) {
	in := input[*wire.DeleteTrustedEntitySetRequest](req)
	return s.deleteList(req, guardpost.KindTrustedEntitySet, in.DetectorId, in.TrustedEntitySetId)
}

func (s *Server) listTrustedEntitySets(req *request) (any, error) {
	in := input[*wire.ListTrustedEntitySetsRequest](req)
	ids, next, err := s.listLists(req, guardpost.KindTrustedEntitySet, in.DetectorId, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &wire.ListTrustedEntitySetsResponse{TrustedEntitySetIds: ids, NextToken: next}, nil
}

func (s *Server) createThreatEntitySet(req *request) (any, error) {
	in := input[*wire.CreateThreatEntitySetRequest](req)
	id, err := s.createList(req, guardpost.KindThreatEntitySet, listCreate{in.DetectorId, in.Name, in.Format, in.Location, in.ExpectedBucketOwner, in.ClientToken, in.Activate, in.Tags})
	if err != nil {
		return nil, err
	}
	return &wire.CreateThreatEntitySetResponse{ThreatEntitySetId: &id}, nil
}

func (s *Server) getThreatEntitySet(req *request) (any, error) {
	in := input[*wire.GetThreatEntitySetRequest](req)
	l, err := s.service.GetThreatList(req.ctx, req.scope, deref(in.DetectorId), guardpost.KindThreatEntitySet, deref(in.ThreatEntitySetId))
	if err != nil {
		return nil, err
	}
	return &wire.GetThreatEntitySetResponse{Name: &l.Name, Format: &l.Format, Location: &l.Location, Status: &l.Status,
		Tags: listTags(l), ExpectedBucketOwner: optional(l.ExpectedBucketOwner), ErrorDetails: optional(l.ErrorDetails),
		CreatedAt: &wire.Timestamp{Time: l.CreatedAt}, UpdatedAt: &wire.Timestamp{Time: l.UpdatedAt}}, nil
}

func (s *Server) updateThreatEntitySet(req *request) (any, error) {
	in := input[*wire.UpdateThreatEntitySetRequest](req)
	return s.updateList(req, guardpost.KindThreatEntitySet, in.DetectorId, in.ThreatEntitySetId,
		guardpost.ThreatListSettings{Name: in.Name, Location: in.Location, ExpectedBucketOwner: in.ExpectedBucketOwner, Activate: in.Activate})
}

func (s *Server) deleteThreatEntitySet(req *request) (any, error) {
	in := input[*wire.DeleteThreatEntitySetRequest](req)
	return s.deleteList(req, guardpost.KindThreatEntitySet, in.DetectorId, in.ThreatEntitySetId)
}

func (s *Server) listThreatEntitySets(req *request) (any, error) {
	in := input[*wire.ListThreatEntitySetsRequest](req)
	ids, next, err := s.listLists(req, guardpost.KindThreatEntitySet, in.DetectorId, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &wire.ListThreatEntitySetsResponse{ThreatEntitySetIds: ids, NextToken: next}, nil
}
