// Package sqlite is a guardpost.Store kept in one SQLite database file,
// through the cgo-free driver modernc.org/sqlite.
//
// # Durability
//
// The database runs in WAL mode with synchronous=FULL: a write transaction
// is fsynced to the WAL before COMMIT returns, so a write the API has
// answered survives a process crash and a power cut. (synchronous=NORMAL
// in WAL mode may lose the last transactions on power loss.)
//
// # Concurrency
//
// SQLite admits one writer at a time. Rather than letting several
// connections race for the write lock and surface SQLITE_BUSY, a DB holds
// two connection pools over the same file:
//
//   - a writer pool of exactly one connection. Every write goes through it,
//     so our own writes queue in database/sql (honouring the request's
//     context) instead of in SQLite's lock. Its transactions start with
//     BEGIN IMMEDIATE, taking the write lock up front: a read-then-write
//     transaction (MergeFindings looks up before it writes) can then never
//     fail to upgrade its lock halfway through.
//   - a reader pool of several connections, opened query_only. In WAL mode
//     readers see a consistent snapshot and neither block the writer nor
//     are blocked by it. Multi-statement reads run in one (deferred)
//     transaction so they see one snapshot.
//
// busy_timeout still covers the rare waits that remain (another process on
// the same file, a checkpoint, WAL recovery after a crash).
//
// foreign_keys is on: a finding references its detector, so a finding can
// never outlive it even if a code path forgets to delete it.
//
// # Schema
//
// The schema lives in migrations/NNNN_name.sql, embedded in the binary and
// applied in version order at Open, each in its own transaction together
// with its row in schema_migrations. A database written by a newer binary
// (a version this one does not know) is refused.
//
// Findings are stored once each, compressed, with the binary record their
// in-memory index is built from (package findingrec, migration 0009); every
// listing and statistic is answered by that index (index.go), so the table
// has no index but its key and the aggregation lookup. The attribute_ids
// table says what the numbers in the records mean; Open refuses a database
// whose numbers mean something else to this code.
//
// Prepared statements are cached per query text (the store uses a small
// fixed set).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeout is how long a connection waits for a lock held by another
// connection (in practice: another process) before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Page cache per connection, in KiB (SQLite's default is 2 MiB). A batch
// of writes touches the table, its key and the aggregation index; readers
// fetch findings by key. The in-memory indexes, not SQLite, answer
// queries, so the caches stay small.
const (
	writerCacheKiB = 8 << 10
	readerCacheKiB = 2 << 10
)

// writerSpillPages is how many pages a write transaction may hold dirty
// before SQLite writes some of them to the WAL ahead of the commit
// (cache_spill; by default, once the cache is full). An import's batch of
// 2,000 findings dirties about 1,150 table pages and one page of the key's
// index per finding, more than the 8 MiB cache's 2,048 pages: the pages
// spilled early were then written again, and the commit read the WAL back
// to recompute its checksums. Past this bound (a migration, a detector's
// deletion) spilling keeps memory bounded as before. The pages are 4 KiB:
// 16 MiB at most, for the length of a transaction.
const writerSpillPages = 4096

// DB is a guardpost.Store backed by one SQLite database file. It is safe
// for concurrent use.
type DB struct {
	write *sql.DB // exactly one connection; every write goes through it
	read  *sql.DB // query_only connections

	writeStmts, readStmts stmtCache

	// codec reads and writes finding records (package findingrec).
	codec *findingrec.Codec
	// log receives what the store does on its own: one-time conversions,
	// index loading.
	log *slog.Logger

	// Now stamps outbox entries; nil means time.Now.
	Now func() time.Time

	indexes indexes
	// snaps, when set, keeps the indexes in snapshot files (snapshot.go).
	snaps *snapshots
	// loading is LoadIndexes' background work; ready is set when it is done.
	loading struct {
		sync.Mutex
		cancel context.CancelFunc
		done   chan struct{}
	}
	ready atomic.Bool
	// checkpoints copies the WAL into the database file in the background
	// (checkpoint.go).
	checkpoints *checkpointer
}

func (db *DB) nowMS() int64 {
	if db.Now != nil {
		return ms(db.Now())
	}
	return ms(time.Now())
}

// stmtCache keeps one prepared statement per query text. Preparing is
// costly here (the planner weighs some twenty indexes of findings), and the
// store issues a small fixed set of query shapes; database/sql prepares a
// cached statement once per connection and reuses it, also inside
// transactions (Tx.StmtContext). Callers get their statements before they
// begin a transaction: preparing takes a pool connection.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	s, ok := c.m[query]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	// Prepare without the lock: it waits for a pool connection.
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok { // another caller was faster
		s.Close()
		return prev, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = s
	return s, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, s := range c.m {
		errs = append(errs, s.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

var _ guardpost.Store = (*DB)(nil)

// Open opens (creating it if needed) the database file at path and brings
// its schema up to date. path is a file system path; in-memory databases are
// not supported (each pool connection would get its own).
func Open(path string, opts ...Option) (*DB, error) {
	codec, err := findingrec.Default()
	if err != nil {
		return nil, err
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: Open wants a file system path, not %q", path)
	}
	common := url.Values{}
	common.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	common.Set("_foreign_keys", "on")
	common.Set("_synchronous", "FULL")
	common.Add("_pragma", "temp_store(MEMORY)")

	wq := cloneValues(common)
	wq.Set("_journal_mode", "WAL")
	wq.Set("_txlock", "immediate")
	wq.Add("_pragma", fmt.Sprintf("cache_size(%d)", -writerCacheKiB))
	wq.Add("_pragma", fmt.Sprintf("cache_spill(%d)", writerSpillPages))
	wq.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
	wq.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walKeepBytes))
	write, err := sql.Open("sqlite", dsn(path, wq))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	db := &DB{write: write, writeStmts: stmtCache{db: write}, codec: codec, log: slog.Default()}
	for _, o := range opts {
		o(db)
	}
	if err := db.init(); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	rq := cloneValues(common)
	rq.Set("_query_only", "on")
	rq.Add("_pragma", fmt.Sprintf("cache_size(%d)", -readerCacheKiB))
	read, err := sql.Open("sqlite", dsn(path, rq))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(5 * time.Minute)
	if err := read.Ping(); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.read, db.readStmts = read, stmtCache{db: read}
	cq := cloneValues(common)
	cq.Set("_busy_timeout", "0") // its checkpoints never wait (checkpoint.go)
	cq.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walKeepBytes))
	if db.checkpoints, err = startCheckpointer(dsn(path, cq), db.log.Warn); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// Option configures Open.
type Option func(*DB)

// WithLogger sends the store's own messages (one-time conversions at open,
// index loading) to l instead of slog's default logger.
func WithLogger(l *slog.Logger) Option {
	return func(db *DB) {
		if l != nil {
			db.log = l
		}
	}
}

// loggerKey carries the store's logger to the Go steps of migrations.
type loggerKey struct{}

// logger is the logger ctx carries, or slog's default.
func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// dsn builds a modernc.org/sqlite data source name: a file: URI (so that
// a path holding '?' or '#' stays a path) with the driver's parameters.
func dsn(path string, q url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// init checks the writer connection's settings and applies migrations.
func (db *DB) init() error {
	ctx := context.WithValue(context.Background(), loggerKey{}, db.log)
	var mode string
	if err := db.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		// WAL is impossible on some file systems (network shares); without
		// it readers and the writer would block each other.
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	if err := migrate(ctx, db.write); err != nil {
		return err
	}
	return db.checkRegistry(ctx)
}

// Close closes both pools. Closing the last connection checkpoints the WAL.
func (db *DB) Close() error {
	db.stopLoading()
	db.closeSnapshots()
	errs := []error{db.checkpoints.close(), db.readStmts.close(), db.writeStmts.close()}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. File names
// are NNNN_name.sql; versions must be unique.
func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, f := range files {
		base := strings.TrimSuffix(path.Base(f), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", f)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, f, v)
		}
		seen[v] = f
		b, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction with its schema_migrations row. BEGIN IMMEDIATE makes the
// check-then-apply safe against another process migrating the same file.
func migrate(ctx context.Context, db *sql.DB) error { return migrateUpTo(ctx, db, math.MaxInt) }

// migrateUpTo applies the migrations up to version last (tests use it to
// make a database of an older schema).
func migrateUpTo(ctx context.Context, db *sql.DB, last int) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&newest); err != nil {
		return err
	}
	if known := ms[len(ms)-1].version; newest.Valid && int(newest.Int64) > known {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d)", newest.Int64, known)
	}
	for _, m := range ms {
		if m.version > last {
			break
		}
		if err := applyMigration(ctx, db, m); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// A line "-- @go NAME" runs the Go step NAME (goSteps) at that point,
	// in the same transaction.
	rest := m.sql
	for rest != "" {
		before, after, found := strings.Cut(rest, "-- @go ")
		if strings.TrimSpace(before) != "" {
			if _, err := tx.ExecContext(ctx, before); err != nil {
				return err
			}
		}
		if !found {
			break
		}
		name, tail, _ := strings.Cut(after, "\n")
		step, ok := goSteps[strings.TrimSpace(name)]
		if !ok {
			return fmt.Errorf("unknown Go step %q", name)
		}
		if err := step(ctx, tx); err != nil {
			return err
		}
		rest = tail
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// wrap gives a foreign error context; it stays a foreign error, so the
// domain reports it as EINTERNAL.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var ge *guardpost.Error
	if errors.As(err, &ge) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// ms converts a time to the stored form: epoch milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored epoch-millisecond time back, in UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
