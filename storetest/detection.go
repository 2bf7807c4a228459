package storetest

import (
	"bytes"
	"context"
	"errors"
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
