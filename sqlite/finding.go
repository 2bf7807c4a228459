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
)

// sortColumns maps each guardpost.SortAttributes name to its column in
// findings. A new sort attribute needs an entry here and a migration adding
// the column and its index; Open refuses to run until both exist.
var sortColumns = map[string]string{
	"accountId":                           "s_account_id",
	"severity":                            "s_severity",
	"confidence":                          "s_confidence",
	"type":                                "s_type",
	"service.eventFirstSeen":              "s_event_first_seen",
	"service.eventLastSeen":               "s_event_last_seen",
	"createdAt":                           "s_created_at",
	"updatedAt":                           "s_updated_at",
	"resource.instanceDetails.instanceId": "s_instance_id",
	"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4":         "s_remote_ip",
	"service.action.networkConnectionAction.localPortDetails.port":               "s_local_port",
	"service.action.networkConnectionAction.remotePortDetails.port":              "s_remote_port",
	"service.action.networkConnectionAction.remoteIpDetails.country.countryName": "s_remote_country",
	"service.action.networkConnectionAction.protocol":                            "s_protocol",
	"service.action.awsApiCallAction.api":                                        "s_api",
	"service.action.awsApiCallAction.serviceName":                                "s_service_name",
	"service.action.networkConnectionAction.blocked":                             "s_blocked",
	"service.count": "s_count",
}

// sortCols lists the sort columns in guardpost.SortAttributes order;
// sortColumnsErr says which attribute lacks one.
var sortCols, sortColumnsErr = resolveSortColumns()

func resolveSortColumns() ([]string, error) {
	cols := make([]string, len(guardpost.SortAttributes))
	for i, a := range guardpost.SortAttributes {
		c, ok := sortColumns[a.Name]
		if !ok {
			return nil, fmt.Errorf("sqlite: sort attribute %q has no column (add it to sortColumns and a migration)", a.Name)
		}
		cols[i] = c
	}
	return cols, nil
}

// findingColumns are the columns of findings, in the order findingArgs
// and scanFinding use.
var findingColumns = append([]string{
	"account_id", "region", "detector_id", "id", "type", "severity", "archived",
	"created_at", "updated_at", "aggregation_key", "document", "resource_id", "resource_type",
	"feedback_comments",
}, sortCols...)

var (
	findingSelect = `SELECT ` + strings.Join(findingColumns, ", ") + ` FROM findings`
	// findingUpsert writes a finding, replacing the one with the same key.
	findingUpsert = func() string {
		var set []string
		for _, c := range findingColumns[4:] {
			set = append(set, c+" = excluded."+c)
		}
		return `INSERT INTO findings (` + strings.Join(findingColumns, ", ") + `) VALUES (?` +
			strings.Repeat(", ?", len(findingColumns)-1) + `)
			ON CONFLICT (account_id, region, detector_id, id) DO UPDATE SET ` + strings.Join(set, ", ")
	}()
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
)

// findingArgs returns f's column values in findingColumns order.
func findingArgs(f *guardpost.Finding) ([]any, error) {
	if len(f.SortKeys) > len(guardpost.SortAttributes) {
		return nil, fmt.Errorf("finding %s has %d sort keys, want %d", f.ID, len(f.SortKeys), len(guardpost.SortAttributes))
	}
	var agg any // NULL: never aggregates
	if f.AggregationKey != "" {
		agg = f.AggregationKey
	}
	args := make([]any, 0, len(findingColumns))
	args = append(args, f.AccountID, f.Region, f.DetectorID, f.ID, f.Type, f.Severity, f.Archived,
		ms(f.CreatedAt), ms(f.UpdatedAt), agg, string(f.Document), f.ResourceID, f.ResourceType,
		f.FeedbackComments)
	for i := range guardpost.SortAttributes {
		var k any
		if i < len(f.SortKeys) {
			k = f.SortKeys[i]
		}
		switch k.(type) {
		case nil, float64, string:
		default:
			return nil, fmt.Errorf("finding %s: sort key %d is a %T, want float64, string or nil", f.ID, i, k)
		}
		args = append(args, k)
	}
	return args, nil
}

func scanFinding(sc interface{ Scan(...any) error }) (*guardpost.Finding, error) {
	var (
		f                  guardpost.Finding
		created, updatedAt int64
		agg                sql.NullString
		doc                []byte
	)
	keys := make([]any, len(sortCols))
	dest := []any{&f.AccountID, &f.Region, &f.DetectorID, &f.ID, &f.Type, &f.Severity, &f.Archived,
		&created, &updatedAt, &agg, &doc, &f.ResourceID, &f.ResourceType, &f.FeedbackComments}
	for i := range keys {
		dest = append(dest, &keys[i])
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updatedAt)
	f.AggregationKey = agg.String
	f.Document = json.RawMessage(doc)
	for i, k := range keys {
		var err error
		if keys[i], err = sortKey(k); err != nil {
			return nil, err
		}
	}
	f.SortKeys = keys
	return &f, nil
}

// sortKey normalises a sort column value as read: REAL is float64, TEXT
// is string. (Columns are ANY in a STRICT table, so SQLite returns what was
// bound; the other cases are defence.)
func sortKey(v any) (any, error) {
	switch k := v.(type) {
	case nil, float64, string:
		return k, nil
	case int64:
		return float64(k), nil
	case []byte:
		return string(k), nil
	}
	return nil, fmt.Errorf("sort key of type %T", v)
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
	// Statements first: preparing needs a connection, and the writer pool's
	// only one is the transaction's once it has begun.
	var stmts [5]*sql.Stmt
	for i, q := range []string{qDetectorExists, qAggregationLookup, qFindingByID, findingUpsert, qDeleteFinding} {
		var err error
		if stmts[i], err = db.writeStmts.get(ctx, q); err != nil {
			return nil, wrap("merge findings", err)
		}
	}
	insertChange, err := db.writeStmts.get(ctx, qInsertChange)
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
	insertChange = tx.StmtContext(ctx, insertChange)
	exists, byKey, byID, upsert, del := stmts[0], stmts[1], stmts[2], stmts[3], stmts[4]
	var n int
	if err := exists.QueryRowContext(ctx, scope.AccountID, scope.Region, detectorID).Scan(&n); err != nil {
		return nil, wrap("merge findings", err)
	}
	if n == 0 {
		return nil, guardpost.Errorf(guardpost.ENOTFOUND, "detector %s not found", detectorID)
	}
	filters, err := queryFilters(ctx, tx, scope, detectorID, "", 0)
	if err != nil {
		return nil, wrap("merge findings", err)
	}
	merge := newMerge(filters)
	at := db.nowMS()
	changes := make([]guardpost.FindingChange, 0, len(findings))
	iw := indexWrite{db: db}
	for _, in := range findings {
		if in == nil {
			return nil, guardpost.Errorf(guardpost.EINVALID, "nil finding")
		}
		if in.AccountID != scope.AccountID || in.Region != scope.Region || in.DetectorID != detectorID {
			return nil, fmt.Errorf("sqlite: merge findings: finding %s is not of detector %s in the scope", in.ID, detectorID)
		}
		var row *sql.Row
		if in.AggregationKey != "" {
			row = byKey.QueryRowContext(ctx, in.AccountID, in.Region, in.DetectorID, in.Type, in.AggregationKey)
		} else {
			row = byID.QueryRowContext(ctx, in.AccountID, in.Region, in.DetectorID, in.ID)
		}
		stored, err := scanFinding(row)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			stored = nil
		case err != nil:
			return nil, wrap("merge findings", err)
		}
		write, err := merge(stored, in)
		if err != nil {
			return nil, err
		}
		if write == nil {
			return nil, fmt.Errorf("sqlite: merge findings: merge returned no finding for %s", in.ID)
		}
		if write.AccountID != in.AccountID || write.Region != in.Region || write.DetectorID != in.DetectorID {
			return nil, fmt.Errorf("sqlite: merge findings: merge moved finding %s to another scope or detector", in.ID)
		}
		if stored != nil && write.ID != stored.ID {
			if _, err := del.ExecContext(ctx, stored.AccountID, stored.Region, stored.DetectorID, stored.ID); err != nil {
				return nil, wrap("merge findings", err)
			}
		}
		if err := writeFinding(ctx, upsert, write); err != nil {
			return nil, wrap("merge findings", err)
		}
		if err := iw.put(stored, write); err != nil {
			return nil, wrap("merge findings", err)
		}
		c, err := recordChange(ctx, insertChange, stored, write, at)
		if err != nil {
			return nil, wrap("merge findings", err)
		}
		changes = append(changes, c)
	}
	if err := iw.commit(tx); err != nil {
		return nil, wrap("merge findings", err)
	}
	return changes, nil
}

// writeFinding upserts f.
func writeFinding(ctx context.Context, upsert *sql.Stmt, f *guardpost.Finding) error {
	args, err := findingArgs(f)
	if err != nil {
		return err
	}
	_, err = upsert.ExecContext(ctx, args...)
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
		out, err := queryFindings(ctx, stmt, vis.Region(), vis.Detectors[0], idsJSON)
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
		fs, err := queryFindings(ctx, stmt, vis.Region(), d, idsJSON)
		if err != nil {
			return nil, wrap("get findings", err)
		}
		out = append(out, fs...)
	}
	return out, nil
}

// queryFindings runs qFindingsByID for one detector.
func queryFindings(ctx context.Context, byID *sql.Stmt, region string, d guardpost.DetectorRef, idsJSON []byte) ([]*guardpost.Finding, error) {
	rows, err := byID.QueryContext(ctx, d.AccountID, region, d.DetectorID, string(idsJSON))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*guardpost.Finding
	for rows.Next() {
		f, err := scanFinding(rows)
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
	for _, d := range vis.Detectors {
		stored, err := queryFindings(ctx, byID, vis.Region(), d, idsJSON)
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
			if err := writeFinding(ctx, upsert, f); err != nil {
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
		}
	}
	if err := iw.commit(tx); err != nil {
		return nil, wrap("update findings", err)
	}
	return changes, nil
}

// ListFindings implements guardpost.FindingStore with keyset pagination.
// The order of one detector (key ascending or descending, absent keys
// last, then id ascending) is read in up to three index range scans, each
// starting strictly after q.After:
//
//  1. the rest of the run of findings whose key equals the cursor's key;
//  2. the findings whose key is beyond the cursor's (all present keys
//     when there is no cursor);
//  3. the findings without the key.
//
// A cursor with a nil key is already in part 3. With several visible
// detectors, each gives its first q.Limit cursors and the lists are merged
// in the same order (finding ids are unique across detectors, so the order
// stays total). The scans share one read transaction, hence one snapshot.
func (db *DB) ListFindings(ctx context.Context, vis guardpost.Visibility, q guardpost.FindingQuery) ([]guardpost.FindingCursor, error) {
	if len(q.Where) > 0 {
		return db.listIndexed(ctx, vis, q)
	}
	parts, err := listPlan(q)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = -1 // no limit
	}
	// Statements first: preparing needs a connection of the pool, which
	// must not wait for the one this call's transaction holds.
	// Queries with criteria vary in shape with them, so they are not
	// cached: each is prepared where it runs.
	stmts := make([]*sql.Stmt, len(parts))
	for i, p := range parts {
		if len(q.Where) > 0 {
			continue
		}
		if stmts[i], err = db.readStmts.get(ctx, p.query); err != nil {
			return nil, wrap("list findings", err)
		}
	}
	var tx *sql.Tx
	if len(parts) > 1 || len(vis.Detectors) > 1 {
		if tx, err = db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
			return nil, wrap("list findings", err)
		}
		defer tx.Rollback()
	}
	var out []guardpost.FindingCursor
	for _, d := range vis.Detectors {
		var one []guardpost.FindingCursor
		for i, p := range parts {
			if limit >= 0 && len(one) >= limit {
				break
			}
			n := -1
			if limit >= 0 {
				n = limit - len(one)
			}
			args := append(append([]any{d.AccountID, vis.Region(), d.DetectorID}, p.args...), n)
			var rows *sql.Rows
			switch {
			case stmts[i] == nil && tx != nil:
				rows, err = tx.QueryContext(ctx, p.query, args...)
			case stmts[i] == nil:
				rows, err = db.read.QueryContext(ctx, p.query, args...)
			case tx != nil:
				rows, err = tx.StmtContext(ctx, stmts[i]).QueryContext(ctx, args...)
			default:
				rows, err = stmts[i].QueryContext(ctx, args...)
			}
			if err != nil {
				return nil, wrap("list findings", err)
			}
			if one, err = appendCursors(one, rows); err != nil {
				return nil, wrap("list findings", err)
			}
		}
		out = append(out, one...)
	}
	if len(vis.Detectors) > 1 {
		slices.SortFunc(out, func(a, b guardpost.FindingCursor) int { return compareCursors(a, b, q.Sort) })
		if limit >= 0 && len(out) > limit {
			out = out[:limit]
		}
	}
	return out, nil
}

// listIndexed answers a listing with criteria from the detectors' in-memory
// indexes (package index), which drive criteria from postings instead of
// testing them finding by finding.
func (db *DB) listIndexed(ctx context.Context, vis guardpost.Visibility, q guardpost.FindingQuery) ([]guardpost.FindingCursor, error) {
	if q.Sort != nil && (q.Sort.Attribute < 0 || q.Sort.Attribute >= len(guardpost.SortAttributes)) {
		return nil, guardpost.Errorf(guardpost.EINVALID, "sort attribute %d does not exist", q.Sort.Attribute)
	}
	var out []guardpost.FindingCursor
	for _, d := range vis.Detectors {
		x, err := db.index(ctx, detectorKey{d.AccountID, vis.Region(), d.DetectorID})
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

// listPart is one range scan of a listing: a query whose parameters are
// the scope and detector, then args, then the row limit.
type listPart struct {
	query string
	args  []any
}

// listPlan returns the scans that make up the listing q asks for, which
// has no criteria (those are the index's, see listIndexed).
func listPlan(q guardpost.FindingQuery) ([]listPart, error) {
	part := func(key, where, order string, args ...any) listPart {
		return listPart{
			query: `SELECT ` + key + `, id FROM findings f WHERE account_id = ? AND region = ? AND detector_id = ? AND ` +
				where + ` ORDER BY ` + order + ` LIMIT ?`,
			args: args,
		}
	}
	if q.Sort == nil {
		if q.After == nil {
			return []listPart{part("NULL", "true", "id")}, nil
		}
		return []listPart{part("NULL", "id > ?", "id", q.After.ID)}, nil
	}
	a := q.Sort.Attribute
	if a < 0 || a >= len(sortCols) {
		return nil, guardpost.Errorf(guardpost.EINVALID, "sort attribute %d does not exist", a)
	}
	c := sortCols[a]
	beyond, dir := c+" > ?", c+" ASC, id ASC"
	if q.Sort.Descending {
		beyond, dir = c+" < ?", c+" DESC, id ASC"
	}
	absent := part(c, c+" IS NULL", c+", id")
	switch {
	case q.After == nil:
		return []listPart{part(c, c+" IS NOT NULL", dir), absent}, nil
	case q.After.SortKey == nil:
		return []listPart{part(c, c+" IS NULL AND id > ?", c+", id", q.After.ID)}, nil
	}
	key := q.After.SortKey
	if !keyFits(guardpost.SortAttributes[a], key) {
		return nil, guardpost.Errorf(guardpost.EINVALID, "cursor key %v does not fit sort attribute %s", key, guardpost.SortAttributes[a].Name)
	}
	return []listPart{
		part(c, c+" = ? AND id > ?", c+", id", key, q.After.ID),
		part(c, beyond, dir, key),
		absent,
	}, nil
}

// appendCursors appends the cursors a listing query yields and closes rows.
func appendCursors(out []guardpost.FindingCursor, rows *sql.Rows) ([]guardpost.FindingCursor, error) {
	defer rows.Close()
	for rows.Next() {
		var c guardpost.FindingCursor
		var k any
		var err error
		if err = rows.Scan(&k, &c.ID); err != nil {
			return nil, err
		}
		if c.SortKey, err = sortKey(k); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// keyFits reports whether a cursor key has the type of a's keys: a
// cursor for another attribute would otherwise compare across SQLite's
// type classes (every number sorts before every text).
func keyFits(a guardpost.SortAttribute, key any) bool {
	switch key.(type) {
	case string:
		return a.Kind == guardpost.KindString
	case float64:
		return a.Kind != guardpost.KindString
	}
	return false
}
