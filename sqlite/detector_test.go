package sqlite

import (
	"bytes"
	"context"
	"path/filepath"
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
