package main

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// associate makes member (account memberID, detector memberDet) a
// monitored member of admin through the invitation flow.
func associate(t *testing.T, admin *guardduty.Client, adminDet, adminID string, member *guardduty.Client, memberDet, memberID string) {
	t.Helper()
	ctx := context.Background()
	if _, err := admin.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &adminDet,
		AccountDetails: []types.AccountDetail{{AccountId: aws.String(memberID), Email: aws.String("m@example.com")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &adminDet, AccountIds: []string{memberID}}); err != nil {
		t.Fatal(err)
	}
	inv := invitationFrom(t, member, adminID)
	if inv == nil {
		t.Fatal("no invitation")
	}
	if _, err := member.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &memberDet,
		AdministratorId: aws.String(adminID), InvitationId: inv.InvitationId}); err != nil {
		t.Fatal(err)
	}
}

// accountsOf returns the account of each finding id, read as caller.
func accountsOf(t *testing.T, c *guardduty.Client, det string, ids []string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, f := range getAll(t, c, det, ids) {
		n[aws.ToString(f.AccountId)]++
	}
	return n
}

// countsByAccount is GetFindingsStatistics grouped by ACCOUNT, as caller
// through its detector: total findings per account id.
func countsByAccount(t *testing.T, c *guardduty.Client, det string) map[string]int32 {
	t.Helper()
	st, err := c.GetFindingsStatistics(context.Background(), &guardduty.GetFindingsStatisticsInput{DetectorId: &det, GroupBy: types.GroupByTypeAccount})
	if err != nil {
		t.Fatal(err)
	}
	byAccount := map[string]int32{}
	for _, r := range st.FindingStatistics.GroupedByAccount {
		byAccount[aws.ToString(r.AccountId)] = aws.ToInt32(r.TotalFindings)
	}
	return byAccount
}

// TestAdministratorSeesMonitoredMembers: an administrator's finding
// operations cover its monitored members' findings in the region (each
// with the member's accountId); members see only their own; and stopping
// the monitoring, disassociating or deleting ends the view at once, also
// for the next page of a listing under way.
func TestAdministratorSeesMonitoredMembers(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b, c := s.clientA(), s.clientB(), s.clientC()
	detA, detB, detC := sampleDetector(t, a), sampleDetector(t, b), sampleDetector(t, c)
	own := listAll(t, a, detA, nil)
	idsB := listAll(t, b, detB, nil)
	if len(own) == 0 || len(idsB) == 0 {
		t.Fatal("no sample findings")
	}
	associate(t, a, detA, accountA, b, detB, accountB)

	// ListFindings and GetFindings as the administrator cover B's findings.
	all := listAll(t, a, detA, &types.SortCriteria{AttributeName: aws.String("severity"), OrderBy: types.OrderByDesc})
	if len(all) != len(own)+len(idsB) {
		t.Fatalf("administrator lists %d findings, want %d own + %d of the member", len(all), len(own), len(idsB))
	}
	if got := accountsOf(t, a, detA, all); got[accountA] != len(own) || got[accountB] != len(idsB) || len(got) != 2 {
		t.Errorf("GetFindings as administrator: findings per account %v", got)
	}
	// The member sees only its own, and C nothing of either.
	if got := listAll(t, b, detB, nil); len(got) != len(idsB) {
		t.Errorf("member lists %d findings, want its own %d", len(got), len(idsB))
	}
	if got := accountsOf(t, b, detB, own); len(got) != 0 {
		t.Errorf("member reads its administrator's findings: %v", got)
	}
	if got := accountsOf(t, c, detC, idsB); len(got) != 0 {
		t.Errorf("an outsider reads the member's findings: %v", got)
	}

	// Statistics by account.
	byAccount := countsByAccount(t, a, detA)
	if byAccount[accountA] != int32(len(own)) || byAccount[accountB] != int32(len(idsB)) || len(byAccount) != 2 {
		t.Errorf("statistics by account: %v", byAccount)
	}

	// The administrator archives and gives feedback on a member's finding;
	// the member sees it archived.
	target := idsB[0]
	if _, err := a.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &detA, FindingIds: []string{target}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateFindingsFeedback(ctx, &guardduty.UpdateFindingsFeedbackInput{DetectorId: &detA, FindingIds: []string{target},
		Feedback: types.FeedbackUseful, Comments: aws.String("seen by admin")}); err != nil {
		t.Fatal(err)
	}
	got := getAll(t, b, detB, []string{target})
	if len(got) != 1 || got[0].Service == nil || !aws.ToBool(got[0].Service.Archived) || aws.ToString(got[0].Service.UserFeedback) != "USEFUL" {
		t.Fatalf("member's finding after the administrator's archive and feedback: %+v", got)
	}
	if _, err := a.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: &detA, FindingIds: []string{target}}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, b, detB, []string{target}); aws.ToBool(got[0].Service.Archived) {
		t.Error("UnarchiveFindings by the administrator left the member's finding archived")
	}
	// The member cannot archive its administrator's findings.
	if _, err := b.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &detB, FindingIds: own[:1]}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, a, detA, own[:1]); aws.ToBool(got[0].Service.Archived) {
		t.Error("a member archived its administrator's finding")
	}

	// Mid-listing: the first page is read, monitoring stops, and the next
	// pages hold none of the member's findings.
	first, err := a.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &detA, MaxResults: aws.Int32(5),
		SortCriteria: &types.SortCriteria{AttributeName: aws.String("accountId"), OrderBy: types.OrderByAsc}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.StopMonitoringMembers(ctx, &guardduty.StopMonitoringMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	var rest []string
	token := first.NextToken
	for token != nil {
		page, err := a.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &detA, MaxResults: aws.Int32(50), NextToken: token,
			SortCriteria: &types.SortCriteria{AttributeName: aws.String("accountId"), OrderBy: types.OrderByAsc}})
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, page.FindingIds...)
		token = page.NextToken
	}
	for _, id := range rest {
		if slices.Contains(idsB, id) {
			t.Fatalf("a page after StopMonitoringMembers lists the member's finding %s", id)
		}
	}
	if got := accountsOf(t, a, detA, idsB); len(got) != 0 {
		t.Errorf("GetFindings after StopMonitoringMembers: %v", got)
	}
	// Archiving through the administrator no longer reaches the member.
	if _, err := a.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &detA, FindingIds: []string{target}}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, b, detB, []string{target}); aws.ToBool(got[0].Service.Archived) {
		t.Error("an administrator archived a finding of a member it no longer monitors")
	}

	// Started again: visible; disassociated: gone; re-associated, then
	// deleted: gone.
	end := func(what string, f func()) {
		t.Helper()
		if len(listAll(t, a, detA, nil)) != len(own)+len(idsB) {
			t.Fatalf("before %s: the member's findings are not visible", what)
		}
		f()
		if got := listAll(t, a, detA, nil); len(got) != len(own) {
			t.Errorf("after %s: the administrator lists %d findings, want its own %d", what, len(got), len(own))
		}
		if got := accountsOf(t, a, detA, idsB); len(got) != 0 {
			t.Errorf("after %s: GetFindings returns the member's findings %v", what, got)
		}
	}
	if _, err := a.StartMonitoringMembers(ctx, &guardduty.StartMonitoringMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	end("DisassociateMembers", func() {
		if _, err := a.DisassociateMembers(ctx, &guardduty.DisassociateMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := a.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	inv := invitationFrom(t, b, accountA)
	if _, err := b.AcceptAdministratorInvitation(ctx, &guardduty.AcceptAdministratorInvitationInput{DetectorId: &detB,
		AdministratorId: aws.String(accountA), InvitationId: inv.InvitationId}); err != nil {
		t.Fatal(err)
	}
	end("DeleteMembers", func() {
		if _, err := a.DeleteMembers(ctx, &guardduty.DeleteMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
			t.Fatal(err)
		}
	})
	associate(t, a, detA, accountA, b, detB, accountB)
	end("DisassociateFromAdministratorAccount", func() {
		if _, err := b.DisassociateFromAdministratorAccount(ctx, &guardduty.DisassociateFromAdministratorAccountInput{DetectorId: &detB}); err != nil {
			t.Fatal(err)
		}
	})

	// Another region's membership shows nothing here.
	aWest, bWest := s.client(keyA, secretA, "us-west-2"), s.client(keyB, secretB, "us-west-2")
	detAW, detBW := createDetector(t, aWest), createDetector(t, bWest)
	associate(t, aWest, detAW, accountA, bWest, detBW, accountB)
	if got := listAll(t, a, detA, nil); len(got) != len(own) {
		t.Errorf("a us-west-2 membership shows %d findings in us-east-1, want %d", len(got), len(own))
	}
}

// TestAdministratorSuppressionRules: an administrator's ARCHIVE filters
// archive its associated members' new findings; before the association
// they do not.
func TestAdministratorSuppressionRules(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b := s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), createDetector(t, b)
	const suppressed, kept = "Recon:EC2/PortProbeUnprotectedPort", "UnauthorizedAccess:EC2/SSHBruteForce"
	if _, err := a.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &detA, Name: aws.String("no-probes"),
		Action: types.FilterActionArchive, Rank: aws.Int32(1), FindingCriteria: &types.FindingCriteria{
			Criterion: map[string]types.Condition{"type": {Equals: []string{suppressed}}}}}); err != nil {
		t.Fatal(err)
	}
	archivedByType := func() map[string]bool {
		t.Helper()
		if _, err := b.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &detB, FindingTypes: []string{suppressed, kept}}); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, f := range getAll(t, b, detB, listAll(t, b, detB, nil)) {
			out[aws.ToString(f.Type)] = aws.ToBool(f.Service.Archived)
		}
		return out
	}
	if got := archivedByType(); got[suppressed] || got[kept] {
		t.Fatalf("before association: archived %v", got)
	}
	associate(t, a, detA, accountA, b, detB, accountB)
	if got := archivedByType(); !got[suppressed] || got[kept] {
		t.Errorf("after association: archived %v, want only %s", got, suppressed)
	}
}

// TestAssumeRoleFollowsMembership: with the server's default policy, an
// administrator may assume a role in an account only while that account
// is its associated member in the signing region, as AWS's multi-account
// scripts expect; the member may not assume into its administrator.
func TestAssumeRoleFollowsMembership(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	clock := &testClock{}
	a, b := s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), sampleDetector(t, b)
	stsA := s.stsClientAt(static(keyA, secretA, ""), clock)
	assume := func() (*sts.AssumeRoleOutput, error) {
		return stsA.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleB), RoleSessionName: aws.String("admin")})
	}
	refusedText := "User: arn:aws:iam::" + accountA + ":user/a is not authorized to perform: sts:AssumeRole on resource: " + roleB
	_, err := assume()
	wantRefusal(t, "before membership", err, 403, "AccessDenied", refusedText)

	associate(t, a, detA, accountA, b, detB, accountB)
	out, err := assume()
	if err != nil {
		t.Fatalf("AssumeRole into an associated member: %v", err)
	}
	c := out.Credentials
	asB := s.sdkClient(static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), "us-east-1", clock.signer())
	dets, err := asB.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil || len(dets.DetectorIds) != 1 || dets.DetectorIds[0] != detB {
		t.Fatalf("ListDetectors with the member's role: %v %v, want [%s]", dets, err, detB)
	}
	_, err = s.stsClientAt(static(keyB, secretB, ""), clock).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + accountA + ":role/x"), RoleSessionName: aws.String("up")})
	wantRefusal(t, "member into its administrator", err, 403, "AccessDenied",
		"User: arn:aws:iam::"+accountB+":user/b is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::"+accountA+":role/x")

	// Disassociated: no new role sessions into B.
	if _, err := a.DisassociateMembers(ctx, &guardduty.DisassociateMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	_, err = assume()
	wantRefusal(t, "after disassociation", err, 403, "AccessDenied", refusedText)
}
