package sqlite

import (
	"bytes"
	"context"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/samples"
)

// TestAdministratorGetFindingsCache: an administrator's GetFindings of
// its member's findings is answered from the service's finding cache the
// second time, and the cache never answers once the member is no longer
// monitored (no finding write happens in between, so only the visibility
// keeps the cached findings out).
func TestAdministratorGetFindingsCache(t *testing.T) {
	db := openTemp(t)
	t.Cleanup(func() { db.Close() })
	st := &countingStore{Store: db}
	svc := &guardpost.Service{Store: st, Samples: samples.New(), Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}
	ctx := context.Background()
	admin := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	member := guardpost.Scope{AccountID: "444455556666", Region: "us-east-1"}
	detA, err := svc.CreateDetector(ctx, admin, "", guardpost.DetectorSettings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	detM, err := svc.CreateDetector(ctx, member, "", guardpost.DetectorSettings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	types := samples.New().Types()[:3]
	for _, c := range []struct {
		scope guardpost.Scope
		det   string
	}{{admin, detA}, {member, detM}} {
		if err := svc.CreateSampleFindings(ctx, c.scope, c.det, types); err != nil {
			t.Fatal(err)
		}
	}
	memberIDs, _, err := svc.ListFindings(ctx, member, detM, guardpost.ListFindingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if us, err := svc.CreateMembers(ctx, admin, detA, []guardpost.AccountDetail{{AccountID: member.AccountID, Email: "m@example.com"}}); err != nil || len(us) != 0 {
		t.Fatal(us, err)
	}
	if us, err := svc.InviteMembers(ctx, admin, detA, []string{member.AccountID}); err != nil || len(us) != 0 {
		t.Fatal(us, err)
	}
	invs, _, err := svc.ListInvitations(ctx, member, 0, "")
	if err != nil || len(invs) != 1 {
		t.Fatal(invs, err)
	}
	if err := svc.AcceptAdministratorInvitation(ctx, member, detM, admin.AccountID, invs[0].InvitationID); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		admin   guardpost.Scope
		account string
		want    bool
	}{
		{admin, member.AccountID, true},
		{member, admin.AccountID, false},
		{guardpost.Scope{AccountID: admin.AccountID, Region: "eu-west-1"}, member.AccountID, false},
		{admin, "777788889999", false},
	} {
		if got, err := svc.Administers(ctx, c.admin, c.account); err != nil || got != c.want {
			t.Errorf("Administers(%v, %s) = %t, %v; want %t", c.admin, c.account, got, err, c.want)
		}
	}

	get := func() int {
		t.Helper()
		docs, err := svc.GetFindings(ctx, admin, detA, memberIDs, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(docs)
	}
	if n := get(); n != len(memberIDs) {
		t.Fatalf("administrator reads %d of its member's %d findings", n, len(memberIDs))
	}
	reads := st.findings.Load()
	if n := get(); n != len(memberIDs) {
		t.Fatalf("second read: %d findings", n)
	}
	if st.findings.Load() != reads {
		t.Errorf("the second GetFindings of the same member findings read the store")
	}
	if us, err := svc.StopMonitoringMembers(ctx, admin, detA, []string{member.AccountID}); err != nil || len(us) != 0 {
		t.Fatal(us, err)
	}
	if n := get(); n != 0 {
		t.Errorf("after StopMonitoringMembers the administrator still reads %d member findings (from the cache)", n)
	}
	// The member itself is answered, from the entries the administrator's
	// read cached: the findings are the same.
	docs, err := svc.GetFindings(ctx, member, detM, memberIDs, nil)
	if err != nil || len(docs) != len(memberIDs) {
		t.Errorf("member's own GetFindings: %d, %v", len(docs), err)
	}
}
