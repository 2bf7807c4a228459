package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
)

// organizationIsolationCases: every organization operation, naming the
// organization's administrator (r.admin), its detector (r.detector) and
// an organization member (r.member). own is the caller's detector.
var organizationIsolationCases = []struct {
	op   string
	call func(r memberResources, own string) (method, path, body string)
}{
	{"EnableOrganizationAdminAccount", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/admin/enable", `{"adminAccountId":"` + r.member + `"}`
	}},
	{"ListOrganizationAdminAccounts", func(memberResources, string) (string, string, string) { return "GET", "/admin", "" }},
	{"DescribeOrganizationConfiguration", func(r memberResources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/admin", ""
	}},
	{"DescribeOrganizationConfiguration of the caller's detector", func(_ memberResources, own string) (string, string, string) {
		return "GET", "/detector/" + own + "/admin", ""
	}},
	{"UpdateOrganizationConfiguration", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/admin", `{"autoEnableOrganizationMembers":"NONE"}`
	}},
	{"UpdateOrganizationConfiguration of the caller's detector", func(_ memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/admin", `{"autoEnableOrganizationMembers":"NONE"}`
	}},
	{"GetOrganizationStatistics", func(memberResources, string) (string, string, string) { return "GET", "/organization/statistics", "" }},
	{"GetMembers of an organization member", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/member/get", `{"accountIds":["` + r.member + `"]}`
	}},
	{"GetFindings of the member's findings", func(r memberResources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/findings/get", `{"findingIds":["` + r.invitation + `"]}`
	}},
	{"DisableOrganizationAdminAccount", func(r memberResources, _ string) (string, string, string) {
		return "POST", "/admin/disable", `{"adminAccountId":"` + r.admin + `"}`
	}},
}

// TestOrganizationIsolation runs every organization operation against
// the organization (management M, delegated administrator A, member B) as
// a caller outside it (the outsider D) and as its own accounts in another
// region (M and A in us-west-2), comparing
// each answer with the one for resources that never existed; then checks
// that nothing of the organization changed.
func TestOrganizationIsolation(t *testing.T) {
	s := startOrgServer(t)
	ctx := context.Background()
	m, a, b := s.clientM(), s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), sampleDetector(t, b)
	if _, err := m.EnableOrganizationAdminAccount(ctx, &guardduty.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(accountA)}); err != nil {
		t.Fatal(err)
	}
	out, err := a.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &detA, AccountDetails: []types.AccountDetail{{AccountId: aws.String(accountB), Email: aws.String("b@example.com")}}})
	if err != nil {
		t.Fatal(err)
	}
	wantNoUnprocessed(t, "CreateMembers", out.UnprocessedAccounts)
	findingB := listAll(t, b, detB, nil)[0]
	// invitation carries a finding id here: organization members have none.
	theirs := memberResources{detector: detA, member: accountB, admin: accountA, invitation: findingB}
	never := memberResources{detector: guardpost.NewID(), member: "999988887777", admin: "999977776666", invitation: guardpost.NewID()}

	snapshot := func() map[string][]byte {
		t.Helper()
		out := map[string][]byte{}
		for name, r := range map[string]rawResponse{
			"M's administrators":           s.doAs(keyM, secretM, "us-east-1", "guardduty", "GET", "/admin", ""),
			"A's configuration":            s.doAs(keyA, secretA, "us-east-1", "guardduty", "GET", "/detector/"+detA+"/admin", ""),
			"A's members":                  s.doAs(keyA, secretA, "us-east-1", "guardduty", "GET", "/detector/"+detA+"/member?onlyAssociated=false", ""),
			"A's statistics":               s.doAs(keyA, secretA, "us-east-1", "guardduty", "GET", "/organization/statistics", ""),
			"B's administrator":            s.doAs(keyB, secretB, "us-east-1", "guardduty", "GET", "/detector/"+detB+"/administrator", ""),
			"A's view of B's finding":      s.doAs(keyA, secretA, "us-east-1", "guardduty", "POST", "/detector/"+detA+"/findings/get", `{"findingIds":["`+findingB+`"]}`),
			"B's detector (features)":      s.doAs(keyB, secretB, "us-east-1", "guardduty", "GET", "/detector/"+detB, ""),
			"M's us-west-2 administrators": s.doAs(keyM, secretM, "us-west-2", "guardduty", "GET", "/admin", ""),
		} {
			if r.Status != 200 {
				t.Fatalf("snapshot %s: %d %s", name, r.Status, r.Body)
			}
			out[name] = r.Body
		}
		return out
	}
	before := snapshot()
	if !bytes.Contains(before["A's view of B's finding"], []byte(accountB)) {
		t.Fatalf("the delegated administrator does not see B's finding: %s", before["A's view of B's finding"])
	}

	callers := []struct{ name, key, secret, region string }{
		{"outsider D", keyD, secretD, "us-east-1"},
		{"administrator A in us-west-2", keyA, secretA, "us-west-2"},
		{"management M in us-west-2", keyM, secretM, "us-west-2"},
	}
	for _, c := range callers {
		own := createDetector(t, s.client(c.key, c.secret, c.region))
		for _, tc := range organizationIsolationCases {
			if c.key == keyM && tc.op == "EnableOrganizationAdminAccount" {
				continue // the management account designates, in any region: not a matter of isolation
			}
			m1, p1, b1 := tc.call(never, own)
			m2, p2, b2 := tc.call(theirs, own)
			want := s.doAs(c.key, c.secret, c.region, "guardduty", m1, p1, b1)
			got := s.doAs(c.key, c.secret, c.region, "guardduty", m2, p2, b2)
			wantBody, gotBody := neutralMember(want.Body, never), neutralMember(got.Body, theirs)
			if got.Status != want.Status || got.Header.Get("X-Amzn-ErrorType") != want.Header.Get("X-Amzn-ErrorType") || !bytes.Equal(gotBody, wantBody) {
				t.Errorf("%s, %s: the organization's answers %d %s %s; one that never existed %d %s %s", c.name, tc.op,
					got.Status, got.Header.Get("X-Amzn-ErrorType"), gotBody, want.Status, want.Header.Get("X-Amzn-ErrorType"), wantBody)
			}
		}
	}
	// The organization's state is per region: in us-west-2, A administers
	// nothing and M has designated no one.
	dets, err := s.client(keyA, secretA, "us-west-2").ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil || len(dets.DetectorIds) != 1 {
		t.Fatalf("A's us-west-2 detectors: %v %v", dets, err)
	}
	for _, path := range []string{"/detector/" + dets.DetectorIds[0] + "/admin", "/organization/statistics"} {
		r := s.doAs(keyA, secretA, "us-west-2", "guardduty", "GET", path, "")
		if typ, msg := r.errorBody(t); r.Status != 400 || typ != "BadRequestException" || msg != msgCallerNotAdmin {
			t.Errorf("A in us-west-2, GET %s: %d %s %s", path, r.Status, typ, msg)
		}
	}
	if r := s.doAs(keyM, secretM, "us-west-2", "guardduty", "GET", "/admin", ""); r.Status != 200 || string(r.Body) != `{"adminAccounts":[]}` {
		t.Errorf("M's administrators in us-west-2: %d %s", r.Status, r.Body)
	}
	after := snapshot()
	for k, v := range before {
		if !bytes.Equal(after[k], v) {
			t.Errorf("%s changed:\nbefore %s\nafter  %s", k, v, after[k])
		}
	}
}
