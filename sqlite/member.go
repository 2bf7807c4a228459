package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
// against concurrent requests. It reads by index only what c names (the
// member side of each account, member_counts for the counts), so its cost
// does not grow with the administrator's members, unless c asks for all
// of them (c.Administrator).
func (db *DB) ChangeMemberships(ctx context.Context, c guardpost.MembershipChange, change func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error)) error {
	if len(c.Accounts) == 0 && c.Administrator == "" {
		return nil
	}
	region, accounts := c.Region, c.Accounts
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("change members", err)
	}
	defer tx.Rollback()
	if c.DetectorID != "" {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM detectors WHERE account_id = ? AND region = ? AND id = ?`,
			c.Detector.AccountID, c.Detector.Region, c.DetectorID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", c.DetectorID)
		}
		if err != nil {
			return wrap("change members", err)
		}
	}
	read := &guardpost.MembershipsRead{Administered: map[string]guardpost.MemberCounts{}}
	if len(accounts) > 0 {
		in := placeholders(len(accounts))
		args := []any{region}
		for _, a := range accounts {
			args = append(args, a)
		}
		if read.Memberships, err = queryMemberships(ctx, tx, memberSelect+` WHERE m.region = ? AND m.account_id IN (`+in+`)`, args...); err != nil {
			return wrap("change members", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT administrator_id, members, active FROM member_counts
			WHERE region = ? AND administrator_id IN (`+in+`)`, args...)
		if err != nil {
			return wrap("change members", err)
		}
		for rows.Next() {
			var (
				admin string
				n     guardpost.MemberCounts
			)
			if err := rows.Scan(&admin, &n.Members, &n.Active); err != nil {
				rows.Close()
				return wrap("change members", err)
			}
			read.Administered[admin] = n
		}
		if err := rows.Close(); err != nil {
			return wrap("change members", err)
		}
	}
	if c.Administrator != "" {
		all, err := queryMemberships(ctx, tx, memberSelect+` WHERE m.administrator_id = ? AND m.region = ?
			AND NOT (m.account_id IN (SELECT value FROM json_each(?)))`, c.Administrator, region, jsonList(accounts))
		if err != nil {
			return wrap("change members", err)
		}
		read.Memberships = append(read.Memberships, all...)
	}
	put, del, err := change(read)
	if err != nil {
		return err
	}
	involved := func(m *guardpost.Membership) error {
		if m.Region != region || !slices.Contains(accounts, m.AccountID) && (c.Administrator == "" || m.AdministratorID != c.Administrator) {
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

// jsonList encodes ss as a JSON array, for json_each.
func jsonList(ss []string) string {
	if ss == nil {
		ss = []string{}
	}
	b, _ := json.Marshal(ss) // strings always encode
	return string(b)
}

// placeholders returns n comma-separated SQL parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
