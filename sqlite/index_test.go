package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// TestIndexBuildWhileWriting builds a detector's index while findings are
// written and archived, and checks that it then answers exactly as an
// index built from scratch afterwards does: writes committed during the
// build are caught up from the outbox, none lost or applied twice.
func TestIndexBuildWhileWriting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d := &guardpost.Detector{ID: benchDetector, AccountID: benchScope.AccountID, Region: benchScope.Region,
		Status: guardpost.DetectorEnabled, FindingPublishingFrequency: "SIX_HOURS", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.InsertDetector(ctx, d); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	var ids []string
	for i := 0; i < 1500; i += 500 {
		var fs []*guardpost.Finding
		for j := i; j < i+500; j++ {
			id := fmt.Sprintf("%032x", r.Uint64())
			ids = append(ids, id)
			fs = append(fs, benchFinding(t, r, id))
		}
		if err := mergeBench(ctx, db, fs); err != nil {
			t.Fatal(err)
		}
	}
	archived := compile(t, guardpost.Criteria{"service.archived": {Equals: []string{"true"}}})
	severe := compile(t, guardpost.Criteria{"severity": {GreaterThanOrEqual: ptr(int64(6))}})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the writer
		defer wg.Done()
		for i := range 40 {
			f := benchFinding(t, r, fmt.Sprintf("new%03d", i))
			if err := mergeBench(ctx, db, []*guardpost.Finding{f}); err != nil {
				t.Error(err)
				return
			}
			_, err := db.UpdateFindings(ctx, benchVis, []string{ids[i*7]}, func(f *guardpost.Finding) (*guardpost.Finding, error) {
				return archiveForTest(f)
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() { // the first query, which builds the index
		defer wg.Done()
		if _, err := db.ListFindings(ctx, benchVis, guardpost.FindingQuery{Where: severe, Limit: 5}); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	list := func(db *DB, where []guardpost.Criterion) []guardpost.FindingCursor {
		curs, err := db.ListFindings(ctx, benchVis, guardpost.FindingQuery{Where: where})
		if err != nil {
			t.Fatal(err)
		}
		return curs
	}
	gotArchived, gotSevere := list(db, archived), list(db, severe)
	db.Close()
	fresh, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if want := list(fresh, archived); len(want) != 40 || !slices.Equal(gotArchived, want) {
		t.Fatalf("archived findings: index built during the writes has %d, a fresh one %d (want 40)", len(gotArchived), len(want))
	}
	if want := list(fresh, severe); !slices.Equal(gotSevere, want) {
		t.Fatalf("severity >= 6: index built during the writes has %d, a fresh one %d", len(gotSevere), len(want))
	}
}

func compile(t *testing.T, c guardpost.Criteria) []guardpost.Criterion {
	t.Helper()
	where, err := guardpost.CompileCriteria(c)
	if err != nil {
		t.Fatal(err)
	}
	return where
}

// archiveForTest marks a finding archived, as ArchiveFindings does.
func archiveForTest(f *guardpost.Finding) (*guardpost.Finding, error) {
	var doc map[string]any
	if err := json.Unmarshal(f.Document, &doc); err != nil {
		return nil, err
	}
	doc["service"].(map[string]any)["archived"] = true
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	out, err := guardpost.ParseFinding(b)
	if err != nil {
		return nil, err
	}
	out.AggregationKey, out.FeedbackComments = f.AggregationKey, f.FeedbackComments
	return out, nil
}

// TestLoadIndexes checks that LoadIndexes builds every detector's index in
// the background, that Ready says so only once they are all built, and
// that queries meanwhile are answered exactly.
func TestLoadIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	scopes := []guardpost.Scope{{AccountID: "111111111111", Region: "us-east-1"}, {AccountID: "222222222222", Region: "eu-west-1"}}
	gen := findinggen.New(11)
	for _, scope := range scopes {
		insertDetector(t, db, scope, "det")
		fs := generatedFindings(t, gen, scope, "det", 200)
		if _, err := db.MergeFindings(ctx, scope, "det", fs, replaceByID); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Hold the builds back: loading cannot finish, queries still answer.
	db.indexes.build.Lock()
	db.LoadIndexes()
	if db.Ready() {
		t.Fatal("ready before any index was built")
	}
	for _, scope := range scopes {
		if db.indexes.built(detectorKey{scope.AccountID, scope.Region, "det"}) != nil {
			t.Fatal("an index was built while builds were held")
		}
	}
	db.indexes.build.Unlock()
	vis := guardpost.NewVisibility(scopes[0], guardpost.DetectorRef{AccountID: scopes[0].AccountID, DetectorID: "det"})
	curs, err := db.ListFindings(ctx, vis, guardpost.FindingQuery{})
	if err != nil || len(curs) != 200 {
		t.Fatalf("listing while loading: %d, %v", len(curs), err)
	}
	deadline := time.Now().Add(time.Minute)
	for !db.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("indexes not loaded after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, scope := range scopes {
		x := db.indexes.built(detectorKey{scope.AccountID, scope.Region, "det"})
		if x == nil || x.Len() != 200 {
			t.Fatalf("index of %s after loading: %v", scope.AccountID, x)
		}
	}
}

// TestIndexSeesAnotherProcessWrites opens one database file twice, as two
// servers on one file do: findings written through one store must show in
// the other's listings and statistics at once, although the other's index
// was built before they were written.
func TestIndexSeesAnotherProcessWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	scope := guardpost.Scope{AccountID: "111111111111", Region: "us-east-1"}
	insertDetector(t, a, scope, "det")
	vis := guardpost.NewVisibility(scope, guardpost.DetectorRef{AccountID: scope.AccountID, DetectorID: "det"})
	gen := findinggen.New(13)
	next := func(n int) []*guardpost.Finding { return generatedFindings(t, gen, scope, "det", n) }
	count := func(db *DB) int {
		t.Helper()
		curs, err := db.ListFindings(ctx, vis, guardpost.FindingQuery{})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.FindingStatistics(ctx, vis, nil, guardpost.StatByFindingType)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, r := range rows {
			total += r.Count
		}
		if total != len(curs) {
			t.Fatalf("statistics count %d findings, the listing %d", total, len(curs))
		}
		return len(curs)
	}
	want := 0
	for round, writer := range []*DB{a, b, b, a, a, b} {
		if got := count(a); got != want {
			t.Fatalf("round %d: first store lists %d findings, want %d", round, got, want)
		}
		if got := count(b); got != want {
			t.Fatalf("round %d: second store lists %d findings, want %d", round, got, want)
		}
		if _, err := writer.MergeFindings(ctx, scope, "det", next(7), replaceByID); err != nil {
			t.Fatal(err)
		}
		want += 7
	}
	// An archive through one store shows in the other's criteria.
	archived := compile(t, guardpost.Criteria{"service.archived": {Equals: []string{"true"}}})
	active := compile(t, guardpost.Criteria{"service.archived": {Equals: []string{"false"}}})
	before, err := b.ListFindings(ctx, vis, guardpost.FindingQuery{Where: archived})
	if err != nil {
		t.Fatal(err)
	}
	curs, _ := a.ListFindings(ctx, vis, guardpost.FindingQuery{Where: active, Limit: 3})
	var ids []string
	for _, c := range curs {
		ids = append(ids, c.ID)
	}
	if _, err := a.UpdateFindings(ctx, vis, ids, archiveForTest); err != nil {
		t.Fatal(err)
	}
	got, err := b.ListFindings(ctx, vis, guardpost.FindingQuery{Where: archived})
	if err != nil || len(ids) != 3 || len(got) != len(before)+3 {
		t.Fatalf("archived findings seen by the other store: %d, then %d after archiving %d, %v", len(before), len(got), len(ids), err)
	}
}
