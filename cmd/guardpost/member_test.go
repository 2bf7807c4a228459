package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
)

// A third account for member tests: an administrator, a member and an
// outsider.
const (
	accountC = "777788889999"
	keyC     = "AKIACCCCCCCCCCCCCCCC"
	secretC  = "secretCsecretCsecretCsecretCsecretCsecr3"
)

// Texts of the real service for member operations (see member.go in the
// root package for their sources).
const (
	msgNotAssociatedMember = "The request is rejected because the given account ID is not an associated member of account the current account."
	msgAlreadyInvited      = "The request is rejected because the current account has already invited or is already the GuardDuty master of the given member account ID."
	msgAlreadyMember       = "The request is rejected because the given account ID is already a member or associated member of the current account."
	msgMemberOfItself      = "The request is rejected because an account cannot become a member of itself."
	msgNoPending           = "The request is rejected because the current account has no pending invitation from the given master account ID or is already an associated member of another master account."
	msgAcceptWithMembers   = "The request is rejected because the current account cannot accept invitations since it still has created, invited or associated members."
	msgAcceptWhileMember   = "The request is rejected because the current account cannot accept invitations since it is already an associated member of some master account."
	msgNotAssociated       = "The request is rejected because the current account is not associated with a master account."
	msgDetectorHasMembers  = "cannot delete detector while it has invited or associated members"
)

// startServer3 starts a server that knows accounts A, B and C.
func startServer3(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	cred := filepath.Join(dir, "credentials")
	var b strings.Builder
	for _, p := range []struct{ name, key, secret, account string }{
		{"a", keyA, secretA, accountA}, {"b", keyB, secretB, accountB}, {"c", keyC, secretC, accountC},
	} {
		b.WriteString("[" + p.name + "]\naws_access_key_id = " + p.key + "\naws_secret_access_key = " + p.secret + "\naws_account_id = " + p.account + "\n\n")
	}
	if err := os.WriteFile(cred, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServerWith(t, dir, cred)
}

func (s *testServer) clientC() *guardduty.Client { return s.client(keyC, secretC, "us-east-1") }

// unprocessedResults maps each unprocessed account to its result text.
func unprocessedResults(us []types.UnprocessedAccount) map[string]string {
	m := map[string]string{}
	for _, u := range us {
		m[aws.ToString(u.AccountId)] = aws.ToString(u.Result)
	}
	return m
}

func wantNoUnprocessed(t *testing.T, op string, us []types.UnprocessedAccount) {
	t.Helper()
	if len(us) != 0 {
		t.Fatalf("%s: unprocessed %v", op, unprocessedResults(us))
	}
}

// memberStatus returns the relationship status GetMembers reports for
// account ("" when it is not a member).
func memberStatus(t *testing.T, c *guardduty.Client, det, account string) string {
	t.Helper()
	out, err := c.GetMembers(context.Background(), &guardduty.GetMembersInput{DetectorId: &det, AccountIds: []string{account}})
	if err != nil {
		t.Fatalf("GetMembers: %v", err)
	}
	if len(out.Members) == 0 {
		return ""
	}
	return aws.ToString(out.Members[0].RelationshipStatus)
}

// listedMembers returns ListMembers' account → status, all pages.
func listedMembers(t *testing.T, c *guardduty.Client, det string, onlyAssociated *string) map[string]string {
	t.Helper()
	got := map[string]string{}
	p := guardduty.NewListMembersPaginator(c, &guardduty.ListMembersInput{DetectorId: &det, OnlyAssociated: onlyAssociated, MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListMembers: %v", err)
		}
		for _, m := range page.Members {
			got[aws.ToString(m.AccountId)] = aws.ToString(m.RelationshipStatus)
		}
	}
	return got
}

// invitationFrom finds the pending invitation from admin the way
// Terraform's aws_guardduty_invite_accepter does: ListInvitations pages.
func invitationFrom(t *testing.T, c *guardduty.Client, admin string) *types.Invitation {
	t.Helper()
	p := guardduty.NewListInvitationsPaginator(c, &guardduty.ListInvitationsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListInvitations: %v", err)
		}
		for _, inv := range page.Invitations {
			if aws.ToString(inv.AccountId) == admin {
				return &inv
			}
		}
	}
	return nil
}

func invitationsCount(t *testing.T, c *guardduty.Client) int32 {
	t.Helper()
	out, err := c.GetInvitationsCount(context.Background(), &guardduty.GetInvitationsCountInput{})
	if err != nil {
		t.Fatalf("GetInvitationsCount: %v", err)
	}
	return aws.ToInt32(out.InvitationsCount)
}

// TestMemberLifecycle drives the whole invitation flow with the Go SDK, as
// Terraform's aws_guardduty_member and aws_guardduty_invite_accepter do,
// checking the statuses both sides see at each step.
func TestMemberLifecycle(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	admin, member := s.clientA(), s.clientB()
	detA, detB := createDetector(t, admin), createDetector(t, member)

	// CreateMembers: Created, listed only when onlyAssociated is false.
	out, err := admin.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &detA,
		AccountDetails: []types.AccountDetail{{AccountId: aws.String(accountB), Email: aws.String("b@example.com")}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.UnprocessedAccounts == nil {
		t.Error("CreateMembers: unprocessedAccounts missing, want an empty list")
	}
	wantNoUnprocessed(t, "CreateMembers", out.UnprocessedAccounts)
	if got := memberStatus(t, admin, detA, accountB); got != "Created" {
		t.Fatalf("after CreateMembers: status %q, want Created", got)
	}
	if got := listedMembers(t, admin, detA, nil); len(got) != 0 {
		t.Errorf("ListMembers (default onlyAssociated) lists %v before any acceptance", got)
	}
	if got := listedMembers(t, admin, detA, aws.String("false")); got[accountB] != "Created" {
		t.Errorf("ListMembers onlyAssociated=false: %v", got)
	}
	if n := invitationsCount(t, member); n != 0 {
		t.Errorf("GetInvitationsCount before invitation: %d", n)
	}

	// InviteMembers: Invited; the member sees the invitation.
	before := time.Now().Add(-time.Second)
	inv, err := admin.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &detA, AccountIds: []string{accountB},
		Message: aws.String("join"), DisableEmailNotification: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "InviteMembers", inv.UnprocessedAccounts)
	if got := memberStatus(t, admin, detA, accountB); got != "Invited" {
		t.Fatalf("after InviteMembers: status %q, want Invited", got)
	}
	again, err := admin.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(again.UnprocessedAccounts)[accountB]; got != msgAlreadyInvited {
		t.Errorf("second InviteMembers: result %q, want %q", got, msgAlreadyInvited)
	}
	invitation := invitationFrom(t, member, accountA)
	if invitation == nil {
		t.Fatal("ListInvitations: no invitation from the administrator")
	}
	if got := aws.ToString(invitation.RelationshipStatus); got != "Invited" {
		t.Errorf("invitation status %q, want Invited", got)
	}
	invitedAt, err := time.Parse(time.RFC3339, aws.ToString(invitation.InvitedAt))
	if err != nil || invitedAt.Before(before) {
		t.Errorf("invitedAt %q (%v)", aws.ToString(invitation.InvitedAt), err)
	}
	if n := invitationsCount(t, member); n != 1 {
		t.Errorf("GetInvitationsCount: %d, want 1", n)
	}
	if out, err := member.GetAdministratorAccount(ctx, &guardduty.GetAdministratorAccountInput{DetectorId: &detB}); err != nil || out.Administrator != nil {
		t.Fatalf("GetAdministratorAccount before acceptance: %+v, %v", out, err)
	}

	// Accepting with a wrong invitation id, then the deprecated
	// AcceptInvitation as Terraform's invite accepter calls it.
	_, err = member.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detB,
		AdministratorId: aws.String(accountA), InvitationId: aws.String(strings.Repeat("f", 32))})
	wantBadRequest(t, "accept with a wrong invitation id", err, msgNoPending)
	if _, err := member.AcceptInvitation(ctx, &guardduty.AcceptInvitationInput{DetectorId: &detB,
		MasterId: aws.String(accountA), InvitationId: invitation.InvitationId}); err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	if got := memberStatus(t, admin, detA, accountB); got != "Enabled" {
		t.Fatalf("after acceptance: status %q, want Enabled", got)
	}
	gm, err := admin.GetMembers(ctx, &guardduty.GetMembersInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil {
		t.Fatal(err)
	}
	m := gm.Members[0]
	if aws.ToString(m.DetectorId) != detB || aws.ToString(m.AdministratorId) != accountA || aws.ToString(m.MasterId) != accountA ||
		aws.ToString(m.Email) != "b@example.com" || aws.ToString(m.InvitedAt) == "" || aws.ToString(m.UpdatedAt) == "" {
		t.Errorf("GetMembers: %+v", m)
	}
	if got := listedMembers(t, admin, detA, nil); got[accountB] != "Enabled" || len(got) != 1 {
		t.Errorf("ListMembers after acceptance: %v", got)
	}
	ga, err := member.GetAdministratorAccount(ctx, &guardduty.GetAdministratorAccountInput{DetectorId: &detB})
	if err != nil {
		t.Fatal(err)
	}
	if ga.Administrator == nil || aws.ToString(ga.Administrator.AccountId) != accountA ||
		aws.ToString(ga.Administrator.InvitationId) != aws.ToString(invitation.InvitationId) || aws.ToString(ga.Administrator.RelationshipStatus) != "Enabled" {
		t.Fatalf("GetAdministratorAccount: %+v", ga.Administrator)
	}
	gmaster, err := member.GetMasterAccount(ctx, &guardduty.GetMasterAccountInput{DetectorId: &detB})
	if err != nil || gmaster.Master == nil || aws.ToString(gmaster.Master.AccountId) != accountA {
		t.Fatalf("GetMasterAccount: %+v, %v", gmaster, err)
	}
	if n := invitationsCount(t, member); n != 0 {
		t.Errorf("GetInvitationsCount counts the accepted invitation: %d", n)
	}
	// Accepting the same invitation again changes nothing.
	if _, err := member.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detB,
		AdministratorId: aws.String(accountA), InvitationId: invitation.InvitationId}); err != nil {
		t.Errorf("second acceptance: %v", err)
	}

	// Stop and start monitoring: Disabled, then Enabled again; still associated.
	stop, err := admin.StopMonitoringMembers(ctx, &guardduty.StopMonitoringMembersInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "StopMonitoringMembers", stop.UnprocessedAccounts)
	if got := listedMembers(t, admin, detA, aws.String("true")); got[accountB] != "Disabled" {
		t.Errorf("ListMembers after StopMonitoringMembers: %v", got)
	}
	start, err := admin.StartMonitoringMembers(ctx, &guardduty.StartMonitoringMembersInput{DetectorId: &detA, AccountIds: []string{accountB, accountC}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(start.UnprocessedAccounts); len(got) != 1 || got[accountC] != msgNotAssociatedMember {
		t.Errorf("StartMonitoringMembers of a non-member: %v", got)
	}
	if got := memberStatus(t, admin, detA, accountB); got != "Enabled" {
		t.Errorf("after StartMonitoringMembers: %q", got)
	}

	// The administrator cannot delete its detector while it has members.
	_, err = admin.DeleteDetector(ctx, &guardduty.DeleteDetectorInput{DetectorId: &detA})
	if err == nil || !terraformSeesGone(err, msgDetectorHasMembers) {
		t.Errorf("DeleteDetector with an associated member: %v", err)
	}

	// The member leaves: Resigned for the administrator, no administrator
	// for the member; leaving twice is refused.
	if _, err := member.DisassociateFromAdministratorAccount(ctx, &guardduty.DisassociateFromAdministratorAccountInput{DetectorId: &detB}); err != nil {
		t.Fatal(err)
	}
	if got := memberStatus(t, admin, detA, accountB); got != "Resigned" {
		t.Errorf("after DisassociateFromAdministratorAccount: %q, want Resigned", got)
	}
	_, err = member.DisassociateFromMasterAccount(ctx, &guardduty.DisassociateFromMasterAccountInput{DetectorId: &detB})
	wantBadRequest(t, "DisassociateFromMasterAccount without administrator", err, msgNotAssociated)
	if got := listedMembers(t, admin, detA, nil); len(got) != 0 {
		t.Errorf("ListMembers lists a resigned member as associated: %v", got)
	}

	// The invitation stays: the member can accept it again, as AWS's
	// multi-account enable script does for a Resigned member.
	kept := invitationFrom(t, member, accountA)
	if kept == nil || aws.ToString(kept.InvitationId) != aws.ToString(invitation.InvitationId) {
		t.Fatalf("invitation after resigning: %+v", kept)
	}
	if n := invitationsCount(t, member); n != 1 {
		t.Errorf("GetInvitationsCount after resigning: %d, want 1", n)
	}
	if _, err := member.AcceptInvitation(ctx, &guardduty.AcceptInvitationInput{DetectorId: &detB,
		MasterId: aws.String(accountA), InvitationId: kept.InvitationId}); err != nil {
		t.Fatalf("accepting the kept invitation: %v", err)
	}
	if got := memberStatus(t, admin, detA, accountB); got != "Enabled" {
		t.Errorf("after accepting again: %q, want Enabled", got)
	}

	// Disassociated by the administrator: Removed, the invitation
	// withdrawn; invited again (details kept): Invited.
	dis, err := admin.DisassociateMembers(ctx, &guardduty.DisassociateMembersInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "DisassociateMembers", dis.UnprocessedAccounts)
	if got := memberStatus(t, admin, detA, accountB); got != "Removed" {
		t.Errorf("after DisassociateMembers: %q, want Removed", got)
	}
	if ga, err := member.GetAdministratorAccount(ctx, &guardduty.GetAdministratorAccountInput{DetectorId: &detB}); err != nil || ga.Administrator != nil {
		t.Errorf("GetAdministratorAccount after DisassociateMembers: %+v, %v", ga, err)
	}
	if invitationFrom(t, member, accountA) != nil {
		t.Error("ListInvitations lists an invitation the administrator withdrew")
	}
	if _, err := admin.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	if got := memberStatus(t, admin, detA, accountB); got != "Invited" {
		t.Errorf("re-invited after DisassociateMembers: %q, want Invited", got)
	}

	// DeleteMembers: gone from every listing; a second delete is unprocessed.
	del, err := admin.DeleteMembers(ctx, &guardduty.DeleteMembersInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "DeleteMembers", del.UnprocessedAccounts)
	if got := memberStatus(t, admin, detA, accountB); got != "" {
		t.Errorf("GetMembers after DeleteMembers: %q", got)
	}
	if got := listedMembers(t, admin, detA, aws.String("false")); len(got) != 0 {
		t.Errorf("ListMembers after DeleteMembers: %v", got)
	}
	del, err = admin.DeleteMembers(ctx, &guardduty.DeleteMembersInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(del.UnprocessedAccounts)[accountB]; got != msgNotAssociatedMember {
		t.Errorf("second DeleteMembers: %q", got)
	}
	// With no member left, the detector can go.
	if _, err := admin.DeleteDetector(ctx, &guardduty.DeleteDetectorInput{DetectorId: &detA}); err != nil {
		t.Errorf("DeleteDetector without members: %v", err)
	}
}

// TestCreateMembersUnprocessed: bad, duplicate and refused entries are
// reported per account with the real service's texts; the good ones are
// created.
func TestCreateMembersUnprocessed(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	admin := s.clientA()
	det := createDetector(t, admin)
	detail := func(id string) types.AccountDetail {
		return types.AccountDetail{AccountId: aws.String(id), Email: aws.String(id + "@example.com")}
	}
	out, err := admin.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det, AccountDetails: []types.AccountDetail{
		detail(accountB), detail(accountB), detail(accountA), detail("12345678901x"), detail(accountC),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := unprocessedResults(out.UnprocessedAccounts)
	want := map[string]string{accountB: msgAlreadyMember, accountA: msgMemberOfItself, "12345678901x": msgInvalidInput}
	if len(got) != len(want) {
		t.Errorf("unprocessed %v, want %v", got, want)
	}
	for id, msg := range want {
		if got[id] != msg {
			t.Errorf("unprocessed %s: %q, want %q", id, got[id], msg)
		}
	}
	if st := listedMembers(t, admin, det, aws.String("false")); st[accountB] != "Created" || st[accountC] != "Created" || len(st) != 2 {
		t.Errorf("members %v", st)
	}
	again, err := admin.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det, AccountDetails: []types.AccountDetail{detail(accountC)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(again.UnprocessedAccounts)[accountC]; got != msgAlreadyMember {
		t.Errorf("CreateMembers of an existing member: %q", got)
	}

	// Whole-request errors: an unknown detector, another account's
	// detector, and ids the model's constraints reject.
	missing := strings.Repeat("0", 32)
	_, err = admin.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &missing, AccountDetails: []types.AccountDetail{detail(accountB)}})
	wantBadRequest(t, "CreateMembers with an unknown detector", err, msgNotOwned)
	_, err = s.clientB().CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det, AccountDetails: []types.AccountDetail{detail(accountC)}})
	wantBadRequest(t, "CreateMembers with another account's detector", err, msgNotOwned)
	_, err = admin.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det, AccountDetails: []types.AccountDetail{detail("1234")}})
	wantAPIError(t, err, "BadRequestException", "1 validation error detected: Value '1234' at 'accountDetails.1.member.accountId' failed to satisfy constraint: Member must have length greater than or equal to 12")
	_, err = admin.GetMembers(ctx, &guardduty.GetMembersInput{DetectorId: &det, AccountIds: []string{}})
	if err == nil {
		t.Error("GetMembers with no account ids: no error")
	}
}

// TestMemberRules: one administrator per account, an administrator cannot
// become a member, and the errors for invitations that do not exist.
func TestMemberRules(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b, c := s.clientA(), s.clientB(), s.clientC()
	detA, detB, detC := createDetector(t, a), createDetector(t, b), createDetector(t, c)
	create := func(cl *guardduty.Client, det string, ids ...string) {
		t.Helper()
		var ds []types.AccountDetail
		for _, id := range ids {
			ds = append(ds, types.AccountDetail{AccountId: aws.String(id), Email: aws.String("x@example.com")})
		}
		out, err := cl.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det, AccountDetails: ds})
		if err != nil {
			t.Fatal(err)
		}
		wantNoUnprocessed(t, "CreateMembers", out.UnprocessedAccounts)
	}
	invite := func(cl *guardduty.Client, det string, ids ...string) map[string]string {
		t.Helper()
		out, err := cl.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &det, AccountIds: ids})
		if err != nil {
			t.Fatal(err)
		}
		return unprocessedResults(out.UnprocessedAccounts)
	}

	// Inviting an account that is not a member, and oneself.
	if got := invite(a, detA, accountC); got[accountC] != msgNotAssociatedMember {
		t.Errorf("invite a non-member: %v", got)
	}
	if got := invite(a, detA, accountA); got[accountA] != "The request is rejected because the current account cannot invite itself." {
		t.Errorf("invite oneself: %v", got)
	}

	// A and C both invite B; B accepts A, then cannot accept C.
	create(a, detA, accountB)
	create(c, detC, accountB)
	if got := invite(a, detA, accountB); len(got) != 0 {
		t.Fatal(got)
	}
	if got := invite(c, detC, accountB); len(got) != 0 {
		t.Fatal(got)
	}
	if n := invitationsCount(t, b); n != 2 {
		t.Errorf("GetInvitationsCount with two pending: %d", n)
	}
	fromA, fromC := invitationFrom(t, b, accountA), invitationFrom(t, b, accountC)
	if _, err := b.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detB,
		AdministratorId: aws.String(accountA), InvitationId: fromA.InvitationId}); err != nil {
		t.Fatal(err)
	}
	_, err := b.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detB,
		AdministratorId: aws.String(accountC), InvitationId: fromC.InvitationId})
	wantBadRequest(t, "accept a second administrator", err, msgAcceptWhileMember)

	// B, now a member, cannot create or invite members of its own.
	out, err := b.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &detB,
		AccountDetails: []types.AccountDetail{{AccountId: aws.String(accountC), Email: aws.String("c@example.com")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(out.UnprocessedAccounts)[accountC]; got != "The request is rejected because the current account cannot create members since it is already an associated member of another master account." {
		t.Errorf("CreateMembers by a member: %q", got)
	}

	// B declines C's invitation: C sees Resigned; B's count drops to 0;
	// the declined invitation can then be deleted.
	dec, err := b.DeclineInvitations(ctx, &guardduty.DeclineInvitationsInput{AccountIds: []string{accountC}})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "DeclineInvitations", dec.UnprocessedAccounts)
	if got := memberStatus(t, c, detC, accountB); got != "Resigned" {
		t.Errorf("administrator's view after decline: %q", got)
	}
	dec, err = b.DeclineInvitations(ctx, &guardduty.DeclineInvitationsInput{AccountIds: []string{accountA}})
	if err != nil {
		t.Fatal(err)
	}
	if len(dec.UnprocessedAccounts) != 1 {
		t.Errorf("declining the accepted invitation: %v", unprocessedResults(dec.UnprocessedAccounts))
	}
	delInv, err := b.DeleteInvitations(ctx, &guardduty.DeleteInvitationsInput{AccountIds: []string{accountC, accountA}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(delInv.UnprocessedAccounts); len(got) != 1 || got[accountA] == "" {
		t.Errorf("DeleteInvitations of the declined and the accepted one: %v", got)
	}
	if invitationFrom(t, b, accountC) != nil {
		t.Error("ListInvitations still lists the deleted invitation")
	}

	// An administrator (A has member B) cannot accept an invitation, and
	// cannot be invited: C invites A.
	create(c, detC, accountA)
	if got := invite(c, detC, accountA); got[accountA] == "" {
		t.Errorf("inviting an administrator was processed")
	}
	_, err = a.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detA,
		AdministratorId: aws.String(accountC), InvitationId: aws.String(strings.Repeat("a", 32))})
	wantBadRequest(t, "an administrator accepts", err, msgAcceptWithMembers)

	// Accepting an invitation that does not exist (as C in another
	// region, where it has no members), with a bad administrator id, and
	// through a detector that is not the caller's.
	cWest := s.client(keyC, secretC, "us-west-2")
	detCWest := createDetector(t, cWest)
	_, err = cWest.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detCWest,
		AdministratorId: aws.String(accountB), InvitationId: aws.String(strings.Repeat("b", 32))})
	wantBadRequest(t, "accept a non-existent invitation", err, msgNoPending)
	_, err = c.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detC,
		AdministratorId: aws.String("not-an-acct!"), InvitationId: aws.String("x")})
	wantBadRequest(t, "accept with a bad administrator id", err, msgInvalidInput)
	_, err = c.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detA,
		AdministratorId: aws.String(accountA), InvitationId: aws.String("x")})
	wantBadRequest(t, "accept through another account's detector", err, msgNotOwned)

	// Members are per region: A's member B does not exist in us-west-2.
	aWest := s.client(keyA, secretA, "us-west-2")
	detWest := createDetector(t, aWest)
	if got := memberStatus(t, aWest, detWest, accountB); got != "" {
		t.Errorf("member of us-east-1 seen in us-west-2: %q", got)
	}
	bWest := s.client(keyB, secretB, "us-west-2")
	if n := invitationsCount(t, bWest); n != 0 {
		t.Errorf("invitations of us-east-1 counted in us-west-2: %d", n)
	}

	// Operations on a detector the caller does not own.
	_, err = c.ListMembers(ctx, &guardduty.ListMembersInput{DetectorId: &detA})
	wantBadRequest(t, "ListMembers of another account's detector", err, msgNotOwned)
	_, err = c.GetMasterAccount(ctx, &guardduty.GetMasterAccountInput{DetectorId: &detA})
	wantBadRequest(t, "GetMasterAccount of another account's detector", err, msgNotOwned)
	_, err = a.ListMembers(ctx, &guardduty.ListMembersInput{DetectorId: &detA, OnlyAssociated: aws.String("maybe")})
	if err == nil {
		t.Error("ListMembers onlyAssociated=maybe: no error")
	}
}

// TestMemberDetectors: the administrator reads and changes an associated
// member's protection plans; other accounts are unprocessed with the text
// Terraform's aws_guardduty_member_detector_feature reports.
func TestMemberDetectors(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b := s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), createDetector(t, b)
	if _, err := a.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &detA,
		AccountDetails: []types.AccountDetail{{AccountId: aws.String(accountB), Email: aws.String("b@example.com")}}}); err != nil {
		t.Fatal(err)
	}
	// Not yet associated: unprocessed.
	gd, err := a.GetMemberDetectors(ctx, &guardduty.GetMemberDetectorsInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(gd.UnprocessedAccounts)[accountB]; got != msgNotAssociatedMember {
		t.Errorf("GetMemberDetectors of a created member: %q", got)
	}
	if _, err := a.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	inv := invitationFrom(t, b, accountA)
	if _, err := b.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detB,
		AdministratorId: aws.String(accountA), InvitationId: inv.InvitationId}); err != nil {
		t.Fatal(err)
	}

	up, err := a.UpdateMemberDetectors(ctx, &guardduty.UpdateMemberDetectorsInput{DetectorId: &detA, AccountIds: []string{accountB, accountC},
		Features: []types.MemberFeaturesConfiguration{{Name: types.OrgFeatureRuntimeMonitoring, Status: types.FeatureStatusEnabled,
			AdditionalConfiguration: []types.MemberAdditionalConfiguration{{Name: types.OrgFeatureAdditionalConfigurationEksAddonManagement, Status: types.FeatureStatusEnabled}}},
			{Name: types.OrgFeatureS3DataEvents, Status: types.FeatureStatusDisabled}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := unprocessedResults(up.UnprocessedAccounts); len(got) != 1 || got[accountC] != msgNotAssociatedMember {
		t.Errorf("UpdateMemberDetectors unprocessed: %v", got)
	}
	// The member's own GetDetector shows the change.
	own, err := b.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &detB})
	if err != nil {
		t.Fatal(err)
	}
	status := func(fs []types.DetectorFeatureConfigurationResult, name types.DetectorFeatureResult) string {
		for _, f := range fs {
			if f.Name == name {
				return string(f.Status)
			}
		}
		return ""
	}
	if got := status(own.Features, types.DetectorFeatureResultRuntimeMonitoring); got != "ENABLED" {
		t.Errorf("member's RUNTIME_MONITORING: %q", got)
	}
	if got := status(own.Features, types.DetectorFeatureResultS3DataEvents); got != "DISABLED" {
		t.Errorf("member's S3_DATA_EVENTS: %q", got)
	}

	gd, err = a.GetMemberDetectors(ctx, &guardduty.GetMemberDetectorsInput{DetectorId: &detA, AccountIds: []string{accountB}})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "GetMemberDetectors", gd.UnprocessedAccounts)
	if len(gd.MemberDataSourceConfigurations) != 1 {
		t.Fatalf("GetMemberDetectors: %d detectors", len(gd.MemberDataSourceConfigurations))
	}
	md := gd.MemberDataSourceConfigurations[0]
	if aws.ToString(md.AccountId) != accountB || md.DataSources == nil || md.DataSources.S3Logs.Status != types.DataSourceStatusDisabled {
		t.Errorf("GetMemberDetectors: %+v", md)
	}
	i := slices.IndexFunc(md.Features, func(f types.MemberFeaturesConfigurationResult) bool {
		return f.Name == types.OrgFeatureRuntimeMonitoring
	})
	if i < 0 || md.Features[i].Status != types.FeatureStatusEnabled {
		t.Fatalf("GetMemberDetectors features: %+v", md.Features)
	}
	j := slices.IndexFunc(md.Features[i].AdditionalConfiguration, func(c types.MemberAdditionalConfigurationResult) bool {
		return c.Name == types.OrgFeatureAdditionalConfigurationEksAddonManagement
	})
	if j < 0 || md.Features[i].AdditionalConfiguration[j].Status != types.FeatureStatusEnabled {
		t.Errorf("EKS_ADDON_MANAGEMENT: %+v", md.Features[i].AdditionalConfiguration)
	}

	// An unknown feature fails the whole request and changes nothing.
	_, err = a.UpdateMemberDetectors(ctx, &guardduty.UpdateMemberDetectorsInput{DetectorId: &detA, AccountIds: []string{accountB},
		Features: []types.MemberFeaturesConfiguration{{Name: types.OrgFeatureS3DataEvents, Status: types.FeatureStatusEnabled},
			{Name: types.OrgFeatureS3DataEvents, Status: types.FeatureStatusDisabled}}})
	if err == nil {
		t.Error("UpdateMemberDetectors naming a feature twice: no error")
	}
	own, err = b.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &detB})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(own.Features, types.DetectorFeatureResultS3DataEvents); got != "DISABLED" {
		t.Errorf("a refused UpdateMemberDetectors changed S3_DATA_EVENTS to %q", got)
	}
}

// TestMembersLimit: CreateMembers stops at the administrator's member
// limit with the real service's text (a limit of 2 here: the default,
// guardpost.DefaultMaxMembers, is 50,000).
func TestMembersLimit(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	det := createDetector(t, s.clientA())
	svc := &guardpost.Service{Store: s.store, MaxMembers: 2}
	caller := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	us, err := svc.CreateMembers(ctx, caller, det, []guardpost.AccountDetail{
		{AccountID: accountB, Email: "b@example.com"}, {AccountID: accountC, Email: "c@example.com"}, {AccountID: "123412341234", Email: "d@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const msgLimit = "The request is rejected because the current account cannot create anymore members since it cannot exceed the maximum number of allowed members."
	if len(us) != 1 || us[0].AccountID != "123412341234" || us[0].Result != msgLimit {
		t.Errorf("unprocessed %+v, want 123412341234 refused with %q", us, msgLimit)
	}
	if got := listedMembers(t, s.clientA(), det, aws.String("false")); len(got) != 2 {
		t.Errorf("members %v, want 2", got)
	}
}

// TestAWSCLIMembers runs the invitation flow through the AWS CLI: the
// administrator as profile a, the member as profile b. (Eight CLI runs:
// each costs the CLI's start-up, seconds on a loaded machine.)
func TestAWSCLIMembers(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed")
	}
	s := startServer3(t)
	as := func(profile string, out any, args ...string) {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", s.endpoint(), "--output", "json", "guardduty"}, args...)...)
		cmd.Env = append(s.awsEnv(), "AWS_PROFILE="+profile) // the last value of a key wins
		b, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws (%s) %v: %v\n%s", profile, args, err, stderr)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("aws %v: output %q: %v", args, b, err)
			}
		}
	}
	var detA, detB struct{ DetectorId string }
	as("a", &detA, "create-detector", "--enable")
	as("b", &detB, "create-detector", "--enable")
	var unprocessed struct {
		UnprocessedAccounts []struct{ AccountId, Result string }
	}
	as("a", &unprocessed, "create-members", "--detector-id", detA.DetectorId, "--account-details", "AccountId="+accountB+",Email=b@example.com")
	if len(unprocessed.UnprocessedAccounts) != 0 {
		t.Fatalf("create-members: %+v", unprocessed)
	}
	as("a", &unprocessed, "invite-members", "--detector-id", detA.DetectorId, "--account-ids", accountB, "--disable-email-notification")
	if len(unprocessed.UnprocessedAccounts) != 0 {
		t.Fatalf("invite-members: %+v", unprocessed)
	}
	var invs struct {
		Invitations []struct{ AccountId, InvitationId, RelationshipStatus string }
	}
	as("b", &invs, "list-invitations")
	if len(invs.Invitations) != 1 || invs.Invitations[0].AccountId != accountA || invs.Invitations[0].RelationshipStatus != "Invited" {
		t.Fatalf("list-invitations: %+v", invs)
	}
	as("b", nil, "accept-administrator-invitation", "--detector-id", detB.DetectorId, "--administrator-id", accountA,
		"--invitation-id", invs.Invitations[0].InvitationId)
	var members struct {
		Members []struct{ AccountId, RelationshipStatus, DetectorId string }
	}
	as("a", &members, "list-members", "--detector-id", detA.DetectorId, "--only-associated", "false")
	if len(members.Members) != 1 || members.Members[0].RelationshipStatus != "Enabled" || members.Members[0].DetectorId != detB.DetectorId {
		t.Errorf("list-members: %+v", members)
	}
	var admin struct {
		Administrator struct{ AccountId, RelationshipStatus string }
	}
	as("b", &admin, "get-administrator-account", "--detector-id", detB.DetectorId)
	if admin.Administrator.AccountId != accountA || admin.Administrator.RelationshipStatus != "Enabled" {
		t.Errorf("get-administrator-account: %+v", admin)
	}
}
