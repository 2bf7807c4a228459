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
