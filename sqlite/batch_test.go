package sqlite

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// TestMergeFindingsBatches writes batches longer than one multi-row
// statement, mixing new findings, findings already stored and ids repeated
// within the batch, and checks that each change has the kind and the
// outbox seq the outbox itself holds, and that the last write of an id
// wins.
func TestMergeFindingsBatches(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	insertDetector(t, db, scope, "d1")
	fs := generatedFindings(t, findinggen.New(5), scope, "d1", 2*batchRows+37)
	merge := func(batch []*guardpost.Finding) []guardpost.FindingChange {
		t.Helper()
		changes, err := db.MergeFindings(ctx, scope, "d1", batch, replaceByID)
		if err != nil {
			t.Fatal(err)
		}
		return changes
	}
	merge(fs[:batchRows/2]) // stored before the big batch
	// Again: the first half (stored), the rest (new), and a copy of a new
	// finding with another severity after it.
	again := *fs[batchRows]
	again.Severity = 1.5
	again.Document = []byte(`{"id":"` + again.ID + `","again":true}`)
	batch := append(append([]*guardpost.Finding{}, fs...), &again)
	changes := merge(batch)
	if len(changes) != len(batch) {
		t.Fatalf("%d changes for %d findings", len(changes), len(batch))
	}
	outbox, err := db.FindingChanges(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	outbox = outbox[batchRows/2:] // the first batch's
	if len(outbox) != len(changes) {
		t.Fatalf("the outbox holds %d entries of the batch, want %d", len(outbox), len(changes))
	}
	for i, c := range changes {
		want := guardpost.ChangeCreated
		if i < batchRows/2 || i == len(batch)-1 {
			want = guardpost.ChangeUpdated
		}
		if c.Change != want || c.FindingID != batch[i].ID {
			t.Errorf("change %d: %s %s, want %s %s", i, c.Change, c.FindingID, want, batch[i].ID)
		}
		o := outbox[i]
		if o.Seq != c.Seq || o.FindingID != c.FindingID || o.Change != c.Change {
			t.Errorf("change %d is seq %d %s %s; the outbox has seq %d %s %s", i, c.Seq, c.FindingID, c.Change, o.Seq, o.FindingID, o.Change)
		}
	}
	got, err := db.Findings(ctx, guardpost.Visibility{Detectors: []guardpost.DetectorRef{{AccountID: scope.AccountID, DetectorID: "d1"}}, Caller: scope}, []string{again.ID, fs[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d findings", len(got))
	}
	for _, f := range got {
		if f.ID == again.ID && (f.Severity != 1.5 || string(f.Document) != string(again.Document)) {
			t.Errorf("the repeated id holds severity %v, document %s: not the last write", f.Severity, f.Document)
		}
	}
}

// TestReadsEveryStoredForm rewrites some findings' records and documents
// in the whole-blob form written before records kept their head apart,
// and checks that reads (GetFindings' head-only path) and the index (the
// whole record) give the same answers as for the findings in today's form.
func TestReadsEveryStoredForm(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	insertDetector(t, db, scope, "d1")
	fs := generatedFindings(t, findinggen.New(7), scope, "d1", 20)
	if _, err := db.MergeFindings(ctx, scope, "d1", fs, replaceByID); err != nil {
		t.Fatal(err)
	}
	c, _ := findingrec.Default()
	for _, f := range fs[:10] {
		rec, err := c.Append(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		crec, _ := findingrec.Compress(nil, rec)
		cdoc, _ := findingrec.Compress(nil, f.Document)
		if _, err := db.write.Exec(`UPDATE findings SET record = ?, document = ? WHERE id = ?`, crec, cdoc, f.ID); err != nil {
			t.Fatal(err)
		}
	}
	var whole int
	if err := db.read.QueryRow(`SELECT count(*) FROM findings WHERE substr(record, 1, 1) = x'01'`).Scan(&whole); err != nil || whole != 10 {
		t.Fatalf("%d records in the whole form, want 10 (%v)", whole, err)
	}
	vis := guardpost.Visibility{Detectors: []guardpost.DetectorRef{{AccountID: scope.AccountID, DetectorID: "d1"}}, Caller: scope}
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	got, err := db.Findings(ctx, vis, ids)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*guardpost.Finding{}
	for _, f := range got {
		byID[f.ID] = f
	}
	for _, f := range fs {
		g := byID[f.ID]
		if g == nil {
			t.Fatalf("finding %s not read", f.ID)
		}
		if !bytes.Equal(g.Document, f.Document) || g.Severity != f.Severity || !slices.Equal(g.SortKeys, f.SortKeys) ||
			g.ResourceID != f.ResourceID || !g.UpdatedAt.Equal(f.UpdatedAt) {
			t.Errorf("finding %s reads back differently", f.ID)
		}
	}
	// The index reads whole records of both forms.
	cur, err := db.ListFindings(ctx, vis, guardpost.FindingQuery{Where: compile(t, guardpost.Criteria{"severity": {GreaterThanOrEqual: ptr(int64(0))}})})
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != len(fs) {
		t.Errorf("the index lists %d findings of %d", len(cur), len(fs))
	}
}
