package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/guardpost/guardpost"
)

func newFilter(scope guardpost.Scope, det, name string) *guardpost.Filter {
	return &guardpost.Filter{
		AccountID: scope.AccountID, Region: scope.Region, DetectorID: det, Name: name,
		Description: "desc " + name, Action: guardpost.FilterArchive, Rank: 3,
		Criteria: guardpost.Criteria{
			"type":     {Equals: []string{typeProbe}, NotMatches: []string{"x*"}},
			"severity": {GreaterThanOrEqual: i64(5), LessThan: i64(8)},
		},
		Tags:        map[string]string{"team": "sec"},
		ClientToken: "token-" + name,
		CreatedAt:   t0,
	}
}

func (s *suite) filters(t *testing.T) {
	const det = "d0000000000000000000000000000001"
	setup := func(t *testing.T) (guardpost.Store, context.Context) {
		st, ctx := s.store(t), context.Background()
		must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector")
		return st, ctx
	}
	t.Run("InsertAndGet", func(t *testing.T) {
		st, ctx := setup(t)
		f := newFilter(scopeA, det, "one")
		must(t, insertFilter(ctx, st, f), "InsertFilter")
		got, err := st.Filter(ctx, scopeA, det, "one")
		must(t, err, "Filter")
		if got.CreatedAt.Location().String() != "UTC" || !got.CreatedAt.Equal(t0) {
			t.Fatalf("CreatedAt %v", got.CreatedAt)
		}
		got.CreatedAt = f.CreatedAt
		if !reflect.DeepEqual(got, f) {
			t.Fatalf("Filter = %+v, want %+v", got, f)
		}
	})
	t.Run("Conflict", func(t *testing.T) {
		st, ctx := setup(t)
		must(t, insertFilter(ctx, st, newFilter(scopeA, det, "one")), "InsertFilter")
		wantKind(t, insertFilter(ctx, st, newFilter(scopeA, det, "one")), guardpost.ECONFLICT, "second InsertFilter")
	})
	t.Run("NotFound", func(t *testing.T) {
		st, ctx := setup(t)
		_, err := st.Filter(ctx, scopeA, det, "none")
		wantKind(t, err, guardpost.ENOTFOUND, "Filter")
		wantKind(t, replaceFilter(ctx, st, newFilter(scopeA, det, "none")), guardpost.ENOTFOUND, "UpdateFilter")
		wantKind(t, st.DeleteFilter(ctx, scopeA, det, "none"), guardpost.ENOTFOUND, "DeleteFilter")
		wantKind(t, insertFilter(ctx, st, newFilter(scopeA, "nodetector", "x")), guardpost.ENOTFOUND, "InsertFilter without detector")
	})
	t.Run("ScopeIsolation", func(t *testing.T) {
		st, ctx := setup(t)
		must(t, st.InsertDetector(ctx, newDetector(scopeEU, det)), "InsertDetector EU")
		must(t, insertFilter(ctx, st, newFilter(scopeA, det, "one")), "InsertFilter")
		must(t, insertFilter(ctx, st, newFilter(scopeEU, det, "one")), "InsertFilter EU, same name")
		_, err := st.Filter(ctx, scopeOther, det, "one")
		wantKind(t, err, guardpost.ENOTFOUND, "Filter from another account")
		wantKind(t, st.DeleteFilter(ctx, scopeOther, det, "one"), guardpost.ENOTFOUND, "DeleteFilter from another account")
		must(t, st.DeleteFilter(ctx, scopeEU, det, "one"), "DeleteFilter EU")
		if _, err := st.Filter(ctx, scopeA, det, "one"); err != nil {
			t.Fatalf("scope A filter gone after EU delete: %v", err)
		}
		fs, err := st.Filters(ctx, scopeOther, det, "", 0)
		must(t, err, "Filters")
		if len(fs) != 0 {
			t.Fatalf("another account lists %d filters", len(fs))
		}
	})
	t.Run("ListAndPaginate", func(t *testing.T) {
		st, ctx := setup(t)
		for _, n := range []string{"ccc", "aaa", "bbb", "ddd"} {
			must(t, insertFilter(ctx, st, newFilter(scopeA, det, n)), "InsertFilter")
		}
		names := func(fs []*guardpost.Filter) (out []string) {
			for _, f := range fs {
				out = append(out, f.Name)
			}
			return out
		}
		all, err := st.Filters(ctx, scopeA, det, "", 0)
		must(t, err, "Filters")
		if got := names(all); !reflect.DeepEqual(got, []string{"aaa", "bbb", "ccc", "ddd"}) {
			t.Fatalf("Filters = %v", got)
		}
		page, err := st.Filters(ctx, scopeA, det, "aaa", 2)
		must(t, err, "Filters page")
		if got := names(page); !reflect.DeepEqual(got, []string{"bbb", "ccc"}) {
			t.Fatalf("Filters after aaa limit 2 = %v", got)
		}
	})
	t.Run("UpdateAndDelete", func(t *testing.T) {
		st, ctx := setup(t)
		f := newFilter(scopeA, det, "one")
		must(t, insertFilter(ctx, st, f), "InsertFilter")
		f.Action, f.Rank, f.Description = guardpost.FilterNoop, 9, "changed"
		f.Criteria = guardpost.Criteria{"type": {Matches: []string{"Recon:*"}}}
		stored := f.Tags
		f.Tags = map[string]string{"ignored": "by UpdateFilter"} // tags change only through UpdateTags
		must(t, replaceFilter(ctx, st, f), "UpdateFilter")
		got, err := st.Filter(ctx, scopeA, det, "one")
		must(t, err, "Filter")
		f.Tags = stored
		if !reflect.DeepEqual(got, f) {
			t.Fatalf("after update %+v, want %+v", got, f)
		}
		must(t, st.DeleteFilter(ctx, scopeA, det, "one"), "DeleteFilter")
		_, err = st.Filter(ctx, scopeA, det, "one")
		wantKind(t, err, guardpost.ENOTFOUND, "Filter after delete")
	})
	t.Run("DeleteDetectorCascades", func(t *testing.T) {
		st, ctx := setup(t)
		must(t, insertFilter(ctx, st, newFilter(scopeA, det, "one")), "InsertFilter")
		must(t, st.DeleteDetector(ctx, scopeA, det), "DeleteDetector")
		must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector again")
		fs, err := st.Filters(ctx, scopeA, det, "", 0)
		must(t, err, "Filters")
		if len(fs) != 0 {
			t.Fatalf("%d filters survive their detector", len(fs))
		}
	})
}
