package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"
	"github.com/guardpost/guardpost/index"
)

// Index snapshots: each detector's index written to a file (package
// index's snapshot), so that a start reads it back and replays the outbox
// entries committed since, instead of decoding every finding's record.
//
// A snapshot is stamped with the outbox position its index reflects (and
// that entry's finding and time, which a restored or rewound database
// would not have), the detector's creation time (a detector deleted and
// made again takes its findings without outbox entries), the database's
// identity, the attribute registry and the schema version (a migration
// may rewrite records). At load, in one read transaction, the stamp is
// checked, the findings changed since are forgotten and put as they are
// now, and the index's count is compared with the table's; then, under
// the write lock, what was committed meanwhile is replayed the same way.
// Any disagreement means a build from the store, as without snapshots:
// correctness never depends on a snapshot, only start-up time does.
//
// Each process writes the snapshots of the indexes it holds to its own
// directory (several processes on one database may share one: files are
// replaced whole, by rename, and any of them is a faithful image of the
// store at its stamp).
type snapshots struct {
	dir   string
	every time.Duration

	mu    sync.Mutex
	saved map[detectorKey]int64 // outbox position of the snapshot on disk
	// stale marks the indexes worth writing soon: built from the store,
	// or replayed from a snapshot far behind.
	stale map[detectorKey]bool

	stop   chan struct{}
	done   chan struct{}
	closed bool // under mu: Close wrote the last ones
}

// WithIndexSnapshots keeps index snapshots in dir (created if missing).
// Changed indexes are written every period (0: only after loading and at
// Close).
func WithIndexSnapshots(dir string, every time.Duration) Option {
	return func(db *DB) {
		if dir != "" {
			db.snaps = &snapshots{dir: dir, every: every, saved: map[detectorKey]int64{}, stale: map[detectorKey]bool{}}
		}
	}
}

// resnapshotAfter is how many findings a replay at load may have put back
// before the index is worth writing again at once: replaying costs about
// a store read per finding.
const resnapshotAfter = 10_000

// snapshotStamp is what a snapshot says it reflects.
type snapshotStamp struct {
	Database        string `json:"database"` // a hash of the database's token key
	Registry        string `json:"registry"` // a hash of the attribute registry
	Schema          int64  `json:"schema"`   // the newest migration: one may rewrite records
	Account         string `json:"account"`
	Region          string `json:"region"`
	Detector        string `json:"detector"`
	DetectorCreated int64  `json:"detectorCreated"`
	Seq             int64  `json:"seq"`
	SeqFinding      string `json:"seqFinding,omitempty"` // the outbox entry at Seq
	SeqAt           int64  `json:"seqAt,omitempty"`
}

// snapshotPath is where the detector's snapshot lives.
func (s *snapshots) path(k detectorKey) string {
	h := sha256.Sum256([]byte(k.account + "\x00" + k.region + "\x00" + k.detector))
	return filepath.Join(s.dir, hex.EncodeToString(h[:16])+".idx")
}

// registryHash names the code's attribute registry (the store checked
// at Open that the database's agrees).
var registryHash = sync.OnceValue(func() string {
	h := sha256.New()
	for _, e := range findingrec.Registry() {
		fmt.Fprintln(h, e.String())
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
})

// databaseID names the database: a hash of its token key, made once per
// database and kept in it.
func (db *DB) databaseID(ctx context.Context) (string, error) {
	key, err := db.TokenKey(ctx)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(append([]byte("guardpost index snapshot\x00"), key...))
	return hex.EncodeToString(h[:16]), nil
}

// qSchemaVersion is the newest migration applied.
const qSchemaVersion = `SELECT coalesce(max(version), 0) FROM schema_migrations`

// errSnapshotStale says why a snapshot was not used.
type errSnapshotStale struct{ why string }

func (e errSnapshotStale) Error() string { return "snapshot does not match the database: " + e.why }

// indexFromSnapshot reads the detector's snapshot, brings it up to the
// store and registers it. It returns nil (and why,
// for the log) when there is no usable snapshot; the caller builds.
func (db *DB) indexFromSnapshot(ctx context.Context, k detectorKey) (*index.Index, error) {
	s := db.snaps
	start := time.Now()
	dbID, err := db.databaseID(ctx)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(k))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var schema int64
	if err := db.read.QueryRowContext(ctx, qSchemaVersion).Scan(&schema); err != nil {
		return nil, err
	}
	r, size, err := openCompressed(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// Meanwhile, on another core, a read transaction counts the
	// detector's findings: the replay below runs in it, and the count
	// must agree with the index's after it.
	type position struct {
		tx         *sql.Tx
		now, count int64
		err        error
	}
	posc := make(chan position, 1)
	go func() {
		var p position
		if p.tx, p.err = db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); p.err == nil {
			if p.err = p.tx.QueryRowContext(ctx, qLastChange).Scan(&p.now); p.err == nil {
				p.err = p.tx.QueryRowContext(ctx, `SELECT count(*) FROM findings WHERE account_id = ? AND region = ? AND detector_id = ?`,
					k.account, k.region, k.detector).Scan(&p.count)
			}
		}
		posc <- p
	}()
	var p position
	taken := false
	take := func() position {
		if !taken {
			p, taken = <-posc, true
		}
		return p
	}
	defer func() {
		if p := take(); p.tx != nil {
			p.tx.Rollback()
		}
	}()
	var stamp snapshotStamp
	x, err := index.ReadSnapshot(r, size, func(b []byte) error {
		if err := json.Unmarshal(b, &stamp); err != nil {
			return errSnapshotStale{"unreadable stamp"}
		}
		switch {
		case stamp.Database != dbID:
			return errSnapshotStale{"written for another database"}
		case stamp.Registry != registryHash():
			return errSnapshotStale{"written under another attribute registry"}
		case stamp.Schema != schema:
			return errSnapshotStale{"written under another schema version"}
		case stamp.Account != k.account || stamp.Region != k.region || stamp.Detector != k.detector:
			return errSnapshotStale{"written for another detector"}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	read := time.Since(start)
	if p := take(); p.err != nil {
		return nil, p.err
	}
	if err := checkStamp(ctx, p.tx, &stamp, p.now); err != nil {
		return nil, err
	}
	changed, err := db.replay(ctx, p.tx, x, k, stamp.Seq, max(resnapshotAfter, x.Len()/4))
	if err != nil {
		return nil, err
	}
	if int64(x.Len()) != p.count {
		return nil, errSnapshotStale{fmt.Sprintf("%d findings after the replay, the store has %d", x.Len(), p.count)}
	}

	// Catch up under the write lock with what was committed since, and
	// register.
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var now int64
	if err := tx.QueryRowContext(ctx, qLastChange).Scan(&now); err != nil {
		return nil, err
	}
	more, err := db.replay(ctx, tx, x, k, p.now, -1)
	if err != nil {
		return nil, err
	}
	db.indexes.register(k, x, now)
	s.mu.Lock()
	s.saved[k] = stamp.Seq
	if changed+more >= resnapshotAfter {
		s.stale[k] = true
	}
	s.mu.Unlock()
	db.log.Info("index read from its snapshot", "account", k.account, "region", k.region, "detector", k.detector,
		"findings", x.Len(), "replayed", changed+more, "readSeconds", read.Seconds(), "seconds", time.Since(start).Seconds())
	return x, nil
}

// replay brings x from outbox position seq to where q sees the store:
// the findings changed since are forgotten and put as they are now. It
// returns how many findings it replayed. Past most (if not negative),
// it refuses: each costs a store read, and a build reads them all faster.
func (db *DB) replay(ctx context.Context, q querier, x *index.Index, k detectorKey, seq int64, most int) (int, error) {
	changed, err := changedSince(ctx, q, k, seq)
	if err != nil || len(changed) == 0 {
		return 0, err
	}
	if most >= 0 && len(changed) > most {
		return 0, errSnapshotStale{fmt.Sprintf("%d findings changed since, more than a build costs", len(changed))}
	}
	x.Forget(changed)
	docs, err := db.docsOf(ctx, q, k, changed)
	if err != nil {
		return 0, err
	}
	x.PutNew(docs)
	return len(changed), nil
}

// checkStamp checks, in a transaction that sees the outbox at now, that
// the database still has the history the stamp reflects.
func checkStamp(ctx context.Context, tx *sql.Tx, s *snapshotStamp, now int64) error {
	if s.Seq > now {
		return errSnapshotStale{fmt.Sprintf("stamped at outbox %d, the store is at %d", s.Seq, now)}
	}
	var created int64
	err := tx.QueryRowContext(ctx, `SELECT created_at FROM detectors WHERE account_id = ? AND region = ? AND id = ?`,
		s.Account, s.Region, s.Detector).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) || err == nil && created != s.DetectorCreated {
		return errSnapshotStale{"the detector was made again"}
	}
	if err != nil {
		return err
	}
	if s.Seq == 0 {
		return nil
	}
	var finding string
	var at int64
	err = tx.QueryRowContext(ctx, `SELECT finding_id, at FROM finding_changes WHERE seq = ?`, s.Seq).Scan(&finding, &at)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (finding != s.SeqFinding || at != s.SeqAt) {
		return errSnapshotStale{fmt.Sprintf("outbox entry %d differs", s.Seq)}
	}
	return err
}

// changedSince lists the detector's findings the outbox names after seq.
func changedSince(ctx context.Context, q querier, k detectorKey, seq int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT finding_id FROM finding_changes
		WHERE seq > ? AND account_id = ? AND region = ? AND detector_id = ?`, seq, k.account, k.region, k.detector)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// docsOf reads the findings with the given ids that exist, as the index
// takes them.
func (db *DB) docsOf(ctx context.Context, q querier, k detectorKey, ids []string) ([]index.Doc, error) {
	var docs []index.Doc
	for _, id := range ids {
		if err := db.eachFinding(ctx, q, k, id, func(f *guardpost.Finding) { docs = append(docs, index.DocOf(f)) }); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// saveSnapshot writes the detector's index to its snapshot file, if the
// index is current. It holds the write transaction while it writes the
// file, so that no write of this process is applied to the index and not
// yet committed (see indexWrite.commit) and the stamp is exact; queries
// go on. The file is written aside, fsynced and renamed into place, so a
// crash leaves the old snapshot or the new one, never half of one.
func (db *DB) saveSnapshot(ctx context.Context, k detectorKey) (saved bool, err error) {
	s := db.snaps
	dbID, err := db.databaseID(ctx)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return false, err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var now int64
	if err := tx.QueryRowContext(ctx, qLastChange).Scan(&now); err != nil {
		return false, err
	}
	db.indexes.mu.Lock()
	x, seen := db.indexes.m[k], db.indexes.seen
	db.indexes.mu.Unlock()
	if x == nil || seen != now {
		return false, nil // not built, or behind another process's writes
	}
	stamp, err := stampAt(ctx, tx, dbID, k, now)
	if err != nil {
		return false, err
	}
	b, err := json.Marshal(stamp)
	if err != nil {
		return false, err
	}
	f, err := os.CreateTemp(s.dir, tempPrefix())
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var w io.Writer = f
	if snapshotWriteHook != nil {
		w = snapshotWriteHook(f)
	}
	if err := writeCompressed(w, func(w io.Writer) error { return index.WriteSnapshot(w, x, b) }); err != nil {
		return false, err
	}
	tx.Rollback() // the index is written: writes may go on
	if err := f.Sync(); err != nil {
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, s.path(k)); err != nil {
		return false, err
	}
	if err := syncDir(s.dir); err != nil {
		return false, err
	}
	s.mu.Lock()
	s.saved[k] = now
	delete(s.stale, k)
	s.mu.Unlock()
	return true, nil
}

// A snapshot file is compressed (zstd at its fastest level: 344 MB
// become about 170 at 1,050,000 findings, for about half a CPU-second to
// read back), then the size of what it holds in 8 bytes, so that the
// reader bounds every length by it.
func writeCompressed(w io.Writer, write func(io.Writer) error) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return err
	}
	cw := &countingWriter{w: zw}
	if err := write(cw); err != nil {
		zw.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	_, err = w.Write(binary.LittleEndian.AppendUint64(nil, uint64(cw.n)))
	return err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// openCompressed returns the content of a file writeCompressed wrote,
// and its size.
func openCompressed(f *os.File) (io.ReadCloser, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	var tail [8]byte
	if st.Size() < 8 {
		return nil, 0, errSnapshotStale{"truncated"}
	}
	if _, err := f.ReadAt(tail[:], st.Size()-8); err != nil {
		return nil, 0, err
	}
	size := int64(binary.LittleEndian.Uint64(tail[:]))
	if size < 0 || size > 64*st.Size() { // far past what zstd makes of it
		return nil, 0, errSnapshotStale{"truncated or corrupt"}
	}
	zr, err := zstd.NewReader(io.NewSectionReader(f, 0, st.Size()-8), zstd.WithDecoderConcurrency(2))
	if err != nil {
		return nil, 0, err
	}
	return zr.IOReadCloser(), size, nil
}

// snapshotWriteHook, when set (by tests), wraps the file a snapshot is
// written to.
var snapshotWriteHook func(io.Writer) io.Writer

// stampAt is the stamp of the detector's index at outbox position now,
// as q (the write transaction) sees the store.
func stampAt(ctx context.Context, q querier, dbID string, k detectorKey, now int64) (snapshotStamp, error) {
	stamp := snapshotStamp{Database: dbID, Registry: registryHash(), Account: k.account, Region: k.region, Detector: k.detector, Seq: now}
	if err := q.QueryRowContext(ctx, qSchemaVersion).Scan(&stamp.Schema); err != nil {
		return stamp, err
	}
	if err := q.QueryRowContext(ctx, `SELECT created_at FROM detectors WHERE account_id = ? AND region = ? AND id = ?`,
		k.account, k.region, k.detector).Scan(&stamp.DetectorCreated); err != nil {
		return stamp, err
	}
	if now > 0 {
		if err := q.QueryRowContext(ctx, `SELECT finding_id, at FROM finding_changes WHERE seq = ?`, now).Scan(&stamp.SeqFinding, &stamp.SeqAt); err != nil {
			return stamp, err
		}
	}
	return stamp, nil
}

// tempPrefix names this process's files being written, so that a start
// removes only those of processes that died.
func tempPrefix() string { return ".tmp-" + strconv.Itoa(os.Getpid()) + "-*" }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// saveSnapshots writes the snapshot of every built index that has none,
// was marked stale, or (after > 0) is that many outbox entries behind
// (all detectors' entries: a bound, not a count of the detector's).
func (db *DB) saveSnapshots(ctx context.Context, after int64) {
	if db.snaps == nil {
		return
	}
	db.snaps.mu.Lock()
	closed := db.snaps.closed
	db.snaps.mu.Unlock()
	if closed {
		return
	}
	db.indexes.mu.Lock()
	seen := db.indexes.seen
	keys := make([]detectorKey, 0, len(db.indexes.m))
	for k := range db.indexes.m {
		keys = append(keys, k)
	}
	db.indexes.mu.Unlock()
	for _, k := range keys {
		db.snaps.mu.Lock()
		saved, has := db.snaps.saved[k]
		want := db.snaps.stale[k] || !has || after > 0 && seen-saved >= after
		db.snaps.mu.Unlock()
		if !want {
			continue
		}
		start := time.Now()
		ok, err := db.saveSnapshot(ctx, k)
		switch {
		case err != nil && ctx.Err() == nil:
			db.log.Warn("writing an index snapshot", "account", k.account, "region", k.region, "detector", k.detector, "err", err)
		case ok:
			db.log.Info("index snapshot written", "account", k.account, "region", k.region, "detector", k.detector, "seconds", time.Since(start).Seconds())
		}
	}
}

// keepSnapshots checks every period, until Close, for snapshots far
// enough behind to rewrite: a rewrite holds the write lock (about 2 s at
// a million findings), a replay at the next start costs a store read per
// finding changed.
func (db *DB) keepSnapshots() {
	s := db.snaps
	if s == nil || s.every <= 0 {
		return
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				db.saveSnapshots(context.Background(), resnapshotAfter)
			}
		}
	}()
}

// closeSnapshots stops the periodic writes and writes what changed, so
// that the next start replays nothing.
func (db *DB) closeSnapshots() {
	s := db.snaps
	if s == nil {
		return
	}
	if s.stop != nil {
		close(s.stop)
		<-s.done
		s.stop = nil
	}
	db.saveSnapshots(context.Background(), 1)
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// tidySnapshots removes the snapshots of detectors that are gone and the
// files dead processes were writing.
func (s *snapshots) tidy(keys []detectorKey) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	keep := map[string]bool{}
	for _, k := range keys {
		keep[filepath.Base(s.path(k))] = true
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".tmp-"):
			pid, _, _ := strings.Cut(strings.TrimPrefix(name, ".tmp-"), "-")
			if n, err := strconv.Atoi(pid); err == nil && !alive(n) {
				os.Remove(filepath.Join(s.dir, name))
			}
		case strings.HasSuffix(name, ".idx") && !keep[name]:
			os.Remove(filepath.Join(s.dir, name))
		}
	}
}
