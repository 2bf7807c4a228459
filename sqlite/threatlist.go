package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/guardpost/guardpost"
)

const threatListColumns = `account_id, region, detector_id, kind, id, name, format, location, expected_bucket_owner,
	status, error_details, generation, entry_count, tags, client_token, created_at, updated_at`

func scanThreatList(sc interface{ Scan(...any) error }) (*guardpost.ThreatList, error) {
	var (
		l                 guardpost.ThreatList
		kind, tags        string
		created, updated  int64
		generation, count int64
	)
	if err := sc.Scan(&l.AccountID, &l.Region, &l.DetectorID, &kind, &l.ID, &l.Name, &l.Format, &l.Location,
		&l.ExpectedBucketOwner, &l.Status, &l.ErrorDetails, &generation, &count, &tags, &l.ClientToken, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &l.Tags); err != nil {
		return nil, err
	}
	l.Kind, l.Generation, l.Entries = guardpost.ThreatListKind(kind), generation, int(count)
	l.CreatedAt, l.UpdatedAt = fromMS(created), fromMS(updated)
	return &l, nil
}

func queryThreatLists(ctx context.Context, q querier, query string, args ...any) ([]*guardpost.ThreatList, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []*guardpost.ThreatList
	for rows.Next() {
		l, err := scanThreatList(rows)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, rows.Err()
}

// CreateThreatList implements guardpost.ThreatListStore in one BEGIN
// IMMEDIATE transaction, so the per-detector limit and client-token
// repeats hold against concurrent creates.
func (db *DB) CreateThreatList(ctx context.Context, scope guardpost.Scope, detectorID string, kind guardpost.ThreatListKind, decide func(existing []*guardpost.ThreatList) (*guardpost.ThreatList, error)) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("create threat list", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, qDetectorExists, scope.AccountID, scope.Region, detectorID).Scan(&n); err != nil {
		return wrap("create threat list", err)
	}
	if n == 0 {
		return guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", detectorID)
	}
	existing, err := queryThreatLists(ctx, tx, `SELECT `+threatListColumns+` FROM threat_lists
		WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? ORDER BY id`, scope.AccountID, scope.Region, detectorID, string(kind))
	if err != nil {
		return wrap("create threat list", err)
	}
	l, err := decide(existing)
	if err != nil || l == nil {
		return err
	}
	if l.AccountID != scope.AccountID || l.Region != scope.Region || l.DetectorID != detectorID || l.Kind != kind {
		return fmt.Errorf("sqlite: create threat list: list %s is not of detector %s in the scope", l.ID, detectorID)
	}
	tags, err := json.Marshal(l.Tags)
	if err != nil {
		return wrap("create threat list", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO threat_lists (`+threatListColumns+`, entries)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')`,
		l.AccountID, l.Region, l.DetectorID, string(l.Kind), l.ID, l.Name, l.Format, l.Location, l.ExpectedBucketOwner,
		l.Status, l.ErrorDetails, l.Generation, l.Entries, string(tags), l.ClientToken, ms(l.CreatedAt), ms(l.UpdatedAt)); err != nil {
		return wrap("create threat list", err)
	}
	return wrap("create threat list", tx.Commit())
}

// ThreatList implements guardpost.ThreatListStore.
func (db *DB) ThreatList(ctx context.Context, scope guardpost.Scope, detectorID string, kind guardpost.ThreatListKind, id string) (*guardpost.ThreatList, error) {
	l, err := scanThreatList(db.read.QueryRowContext(ctx, `SELECT `+threatListColumns+` FROM threat_lists
		WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? AND id = ?`,
		scope.AccountID, scope.Region, detectorID, string(kind), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, guardpost.Errorf(guardpost.ENOTFOUND, "%s %s not found", kind, id)
	}
	return l, wrap("get threat list", err)
}

// ThreatLists implements guardpost.ThreatListStore.
func (db *DB) ThreatLists(ctx context.Context, scope guardpost.Scope, detectorID string, kind guardpost.ThreatListKind, after string, limit int) ([]*guardpost.ThreatList, error) {
	if limit <= 0 {
		limit = -1
	}
	ls, err := queryThreatLists(ctx, db.read, `SELECT `+threatListColumns+` FROM threat_lists
		WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? AND status != 'DELETED' AND id > ?
		ORDER BY id LIMIT ?`, scope.AccountID, scope.Region, detectorID, string(kind), after, limit)
	return ls, wrap("list threat lists", err)
}

// UpdateThreatList implements guardpost.ThreatListStore in one write
// transaction. Tags and entries are not written: they change only through
// UpdateTags and FinishThreatList.
func (db *DB) UpdateThreatList(ctx context.Context, scope guardpost.Scope, detectorID string, kind guardpost.ThreatListKind, id string, update func(*guardpost.ThreatList) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("update threat list", err)
	}
	defer tx.Rollback()
	l, err := scanThreatList(tx.QueryRowContext(ctx, `SELECT `+threatListColumns+` FROM threat_lists
		WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? AND id = ?`,
		scope.AccountID, scope.Region, detectorID, string(kind), id))
	if errors.Is(err, sql.ErrNoRows) {
		return guardpost.Errorf(guardpost.ENOTFOUND, "%s %s not found", kind, id)
	}
	if err != nil {
		return wrap("update threat list", err)
	}
	if err := update(l); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE threat_lists SET name = ?, location = ?, expected_bucket_owner = ?,
		status = ?, error_details = ?, generation = ?, updated_at = ?
		WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? AND id = ?`,
		l.Name, l.Location, l.ExpectedBucketOwner, l.Status, l.ErrorDetails, l.Generation, ms(l.UpdatedAt),
		scope.AccountID, scope.Region, detectorID, string(kind), id); err != nil {
		return wrap("update threat list", err)
	}
	return wrap("update threat list", tx.Commit())
}

// FinishThreatList implements guardpost.ThreatListStore: one conditional
// UPDATE, so a newer status change (a higher generation) always wins.
func (db *DB) FinishThreatList(ctx context.Context, l *guardpost.ThreatList, entries []string) (bool, error) {
	text := strings.Join(entries, "\n")
	res, err := db.write.ExecContext(ctx, `UPDATE threat_lists SET status = ?, error_details = ?, entry_count = ?, entries = ?
		WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? AND id = ? AND generation = ?`,
		l.Status, l.ErrorDetails, len(entries), text, l.AccountID, l.Region, l.DetectorID, string(l.Kind), l.ID, l.Generation)
	if err != nil {
		return false, wrap("finish threat list", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("finish threat list", err)
}

// ThreatListEntries implements guardpost.ThreatListStore.
func (db *DB) ThreatListEntries(ctx context.Context, l *guardpost.ThreatList) ([]string, error) {
	var text string
	err := db.read.QueryRowContext(ctx, `SELECT entries FROM threat_lists
		WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? AND id = ?`,
		l.AccountID, l.Region, l.DetectorID, string(l.Kind), l.ID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, guardpost.Errorf(guardpost.ENOTFOUND, "%s %s not found", l.Kind, l.ID)
	}
	if err != nil || text == "" {
		return nil, wrap("threat list entries", err)
	}
	return strings.Split(text, "\n"), nil
}

// UnsettledThreatLists implements guardpost.ThreatListStore.
func (db *DB) UnsettledThreatLists(ctx context.Context) ([]*guardpost.ThreatList, error) {
	ls, err := queryThreatLists(ctx, db.read, `SELECT `+threatListColumns+` FROM threat_lists
		WHERE status NOT IN ('INACTIVE', 'ERROR', 'DELETED')`)
	return ls, wrap("unsettled threat lists", err)
}
