package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/guardpost/guardpost"
)

func newThreatList(scope guardpost.Scope, det string, kind guardpost.ThreatListKind, id string) *guardpost.ThreatList {
	return &guardpost.ThreatList{
		AccountID: scope.AccountID, Region: scope.Region, DetectorID: det, Kind: kind, ID: id,
		Name: "list " + id, Format: "TXT", Location: "https://example.com/" + id + ".txt", ExpectedBucketOwner: "123456789012",
		Status: guardpost.ListActivating, Generation: 1, Tags: map[string]string{"team": "sec"},
		ClientToken: "token-" + id, CreatedAt: t0, UpdatedAt: t0,
	}
}

// insertList creates l through CreateThreatList.
func insertList(ctx context.Context, st guardpost.Store, l *guardpost.ThreatList) error {
	return st.CreateThreatList(ctx, guardpost.Scope{AccountID: l.AccountID, Region: l.Region}, l.DetectorID, l.Kind,
		func([]*guardpost.ThreatList) (*guardpost.ThreatList, error) { return l, nil })
}

// threatLists checks ThreatListStore: round trips, scope isolation, the
// deleted lists left out of listings, FinishThreatList's generation check,
// entries, tags and the cascade with the detector.
func (s *suite) threatLists(t *testing.T) {
	const det = "d0000000000000000000000000000001"
	setup := func(t *testing.T) (guardpost.Store, context.Context) {
		st, ctx := s.store(t), context.Background()
		must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector")
		return st, ctx
	}
	t.Run("InsertAndGet", func(t *testing.T) {
		st, ctx := setup(t)
		for _, kind := range guardpost.ThreatListKinds {
			l := newThreatList(scopeA, det, kind, "l-"+string(kind))
			must(t, insertList(ctx, st, l), "CreateThreatList")
			got, err := st.ThreatList(ctx, scopeA, det, kind, l.ID)
			must(t, err, "ThreatList")
			if got.CreatedAt.Location().String() != "UTC" {
				t.Errorf("CreatedAt %v", got.CreatedAt)
			}
			if !reflect.DeepEqual(got, l) {
				t.Fatalf("ThreatList = %+v, want %+v", got, l)
			}
			// The kind is part of the key.
			other := guardpost.KindIPSet
			if kind == other {
				other = guardpost.KindThreatIntelSet
			}
			_, err = st.ThreatList(ctx, scopeA, det, other, l.ID)
			wantKind(t, err, guardpost.ENOTFOUND, "ThreatList of another kind")
		}
	})
	t.Run("NotFoundAndIsolation", func(t *testing.T) {
		st, ctx := setup(t)
		must(t, insertList(ctx, st, newThreatList(scopeA, det, guardpost.KindIPSet, "x")), "CreateThreatList")
		for _, scope := range []guardpost.Scope{scopeOther, scopeEU} {
			_, err := st.ThreatList(ctx, scope, det, guardpost.KindIPSet, "x")
			wantKind(t, err, guardpost.ENOTFOUND, "ThreatList of another scope")
			ls, err := st.ThreatLists(ctx, scope, det, guardpost.KindIPSet, "", 0)
			must(t, err, "ThreatLists")
			if len(ls) != 0 {
				t.Fatalf("another scope lists %d lists", len(ls))
			}
			wantKind(t, st.UpdateThreatList(ctx, scope, det, guardpost.KindIPSet, "x", func(*guardpost.ThreatList) error { return nil }),
				guardpost.ENOTFOUND, "UpdateThreatList of another scope")
			wantKind(t, st.UpdateTags(ctx, scope, guardpost.Resource{DetectorID: det, ListKind: guardpost.KindIPSet, ListID: "x"},
				func(m map[string]string) (map[string]string, error) { return m, nil }), guardpost.ENOTFOUND, "UpdateTags of another scope")
		}
		wantKind(t, insertList(ctx, st, newThreatList(scopeA, "nodetector", guardpost.KindIPSet, "y")), guardpost.ENOTFOUND, "CreateThreatList without detector")
	})
	t.Run("ListSkipsDeletedAndPages", func(t *testing.T) {
		st, ctx := setup(t)
		for _, id := range []string{"a", "b", "c", "d"} {
			l := newThreatList(scopeA, det, guardpost.KindThreatIntelSet, id)
			if id == "b" {
				l.Status = guardpost.ListDeleted
			}
			must(t, insertList(ctx, st, l), "CreateThreatList")
		}
		ls, err := st.ThreatLists(ctx, scopeA, det, guardpost.KindThreatIntelSet, "a", 1)
		must(t, err, "ThreatLists")
		if len(ls) != 1 || ls[0].ID != "c" {
			t.Fatalf("page after a: %v", ls)
		}
		ls, err = st.ThreatLists(ctx, scopeA, det, guardpost.KindThreatIntelSet, "", 0)
		must(t, err, "ThreatLists")
		var ids []string
		for _, l := range ls {
			ids = append(ids, l.ID)
		}
		if !slices.Equal(ids, []string{"a", "c", "d"}) {
			t.Fatalf("ThreatLists = %v", ids)
		}
		// CreateThreatList's decide sees the deleted ones too.
		must(t, st.CreateThreatList(ctx, scopeA, det, guardpost.KindThreatIntelSet, func(existing []*guardpost.ThreatList) (*guardpost.ThreatList, error) {
			if len(existing) != 4 {
				t.Errorf("decide saw %d lists, want 4", len(existing))
			}
			return nil, nil
		}), "CreateThreatList deciding nothing")
	})
	t.Run("UpdateFinishEntries", func(t *testing.T) {
		st, ctx := setup(t)
		l := newThreatList(scopeA, det, guardpost.KindThreatEntitySet, "e")
		must(t, insertList(ctx, st, l), "CreateThreatList")
		must(t, st.UpdateThreatList(ctx, scopeA, det, l.Kind, l.ID, func(u *guardpost.ThreatList) error {
			u.Name, u.Generation, u.Status = "renamed", 2, guardpost.ListActivating
			u.Tags = map[string]string{"ignored": "yes"} // tags change only through UpdateTags
			return nil
		}), "UpdateThreatList")
		stale := *l
		stale.Status = guardpost.ListActive
		ok, err := st.FinishThreatList(ctx, &stale, []string{"198.51.100.1/32"})
		must(t, err, "FinishThreatList")
		if ok {
			t.Fatal("FinishThreatList of an older generation wrote")
		}
		cur := stale
		cur.Generation = 2
		ok, err = st.FinishThreatList(ctx, &cur, []string{"198.51.100.1/32", "evil.example"})
		must(t, err, "FinishThreatList")
		if !ok {
			t.Fatal("FinishThreatList of the current generation did not write")
		}
		got, err := st.ThreatList(ctx, scopeA, det, l.Kind, l.ID)
		must(t, err, "ThreatList")
		if got.Name != "renamed" || got.Status != guardpost.ListActive || got.Entries != 2 || got.Tags["team"] != "sec" || got.Tags["ignored"] != "" {
			t.Fatalf("after update and finish: %+v", got)
		}
		entries, err := st.ThreatListEntries(ctx, got)
		must(t, err, "ThreatListEntries")
		if !slices.Equal(entries, []string{"198.51.100.1/32", "evil.example"}) {
			t.Fatalf("entries %q", entries)
		}
		unsettled, err := st.UnsettledThreatLists(ctx)
		must(t, err, "UnsettledThreatLists")
		if len(unsettled) != 1 || unsettled[0].ID != "e" {
			t.Fatalf("unsettled %v", unsettled)
		}
		cur.Status, cur.Generation = guardpost.ListInactive, 2
		if ok, err := st.FinishThreatList(ctx, &cur, nil); err != nil || !ok {
			t.Fatalf("finish as INACTIVE: %v %v", ok, err)
		}
		if entries, err := st.ThreatListEntries(ctx, &cur); err != nil || len(entries) != 0 {
			t.Fatalf("entries after INACTIVE: %q %v", entries, err)
		}
		if unsettled, _ := st.UnsettledThreatLists(ctx); len(unsettled) != 0 {
			t.Fatalf("an INACTIVE list is unsettled: %v", unsettled)
		}
	})
	t.Run("TagsAndCascade", func(t *testing.T) {
		st, ctx := setup(t)
		l := newThreatList(scopeA, det, guardpost.KindIPSet, "t")
		must(t, insertList(ctx, st, l), "CreateThreatList")
		r := guardpost.Resource{DetectorID: det, ListKind: l.Kind, ListID: l.ID}
		must(t, st.UpdateTags(ctx, scopeA, r, func(m map[string]string) (map[string]string, error) {
			m["env"] = "prod"
			return m, nil
		}), "UpdateTags")
		got, err := st.ThreatList(ctx, scopeA, det, l.Kind, l.ID)
		must(t, err, "ThreatList")
		if !reflect.DeepEqual(got.Tags, map[string]string{"team": "sec", "env": "prod"}) {
			t.Fatalf("tags %v", got.Tags)
		}
		must(t, st.UpdateThreatList(ctx, scopeA, det, l.Kind, l.ID, func(u *guardpost.ThreatList) error {
			u.Status = guardpost.ListDeleted
			return nil
		}), "UpdateThreatList")
		wantKind(t, st.UpdateTags(ctx, scopeA, r, func(m map[string]string) (map[string]string, error) { return m, nil }),
			guardpost.ENOTFOUND, "UpdateTags of a deleted list")
		must(t, st.DeleteDetector(ctx, scopeA, det), "DeleteDetector")
		_, err = st.ThreatList(ctx, scopeA, det, l.Kind, l.ID)
		wantKind(t, err, guardpost.ENOTFOUND, "ThreatList after its detector's deletion")
	})
}

// raceThreatListsAtLimit: concurrent CreateThreatIntelSet calls beyond the
// limit of six make exactly six lists.
func (s *suite) raceThreatListsAtLimit(t *testing.T) {
	svc, det := s.service(t)
	ctx := context.Background()
	var mu sync.Mutex
	created := 0
	for _, err := range together(racers, func(i int) error {
		_, err := svc.CreateThreatList(ctx, scopeA, det, guardpost.ThreatList{Kind: guardpost.KindThreatIntelSet,
			Name: fmt.Sprintf("racer%d", i), Format: "TXT", Location: "https://example.com/l.txt"}, false)
		if err == nil {
			mu.Lock()
			created++
			mu.Unlock()
		}
		return err
	}) {
		if err != nil && guardpost.ErrorKind(err) != guardpost.EINVALID {
			t.Errorf("CreateThreatList at the limit: %v, want success or EINVALID", err)
		}
	}
	all, err := svc.Store.ThreatLists(ctx, scopeA, det, guardpost.KindThreatIntelSet, "", 0)
	must(t, err, "ThreatLists")
	if len(all) != 6 || created != 6 {
		t.Fatalf("%d lists (%d created by %d racers), want 6", len(all), created, racers)
	}
}
