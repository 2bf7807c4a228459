package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/guardpost/guardpost"
)

// UpdateTags implements guardpost.TagStore over the tags columns detectors
// and filters already have (JSON object, or null for none). The read and
// the write share one write transaction, which begins IMMEDIATE (see the
// package comment): no other writer can slip between them, so two
// concurrent TagResource calls never lose each other's keys.
func (db *DB) UpdateTags(ctx context.Context, scope guardpost.Scope, r guardpost.Resource, update func(map[string]string) (map[string]string, error)) error {
	sel := `SELECT tags FROM detectors WHERE account_id = ? AND region = ? AND id = ?`
	upd := `UPDATE detectors SET tags = ? WHERE account_id = ? AND region = ? AND id = ?`
	key := []any{scope.AccountID, scope.Region, r.DetectorID}
	what := "detector " + r.DetectorID
	if r.FilterName != "" {
		sel = `SELECT tags FROM filters WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`
		upd = `UPDATE filters SET tags = ? WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`
		key = append(key, r.FilterName)
		what = "filter " + r.FilterName
	}
	if r.ListID != "" {
		// A deleted list still has its row (GetIPSet answers DELETED for
		// it) but no longer takes tags.
		sel = `SELECT tags FROM threat_lists WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? AND id = ? AND status != 'DELETED'`
		upd = `UPDATE threat_lists SET tags = ? WHERE account_id = ? AND region = ? AND detector_id = ? AND kind = ? AND id = ?`
		key = append(key, string(r.ListKind), r.ListID)
		what = string(r.ListKind) + " " + r.ListID
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("update tags", err)
	}
	defer tx.Rollback()
	var raw string
	err = tx.QueryRowContext(ctx, sel, key...).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return guardpost.Errorf(guardpost.ENOTFOUND, "%s not found", what)
	}
	if err != nil {
		return wrap("update tags", err)
	}
	var tags map[string]string
	if err := json.Unmarshal([]byte(raw), &tags); err != nil {
		return wrap("update tags", err)
	}
	out, err := update(tags)
	if err != nil {
		return err // the caller's own error, unwrapped so errors.Is and ErrorKind see it
	}
	if len(out) == 0 {
		out = nil // stored as null, as a resource created without tags is
	}
	b, err := json.Marshal(out)
	if err != nil {
		return wrap("update tags", err)
	}
	if _, err := tx.ExecContext(ctx, upd, append([]any{string(b)}, key...)...); err != nil {
		return wrap("update tags", err)
	}
	return wrap("update tags", tx.Commit())
}
