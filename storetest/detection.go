package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/guardpost/guardpost"
)

// ---- detection state (DetectionStateStore) ----

func (s *suite) detectionState(t *testing.T) {
	t.Run("WithFindings", s.stateWithFindings)
	t.Run("WithoutFindings", s.stateWithoutFindings)
	t.Run("ReplaceAndDelete", s.stateReplaceAndDelete)
	t.Run("UnknownDetector", s.stateUnknownDetector)
	t.Run("RollbackOnMergeError", s.stateRollback)
	t.Run("ScopeIsolation", s.stateScopeIsolation)
	t.Run("DeletedWithDetector", s.stateDeletedWithDetector)
}

// passMerge writes incoming findings as they are.
func passMerge([]*guardpost.Filter) guardpost.MergeFunc {
	return func(_, in *guardpost.Finding) (*guardpost.Finding, error) { return in, nil }
}

// wantState checks the blob named name of a detector: want nil for none.
func wantState(t *testing.T, st guardpost.Store, scope guardpost.Scope, det, name string, want []byte) {
	t.Helper()
	got, err := st.DetectionState(context.Background(), scope, det, name)
	must(t, err, "DetectionState "+name)
	if (got == nil) != (want == nil) || !bytes.Equal(got, want) {
		t.Fatalf("DetectionState %s of %s/%s: %q (nil %t), want %q (nil %t)", name, scope.AccountID, det, got, got == nil, want, want == nil)
	}
}

func (s *suite) stateWithFindings(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	f := newDoc(scopeA, det, "f1").finding(t)
	changes, err := st.MergeDetections(ctx, scopeA, det, []*guardpost.Finding{f},
		map[string][]byte{"windows": []byte("w1"), "baseline": {0, 1, 2, 0xff}}, passMerge)
	must(t, err, "MergeDetections")
	if len(changes) != 1 || changes[0].FindingID != "f1" || changes[0].Change != guardpost.ChangeCreated {
		t.Fatalf("changes %+v, want f1 created", changes)
	}
	sameFinding(t, getOne(t, st, scopeA, det, "f1"), f, "finding written with state")
	wantState(t, st, scopeA, det, "windows", []byte("w1"))
	wantState(t, st, scopeA, det, "baseline", []byte{0, 1, 2, 0xff})
	wantState(t, st, scopeA, det, "unknown", nil)
}

func (s *suite) stateWithoutFindings(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	changes, err := st.MergeDetections(ctx, scopeA, det, nil, map[string][]byte{"windows": []byte("only state")}, passMerge)
	must(t, err, "MergeDetections without findings")
	if len(changes) != 0 {
		t.Fatalf("changes %+v, want none", changes)
	}
	wantState(t, st, scopeA, det, "windows", []byte("only state"))
	if ids := listAll(t, st, scopeA, det); len(ids) != 0 {
		t.Fatalf("findings %v, want none", ids)
	}
}

func (s *suite) stateReplaceAndDelete(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	write := func(state map[string][]byte) {
		t.Helper()
		_, err := st.MergeDetections(ctx, scopeA, det, nil, state, passMerge)
		must(t, err, "MergeDetections")
	}
	write(map[string][]byte{"a": []byte("a1"), "b": []byte("b1"), "c": []byte("c1")})
	// A write names only what changes: b replaced, c deleted, a kept, d
	// stored empty (present, unlike c).
	write(map[string][]byte{"b": []byte("b2"), "c": nil, "d": {}})
	wantState(t, st, scopeA, det, "a", []byte("a1"))
	wantState(t, st, scopeA, det, "b", []byte("b2"))
	wantState(t, st, scopeA, det, "c", nil)
	wantState(t, st, scopeA, det, "d", []byte{})
	// MergeFindings leaves the state as it is.
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f1").finding(t)}, nil), "MergeFindings")
	wantState(t, st, scopeA, det, "b", []byte("b2"))
}

func (s *suite) stateUnknownDetector(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	_, err := st.MergeDetections(ctx, scopeA, "d-unknown", nil, map[string][]byte{"w": []byte("x")}, passMerge)
	wantKind(t, err, guardpost.ENOTFOUND, "MergeDetections of an unknown detector")
	_, err = st.MergeDetections(ctx, scopeOther, det, nil, map[string][]byte{"w": []byte("x")}, passMerge)
	wantKind(t, err, guardpost.ENOTFOUND, "MergeDetections of another scope's detector id")
	wantState(t, st, scopeA, "d-unknown", "w", nil)
	wantState(t, st, scopeOther, det, "w", nil)
	wantState(t, st, scopeA, det, "w", nil)
}

func (s *suite) stateRollback(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	_, err := st.MergeDetections(ctx, scopeA, det, nil, map[string][]byte{"w": []byte("before")}, passMerge)
	must(t, err, "MergeDetections")
	boom := errors.New("merge refused")
	failing := func([]*guardpost.Filter) guardpost.MergeFunc {
		return func(_, _ *guardpost.Finding) (*guardpost.Finding, error) { return nil, boom }
	}
	_, err = st.MergeDetections(ctx, scopeA, det, []*guardpost.Finding{newDoc(scopeA, det, "f1").finding(t)},
		map[string][]byte{"w": []byte("after"), "new": []byte("x")}, failing)
	if !errors.Is(err, boom) {
		t.Fatalf("MergeDetections with failing merge: %v, want the merge error", err)
	}
	wantState(t, st, scopeA, det, "w", []byte("before"))
	wantState(t, st, scopeA, det, "new", nil)
	wantAbsent(t, st, scopeA, det, "f1")
}

func (s *suite) stateScopeIsolation(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	// The same detector id in two other scopes: the state is the scope's.
	must(t, st.InsertDetector(ctx, newDetector(scopeOther, det)), "InsertDetector other")
	must(t, st.InsertDetector(ctx, newDetector(scopeEU, det)), "InsertDetector EU")
	for _, sc := range []guardpost.Scope{scopeA, scopeOther, scopeEU} {
		_, err := st.MergeDetections(ctx, sc, det, nil, map[string][]byte{"w": []byte(sc.AccountID + sc.Region)}, passMerge)
		must(t, err, "MergeDetections")
	}
	for _, sc := range []guardpost.Scope{scopeA, scopeOther, scopeEU} {
		wantState(t, st, sc, det, "w", []byte(sc.AccountID+sc.Region))
	}
}

func (s *suite) stateDeletedWithDetector(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	_, err := st.MergeDetections(ctx, scopeA, det, nil, map[string][]byte{"w": []byte("x")}, passMerge)
	must(t, err, "MergeDetections")
	must(t, st.DeleteDetector(ctx, scopeA, det), "DeleteDetector")
	wantState(t, st, scopeA, det, "w", nil)
	// A new detector with the same id starts without state.
	must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector again")
	wantState(t, st, scopeA, det, "w", nil)
}

// ---- evidence (EvidenceStore) ----

func (s *suite) evidence(t *testing.T) {
	t.Run("NewFinding", s.evidenceNewFinding)
	t.Run("AggregationKeepsFirstAndLatest", s.evidenceAggregation)
	t.Run("WithinBatch", s.evidenceWithinBatch)
	t.Run("Skipped", s.evidenceSkipped)
	t.Run("Truncated", s.evidenceTruncated)
	t.Run("ReplaceByID", s.evidenceReplaceByID)
	t.Run("MergeResultNewID", s.evidenceMergeResultNewID)
	t.Run("RollbackOnMergeError", s.evidenceRollback)
	t.Run("ScopeIsolation", s.evidenceScopeIsolation)
	t.Run("DeletedWithDetector", s.evidenceDeletedWithDetector)
	t.Run("ConcurrentOccurrences", s.evidenceConcurrent)
}

// records returns n distinct records numbered from first.
func records(first, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"eventID":"e%03d"}`, first+i)
	}
	return out
}

// withEvidence returns f carrying records, skipping skipped more.
func withEvidence(f *guardpost.Finding, recs [][]byte, skipped int) *guardpost.Finding {
	f.Evidence, f.EvidenceSkipped = recs, skipped
	return f
}

// wantEvidence checks a finding's evidence: the total and each kept
// record as seq -> record number (records()).
func wantEvidence(t *testing.T, st guardpost.Store, scope guardpost.Scope, det, id string, total int64, kept map[int64]int) {
	t.Helper()
	ev, err := st.Evidence(context.Background(), scope, det, id)
	must(t, err, "Evidence "+id)
	var got []string
	for _, r := range ev.Records {
		got = append(got, fmt.Sprintf("%d:%s", r.Seq, r.Data))
		if r.Truncated() {
			t.Errorf("record %d of %s truncated (%d of %d bytes)", r.Seq, id, len(r.Data), r.Size)
		}
	}
	var want []string
	for _, seq := range slices.Sorted(maps.Keys(kept)) {
		want = append(want, fmt.Sprintf(`%d:{"eventID":"e%03d"}`, seq, kept[seq]))
	}
	if ev.Total != total || !slices.Equal(got, want) {
		t.Fatalf("evidence of %s: total %d, records %v; want total %d, records %v", id, ev.Total, got, total, want)
	}
}

// seqs maps each seq in [from, to) to the record number seq+offset.
func seqs(into map[int64]int, from, to int64, offset int) map[int64]int {
	if into == nil {
		into = map[int64]int{}
	}
	for s := from; s < to; s++ {
		into[s] = int(s) + offset
	}
	return into
}

func (s *suite) evidenceNewFinding(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{
		withEvidence(newDoc(scopeA, det, "f1").keyed(t, "k"), records(0, 3), 0),
		newDoc(scopeA, det, "f-none").finding(t),
	}, nil), "MergeFindings")
	wantEvidence(t, st, scopeA, det, "f1", 3, seqs(nil, 0, 3, 0))
	wantEvidence(t, st, scopeA, det, "f-none", 0, nil)
	wantEvidence(t, st, scopeA, det, "f-unknown", 0, nil)
}

func (s *suite) evidenceAggregation(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	m := &countMerge{t: t}
	// Occurrences of 3, 4, 1 and 6 records land on f1: 14 records, of
	// which the first 5 and the latest 5 are kept.
	n := 0
	for i, size := range []int{3, 4, 1, 6} {
		f := withEvidence(newDoc(scopeA, det, fmt.Sprintf("f%d", i+1)).keyed(t, "k"), records(n, size), 0)
		must(t, mergeAll(ctx, st, []*guardpost.Finding{f}, m.merge), "MergeFindings")
		n += size
		kept := seqs(nil, 0, min(int64(n), guardpost.EvidenceKept), 0)
		seqs(kept, max(int64(n)-guardpost.EvidenceKept, 0), int64(n), 0)
		wantEvidence(t, st, scopeA, det, "f1", int64(n), kept)
	}
	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f1"}) {
		t.Fatalf("findings %v, want the one aggregated finding", ids)
	}
}

func (s *suite) evidenceWithinBatch(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	m := &countMerge{t: t}
	must(t, mergeAll(ctx, st, []*guardpost.Finding{
		withEvidence(newDoc(scopeA, det, "f1").keyed(t, "k"), records(0, 4), 0),
		withEvidence(newDoc(scopeA, det, "f2").keyed(t, "k"), records(4, 4), 0),
		withEvidence(newDoc(scopeA, det, "f3").keyed(t, "k"), records(8, 4), 0),
	}, m.merge), "MergeFindings")
	wantEvidence(t, st, scopeA, det, "f1", 12, seqs(seqs(nil, 0, 5, 0), 7, 12, 0))
}

func (s *suite) evidenceSkipped(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	// An occurrence of 100 records of which the producer kept the first 5
	// and the latest 3: records 0-4 and 97-99.
	recs := append(records(0, 5), records(97, 3)...)
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f1").keyed(t, "k"), recs, 92)}, nil), "MergeFindings")
	wantEvidence(t, st, scopeA, det, "f1", 100, seqs(seqs(nil, 0, 5, 0), 97, 100, 0))
	// Two more: the latest five are 97-101.
	m := &countMerge{t: t}
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f2").keyed(t, "k"), records(100, 2), 0)}, m.merge), "MergeFindings")
	wantEvidence(t, st, scopeA, det, "f1", 102, seqs(seqs(nil, 0, 5, 0), 97, 102, 0))
}

func (s *suite) evidenceTruncated(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	big := bytes.Repeat([]byte("x"), guardpost.MaxEvidenceRecordBytes+100)
	exact := bytes.Repeat([]byte("y"), guardpost.MaxEvidenceRecordBytes)
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f1").finding(t), [][]byte{big, exact}, 0)}, nil), "MergeFindings")
	ev, err := st.Evidence(ctx, scopeA, det, "f1")
	must(t, err, "Evidence")
	if len(ev.Records) != 2 || ev.Total != 2 {
		t.Fatalf("evidence: %d records, total %d", len(ev.Records), ev.Total)
	}
	if r := ev.Records[0]; !r.Truncated() || r.Size != len(big) || !bytes.Equal(r.Data, big[:guardpost.MaxEvidenceRecordBytes]) {
		t.Fatalf("long record: size %d, %d bytes kept, truncated %t", r.Size, len(r.Data), r.Truncated())
	}
	if r := ev.Records[1]; r.Truncated() || r.Size != len(exact) || !bytes.Equal(r.Data, exact) {
		t.Fatalf("record of exactly the bound: size %d, %d bytes kept, truncated %t", r.Size, len(r.Data), r.Truncated())
	}
}

func (s *suite) evidenceReplaceByID(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f1").finding(t), records(0, 2), 0)}, nil), "MergeFindings")
	// A replacement by id without evidence keeps what the finding had; one
	// with evidence adds to it.
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f1").set("severity", 7).finding(t)}, nil), "MergeFindings replace")
	wantEvidence(t, st, scopeA, det, "f1", 2, seqs(nil, 0, 2, 0))
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f1").finding(t), records(2, 1), 0)}, nil), "MergeFindings replace with evidence")
	wantEvidence(t, st, scopeA, det, "f1", 3, seqs(nil, 0, 3, 0))
}

func (s *suite) evidenceMergeResultNewID(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f-old").keyed(t, "k"), records(0, 2), 0)}, nil), "MergeFindings")
	merge := func(stored, incoming *guardpost.Finding) (*guardpost.Finding, error) {
		return newDoc(scopeA, det, "f-new").keyed(t, "k"), nil
	}
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f-incoming").keyed(t, "k"), records(2, 1), 0)}, merge), "MergeFindings")
	wantEvidence(t, st, scopeA, det, "f-new", 3, seqs(nil, 0, 3, 0))
	wantEvidence(t, st, scopeA, det, "f-old", 0, nil)
	wantEvidence(t, st, scopeA, det, "f-incoming", 0, nil)
}

func (s *suite) evidenceRollback(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f1").keyed(t, "k"), records(0, 2), 0)}, nil), "MergeFindings")
	// f2 is new and written with its evidence; f3 lands on f1 and merge
	// refuses it: nothing of the batch stays.
	boom := errors.New("merge refused")
	err := mergeAll(ctx, st, []*guardpost.Finding{
		withEvidence(newDoc(scopeA, det, "f2").keyed(t, "k2"), records(10, 1), 0),
		withEvidence(newDoc(scopeA, det, "f3").keyed(t, "k"), records(2, 1), 0),
	}, func(_, _ *guardpost.Finding) (*guardpost.Finding, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("MergeFindings with failing merge: %v, want the merge error", err)
	}
	wantEvidence(t, st, scopeA, det, "f1", 2, seqs(nil, 0, 2, 0))
	wantEvidence(t, st, scopeA, det, "f2", 0, nil)
}

func (s *suite) evidenceScopeIsolation(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, st.InsertDetector(ctx, newDetector(scopeOther, det)), "InsertDetector other")
	must(t, st.InsertDetector(ctx, newDetector(scopeEU, det)), "InsertDetector EU")
	for i, sc := range []guardpost.Scope{scopeA, scopeOther, scopeEU} {
		must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(sc, det, "f1").keyed(t, "k"), records(i*10, i+1), 0)}, nil), "MergeFindings")
	}
	for i, sc := range []guardpost.Scope{scopeA, scopeOther, scopeEU} {
		wantEvidence(t, st, sc, det, "f1", int64(i+1), seqs(nil, 0, int64(i+1), i*10))
	}
}

func (s *suite) evidenceDeletedWithDetector(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f1").keyed(t, "k"), records(0, 2), 0)}, nil), "MergeFindings")
	must(t, st.DeleteDetector(ctx, scopeA, det), "DeleteDetector")
	must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector again")
	wantEvidence(t, st, scopeA, det, "f1", 0, nil)
	// A finding of the new detector with the old id starts afresh.
	must(t, mergeAll(ctx, st, []*guardpost.Finding{withEvidence(newDoc(scopeA, det, "f1").keyed(t, "k"), records(5, 1), 0)}, nil), "MergeFindings")
	wantEvidence(t, st, scopeA, det, "f1", 1, seqs(nil, 0, 1, 5))
}

// keepStored is a merge safe for concurrent use: the incoming document
// under the stored finding's id.
func keepStored(stored, in *guardpost.Finding) (*guardpost.Finding, error) {
	var d map[string]any
	if err := json.Unmarshal(in.Document, &d); err != nil {
		return nil, err
	}
	d["id"] = stored.ID
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	f, err := guardpost.ParseFinding(b)
	if err != nil {
		return nil, err
	}
	f.AggregationKey = in.AggregationKey
	return f, nil
}

// evidenceConcurrent: occurrences of one key written at once all count,
// and the finding keeps exactly the first and latest five positions.
func (s *suite) evidenceConcurrent(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	const writers = 16
	errs := together(writers, func(i int) error {
		f := withEvidence(newDoc(scopeA, det, fmt.Sprintf("f%02d", i)).keyed(t, "k"), records(i, 1), 0)
		return mergeAll(ctx, st, []*guardpost.Finding{f}, keepStored)
	})
	for _, err := range errs {
		must(t, err, "concurrent MergeFindings")
	}
	ids := listAll(t, st, scopeA, det)
	if len(ids) != 1 {
		t.Fatalf("findings %v, want one", ids)
	}
	ev, err := st.Evidence(ctx, scopeA, det, ids[0])
	must(t, err, "Evidence")
	var seqs []int64
	seen := map[string]bool{}
	for _, r := range ev.Records {
		seqs = append(seqs, r.Seq)
		if seen[string(r.Data)] {
			t.Fatalf("record %s kept twice", r.Data)
		}
		seen[string(r.Data)] = true
	}
	if ev.Total != writers || !slices.Equal(seqs, []int64{0, 1, 2, 3, 4, 11, 12, 13, 14, 15}) {
		t.Fatalf("evidence after %d concurrent occurrences: total %d, positions %v", writers, ev.Total, seqs)
	}
}
