package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"
	"github.com/guardpost/guardpost/internal/findinggen"
	"github.com/guardpost/guardpost/samples"
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

// TestAppendFindingsMatchesGetFindings checks that the response path
// (AppendFindings, which unpacks the cache's packed documents straight
// into the response) answers exactly what GetFindings does, from the store
// (first call) and from the cache (second), sorted and not, with unknown
// and repeated ids.
func TestAppendFindingsMatchesGetFindings(t *testing.T) {
	db := openTemp(t)
	st := &countingStore{Store: db}
	svc := &guardpost.Service{Store: st, Samples: samples.New(), Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}
	ctx := context.Background()
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	det, err := svc.CreateDetector(ctx, scope, "", guardpost.DetectorSettings{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateSampleFindings(ctx, scope, det, samples.New().Types()[:12]); err != nil {
		t.Fatal(err)
	}
	ids, _, err := svc.ListFindings(ctx, scope, det, guardpost.ListFindingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	asked := append([]string{"unknown", ids[3]}, ids...)
	bySeverity, err := guardpost.SortBy("severity", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, sort := range []*guardpost.SortCriteria{nil, bySeverity} {
		svc := &guardpost.Service{Store: st, Samples: svc.Samples, Tokens: svc.Tokens} // an empty cache
		for _, call := range []string{"from the store", "from the cache"} {
			reads := st.findings.Load()
			first, err := svc.AppendFindings([]byte("["), ctx, scope, det, ids, sort)
			if err != nil {
				t.Fatal(err)
			}
			if call == "from the cache" && st.findings.Load() != reads {
				t.Fatalf("%s: the store was read", call)
			}
			if call == "from the store" && st.findings.Load() == reads {
				t.Fatalf("%s: the store was not read", call)
			}
			got, err := svc.AppendFindings([]byte("["), ctx, scope, det, asked, sort)
			if err != nil {
				t.Fatal(err)
			}
			// joined is GetFindings' answer as AppendFindings writes it.
			joined := func(ids []string) ([]byte, int) {
				docs, err := svc.GetFindings(ctx, scope, det, ids, sort)
				if err != nil {
					t.Fatal(err)
				}
				var b []byte
				for i, d := range docs {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, d...)
				}
				return append(b, ']'), len(docs)
			}
			if want, _ := joined(ids); !bytes.Equal(append(first, ']')[1:], want) {
				t.Fatalf("sort %v, %s: AppendFindings answers other bytes than GetFindings", sort, call)
			}
			want, n := joined(asked)
			if got = append(got, ']'); !bytes.Equal(got[1:], want) || n != len(ids) {
				t.Fatalf("sort %v, %s: AppendFindings answers %d bytes, GetFindings %d documents in %d bytes", sort, call, len(got)-2, n, len(want)-1)
			}
			var parsed []json.RawMessage
			if err := json.Unmarshal(got, &parsed); err != nil || len(parsed) != len(ids) {
				t.Fatalf("sort %v, %s: not a JSON array of %d findings: %v", sort, call, len(ids), err)
			}
		}
	}
}
