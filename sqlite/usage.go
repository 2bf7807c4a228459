package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/guardpost/guardpost"
)

// AddUsage implements guardpost.UsageStore: one UPSERT per record, all in
// one transaction with the detector's existence check and the forgetting
// of old days, so an ingest adds a few rows' worth of writes however many
// records it analysed.
func (db *DB) AddUsage(ctx context.Context, scope guardpost.Scope, detectorID string, day time.Time, usage []guardpost.UsageRecord) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("add usage", err)
	}
	defer tx.Rollback()
	if err := detectorExists(ctx, tx, scope, detectorID); err != nil {
		return err
	}
	// Through usage_days, a seek that finds nothing on all but the first
	// ingest of a day.
	if _, err := tx.ExecContext(ctx, `DELETE FROM usage WHERE account_id = ? AND region = ? AND detector_id = ? AND day < ?`,
		scope.AccountID, scope.Region, detectorID, ms(day.AddDate(0, 0, -guardpost.UsageKept))); err != nil {
		return wrap("add usage", err)
	}
	for _, u := range usage {
		if _, err := tx.ExecContext(ctx, `INSERT INTO usage (account_id, region, detector_id, day, feature, resource_id, records, bytes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region, detector_id, feature, resource_id, day)
			DO UPDATE SET records = records + excluded.records, bytes = bytes + excluded.bytes`,
			scope.AccountID, scope.Region, detectorID, ms(day), u.Feature, u.ResourceID, u.Records, u.Bytes); err != nil {
			return wrap("add usage", err)
		}
	}
	return wrap("add usage", tx.Commit())
}

// Usage implements guardpost.UsageStore, summing the days in SQL: an
// answer has a row per detector, feature and resource, not per day.
func (db *DB) Usage(ctx context.Context, region string, detectors []guardpost.DetectorRef, since time.Time) ([]guardpost.UsageTotal, error) {
	if len(detectors) == 0 {
		return nil, nil
	}
	// +day keeps the planner off usage_days: the key, read in order,
	// groups without a sort (at 90,000 rows, 0.19 s instead of 3.7 s
	// on the shared 2-core machine).
	q, args := detectorsQuery(`SELECT account_id, detector_id, feature, resource_id, sum(records), sum(bytes) FROM usage
		WHERE region = ? AND +day >= ? AND `, []any{region, ms(since)}, detectors)
	q += ` GROUP BY account_id, detector_id, feature, resource_id`
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("usage", err)
	}
	defer rows.Close()
	var out []guardpost.UsageTotal
	for rows.Next() {
		t := guardpost.UsageTotal{Day: since.UTC()}
		if err := rows.Scan(&t.AccountID, &t.DetectorID, &t.Feature, &t.ResourceID, &t.Records, &t.Bytes); err != nil {
			return nil, wrap("usage", err)
		}
		out = append(out, t)
	}
	return out, wrap("usage", rows.Err())
}

// ObserveResources implements guardpost.CoverageStore, one UPSERT per
// resource in one transaction.
func (db *DB) ObserveResources(ctx context.Context, scope guardpost.Scope, detectorID string, rs []guardpost.ObservedResource) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("observe resources", err)
	}
	defer tx.Rollback()
	if err := detectorExists(ctx, tx, scope, detectorID); err != nil {
		return err
	}
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO coverage (account_id, region, detector_id, resource_type, resource_id, instance_type, cluster_name, last_seen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, region, detector_id, resource_type, resource_id) DO UPDATE SET
				instance_type = CASE WHEN excluded.instance_type != '' THEN excluded.instance_type ELSE instance_type END,
				cluster_name = CASE WHEN excluded.cluster_name != '' THEN excluded.cluster_name ELSE cluster_name END,
				last_seen = max(last_seen, excluded.last_seen)`,
			scope.AccountID, scope.Region, detectorID, r.Type, r.ID, r.InstanceType, r.ClusterName, ms(r.LastSeen)); err != nil {
			return wrap("observe resources", err)
		}
	}
	return wrap("observe resources", tx.Commit())
}

// CoveredResources implements guardpost.CoverageStore.
func (db *DB) CoveredResources(ctx context.Context, region string, detectors []guardpost.DetectorRef) ([]*guardpost.CoveredResource, error) {
	if len(detectors) == 0 {
		return nil, nil
	}
	q, args := detectorsQuery(`SELECT account_id, detector_id, resource_type, resource_id, instance_type, cluster_name, last_seen FROM coverage
		WHERE region = ? AND `, []any{region}, detectors)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("covered resources", err)
	}
	defer rows.Close()
	var out []*guardpost.CoveredResource
	for rows.Next() {
		r := &guardpost.CoveredResource{}
		var seen int64
		if err := rows.Scan(&r.AccountID, &r.DetectorID, &r.Type, &r.ID, &r.InstanceType, &r.ClusterName, &seen); err != nil {
			return nil, wrap("covered resources", err)
		}
		r.LastSeen = fromMS(seen)
		out = append(out, r)
	}
	return out, wrap("covered resources", rows.Err())
}

// detectorsQuery appends to q a condition matching the (account_id,
// detector_id) pairs of detectors (an administrator's own and its
// members').
func detectorsQuery(q string, args []any, detectors []guardpost.DetectorRef) (string, []any) {
	var b strings.Builder
	b.WriteString(q)
	b.WriteString("(")
	for i, d := range detectors {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("(account_id = ? AND detector_id = ?)")
		args = append(args, d.AccountID, d.DetectorID)
	}
	b.WriteString(")")
	return b.String(), args
}

// detectorExists answers ENOTFOUND when the scope has no such detector.
func detectorExists(ctx context.Context, tx *sql.Tx, scope guardpost.Scope, detectorID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, qDetectorExists, scope.AccountID, scope.Region, detectorID).Scan(&n); err != nil {
		return wrap("detector exists", err)
	}
	if n == 0 {
		return guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", detectorID)
	}
	return nil
}
