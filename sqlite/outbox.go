package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"

	"github.com/guardpost/guardpost"
)

// qInsertChange appends one outbox entry; its number is the row id the
// insert reports (seq is the INTEGER PRIMARY KEY). An Exec and its
// LastInsertId cost less than a query with RETURNING, per finding written.
const qInsertChange = `INSERT INTO finding_changes (account_id, region, detector_id, finding_id, change, at)
	VALUES (?, ?, ?, ?, ?, ?)`

// recordChange appends the outbox entry for writing f in place of stored
// (nil: a new finding), through the transaction's insert statement.
func recordChange(ctx context.Context, insert *sql.Stmt, stored, f *guardpost.Finding, atMS int64) (guardpost.FindingChange, error) {
	c := guardpost.FindingChange{AccountID: f.AccountID, Region: f.Region, DetectorID: f.DetectorID,
		FindingID: f.ID, Change: guardpost.ChangeOf(stored, f), At: fromMS(atMS)}
	res, err := insert.ExecContext(ctx, c.AccountID, c.Region, c.DetectorID, c.FindingID, c.Change, atMS)
	if err != nil {
		return c, err
	}
	c.Seq, err = res.LastInsertId()
	return c, err
}

// FindingChanges implements guardpost.OutboxStore.
func (db *DB) FindingChanges(ctx context.Context, after int64, limit int) ([]guardpost.FindingChange, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := db.read.QueryContext(ctx, `SELECT seq, account_id, region, detector_id, finding_id, change, at
		FROM finding_changes WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("finding changes", err)
	}
	defer rows.Close()
	var out []guardpost.FindingChange
	for rows.Next() {
		var c guardpost.FindingChange
		var at int64
		if err := rows.Scan(&c.Seq, &c.AccountID, &c.Region, &c.DetectorID, &c.FindingID, &c.Change, &at); err != nil {
			return nil, wrap("finding changes", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, wrap("finding changes", rows.Err())
}

// TokenKey implements guardpost.Store: the key is made by the first call
// on a new database and kept in settings, so every process on the file
// signs page tokens alike and tokens outlive restarts.
func (db *DB) TokenKey(ctx context.Context) ([]byte, error) {
	var key []byte
	err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'token_key'`).Scan(&key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap("token key", err)
	}
	key = make([]byte, 32)
	rand.Read(key)
	// Another process may have made one meanwhile: keep the first, read it back.
	if _, err := db.write.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('token_key', ?) ON CONFLICT DO NOTHING`, key); err != nil {
		return nil, wrap("token key", err)
	}
	if err := db.write.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'token_key'`).Scan(&key); err != nil {
		return nil, wrap("token key", err)
	}
	return key, nil
}
