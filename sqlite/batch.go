package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/guardpost/guardpost"
)

// A write transaction's findings and outbox entries are inserted many rows
// per statement: through database/sql and the driver, each statement costs
// more than SQLite's own work for a row (binding, a step, a reset). Rows
// wait in a batchWriter until a full statement's worth is there, or until
// the transaction reads or deletes (flush), so that every read sees every
// earlier write.

// batchRows is the most rows one statement inserts: 64 findings bind 576
// values, far below SQLite's limit of 32,766.
const batchRows = 64

// batchSizes are the statement sizes a flush uses: a full batch, then the
// powers of two of the remainder, so that a handful of statement texts are
// prepared and cached, whatever the number of rows.
var batchSizes = []int{batchRows, 32, 16, 8, 4, 2, 1}

// multiRow repeats an INSERT's VALUES tuple n times. insert is the
// statement up to and including VALUES, tuple one row's placeholders, tail
// what follows the rows (an upsert clause).
func multiRow(insert, tuple, tail string, n int) string {
	var b strings.Builder
	b.WriteString(insert)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(tail)
	return b.String()
}

var (
	findingInsertHead  = `INSERT INTO findings (` + strings.Join(findingColumns, ", ") + `) VALUES `
	findingTuple       = `(?` + strings.Repeat(", ?", len(findingColumns)-1) + `)`
	changeInsertHead   = `INSERT INTO finding_changes (account_id, region, detector_id, finding_id, change, at) VALUES `
	changeTuple        = `(?, ?, ?, ?, ?, ?)`
	findingUpsertBatch = map[int]string{}
	changeInsertBatch  = map[int]string{}
)

func init() {
	for _, n := range batchSizes {
		findingUpsertBatch[n] = multiRow(findingInsertHead, findingTuple, " "+findingOnConflict, n)
		changeInsertBatch[n] = multiRow(changeInsertHead, changeTuple, "", n)
	}
}

// batchWriter buffers a write transaction's finding upserts and outbox
// entries (see batchRows).
//
// Findings wait until the transaction reads or deletes (flush) or ends,
// not just a statement's worth: a flush writes them in key order. Ids
// arrive in no order (an import's are random), so in arrival order each
// row lands on a random page of the key's index, and a batch of 2,000
// dirties more pages than the writer's page cache holds: SQLite spills
// dirty pages to the WAL mid-transaction and writes some of them again.
// In key order each index page is read once and dirtied in one run. Order
// among the rows of one flush is free: none reads another (the merge loop
// flushes before every lookup), and rows with one key keep their arrival
// order (the sort is stable), so the last one wins as before. Every row of
// a transaction has its scope and detector (mergeDetections refuses
// others), so the id alone orders them.
type batchWriter struct {
	upserts, changes map[int]*sql.Stmt // by rows per statement, of the transaction

	findings []pendingFinding // pending upserts
	args     []any            // one statement's values, reused
	// changeArgs are the pending outbox entries, 6 values each, in
	// arrival order: their seq is the order of the changes.
	changeArgs []any
	// pending are the entries of out waiting for their seq, in insert order.
	pending []int
	out     []guardpost.FindingChange

	// boxed holds the values every row of the transaction shares, made
	// interface values once: each conversion of a string to an interface
	// allocates, and a row would make nine of them.
	boxed struct {
		valid                             bool
		account, region, detector         string
		atMS                              int64
		accountV, regionV, detectorV, atV any
	}
}

// pendingFinding is a finding waiting for its upsert, in its stored form.
type pendingFinding struct {
	f   *guardpost.Finding
	id  any // f.ID
	enc stored
}

// newBatchWriter gets the cached statements of every size; call it before
// the transaction begins (preparing takes the writer's connection), then
// bind them with in.
func newBatchWriter(ctx context.Context, db *DB) (*batchWriter, error) {
	w := &batchWriter{upserts: map[int]*sql.Stmt{}, changes: map[int]*sql.Stmt{}}
	for _, n := range batchSizes {
		var err error
		if w.upserts[n], err = db.writeStmts.get(ctx, findingUpsertBatch[n]); err != nil {
			return nil, err
		}
		if w.changes[n], err = db.writeStmts.get(ctx, changeInsertBatch[n]); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// in binds the statements to tx.
func (w *batchWriter) in(ctx context.Context, tx *sql.Tx) {
	for n, s := range w.upserts {
		w.upserts[n] = tx.StmtContext(ctx, s)
	}
	for n, s := range w.changes {
		w.changes[n] = tx.StmtContext(ctx, s)
	}
}

// put queues the upsert of f, stored as enc, and its outbox entry for
// replacing stored (nil: a new finding).
func (w *batchWriter) put(ctx context.Context, stored, f *guardpost.Finding, enc stored, atMS int64) error {
	var id any = f.ID // one value for both rows
	w.findings = append(w.findings, pendingFinding{f, id, enc})
	c := guardpost.FindingChange{AccountID: f.AccountID, Region: f.Region, DetectorID: f.DetectorID,
		FindingID: f.ID, Change: guardpost.ChangeOf(stored, f), At: fromMS(atMS)}
	account, region, detector := w.scopeValues(f)
	if b := &w.boxed; b.atV == nil || atMS != b.atMS {
		b.atMS, b.atV = atMS, atMS
	}
	w.changeArgs = append(w.changeArgs, account, region, detector, id, boxChange(c.Change), w.boxed.atV)
	w.pending = append(w.pending, len(w.out))
	w.out = append(w.out, c)
	if len(w.pending) >= batchRows {
		return w.flushChanges(ctx)
	}
	return nil
}

// scopeValues returns f's account, region and detector as interface
// values, those of the transaction's first row when they are the same (a
// transaction writes one scope and detector: mergeDetections).
func (w *batchWriter) scopeValues(f *guardpost.Finding) (account, region, detector any) {
	b := &w.boxed
	if !b.valid {
		b.valid = true
		b.account, b.region, b.detector = f.AccountID, f.Region, f.DetectorID
		b.accountV, b.regionV, b.detectorV = f.AccountID, f.Region, f.DetectorID
	}
	if f.AccountID == b.account && f.Region == b.region && f.DetectorID == b.detector {
		return b.accountV, b.regionV, b.detectorV
	}
	return f.AccountID, f.Region, f.DetectorID
}

// flush writes the queued rows.
func (w *batchWriter) flush(ctx context.Context) error {
	if err := w.flushFindings(ctx); err != nil {
		return err
	}
	return w.flushChanges(ctx)
}

// flushFindings upserts the queued findings in key order.
func (w *batchWriter) flushFindings(ctx context.Context) error {
	slices.SortStableFunc(w.findings, func(a, b pendingFinding) int {
		return strings.Compare(a.f.ID, b.f.ID)
	})
	rows := w.findings
	for len(rows) > 0 {
		n := statementRows(len(rows))
		args := w.args[:0]
		for _, p := range rows[:n] {
			account, region, detector := w.scopeValues(p.f)
			args = appendFindingValues(args, account, region, detector, p.id, p.f, p.enc)
		}
		if _, err := w.upserts[n].ExecContext(ctx, args...); err != nil {
			return err
		}
		clear(args) // the blobs may go as soon as they are written
		w.args = args
		rows = rows[n:]
	}
	clear(w.findings)
	w.findings = w.findings[:0]
	return nil
}

// flushChanges inserts the queued outbox entries.
func (w *batchWriter) flushChanges(ctx context.Context) error {
	// The outbox's seq is AUTOINCREMENT: under the write lock, the rows of
	// one statement take consecutive numbers, the last of which the insert
	// reports.
	const cols = 6
	args := w.changeArgs
	for len(args) > 0 {
		n := statementRows(len(args) / cols)
		res, err := w.changes[n].ExecContext(ctx, args[:n*cols]...)
		if err != nil {
			return err
		}
		last, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for i, at := range w.pending[:n] {
			w.out[at].Seq = last - int64(n-1-i)
		}
		args, w.pending = args[n*cols:], w.pending[n:]
	}
	w.changeArgs = w.changeArgs[:0]
	return nil
}

// changeValues are the outbox's change kinds as interface values.
var changeValues = func() map[string]any {
	m := map[string]any{}
	for _, c := range []string{guardpost.ChangeCreated, guardpost.ChangeUpdated, guardpost.ChangeArchived, guardpost.ChangeUnarchived} {
		m[c] = c
	}
	return m
}()

// boxChange is the change kind c as an interface value, without an
// allocation for the known kinds.
func boxChange(c string) any {
	if v, ok := changeValues[c]; ok {
		return v
	}
	return c
}

// statementRows is the largest of batchSizes that is at most rows.
func statementRows(rows int) int {
	for _, n := range batchSizes {
		if n <= rows {
			return n
		}
	}
	return 1
}
