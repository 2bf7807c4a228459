package main

import (
	"context"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
)

// What a member may not manage, in the texts member.go gives (the first
// is the API reference's own).
const (
	msgMemberLists       = "The request is rejected. Member accounts cannot manage IPSets or ThreatIntelSets."
	msgMemberEntitySets  = "The request is rejected. Member accounts cannot manage TrustedEntitySets or ThreatEntitySets."
	msgMemberSuppression = "The request is rejected. Member accounts cannot manage suppression rules"
)

// TestMemberUnderAdministratorLists: while B is A's associated member,
// A's trusted IP list and threat list apply to B's findings and B's own
// list does not (the user guide: the administrator's lists are imposed on
// its members, whose own are disabled until they leave); B cannot manage
// lists or suppression rules, only saved filters. Once B leaves, its own
// list applies again and it manages lists again.
func TestMemberUnderAdministratorLists(t *testing.T) {
	s, detA := detectionServer(t)
	ctx := context.Background()
	a, b := s.clientA(), s.clientB()
	detB := createDetector(t, b)
	const ownIP = "192.0.2.60"
	files := listServer(t, map[string]string{"/own.txt": ownIP + "\n"})
	own, err := b.CreateThreatIntelSet(ctx, &guardduty.CreateThreatIntelSetInput{DetectorId: &detB, Name: aws.String("b-own"),
		Format: types.ThreatIntelSetFormatTxt, Location: aws.String(files.URL + "/own.txt"), Activate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, func() (string, error) {
		g, err := b.GetThreatIntelSet(ctx, &guardduty.GetThreatIntelSetInput{DetectorId: &detB, ThreatIntelSetId: own.ThreatIntelSetId})
		if err != nil {
			return "", err
		}
		return string(g.Status), nil
	}, "ACTIVATING")
	scopeB := guardpost.Scope{AccountID: accountB, Region: "us-east-1"}
	listed := func(ip string) string {
		m, ok := s.service.ThreatListIP(scopeB, detB, netip.MustParseAddr(ip))
		if !ok {
			return ""
		}
		return m.ListName
	}
	if listed(ownIP) != "b-own" || listed(customIP) != "" || s.service.TrustedIP(scopeB, detB, netip.MustParseAddr(trustedIP)) {
		t.Fatal("before membership B's detection must use B's own lists only")
	}

	associate(t, a, detA, accountA, b, detB, accountB)
	if got := listed(customIP); got != "incident-42" {
		t.Errorf("member B's threat list match for A's entry: %q, want A's list incident-42", got)
	}
	if got := listed(ownIP); got != "" {
		t.Errorf("member B's own list still applies (%q)", got)
	}
	if !s.service.TrustedIP(scopeB, detB, netip.MustParseAddr(trustedIP)) {
		t.Error("A's trusted IP list does not apply to member B")
	}
	// Through ingestion: B's record from A's listed address makes B a
	// .Custom finding naming A's list.
	rec := ctRecord("ec2.amazonaws.com", "DescribeSecurityGroups", "badrecon", 0, map[string]any{
		"sourceIPAddress": customIP, "recipientAccountId": accountB, "userIdentity.accountId": accountB,
		"userIdentity.arn": "arn:aws:iam::" + accountB + ":user/badrecon",
	})
	if r := s.ingestCloudTrail(t, keyB, secretB, "us-east-1", logFile(t, rec)); r.FindingsCreated != 1 {
		t.Fatalf("ingest as member B: %+v", r)
	}
	fs := detectedOfType(t, b, detB, "Recon:IAMUser/MaliciousIPCaller.Custom")
	if len(fs) != 1 || fs[0].Service.Action.AwsApiCallAction.RemoteIpDetails == nil ||
		aws.ToString(fs[0].Service.Action.AwsApiCallAction.RemoteIpDetails.IpAddressV4) != customIP {
		t.Fatalf("member B's finding from A's threat list: %+v", fs)
	}

	// What B may not manage while a member.
	loc := aws.String(files.URL + "/own.txt")
	_, err = b.CreateIPSet(ctx, &guardduty.CreateIPSetInput{DetectorId: &detB, Name: aws.String("x"), Format: types.IpSetFormatTxt, Location: loc, Activate: aws.Bool(true)})
	badRequest(t, err, msgMemberLists)
	_, err = b.UpdateThreatIntelSet(ctx, &guardduty.UpdateThreatIntelSetInput{DetectorId: &detB, ThreatIntelSetId: own.ThreatIntelSetId, Activate: aws.Bool(false)})
	badRequest(t, err, msgMemberLists)
	_, err = b.DeleteThreatIntelSet(ctx, &guardduty.DeleteThreatIntelSetInput{DetectorId: &detB, ThreatIntelSetId: own.ThreatIntelSetId})
	badRequest(t, err, msgMemberLists)
	_, err = b.CreateThreatEntitySet(ctx, &guardduty.CreateThreatEntitySetInput{DetectorId: &detB, Name: aws.String("x"), Format: types.ThreatEntitySetFormatTxt, Location: loc, Activate: aws.Bool(true)})
	badRequest(t, err, msgMemberEntitySets)
	criteria := &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}}
	_, err = b.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &detB, Name: aws.String("hide"), Action: types.FilterActionArchive, FindingCriteria: criteria})
	badRequest(t, err, msgMemberSuppression)
	if _, err := b.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &detB, Name: aws.String("saved"), Action: types.FilterActionNoop, FindingCriteria: criteria}); err != nil {
		t.Fatalf("a member's saved filter: %v", err)
	}
	_, err = b.UpdateFilter(ctx, &guardduty.UpdateFilterInput{DetectorId: &detB, FilterName: aws.String("saved"), Action: types.FilterActionArchive})
	badRequest(t, err, msgMemberSuppression)
	if _, err := b.UpdateFilter(ctx, &guardduty.UpdateFilterInput{DetectorId: &detB, FilterName: aws.String("saved"), Description: aws.String("high")}); err != nil {
		t.Fatalf("updating a member's saved filter: %v", err)
	}
	// The refused calls changed nothing.
	g, err := b.GetThreatIntelSet(ctx, &guardduty.GetThreatIntelSetInput{DetectorId: &detB, ThreatIntelSetId: own.ThreatIntelSetId})
	if err != nil || g.Status != types.ThreatIntelSetStatusActive {
		t.Fatalf("B's own list after refused changes: %v %v", g, err)
	}
	if f, err := b.GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &detB, FilterName: aws.String("saved")}); err != nil || f.Action != types.FilterActionNoop {
		t.Fatalf("B's saved filter after a refused update: %v %v", f, err)
	}

	// B leaves: its own list applies again and it manages lists again.
	if _, err := b.DisassociateFromAdministratorAccount(ctx, &guardduty.DisassociateFromAdministratorAccountInput{DetectorId: &detB}); err != nil {
		t.Fatal(err)
	}
	if listed(ownIP) != "b-own" || listed(customIP) != "" || s.service.TrustedIP(scopeB, detB, netip.MustParseAddr(trustedIP)) {
		t.Error("after leaving, B's detection must use B's own lists only")
	}
	if _, err := b.UpdateThreatIntelSet(ctx, &guardduty.UpdateThreatIntelSetInput{DetectorId: &detB, ThreatIntelSetId: own.ThreatIntelSetId, Name: aws.String("b-own-2")}); err != nil {
		t.Fatalf("a former member updating its list: %v", err)
	}
	if _, err := b.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &detB, Name: aws.String("hide"), Action: types.FilterActionArchive, FindingCriteria: criteria}); err != nil {
		t.Fatalf("a former member's suppression rule: %v", err)
	}
}
