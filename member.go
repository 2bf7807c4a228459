package guardpost

import (
	"context"
	"slices"
	"time"
)

// Relationship statuses, as GuardDuty reports them in Member and
// Invitation. guardpost sends no email, so a member never passes through
// EmailVerificationInProgress: InviteMembers moves it straight to Invited.
const (
	RelationshipCreated  = "Created"  // CreateMembers: not invited yet
	RelationshipInvited  = "Invited"  // InviteMembers: invitation pending
	RelationshipEnabled  = "Enabled"  // the member accepted and is monitored
	RelationshipDisabled = "Disabled" // associated, monitoring stopped (StopMonitoringMembers)
	RelationshipRemoved  = "Removed"  // the administrator disassociated it (DisassociateMembers)
	RelationshipResigned = "Resigned" // the member left, declined or deleted the invitation
)

// Invitation states, as the member account sees the invitation of one
// administrator.
const (
	InvitationNone     = ""         // no invitation (never invited, withdrawn or deleted)
	InvitationPending  = "PENDING"  // sent, not answered
	InvitationAccepted = "ACCEPTED" // the member is associated with that administrator
	InvitationDeclined = "DECLINED" // declined, kept until the member deletes it
)

// DefaultMaxMembers is how many member accounts one administrator may have
// in a region: the GuardDuty user guide's limit of 50,000 members per
// administrator account ("Managing GuardDuty accounts with AWS
// Organizations"), which counts members added by invitation.
const DefaultMaxMembers = 50_000

// Membership is one administrator's record of one member account in one
// region, together with the member's side of it (its invitation). One row
// serves both: the administrator's ListMembers and the member's
// ListInvitations are two views of the same pairs, so they never disagree.
type Membership struct {
	AdministratorID string
	AccountID       string
	Region          string
	Email           string
	Status          string // a Relationship* constant
	// InvitationID and InvitedAt are those of the last InviteMembers ("" and
	// zero before the first).
	InvitationID string
	InvitedAt    time.Time
	Invitation   string // an Invitation* constant
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// DetectorID is the member account's detector in the region, "" when
	// it has none. Stores fill it in on reads and ignore it on writes.
	DetectorID string
}

// associated reports whether the member accepted the administrator's
// invitation and has not left since.
func (m *Membership) associated() bool { return m.Invitation == InvitationAccepted }

// MemberStore keeps memberships.
type MemberStore interface {
	// Memberships returns up to limit memberships of the administrator
	// admin (in admin's region) whose account id sorts after `after`, in
	// account id order; with associatedOnly, only those whose invitation
	// was accepted. A limit of 0 or less means no limit.
	Memberships(ctx context.Context, admin Scope, after string, limit int, associatedOnly bool) ([]*Membership, error)
	// MembershipsOf returns the administrator's memberships of the given
	// member accounts (unknown ones are left out), in account id order.
	MembershipsOf(ctx context.Context, admin Scope, accountIDs []string) ([]*Membership, error)
	// Invitations returns up to limit memberships in which member is the
	// member account and that carry an invitation (Invitation is not
	// InvitationNone), whose administrator id sorts after `after`, in
	// administrator id order. A limit of 0 or less means no limit.
	Invitations(ctx context.Context, member Scope, after string, limit int) ([]*Membership, error)
	// ChangeMemberships reads, in one write transaction, what c names
	// (see MembershipChange), passes it to change, and stores what change
	// returns: put is inserted or replaces the membership of the same
	// administrator, account and region; del is removed. Each must have its
	// member account among c.Accounts or c.Administrator as its
	// administrator. ENOTFOUND when c names a detector that does not exist;
	// an error from change is returned as it is. Either way nothing is
	// written.
	ChangeMemberships(ctx context.Context, c MembershipChange, change func(read *MembershipsRead) (put, del []*Membership, err error)) error
}

// MembershipChange says what one ChangeMemberships reads under its write
// lock. It names accounts rather than asking for an administrator's whole
// set, so that a member operation costs the same with 5 members or 50,000.
type MembershipChange struct {
	Region string
	// Accounts: every membership of the region in which one of them is the
	// member account is read (its invitations and administrator), and how
	// many members each of them administers.
	Accounts []string
	// Administrator, when set, has every membership it administers in the
	// region read as well: for the changes that touch all of them.
	Administrator string
	// Detector, when DetectorID is set, must exist under the write lock:
	// an administrator's change then cannot land after DeleteDetector,
	// which removes the administrator's memberships with its detector.
	Detector   Scope
	DetectorID string
}

// MembershipsRead is what ChangeMemberships read.
type MembershipsRead struct {
	Memberships []*Membership
	// Administered counts, for each account of MembershipChange.Accounts
	// that administers any, its members.
	Administered map[string]MemberCounts
}

// MemberCounts counts an administrator's memberships in a region.
type MemberCounts struct {
	Members int // all of them: what the limit counts
	Active  int // Created, Invited, Enabled or Disabled: what keeps the administrator from becoming a member
}

// activeStatus reports whether a membership of that status keeps its
// administrator from becoming a member itself (AcceptAdministratorInvitation).
func activeStatus(status string) bool {
	switch status {
	case RelationshipCreated, RelationshipInvited, RelationshipEnabled, RelationshipDisabled:
		return true
	}
	return false
}

// UnprocessedAccount is an account a member operation skipped, and why (in
// the real service's words).
type UnprocessedAccount struct {
	AccountID string
	Result    string
}

// AccountDetail names an account to make a member: CreateMembers' input.
type AccountDetail struct {
	AccountID string
	Email     string
}

// MemberDetector is a member account's detector as its administrator sees
// it (GetMemberDetectors).
type MemberDetector struct {
	AccountID string
	Detector  *Detector
}

// GuardDuty's texts for member operations. Those in unprocessedAccounts
// are per account; the others are 400 BadRequestException. Where the API
// reference documents no text for a case, guardpost words it in the same
// style (marked "guardpost's wording").
const (
	msgCreateWhileMember     = "The request is rejected because the current account cannot create members since it is already an associated member of another master account."
	msgMemberOfItself        = "The request is rejected because an account cannot become a member of itself."
	msgAlreadyMember         = "The request is rejected because the given account ID is already a member or associated member of the current account."
	msgMembersLimit          = "The request is rejected because the current account cannot create anymore members since it cannot exceed the maximum number of allowed members."
	msgInviteWhileMember     = "The request is rejected because the current account cannot invite other accounts since it is already an associated member of another master account."
	msgInviteSelf            = "The request is rejected because the current account cannot invite itself."
	msgAlreadyInvited        = "The request is rejected because the current account has already invited or is already the GuardDuty master of the given member account ID."
	msgNotAssociatedMember   = "The request is rejected because the given account ID is not an associated member of account the current account."
	msgAcceptWithMembers     = "The request is rejected because the current account cannot accept invitations since it still has created, invited or associated members."
	msgAcceptWhileMember     = "The request is rejected because the current account cannot accept invitations since it is already an associated member of some master account."
	msgNoPendingInvitation   = "The request is rejected because the current account has no pending invitation from the given master account ID or is already an associated member of another master account."
	msgAdministratorIsMember = "The request is rejected because the current account cannot accept invitation from the given account ID since the latter is an associated member of another master account."
	msgNotAssociated         = "The request is rejected because the current account is not associated with a master account."
	msgDeleteStillAssociated = "The request is rejected because the current account cannot delete the invitation from the given master account ID since it is still associated to it."
	msgDeleteDetectorMembers = "The request is rejected because the current account cannot delete detector while it has invited or associated members."
	// guardpost's wording: the API reference documents no text for these.
	msgInviteAdministrator = "The request is rejected because the given account ID is a GuardDuty administrator account: it has created, invited or associated members."
	msgNoInvitation        = "The request is rejected because the current account has no invitation from the given account ID."
	msgDeclineAssociated   = "The request is rejected because the current account cannot decline the invitation from the given master account ID since it is still associated to it."
)

// validAccountID reports whether id is an AWS account id: 12 digits.
func validAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for i := range len(id) {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

func (s *Service) maxMembers() int {
	if s.MaxMembers > 0 {
		return s.MaxMembers
	}
	return DefaultMaxMembers
}

// membershipSet indexes the memberships ChangeMemberships read, and
// collects what a change writes, so that later accounts of one request see
// the effect of earlier ones (in the counts too).
type membershipSet struct {
	byPair map[[2]string]*Membership
	counts map[string]MemberCounts
	put    map[[2]string]*Membership
	del    map[[2]string]*Membership
}

func newMembershipSet(read *MembershipsRead) *membershipSet {
	ms := &membershipSet{byPair: map[[2]string]*Membership{}, counts: map[string]MemberCounts{},
		put: map[[2]string]*Membership{}, del: map[[2]string]*Membership{}}
	for _, m := range read.Memberships {
		ms.byPair[[2]string{m.AdministratorID, m.AccountID}] = m
	}
	for a, c := range read.Administered {
		ms.counts[a] = c
	}
	return ms
}

// get returns a copy of the membership of account with admin, nil when none.
func (ms *membershipSet) get(admin, account string) *Membership {
	m := ms.byPair[[2]string{admin, account}]
	if m == nil {
		return nil
	}
	c := *m
	return &c
}

// count moves the counts of m's administrator by d (1 added, -1 removed).
func (ms *membershipSet) count(m *Membership, d int) {
	c := ms.counts[m.AdministratorID]
	c.Members += d
	if activeStatus(m.Status) {
		c.Active += d
	}
	ms.counts[m.AdministratorID] = c
}

func (ms *membershipSet) store(m *Membership) {
	k := [2]string{m.AdministratorID, m.AccountID}
	if old := ms.byPair[k]; old != nil {
		ms.count(old, -1)
	}
	ms.count(m, 1)
	ms.byPair[k] = m
	ms.put[k] = m
	delete(ms.del, k)
}

func (ms *membershipSet) remove(m *Membership) {
	k := [2]string{m.AdministratorID, m.AccountID}
	if old := ms.byPair[k]; old != nil {
		ms.count(old, -1)
	}
	delete(ms.byPair, k)
	delete(ms.put, k)
	ms.del[k] = m
}

func (ms *membershipSet) result() (put, del []*Membership, err error) {
	for _, m := range ms.put {
		put = append(put, m)
	}
	for _, m := range ms.del {
		del = append(del, m)
	}
	return put, del, nil
}

// administratorOf returns the membership in which account is associated
// (its administrator), nil when it has none.
func (ms *membershipSet) administratorOf(account string) *Membership {
	for _, m := range ms.byPair {
		if m.AccountID == account && m.associated() {
			return m
		}
	}
	return nil
}

// hasMembers reports whether account administers created, invited or
// associated members: what keeps it from becoming a member itself.
func (ms *membershipSet) hasMembers(account string) bool { return ms.counts[account].Active > 0 }

func (ms *membershipSet) countMembers(admin string) int { return ms.counts[admin].Members }

// perAccount runs one member operation for each account of ids in one
// store transaction: each returns "" when done, else the text reported in
// unprocessedAccounts. Account ids that are not 12 digits are reported
// without reaching the store. An administrator's operation names its
// detector (detectorID), which must still exist when the transaction
// writes; a member's names none.
func (s *Service) perAccount(ctx context.Context, caller Scope, detectorID string, ids []string, op func(ms *membershipSet, id string) string) ([]UnprocessedAccount, error) {
	accounts := []string{caller.AccountID}
	for _, id := range ids {
		if validAccountID(id) && !slices.Contains(accounts, id) {
			accounts = append(accounts, id)
		}
	}
	var unprocessed []UnprocessedAccount
	change := MembershipChange{Region: caller.Region, Accounts: accounts, Detector: caller, DetectorID: detectorID}
	err := s.changeMemberships(ctx, change, func(read *MembershipsRead) ([]*Membership, []*Membership, error) {
		unprocessed = nil // a retried transaction starts over
		ms := newMembershipSet(read)
		for _, id := range ids {
			result := msgInvalidInput
			if validAccountID(id) {
				result = op(ms, id)
			}
			if result != "" {
				unprocessed = append(unprocessed, UnprocessedAccount{AccountID: id, Result: result})
			}
		}
		return ms.result()
	})
	return unprocessed, err
}

// changeMemberships is Store.ChangeMemberships with a missing detector
// answered as the real service answers a detector id the caller does not
// own. Every membership change goes through it.
func (s *Service) changeMemberships(ctx context.Context, c MembershipChange, change func(read *MembershipsRead) (put, del []*Membership, err error)) error {
	err := s.Store.ChangeMemberships(ctx, c, change)
	s.forgetListAdmins() // detection's view of who administers whom
	if c.DetectorID != "" && ErrorKind(err) == ENOTFOUND {
		return Errorf(EINVALID, msgDetectorNotOwned)
	}
	return err
}

// CreateMembers makes the accounts members of the caller (status Created).
// Bad, duplicate and refused accounts are reported, the others created.
func (s *Service) CreateMembers(ctx context.Context, caller Scope, detectorID string, details []AccountDetail) ([]UnprocessedAccount, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, err
	}
	// A delegated administrator's organization accounts become members
	// without an invitation.
	details, orgUnprocessed, err := s.createOrganizationMembers(ctx, caller, details)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(details))
	emails := map[string]string{}
	for i, d := range details {
		ids[i] = d.AccountID
		if _, ok := emails[d.AccountID]; !ok {
			emails[d.AccountID] = d.Email
		}
	}
	now := s.now()
	limit := s.maxMembers()
	unprocessed, err := s.perAccount(ctx, caller, detectorID, ids, func(ms *membershipSet, id string) string {
		switch {
		case ms.administratorOf(caller.AccountID) != nil:
			return msgCreateWhileMember
		case id == caller.AccountID:
			return msgMemberOfItself
		case ms.get(caller.AccountID, id) != nil:
			return msgAlreadyMember
		case ms.countMembers(caller.AccountID) >= limit:
			return msgMembersLimit
		}
		ms.store(&Membership{
			AdministratorID: caller.AccountID, AccountID: id, Region: caller.Region, Email: emails[id],
			Status: RelationshipCreated, Invitation: InvitationNone, CreatedAt: now, UpdatedAt: now,
		})
		return ""
	})
	return append(orgUnprocessed, unprocessed...), err
}

// InviteMembers invites members the caller created (or that left) to
// accept it as their administrator. Nothing is emailed.
func (s *Service) InviteMembers(ctx context.Context, caller Scope, detectorID string, accountIDs []string) ([]UnprocessedAccount, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, err
	}
	now := s.now()
	return s.perAccount(ctx, caller, detectorID, accountIDs, func(ms *membershipSet, id string) string {
		if id == caller.AccountID {
			return msgInviteSelf
		}
		if ms.administratorOf(caller.AccountID) != nil {
			return msgInviteWhileMember
		}
		m := ms.get(caller.AccountID, id)
		switch {
		case m == nil:
			return msgNotAssociatedMember
		case m.Status == RelationshipInvited || m.associated():
			return msgAlreadyInvited
		case ms.hasMembers(id):
			return msgInviteAdministrator
		}
		m.Status, m.Invitation = RelationshipInvited, InvitationPending
		m.InvitationID, m.InvitedAt, m.UpdatedAt = NewID(), now, now
		ms.store(m)
		return ""
	})
}

// AcceptAdministratorInvitation makes the caller a member of
// administratorID, accepting its pending invitation invitationID.
// Accepting the invitation the caller is already associated through again
// changes nothing.
func (s *Service) AcceptAdministratorInvitation(ctx context.Context, caller Scope, detectorID, administratorID, invitationID string) error {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return err
	}
	if !validAccountID(administratorID) || invitationID == "" {
		return Errorf(EINVALID, msgInvalidInput)
	}
	now := s.now()
	change := MembershipChange{Region: caller.Region, Accounts: []string{caller.AccountID, administratorID}}
	return s.changeMemberships(ctx, change, func(read *MembershipsRead) ([]*Membership, []*Membership, error) {
		ms := newMembershipSet(read)
		if ms.hasMembers(caller.AccountID) {
			return nil, nil, Errorf(EINVALID, msgAcceptWithMembers)
		}
		if cur := ms.administratorOf(caller.AccountID); cur != nil {
			if cur.AdministratorID == administratorID && cur.InvitationID == invitationID {
				return nil, nil, nil
			}
			return nil, nil, Errorf(EINVALID, msgAcceptWhileMember)
		}
		m := ms.get(administratorID, caller.AccountID)
		if m == nil || m.Invitation != InvitationPending || m.InvitationID != invitationID {
			return nil, nil, Errorf(EINVALID, msgNoPendingInvitation)
		}
		if ms.administratorOf(administratorID) != nil {
			return nil, nil, Errorf(EINVALID, msgAdministratorIsMember)
		}
		m.Status, m.Invitation, m.UpdatedAt = RelationshipEnabled, InvitationAccepted, now
		ms.store(m)
		return ms.result()
	})
}

// DeclineInvitations declines the caller's pending invitations from the
// given administrators. The administrator then sees the member as Resigned.
func (s *Service) DeclineInvitations(ctx context.Context, caller Scope, administratorIDs []string) ([]UnprocessedAccount, error) {
	now := s.now()
	return s.perAccount(ctx, caller, "", administratorIDs, func(ms *membershipSet, admin string) string {
		m := ms.get(admin, caller.AccountID)
		switch {
		case m == nil || m.Invitation == InvitationNone:
			return msgNoInvitation
		case m.associated():
			return msgDeclineAssociated
		case m.Invitation == InvitationDeclined:
			return ""
		}
		m.Status, m.Invitation, m.UpdatedAt = RelationshipResigned, InvitationDeclined, now
		ms.store(m)
		return ""
	})
}

// DeleteInvitations removes the caller's pending or declined invitations
// from the given administrators. A pending one counts as declined.
func (s *Service) DeleteInvitations(ctx context.Context, caller Scope, administratorIDs []string) ([]UnprocessedAccount, error) {
	now := s.now()
	return s.perAccount(ctx, caller, "", administratorIDs, func(ms *membershipSet, admin string) string {
		m := ms.get(admin, caller.AccountID)
		switch {
		case m == nil || m.Invitation == InvitationNone:
			return msgNoInvitation
		case m.associated():
			return msgDeleteStillAssociated
		case m.Invitation == InvitationPending:
			m.Status = RelationshipResigned
		}
		m.Invitation, m.UpdatedAt = InvitationNone, now
		ms.store(m)
		return ""
	})
}

// ListInvitations returns a page of the invitations the caller received in
// its region (the accepted one included), by administrator account id.
func (s *Service) ListInvitations(ctx context.Context, caller Scope, maxResults int, nextToken string) ([]*Membership, string, error) {
	return s.pageOfMemberships("invitations|"+caller.AccountID+"|"+caller.Region, maxResults, nextToken,
		func(m *Membership) string { return m.AdministratorID },
		func(after string, limit int) ([]*Membership, error) {
			ms, err := s.Store.Invitations(ctx, caller, after, limit)
			// An organization's membership came without an invitation.
			return slices.DeleteFunc(ms, (*Membership).viaOrganization), err
		})
}

// pageOfMemberships is pageOfNames over memberships named by key: read
// returns the memberships after a name, in the order of their names.
func (s *Service) pageOfMemberships(binding string, maxResults int, nextToken string, key func(*Membership) string,
	read func(after string, limit int) ([]*Membership, error)) ([]*Membership, string, error) {
	byName := map[string]*Membership{}
	names, next, err := s.pageOfNames(binding, maxResults, nextToken, func(after string, limit int) ([]string, error) {
		ms, err := read(after, limit)
		names := make([]string, len(ms))
		for i, m := range ms {
			names[i] = key(m)
			byName[names[i]] = m
		}
		return names, err
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]*Membership, len(names))
	for i, name := range names {
		out[i] = byName[name]
	}
	return out, next, nil
}

// GetInvitationsCount counts the caller's invitations in its region but
// the accepted one.
func (s *Service) GetInvitationsCount(ctx context.Context, caller Scope) (int, error) {
	ms, err := s.Store.Invitations(ctx, caller, "", 0)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		if !m.associated() {
			n++
		}
	}
	return n, nil
}

// GetAdministratorAccount returns the membership through which the caller
// is associated with its administrator, nil when it has none.
func (s *Service) GetAdministratorAccount(ctx context.Context, caller Scope, detectorID string) (*Membership, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, err
	}
	return s.associatedWith(ctx, caller)
}

// DisassociateFromAdministratorAccount ends the caller's membership: its
// administrator then sees it as Resigned and no longer sees its findings.
// The invitation stays pending, so that the member may accept it again
// (AWS's multi-account enable script accepts the listed invitation of a
// Resigned member rather than asking for a new one).
func (s *Service) DisassociateFromAdministratorAccount(ctx context.Context, caller Scope, detectorID string) error {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return err
	}
	now := s.now()
	change := MembershipChange{Region: caller.Region, Accounts: []string{caller.AccountID}}
	return s.changeMemberships(ctx, change, func(read *MembershipsRead) ([]*Membership, []*Membership, error) {
		ms := newMembershipSet(read)
		m := ms.administratorOf(caller.AccountID)
		if m == nil {
			return nil, nil, Errorf(EINVALID, msgNotAssociated)
		}
		if m.viaOrganization() {
			return nil, nil, Errorf(EINVALID, msgOrganizationResign)
		}
		c := *m
		c.Status, c.Invitation, c.UpdatedAt = RelationshipResigned, InvitationPending, now
		ms.store(&c)
		return ms.result()
	})
}

// ListMembers returns a page of the caller's members in its region, by
// account id: only associated ones (accepted, monitored or not) when
// onlyAssociated is set, else all.
func (s *Service) ListMembers(ctx context.Context, caller Scope, detectorID string, onlyAssociated bool, maxResults int, nextToken string) ([]*Membership, string, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, "", err
	}
	binding := "members|" + caller.AccountID + "|" + caller.Region + "|" + detectorID
	if onlyAssociated {
		binding += "|associated"
	}
	return s.pageOfMemberships(binding, maxResults, nextToken, func(m *Membership) string { return m.AccountID },
		func(after string, limit int) ([]*Membership, error) {
			return s.Store.Memberships(ctx, caller, after, limit, onlyAssociated)
		})
}

// membershipsOf reads the caller's memberships of ids, reporting bad and
// unknown accounts (and those want rejects) as unprocessed, each once.
func (s *Service) membershipsOf(ctx context.Context, caller Scope, detectorID string, ids []string, want func(*Membership) bool) ([]*Membership, []UnprocessedAccount, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, nil, err
	}
	var valid []string
	for _, id := range ids {
		if validAccountID(id) && !slices.Contains(valid, id) {
			valid = append(valid, id)
		}
	}
	found, err := s.Store.MembershipsOf(ctx, caller, valid)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]*Membership{}
	for _, m := range found {
		byID[m.AccountID] = m
	}
	var (
		out         []*Membership
		unprocessed []UnprocessedAccount
		seen        = map[string]bool{}
	)
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		m := byID[id]
		switch {
		case !validAccountID(id):
			unprocessed = append(unprocessed, UnprocessedAccount{AccountID: id, Result: msgInvalidInput})
		case m == nil || !want(m):
			unprocessed = append(unprocessed, UnprocessedAccount{AccountID: id, Result: msgNotAssociatedMember})
		default:
			out = append(out, m)
		}
	}
	return out, unprocessed, nil
}

// GetMembers returns the caller's members among ids, whatever their status.
func (s *Service) GetMembers(ctx context.Context, caller Scope, detectorID string, ids []string) ([]*Membership, []UnprocessedAccount, error) {
	return s.membershipsOf(ctx, caller, detectorID, ids, func(*Membership) bool { return true })
}

// DisassociateMembers ends the association (or withdraws the invitation)
// of the given members, who stay members (Removed) until deleted.
func (s *Service) DisassociateMembers(ctx context.Context, caller Scope, detectorID string, ids []string) ([]UnprocessedAccount, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, err
	}
	// An organization that auto-enables ALL accounts keeps its members: the
	// user guide has the administrator switch to NEW or NONE first.
	org, err := s.delegatedAdministration(ctx, caller)
	if err != nil {
		return nil, err
	}
	keepsAll := org != nil && org.AutoEnable == AutoEnableAll
	now := s.now()
	return s.perAccount(ctx, caller, detectorID, ids, func(ms *membershipSet, id string) string {
		m := ms.get(caller.AccountID, id)
		if m == nil {
			return msgNotAssociatedMember
		}
		if keepsAll && m.viaOrganization() {
			return msgDisassociateAutoEnableAll
		}
		if m.Invitation == InvitationPending || m.associated() {
			m.Status, m.Invitation, m.UpdatedAt = RelationshipRemoved, InvitationNone, now
			ms.store(m)
		}
		return ""
	})
}

// DeleteMembers removes the given members, disassociating those still
// associated.
func (s *Service) DeleteMembers(ctx context.Context, caller Scope, detectorID string, ids []string) ([]UnprocessedAccount, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, err
	}
	return s.perAccount(ctx, caller, detectorID, ids, func(ms *membershipSet, id string) string {
		m := ms.get(caller.AccountID, id)
		if m == nil {
			return msgNotAssociatedMember
		}
		ms.remove(m)
		return ""
	})
}

// setMonitoring starts (Enabled) or stops (Disabled) monitoring of the
// given associated members.
func (s *Service) setMonitoring(ctx context.Context, caller Scope, detectorID string, ids []string, status string) ([]UnprocessedAccount, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, err
	}
	now := s.now()
	return s.perAccount(ctx, caller, detectorID, ids, func(ms *membershipSet, id string) string {
		m := ms.get(caller.AccountID, id)
		if m == nil || !m.associated() {
			return msgNotAssociatedMember
		}
		if m.Status != status {
			m.Status, m.UpdatedAt = status, now
			ms.store(m)
		}
		return ""
	})
}

// StartMonitoringMembers resumes monitoring of associated members.
func (s *Service) StartMonitoringMembers(ctx context.Context, caller Scope, detectorID string, ids []string) ([]UnprocessedAccount, error) {
	return s.setMonitoring(ctx, caller, detectorID, ids, RelationshipEnabled)
}

// StopMonitoringMembers stops monitoring of associated members: they stay
// associated (Disabled) and the administrator no longer sees their findings.
func (s *Service) StopMonitoringMembers(ctx context.Context, caller Scope, detectorID string, ids []string) ([]UnprocessedAccount, error) {
	return s.setMonitoring(ctx, caller, detectorID, ids, RelationshipDisabled)
}

// memberDetectorsOf returns the associated members among ids that have a
// detector; the others are unprocessed.
func (s *Service) memberDetectorsOf(ctx context.Context, caller Scope, detectorID string, ids []string) ([]*Membership, []UnprocessedAccount, error) {
	return s.membershipsOf(ctx, caller, detectorID, ids, func(m *Membership) bool { return m.associated() && m.DetectorID != "" })
}

// GetMemberDetectors returns the detectors of associated members.
func (s *Service) GetMemberDetectors(ctx context.Context, caller Scope, detectorID string, ids []string) ([]MemberDetector, []UnprocessedAccount, error) {
	ms, unprocessed, err := s.memberDetectorsOf(ctx, caller, detectorID, ids)
	if err != nil {
		return nil, nil, err
	}
	var out []MemberDetector
	for _, m := range ms {
		d, err := s.Store.Detector(ctx, Scope{AccountID: m.AccountID, Region: m.Region}, m.DetectorID)
		if ErrorKind(err) == ENOTFOUND { // deleted since
			unprocessed = append(unprocessed, UnprocessedAccount{AccountID: m.AccountID, Result: msgNotAssociatedMember})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, MemberDetector{AccountID: m.AccountID, Detector: d})
	}
	return out, unprocessed, nil
}

// UpdateMemberDetectors changes the protection plans of associated
// members' detectors. settings names features only (no status or
// frequency); an invalid one fails the whole request before any change.
func (s *Service) UpdateMemberDetectors(ctx context.Context, caller Scope, detectorID string, ids []string, settings DetectorSettings) ([]UnprocessedAccount, error) {
	settings.Enable, settings.FindingPublishingFrequency = nil, ""
	now := s.now()
	if err := applySettings(newDetector(caller, now), settings, now); err != nil {
		return nil, err
	}
	ms, unprocessed, err := s.memberDetectorsOf(ctx, caller, detectorID, ids)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		err := s.Store.UpdateDetector(ctx, Scope{AccountID: m.AccountID, Region: m.Region}, m.DetectorID, func(d *Detector) error {
			return applySettings(d, settings, now)
		})
		if ErrorKind(err) == ENOTFOUND {
			unprocessed = append(unprocessed, UnprocessedAccount{AccountID: m.AccountID, Result: msgNotAssociatedMember})
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return unprocessed, nil
}

// administratorFilters returns the filters of the detector of the
// caller's administrator in the region (none when the caller is not an
// associated member): the user guide's suppression rules, which an
// administrator sets for all its members.
func (s *Service) administratorFilters(ctx context.Context, caller Scope) ([]*Filter, error) {
	m, err := s.associatedWith(ctx, caller)
	if err != nil || m == nil {
		return nil, err
	}
	admin := Scope{AccountID: m.AdministratorID, Region: caller.Region}
	ds, err := s.Store.Detectors(ctx, admin, "", 1)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return s.Store.Filters(ctx, admin, ds[0].ID, "", 0)
}

// Administers reports whether account is an associated member (monitored
// or not) of admin in admin's region: what lets an administrator assume a
// role in its members' accounts (STS AssumeRole, as the multi-account
// scripts AWS publishes do).
func (s *Service) Administers(ctx context.Context, admin Scope, account string) (bool, error) {
	if !validAccountID(account) || account == admin.AccountID {
		return false, nil
	}
	ms, err := s.Store.Invitations(ctx, Scope{AccountID: account, Region: admin.Region}, "", 0)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ms, func(m *Membership) bool { return m.associated() && m.AdministratorID == admin.AccountID }), nil
}

// What the user guide ("Understanding the relationship between GuardDuty
// administrator account and member accounts") reserves for the
// administrator: suppression rules, trusted IP lists and threat lists
// are configured by the administrator for all its members, and "a member
// account can't update this configuration". The first text is the one the
// GuardDuty API reference documents for the IP set and threat intel set
// operations; the API reference documents none for entity sets and
// filters, so those two are guardpost's wording in the same style.
const (
	msgMemberManagesLists       = "The request is rejected. Member accounts cannot manage IPSets or ThreatIntelSets."
	msgMemberManagesEntitySets  = "The request is rejected. Member accounts cannot manage TrustedEntitySets or ThreatEntitySets."
	msgMemberManagesSuppression = "The request is rejected. Member accounts cannot manage suppression rules (filters whose action is ARCHIVE): their administrator account's apply to them."
)

// associatedWith returns the membership through which the caller is an
// associated member (monitored or not), nil when it is none.
func (s *Service) associatedWith(ctx context.Context, caller Scope) (*Membership, error) {
	ms, err := s.Store.Invitations(ctx, caller, "", 0)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(ms, (*Membership).associated); i >= 0 {
		return ms[i], nil
	}
	return nil, nil
}

// refuseMember answers msg when the caller is an associated member.
func (s *Service) refuseMember(ctx context.Context, caller Scope, msg string) error {
	m, err := s.associatedWith(ctx, caller)
	if err != nil {
		return err
	}
	if m != nil {
		return Errorf(EINVALID, "%s", msg)
	}
	return nil
}

// refuseMemberLists refuses an associated member any change to its threat
// lists of kind.
func (s *Service) refuseMemberLists(ctx context.Context, caller Scope, kind ThreatListKind) error {
	msg := msgMemberManagesLists
	if listRules[kind].domains {
		msg = msgMemberManagesEntitySets
	}
	return s.refuseMember(ctx, caller, msg)
}
