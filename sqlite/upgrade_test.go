package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/guardpost/guardpost"
)

// TestUpgradeFromAttributeRows opens a database written with the schema
// of migrations 0001-0007 (findings with their per-attribute rows) and
// checks that the upgrade keeps every finding answerable: criteria and
// statistics now come from the index built from the documents.
func TestUpgradeFromAttributeRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	old, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateUpTo(ctx, old, 7); err != nil {
		t.Fatal(err)
	}
	scope := guardpost.Scope{AccountID: "123456789012", Region: "us-east-1"}
	if _, err := old.Exec(`INSERT INTO detectors VALUES (?, ?, 'det', '', 'ENABLED', 'SIX_HOURS', '[]', 'null', 0, 0)`,
		scope.AccountID, scope.Region); err != nil {
		t.Fatal(err)
	}
	var severe []string
	for i := range 40 {
		id := fmt.Sprintf("f%02d", i)
		sev := float64(1 + i%9)
		doc := fmt.Sprintf(`{"schemaVersion":"2.0","accountId":%q,"region":"us-east-1","partition":"aws","id":%q,
			"arn":"arn:aws:guardduty:us-east-1:%s:detector/det/finding/%s","type":"Recon:EC2/Portscan","severity":%g,
			"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-0%dT00:00:00.000Z","resource":{"resourceType":"Instance"},
			"service":{"serviceName":"guardduty","detectorId":"det","count":1,"archived":false}}`,
			scope.AccountID, id, scope.AccountID, id, sev, 1+i%5)
		f, err := guardpost.ParseFinding([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		args, err := findingArgs(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(findingUpsert, args...); err != nil {
			t.Fatal(err)
		}
		// What the old store wrote beside each finding.
		if _, err := old.Exec(`INSERT INTO finding_attributes VALUES (?, ?, 'det', ?, ?, ?, ?)`,
			scope.AccountID, scope.Region, id, guardpost.FilterAttributeIndex("severity"), fmt.Sprint(sev), sev); err != nil {
			t.Fatal(err)
		}
		if sev >= 7 {
			severe = append(severe, id)
		}
	}
	old.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a 0007 database: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.read.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'finding_attributes'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("finding_attributes still there after the upgrade (%d, %v)", n, err)
	}
	vis := guardpost.NewVisibility(scope, guardpost.DetectorRef{AccountID: scope.AccountID, DetectorID: "det"})
	where, err := guardpost.CompileCriteria(guardpost.Criteria{"severity": {GreaterThanOrEqual: ptr(int64(7))}})
	if err != nil {
		t.Fatal(err)
	}
	curs, err := db.ListFindings(ctx, vis, guardpost.FindingQuery{Where: where})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range curs {
		got = append(got, c.ID)
	}
	if !slices.Equal(got, severe) {
		t.Fatalf("severity >= 7 after the upgrade: %v, want %v", got, severe)
	}
	rows, err := db.FindingStatistics(ctx, vis, nil, guardpost.StatByDate)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range rows {
		total += r.Count
	}
	if len(rows) != 5 || total != 40 {
		t.Fatalf("statistics by date after the upgrade: %+v", rows)
	}
}

func ptr[T any](v T) *T { return &v }
