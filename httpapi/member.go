package httpapi

import (
	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

// unprocessed converts the domain's skipped accounts. It is never nil: the
// real service always sends the (required) unprocessedAccounts list, empty
// when every account was processed.
func unprocessed(us []guardpost.UnprocessedAccount) []wire.UnprocessedAccount {
	out := make([]wire.UnprocessedAccount, 0, len(us))
	for _, u := range us {
		out = append(out, wire.UnprocessedAccount{AccountId: ptr(u.AccountID), Result: ptr(u.Result)})
	}
	return out
}

// isoTime formats a membership time as GuardDuty does in Member and
// Invitation (strings, not timestamps); nil when unset.
func isoTime(m *guardpost.Membership, invited bool) *string {
	t := m.UpdatedAt
	if invited {
		t = m.InvitedAt
	}
	if t.IsZero() {
		return nil
	}
	return ptr(guardpost.ISOTime(t))
}

// invitationID is the invitation a membership came by, nil for an
// organization's member (added without one).
func invitationID(m *guardpost.Membership) *string {
	if m.InvitationID == "" {
		return nil
	}
	return ptr(m.InvitationID)
}

func memberOf(m *guardpost.Membership) wire.Member {
	out := wire.Member{
		AccountId:          ptr(m.AccountID),
		MasterId:           ptr(m.AdministratorID),
		AdministratorId:    ptr(m.AdministratorID),
		Email:              ptr(m.Email),
		RelationshipStatus: ptr(m.Status),
		InvitedAt:          isoTime(m, true),
		UpdatedAt:          isoTime(m, false),
	}
	if m.DetectorID != "" {
		out.DetectorId = ptr(m.DetectorID)
	}
	return out
}

func members(ms []*guardpost.Membership) []wire.Member {
	out := make([]wire.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberOf(m))
	}
	return out
}

func (s *Server) createMembers(req *request) (any, error) {
	in := input[*wire.CreateMembersRequest](req)
	details := make([]guardpost.AccountDetail, len(in.AccountDetails))
	for i, d := range in.AccountDetails {
		details[i] = guardpost.AccountDetail{AccountID: deref(d.AccountId), Email: deref(d.Email)}
	}
	us, err := s.service.CreateMembers(req.ctx, req.scope, deref(in.DetectorId), details)
	if err != nil {
		return nil, err
	}
	return &wire.CreateMembersResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) inviteMembers(req *request) (any, error) {
	in := input[*wire.InviteMembersRequest](req)
	us, err := s.service.InviteMembers(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds)
	if err != nil {
		return nil, err
	}
	return &wire.InviteMembersResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) listInvitations(req *request) (any, error) {
	in := input[*wire.ListInvitationsRequest](req)
	ms, next, err := s.service.ListInvitations(req.ctx, req.scope, int(deref(in.MaxResults)), deref(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &wire.ListInvitationsResponse{Invitations: make([]wire.Invitation, 0, len(ms))}
	for _, m := range ms {
		out.Invitations = append(out.Invitations, wire.Invitation{
			AccountId:          ptr(m.AdministratorID),
			InvitationId:       ptr(m.InvitationID),
			RelationshipStatus: ptr(m.Status),
			InvitedAt:          isoTime(m, true),
		})
	}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

func (s *Server) getInvitationsCount(req *request) (any, error) {
	n, err := s.service.GetInvitationsCount(req.ctx, req.scope)
	if err != nil {
		return nil, err
	}
	return &wire.GetInvitationsCountResponse{InvitationsCount: ptr(int32(n))}, nil
}

func (s *Server) acceptAdministratorInvitation(req *request) (any, error) {
	in := input[*wire.AcceptAdministratorInvitationRequest](req)
	return nil, s.service.AcceptAdministratorInvitation(req.ctx, req.scope, deref(in.DetectorId), deref(in.AdministratorId), deref(in.InvitationId))
}

// acceptInvitation is the deprecated AcceptAdministratorInvitation
// (masterId for administratorId).
func (s *Server) acceptInvitation(req *request) (any, error) {
	in := input[*wire.AcceptInvitationRequest](req)
	return nil, s.service.AcceptAdministratorInvitation(req.ctx, req.scope, deref(in.DetectorId), deref(in.MasterId), deref(in.InvitationId))
}

func (s *Server) declineInvitations(req *request) (any, error) {
	in := input[*wire.DeclineInvitationsRequest](req)
	us, err := s.service.DeclineInvitations(req.ctx, req.scope, in.AccountIds)
	if err != nil {
		return nil, err
	}
	return &wire.DeclineInvitationsResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) deleteInvitations(req *request) (any, error) {
	in := input[*wire.DeleteInvitationsRequest](req)
	us, err := s.service.DeleteInvitations(req.ctx, req.scope, in.AccountIds)
	if err != nil {
		return nil, err
	}
	return &wire.DeleteInvitationsResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) getAdministratorAccount(req *request) (any, error) {
	in := input[*wire.GetAdministratorAccountRequest](req)
	m, err := s.service.GetAdministratorAccount(req.ctx, req.scope, deref(in.DetectorId))
	if err != nil || m == nil {
		return nil, err
	}
	return &wire.GetAdministratorAccountResponse{Administrator: &wire.Administrator{
		AccountId: ptr(m.AdministratorID), InvitationId: invitationID(m),
		RelationshipStatus: ptr(m.Status), InvitedAt: isoTime(m, true),
	}}, nil
}

// getMasterAccount is the deprecated GetAdministratorAccount.
func (s *Server) getMasterAccount(req *request) (any, error) {
	in := input[*wire.GetMasterAccountRequest](req)
	m, err := s.service.GetAdministratorAccount(req.ctx, req.scope, deref(in.DetectorId))
	if err != nil || m == nil {
		return nil, err
	}
	return &wire.GetMasterAccountResponse{Master: &wire.Master{
		AccountId: ptr(m.AdministratorID), InvitationId: invitationID(m),
		RelationshipStatus: ptr(m.Status), InvitedAt: isoTime(m, true),
	}}, nil
}

func (s *Server) disassociateFromAdministratorAccount(req *request) (any, error) {
	in := input[*wire.DisassociateFromAdministratorAccountRequest](req)
	return nil, s.service.DisassociateFromAdministratorAccount(req.ctx, req.scope, deref(in.DetectorId))
}

// disassociateFromMasterAccount is the deprecated
// DisassociateFromAdministratorAccount.
func (s *Server) disassociateFromMasterAccount(req *request) (any, error) {
	in := input[*wire.DisassociateFromMasterAccountRequest](req)
	return nil, s.service.DisassociateFromAdministratorAccount(req.ctx, req.scope, deref(in.DetectorId))
}

func (s *Server) listMembers(req *request) (any, error) {
	in := input[*wire.ListMembersRequest](req)
	// onlyAssociated is a string in the model; the real service defaults
	// it to true and the CLI sends "true" or "false".
	onlyAssociated := true
	switch deref(in.OnlyAssociated) {
	case "", "true":
	case "false":
		onlyAssociated = false
	default:
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter. onlyAssociated must be true or false.")
	}
	ms, next, err := s.service.ListMembers(req.ctx, req.scope, deref(in.DetectorId), onlyAssociated, int(deref(in.MaxResults)), deref(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &wire.ListMembersResponse{Members: members(ms)}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

func (s *Server) getMembers(req *request) (any, error) {
	in := input[*wire.GetMembersRequest](req)
	ms, us, err := s.service.GetMembers(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds)
	if err != nil {
		return nil, err
	}
	return &wire.GetMembersResponse{Members: members(ms), UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) disassociateMembers(req *request) (any, error) {
	in := input[*wire.DisassociateMembersRequest](req)
	us, err := s.service.DisassociateMembers(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds)
	if err != nil {
		return nil, err
	}
	return &wire.DisassociateMembersResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) deleteMembers(req *request) (any, error) {
	in := input[*wire.DeleteMembersRequest](req)
	us, err := s.service.DeleteMembers(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds)
	if err != nil {
		return nil, err
	}
	return &wire.DeleteMembersResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) startMonitoringMembers(req *request) (any, error) {
	in := input[*wire.StartMonitoringMembersRequest](req)
	us, err := s.service.StartMonitoringMembers(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds)
	if err != nil {
		return nil, err
	}
	return &wire.StartMonitoringMembersResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) stopMonitoringMembers(req *request) (any, error) {
	in := input[*wire.StopMonitoringMembersRequest](req)
	us, err := s.service.StopMonitoringMembers(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds)
	if err != nil {
		return nil, err
	}
	return &wire.StopMonitoringMembersResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

func (s *Server) getMemberDetectors(req *request) (any, error) {
	in := input[*wire.GetMemberDetectorsRequest](req)
	ds, us, err := s.service.GetMemberDetectors(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds)
	if err != nil {
		return nil, err
	}
	out := &wire.GetMemberDetectorsResponse{
		MemberDataSourceConfigurations: make([]wire.MemberDataSourceConfiguration, 0, len(ds)),
		UnprocessedAccounts:            unprocessed(us),
	}
	for _, md := range ds {
		d := detectorResponse(md.Detector)
		c := wire.MemberDataSourceConfiguration{AccountId: ptr(md.AccountID), DataSources: d.DataSources}
		// A member's features are the configurable ones: the foundational
		// sources appear only as data sources.
		for _, f := range d.Features {
			switch deref(f.Name) {
			case "CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS":
				continue
			}
			mf := wire.MemberFeaturesConfigurationResult{Name: f.Name, Status: f.Status, UpdatedAt: f.UpdatedAt}
			for _, a := range f.AdditionalConfiguration {
				mf.AdditionalConfiguration = append(mf.AdditionalConfiguration, wire.MemberAdditionalConfigurationResult{
					Name: a.Name, Status: a.Status, UpdatedAt: a.UpdatedAt})
			}
			c.Features = append(c.Features, mf)
		}
		out.MemberDataSourceConfigurations = append(out.MemberDataSourceConfigurations, c)
	}
	return out, nil
}

func (s *Server) updateMemberDetectors(req *request) (any, error) {
	in := input[*wire.UpdateMemberDetectorsRequest](req)
	features := make([]wire.DetectorFeatureConfiguration, len(in.Features))
	for i, f := range in.Features {
		features[i] = wire.DetectorFeatureConfiguration{Name: f.Name, Status: f.Status}
		for _, a := range f.AdditionalConfiguration {
			features[i].AdditionalConfiguration = append(features[i].AdditionalConfiguration,
				wire.DetectorAdditionalConfiguration{Name: a.Name, Status: a.Status})
		}
	}
	settings := detectorSettings(nil, nil, in.DataSources, features)
	us, err := s.service.UpdateMemberDetectors(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds, settings)
	if err != nil {
		return nil, err
	}
	return &wire.UpdateMemberDetectorsResponse{UnprocessedAccounts: unprocessed(us)}, nil
}

// maxAccountList is the length the model allows the account lists of the
// member and invitation operations (1 to 50).
const maxAccountList = 50

// checkAccountList answers an account list of a member or invitation
// operation that is empty or longer than 50 as the real service does,
// before the model's checks (whose generic text the real service does not
// use here). The over-long text is the real service's, as AWS's own
// Security Reference Architecture met it on CreateMembers
// (aws-samples/aws-security-reference-architecture-examples issues 139
// and 291); the empty-list text is guardpost's, the same sentence for the
// lower bound. A list left out is the model's "required" case, untouched.
func checkAccountList(in wire.Input) error {
	var (
		name string
		n    int
		sent bool
	)
	switch r := in.(type) {
	case *wire.CreateMembersRequest:
		name, n, sent = "accountDetails", len(r.AccountDetails), r.AccountDetails != nil
	case *wire.InviteMembersRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.GetMembersRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.DeleteMembersRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.DisassociateMembersRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.StartMonitoringMembersRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.StopMonitoringMembersRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.GetMemberDetectorsRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.UpdateMemberDetectorsRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.DeclineInvitationsRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	case *wire.DeleteInvitationsRequest:
		name, n, sent = "accountIds", len(r.AccountIds), r.AccountIds != nil
	default:
		return nil
	}
	switch {
	case sent && n == 0:
		return guardpost.Errorf(guardpost.EINVALID, "The request failed because the length provided for the %s array was 0. Min allowed length is 1.", name)
	case n > maxAccountList:
		return guardpost.Errorf(guardpost.EINVALID, "The request failed because the length provided for the %s array was %d. Max allowed length is %d.", name, n, maxAccountList)
	}
	return nil
}
