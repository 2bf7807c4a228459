package sqlite

import (
	"context"
	"database/sql"
	"sync"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/index"
)

// detectorKey names one detector's findings.
type detectorKey struct{ account, region, detector string }

// indexes holds the in-memory index (package index) of each detector whose
// findings were queried with criteria or statistics since the store opened.
// An index is built on first use from the detector's stored findings, inside
// a write transaction so that no write slips between the read and the
// index taking over; from then on every finding write applies its changes
// to it before it commits, so the index always holds what was committed
// (and, for the instant before a commit, what is about to be).
type indexes struct {
	mu sync.Mutex
	m  map[detectorKey]*index.Index
}

// built returns the detector's index if it has been built.
func (ix *indexes) built(k detectorKey) *index.Index {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.m[k]
}

// drop forgets the detector's index: it is rebuilt from the store on next
// use. Writes whose commit failed after they were applied, and deleted
// detectors, drop theirs.
func (ix *indexes) drop(k detectorKey) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	delete(ix.m, k)
}

// index returns the detector's index, building it when needed.
func (db *DB) index(ctx context.Context, k detectorKey) (*index.Index, error) {
	if x := db.indexes.built(k); x != nil {
		return x, nil
	}
	// The writer connection serialises builds with each other and with
	// writes: a write either committed before the scan (and is in it) or
	// runs after the index is registered (and applies itself to it).
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("build index", err)
	}
	defer tx.Rollback()
	if x := db.indexes.built(k); x != nil { // built while this call waited
		return x, nil
	}
	x := index.New()
	rows, err := tx.QueryContext(ctx, `SELECT document FROM findings WHERE account_id = ? AND region = ? AND detector_id = ?`,
		k.account, k.region, k.detector)
	if err != nil {
		return nil, wrap("build index", err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, wrap("build index", err)
		}
		f, err := guardpost.ParseFinding(doc)
		if err != nil {
			return nil, wrap("build index", err)
		}
		x.Put(index.DocOf(f), nil)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("build index", err)
	}
	db.indexes.mu.Lock()
	if db.indexes.m == nil {
		db.indexes.m = map[detectorKey]*index.Index{}
	}
	db.indexes.m[k] = x
	db.indexes.mu.Unlock()
	return x, nil
}

// indexWrite gathers the index changes of one write transaction, applied
// just before it commits (see indexes).
type indexWrite struct {
	db      *DB
	pending []func()
	touched map[detectorKey]bool
}

// put records that f was written in place of stored (nil: new). Nothing is
// recorded for a detector whose index is not built.
func (w *indexWrite) put(stored, f *guardpost.Finding) error {
	k := detectorKey{f.AccountID, f.Region, f.DetectorID}
	x := w.db.indexes.built(k)
	if x == nil {
		return nil
	}
	previous, err := attributesOf(stored)
	if err != nil {
		return err
	}
	if stored != nil && stored.ID != f.ID {
		w.pending = append(w.pending, func() { x.Delete(stored.ID, previous) })
		previous = nil
	}
	doc := index.DocOf(f)
	w.pending = append(w.pending, func() { x.Put(doc, previous) })
	if w.touched == nil {
		w.touched = map[detectorKey]bool{}
	}
	w.touched[k] = true
	return nil
}

// attributesOf returns a stored finding's attribute values, which the store
// keeps in its document rather than in the scanned row.
func attributesOf(f *guardpost.Finding) ([]guardpost.AttributeValue, error) {
	if f == nil {
		return nil, nil
	}
	if f.Attributes != nil {
		return f.Attributes, nil
	}
	parsed, err := guardpost.ParseFinding(f.Document)
	if err != nil {
		return nil, err
	}
	return parsed.Attributes, nil
}

// commit applies the changes and commits tx. When the commit fails, the
// indexes it touched are dropped, to be rebuilt from what was committed.
func (w *indexWrite) commit(tx *sql.Tx) error {
	for _, apply := range w.pending {
		apply()
	}
	err := tx.Commit()
	if err != nil {
		for k := range w.touched {
			w.db.indexes.drop(k)
		}
	}
	return err
}
