package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

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

// CreateFilter implements guardpost.FilterStore in one BEGIN IMMEDIATE
// transaction: decide sees the filters as they are under the write lock,
// so the filter limit and client-token repeats hold against concurrent
// creates. The primary key still decides name conflicts.
func (db *DB) CreateFilter(ctx context.Context, scope guardpost.Scope, detectorID string, decide func(existing []*guardpost.Filter) (*guardpost.Filter, error)) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("create filter", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, qDetectorExists, scope.AccountID, scope.Region, detectorID).Scan(&n); err != nil {
		return wrap("create filter", err)
	}
	if n == 0 {
		return guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", detectorID)
	}
	existing, err := queryFilters(ctx, tx, scope, detectorID, "", 0)
	if err != nil {
		return wrap("create filter", err)
	}
	f, err := decide(existing)
	if err != nil || f == nil {
		return err
	}
	if f.AccountID != scope.AccountID || f.Region != scope.Region || f.DetectorID != detectorID {
		return fmt.Errorf("sqlite: create filter: filter %s is not of detector %s in the scope", f.Name, detectorID)
	}
	args, err := filterArgs(f)
	if err != nil {
		return wrap("create filter", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO filters (`+filterColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		append([]any{f.AccountID, f.Region, f.DetectorID, f.Name}, args...)...)
	if err != nil {
		return wrap("create filter", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("create filter", err)
	} else if n == 0 {
		return guardpost.Errorf(guardpost.ECONFLICT, "filter %s already exists", f.Name)
	}
	return wrap("create filter", tx.Commit())
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
	fs, err := queryFilters(ctx, db.read, scope, detectorID, after, limit)
	return fs, wrap("list filters", err)
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryFilters reads up to limit filters of the detector whose name sorts
// after `after`, in name order; a limit of 0 or less means no limit.
func queryFilters(ctx context.Context, q querier, scope guardpost.Scope, detectorID, after string, limit int) ([]*guardpost.Filter, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := q.QueryContext(ctx, `SELECT `+filterColumns+` FROM filters
		WHERE account_id = ? AND region = ? AND detector_id = ? AND name > ? ORDER BY name LIMIT ?`,
		scope.AccountID, scope.Region, detectorID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var fs []*guardpost.Filter
	for rows.Next() {
		f, err := scanFilter(rows)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, rows.Err()
}

// UpdateFilter implements guardpost.FilterStore in one BEGIN IMMEDIATE
// transaction, so concurrent updates of one filter never undo each other.
// Every field but the key (scope, detector and name) and the tags is
// written back: tags change only through UpdateTags, so a settings update
// racing a TagResource cannot undo it.
func (db *DB) UpdateFilter(ctx context.Context, scope guardpost.Scope, detectorID, name string, update func(*guardpost.Filter) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("update filter", err)
	}
	defer tx.Rollback()
	f, err := scanFilter(tx.QueryRowContext(ctx, `SELECT `+filterColumns+` FROM filters
		WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`, scope.AccountID, scope.Region, detectorID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return guardpost.Errorf(guardpost.ENOTFOUND, "filter %s not found", name)
	}
	if err != nil {
		return wrap("update filter", err)
	}
	if err := update(f); err != nil {
		return err
	}
	criteria, err := encodeCriteria(f.Criteria)
	if err != nil {
		return wrap("update filter", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE filters SET description = ?, action = ?, rank = ?,
		criteria = ?, client_token = ?, created_at = ?
		WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`,
		f.Description, f.Action, f.Rank, criteria, f.ClientToken, ms(f.CreatedAt),
		scope.AccountID, scope.Region, detectorID, name); err != nil {
		return wrap("update filter", err)
	}
	return wrap("update filter", tx.Commit())
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
