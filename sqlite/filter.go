package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/guardpost/guardpost"
)

// conditionRow is a guardpost.Condition as stored in filters.criteria (JSON).
type conditionRow struct {
	Equals             []string `json:"equals,omitempty"`
	NotEquals          []string `json:"notEquals,omitempty"`
	GreaterThan        *int64   `json:"greaterThan,omitempty"`
	GreaterThanOrEqual *int64   `json:"greaterThanOrEqual,omitempty"`
	LessThan           *int64   `json:"lessThan,omitempty"`
	LessThanOrEqual    *int64   `json:"lessThanOrEqual,omitempty"`
	Matches            []string `json:"matches,omitempty"`
	NotMatches         []string `json:"notMatches,omitempty"`
}

func encodeCriteria(c guardpost.Criteria) (string, error) {
	rows := make(map[string]conditionRow, len(c))
	for k, v := range c {
		rows[k] = conditionRow(v)
	}
	b, err := json.Marshal(rows)
	return string(b), err
}

func decodeCriteria(s string) (guardpost.Criteria, error) {
	var rows map[string]conditionRow
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		return nil, err
	}
	c := make(guardpost.Criteria, len(rows))
	for k, v := range rows {
		c[k] = guardpost.Condition(v)
	}
	return c, nil
}

const filterColumns = `account_id, region, detector_id, name, description, action, rank, criteria, tags, client_token, created_at`

// filterArgs returns f's column values in filterColumns order, after the
// four key columns.
func filterArgs(f *guardpost.Filter) ([]any, error) {
	criteria, err := encodeCriteria(f.Criteria)
	if err != nil {
		return nil, err
	}
	tags, err := json.Marshal(f.Tags)
	if err != nil {
		return nil, err
	}
	return []any{f.Description, f.Action, f.Rank, criteria, string(tags), f.ClientToken, ms(f.CreatedAt)}, nil
}

func scanFilter(sc interface{ Scan(...any) error }) (*guardpost.Filter, error) {
	var (
		f              guardpost.Filter
		criteria, tags string
		created        int64
	)
	if err := sc.Scan(&f.AccountID, &f.Region, &f.DetectorID, &f.Name, &f.Description, &f.Action, &f.Rank,
		&criteria, &tags, &f.ClientToken, &created); err != nil {
		return nil, err
	}
	var err error
	if f.Criteria, err = decodeCriteria(criteria); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &f.Tags); err != nil {
		return nil, err
	}
	f.CreatedAt = fromMS(created)
	return &f, nil
}

// InsertFilter implements guardpost.FilterStore. The primary key decides
// name conflicts; the foreign key refuses a filter of a missing detector.
func (db *DB) InsertFilter(ctx context.Context, f *guardpost.Filter) error {
	args, err := filterArgs(f)
	if err != nil {
		return wrap("insert filter", err)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("insert filter", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM detectors WHERE account_id = ? AND region = ? AND id = ?`,
		f.AccountID, f.Region, f.DetectorID).Scan(&n); err != nil {
		return wrap("insert filter", err)
	}
	if n == 0 {
		return guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", f.DetectorID)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO filters (`+filterColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		append([]any{f.AccountID, f.Region, f.DetectorID, f.Name}, args...)...)
	if err != nil {
		return wrap("insert filter", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("insert filter", err)
	} else if n == 0 {
		return guardpost.Errorf(guardpost.ECONFLICT, "filter %s already exists", f.Name)
	}
	return wrap("insert filter", tx.Commit())
}

// Filter implements guardpost.FilterStore.
func (db *DB) Filter(ctx context.Context, scope guardpost.Scope, detectorID, name string) (*guardpost.Filter, error) {
	f, err := scanFilter(db.read.QueryRowContext(ctx, `SELECT `+filterColumns+` FROM filters
		WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`,
		scope.AccountID, scope.Region, detectorID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, guardpost.Errorf(guardpost.ENOTFOUND, "filter %s not found", name)
	}
	if err != nil {
		return nil, wrap("get filter", err)
	}
	return f, nil
}

// Filters implements guardpost.FilterStore.
func (db *DB) Filters(ctx context.Context, scope guardpost.Scope, detectorID, after string, limit int) ([]*guardpost.Filter, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+filterColumns+` FROM filters
		WHERE account_id = ? AND region = ? AND detector_id = ? AND name > ? ORDER BY name LIMIT ?`,
		scope.AccountID, scope.Region, detectorID, after, limit)
	if err != nil {
		return nil, wrap("list filters", err)
	}
	defer rows.Close()
	var fs []*guardpost.Filter
	for rows.Next() {
		f, err := scanFilter(rows)
		if err != nil {
			return nil, wrap("list filters", err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list filters", err)
	}
	return fs, nil
}

// UpdateFilter implements guardpost.FilterStore. Every field but the key
// (scope, detector and name) and the tags is replaced: tags change only
// through UpdateTags, so a settings update racing a TagResource cannot undo
// it.
func (db *DB) UpdateFilter(ctx context.Context, f *guardpost.Filter) error {
	criteria, err := encodeCriteria(f.Criteria)
	if err != nil {
		return wrap("update filter", err)
	}
	args := []any{f.Description, f.Action, f.Rank, criteria, f.ClientToken, ms(f.CreatedAt)}
	res, err := db.write.ExecContext(ctx, `UPDATE filters SET description = ?, action = ?, rank = ?,
		criteria = ?, client_token = ?, created_at = ?
		WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`,
		append(args, f.AccountID, f.Region, f.DetectorID, f.Name)...)
	if err != nil {
		return wrap("update filter", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("update filter", err)
	}
	if n == 0 {
		return guardpost.Errorf(guardpost.ENOTFOUND, "filter %s not found", f.Name)
	}
	return nil
}

// DeleteFilter implements guardpost.FilterStore.
func (db *DB) DeleteFilter(ctx context.Context, scope guardpost.Scope, detectorID, name string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM filters WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`,
		scope.AccountID, scope.Region, detectorID, name)
	if err != nil {
		return wrap("delete filter", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("delete filter", err)
	}
	if n == 0 {
		return guardpost.Errorf(guardpost.ENOTFOUND, "filter %s not found", name)
	}
	return nil
}
