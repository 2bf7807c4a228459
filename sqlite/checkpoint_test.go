package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

// TestBackgroundCheckpoint: once enough findings are written, their pages
// reach the database file without any further write, close or checkpoint
// by the writer (whose own threshold is far above what is written here),
// and everything written still reads back.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := &guardpost.Detector{ID: benchDetector, AccountID: benchScope.AccountID, Region: benchScope.Region,
		Status: guardpost.DetectorEnabled, FindingPublishingFrequency: "SIX_HOURS", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.InsertDetector(ctx, d); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	r := rand.New(rand.NewPCG(1, 2))
	var fs []*guardpost.Finding
	var ids []string
	for i := range checkpointAfterFindings + 100 {
		f := benchFinding(t, r, fmt.Sprintf("%032x", i))
		f.AggregationKey = ""
		fs, ids = append(fs, f), append(ids, f.ID)
	}
	if err := mergeBench(ctx, db, fs); err != nil {
		t.Fatal(err)
	}
	// Each finding takes more than 1 KB in the table.
	want := before + int64(len(fs))*1024
	for deadline := time.Now().Add(20 * time.Second); size() < want; {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes after the write, want at least %d: no checkpoint ran (%d done)", size(), want, db.checkpoints.done.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, err := db.Findings(ctx, benchVis, ids)
	if err != nil || len(got) != len(ids) {
		t.Fatalf("read back %d of %d findings: %v", len(got), len(ids), err)
	}
	// Once idle, the WAL file is emptied.
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	for deadline := time.Now().Add(20 * time.Second); walSize() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("WAL still %d bytes long when idle", walSize())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, err = db.Findings(ctx, benchVis, ids); err != nil || len(got) != len(ids) {
		t.Fatalf("after the WAL was emptied: read back %d of %d findings: %v", len(got), len(ids), err)
	}
}

// TestIdleTruncateWaitsForNoOne: a reader holding an old snapshot keeps
// the WAL from being emptied, and neither it nor the writes that follow
// wait for the checkpointer.
func TestIdleTruncateWaitsForNoOne(t *testing.T) {
	ctx := context.Background()
	db := benchDB(t)
	r := rand.New(rand.NewPCG(3, 4))
	batch := func(n int) []*guardpost.Finding {
		var fs []*guardpost.Finding
		for range n {
			f := benchFinding(t, r, fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()))
			f.AggregationKey = ""
			fs = append(fs, f)
		}
		return fs
	}
	if err := mergeBench(ctx, db, batch(10)); err != nil {
		t.Fatal(err)
	}
	snap, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Rollback()
	var before int
	if err := snap.QueryRow(`SELECT count(*) FROM findings`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if err := mergeBench(ctx, db, batch(checkpointAfterFindings)); err != nil {
		t.Fatal(err)
	}
	// The idle TRUNCATE comes and goes while the snapshot is held.
	done := db.checkpoints.done.Load()
	for deadline := time.Now().Add(20 * time.Second); db.checkpoints.done.Load() < done+2; {
		if time.Now().After(deadline) {
			t.Fatalf("%d checkpoints after the write, want 2 (PASSIVE, then TRUNCATE when idle)", db.checkpoints.done.Load()-done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var held int
	if err := snap.QueryRow(`SELECT count(*) FROM findings`).Scan(&held); err != nil || held != before {
		t.Fatalf("the snapshot sees %d findings (%v), want %d", held, err, before)
	}
	start := time.Now()
	if err := mergeBench(ctx, db, batch(10)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a write took %v after the idle checkpoint", d)
	}
}

// TestCheckpointerWakesAtThreshold: small writes accumulate until the
// threshold before they wake the checkpointer.
func TestCheckpointerWakesAtThreshold(t *testing.T) {
	c := &checkpointer{wake: make(chan struct{}, 1)}
	c.wrote(checkpointAfterFindings - 1)
	select {
	case <-c.wake:
		t.Fatal("woken below the threshold")
	default:
	}
	c.wrote(1)
	select {
	case <-c.wake:
	default:
		t.Fatal("not woken at the threshold")
	}
	var none *checkpointer
	none.wrote(10) // a store without one ignores writes
}
