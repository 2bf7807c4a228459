package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/guardpost/guardpost"
)

// outbox: every finding write records what it changed, in its own
// transaction, readable in order from any position.
func (s *suite) outbox(t *testing.T) {
	svc, det := s.service(t)
	st, ctx := svc.Store, context.Background()
	changes := func(after int64, limit int) []guardpost.FindingChange {
		t.Helper()
		cs, err := st.FindingChanges(ctx, after, limit)
		must(t, err, "FindingChanges")
		return cs
	}
	if cs := changes(0, 0); len(cs) != 0 {
		t.Fatalf("outbox of a new store: %v", cs)
	}
	write := func(fs ...*guardpost.Finding) guardpost.WriteReport {
		t.Helper()
		r, err := svc.WriteFindings(ctx, scopeA, det, fs)
		must(t, err, "WriteFindings")
		return r
	}
	r := write(newDoc(scopeA, det, "f1").keyed(t, "k1"), newDoc(scopeA, det, "f2").finding(t))
	if !slices.Equal(r.Created, []string{"f1", "f2"}) || len(r.Updated) != 0 {
		t.Fatalf("first write reported %+v", r)
	}
	r = write(newDoc(scopeA, det, "f1-again").keyed(t, "k1"), newDoc(scopeA, det, "f2").set("severity", 7).finding(t))
	if !slices.Equal(r.Updated, []string{"f1", "f2"}) || len(r.Created) != 0 {
		t.Fatalf("aggregation and replacement reported %+v", r)
	}
	must(t, svc.ArchiveFindings(ctx, scopeA, det, []string{"f1"}), "ArchiveFindings")
	must(t, svc.ArchiveFindings(ctx, scopeA, det, []string{"f1"}), "ArchiveFindings again (no change)")
	must(t, svc.UnarchiveFindings(ctx, scopeA, det, []string{"f1"}), "UnarchiveFindings")
	must(t, svc.UpdateFindingsFeedback(ctx, scopeA, det, []string{"f2"}, "NOT_USEFUL", ""), "UpdateFindingsFeedback")

	// An ARCHIVE filter archives a new finding as it is written: the
	// outbox says it was created (its document says archived).
	_, err := svc.CreateFilter(ctx, scopeA, det, guardpost.Filter{Name: "hide", Action: guardpost.FilterArchive,
		Criteria: guardpost.Criteria{"severity": {GreaterThanOrEqual: i64(8)}}})
	must(t, err, "CreateFilter")
	write(newDoc(scopeA, det, "f3").set("severity", 8.5).finding(t))
	if f := getOne(t, st, scopeA, det, "f3"); !f.Archived {
		t.Fatalf("f3 not archived by the filter: %s", f.Document)
	}

	// A write to a detector the caller does not have is the real service's
	// 400, and records nothing.
	_, err = svc.WriteFindings(ctx, scopeA, "d-missing", []*guardpost.Finding{newDoc(scopeA, "d-missing", "f9").finding(t)})
	if guardpost.ErrorKind(err) != guardpost.EINVALID || !strings.Contains(guardpost.ErrorMessage(err), "detectorId is not owned") {
		t.Fatalf("WriteFindings to a missing detector: %v", err)
	}

	// A write that fails records nothing.
	boom := errors.New("boom")
	_, err = st.MergeFindings(ctx, scopeA, det, []*guardpost.Finding{newDoc(scopeA, det, "f4").finding(t)},
		func([]*guardpost.Filter) guardpost.MergeFunc {
			return func(_, _ *guardpost.Finding) (*guardpost.Finding, error) { return nil, boom }
		})
	if !errors.Is(err, boom) {
		t.Fatalf("MergeFindings with failing merge: %v", err)
	}

	type entry struct{ id, change string }
	want := []entry{{"f1", "created"}, {"f2", "created"}, {"f1", "updated"}, {"f2", "updated"},
		{"f1", "archived"}, {"f1", "unarchived"}, {"f2", "updated"}, {"f3", "created"}}
	all := changes(0, 0)
	var got []entry
	for i, c := range all {
		got = append(got, entry{c.FindingID, c.Change})
		if c.AccountID != scopeA.AccountID || c.Region != scopeA.Region || c.DetectorID != det || c.At.IsZero() {
			t.Errorf("entry %d: %+v", i, c)
		}
		if i > 0 && c.Seq <= all[i-1].Seq {
			t.Errorf("entry %d: seq %d after %d", i, c.Seq, all[i-1].Seq)
		}
	}
	if len(got) != len(want) || !slices.Equal(got, want) {
		t.Fatalf("outbox:\n got %v\nwant %v", got, want)
	}
	// A consumer resumes after the last entry it handled, a page at a time.
	var resumed []guardpost.FindingChange
	for after := int64(0); ; {
		page := changes(after, 3)
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("page of %d with limit 3", len(page))
		}
		resumed = append(resumed, page...)
		after = page[len(page)-1].Seq
	}
	if len(resumed) != len(all) {
		t.Fatalf("paged consumer read %d entries, want %d", len(resumed), len(all))
	}
	for i := range all {
		if resumed[i] != all[i] {
			t.Fatalf("paged entry %d: %+v, want %+v", i, resumed[i], all[i])
		}
	}
}

// tokenKey: one key per database, the same on every call.
func (s *suite) tokenKey(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	k1, err := st.TokenKey(ctx)
	must(t, err, "TokenKey")
	k2, err := st.TokenKey(ctx)
	must(t, err, "TokenKey again")
	if len(k1) < 32 || !bytes.Equal(k1, k2) {
		t.Fatalf("token keys %x and %x: want one key of at least 32 bytes", k1, k2)
	}
}
