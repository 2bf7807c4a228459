package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/guardpost/guardpost"
)

// visibility: a Visibility of several (account, detector) pairs sees their
// findings as one set, in one keyset order, and nothing else.
func (s *suite) visibility(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	const detA, detO, detHidden = "d-a", "d-other", "d-hidden"
	scopeHidden := guardpost.Scope{AccountID: "333333333333", Region: scopeA.Region}
	for _, d := range []*guardpost.Detector{newDetector(scopeA, detA), newDetector(scopeOther, detO), newDetector(scopeHidden, detHidden), newDetector(scopeEU, detA)} {
		must(t, st.InsertDetector(ctx, d), "InsertDetector")
	}
	var visible []*guardpost.Finding
	add := func(scope guardpost.Scope, det string, n int, show bool) {
		var fs []*guardpost.Finding
		for i := range n {
			// Ids interleave across accounts; severities repeat, so the
			// sorted order has runs of equal keys spanning accounts.
			id := fmt.Sprintf("f%02d-%s", i*4+len(det)%4, scope.AccountID[:3])
			fs = append(fs, newDoc(scope, det, id).set("severity", float64(i%4)+1).finding(t))
		}
		must(t, mergeAll(ctx, st, fs, nil), "MergeFindings")
		if show {
			visible = append(visible, fs...)
		}
	}
	add(scopeA, detA, 9, true)
	add(scopeOther, detO, 7, true)
	add(scopeHidden, detHidden, 5, false)
	add(scopeEU, detA, 4, false)
	vis := guardpost.NewVisibility(scopeA, guardpost.DetectorRef{AccountID: scopeOther.AccountID, DetectorID: detO},
		guardpost.DetectorRef{AccountID: scopeA.AccountID, DetectorID: detA})

	severity := attr(t, "severity")
	for _, sort := range []*guardpost.SortCriteria{nil, {Attribute: severity}, {Attribute: severity, Descending: true}} {
		want := expected(visible, sort)
		all, err := st.ListFindings(ctx, vis, guardpost.FindingQuery{Sort: sort})
		must(t, err, "ListFindings")
		sameCursors(t, all, want, fmt.Sprintf("ListFindings over two detectors, sort %+v", sort))
		var paged []guardpost.FindingCursor
		var after *guardpost.FindingCursor
		for {
			page, err := st.ListFindings(ctx, vis, guardpost.FindingQuery{Sort: sort, Limit: 4, After: after})
			must(t, err, "ListFindings page")
			if len(page) > 4 {
				t.Fatalf("page of %d with limit 4", len(page))
			}
			paged = append(paged, page...)
			if len(page) < 4 {
				break
			}
			after = &page[len(page)-1]
		}
		sameCursors(t, paged, want, fmt.Sprintf("paged over two detectors, sort %+v", sort))
	}

	everyID := []string{"f00-111", "f01-222", "f02-333", "f03-111", "f04-111"}
	for _, d := range []struct {
		scope guardpost.Scope
		det   string
		n     int
	}{{scopeA, detA, 9}, {scopeOther, detO, 7}, {scopeHidden, detHidden, 5}, {scopeEU, detA, 4}} {
		for i := range d.n {
			everyID = append(everyID, fmt.Sprintf("f%02d-%s", i*4+len(d.det)%4, d.scope.AccountID[:3]))
		}
	}
	got, err := st.Findings(ctx, vis, everyID)
	must(t, err, "Findings")
	gotIDs := slices.Sorted(slices.Values(idsOf(got)))
	wantIDs := slices.Sorted(slices.Values(idsOf(visible)))
	if !slices.Equal(slices.Compact(gotIDs), wantIDs) {
		t.Fatalf("Findings over two detectors: %v, want %v", gotIDs, wantIDs)
	}

	var seen []string
	changes, err := st.UpdateFindings(ctx, vis, everyID, archive(t, &seen))
	must(t, err, "UpdateFindings")
	if slices.Sort(seen); !slices.Equal(seen, wantIDs) || len(changes) != len(wantIDs) {
		t.Fatalf("UpdateFindings over two detectors updated %v (%d changes), want %v", seen, len(changes), wantIDs)
	}
	for _, f := range []struct {
		scope guardpost.Scope
		det   string
	}{{scopeHidden, detHidden}, {scopeEU, detA}} {
		fs, err := st.Findings(ctx, visOf(f.scope, f.det), everyID)
		must(t, err, "Findings hidden")
		for _, x := range fs {
			if x.Archived {
				t.Errorf("UpdateFindings reached %s of %v, outside the visibility", x.ID, f.scope)
			}
		}
	}

	rows, err := st.FindingStatistics(ctx, vis, nil, guardpost.StatByAccount)
	must(t, err, "FindingStatistics")
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.Key] += r.Count
	}
	if len(counts) != 2 || counts[scopeA.AccountID] != 9 || counts[scopeOther.AccountID] != 7 {
		t.Fatalf("statistics by account over two detectors: %v", counts)
	}

	// One detector's visibility sees only it.
	own, err := st.ListFindings(ctx, visOf(scopeA, detA), guardpost.FindingQuery{})
	must(t, err, "ListFindings own")
	if len(own) != 9 {
		t.Fatalf("own visibility lists %d findings, want 9", len(own))
	}
}
