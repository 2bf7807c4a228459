package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/guardpost/guardpost"
)

// TestUpgradeCountsMembers opens a database written before migration 0016
// (members, no counts): the migration counts each administrator's members
// per region, and the counts then follow the changes.
func TestUpgradeCountsMembers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	old, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateUpTo(ctx, old, 13); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ admin, region, account, status, invitation string }{
		{"100000000001", "us-east-1", "200000000001", "Created", ""},
		{"100000000001", "us-east-1", "200000000002", "Enabled", "ACCEPTED"},
		{"100000000001", "us-east-1", "200000000003", "Removed", ""},
		{"100000000001", "eu-west-1", "200000000001", "Invited", "PENDING"},
		{"100000000002", "us-east-1", "200000000004", "Resigned", "DECLINED"},
	} {
		if _, err := old.Exec(`INSERT INTO members VALUES (?, ?, ?, 'm@example.com', ?, '', NULL, ?, 0, 0)`,
			m.admin, m.region, m.account, m.status, m.invitation); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := func() map[string]guardpost.MemberCounts {
		t.Helper()
		var got map[string]guardpost.MemberCounts
		err := db.ChangeMemberships(ctx, guardpost.MembershipChange{Region: "us-east-1", Accounts: []string{"100000000001", "100000000002"}},
			func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
				got = read.Administered
				return nil, nil, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := counts()
	if got["100000000001"] != (guardpost.MemberCounts{Members: 3, Active: 2}) || got["100000000002"] != (guardpost.MemberCounts{Members: 1, Active: 0}) {
		t.Fatalf("counts after the upgrade: %+v", got)
	}
	// The triggers keep them: a Removed member invited again is active.
	if _, err := db.write.Exec(`UPDATE members SET relationship_status = 'Invited', invitation = 'PENDING'
		WHERE administrator_id = '100000000001' AND region = 'us-east-1' AND account_id = '200000000003'`); err != nil {
		t.Fatal(err)
	}
	if got := counts()["100000000001"]; got != (guardpost.MemberCounts{Members: 3, Active: 3}) {
		t.Errorf("counts after an update: %+v", got)
	}
}
