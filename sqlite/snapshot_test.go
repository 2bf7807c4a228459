package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/index"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// logBuffer collects a store's log, to tell which way an index was made.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var snapScope = guardpost.Scope{AccountID: "111111111111", Region: "us-east-1"}

var snapVis = guardpost.NewVisibility(snapScope, guardpost.DetectorRef{AccountID: snapScope.AccountID, DetectorID: "det"})

// openLoaded opens path with snapshots in dir (none when dir is ""),
// loads its indexes and waits until they are.
func openLoaded(t *testing.T, path, dir string) (*DB, *logBuffer) {
	t.Helper()
	log := &logBuffer{}
	opts := []Option{WithLogger(slog.New(slog.NewTextHandler(log, nil)))}
	if dir != "" {
		opts = append(opts, WithIndexSnapshots(dir, 0))
	}
	db, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	db.LoadIndexes()
	deadline := time.Now().Add(2 * time.Minute)
	for !db.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("indexes not loaded after two minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	db.stopLoading() // and the snapshots it writes after
	return db, log
}

// answers runs a set of listings and statistics and returns them as
// text, to compare two stores' answers.
func answers(t *testing.T, db *DB) string {
	t.Helper()
	ctx := context.Background()
	five := int64(5)
	wheres := [][]guardpost.Criterion{
		nil,
		compile(t, guardpost.Criteria{"severity": {GreaterThanOrEqual: &five}}),
		compile(t, guardpost.Criteria{"service.archived": {Equals: []string{"false"}}}),
		compile(t, guardpost.Criteria{"type": {Matches: []string{"*EC2*"}}, "severity": {LessThan: &five}}),
		compile(t, guardpost.Criteria{"resource.resourceType": {NotEquals: []string{"Instance"}}}),
	}
	sorts := []*guardpost.SortCriteria{nil,
		{Attribute: guardpost.SortAttributeIndex("updatedAt"), Descending: true},
		{Attribute: guardpost.SortAttributeIndex("severity")},
		{Attribute: guardpost.SortAttributeIndex("type"), Descending: true}}
	var b strings.Builder
	for i, where := range wheres {
		for j, s := range sorts {
			curs, err := db.ListFindings(ctx, snapVis, guardpost.FindingQuery{Where: where, Sort: s})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "list %d %d: %d %v\n", i, j, len(curs), curs)
		}
		for _, g := range guardpost.StatGroups {
			rows, err := db.FindingStatistics(ctx, snapVis, where, g)
			if err != nil {
				t.Fatal(err)
			}
			text := make([]string, len(rows))
			for k, r := range rows {
				text[k] = fmt.Sprintf("%s/%s %d %v %v", r.Key, r.ResourceType, r.Count, r.MaxSeverity, r.LastGeneratedAt.UnixMilli())
			}
			slices.Sort(text)
			fmt.Fprintf(&b, "stats %d %s: %v\n", i, g, text)
		}
	}
	return b.String()
}

// builtAnswers are the answers of the store at path with its indexes
// built from the findings.
func builtAnswers(t *testing.T, path string) string {
	t.Helper()
	db, _ := openLoaded(t, path, "")
	defer db.Close()
	return answers(t, db)
}

// writeSome adds n findings, archives some and replaces some.
func writeSome(t *testing.T, db *DB, gen *findinggen.Generator, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.MergeFindings(ctx, snapScope, "det", generatedFindings(t, gen, snapScope, "det", n), replaceByID); err != nil {
		t.Fatal(err)
	}
	curs, err := db.ListFindings(ctx, snapVis, guardpost.FindingQuery{Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	var archive []string
	var replace []*guardpost.Finding
	for i, c := range curs {
		switch i % 5 {
		case 1:
			archive = append(archive, c.ID)
		case 3:
			// Another finding's contents under this id.
			f := generatedFindings(t, gen, snapScope, "det", 1)[0]
			var doc map[string]any
			json.Unmarshal(f.Document, &doc)
			doc["id"] = c.ID
			raw, _ := json.Marshal(doc)
			if f, err = guardpost.ParseFinding(raw); err != nil {
				t.Fatal(err)
			}
			replace = append(replace, f)
		}
	}
	if _, err := db.UpdateFindings(ctx, snapVis, archive, archiveForTest); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MergeFindings(ctx, snapScope, "det", replace, replaceByID); err != nil {
		t.Fatal(err)
	}
}

// newSnapshotDB makes a database with one detector of n findings.
func newSnapshotDB(t *testing.T, n int) (path, dir string, gen *findinggen.Generator) {
	t.Helper()
	tmp := t.TempDir()
	path, dir = filepath.Join(tmp, "guardpost.db"), filepath.Join(tmp, "index")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	insertDetector(t, db, snapScope, "det")
	gen = findinggen.New(31)
	writeSome(t, db, gen, n)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, dir, gen
}

func snapshotFile(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.idx"))
	if len(files) != 1 {
		t.Fatalf("snapshot files in %s: %v", dir, files)
	}
	return files[0]
}

// TestIndexSnapshotStart: the first start builds and writes a snapshot,
// the next reads it; after writes past it (the snapshot kept behind) a
// start replays them. Each answers as a store that built its index.
func TestIndexSnapshotStart(t *testing.T) {
	path, dir, gen := newSnapshotDB(t, 400)
	want := builtAnswers(t, path)

	db, log := openLoaded(t, path, dir)
	if strings.Contains(log.String(), "index read from its snapshot") {
		t.Fatal("read a snapshot before any was written")
	}
	if got := answers(t, db); got != want {
		t.Fatal("built index answers differently")
	}
	db.saveSnapshots(context.Background(), 0) // as LoadIndexes does once loaded
	file := snapshotFile(t, dir)
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	writeSome(t, db, gen, 150)
	if err := db.Close(); err != nil { // writes the snapshot again
		t.Fatal(err)
	}
	want = builtAnswers(t, path)

	db, log = openLoaded(t, path, dir)
	if !strings.Contains(log.String(), "index read from its snapshot") || !strings.Contains(log.String(), "replayed=0") {
		t.Fatalf("the snapshot written at Close was not read without replay:\n%s", log)
	}
	if got := answers(t, db); got != want {
		t.Fatalf("index read from its snapshot answers differently")
	}
	db.snaps = nil // keep the old one below
	db.Close()

	// The snapshot from before the 150 findings and their changes.
	if err := os.WriteFile(file, old, 0o600); err != nil {
		t.Fatal(err)
	}
	db, log = openLoaded(t, path, dir)
	if !strings.Contains(log.String(), "index read from its snapshot") || strings.Contains(log.String(), "replayed=0") {
		t.Fatalf("an old snapshot was not read and replayed:\n%s", log)
	}
	if got := answers(t, db); got != want {
		t.Fatalf("replayed index answers differently")
	}
	// And it keeps answering alike through writes.
	writeSome(t, db, gen, 50)
	got := answers(t, db)
	db.Close()
	if want := builtAnswers(t, path); got != want {
		t.Fatalf("replayed index answers differently after writes")
	}
}

// TestIndexSnapshotRefused: a snapshot cut short, changed, of another
// database, or ahead of or beside the database's history is not used;
// the index is built and answers as it should.
func TestIndexSnapshotRefused(t *testing.T) {
	path, dir, gen := newSnapshotDB(t, 300)
	db, _ := openLoaded(t, path, dir)
	db.saveSnapshots(context.Background(), 0)
	db.snaps = nil
	db.Close()
	file := snapshotFile(t, dir)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := builtAnswers(t, path)

	check := func(name, reason string) {
		t.Helper()
		db, log := openLoaded(t, path, dir)
		db.snaps = nil
		defer db.Close()
		if !strings.Contains(log.String(), "index snapshot not used") || !strings.Contains(log.String(), reason) {
			t.Fatalf("%s: snapshot not refused for %q:\n%s", name, reason, log)
		}
		if got := answers(t, db); got != want {
			t.Fatalf("%s: answers differ", name)
		}
	}
	os.WriteFile(file, good[:len(good)/2], 0o600)
	check("truncated", "")
	c := bytes.Clone(good)
	c[len(c)*2/3] ^= 0x10
	os.WriteFile(file, c, 0o600)
	check("a byte changed", "")
	os.WriteFile(file, good[:len(good)-1], 0o600)
	check("last byte cut", "")

	// A copy of the database before more writes, with the newer
	// snapshot: the snapshot is ahead of its history.
	back := filepath.Join(t.TempDir(), "back.db")
	copyFile(t, path, back)
	db, _ = openLoaded(t, path, dir)
	writeSome(t, db, gen, 40)
	db.Close() // writes a snapshot at the later position
	newer, _ := os.ReadFile(file)
	copyFile(t, back, path)
	want = builtAnswers(t, path)
	os.WriteFile(file, newer, 0o600)
	check("database rewound", "stamped at outbox")
	// The rewound database written past the snapshot's position: its
	// outbox entry at that position is another.
	db, _ = openLoaded(t, path, "")
	writeSome(t, db, gen, 60)
	db.Close()
	want = builtAnswers(t, path)
	os.WriteFile(file, newer, 0o600)
	check("history diverged", "differs")

	// Another schema version (a migration may rewrite records), and
	// another detector made under the same id: stamps that say so.
	for _, c := range []struct {
		name, reason string
		change       func(*snapshotStamp)
	}{
		{"another schema", "another schema version", func(s *snapshotStamp) { s.Schema-- }},
		{"detector made again", "made again", func(s *snapshotStamp) { s.DetectorCreated-- }},
		{"another registry", "another attribute registry", func(s *snapshotStamp) { s.Registry = "x" }},
	} {
		db, _ := openLoaded(t, path, "")
		ctx := context.Background()
		k := detectorKey{snapScope.AccountID, snapScope.Region, "det"}
		x, err := db.index(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		var now int64
		db.read.QueryRow(qLastChange).Scan(&now)
		id, _ := db.databaseID(ctx)
		stamp, err := stampAt(ctx, db.read, id, k, now)
		if err != nil {
			t.Fatal(err)
		}
		c.change(&stamp)
		b, _ := json.Marshal(stamp)
		var out bytes.Buffer
		if err := writeCompressed(&out, func(w io.Writer) error { return index.WriteSnapshot(w, x, b) }); err != nil {
			t.Fatal(err)
		}
		db.Close()
		os.WriteFile(file, out.Bytes(), 0o600)
		check(c.name, c.reason)
	}

	// Another database with the same detector.
	other, otherDir, _ := newSnapshotDB(t, 100)
	db, _ = openLoaded(t, other, otherDir)
	db.Close()
	os.WriteFile(file, must(os.ReadFile(snapshotFile(t, otherDir))), 0o600)
	check("another database", "another database")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// copyFile copies a closed database file (its WAL was checkpointed at
// Close).
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"-wal", "-shm"} {
		os.Remove(to + ext)
	}
}

// snapshotCrashEnv, when set, makes TestIndexSnapshotCrash the child: it
// names the database and the snapshot directory.
const snapshotCrashEnv = "GUARDPOST_SQLITE_SNAPSHOT_CRASH_CHILD"

// TestIndexSnapshotCrash kills (SIGKILL) a process halfway through
// writing a snapshot over an older one. The next start reads the older
// snapshot, replays what changed since and answers as a build does; the
// dead process's half-written file is removed.
func TestIndexSnapshotCrash(t *testing.T) {
	if env := os.Getenv(snapshotCrashEnv); env != "" {
		path, dir, _ := strings.Cut(env, "|")
		snapshotCrashChild(t, path, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns and kills a child process")
	}
	path, dir, gen := newSnapshotDB(t, 300)
	db, _ := openLoaded(t, path, dir)
	db.saveSnapshots(context.Background(), 0)
	writeSome(t, db, gen, 120) // past the snapshot
	db.snaps = nil
	db.Close()
	file := snapshotFile(t, dir)
	old, _ := os.ReadFile(file)

	cmd := exec.Command(os.Args[0], "-test.run=^TestIndexSnapshotCrash$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), snapshotCrashEnv+"="+path+"|"+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(90*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		if sc.Text() == "mid-write" && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("the child never got halfway through a snapshot")
	}
	temps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if len(temps) != 1 {
		t.Fatalf("half-written files after the kill: %v", temps)
	}
	if now, _ := os.ReadFile(file); !bytes.Equal(now, old) {
		t.Fatal("the snapshot in place changed though its replacement was never finished")
	}

	want := builtAnswers(t, path)
	db, log := openLoaded(t, path, dir)
	defer db.Close()
	if !strings.Contains(log.String(), "index read from its snapshot") || strings.Contains(log.String(), "replayed=0") {
		t.Fatalf("the older snapshot was not read and replayed:\n%s", log)
	}
	if got := answers(t, db); got != want {
		t.Fatal("answers differ after the crash")
	}
	if temps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(temps) != 0 {
		t.Fatalf("the dead process's file stayed: %v", temps)
	}
}

// snapshotCrashChild loads the index (from the older snapshot) and writes
// a snapshot that stops halfway, saying so, until it is killed.
func snapshotCrashChild(t *testing.T, path, dir string) {
	snapshotWriteHook = func(w io.Writer) io.Writer { return &stallingWriter{w: w} }
	db, _ := openLoaded(t, path, dir)
	db.saveSnapshots(context.Background(), 1)
	t.Fatal("the snapshot was written whole")
}

// stallingWriter writes half of the first write it is given, says so on
// stdout, and blocks.
type stallingWriter struct{ w io.Writer }

func (s *stallingWriter) Write(p []byte) (int, error) {
	s.w.Write(p[:len(p)/2])
	fmt.Println("mid-write") // os.Stdout is unbuffered
	time.Sleep(time.Hour)
	return 0, nil
}
