package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/samples"
)

// TestReadsSeeAnotherNodesDetectorDelete runs two services over two stores
// on one database file, as two nodes would. Node B reads a detector's
// findings many times (anything B remembered about the detector would be
// in place), then node A deletes the detector: B's very next GetFindings,
// ListFindings and GetFindingsStatistics must answer the real service's
// 400 for a detector the caller does not own. A cache of the detector or
// of its findings that B did not check against the database would answer
// 200 here.
func TestReadsSeeAnotherNodesDetectorDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guardpost.db")
	open := func() *guardpost.Service {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return &guardpost.Service{Store: db, Samples: samples.New(), Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}
	}
	a, b := open(), open()
	ctx := context.Background()
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	det, err := a.CreateDetector(ctx, scope, "", guardpost.DetectorSettings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	types := samples.New().Types()[:5]
	if err := a.CreateSampleFindings(ctx, scope, det, types); err != nil {
		t.Fatal(err)
	}
	one := int64(1)
	where, err := guardpost.CompileCriteria(guardpost.Criteria{"severity": {GreaterThanOrEqual: &one}})
	if err != nil {
		t.Fatal(err)
	}
	bySeverity, err := guardpost.SortBy("severity", true)
	if err != nil {
		t.Fatal(err)
	}
	read := func() (get, list, stats error, ids []string) {
		ids, _, list = b.ListFindings(ctx, scope, det, guardpost.ListFindingsInput{Where: where})
		all, _, err := b.ListFindings(ctx, scope, det, guardpost.ListFindingsInput{})
		if err == nil {
			ids = all
		}
		_, get = b.GetFindings(ctx, scope, det, ids, bySeverity)
		_, stats = b.GetFindingsStatistics(ctx, scope, det, where, guardpost.StatByFindingType, true, 0)
		return get, list, stats, ids
	}
	var ids []string
	for range 20 {
		var get, list, stats error
		get, list, stats, ids = read()
		for _, err := range []error{get, list, stats} {
			if err != nil {
				t.Fatalf("node B before the delete: %v", err)
			}
		}
	}
	if len(ids) != len(types) {
		t.Fatalf("node B lists %d findings, want %d", len(ids), len(types))
	}

	if err := a.DeleteDetector(ctx, scope, det); err != nil {
		t.Fatal(err)
	}
	_, getErr := b.GetFindings(ctx, scope, det, ids, bySeverity)
	_, _, listErr := b.ListFindings(ctx, scope, det, guardpost.ListFindingsInput{Where: where})
	_, _, listAllErr := b.ListFindings(ctx, scope, det, guardpost.ListFindingsInput{})
	_, statsErr := b.GetFindingsStatistics(ctx, scope, det, where, guardpost.StatByFindingType, true, 0)
	for name, err := range map[string]error{"GetFindings": getErr, "ListFindings with criteria": listErr,
		"ListFindings": listAllErr, "GetFindingsStatistics": statsErr} {
		if guardpost.ErrorKind(err) != guardpost.EINVALID || guardpost.ErrorMessage(err) != "The request is rejected because the input detectorId is not owned by the current account." {
			t.Errorf("node B's %s after node A deleted the detector: %v, want the 400 for a detector not owned", name, err)
		}
	}
}

// countingStore counts the Findings reads that reach the store.
type countingStore struct {
	guardpost.Store
	findings atomic.Int64
}

func (c *countingStore) Findings(ctx context.Context, vis guardpost.Visibility, ids []string) ([]*guardpost.Finding, error) {
	c.findings.Add(1)
	return c.Store.Findings(ctx, vis, ids)
}

// TestGetFindingsSeesEveryWrite runs two services over two stores on one
// database file, as two nodes would. Node B answers a repeated GetFindings
// from memory; every finding write, by node A or by B itself (archive,
// feedback, a new occurrence), must show in B's very next answer.
func TestGetFindingsSeesEveryWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guardpost.db")
	open := func() (*guardpost.Service, *countingStore) {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st := &countingStore{Store: db}
		return &guardpost.Service{Store: st, Samples: samples.New(), Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}, st
	}
	a, _ := open()
	b, bStore := open()
	ctx := context.Background()
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	det, err := a.CreateDetector(ctx, scope, "", guardpost.DetectorSettings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	types := samples.New().Types()[:3]
	if err := a.CreateSampleFindings(ctx, scope, det, types); err != nil {
		t.Fatal(err)
	}
	ids, _, err := a.ListFindings(ctx, scope, det, guardpost.ListFindingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	// service returns the service object of each finding B answers, by id.
	service := func() map[string]map[string]any {
		t.Helper()
		docs, err := b.GetFindings(ctx, scope, det, ids, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]any{}
		for _, d := range docs {
			var f struct {
				ID      string         `json:"id"`
				Service map[string]any `json:"service"`
			}
			if err := json.Unmarshal(d, &f); err != nil {
				t.Fatal(err)
			}
			out[f.ID] = f.Service
		}
		if len(out) != len(ids) {
			t.Fatalf("node B answers %d findings, want %d", len(out), len(ids))
		}
		return out
	}

	service()
	reads := bStore.findings.Load()
	service()
	if got := bStore.findings.Load(); got != reads {
		t.Fatalf("node B read the store again (%d reads, then %d) for findings nothing had changed: no cache in use, so this test proves nothing", reads, got)
	}

	if err := a.ArchiveFindings(ctx, scope, det, ids[:1]); err != nil {
		t.Fatal(err)
	}
	if got := service()[ids[0]]["archived"]; got != true {
		t.Fatalf("node B's answer after node A archived %s: archived = %v, want true", ids[0], got)
	}
	if err := b.UpdateFindingsFeedback(ctx, scope, det, ids[1:2], "USEFUL", ""); err != nil {
		t.Fatal(err)
	}
	if got := service()[ids[1]]["userFeedback"]; got != "USEFUL" {
		t.Fatalf("node B's answer after its own feedback on %s: userFeedback = %v, want USEFUL", ids[1], got)
	}
	if err := a.CreateSampleFindings(ctx, scope, det, types); err != nil { // new occurrences: count 2
		t.Fatal(err)
	}
	for id, svc := range service() {
		if svc["count"] != 2.0 {
			t.Fatalf("node B's answer after node A wrote new occurrences: %s has count %v, want 2", id, svc["count"])
		}
	}
}
