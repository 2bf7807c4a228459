package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/guardpost/guardpost"
)

// featureRow is a DetectorFeature as stored in detectors.features (JSON).
// Slices and maps are not omitempty so nil and empty both round-trip.
type featureRow struct {
	Name                    string      `json:"name"`
	Status                  string      `json:"status"`
	UpdatedAt               int64       `json:"updatedAt"` // epoch ms
	AdditionalConfiguration []configRow `json:"additionalConfiguration"`
}

type configRow struct {
	Name      string `json:"name"`
	Status    string `json:"status"`
	UpdatedAt int64  `json:"updatedAt"` // epoch ms
}

func encodeFeatures(fs []guardpost.DetectorFeature) (string, error) {
	var rows []featureRow
	if fs != nil {
		rows = make([]featureRow, 0, len(fs))
	}
	for _, f := range fs {
		r := featureRow{Name: f.Name, Status: f.Status, UpdatedAt: ms(f.UpdatedAt)}
		if f.AdditionalConfiguration != nil {
			r.AdditionalConfiguration = make([]configRow, 0, len(f.AdditionalConfiguration))
		}
		for _, c := range f.AdditionalConfiguration {
			r.AdditionalConfiguration = append(r.AdditionalConfiguration, configRow{Name: c.Name, Status: c.Status, UpdatedAt: ms(c.UpdatedAt)})
		}
		rows = append(rows, r)
	}
	b, err := json.Marshal(rows)
	return string(b), err
}

func decodeFeatures(s string) ([]guardpost.DetectorFeature, error) {
	var rows []featureRow
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		return nil, err
	}
	if rows == nil {
		return nil, nil
	}
	fs := make([]guardpost.DetectorFeature, 0, len(rows))
	for _, r := range rows {
		f := guardpost.DetectorFeature{Name: r.Name, Status: r.Status, UpdatedAt: fromMS(r.UpdatedAt)}
		if r.AdditionalConfiguration != nil {
			f.AdditionalConfiguration = make([]guardpost.FeatureConfiguration, 0, len(r.AdditionalConfiguration))
		}
		for _, c := range r.AdditionalConfiguration {
			f.AdditionalConfiguration = append(f.AdditionalConfiguration, guardpost.FeatureConfiguration{Name: c.Name, Status: c.Status, UpdatedAt: fromMS(c.UpdatedAt)})
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// detectorArgs returns d's column values in detectorColumns order, after
// the three key columns.
func detectorArgs(d *guardpost.Detector) ([]any, error) {
	features, err := encodeFeatures(d.Features)
	if err != nil {
		return nil, err
	}
	tags, err := json.Marshal(d.Tags)
	if err != nil {
		return nil, err
	}
	return []any{d.ClientToken, d.Status, d.FindingPublishingFrequency, features, string(tags), ms(d.CreatedAt), ms(d.UpdatedAt)}, nil
}

const detectorColumns = `account_id, region, id, client_token, status, finding_publishing_frequency, features, tags, created_at, updated_at`

func scanDetector(sc interface{ Scan(...any) error }) (*guardpost.Detector, error) {
	var (
		d                  guardpost.Detector
		features, tags     string
		created, updatedAt int64
	)
	if err := sc.Scan(&d.AccountID, &d.Region, &d.ID, &d.ClientToken, &d.Status, &d.FindingPublishingFrequency,
		&features, &tags, &created, &updatedAt); err != nil {
		return nil, err
	}
	var err error
	if d.Features, err = decodeFeatures(features); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &d.Tags); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updatedAt)
	return &d, nil
}

// InsertDetector implements guardpost.DetectorStore. The unique index on
// (account_id, region) decides conflicts, so two concurrent inserts for one
// scope cannot both succeed.
func (db *DB) InsertDetector(ctx context.Context, d *guardpost.Detector) error {
	args, err := detectorArgs(d)
	if err != nil {
		return wrap("insert detector", err)
	}
	res, err := db.write.ExecContext(ctx, `INSERT INTO detectors (`+detectorColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		append([]any{d.AccountID, d.Region, d.ID}, args...)...)
	if err != nil {
		return wrap("insert detector", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("insert detector", err)
	}
	if n == 0 {
		return guardpost.Errorf(guardpost.ECONFLICT, "a detector already exists for account %s in %s", d.AccountID, d.Region)
	}
	return nil
}

// Detector implements guardpost.DetectorStore.
func (db *DB) Detector(ctx context.Context, scope guardpost.Scope, id string) (*guardpost.Detector, error) {
	stmt, err := db.readStmts.get(ctx, `SELECT `+detectorColumns+` FROM detectors WHERE account_id = ? AND region = ? AND id = ?`)
	if err != nil {
		return nil, wrap("get detector", err)
	}
	d, err := scanDetector(stmt.QueryRowContext(ctx, scope.AccountID, scope.Region, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", id)
	}
	if err != nil {
		return nil, wrap("get detector", err)
	}
	return d, nil
}

// FindingsMark implements guardpost.DetectorStore in one statement, hence
// one read transaction: a primary-key probe of the detector (nothing
// decoded) and the outbox's last sequence number as the findings version.
// Every finding write appends to the outbox in its own transaction; with
// SQLite's one writer the numbers follow commit order, and the outbox never
// reuses one (a consumer resumes after the last number it handled), so the
// last number grows with every committed finding write, whichever process
// made it. (A detector's deletion takes its findings without outbox
// entries; Exists covers it.)
//
// It reads the database on every call rather than remembering an answer:
// finding out whether another process changed anything costs a read
// transaction anyway (PRAGMA data_version measured 15 µs against 19 µs for
// this probe; most of either is taking and releasing the WAL read lock).
func (db *DB) FindingsMark(ctx context.Context, scope guardpost.Scope, id string) (guardpost.FindingsMark, error) {
	stmt, err := db.readStmts.get(ctx, `SELECT
		EXISTS (SELECT 1 FROM detectors WHERE account_id = ? AND region = ? AND id = ?),
		coalesce((SELECT max(seq) FROM finding_changes), 0),
		EXISTS (SELECT 1 FROM members WHERE administrator_id = ? AND region = ?
			AND invitation = 'ACCEPTED' AND relationship_status = 'Enabled')`)
	if err != nil {
		return guardpost.FindingsMark{}, wrap("findings mark", err)
	}
	var m guardpost.FindingsMark
	if err := stmt.QueryRowContext(ctx, scope.AccountID, scope.Region, id, scope.AccountID, scope.Region).Scan(&m.Exists, &m.Version, &m.Monitors); err != nil {
		return guardpost.FindingsMark{}, wrap("findings mark", err)
	}
	return m, nil
}

// Detectors implements guardpost.DetectorStore. A limit of 0 or less means
// no limit.
func (db *DB) Detectors(ctx context.Context, scope guardpost.Scope, after string, limit int) ([]*guardpost.Detector, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+detectorColumns+` FROM detectors
		WHERE account_id = ? AND region = ? AND id > ? ORDER BY id LIMIT ?`,
		scope.AccountID, scope.Region, after, limit)
	if err != nil {
		return nil, wrap("list detectors", err)
	}
	defer rows.Close()
	var ds []*guardpost.Detector
	for rows.Next() {
		d, err := scanDetector(rows)
		if err != nil {
			return nil, wrap("list detectors", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list detectors", err)
	}
	return ds, nil
}

// UpdateDetector implements guardpost.DetectorStore in one BEGIN
// IMMEDIATE transaction: the detector is read under the write lock, so no
// other update slips between the read and the write. Every field but the
// key (scope and id) and the tags is written back: tags change only through
// UpdateTags, so a settings update racing a TagResource cannot undo it.
func (db *DB) UpdateDetector(ctx context.Context, scope guardpost.Scope, id string, update func(*guardpost.Detector) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("update detector", err)
	}
	defer tx.Rollback()
	d, err := scanDetector(tx.QueryRowContext(ctx, `SELECT `+detectorColumns+` FROM detectors WHERE account_id = ? AND region = ? AND id = ?`,
		scope.AccountID, scope.Region, id))
	if errors.Is(err, sql.ErrNoRows) {
		return guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", id)
	}
	if err != nil {
		return wrap("update detector", err)
	}
	if err := update(d); err != nil {
		return err
	}
	features, err := encodeFeatures(d.Features)
	if err != nil {
		return wrap("update detector", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE detectors SET client_token = ?, status = ?,
		finding_publishing_frequency = ?, features = ?, created_at = ?, updated_at = ?
		WHERE account_id = ? AND region = ? AND id = ?`,
		d.ClientToken, d.Status, d.FindingPublishingFrequency, features, ms(d.CreatedAt), ms(d.UpdatedAt),
		scope.AccountID, scope.Region, id); err != nil {
		return wrap("update detector", err)
	}
	return wrap("update detector", tx.Commit())
}

// DeleteDetector implements guardpost.DetectorStore: the detector, its
// findings, their evidence, its detection state and the account's
// memberships as administrator go in one transaction, after the check
// that none of those memberships is invited or associated (under the
// write lock, so no invitation slips in between). (The foreign keys would
// cascade the findings' rows anyway; deleting them explicitly keeps that
// visible here.)
func (db *DB) DeleteDetector(ctx context.Context, scope guardpost.Scope, id string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("delete detector", err)
	}
	defer tx.Rollback()
	var exists, members bool
	if err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM detectors WHERE account_id = ? AND region = ? AND id = ?),
		EXISTS (SELECT 1 FROM members WHERE administrator_id = ? AND region = ?
			AND (relationship_status = 'Invited' OR invitation = 'ACCEPTED'))`,
		scope.AccountID, scope.Region, id, scope.AccountID, scope.Region).Scan(&exists, &members); err != nil {
		return wrap("delete detector", err)
	}
	if !exists {
		return guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", id)
	}
	if members {
		return guardpost.Errorf(guardpost.ECONFLICT, "account %s has invited or associated members in %s", scope.AccountID, scope.Region)
	}
	for _, q := range []string{
		`DELETE FROM members WHERE administrator_id = ?1 AND region = ?2`,
		`DELETE FROM findings WHERE account_id = ?1 AND region = ?2 AND detector_id = ?3`,
		`DELETE FROM finding_evidence WHERE account_id = ?1 AND region = ?2 AND detector_id = ?3`,
		`DELETE FROM detection_state WHERE account_id = ?1 AND region = ?2 AND detector_id = ?3`,
		`DELETE FROM detectors WHERE account_id = ?1 AND region = ?2 AND id = ?3`,
	} {
		if _, err := tx.ExecContext(ctx, q, scope.AccountID, scope.Region, id); err != nil {
			return wrap("delete detector", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wrap("delete detector", err)
	}
	db.indexes.drop(detectorKey{scope.AccountID, scope.Region, id})
	return nil
}
