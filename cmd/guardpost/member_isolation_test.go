package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/guardpost/guardpost"
)

// memberResources are what a member operation can name: an
// administrator's detector, one of its member accounts, the administrator
// account, and the member's invitation id.
type memberResources struct {
	detector, member, admin, invitation string
}

// memberIsolationCases: every member operation that names a detector, a
// member account or an administrator. own is the caller's detector.
var memberIsolationCases = []struct {
	op   string
	call func(r memberResources, own string) (method, path, body string)
}{
	{"CreateMembers", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member", `{"accountDetails":[{"accountId":"` + r.member + `","email":"x@example.com"}]}`
	}},
	{"InviteMembers", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member/invite", `{"accountIds":["` + r.member + `"]}`
	}},
	{"ListMembers", func(r memberResources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/member?onlyAssociated=false", ""
	}},
	{"GetMembers", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member/get", `{"accountIds":["` + r.member + `"]}`
	}},
	{"GetMembers of the caller's detector", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/member/get", `{"accountIds":["` + r.member + `"]}`
	}},
	{"GetMemberDetectors", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member/detector/get", `{"accountIds":["` + r.member + `"]}`
	}},
	{"GetMemberDetectors of the caller's detector", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/member/detector/get", `{"accountIds":["` + r.member + `"]}`
	}},
	{"UpdateMemberDetectors", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member/detector/update", `{"accountIds":["` + r.member + `"],"features":[{"name":"S3_DATA_EVENTS","status":"DISABLED"}]}`
	}},
	{"UpdateMemberDetectors of the caller's detector", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/member/detector/update", `{"accountIds":["` + r.member + `"],"features":[{"name":"S3_DATA_EVENTS","status":"DISABLED"}]}`
	}},
	{"GetAdministratorAccount", func(r memberResources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/administrator", ""
	}},
	{"GetMasterAccount", func(r memberResources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/master", ""
	}},
	{"AcceptAdministratorInvitation of the member's invitation", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/administrator", `{"administratorId":"` + r.admin + `","invitationId":"` + r.invitation + `"}`
	}},
	{"AcceptInvitation of the member's invitation", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/master", `{"masterId":"` + r.admin + `","invitationId":"` + r.invitation + `"}`
	}},
	{"DeclineInvitations", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/invitation/decline", `{"accountIds":["` + r.admin + `"]}`
	}},
	{"StopMonitoringMembers", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member/stop", `{"accountIds":["` + r.member + `"]}`
	}},
	{"StopMonitoringMembers of the caller's detector", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/member/stop", `{"accountIds":["` + r.member + `"]}`
	}},
	{"StartMonitoringMembers", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member/start", `{"accountIds":["` + r.member + `"]}`
	}},
	// The destructive ones last.
	{"DeleteInvitations", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/invitation/delete", `{"accountIds":["` + r.admin + `"]}`
	}},
	{"DisassociateMembers", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member/disassociate", `{"accountIds":["` + r.member + `"]}`
	}},
	{"DisassociateMembers of the caller's detector", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/member/disassociate", `{"accountIds":["` + r.member + `"]}`
	}},
	{"DisassociateFromAdministratorAccount", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/administrator/disassociate", ""
	}},
	{"DisassociateFromMasterAccount", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/master/disassociate", ""
	}},
	{"DeleteMembers", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/member/delete", `{"accountIds":["` + r.member + `"]}`
	}},
	{"DeleteMembers of the caller's detector", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/member/delete", `{"accountIds":["` + r.member + `"]}`
	}},
}

// neutralMember replaces r's ids in an answer with placeholders.
func neutralMember(body []byte, r memberResources) []byte {
	s := string(body)
	for _, id := range []string{r.detector, r.member, r.admin, r.invitation} {
		s = strings.ReplaceAll(s, id, "<id>")
	}
	return []byte(s)
}

// TestMemberIsolation runs every member operation against A's membership
// of B as a caller outside it (account C in A's region, account A in
// another region) and compares each answer with the answer for resources
// that never existed; then checks that neither side of the membership
// changed.
func TestMemberIsolation(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b := s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), createDetector(t, b)
	associate(t, a, detA, accountA, b, detB, accountB)
	inv := invitationFrom(t, b, accountA)
	theirs := memberResources{detector: detA, member: accountB, admin: accountA, invitation: aws.ToString(inv.InvitationId)}
	never := memberResources{detector: guardpost.NewID(), member: "999988887777", admin: "999900001111", invitation: guardpost.NewID()}

	snapshot := func() map[string][]byte {
		t.Helper()
		out := map[string][]byte{}
		for name, r := range map[string]rawResponse{
			"A's members":           s.doAs(keyA, secretA, "us-east-1", "guardduty", "GET", "/detector/"+detA+"/member?onlyAssociated=false", ""),
			"B's administrator":     s.doAs(keyB, secretB, "us-east-1", "guardduty", "GET", "/detector/"+detB+"/administrator", ""),
			"B's invitations":       s.doAs(keyB, secretB, "us-east-1", "guardduty", "GET", "/invitation", ""),
			"B's detector":          s.doAs(keyB, secretB, "us-east-1", "guardduty", "GET", "/detector/"+detB, ""),
			"B's member detector":   s.doAs(keyA, secretA, "us-east-1", "guardduty", "POST", "/detector/"+detA+"/member/detector/get", `{"accountIds":["`+accountB+`"]}`),
			"B's invitations count": s.doAs(keyB, secretB, "us-east-1", "guardduty", "GET", "/invitation/count", ""),
		} {
			if r.Status != 200 {
				t.Fatalf("snapshot %s: %d %s", name, r.Status, r.Body)
			}
			out[name] = r.Body
		}
		return out
	}
	before := snapshot()

	callers := []struct{ name, key, secret, region string }{
		{"account C", keyC, secretC, "us-east-1"},
		{"account A in us-west-2", keyA, secretA, "us-west-2"},
	}
	for _, c := range callers {
		own := createDetector(t, s.client(c.key, c.secret, c.region))
		for _, tc := range memberIsolationCases {
			m1, p1, b1 := tc.call(never, own)
			m2, p2, b2 := tc.call(theirs, own)
			want := s.doAs(c.key, c.secret, c.region, "guardduty", m1, p1, b1)
			got := s.doAs(c.key, c.secret, c.region, "guardduty", m2, p2, b2)
			wantBody, gotBody := neutralMember(want.Body, never), neutralMember(got.Body, theirs)
			if got.Status != want.Status || got.Header.Get("X-Amzn-ErrorType") != want.Header.Get("X-Amzn-ErrorType") || !bytes.Equal(gotBody, wantBody) {
				t.Errorf("%s, %s: A's membership answers %d %s %s; one that never existed %d %s %s", c.name, tc.op,
					got.Status, got.Header.Get("X-Amzn-ErrorType"), gotBody, want.Status, want.Header.Get("X-Amzn-ErrorType"), wantBody)
			}
		}
	}
	after := snapshot()
	for k, v := range before {
		if !bytes.Equal(after[k], v) {
			t.Errorf("%s changed:\nbefore %s\nafter  %s", k, v, after[k])
		}
	}
	// The membership still works: B's findings reach A.
	if _, err := b.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &detB}); err != nil {
		t.Fatal(err)
	}
	if got := accountsOf(t, a, detA, listAll(t, b, detB, nil)); got[accountB] == 0 {
		t.Error("after the isolation run, A no longer sees B's findings")
	}
}
