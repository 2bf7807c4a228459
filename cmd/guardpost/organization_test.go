package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// An organization for the organization tests: management account M and
// accounts A, B and C in organization orgID; D is an outsider.
const (
	orgID    = "o-exampleorg1"
	accountM = "999900001111"
	keyM     = "AKIAMMMMMMMMMMMMMMMM"
	secretM  = "secretMsecretMsecretMsecretMsecretMsecr4"
	accountD = "222233334444"
	keyD     = "AKIADDDDDDDDDDDDDDDD"
	secretD  = "secretDsecretDsecretDsecretDsecretDsecr5"
)

// Texts for organization operations (see organization.go in the root
// package for their sources).
const (
	msgAdminAlreadyEnabled = "The request failed because the account is already enabled as the GuardDuty delegated administrator for the organization."
	msgNotManagement       = "The request is rejected because the current account is not the management account of an organization."
	msgNotInOrganization   = "The request is rejected because the given account ID is not an account of the current account's organization."
	msgNotDelegatedAdmin   = "The request is rejected because the given account ID is not the GuardDuty delegated administrator of the organization."
	msgCallerNotAdmin      = "The request is rejected because the current account is not the GuardDuty delegated administrator of an organization."
	msgOrganizationResign  = "The request is rejected because the current account is a member of its organization's GuardDuty delegated administrator and cannot disassociate itself."
	msgAutoEnableRequired  = "The request is rejected because you must provide a value for either autoEnableOrganizationMembers or autoEnable."
)

// orgCredentials writes a credentials file with M, A, B and C in orgID
// (M its management account; C only when withC) and D outside, the way
// operators declare organizations: extra keys the AWS CLI ignores.
func orgCredentials(t *testing.T, dir string, withC bool) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []struct{ name, key, secret, account, extra string }{
		{"m", keyM, secretM, accountM, "organization_id = " + orgID + "\norganization_role = management\n"},
		{"a", keyA, secretA, accountA, "organization_id = " + orgID + "\n"},
		{"b", keyB, secretB, accountB, "organization_id = " + orgID + "\nregion = us-east-1\n"},
		{"c", keyC, secretC, accountC, map[bool]string{true: "organization_id = " + orgID + "\n"}[withC]},
		{"d", keyD, secretD, accountD, ""},
	} {
		b.WriteString("[" + p.name + "]\naws_access_key_id = " + p.key + "\naws_secret_access_key = " + p.secret +
			"\naws_account_id = " + p.account + "\n" + p.extra + "\n")
	}
	cred := filepath.Join(dir, "credentials")
	if err := os.WriteFile(cred, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return cred
}

func startOrgServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	return startServerWith(t, dir, orgCredentials(t, dir, true))
}

func (s *testServer) clientM() *guardduty.Client { return s.client(keyM, secretM, "us-east-1") }
func (s *testServer) clientD() *guardduty.Client { return s.client(keyD, secretD, "us-east-1") }

// adminAccounts returns ListOrganizationAdminAccounts' account → status.
func adminAccounts(t *testing.T, c *guardduty.Client) map[string]string {
	t.Helper()
	got := map[string]string{}
	p := guardduty.NewListOrganizationAdminAccountsPaginator(c, &guardduty.ListOrganizationAdminAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListOrganizationAdminAccounts: %v", err)
		}
		for _, a := range page.AdminAccounts {
			got[aws.ToString(a.AdminAccountId)] = string(a.AdminStatus)
		}
	}
	return got
}

func featureStatus(t *testing.T, c *guardduty.Client, det string, name types.DetectorFeatureResult) string {
	t.Helper()
	d, err := c.GetDetector(context.Background(), &guardduty.GetDetectorInput{DetectorId: &det})
	if err != nil {
		t.Fatalf("GetDetector: %v", err)
	}
	for _, f := range d.Features {
		if f.Name == name {
			return string(f.Status)
		}
	}
	return ""
}

// TestOrganizationDelegatedAdministrator drives the organization flow
// with the Go SDK: the management account designates A, A's members follow
// the auto-enable setting without invitations, A sees their findings, and
// disabling A ends its view; the management-only and administrator-only
// checks, and an outsider that sees nothing.
func TestOrganizationDelegatedAdministrator(t *testing.T) {
	s := startOrgServer(t)
	ctx := context.Background()
	m, a, b, c, d := s.clientM(), s.clientA(), s.clientB(), s.clientC(), s.clientD()
	detM, detA, detB, detD := createDetector(t, m), sampleDetector(t, a), sampleDetector(t, b), sampleDetector(t, d)
	own, idsB, idsD := listAll(t, a, detA, nil), listAll(t, b, detB, nil), listAll(t, d, detD, nil)
	enable := func(c *guardduty.Client, id string) error {
		_, err := c.EnableOrganizationAdminAccount(ctx, &guardduty.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(id)})
		return err
	}

	// Only the management account designates, and only an account of its
	// organization, once.
	wantBadRequest(t, "Enable as a member account", enable(a, accountA), msgNotManagement)
	wantBadRequest(t, "Enable as an outsider", enable(d, accountD), msgNotManagement)
	wantBadRequest(t, "Enable an outsider", enable(m, accountD), msgNotInOrganization)
	if err := enable(m, accountA); err != nil {
		t.Fatalf("EnableOrganizationAdminAccount: %v", err)
	}
	wantBadRequest(t, "Enable again", enable(m, accountA), msgAdminAlreadyEnabled)
	wantBadRequest(t, "Enable a second administrator", enable(m, accountB), msgAdminAlreadyEnabled)
	if got := adminAccounts(t, m); len(got) != 1 || got[accountA] != "ENABLED" {
		t.Fatalf("ListOrganizationAdminAccounts: %v, want A ENABLED (what Terraform waits for)", got)
	}
	_, err := a.ListOrganizationAdminAccounts(ctx, &guardduty.ListOrganizationAdminAccountsInput{})
	wantBadRequest(t, "ListOrganizationAdminAccounts as a member", err, msgNotManagement)

	// A new organization: nothing auto-enabled, no members yet.
	conf, err := a.DescribeOrganizationConfiguration(ctx, &guardduty.DescribeOrganizationConfigurationInput{DetectorId: &detA})
	if err != nil {
		t.Fatal(err)
	}
	if conf.AutoEnableOrganizationMembers != types.AutoEnableMembersNone || aws.ToBool(conf.AutoEnable) || len(conf.Features) == 0 {
		t.Errorf("new organization's configuration: %+v", conf)
	}
	for _, who := range []struct {
		name string
		c    *guardduty.Client
		det  string
	}{{"member", b, detB}, {"outsider", d, detD}} {
		_, err = who.c.DescribeOrganizationConfiguration(ctx, &guardduty.DescribeOrganizationConfigurationInput{DetectorId: &who.det})
		wantBadRequest(t, "DescribeOrganizationConfiguration as "+who.name, err, msgCallerNotAdmin)
		_, err = who.c.GetOrganizationStatistics(ctx, &guardduty.GetOrganizationStatisticsInput{})
		wantBadRequest(t, "GetOrganizationStatistics as "+who.name, err, msgCallerNotAdmin)
	}
	if got := listedMembers(t, a, detA, aws.String("false")); len(got) != 0 {
		t.Fatalf("members with autoEnable NONE: %v", got)
	}
	_, err = a.UpdateOrganizationConfiguration(ctx, &guardduty.UpdateOrganizationConfigurationInput{DetectorId: &detA})
	wantBadRequest(t, "UpdateOrganizationConfiguration without autoEnable", err, msgAutoEnableRequired)

	// NEW: accounts already in the organization are not enabled.
	if _, err := a.UpdateOrganizationConfiguration(ctx, &guardduty.UpdateOrganizationConfigurationInput{DetectorId: &detA,
		AutoEnableOrganizationMembers: types.AutoEnableMembersNew}); err != nil {
		t.Fatal(err)
	}
	if got := listedMembers(t, a, detA, aws.String("false")); len(got) != 0 {
		t.Fatalf("members with autoEnable NEW: %v, want none of the existing accounts", got)
	}

	// CreateMembers of an organization account: a member at once, no
	// invitation.
	out, err := a.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &detA,
		AccountDetails: []types.AccountDetail{{AccountId: aws.String(accountB), Email: aws.String("b@example.com")}}})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "CreateMembers of an organization account", out.UnprocessedAccounts)
	gm, err := a.GetMembers(ctx, &guardduty.GetMembersInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil || len(gm.Members) != 1 {
		t.Fatalf("GetMembers: %v %v", gm, err)
	}
	mb := gm.Members[0]
	if aws.ToString(mb.RelationshipStatus) != "Enabled" || mb.InvitedAt != nil || aws.ToString(mb.AdministratorId) != accountA ||
		aws.ToString(mb.DetectorId) != detB || aws.ToString(mb.Email) != "b@example.com" {
		t.Errorf("organization member: status %s, invitedAt %v, administrator %s, detector %s",
			aws.ToString(mb.RelationshipStatus), mb.InvitedAt, aws.ToString(mb.AdministratorId), aws.ToString(mb.DetectorId))
	}
	if inv := invitationFrom(t, b, accountA); inv != nil {
		t.Errorf("an organization member lists an invitation: %+v", inv)
	}
	adm, err := b.GetAdministratorAccount(ctx, &guardduty.GetAdministratorAccountInput{DetectorId: &detB})
	if err != nil || adm.Administrator == nil || aws.ToString(adm.Administrator.AccountId) != accountA ||
		aws.ToString(adm.Administrator.RelationshipStatus) != "Enabled" || adm.Administrator.InvitationId != nil {
		t.Errorf("GetAdministratorAccount as an organization member: %+v %v", adm, err)
	}
	_, err = b.DisassociateFromAdministratorAccount(ctx, &guardduty.DisassociateFromAdministratorAccountInput{DetectorId: &detB})
	wantBadRequest(t, "DisassociateFromAdministratorAccount as an organization member", err, msgOrganizationResign)

	// The administrator sees B's findings: list, get, statistics by account.
	all := listAll(t, a, detA, nil)
	if len(all) != len(own)+len(idsB) {
		t.Fatalf("administrator lists %d findings, want %d own + %d of B", len(all), len(own), len(idsB))
	}
	if got := accountsOf(t, a, detA, idsB); got[accountB] != len(idsB) || len(got) != 1 {
		t.Errorf("GetFindings of B's findings as administrator: %v", got)
	}
	byAccount := countsByAccount(t, a, detA)
	if byAccount[accountA] != int32(len(own)) || byAccount[accountB] != int32(len(idsB)) || len(byAccount) != 2 {
		t.Errorf("statistics by account: %v", byAccount)
	}

	// ALL, with a feature for all: every account is enabled now (C gets a
	// detector; M has one), and the feature is on in every member's
	// detector.
	if _, err := a.UpdateOrganizationConfiguration(ctx, &guardduty.UpdateOrganizationConfigurationInput{DetectorId: &detA,
		AutoEnableOrganizationMembers: types.AutoEnableMembersAll,
		Features:                      []types.OrganizationFeatureConfiguration{{Name: types.OrgFeatureRuntimeMonitoring, AutoEnable: types.OrgFeatureStatusAll}}}); err != nil {
		t.Fatal(err)
	}
	if got := listedMembers(t, a, detA, nil); len(got) != 3 || got[accountB] != "Enabled" || got[accountC] != "Enabled" || got[accountM] != "Enabled" {
		t.Fatalf("members with autoEnable ALL: %v, want B, C and M Enabled", got)
	}
	dets, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil || len(dets.DetectorIds) != 1 {
		t.Fatalf("C's detectors after auto-enable: %v %v", dets, err)
	}
	detC := dets.DetectorIds[0]
	for _, who := range []struct {
		name string
		c    *guardduty.Client
		det  string
	}{{"B", b, detB}, {"C", c, detC}, {"M", m, detM}} {
		if got := featureStatus(t, who.c, who.det, types.DetectorFeatureResultRuntimeMonitoring); got != "ENABLED" {
			t.Errorf("%s's RUNTIME_MONITORING after the organization's ALL: %s", who.name, got)
		}
	}
	conf, err = a.DescribeOrganizationConfiguration(ctx, &guardduty.DescribeOrganizationConfigurationInput{DetectorId: &detA})
	if err != nil {
		t.Fatal(err)
	}
	if conf.AutoEnableOrganizationMembers != types.AutoEnableMembersAll || !aws.ToBool(conf.AutoEnable) {
		t.Errorf("configuration after ALL: %+v", conf)
	}
	found := false
	for _, f := range conf.Features {
		if f.Name == types.OrgFeatureRuntimeMonitoring {
			found = f.AutoEnable == types.OrgFeatureStatusAll
		}
	}
	if !found {
		t.Errorf("features after the update: %+v", conf.Features)
	}
	os, err := a.GetOrganizationStatistics(ctx, &guardduty.GetOrganizationStatisticsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ost := os.OrganizationDetails.OrganizationStatistics
	if aws.ToInt32(ost.TotalAccountsCount) != 4 || aws.ToInt32(ost.MemberAccountsCount) != 3 ||
		aws.ToInt32(ost.ActiveAccountsCount) != 3 || aws.ToInt32(ost.EnabledAccountsCount) != 3 {
		t.Errorf("organization statistics: total %d, members %d, active %d, enabled %d; want 4, 3, 3, 3",
			aws.ToInt32(ost.TotalAccountsCount), aws.ToInt32(ost.MemberAccountsCount), aws.ToInt32(ost.ActiveAccountsCount), aws.ToInt32(ost.EnabledAccountsCount))
	}
	for _, f := range ost.CountByFeature {
		if string(f.Name) == "RUNTIME_MONITORING" && aws.ToInt32(f.EnabledAccountsCount) != 3 {
			t.Errorf("RUNTIME_MONITORING enabled in %d accounts, want 3", aws.ToInt32(f.EnabledAccountsCount))
		}
	}

	// The outsider sees none of it, and the organization's administrator
	// none of the outsider's.
	if got := listedMembers(t, d, detD, aws.String("false")); len(got) != 0 {
		t.Errorf("outsider's members: %v", got)
	}
	if got := accountsOf(t, d, detD, idsB); len(got) != 0 {
		t.Errorf("an outsider reads the organization member's findings: %v", got)
	}
	if got := accountsOf(t, a, detA, idsD); len(got) != 0 {
		t.Errorf("the delegated administrator reads an outsider's findings: %v", got)
	}

	// Disable: only the management account, only the administrator; then
	// the view ends at once.
	disable := func(c *guardduty.Client, id string) error {
		_, err := c.DisableOrganizationAdminAccount(ctx, &guardduty.DisableOrganizationAdminAccountInput{AdminAccountId: aws.String(id)})
		return err
	}
	wantBadRequest(t, "Disable as the administrator", disable(a, accountA), msgNotManagement)
	wantBadRequest(t, "Disable another account", disable(m, accountB), msgNotDelegatedAdmin)
	if err := disable(m, accountA); err != nil {
		t.Fatal(err)
	}
	if got := adminAccounts(t, m); len(got) != 0 {
		t.Errorf("administrators after Disable: %v", got)
	}
	if got := listedMembers(t, a, detA, aws.String("false")); len(got) != 0 {
		t.Errorf("members after Disable: %v", got)
	}
	if got := listAll(t, a, detA, nil); len(got) != len(own) {
		t.Errorf("after Disable the former administrator lists %d findings, want its own %d", len(got), len(own))
	}
	_, err = a.DescribeOrganizationConfiguration(ctx, &guardduty.DescribeOrganizationConfigurationInput{DetectorId: &detA})
	wantBadRequest(t, "DescribeOrganizationConfiguration after Disable", err, msgCallerNotAdmin)
	if adm, err := b.GetAdministratorAccount(ctx, &guardduty.GetAdministratorAccountInput{DetectorId: &detB}); err != nil || adm.Administrator != nil {
		t.Errorf("B's administrator after Disable: %+v %v", adm, err)
	}
}

// TestOrganizationAdoptsInvitedMembers: when an administrator by
// invitation becomes its organization's delegated administrator, its
// members that are organization accounts become organization members; an
// outsider invited stays a member by invitation, also after Disable.
func TestOrganizationAdoptsInvitedMembers(t *testing.T) {
	s := startOrgServer(t)
	ctx := context.Background()
	m, a, b, d := s.clientM(), s.clientA(), s.clientB(), s.clientD()
	detA, detB, detD := createDetector(t, a), createDetector(t, b), createDetector(t, d)
	associate(t, a, detA, accountA, b, detB, accountB)
	associate(t, a, detA, accountA, d, detD, accountD)
	if _, err := m.EnableOrganizationAdminAccount(ctx, &guardduty.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(accountA)}); err != nil {
		t.Fatal(err)
	}
	gm, err := a.GetMembers(ctx, &guardduty.GetMembersInput{DetectorId: &detA, AccountIds: []string{accountB, accountD}})
	if err != nil || len(gm.Members) != 2 {
		t.Fatalf("GetMembers: %+v %v", gm, err)
	}
	for _, mb := range gm.Members {
		invited := mb.InvitedAt != nil
		if aws.ToString(mb.RelationshipStatus) != "Enabled" || invited != (aws.ToString(mb.AccountId) == accountD) {
			t.Errorf("member %s: status %s, invitedAt %v (want an invitation only for the outsider)",
				aws.ToString(mb.AccountId), aws.ToString(mb.RelationshipStatus), aws.ToString(mb.InvitedAt))
		}
	}
	if _, err := m.DisableOrganizationAdminAccount(ctx, &guardduty.DisableOrganizationAdminAccountInput{AdminAccountId: aws.String(accountA)}); err != nil {
		t.Fatal(err)
	}
	if got := listedMembers(t, a, detA, nil); len(got) != 1 || got[accountD] != "Enabled" {
		t.Errorf("members after Disable: %v, want the invited outsider only", got)
	}

	// An associated member of another administrator cannot be designated.
	c := s.clientC()
	associate(t, c, createDetector(t, c), accountC, b, detB, accountB)
	_, err = m.EnableOrganizationAdminAccount(ctx, &guardduty.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(accountB)})
	wantBadRequest(t, "Enable a member of another administrator", err,
		"The request is rejected because the given account ID is an associated member of another master account.")
}

// TestOrganizationNewAccountsJoinLater: with autoEnableOrganizationMembers
// NEW, an account added to the organization (in the credentials file,
// across a restart) becomes a member with a detector; the existing ones do
// not.
func TestOrganizationNewAccountsJoinLater(t *testing.T) {
	dir := t.TempDir()
	cred := orgCredentials(t, dir, false)
	first := startOrg(t, dir, cred)
	ctx := context.Background()
	a := first.client(keyA, secretA, "us-east-1")
	detA := createDetector(t, a)
	createDetector(t, first.client(keyB, secretB, "us-east-1"))
	if _, err := first.client(keyM, secretM, "us-east-1").EnableOrganizationAdminAccount(ctx,
		&guardduty.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(accountA)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateOrganizationConfiguration(ctx, &guardduty.UpdateOrganizationConfigurationInput{DetectorId: &detA,
		AutoEnableOrganizationMembers: types.AutoEnableMembersNew}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	// C joins the organization.
	orgCredentials(t, dir, true)
	s := startServerWith(t, dir, cred)
	if got := listedMembers(t, s.clientA(), detA, aws.String("false")); len(got) != 1 || got[accountC] != "Enabled" {
		t.Fatalf("members after C joined: %v, want C Enabled only", got)
	}
	if dets, err := s.clientC().ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil || len(dets.DetectorIds) != 1 {
		t.Errorf("C's detectors after it joined: %v %v", dets, err)
	}
}

// startOrg starts a server the test closes itself (to restart it).
func startOrg(t *testing.T, dir, cred string) *testServer {
	t.Helper()
	m := NewMain()
	m.Stderr = io.Discard
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--credentials", cred}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &testServer{Main: m, t: t, dir: dir, credFile: cred}
}

// TestAssumeRoleAsOrganizationManagement: the management account may
// assume a role in its organization's accounts, not in an outsider's; a
// member account may not assume into its management account.
func TestAssumeRoleAsOrganizationManagement(t *testing.T) {
	s := startOrgServer(t)
	ctx := context.Background()
	clock := &testClock{}
	detC := createDetector(t, s.clientC())
	stsM := s.stsClientAt(static(keyM, secretM, ""), clock)
	out, err := stsM.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + accountC + ":role/OrganizationAccountAccessRole"),
		RoleSessionName: aws.String("mgmt")})
	if err != nil {
		t.Fatalf("AssumeRole into an organization account: %v", err)
	}
	cr := out.Credentials
	asC := s.sdkClient(static(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)), "us-east-1", clock.signer())
	if dets, err := asC.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil || len(dets.DetectorIds) != 1 || dets.DetectorIds[0] != detC {
		t.Fatalf("ListDetectors with C's role: %v %v, want [%s]", dets, err, detC)
	}
	roleD := "arn:aws:iam::" + accountD + ":role/x"
	_, err = stsM.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleD), RoleSessionName: aws.String("out")})
	wantRefusal(t, "management into an outsider", err, 403, "AccessDenied",
		"User: arn:aws:iam::"+accountM+":user/m is not authorized to perform: sts:AssumeRole on resource: "+roleD)
	roleM := "arn:aws:iam::" + accountM + ":role/x"
	_, err = s.stsClientAt(static(keyA, secretA, ""), clock).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleM), RoleSessionName: aws.String("up")})
	wantRefusal(t, "member into its management account", err, 403, "AccessDenied",
		"User: arn:aws:iam::"+accountA+":user/a is not authorized to perform: sts:AssumeRole on resource: "+roleM)
}

// TestOrganizationMembersFollowAutoEnable: CreateMembers applies the
// organization's auto-enable settings to an existing detector; with ALL an
// organization member cannot be disassociated (the user guide has the
// administrator switch to NEW or NONE first); a removed member stays
// removed under NEW and comes back with ALL.
func TestOrganizationMembersFollowAutoEnable(t *testing.T) {
	s := startOrgServer(t)
	ctx := context.Background()
	m, a, b := s.clientM(), s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), createDetector(t, b)
	if got := featureStatus(t, b, detB, types.DetectorFeatureResultRuntimeMonitoring); got != "DISABLED" {
		t.Fatalf("a new detector's RUNTIME_MONITORING: %s", got)
	}
	if _, err := m.EnableOrganizationAdminAccount(ctx, &guardduty.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(accountA)}); err != nil {
		t.Fatal(err)
	}
	update := func(members types.AutoEnableMembers, features ...types.OrganizationFeatureConfiguration) {
		t.Helper()
		if _, err := a.UpdateOrganizationConfiguration(ctx, &guardduty.UpdateOrganizationConfigurationInput{DetectorId: &detA,
			AutoEnableOrganizationMembers: members, Features: features}); err != nil {
			t.Fatal(err)
		}
	}
	update(types.AutoEnableMembersNone, types.OrganizationFeatureConfiguration{Name: types.OrgFeatureRuntimeMonitoring, AutoEnable: types.OrgFeatureStatusNew})
	if got := featureStatus(t, b, detB, types.DetectorFeatureResultRuntimeMonitoring); got != "DISABLED" {
		t.Fatalf("NEW changed an existing account's feature: %s", got)
	}
	out, err := a.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &detA,
		AccountDetails: []types.AccountDetail{{AccountId: aws.String(accountB), Email: aws.String("b@example.com")}}})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "CreateMembers", out.UnprocessedAccounts)
	if got := featureStatus(t, b, detB, types.DetectorFeatureResultRuntimeMonitoring); got != "ENABLED" {
		t.Errorf("CreateMembers did not apply the organization's NEW feature to B: %s", got)
	}

	disassociate := func() []types.UnprocessedAccount {
		t.Helper()
		out, err := a.DisassociateMembers(ctx, &guardduty.DisassociateMembersInput{DetectorId: &detA, AccountIds: []string{accountB}})
		if err != nil {
			t.Fatal(err)
		}
		return out.UnprocessedAccounts
	}
	update(types.AutoEnableMembersAll)
	if got := unprocessedResults(disassociate()); got[accountB] != "The request is rejected because the organization's autoEnableOrganizationMembers is ALL: set it to NEW or NONE before disassociating organization members." {
		t.Errorf("DisassociateMembers under ALL: %v", got)
	}
	update(types.AutoEnableMembersNew)
	wantNoUnprocessed(t, "DisassociateMembers under NEW", disassociate())
	if got := listedMembers(t, a, detA, aws.String("false")); got[accountB] != "Removed" {
		t.Fatalf("after DisassociateMembers: %v", got)
	}
	// (ALL enabled C meanwhile: an account of the organization.)
	if got := listedMembers(t, a, detA, nil); got[accountB] != "" || got[accountC] != "Enabled" {
		t.Errorf("associated members after DisassociateMembers: %v, want C only", got)
	}
	update(types.AutoEnableMembersAll)
	if got := listedMembers(t, a, detA, nil); got[accountB] != "Enabled" {
		t.Errorf("ALL did not bring the removed member back: %v", got)
	}
	// The management account has no detector here: GuardDuty does not
	// enable it on the administrator's behalf, and ALL skipped it.
	if got := listedMembers(t, a, detA, aws.String("false")); got[accountM] != "" {
		t.Errorf("the management account without a detector became a member: %v", got)
	}
	out, err = a.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &detA,
		AccountDetails: []types.AccountDetail{{AccountId: aws.String(accountM), Email: aws.String("m@example.com")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(out.UnprocessedAccounts); got[accountM] != "Operation failed because your organization master must first enable GuardDuty to be added as a member" {
		t.Errorf("CreateMembers of the management account without a detector: %v", got)
	}
}

// TestAWSCLIOrganization: the AWS CLI reads a credentials file with the
// organization keys, and the management account designates and lists the
// delegated administrator, which then sets and describes the
// organization's configuration.
func TestAWSCLIOrganization(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the CLI organization test")
	}
	s := startOrgServer(t)
	as := func(profile string, out any, args ...string) {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", s.endpoint(), "--output", "json", "guardduty"}, args...)...)
		cmd.Env = append(s.awsEnv(), "AWS_PROFILE="+profile) // the later value wins
		b, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws %v as %s: %v\n%s", args, profile, err, stderr)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("aws %v: output %q: %v", args, b, err)
			}
		}
	}
	var created struct{ DetectorId string }
	as("a", &created, "create-detector", "--enable")
	as("m", nil, "enable-organization-admin-account", "--admin-account-id", accountA)
	var admins struct {
		AdminAccounts []struct{ AdminAccountId, AdminStatus string }
	}
	as("m", &admins, "list-organization-admin-accounts")
	if len(admins.AdminAccounts) != 1 || admins.AdminAccounts[0].AdminAccountId != accountA || admins.AdminAccounts[0].AdminStatus != "ENABLED" {
		t.Fatalf("list-organization-admin-accounts: %+v", admins)
	}
	as("a", nil, "update-organization-configuration", "--detector-id", created.DetectorId, "--auto-enable-organization-members", "NEW")
	var conf struct {
		AutoEnable                    bool
		AutoEnableOrganizationMembers string
	}
	as("a", &conf, "describe-organization-configuration", "--detector-id", created.DetectorId)
	if !conf.AutoEnable || conf.AutoEnableOrganizationMembers != "NEW" {
		t.Errorf("describe-organization-configuration: %+v", conf)
	}
}
