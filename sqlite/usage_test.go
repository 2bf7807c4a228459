package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

// TestUsageOneRowPerDay: however many ingests add usage, a detector has
// one stored row per day, feature and resource.
func TestUsageOneRowPerDay(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	det := guardpost.NewID()
	if err := db.InsertDetector(ctx, &guardpost.Detector{AccountID: scope.AccountID, Region: scope.Region, ID: det, Status: guardpost.DetectorEnabled,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for range 200 {
		if err := db.AddUsage(ctx, scope, det, day, []guardpost.UsageRecord{
			{Feature: "FLOW_LOGS", ResourceID: "i-0a", Records: 5000, Bytes: 400000},
			{Feature: "FLOW_LOGS", Records: 1, Bytes: 80}}); err != nil {
			t.Fatal(err)
		}
	}
	var rows, records, bytes int64
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), sum(records), sum(bytes) FROM usage`).Scan(&rows, &records, &bytes); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || records != 200*5001 || bytes != 200*400080 {
		t.Fatalf("%d rows, %d records, %d bytes; want 2 rows, %d records, %d bytes", rows, records, bytes, 200*5001, 200*400080)
	}
}
