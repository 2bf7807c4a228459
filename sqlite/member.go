package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/guardpost/guardpost"
)

// memberSelect reads memberships with the member's detector in the region
// (detectors hold at most one per account and region).
const memberSelect = `SELECT m.administrator_id, m.region, m.account_id, m.email, m.relationship_status,
	m.invitation_id, m.invited_at, m.invitation, m.created_at, m.updated_at, coalesce(d.id, '')
	FROM members m LEFT JOIN detectors d ON d.account_id = m.account_id AND d.region = m.region`

func scanMembership(sc interface{ Scan(...any) error }) (*guardpost.Membership, error) {
	var (
		m                  guardpost.Membership
		invited            sql.NullInt64
		created, updatedAt int64
	)
	if err := sc.Scan(&m.AdministratorID, &m.Region, &m.AccountID, &m.Email, &m.Status,
		&m.InvitationID, &invited, &m.Invitation, &created, &updatedAt, &m.DetectorID); err != nil {
		return nil, err
	}
	if invited.Valid {
		m.InvitedAt = fromMS(invited.Int64)
	}
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updatedAt)
	return &m, nil
}

func queryMemberships(ctx context.Context, q querier, query string, args ...any) ([]*guardpost.Membership, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []*guardpost.Membership
	for rows.Next() {
		m, err := scanMembership(rows)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// stmtQuerier runs a prepared statement where queryMemberships wants a
// querier (the query text is the statement's own).
type stmtQuerier struct{ stmt *sql.Stmt }

func (q stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return q.stmt.QueryContext(ctx, args...)
}

func (q stmtQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return q.stmt.QueryRowContext(ctx, args...)
}

func noLimit(limit int) int {
	if limit <= 0 {
		return -1 // SQLite: no limit
	}
	return limit
}

// Memberships implements guardpost.MemberStore.
func (db *DB) Memberships(ctx context.Context, admin guardpost.Scope, after string, limit int, associatedOnly bool) ([]*guardpost.Membership, error) {
	q := memberSelect + ` WHERE m.administrator_id = ? AND m.region = ? AND m.account_id > ?`
	if associatedOnly {
		q += ` AND m.invitation = 'ACCEPTED'`
	}
	// Prepared once: every finding read asks it (Service.visibility).
	stmt, err := db.readStmts.get(ctx, q+` ORDER BY m.account_id LIMIT ?`)
	if err != nil {
		return nil, wrap("list members", err)
	}
	ms, err := queryMemberships(ctx, stmtQuerier{stmt}, "", admin.AccountID, admin.Region, after, noLimit(limit))
	return ms, wrap("list members", err)
}

// MembershipsOf implements guardpost.MemberStore.
func (db *DB) MembershipsOf(ctx context.Context, admin guardpost.Scope, accountIDs []string) ([]*guardpost.Membership, error) {
	if len(accountIDs) == 0 {
		return nil, nil
	}
	args := []any{admin.AccountID, admin.Region}
	for _, id := range accountIDs {
		args = append(args, id)
	}
	ms, err := queryMemberships(ctx, db.read, memberSelect+` WHERE m.administrator_id = ? AND m.region = ? AND m.account_id IN (`+
		placeholders(len(accountIDs))+`) ORDER BY m.account_id`, args...)
	return ms, wrap("get members", err)
}

// Invitations implements guardpost.MemberStore.
func (db *DB) Invitations(ctx context.Context, member guardpost.Scope, after string, limit int) ([]*guardpost.Membership, error) {
	// Prepared once: every findings write asks it (administratorFilters).
	stmt, err := db.readStmts.get(ctx, memberSelect+` WHERE m.account_id = ? AND m.region = ? AND m.invitation != ''
		AND m.administrator_id > ? ORDER BY m.administrator_id LIMIT ?`)
	if err != nil {
		return nil, wrap("list invitations", err)
	}
	ms, err := queryMemberships(ctx, stmtQuerier{stmt}, "", member.AccountID, member.Region, after, noLimit(limit))
	return ms, wrap("list invitations", err)
}

// ChangeMemberships implements guardpost.MemberStore in one BEGIN
// IMMEDIATE transaction: change sees the memberships as they are under
// the write lock, so the one-administrator rule and the member limit hold
// against concurrent requests.
func (db *DB) ChangeMemberships(ctx context.Context, region string, accounts []string, change func(current []*guardpost.Membership) (put, del []*guardpost.Membership, err error)) error {
	if len(accounts) == 0 {
		return nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("change members", err)
	}
	defer tx.Rollback()
	in := placeholders(len(accounts))
	args := []any{region}
	for range 2 {
		for _, a := range accounts {
			args = append(args, a)
		}
	}
	current, err := queryMemberships(ctx, tx, memberSelect+` WHERE m.region = ? AND (m.administrator_id IN (`+in+`) OR m.account_id IN (`+in+`))`, args...)
	if err != nil {
		return wrap("change members", err)
	}
	put, del, err := change(current)
	if err != nil {
		return err
	}
	involved := func(m *guardpost.Membership) error {
		if m.Region != region || !slices.Contains(accounts, m.AdministratorID) && !slices.Contains(accounts, m.AccountID) {
			return fmt.Errorf("sqlite: change members: membership %s/%s/%s is outside the change", m.AdministratorID, m.Region, m.AccountID)
		}
		return nil
	}
	for _, m := range del {
		if err := involved(m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE administrator_id = ? AND region = ? AND account_id = ?`,
			m.AdministratorID, m.Region, m.AccountID); err != nil {
			return wrap("change members", err)
		}
	}
	for _, m := range put {
		if err := involved(m); err != nil {
			return err
		}
		var invited sql.NullInt64
		if !m.InvitedAt.IsZero() {
			invited = sql.NullInt64{Int64: ms(m.InvitedAt), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (administrator_id, region, account_id, email, relationship_status,
			invitation_id, invited_at, invitation, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (administrator_id, region, account_id) DO UPDATE SET email = excluded.email,
			relationship_status = excluded.relationship_status, invitation_id = excluded.invitation_id,
			invited_at = excluded.invited_at, invitation = excluded.invitation, created_at = excluded.created_at,
			updated_at = excluded.updated_at`,
			m.AdministratorID, m.Region, m.AccountID, m.Email, m.Status, m.InvitationID, invited, m.Invitation,
			ms(m.CreatedAt), ms(m.UpdatedAt)); err != nil {
			return wrap("change members", err)
		}
	}
	return wrap("change members", tx.Commit())
}

// placeholders returns n comma-separated SQL parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
