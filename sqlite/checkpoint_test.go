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
