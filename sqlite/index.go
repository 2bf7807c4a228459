package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"
	"github.com/guardpost/guardpost/index"
)

// detectorKey names one detector's findings.
type detectorKey struct{ account, region, detector string }

// indexes holds the in-memory index (package index) of each detector whose
// findings were queried with criteria or statistics since the store opened.
// An index is built on first use from the detector's stored findings (see
// DB.index); from then on every finding write applies its changes to it
// before it commits, so the index always holds what was committed (and,
// for the instant before a commit, what is about to be).
//
// Other processes on the same database file write too; the indexes do not
// see their writes. seen is the outbox position up to which every built
// index is current: this process's writes advance it, and a write by
// another process shows as an outbox beyond it, on which every index is
// dropped and rebuilt (see current). Exact, and costly only when several
// processes write to one file.
type indexes struct {
	mu    sync.Mutex
	m     map[detectorKey]*index.Index
	seen  int64      // outbox seq every built index reflects
	build sync.Mutex // serialises builds
}

// qLastChange is the outbox's position: the last seq written.
const qLastChange = `SELECT coalesce(max(seq), 0) FROM finding_changes`

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
//
// The build reads the detector's findings in a read transaction, so writes
// go on meanwhile; then, holding the write lock, it replays the outbox
// entries committed since its snapshot (each changed finding's values as
// the snapshot had them come out, as the database has them now go in) and
// registers the index, from which point every write applies itself to it.
// Writes wait only for the replay.
func (db *DB) index(ctx context.Context, k detectorKey) (*index.Index, error) {
	return db.indexAsOf(ctx, k, 0)
}

// indexAsOf is index for a caller that knows the outbox had reached
// version (see guardpost.Visibility.Version; 0: unknown, ask).
func (db *DB) indexAsOf(ctx context.Context, k detectorKey, version int64) (*index.Index, error) {
	if err := db.current(ctx, version); err != nil {
		return nil, wrap("index", err)
	}
	if x := db.indexes.built(k); x != nil {
		return x, nil
	}
	db.indexes.build.Lock() // one build at a time; a second caller finds it built
	defer db.indexes.build.Unlock()
	if x := db.indexes.built(k); x != nil {
		return x, nil
	}
	if db.snaps != nil {
		x, err := db.indexFromSnapshot(ctx, k)
		switch {
		case x != nil:
			return x, nil
		case err != nil && ctx.Err() != nil:
			return nil, wrap("build index", err)
		case err != nil:
			db.log.Warn("index snapshot not used: building the index from the store", "account", k.account, "region", k.region,
				"detector", k.detector, "reason", err)
		}
	}
	snap, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap("build index", err)
	}
	defer snap.Rollback()
	var seen int64
	if err := snap.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM finding_changes`).Scan(&seen); err != nil {
		return nil, wrap("build index", err)
	}
	x, err := db.buildIndex(ctx, snap, k)
	if err != nil {
		return nil, wrap("build index", err)
	}
	// Catch up under the write lock, then register.
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("build index", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT finding_id FROM finding_changes
		WHERE seq > ? AND account_id = ? AND region = ? AND detector_id = ?`, seen, k.account, k.region, k.detector)
	if err != nil {
		return nil, wrap("build index", err)
	}
	var changed []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap("build index", err)
		}
		changed = append(changed, id)
	}
	rows.Close()
	for _, id := range changed {
		var previous []guardpost.AttributeValue
		if err := db.eachFinding(ctx, snap, k, id, func(f *guardpost.Finding) { previous = f.Attributes }); err != nil {
			return nil, wrap("build index", err)
		}
		found := false
		if err := db.eachFinding(ctx, tx, k, id, func(f *guardpost.Finding) { x.Put(index.DocOf(f), previous); found = true }); err != nil {
			return nil, wrap("build index", err)
		}
		if !found {
			x.Delete(id, previous)
		}
	}
	var now int64
	if err := tx.QueryRowContext(ctx, qLastChange).Scan(&now); err != nil {
		return nil, wrap("build index", err)
	}
	db.indexes.register(k, x, now)
	if db.snaps != nil {
		db.snaps.mu.Lock()
		db.snaps.stale[k] = true
		db.snaps.mu.Unlock()
	}
	return x, nil
}

// register makes x the detector's index, current as of outbox position
// now. The caller holds the write lock: the outbox cannot move. The other
// indexes are current only if nothing was written since they last were
// (by another process: this one's writes advance seen).
func (ix *indexes) register(k detectorKey, x *index.Index, now int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.m == nil || ix.seen != now {
		ix.m = map[detectorKey]*index.Index{}
	}
	ix.m[k] = x
	ix.seen = now
}

// current drops every index when the outbox has moved past what they
// reflect: another process wrote findings. now is the outbox position if
// the caller knows it, 0 to read it.
func (db *DB) current(ctx context.Context, now int64) error {
	db.indexes.mu.Lock()
	empty, seen := len(db.indexes.m) == 0, db.indexes.seen
	db.indexes.mu.Unlock()
	if empty {
		return nil
	}
	if now == 0 {
		stmt, err := db.readStmts.get(ctx, qLastChange)
		if err != nil {
			return err
		}
		if err := stmt.QueryRowContext(ctx).Scan(&now); err != nil {
			return err
		}
	}
	if now > seen {
		db.indexes.mu.Lock()
		if db.indexes.seen == seen { // not caught up meanwhile
			db.indexes.m = nil
		}
		db.indexes.mu.Unlock()
	}
	return nil
}

// buildIndex indexes every finding of the detector as q sees them, from
// their records (no document is read). Decompressing and decoding the
// records runs on every core while one goroutine reads the rows and
// another fills the index.
func (db *DB) buildIndex(ctx context.Context, q querier, k detectorKey) (*index.Index, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, type, record FROM findings WHERE account_id = ? AND region = ? AND detector_id = ?`,
		k.account, k.region, k.detector)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type row struct {
		id, typ string
		record  []byte
	}
	in := make(chan []row, 4)
	parsed := make(chan []index.Doc, 4)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Go(func() {
			var buf []byte // one decompression buffer per worker
			for batch := range in {
				docs := make([]index.Doc, 0, len(batch))
				for _, r := range batch {
					f := guardpost.Finding{ID: r.id, Type: r.typ, AccountID: k.account}
					var err error
					if buf, err = findingrec.Decompress(buf[:0], r.record); err == nil {
						err = db.codec.Decode(buf, &f)
					}
					if err != nil {
						select { // the first error is enough
						case errs <- fmt.Errorf("finding %s: %w", r.id, err):
						default:
						}
						continue
					}
					docs = append(docs, index.DocOf(&f))
				}
				parsed <- docs
			}
		})
	}
	x := index.New()
	filled := make(chan struct{})
	go func() {
		// Larger batches share the index's work out among the cores with
		// less coordination (see index.Load).
		var pending []index.Doc
		for docs := range parsed {
			pending = append(pending, docs...)
			if len(pending) >= 8192 {
				x.Load(pending)
				pending = pending[:0]
			}
		}
		x.Load(pending)
		x.Loaded()
		close(filled)
	}()
	var readErr error
	const batchSize = 256
	batch := make([]row, 0, batchSize)
	for rows.Next() {
		var r row
		if readErr = rows.Scan(&r.id, &r.typ, &r.record); readErr != nil {
			break
		}
		batch = append(batch, r)
		if len(batch) == batchSize {
			in <- batch
			batch = make([]row, 0, batchSize)
		}
	}
	if len(batch) > 0 {
		in <- batch
	}
	close(in)
	workers.Wait()
	close(parsed)
	<-filled
	if readErr == nil {
		readErr = rows.Err()
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return x, readErr
}

// eachFinding reads the finding with id of the detector, if it exists,
// and passes it to f.
func (db *DB) eachFinding(ctx context.Context, q querier, k detectorKey, id string, f func(*guardpost.Finding)) error {
	rows, err := q.QueryContext(ctx, findingSelect+` WHERE account_id = ? AND region = ? AND detector_id = ? AND id = ?`,
		k.account, k.region, k.detector, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		parsed, err := db.scanFinding(rows)
		if err != nil {
			return err
		}
		f(parsed)
	}
	return rows.Err()
}

// LoadIndexes builds the index of every detector in the background, so
// that the first query of each does not wait for it, and reports when all
// are built through Ready. Queries go on meanwhile: one that needs an index
// not built yet builds it (or waits for the build under way), so its
// answer is exact, only slower. Close stops the loading.
func (db *DB) LoadIndexes() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	db.loading.Lock()
	db.loading.cancel, db.loading.done = cancel, done
	db.loading.Unlock()
	go func() {
		defer close(done)
		rows, err := db.read.QueryContext(ctx, `SELECT account_id, region, id FROM detectors ORDER BY account_id, region, id`)
		if err != nil {
			db.log.Error("loading indexes: listing detectors", "err", err)
			return
		}
		var keys []detectorKey
		for rows.Next() {
			var k detectorKey
			if err := rows.Scan(&k.account, &k.region, &k.detector); err != nil {
				rows.Close()
				db.log.Error("loading indexes: listing detectors", "err", err)
				return
			}
			keys = append(keys, k)
		}
		rows.Close()
		if db.snaps != nil {
			db.snaps.tidy(keys)
		}
		start := time.Now()
		for _, k := range keys {
			if _, err := db.index(ctx, k); err != nil {
				if ctx.Err() != nil {
					return
				}
				// The detector's queries will retry the build and report.
				db.log.Error("loading indexes", "account", k.account, "region", k.region, "detector", k.detector, "err", err)
			}
		}
		// Building leaves as much garbage as index (decoded records);
		// collect it now and hand the memory back, rather than keep the
		// heap at its peak until the next collections get to it. Before
		// saying ready, so that ready means settled.
		debug.FreeOSMemory()
		db.ready.Store(true)
		db.log.Info("indexes loaded", "detectors", len(keys), "seconds", time.Since(start).Seconds())
		// Then the snapshots of the indexes that were built, so that the
		// next start reads them (writes wait while each is written).
		db.saveSnapshots(ctx, 0)
		db.keepSnapshots()
	}()
}

// Ready reports whether LoadIndexes has built every detector's index.
func (db *DB) Ready() bool { return db.ready.Load() }

// stopLoading stops LoadIndexes and waits for it.
func (db *DB) stopLoading() {
	db.loading.Lock()
	cancel, done := db.loading.cancel, db.loading.done
	db.loading.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// indexWrite gathers the index changes of one write transaction, applied
// just before it commits (see indexes).
type indexWrite struct {
	db      *DB
	pending []indexOp
	touched map[detectorKey]bool
	// base is the outbox position when the transaction began (under the
	// write lock); last the seq of its last outbox entry (0: none).
	base, last int64
}

// begin records the outbox position at the start of the write
// transaction tx.
func (w *indexWrite) begin(ctx context.Context, tx *sql.Tx) error {
	return tx.QueryRowContext(ctx, qLastChange).Scan(&w.base)
}

// indexOp is one change to an index: a finding deleted (deleted set), or
// put in place of one whose values were previous (new: no finding had its
// id before).
type indexOp struct {
	x        *index.Index
	doc      index.Doc
	previous []guardpost.AttributeValue
	deleted  string
	new      bool
}

// put records that f was written in place of stored (nil: new). Nothing is
// recorded for a detector whose index is not built.
func (w *indexWrite) put(stored, f *guardpost.Finding) error {
	k := detectorKey{f.AccountID, f.Region, f.DetectorID}
	x := w.db.indexes.built(k)
	if x == nil {
		return nil
	}
	var previous []guardpost.AttributeValue // what the index holds for stored
	if stored != nil {
		previous = stored.Attributes
	}
	if stored != nil && stored.ID != f.ID {
		w.pending = append(w.pending, indexOp{x: x, deleted: stored.ID, previous: previous})
		previous, stored = nil, nil
	}
	w.pending = append(w.pending, indexOp{x: x, doc: index.DocOf(f), previous: previous, new: stored == nil})
	if w.touched == nil {
		w.touched = map[detectorKey]bool{}
	}
	w.touched[k] = true
	return nil
}

// apply makes the changes in order. Runs of new findings (an import's
// batch) go in with index.PutNew, which shares the work among the cores.
func (w *indexWrite) apply() {
	var run []index.Doc
	var runX *index.Index
	flush := func() {
		if len(run) > 0 {
			runX.PutNew(run)
			run = run[:0]
		}
	}
	for _, op := range w.pending {
		if op.new && (runX == op.x || len(run) == 0) {
			run, runX = append(run, op.doc), op.x
			continue
		}
		flush()
		switch {
		case op.new:
			run, runX = append(run, op.doc), op.x
		case op.deleted != "":
			op.x.Delete(op.deleted, op.previous)
		default:
			op.x.Put(op.doc, op.previous)
		}
	}
	flush()
}

// commit applies the changes and commits tx. When the commit fails, the
// indexes it touched are dropped, to be rebuilt from what was committed.
func (w *indexWrite) commit(tx *sql.Tx) error {
	ix := &w.db.indexes
	ix.mu.Lock()
	switch {
	case ix.seen != w.base:
		// Another process wrote before this transaction: the indexes
		// lack its changes.
		ix.m = nil
	case w.last > 0:
		ix.seen = w.last
	}
	ix.mu.Unlock()
	w.apply()
	err := tx.Commit()
	if err != nil {
		for k := range w.touched {
			w.db.indexes.drop(k)
		}
	}
	return err
}
