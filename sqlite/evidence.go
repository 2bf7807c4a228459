package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/guardpost/guardpost"
)

// Detection state and evidence (migration 0014): rows beside findings,
// written inside MergeFindings' transaction so that they never disagree
// with the findings they belong to.

const (
	qStateUpsert = `INSERT INTO detection_state (account_id, region, detector_id, name, state, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, region, detector_id, name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`
	qStateDelete = `DELETE FROM detection_state WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`
	qStateGet    = `SELECT state FROM detection_state WHERE account_id = ? AND region = ? AND detector_id = ? AND name = ?`
)

// MergeDetections implements guardpost.DetectionStateStore: MergeFindings'
// transaction, which also writes state.
func (db *DB) MergeDetections(ctx context.Context, scope guardpost.Scope, detectorID string, findings []*guardpost.Finding, state map[string][]byte, newMerge func([]*guardpost.Filter) guardpost.MergeFunc) ([]guardpost.FindingChange, error) {
	return db.mergeDetections(ctx, scope, detectorID, findings, state, newMerge)
}

// writeState writes the named blobs of state in tx, in name order (a nil
// blob deletes its name). State is written rarely, once per ingest and
// detector: the statements are not cached.
func writeState(ctx context.Context, tx *sql.Tx, scope guardpost.Scope, detectorID string, state map[string][]byte, atMS int64) error {
	names := make([]string, 0, len(state))
	for name := range state {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var err error
		if b := state[name]; b == nil {
			_, err = tx.ExecContext(ctx, qStateDelete, scope.AccountID, scope.Region, detectorID, name)
		} else {
			_, err = tx.ExecContext(ctx, qStateUpsert, scope.AccountID, scope.Region, detectorID, name, b, atMS)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// DetectionState implements guardpost.DetectionStateStore.
func (db *DB) DetectionState(ctx context.Context, scope guardpost.Scope, detectorID, name string) ([]byte, error) {
	var b []byte
	err := db.read.QueryRowContext(ctx, qStateGet, scope.AccountID, scope.Region, detectorID, name).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("detection state", err)
	}
	if b == nil {
		b = []byte{} // stored empty: present, unlike a missing name
	}
	return b, nil
}

const (
	qEvidenceTotal = `SELECT coalesce(max(seq) + 1, 0) FROM finding_evidence
		WHERE account_id = ? AND region = ? AND detector_id = ? AND finding_id = ?`
	qEvidenceDrop = `DELETE FROM finding_evidence
		WHERE account_id = ? AND region = ? AND detector_id = ? AND finding_id = ? AND seq >= ? AND seq < ?`
	qEvidenceInsert = `INSERT OR REPLACE INTO finding_evidence (account_id, region, detector_id, finding_id, seq, size, record)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	// qEvidenceMove hands a finding's evidence to the id merge gave it.
	qEvidenceMove = `UPDATE OR REPLACE finding_evidence SET finding_id = ?
		WHERE account_id = ? AND region = ? AND detector_id = ? AND finding_id = ?`
	qEvidenceRead = `SELECT seq, size, record FROM finding_evidence
		WHERE account_id = ? AND region = ? AND detector_id = ? AND finding_id = ? ORDER BY seq`
)

// evidenceWrite appends findings' evidence inside MergeFindings'
// transaction (see guardpost.PlanEvidence).
type evidenceWrite struct {
	total, drop, insert, move *sql.Stmt
	// totals are the totals of the findings this transaction appended to.
	totals map[string]int64
}

// newEvidenceWrite prepares the statements when some finding carries
// evidence (nil otherwise); call before the transaction begins, then bind
// with in.
func newEvidenceWrite(ctx context.Context, db *DB, findings []*guardpost.Finding) (*evidenceWrite, error) {
	if !slices.ContainsFunc(findings, func(f *guardpost.Finding) bool {
		return f != nil && (len(f.Evidence) > 0 || f.EvidenceSkipped > 0)
	}) {
		return nil, nil
	}
	w := &evidenceWrite{totals: map[string]int64{}}
	for _, s := range []struct {
		stmt **sql.Stmt
		q    string
	}{{&w.total, qEvidenceTotal}, {&w.drop, qEvidenceDrop}, {&w.insert, qEvidenceInsert}, {&w.move, qEvidenceMove}} {
		var err error
		if *s.stmt, err = db.writeStmts.get(ctx, s.q); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *evidenceWrite) in(ctx context.Context, tx *sql.Tx) {
	for _, s := range []**sql.Stmt{&w.total, &w.drop, &w.insert, &w.move} {
		*s = tx.StmtContext(ctx, *s)
	}
}

// moveEvidence gives the evidence of a finding that merge renamed to its
// new id. Without statements (no incoming evidence) it runs unprepared.
func moveEvidence(ctx context.Context, tx *sql.Tx, w *evidenceWrite, old, renamed *guardpost.Finding) error {
	args := []any{renamed.ID, old.AccountID, old.Region, old.DetectorID, old.ID}
	if w == nil {
		_, err := tx.ExecContext(ctx, qEvidenceMove, args...)
		return err
	}
	if t, ok := w.totals[old.ID]; ok {
		delete(w.totals, old.ID)
		w.totals[renamed.ID] = t
	}
	_, err := w.move.ExecContext(ctx, args...)
	return err
}

// append adds in's evidence to the finding written as f; stored says
// whether f replaced a stored finding (otherwise it holds no evidence yet,
// unless this transaction gave it some).
func (w *evidenceWrite) append(ctx context.Context, f, in *guardpost.Finding, stored bool) error {
	if w == nil || len(in.Evidence) == 0 && in.EvidenceSkipped <= 0 {
		return nil
	}
	key := []any{f.AccountID, f.Region, f.DetectorID, f.ID}
	total, ok := w.totals[f.ID]
	if !ok && stored {
		if err := w.total.QueryRowContext(ctx, key...).Scan(&total); err != nil {
			return err
		}
	}
	p := guardpost.PlanEvidence(total, in.Evidence, in.EvidenceSkipped)
	if p.DropTo > p.DropFrom {
		if _, err := w.drop.ExecContext(ctx, append(key, p.DropFrom, p.DropTo)...); err != nil {
			return err
		}
	}
	for _, r := range p.Insert {
		if _, err := w.insert.ExecContext(ctx, append(key, r.Seq, r.Size, r.Data)...); err != nil {
			return err
		}
	}
	w.totals[f.ID] = p.Total
	return nil
}

// Evidence implements guardpost.EvidenceStore.
func (db *DB) Evidence(ctx context.Context, scope guardpost.Scope, detectorID, findingID string) (guardpost.Evidence, error) {
	rows, err := db.read.QueryContext(ctx, qEvidenceRead, scope.AccountID, scope.Region, detectorID, findingID)
	if err != nil {
		return guardpost.Evidence{}, wrap("evidence", err)
	}
	defer rows.Close()
	var ev guardpost.Evidence
	for rows.Next() {
		var r guardpost.EvidenceRecord
		if err := rows.Scan(&r.Seq, &r.Size, &r.Data); err != nil {
			return guardpost.Evidence{}, wrap("evidence", err)
		}
		ev.Records = append(ev.Records, r)
		ev.Total = r.Seq + 1
	}
	if err := rows.Err(); err != nil {
		return guardpost.Evidence{}, wrap("evidence", err)
	}
	return ev, nil
}
