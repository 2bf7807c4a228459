package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"
)

// findingColumns are the columns of findings (migration 0009), in the
// order findingArgs and scanFinding use.
var findingColumns = []string{
	"account_id", "region", "detector_id", "id", "type", "aggregation_key", "feedback_comments", "record", "document",
}

var (
	findingSelect = `SELECT ` + strings.Join(findingColumns, ", ") + ` FROM findings`
	// findingOnConflict makes an insert into findings replace the finding
	// with the same key.
	findingOnConflict = func() string {
		var set []string
		for _, c := range findingColumns[4:] {
			set = append(set, c+" = excluded."+c)
		}
		return `ON CONFLICT (account_id, region, detector_id, id) DO UPDATE SET ` + strings.Join(set, ", ")
	}()
	// findingUpsert writes a finding, replacing the one with the same key.
	findingUpsert = `INSERT INTO findings (` + strings.Join(findingColumns, ", ") + `) VALUES (?` +
		strings.Repeat(", ?", len(findingColumns)-1) + `) ` + findingOnConflict
)

const (
	qDetectorExists = `SELECT count(*) FROM detectors WHERE account_id = ? AND region = ? AND id = ?`
	qDeleteFinding  = `DELETE FROM findings WHERE account_id = ? AND region = ? AND detector_id = ? AND id = ?`
)

var (
	qAggregationLookup = findingSelect + ` WHERE account_id = ? AND region = ? AND detector_id = ?
		AND type = ? AND aggregation_key = ? ORDER BY id LIMIT 1`
	// qFindingsByID binds the ids as one JSON array: no limit on their
	// number, and json_each's duplicates are harmless in IN.
	qFindingsByID = findingSelect + ` WHERE account_id = ? AND region = ? AND detector_id = ?
		AND id IN (SELECT value FROM json_each(?))`
	qFindingByID = findingSelect + ` WHERE account_id = ? AND region = ? AND detector_id = ? AND id = ?`
	// qExistingIDs is which of a JSON array of ids a detector holds.
	qExistingIDs = `SELECT id FROM findings WHERE account_id = ? AND region = ? AND detector_id = ?
		AND id IN (SELECT value FROM json_each(?))`
)

// findingArgs returns f's column values in findingColumns order, with its
// record and document as enc holds them.
func findingArgs(f *guardpost.Finding, enc stored) []any {
	return appendFindingArgs(make([]any, 0, len(findingColumns)), f, enc)
}

// appendFindingArgs appends f's column values in findingColumns order.
func appendFindingArgs(args []any, f *guardpost.Finding, enc stored) []any {
	return appendFindingValues(args, f.AccountID, f.Region, f.DetectorID, f.ID, f, enc)
}

// appendFindingValues is appendFindingArgs with f's scope, detector and id
// given as interface values (the batch writer makes the first three once
// per transaction, the id once for the finding and its outbox entry).
func appendFindingValues(args []any, account, region, detector, id any, f *guardpost.Finding, enc stored) []any {
	var agg any // NULL: never aggregates
	if f.AggregationKey != "" {
		agg = f.AggregationKey
	}
	return append(args, account, region, detector, id, f.Type, agg, f.FeedbackComments, enc.record, enc.document)
}

// scanFinding reads a row of findingColumns: the record gives the indexed
// fields, the document is decompressed.
func (db *DB) scanFinding(sc interface{ Scan(...any) error }) (*guardpost.Finding, error) {
	return db.scan(sc, true)
}

// scanFindingHead is scanFinding without the attribute values, which only
// writes need (for the index): reads return and sort findings.
func (db *DB) scanFindingHead(sc interface{ Scan(...any) error }) (*guardpost.Finding, error) {
	return db.scan(sc, false)
}

func (db *DB) scan(sc interface{ Scan(...any) error }, attributes bool) (*guardpost.Finding, error) {
	var (
		f            guardpost.Finding
		agg          sql.NullString
		record, cdoc []byte
	)
	if err := sc.Scan(&f.AccountID, &f.Region, &f.DetectorID, &f.ID, &f.Type, &agg, &f.FeedbackComments, &record, &cdoc); err != nil {
		return nil, err
	}
	f.AggregationKey = agg.String
	var rec []byte
	var err error
	if attributes {
		if rec, err = findingrec.Decompress(nil, record); err == nil {
			err = db.codec.Decode(rec, &f)
		}
	} else if rec, err = findingrec.DecompressHead(nil, record); err == nil {
		err = db.codec.DecodeHead(rec, &f)
	}
	if err != nil {
		return nil, fmt.Errorf("finding %s: %w", f.ID, err)
	}
	doc, err := findingrec.Decompress(nil, cdoc)
	if err != nil {
		return nil, fmt.Errorf("finding %s: %w", f.ID, err)
	}
	f.Document = json.RawMessage(doc)
	if !attributes {
		// Reads hand the compressed document to GetFindings' cache. Writes
		// do not: a rewritten copy would carry a stale one.
		f.Packed = guardpost.PackedDocument{Bytes: cdoc, Unpack: findingrec.Decompress}
	}
	return &f, nil
}

// MergeFindings implements guardpost.FindingStore in one BEGIN IMMEDIATE
// transaction, which holds SQLite's only write lock from its start: the
// filters, the lookups and the writes all see one state that no other
// writer changes meanwhile, so concurrent writers of one aggregation key
// make one finding. For each incoming finding, in order, the stored finding
// it lands on is looked up (by type and aggregation key when it has a key,
// else by id); merge's result replaces it (deleting it first when the
// result has another id) and one outbox entry records the change. Findings
// earlier in the batch are visible to later ones. Any error rolls back the
// whole batch; an error from merge is returned as it is.
func (db *DB) MergeFindings(ctx context.Context, scope guardpost.Scope, detectorID string, findings []*guardpost.Finding, newMerge func([]*guardpost.Filter) guardpost.MergeFunc) ([]guardpost.FindingChange, error) {
	if len(findings) == 0 {
		return nil, nil
	}
	return db.mergeDetections(ctx, scope, detectorID, findings, nil, newMerge)
}

// mergeDetections is MergeFindings writing state too (MergeDetections):
// the detection state's rows are written in the same transaction, after
// the detector's existence is checked.
func (db *DB) mergeDetections(ctx context.Context, scope guardpost.Scope, detectorID string, findings []*guardpost.Finding, state map[string][]byte, newMerge func([]*guardpost.Filter) guardpost.MergeFunc) ([]guardpost.FindingChange, error) {
	// Statements first: preparing needs a connection, and the writer pool's
	// only one is the transaction's once it has begun.
	var stmts [5]*sql.Stmt
	for i, q := range []string{qDetectorExists, qAggregationLookup, qFindingByID, qExistingIDs, qDeleteFinding} {
		var err error
		if stmts[i], err = db.writeStmts.get(ctx, q); err != nil {
			return nil, wrap("merge findings", err)
		}
	}
	bw, err := newBatchWriter(ctx, db)
	if err != nil {
		return nil, wrap("merge findings", err)
	}
	ew, err := newEvidenceWrite(ctx, db, findings)
	if err != nil {
		return nil, wrap("merge findings", err)
	}
	// Most findings are written as they come (new ones, replacements by
	// id): compress them now, on every core, rather than under the lock.
	encoded, err := encodeAll(db.codec, findings)
	if err != nil {
		return nil, wrap("merge findings", err)
	}
	// The ids a lookup by id may find, asked in one query below.
	var byIDs []string
	for _, in := range findings {
		if in != nil && in.AggregationKey == "" {
			byIDs = append(byIDs, in.ID)
		}
	}
	byIDsJSON, err := json.Marshal(byIDs)
	if err != nil {
		return nil, wrap("merge findings", err)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("merge findings", err)
	}
	defer tx.Rollback()
	for i := range stmts {
		stmts[i] = tx.StmtContext(ctx, stmts[i])
	}
	bw.in(ctx, tx)
	if ew != nil {
		ew.in(ctx, tx)
	}
	exists, byKey, byID, existing, del := stmts[0], stmts[1], stmts[2], stmts[3], stmts[4]
	at := db.nowMS()
	var n int
	if err := exists.QueryRowContext(ctx, scope.AccountID, scope.Region, detectorID).Scan(&n); err != nil {
		return nil, wrap("merge findings", err)
	}
	if n == 0 {
		return nil, guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", detectorID)
	}
	if err := writeState(ctx, tx, scope, detectorID, state, at); err != nil {
		return nil, wrap("merge findings", err)
	}
	filters, err := queryFilters(ctx, tx, scope, detectorID, "", 0)
	if err != nil {
		return nil, wrap("merge findings", err)
	}
	// stored holds the ids of byIDs the detector has; written the ids this
	// transaction writes. A finding looked up by id that is in neither is
	// new, without a query.
	stored, err := existingIDs(ctx, existing, scope, detectorID, byIDsJSON)
	if err != nil {
		return nil, wrap("merge findings", err)
	}
	written := make(map[string]bool, len(findings))
	merge := newMerge(filters)
	iw := indexWrite{db: db}
	if err := iw.begin(ctx, tx); err != nil {
		return nil, wrap("merge findings", err)
	}
	for i, in := range findings {
		if in == nil {
			return nil, guardpost.Errorf(guardpost.EINVALID, "nil finding")
		}
		if in.AccountID != scope.AccountID || in.Region != scope.Region || in.DetectorID != detectorID {
			return nil, fmt.Errorf("sqlite: merge findings: finding %s is not of detector %s in the scope", in.ID, detectorID)
		}
		var old *guardpost.Finding
		if in.AggregationKey != "" || stored[in.ID] || written[in.ID] {
			if err := bw.flush(ctx); err != nil { // the lookup sees every earlier write
				return nil, wrap("merge findings", err)
			}
			var row *sql.Row
			if in.AggregationKey != "" {
				row = byKey.QueryRowContext(ctx, in.AccountID, in.Region, in.DetectorID, in.Type, in.AggregationKey)
			} else {
				row = byID.QueryRowContext(ctx, in.AccountID, in.Region, in.DetectorID, in.ID)
			}
			old, err = db.scanFinding(row)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				old = nil
			case err != nil:
				return nil, wrap("merge findings", err)
			}
		}
		write, err := merge(old, in)
		if err != nil {
			return nil, err
		}
		if write == nil {
			return nil, fmt.Errorf("sqlite: merge findings: merge returned no finding for %s", in.ID)
		}
		if write.AccountID != in.AccountID || write.Region != in.Region || write.DetectorID != in.DetectorID {
			return nil, fmt.Errorf("sqlite: merge findings: merge moved finding %s to another scope or detector", in.ID)
		}
		if old != nil && write.ID != old.ID {
			if err := bw.flush(ctx); err != nil {
				return nil, wrap("merge findings", err)
			}
			if _, err := del.ExecContext(ctx, old.AccountID, old.Region, old.DetectorID, old.ID); err != nil {
				return nil, wrap("merge findings", err)
			}
			if err := moveEvidence(ctx, tx, ew, old, write); err != nil {
				return nil, wrap("merge findings", err)
			}
		}
		if err := ew.append(ctx, write, in, old != nil); err != nil {
			return nil, wrap("merge findings", err)
		}
		enc := encoded[i]
		if write != in { // merge made another finding: encode what is written
			if enc, err = encodeFinding(db.codec, write); err != nil {
				return nil, wrap("merge findings", err)
			}
		}
		written[write.ID] = true
		if err := bw.put(ctx, old, write, enc, at); err != nil {
			return nil, wrap("merge findings", err)
		}
		if err := iw.put(old, write); err != nil {
			return nil, wrap("merge findings", err)
		}
	}
	if err := bw.flush(ctx); err != nil {
		return nil, wrap("merge findings", err)
	}
	if len(bw.out) > 0 {
		iw.last = bw.out[len(bw.out)-1].Seq
	}
	if err := iw.commit(tx); err != nil {
		return nil, wrap("merge findings", err)
	}
	db.checkpoints.wrote(len(bw.out))
	return bw.out, nil
}

// existingIDs returns which of the ids (a JSON array) the detector holds.
func existingIDs(ctx context.Context, existing *sql.Stmt, scope guardpost.Scope, detectorID string, idsJSON []byte) (map[string]bool, error) {
	rows, err := existing.QueryContext(ctx, scope.AccountID, scope.Region, detectorID, string(idsJSON))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// writeFinding upserts f.
func (db *DB) writeFinding(ctx context.Context, upsert *sql.Stmt, f *guardpost.Finding) error {
	enc, err := encodeFinding(db.codec, f)
	if err != nil {
		return err
	}
	_, err = upsert.ExecContext(ctx, findingArgs(f, enc)...)
	return err
}

// Findings implements guardpost.FindingStore, one query per visible
// detector in one read transaction.
func (db *DB) Findings(ctx context.Context, vis guardpost.Visibility, ids []string) ([]*guardpost.Finding, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, wrap("get findings", err)
	}
	stmt, err := db.readStmts.get(ctx, qFindingsByID)
	if err != nil {
		return nil, wrap("get findings", err)
	}
	if len(vis.Detectors) == 1 {
		out, err := db.queryFindings(ctx, stmt, vis.Region(), vis.Detectors[0], idsJSON, false)
		return out, wrap("get findings", err)
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap("get findings", err)
	}
	defer tx.Rollback()
	stmt = tx.StmtContext(ctx, stmt)
	var out []*guardpost.Finding
	for _, d := range vis.Detectors {
		fs, err := db.queryFindings(ctx, stmt, vis.Region(), d, idsJSON, false)
		if err != nil {
			return nil, wrap("get findings", err)
		}
		out = append(out, fs...)
	}
	return out, nil
}

// queryFindings runs qFindingsByID for one detector.
func (db *DB) queryFindings(ctx context.Context, byID *sql.Stmt, region string, d guardpost.DetectorRef, idsJSON []byte, attributes bool) ([]*guardpost.Finding, error) {
	rows, err := byID.QueryContext(ctx, d.AccountID, region, d.DetectorID, string(idsJSON))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*guardpost.Finding
	for rows.Next() {
		f, err := db.scan(rows, attributes)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// UpdateFindings implements guardpost.FindingStore in one BEGIN IMMEDIATE
// transaction: the findings are read and rewritten under the write lock, so
// no other write slips between. update runs inside the transaction and
// should be quick; its error rolls back every rewrite and is returned as it
// is. The result must keep the stored finding's scope, detector and id. A
// result identical to the stored finding (archiving an archived finding) is
// not written and records no change.
func (db *DB) UpdateFindings(ctx context.Context, vis guardpost.Visibility, ids []string, update func(*guardpost.Finding) (*guardpost.Finding, error)) ([]guardpost.FindingChange, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, wrap("update findings", err)
	}
	// Statements first: preparing needs a connection, and the writer pool's
	// only one is the transaction's once it has begun.
	var stmts [3]*sql.Stmt
	for i, q := range []string{qFindingsByID, findingUpsert, qInsertChange} {
		if stmts[i], err = db.writeStmts.get(ctx, q); err != nil {
			return nil, wrap("update findings", err)
		}
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("update findings", err)
	}
	defer tx.Rollback()
	for i := range stmts {
		stmts[i] = tx.StmtContext(ctx, stmts[i])
	}
	byID, upsert, insertChange := stmts[0], stmts[1], stmts[2]
	at := db.nowMS()
	var changes []guardpost.FindingChange
	iw := indexWrite{db: db}
	if err := iw.begin(ctx, tx); err != nil {
		return nil, wrap("update findings", err)
	}
	for _, d := range vis.Detectors {
		stored, err := db.queryFindings(ctx, byID, vis.Region(), d, idsJSON, true)
		if err != nil {
			return nil, wrap("update findings", err)
		}
		for _, old := range stored {
			f, err := update(old)
			if err != nil {
				return nil, err
			}
			if f == nil {
				return nil, fmt.Errorf("sqlite: update findings: update returned no finding for %s", old.ID)
			}
			if f.AccountID != old.AccountID || f.Region != old.Region || f.DetectorID != old.DetectorID || f.ID != old.ID {
				return nil, fmt.Errorf("sqlite: update findings: update moved finding %s to another scope, detector or id", old.ID)
			}
			if bytes.Equal(f.Document, old.Document) && f.FeedbackComments == old.FeedbackComments {
				continue
			}
			if err := db.writeFinding(ctx, upsert, f); err != nil {
				return nil, wrap("update findings", err)
			}
			if err := iw.put(old, f); err != nil {
				return nil, wrap("update findings", err)
			}
			c, err := recordChange(ctx, insertChange, old, f, at)
			if err != nil {
				return nil, wrap("update findings", err)
			}
			changes = append(changes, c)
			iw.last = c.Seq
		}
	}
	if err := iw.commit(tx); err != nil {
		return nil, wrap("update findings", err)
	}
	db.checkpoints.wrote(len(changes))
	return changes, nil
}

// ListFindings implements guardpost.FindingStore from the detectors'
// in-memory indexes (package index), which drive criteria from postings
// and walk the sort order from the cursor. With several visible detectors,
// each gives its first q.Limit cursors and the lists are merged in the
// same order (finding ids are unique across detectors, so the order stays
// total).
func (db *DB) ListFindings(ctx context.Context, vis guardpost.Visibility, q guardpost.FindingQuery) ([]guardpost.FindingCursor, error) {
	if q.Sort != nil && (q.Sort.Attribute < 0 || q.Sort.Attribute >= len(guardpost.SortAttributes)) {
		return nil, guardpost.Errorf(guardpost.EINVALID, "sort attribute %d does not exist", q.Sort.Attribute)
	}
	if q.Sort != nil && q.After != nil && q.After.SortKey != nil && !keyFits(guardpost.SortAttributes[q.Sort.Attribute], q.After.SortKey) {
		return nil, guardpost.Errorf(guardpost.EINVALID, "cursor key %v does not fit sort attribute %s", q.After.SortKey, guardpost.SortAttributes[q.Sort.Attribute].Name)
	}
	var out []guardpost.FindingCursor
	for _, d := range vis.Detectors {
		x, err := db.indexAsOf(ctx, detectorKey{d.AccountID, vis.Region(), d.DetectorID}, vis.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, x.List(q)...)
	}
	if len(vis.Detectors) > 1 {
		slices.SortFunc(out, func(a, b guardpost.FindingCursor) int { return compareCursors(a, b, q.Sort) })
		if q.Limit > 0 && len(out) > q.Limit {
			out = out[:q.Limit]
		}
	}
	return out, nil
}

// compareCursors orders two cursors as a listing sorted by sort does.
func compareCursors(a, b guardpost.FindingCursor, sort *guardpost.SortCriteria) int {
	if sort != nil {
		if c := guardpost.CompareDirected(a.SortKey, b.SortKey, sort.Descending); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.ID, b.ID)
}

// keyFits reports whether a cursor key has the type of a's keys: a
// cursor for another attribute would otherwise compare numbers with text.
func keyFits(a guardpost.SortAttribute, key any) bool {
	switch key.(type) {
	case string:
		return a.Kind == guardpost.KindString
	case float64:
		return a.Kind != guardpost.KindString
	}
	return false
}
