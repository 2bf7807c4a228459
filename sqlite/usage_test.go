package sqlite

import (
	"context"
	"fmt"
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

// usageDB is a store with 30 days of flow-log usage of 1,000 instances
// and CloudTrail and DNS totals: 90,000 stored rows.
func usageDB(b *testing.B) (*DB, guardpost.Scope, string, time.Time) {
	db := openTemp(b)
	ctx := context.Background()
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	det := guardpost.NewID()
	if err := db.InsertDetector(ctx, &guardpost.Detector{AccountID: scope.AccountID, Region: scope.Region, ID: det, Status: guardpost.DetectorEnabled,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for d := range 30 {
		var us []guardpost.UsageRecord
		for i := range 1000 {
			id := fmt.Sprintf("i-%017x", i)
			us = append(us, guardpost.UsageRecord{Feature: "FLOW_LOGS", ResourceID: id, Records: 1000, Bytes: 80000},
				guardpost.UsageRecord{Feature: "DNS_LOGS", ResourceID: id, Records: 100, Bytes: 20000},
				guardpost.UsageRecord{Feature: "CLOUD_TRAIL", ResourceID: id, Records: 10, Bytes: 15000})
		}
		if err := db.AddUsage(ctx, scope, det, today.AddDate(0, 0, -d), us); err != nil {
			b.Fatal(err)
		}
	}
	return db, scope, det, today
}

// BenchmarkUsageRead reads 30 days of usage of 1,000 instances (90,000
// rows summed to 3,000 totals), what every GetUsageStatistics reads.
func BenchmarkUsageRead(b *testing.B) {
	db, scope, det, today := usageDB(b)
	refs := []guardpost.DetectorRef{{AccountID: scope.AccountID, DetectorID: det}}
	b.ResetTimer()
	for b.Loop() {
		us, err := db.Usage(context.Background(), scope.Region, refs, today.AddDate(0, 0, -29))
		if err != nil || len(us) != 3000 {
			b.Fatalf("%d totals, %v", len(us), err)
		}
	}
}

// BenchmarkUsageAdd is what an ingest's usage costs the store: one
// transaction adding to an existing day's total.
func BenchmarkUsageAdd(b *testing.B) {
	db, scope, det, today := usageDB(b)
	b.ResetTimer()
	for b.Loop() {
		if err := db.AddUsage(context.Background(), scope, det, today, []guardpost.UsageRecord{{Feature: "CLOUD_TRAIL", Records: 200000, Bytes: 300000000}}); err != nil {
			b.Fatal(err)
		}
	}
}
