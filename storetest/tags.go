package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"testing"

	"github.com/guardpost/guardpost"
)

// setTags returns an update function that records the tags it was given
// and replaces them with want.
func setTags(got *map[string]string, calls *int, want map[string]string) func(map[string]string) (map[string]string, error) {
	return func(cur map[string]string) (map[string]string, error) {
		*got = maps.Clone(cur)
		*calls++
		return want, nil
	}
}

func sameTags(t *testing.T, got, want map[string]string, what string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return // nil and empty both mean "no tags"
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: tags %v, want %v", what, got, want)
	}
}

func (s *suite) tags(t *testing.T) {
	const det = "d0000000000000000000000000000001"
	detector := guardpost.Resource{DetectorID: det}
	filter := guardpost.Resource{DetectorID: det, FilterName: "one"}
	setup := func(t *testing.T) (guardpost.Store, context.Context) {
		st, ctx := s.store(t), context.Background()
		must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector")
		must(t, insertFilter(ctx, st, newFilter(scopeA, det, "one")), "InsertFilter")
		return st, ctx
	}
	t.Run("Detector", func(t *testing.T) {
		st, ctx := setup(t)
		var seen map[string]string
		calls := 0
		want := map[string]string{"team": "ops", "new": "1"}
		must(t, st.UpdateTags(ctx, scopeA, detector, setTags(&seen, &calls, want)), "UpdateTags")
		if calls != 1 {
			t.Fatalf("update called %d times, want 1", calls)
		}
		sameTags(t, seen, newDetector(scopeA, det).Tags, "tags given to update")
		got, err := st.Detector(ctx, scopeA, det)
		must(t, err, "Detector")
		// Only the tags changed: every other field is as inserted.
		expect := newDetector(scopeA, det)
		expect.Tags = want
		sameDetector(t, got, expect, "detector after UpdateTags")
		f, err := st.Filter(ctx, scopeA, det, "one")
		must(t, err, "Filter")
		sameTags(t, f.Tags, newFilter(scopeA, det, "one").Tags, "filter tags after detector UpdateTags")
	})
	t.Run("Filter", func(t *testing.T) {
		st, ctx := setup(t)
		var seen map[string]string
		calls := 0
		want := map[string]string{"a": "x", "b": ""}
		must(t, st.UpdateTags(ctx, scopeA, filter, setTags(&seen, &calls, want)), "UpdateTags")
		sameTags(t, seen, newFilter(scopeA, det, "one").Tags, "tags given to update")
		got, err := st.Filter(ctx, scopeA, det, "one")
		must(t, err, "Filter")
		expect := newFilter(scopeA, det, "one")
		expect.Tags = want
		if !reflect.DeepEqual(got, expect) {
			t.Fatalf("filter after UpdateTags %+v, want %+v", got, expect)
		}
		d, err := st.Detector(ctx, scopeA, det)
		must(t, err, "Detector")
		sameDetector(t, d, newDetector(scopeA, det), "detector after filter UpdateTags")
	})
	t.Run("ClearAndUntagged", func(t *testing.T) {
		st, ctx := setup(t)
		var seen map[string]string
		calls := 0
		for _, clear := range []map[string]string{nil, {}} {
			must(t, st.UpdateTags(ctx, scopeA, detector, setTags(&seen, &calls, clear)), "UpdateTags clearing")
			d, err := st.Detector(ctx, scopeA, det)
			must(t, err, "Detector")
			sameTags(t, d.Tags, nil, "detector tags after clearing")
		}
		// A resource without tags hands update none.
		must(t, st.UpdateTags(ctx, scopeA, detector, setTags(&seen, &calls, map[string]string{"k": "v"})), "UpdateTags untagged")
		if len(seen) != 0 {
			t.Fatalf("update of an untagged detector was given %v", seen)
		}
		d, err := st.Detector(ctx, scopeA, det)
		must(t, err, "Detector")
		sameTags(t, d.Tags, map[string]string{"k": "v"}, "detector tags after tagging an untagged one")
	})
	t.Run("NotFound", func(t *testing.T) {
		st, ctx := setup(t)
		never := func(map[string]string) (map[string]string, error) {
			t.Error("update called for a missing resource")
			return nil, nil
		}
		for _, r := range []guardpost.Resource{
			{DetectorID: "d-missing"},
			{DetectorID: det, FilterName: "missing"},
			{DetectorID: "d-missing", FilterName: "one"},
		} {
			wantKind(t, st.UpdateTags(ctx, scopeA, r, never), guardpost.ENOTFOUND, fmt.Sprintf("UpdateTags %+v", r))
		}
		// Nothing was created by the failed updates.
		_, err := st.Filter(ctx, scopeA, det, "missing")
		wantKind(t, err, guardpost.ENOTFOUND, "Filter after failed UpdateTags")
	})
	t.Run("ScopeIsolation", func(t *testing.T) {
		st, ctx := setup(t)
		// The EU scope has a detector and filter with the same id and name.
		must(t, st.InsertDetector(ctx, newDetector(scopeEU, det)), "InsertDetector EU")
		must(t, insertFilter(ctx, st, newFilter(scopeEU, det, "one")), "InsertFilter EU")
		never := func(map[string]string) (map[string]string, error) {
			t.Error("update called for another scope's resource")
			return nil, nil
		}
		for _, r := range []guardpost.Resource{detector, filter} {
			wantKind(t, st.UpdateTags(ctx, scopeOther, r, never), guardpost.ENOTFOUND, fmt.Sprintf("UpdateTags %+v from another account", r))
			var seen map[string]string
			calls := 0
			must(t, st.UpdateTags(ctx, scopeEU, r, setTags(&seen, &calls, map[string]string{"eu": "yes"})), "UpdateTags EU")
		}
		d, err := st.Detector(ctx, scopeA, det)
		must(t, err, "Detector")
		sameDetector(t, d, newDetector(scopeA, det), "scope A detector after other scopes' UpdateTags")
		f, err := st.Filter(ctx, scopeA, det, "one")
		must(t, err, "Filter")
		sameTags(t, f.Tags, newFilter(scopeA, det, "one").Tags, "scope A filter tags")
		d, err = st.Detector(ctx, scopeEU, det)
		must(t, err, "Detector EU")
		sameTags(t, d.Tags, map[string]string{"eu": "yes"}, "EU detector tags")
		f, err = st.Filter(ctx, scopeEU, det, "one")
		must(t, err, "Filter EU")
		sameTags(t, f.Tags, map[string]string{"eu": "yes"}, "EU filter tags")
	})
	t.Run("RollbackOnUpdateError", func(t *testing.T) {
		st, ctx := setup(t)
		boom := guardpost.Errorf(guardpost.EINVALID, "too many tags")
		for _, r := range []guardpost.Resource{detector, filter} {
			err := st.UpdateTags(ctx, scopeA, r, func(cur map[string]string) (map[string]string, error) {
				cur["changed"] = "in place" // even a mutated input must not be written
				return nil, boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("UpdateTags %+v with failing update: %v, want the update error", r, err)
			}
			wantKind(t, err, guardpost.EINVALID, "update error kind")
		}
		d, err := st.Detector(ctx, scopeA, det)
		must(t, err, "Detector")
		sameDetector(t, d, newDetector(scopeA, det), "detector after failed UpdateTags")
		f, err := st.Filter(ctx, scopeA, det, "one")
		must(t, err, "Filter")
		sameTags(t, f.Tags, newFilter(scopeA, det, "one").Tags, "filter tags after failed UpdateTags")
	})
	// Concurrent read-modify-writes of one resource must not lose each
	// other's changes: each adds its own key, and all must be there.
	t.Run("ConcurrentNoLostUpdate", func(t *testing.T) {
		st, ctx := setup(t)
		const n = 16
		for _, r := range []guardpost.Resource{detector, filter} {
			errs := together(n, func(i int) error {
				return st.UpdateTags(ctx, scopeA, r, func(cur map[string]string) (map[string]string, error) {
					out := maps.Clone(cur)
					if out == nil {
						out = map[string]string{}
					}
					out[fmt.Sprintf("k%02d", i)] = "v"
					return out, nil
				})
			})
			for i, err := range errs {
				must(t, err, fmt.Sprintf("UpdateTags %d", i))
			}
			var got map[string]string
			if r.FilterName == "" {
				d, err := st.Detector(ctx, scopeA, det)
				must(t, err, "Detector")
				got = d.Tags
			} else {
				f, err := st.Filter(ctx, scopeA, det, "one")
				must(t, err, "Filter")
				got = f.Tags
			}
			for i := range n {
				if _, ok := got[fmt.Sprintf("k%02d", i)]; !ok {
					t.Errorf("%+v: key k%02d lost; tags %v", r, i, got)
				}
			}
		}
	})
}
