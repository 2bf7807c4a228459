package guardpost

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"
)

// Auto-enable settings of an organization (autoEnableOrganizationMembers,
// and each feature's autoEnable), as the GuardDuty API spells them.
const (
	AutoEnableNew  = "NEW"  // accounts that join the organization later are enabled
	AutoEnableAll  = "ALL"  // every account of the organization is enabled, existing ones too
	AutoEnableNone = "NONE" // the administrator enables accounts itself (CreateMembers)
)

// Admin status of a delegated administrator (ListOrganizationAdminAccounts).
const AdminStatusEnabled = "ENABLED"

// OrganizationAccount places one account in an AWS Organization, as the
// credentials file declares it (organization_id, organization_role).
type OrganizationAccount struct {
	AccountID      string
	OrganizationID string
	// Management marks the organization's management account: the one that
	// designates the GuardDuty delegated administrator.
	Management bool
}

// Organizations is the directory of organizations the server knows: which
// organization each account belongs to. It is configuration (the
// credentials file), not stored state; the zero value knows none.
type Organizations struct {
	byAccount map[string]OrganizationAccount
	accounts  map[string][]string // organization id → its accounts, sorted
	manager   map[string]string   // organization id → management account
}

// NewOrganizations builds the directory. An account declared twice must be
// declared alike, and an organization has at most one management account.
func NewOrganizations(accounts []OrganizationAccount) (*Organizations, error) {
	o := &Organizations{byAccount: map[string]OrganizationAccount{}, accounts: map[string][]string{}, manager: map[string]string{}}
	for _, a := range accounts {
		if a.OrganizationID == "" {
			continue
		}
		if prev, ok := o.byAccount[a.AccountID]; ok {
			if prev != a {
				return nil, fmt.Errorf("account %s is declared with organization %s (%s) and %s (%s)",
					a.AccountID, prev.OrganizationID, roleName(prev.Management), a.OrganizationID, roleName(a.Management))
			}
			continue
		}
		if a.Management {
			if m, ok := o.manager[a.OrganizationID]; ok {
				return nil, fmt.Errorf("organization %s has two management accounts: %s and %s", a.OrganizationID, m, a.AccountID)
			}
			o.manager[a.OrganizationID] = a.AccountID
		}
		o.byAccount[a.AccountID] = a
		o.accounts[a.OrganizationID] = append(o.accounts[a.OrganizationID], a.AccountID)
	}
	for _, ids := range o.accounts {
		sort.Strings(ids)
	}
	return o, nil
}

func roleName(management bool) string {
	if management {
		return "management"
	}
	return "member"
}

// Of returns the organization account is in, false when none.
func (o *Organizations) Of(account string) (OrganizationAccount, bool) {
	if o == nil {
		return OrganizationAccount{}, false
	}
	a, ok := o.byAccount[account]
	return a, ok
}

// Accounts returns the accounts of an organization, sorted.
func (o *Organizations) Accounts(organizationID string) []string {
	if o == nil {
		return nil
	}
	return o.accounts[organizationID]
}

// IDs returns the organizations the directory knows, sorted.
func (o *Organizations) IDs() []string {
	if o == nil {
		return nil
	}
	var ids []string
	for id := range o.accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// OrganizationFeature is one protection plan's auto-enable setting for an
// organization's members, with its additional configurations'.
type OrganizationFeature struct {
	Name       string
	AutoEnable string
	Additional []OrganizationAdditional
}

// OrganizationAdditional is an additional configuration's auto-enable
// setting.
type OrganizationAdditional struct {
	Name       string
	AutoEnable string
}

// OrganizationConfig is an organization's GuardDuty state in one region:
// its delegated administrator and the auto-enable settings that
// administrator chose. It exists from EnableOrganizationAdminAccount to
// DisableOrganizationAdminAccount.
type OrganizationConfig struct {
	OrganizationID  string
	Region          string
	AdministratorID string
	// AutoEnable is autoEnableOrganizationMembers: an AutoEnable* constant.
	AutoEnable string
	// Features holds every configurable feature (see optionalFeatures).
	Features []OrganizationFeature
	// KnownAccounts are the organization's accounts already seen in this
	// region: an account of the directory not among them joined later, and
	// is what AutoEnableNew enables.
	KnownAccounts []string
	EnabledAt     time.Time
	UpdatedAt     time.Time
}

// OrganizationStore keeps organizations' GuardDuty state.
type OrganizationStore interface {
	// OrganizationConfigs returns the organization's state in every region
	// where it has a delegated administrator, by region.
	OrganizationConfigs(ctx context.Context, organizationID string) ([]*OrganizationConfig, error)
	// ChangeOrganization reads the organization's state in the region (nil
	// when it has no delegated administrator there), passes it to change
	// and stores what change returns (nil removes it), in one write
	// transaction. An error from change is returned as it is and nothing
	// is written.
	ChangeOrganization(ctx context.Context, organizationID, region string, change func(current *OrganizationConfig) (*OrganizationConfig, error)) error
}

// GuardDuty's texts for organization operations. Where the API reference
// documents no text, guardpost words it in the same style (marked).
const (
	msgAdminAlreadyEnabled = "The request failed because the account is already enabled as the GuardDuty delegated administrator for the organization."
	msgMasterNoDetector    = "Operation failed because your organization master must first enable GuardDuty to be added as a member"
	msgAutoEnableRequired  = "The request is rejected because you must provide a value for either autoEnableOrganizationMembers or autoEnable."
	// guardpost's wording: the API reference documents no text for these.
	msgNotManagement             = "The request is rejected because the current account is not the management account of an organization."
	msgNotInOrganization         = "The request is rejected because the given account ID is not an account of the current account's organization."
	msgNotDelegatedAdmin         = "The request is rejected because the given account ID is not the GuardDuty delegated administrator of the organization."
	msgCallerNotAdmin            = "The request is rejected because the current account is not the GuardDuty delegated administrator of an organization."
	msgAdminIsMember             = "The request is rejected because the given account ID is an associated member of another master account."
	msgMemberOfOther             = "The request is rejected because the given account ID is already an associated member of another master account."
	msgOrganizationResign        = "The request is rejected because the current account is a member of its organization's GuardDuty delegated administrator and cannot disassociate itself."
	msgDisassociateAutoEnableAll = "The request is rejected because the organization's autoEnableOrganizationMembers is ALL: set it to NEW or NONE before disassociating organization members."
	msgOrganizationNotFound      = "The request is rejected because the given account ID is not an account of the delegated administrator's organization."
)

// viaOrganization reports whether the membership is an organization's: the
// delegated administrator added the account without an invitation.
func (m *Membership) viaOrganization() bool { return m.associated() && m.InvitationID == "" }

// management returns the caller's organization when the caller is its
// management account, else the real service's 400.
func (s *Service) management(caller Scope) (OrganizationAccount, error) {
	org, ok := s.organizations().Of(caller.AccountID)
	if !ok || !org.Management {
		return OrganizationAccount{}, Errorf(EINVALID, msgNotManagement)
	}
	return org, nil
}

// organizationConfig returns the organization's state in the region, nil
// when it has no delegated administrator there.
func (s *Service) organizationConfig(ctx context.Context, organizationID, region string) (*OrganizationConfig, error) {
	cs, err := s.Store.OrganizationConfigs(ctx, organizationID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Region == region {
			return c, nil
		}
	}
	return nil, nil
}

// delegatedAdministration returns the organization the caller is the
// delegated administrator of in its region, nil when none.
func (s *Service) delegatedAdministration(ctx context.Context, caller Scope) (*OrganizationConfig, error) {
	org, ok := s.organizations().Of(caller.AccountID)
	if !ok {
		return nil, nil
	}
	c, err := s.organizationConfig(ctx, org.OrganizationID, caller.Region)
	if err != nil || c == nil || c.AdministratorID != caller.AccountID {
		return nil, err
	}
	return c, nil
}

// defaultOrganizationFeatures is a new organization's feature settings:
// none auto-enabled.
func defaultOrganizationFeatures() []OrganizationFeature {
	out := make([]OrganizationFeature, 0, len(optionalFeatures))
	for _, of := range optionalFeatures {
		f := OrganizationFeature{Name: of.Name, AutoEnable: AutoEnableNone}
		for _, a := range of.Additional {
			f.Additional = append(f.Additional, OrganizationAdditional{Name: a, AutoEnable: AutoEnableNone})
		}
		out = append(out, f)
	}
	return out
}

// EnableOrganizationAdminAccount designates adminID, an account of the
// caller's organization, as its GuardDuty delegated administrator in the
// caller's region. The caller must be the organization's management
// account. The administrator's members by invitation that belong to the
// organization become organization members.
func (s *Service) EnableOrganizationAdminAccount(ctx context.Context, caller Scope, adminID string) error {
	org, err := s.management(caller)
	if err != nil {
		return err
	}
	if !validAccountID(adminID) {
		return Errorf(EINVALID, msgInvalidInput)
	}
	if a, ok := s.organizations().Of(adminID); !ok || a.OrganizationID != org.OrganizationID {
		return Errorf(EINVALID, msgNotInOrganization)
	}
	// An associated member of another administrator cannot administer.
	ms, err := s.Store.Invitations(ctx, Scope{AccountID: adminID, Region: caller.Region}, "", 0)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(ms, (*Membership).associated) {
		return Errorf(EINVALID, msgAdminIsMember)
	}
	now := s.now()
	err = s.Store.ChangeOrganization(ctx, org.OrganizationID, caller.Region, func(cur *OrganizationConfig) (*OrganizationConfig, error) {
		if cur != nil {
			return nil, Errorf(EINVALID, msgAdminAlreadyEnabled)
		}
		return &OrganizationConfig{
			OrganizationID: org.OrganizationID, Region: caller.Region, AdministratorID: adminID,
			AutoEnable: AutoEnableNone, Features: defaultOrganizationFeatures(),
			KnownAccounts: slices.Clone(s.organizations().Accounts(org.OrganizationID)), EnabledAt: now, UpdatedAt: now,
		}, nil
	})
	if err != nil {
		return err
	}
	// Members by invitation that are accounts of the organization are now
	// managed through it (the user guide: an organization account is
	// managed by the delegated administrator, not by invitation).
	orgAccounts := s.organizations().Accounts(org.OrganizationID)
	return s.changeMemberships(ctx, MembershipChange{Region: caller.Region, Administrator: adminID}, func(read *MembershipsRead) ([]*Membership, []*Membership, error) {
		set := newMembershipSet(read)
		for _, m := range read.Memberships {
			if m.AdministratorID == adminID && m.associated() && slices.Contains(orgAccounts, m.AccountID) && !m.viaOrganization() {
				c := *m
				c.InvitationID, c.InvitedAt, c.UpdatedAt = "", time.Time{}, now
				set.store(&c)
			}
		}
		return set.result()
	})
}

// DisableOrganizationAdminAccount removes adminID as the delegated
// administrator of the caller's organization in the caller's region: the
// organization's accounts stop being its members, and its view of their
// findings ends at once. Members by invitation stay.
func (s *Service) DisableOrganizationAdminAccount(ctx context.Context, caller Scope, adminID string) error {
	org, err := s.management(caller)
	if err != nil {
		return err
	}
	if !validAccountID(adminID) {
		return Errorf(EINVALID, msgInvalidInput)
	}
	err = s.Store.ChangeOrganization(ctx, org.OrganizationID, caller.Region, func(cur *OrganizationConfig) (*OrganizationConfig, error) {
		if cur == nil || cur.AdministratorID != adminID {
			return nil, Errorf(EINVALID, msgNotDelegatedAdmin)
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	orgAccounts := s.organizations().Accounts(org.OrganizationID)
	return s.changeMemberships(ctx, MembershipChange{Region: caller.Region, Administrator: adminID}, func(read *MembershipsRead) ([]*Membership, []*Membership, error) {
		set := newMembershipSet(read)
		for _, m := range read.Memberships {
			// Organization memberships: associated without an invitation, or
			// organization accounts never invited (disassociated since).
			if m.AdministratorID == adminID && slices.Contains(orgAccounts, m.AccountID) && m.InvitationID == "" {
				set.remove(m)
			}
		}
		return set.result()
	})
}

// ListOrganizationAdminAccounts returns the delegated administrator of the
// caller's organization in the caller's region (at most one). Only the
// management account may ask.
func (s *Service) ListOrganizationAdminAccounts(ctx context.Context, caller Scope, maxResults int, nextToken string) ([]string, string, error) {
	org, err := s.management(caller)
	if err != nil {
		return nil, "", err
	}
	c, err := s.organizationConfig(ctx, org.OrganizationID, caller.Region)
	if err != nil {
		return nil, "", err
	}
	return s.pageOfNames("admins|"+org.OrganizationID+"|"+caller.Region, maxResults, nextToken, func(after string, limit int) ([]string, error) {
		if c == nil || c.AdministratorID <= after {
			return nil, nil
		}
		return []string{c.AdministratorID}, nil
	})
}

// ManagesOrganizationAccount reports whether admin is the management account of
// account's organization: what lets it assume a role in that account (STS
// AssumeRole, as AWS's organization scripts do).
func (s *Service) ManagesOrganizationAccount(admin Scope, account string) bool {
	if account == admin.AccountID {
		return false
	}
	m, ok := s.organizations().Of(admin.AccountID)
	if !ok || !m.Management {
		return false
	}
	a, ok := s.organizations().Of(account)
	return ok && a.OrganizationID == m.OrganizationID
}

// OrganizationConfigUpdate is UpdateOrganizationConfiguration's input:
// nil and empty mean "not given".
type OrganizationConfigUpdate struct {
	AutoEnable        *bool  // deprecated: true is NEW, false NONE
	AutoEnableMembers string // an AutoEnable* constant
	Features          []OrganizationFeature
}

// adminConfig resolves the organization the caller administers through
// its detector detectorID, answering the real service's 400s.
func (s *Service) adminConfig(ctx context.Context, caller Scope, detectorID string) (*OrganizationConfig, error) {
	if _, err := s.detector(ctx, caller, detectorID); err != nil {
		return nil, err
	}
	c, err := s.delegatedAdministration(ctx, caller)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, Errorf(EINVALID, msgCallerNotAdmin)
	}
	return c, nil
}

// DescribeOrganizationConfiguration returns the auto-enable settings of
// the organization the caller administers.
func (s *Service) DescribeOrganizationConfiguration(ctx context.Context, caller Scope, detectorID string) (*OrganizationConfig, error) {
	if _, err := s.adminConfig(ctx, caller, detectorID); err != nil {
		return nil, err
	}
	if err := s.syncOrganization(ctx, caller); err != nil {
		return nil, err
	}
	return s.adminConfig(ctx, caller, detectorID)
}

func validAutoEnable(v string) bool {
	return v == AutoEnableNew || v == AutoEnableAll || v == AutoEnableNone
}

// UpdateOrganizationConfiguration changes the organization's auto-enable
// settings and applies them as the user guide says: ALL enables every
// account of the organization now (and the features set to ALL on every
// member's detector); NEW only those that join later; NONE changes
// nothing for existing accounts.
func (s *Service) UpdateOrganizationConfiguration(ctx context.Context, caller Scope, detectorID string, upd OrganizationConfigUpdate) error {
	if upd.AutoEnableMembers == "" && upd.AutoEnable == nil {
		return Errorf(EINVALID, msgAutoEnableRequired)
	}
	if upd.AutoEnableMembers != "" && !validAutoEnable(upd.AutoEnableMembers) {
		return Errorf(EINVALID, msgInvalidInput)
	}
	seen := map[string]bool{}
	for _, f := range upd.Features {
		i := slices.IndexFunc(optionalFeatures, func(of struct {
			Name       string
			Additional []string
			Default    string
		}) bool {
			return of.Name == f.Name
		})
		if i < 0 || seen[f.Name] || f.AutoEnable != "" && !validAutoEnable(f.AutoEnable) {
			return Errorf(EINVALID, msgInvalidInput)
		}
		seen[f.Name] = true
		for _, a := range f.Additional {
			if !slices.Contains(optionalFeatures[i].Additional, a.Name) || a.AutoEnable != "" && !validAutoEnable(a.AutoEnable) {
				return Errorf(EINVALID, msgInvalidInput)
			}
		}
	}
	c, err := s.adminConfig(ctx, caller, detectorID)
	if err != nil {
		return err
	}
	now := s.now()
	var updated *OrganizationConfig
	err = s.Store.ChangeOrganization(ctx, c.OrganizationID, caller.Region, func(cur *OrganizationConfig) (*OrganizationConfig, error) {
		if cur == nil || cur.AdministratorID != caller.AccountID {
			return nil, Errorf(EINVALID, msgCallerNotAdmin)
		}
		n := *cur
		n.Features = slices.Clone(cur.Features)
		switch {
		case upd.AutoEnableMembers != "":
			n.AutoEnable = upd.AutoEnableMembers
		case *upd.AutoEnable:
			n.AutoEnable = AutoEnableNew
		default:
			n.AutoEnable = AutoEnableNone
		}
		for _, f := range upd.Features {
			i := slices.IndexFunc(n.Features, func(g OrganizationFeature) bool { return g.Name == f.Name })
			g := n.Features[i]
			g.Additional = slices.Clone(g.Additional)
			if f.AutoEnable != "" {
				g.AutoEnable = f.AutoEnable
			}
			for _, a := range f.Additional {
				j := slices.IndexFunc(g.Additional, func(h OrganizationAdditional) bool { return h.Name == a.Name })
				if a.AutoEnable != "" {
					g.Additional[j].AutoEnable = a.AutoEnable
				}
			}
			n.Features[i] = g
		}
		n.UpdatedAt = now
		updated = &n
		return &n, nil
	})
	if err != nil {
		return err
	}
	if updated.AutoEnable == AutoEnableAll {
		for _, id := range s.organizations().Accounts(updated.OrganizationID) {
			if _, err := s.enableOrganizationMember(ctx, updated, id, "", false, true); err != nil {
				return err
			}
		}
	}
	if err := s.applyFeaturesToAll(ctx, caller, updated); err != nil {
		return err
	}
	return s.syncOrganization(ctx, caller)
}

// featureSettings is the detector settings org's features give a member:
// with all, only the features set to ALL (for existing members); else
// every feature, enabled when NEW or ALL and disabled when NONE (for a
// member enabled now).
func featureSettings(org *OrganizationConfig, all bool) DetectorSettings {
	status := func(auto string) string {
		switch {
		case auto == AutoEnableAll || auto == AutoEnableNew && !all:
			return DetectorEnabled
		case all:
			return ""
		}
		return DetectorDisabled
	}
	var out DetectorSettings
	for _, f := range org.Features {
		df := DetectorFeature{Name: f.Name, Status: status(f.AutoEnable)}
		for _, a := range f.Additional {
			if st := status(a.AutoEnable); st != "" {
				df.AdditionalConfiguration = append(df.AdditionalConfiguration, FeatureConfiguration{Name: a.Name, Status: st})
			}
		}
		if df.Status != "" || len(df.AdditionalConfiguration) > 0 {
			out.Features = append(out.Features, df)
		}
	}
	return out
}

// enabledFeatures is the detector settings that turn on the features org
// auto-enables (NEW or ALL), leaving the others as they are.
func enabledFeatures(org *OrganizationConfig) DetectorSettings {
	all := featureSettings(org, false)
	var out DetectorSettings
	for _, f := range all.Features {
		if f.Status != DetectorEnabled {
			f.Status = ""
		}
		f.AdditionalConfiguration = slices.DeleteFunc(f.AdditionalConfiguration, func(a FeatureConfiguration) bool { return a.Status != DetectorEnabled })
		if f.Status != "" || len(f.AdditionalConfiguration) > 0 {
			out.Features = append(out.Features, f)
		}
	}
	return out
}

// applyFeaturesToAll enables the features set to ALL on the detectors of
// every organization member of the caller.
func (s *Service) applyFeaturesToAll(ctx context.Context, caller Scope, org *OrganizationConfig) error {
	settings := featureSettings(org, true)
	if len(settings.Features) == 0 {
		return nil
	}
	ms, err := s.Store.Memberships(ctx, caller, "", 0, true)
	if err != nil {
		return err
	}
	now := s.now()
	for _, m := range ms {
		if !m.viaOrganization() || m.DetectorID == "" {
			continue
		}
		err := s.Store.UpdateDetector(ctx, Scope{AccountID: m.AccountID, Region: m.Region}, m.DetectorID, func(d *Detector) error {
			return applySettings(d, settings, now)
		})
		if err != nil && ErrorKind(err) != ENOTFOUND {
			return err
		}
	}
	return nil
}

// syncOrganization enables, when the organization the caller administers
// auto-enables NEW or ALL accounts, the accounts that joined it since it
// last looked (accounts of the directory not yet known), and records them
// as known.
func (s *Service) syncOrganization(ctx context.Context, caller Scope) error {
	c, err := s.delegatedAdministration(ctx, caller)
	if err != nil || c == nil {
		return err
	}
	return s.syncConfig(ctx, c)
}

func (s *Service) syncConfig(ctx context.Context, c *OrganizationConfig) error {
	var joined []string
	for _, id := range s.organizations().Accounts(c.OrganizationID) {
		if !slices.Contains(c.KnownAccounts, id) {
			joined = append(joined, id)
		}
	}
	if len(joined) == 0 {
		return nil
	}
	if c.AutoEnable == AutoEnableNew || c.AutoEnable == AutoEnableAll {
		for _, id := range joined {
			if _, err := s.enableOrganizationMember(ctx, c, id, "", false, false); err != nil {
				return err
			}
		}
	}
	return s.Store.ChangeOrganization(ctx, c.OrganizationID, c.Region, func(cur *OrganizationConfig) (*OrganizationConfig, error) {
		if cur == nil || cur.AdministratorID != c.AdministratorID {
			return cur, nil
		}
		n := *cur
		n.KnownAccounts = slices.Clone(cur.KnownAccounts)
		for _, id := range joined {
			if !slices.Contains(n.KnownAccounts, id) {
				n.KnownAccounts = append(n.KnownAccounts, id)
			}
		}
		sort.Strings(n.KnownAccounts)
		return &n, nil
	})
}

// SyncOrganizations brings every organization up to date with the
// directory (accounts added to the credentials file since the last start
// joined their organization): run at start.
func (s *Service) SyncOrganizations(ctx context.Context) error {
	for _, id := range s.organizations().IDs() {
		cs, err := s.Store.OrganizationConfigs(ctx, id)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := s.syncConfig(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableOrganizationMember makes account a member of the organization's
// delegated administrator without an invitation (relationship Enabled),
// creating its detector when it has none, with the organization's feature
// settings. It returns the reason the account was skipped, "" when it is a
// member now. explicit is CreateMembers' case: the administrator named the
// account itself (with email, kept as the member's address). readmit brings back a member the administrator removed
// (CreateMembers, and ALL, which the API reference says includes accounts
// removed from the organization in GuardDuty).
func (s *Service) enableOrganizationMember(ctx context.Context, org *OrganizationConfig, account, email string, explicit, readmit bool) (string, error) {
	admin := org.AdministratorID
	if account == admin {
		return msgMemberOfItself, nil
	}
	a, ok := s.organizations().Of(account)
	if !ok || a.OrganizationID != org.OrganizationID {
		return msgOrganizationNotFound, nil
	}
	scope := Scope{AccountID: account, Region: org.Region}
	ds, err := s.Store.Detectors(ctx, scope, "", 1)
	if err != nil {
		return "", err
	}
	if len(ds) == 0 && a.Management {
		return msgMasterNoDetector, nil
	}
	now := s.now()
	result, member := "", false
	change := MembershipChange{Region: org.Region, Accounts: []string{admin, account}}
	err = s.changeMemberships(ctx, change, func(read *MembershipsRead) ([]*Membership, []*Membership, error) {
		result, member = "", false
		set := newMembershipSet(read)
		if other := set.administratorOf(account); other != nil && other.AdministratorID != admin {
			result = msgMemberOfOther
			return nil, nil, nil
		}
		if set.hasMembers(account) {
			result = msgInviteAdministrator
			return nil, nil, nil
		}
		m := set.get(admin, account)
		switch {
		case m != nil && m.viaOrganization():
			member = true
			return nil, nil, nil // already a member (a Disabled one stays so)
		case m != nil && m.Status == RelationshipRemoved && !readmit:
			return nil, nil, nil // the administrator removed it: back when named, or with ALL
		case m == nil:
			m = &Membership{AdministratorID: admin, AccountID: account, Region: org.Region, CreatedAt: now}
		}
		m.Status, m.Invitation, m.InvitationID, m.InvitedAt, m.UpdatedAt = RelationshipEnabled, InvitationAccepted, "", time.Time{}, now
		if email != "" {
			m.Email = email
		}
		set.store(m)
		member = true
		return set.result()
	})
	if err != nil || !member {
		return result, err
	}
	// A member has GuardDuty enabled: the administrator enables it (a
	// detector with the organization's features) when the account has none.
	switch {
	case len(ds) == 0:
		if _, err := s.CreateDetector(ctx, scope, "", featureSettings(org, false), nil); err != nil && ErrorKind(err) != ECONFLICT {
			return "", err
		}
	case explicit:
		// CreateMembers applies the auto-enable settings to the accounts
		// it names, new or existing (API reference, CreateMembers): the
		// features auto-enabled for NEW or ALL accounts are turned on.
		if settings := enabledFeatures(org); len(settings.Features) > 0 {
			err := s.Store.UpdateDetector(ctx, scope, ds[0].ID, func(d *Detector) error { return applySettings(d, settings, now) })
			if err != nil && ErrorKind(err) != ENOTFOUND {
				return "", err
			}
		}
	}
	return "", nil
}

// createOrganizationMembers is CreateMembers for a delegated
// administrator: the accounts of its organization among details become
// members at once (no invitation), the others are returned for the
// invitation path.
func (s *Service) createOrganizationMembers(ctx context.Context, caller Scope, details []AccountDetail) (rest []AccountDetail, unprocessed []UnprocessedAccount, err error) {
	org, err := s.delegatedAdministration(ctx, caller)
	if err != nil || org == nil {
		return details, nil, err
	}
	seen := map[string]bool{}
	for _, d := range details {
		a, ok := s.organizations().Of(d.AccountID)
		if !ok || a.OrganizationID != org.OrganizationID || d.AccountID == caller.AccountID {
			rest = append(rest, d)
			continue
		}
		if seen[d.AccountID] {
			continue
		}
		seen[d.AccountID] = true
		result, err := s.enableOrganizationMember(ctx, org, d.AccountID, d.Email, true, true)
		if err != nil {
			return nil, nil, err
		}
		if result != "" {
			unprocessed = append(unprocessed, UnprocessedAccount{AccountID: d.AccountID, Result: result})
		}
	}
	return rest, unprocessed, nil
}

// OrganizationStatistics is GetOrganizationStatistics' answer.
type OrganizationStatistics struct {
	TotalAccounts   int
	MemberAccounts  int
	ActiveAccounts  int
	EnabledAccounts int
	// FeatureEnabled counts, per feature, the enabled members whose
	// detector has it enabled.
	FeatureEnabled []FeatureCount
	UpdatedAt      time.Time
}

// FeatureCount is one feature's count of accounts.
type FeatureCount struct {
	Name  string
	Count int
}

// GetOrganizationStatistics counts the accounts of the organization the
// caller administers in its region: all of them, its members, those with a
// detector (active) and those monitored with an enabled detector.
func (s *Service) GetOrganizationStatistics(ctx context.Context, caller Scope) (*OrganizationStatistics, error) {
	c, err := s.delegatedAdministration(ctx, caller)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, Errorf(EINVALID, msgCallerNotAdmin)
	}
	if err := s.syncConfig(ctx, c); err != nil {
		return nil, err
	}
	orgAccounts := s.organizations().Accounts(c.OrganizationID)
	// Updated: when the configuration or a membership last changed, so
	// that two reads with no change between them answer alike.
	st := &OrganizationStatistics{TotalAccounts: len(orgAccounts), UpdatedAt: c.UpdatedAt}
	ms, err := s.Store.Memberships(ctx, caller, "", 0, false)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, m := range ms {
		if !slices.Contains(orgAccounts, m.AccountID) {
			continue
		}
		st.MemberAccounts++
		if m.UpdatedAt.After(st.UpdatedAt) {
			st.UpdatedAt = m.UpdatedAt
		}
		if m.DetectorID == "" {
			continue
		}
		st.ActiveAccounts++
		if m.Status != RelationshipEnabled {
			continue
		}
		d, err := s.Store.Detector(ctx, Scope{AccountID: m.AccountID, Region: m.Region}, m.DetectorID)
		if ErrorKind(err) == ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		if d.Status != DetectorEnabled {
			continue
		}
		st.EnabledAccounts++
		for _, f := range d.Features {
			if f.Status == DetectorEnabled {
				counts[f.Name]++
			}
		}
	}
	for _, name := range foundationalFeatures {
		st.FeatureEnabled = append(st.FeatureEnabled, FeatureCount{Name: name, Count: counts[name]})
	}
	for _, of := range optionalFeatures {
		st.FeatureEnabled = append(st.FeatureEnabled, FeatureCount{Name: of.Name, Count: counts[of.Name]})
	}
	return st, nil
}
