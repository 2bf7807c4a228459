// Package storetest is the conformance suite of guardpost.Store: every
// store (SQLite, PostgreSQL, ...) runs Run from its own tests and must pass
// all of it.
//
// Beyond the interface comments in package guardpost, the suite pins down
// these behaviours, which the service relies on:
//
//   - Times round-trip to the millisecond and come back in UTC. The suite
//     only writes millisecond-precision times.
//   - Detectors with a limit of 0 returns every detector after `after`.
//   - MergeFindings fails with ENOTFOUND, writing nothing, when its
//     detector does not exist in its scope.
//   - A finding with an empty AggregationKey never aggregates: it is merged
//     with nothing and nothing is merged with it.
//   - Findings earlier in a MergeFindings batch are visible to later ones.
//   - When merge returns a finding with another id, the stored finding is
//     replaced by it (the old id is gone).
//   - An error from merge is returned (errors.Is finds it) and nothing of
//     the batch is written.
//   - UpdateFindings calls update once per stored finding it names, skips
//     unknown ids, and on an error from update returns it (errors.Is finds
//     it) and writes nothing.
//   - ListFindings with a Limit of 0 returns everything, and resumes after
//     q.After even when the finding it names no longer exists.
//   - A finding's Evidence is appended to the finding written, by its
//     final id, as guardpost.PlanEvidence says, in the same transaction
//     (rolled back with it); concurrent occurrences all count.
//   - MergeDetections writes state with or without findings; a nil blob
//     deletes its name, an empty one is kept as empty.
package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called; Run closes it (and checks Close's error) when the
// subtest ends, before any cleanup open registered on t.
func Run(t *testing.T, open func(t *testing.T) guardpost.Store) {
	s := &suite{open: open}
	t.Run("Detector", func(t *testing.T) {
		t.Run("InsertAndGet", s.detectorInsertAndGet)
		t.Run("OnePerScope", s.detectorOnePerScope)
		t.Run("ConcurrentInsert", s.detectorConcurrentInsert)
		t.Run("NotFound", s.detectorNotFound)
		t.Run("FindingsMark", s.detectorFindingsMark)
		t.Run("ScopeIsolation", s.detectorScopeIsolation)
		t.Run("List", s.detectorList)
		t.Run("Update", s.detectorUpdate)
		t.Run("Delete", s.detectorDelete)
		t.Run("DeleteCascadesFindings", s.detectorDeleteCascades)
	})
	t.Run("MergeFindings", func(t *testing.T) {
		t.Run("Insert", s.mergeInsert)
		t.Run("ByAggregationKey", s.mergeByAggregationKey)
		t.Run("AggregationKeyScope", s.mergeAggregationKeyScope)
		t.Run("MergeResultNewID", s.mergeResultNewID)
		t.Run("WithinBatch", s.mergeWithinBatch)
		t.Run("ReplaceByID", s.mergeReplaceByID)
		t.Run("RollbackOnMergeError", s.mergeRollback)
		t.Run("UnknownDetector", s.mergeUnknownDetector)
		t.Run("Empty", s.mergeEmpty)
	})
	t.Run("Findings", func(t *testing.T) {
		t.Run("UnknownAndDuplicateIDs", s.findingsUnknownAndDuplicate)
		t.Run("ScopeIsolation", s.findingsScopeIsolation)
		t.Run("SortKeys", s.findingsSortKeys)
	})
	t.Run("UpdateFindings", func(t *testing.T) {
		t.Run("Updates", s.updateFindings)
		t.Run("UnknownIDs", s.updateUnknownIDs)
		t.Run("RollbackOnUpdateError", s.updateRollback)
		t.Run("ScopeIsolation", s.updateScopeIsolation)
	})
	t.Run("ListFindings", func(t *testing.T) {
		t.Run("ByID", s.listByID)
		t.Run("NumberAttribute", func(t *testing.T) { s.listOrder(t, attrRemotePort) })
		t.Run("StringAttribute", func(t *testing.T) { s.listOrder(t, attrCountry) })
		t.Run("TimeAttribute", func(t *testing.T) { s.listOrder(t, attrUpdatedAt) })
		t.Run("KeysetPagination", s.listPagination)
		t.Run("AfterMissingFinding", s.listAfterMissing)
		t.Run("ScopeIsolation", s.listScopeIsolation)
		t.Run("Criteria", s.listCriteria)
		t.Run("CriteriaMatch", s.listCriteriaMatch)
	})
	t.Run("DetectionState", s.detectionState)
	t.Run("Evidence", s.evidence)
	t.Run("FindingStatistics", s.statistics)
	t.Run("Filters", s.filters)
	t.Run("ThreatLists", s.threatLists)
	t.Run("Tags", s.tags)
	t.Run("Concurrency", s.concurrency)
	t.Run("Races", s.races)
	t.Run("Outbox", s.outbox)
	t.Run("Visibility", s.visibility)
	t.Run("Members", s.members)
	t.Run("Organizations", s.organizations)
	t.Run("Usage", s.usage)
	t.Run("Coverage", s.coverage)
	t.Run("TokenKey", s.tokenKey)
}

type suite struct {
	open func(t *testing.T) guardpost.Store
}

// store opens a fresh store that is closed when t ends.
func (s *suite) store(t *testing.T) guardpost.Store {
	t.Helper()
	st := s.open(t)
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

var (
	scopeA     = guardpost.Scope{AccountID: "111111111111", Region: "us-east-1"}
	scopeOther = guardpost.Scope{AccountID: "222222222222", Region: "us-east-1"} // another account
	scopeEU    = guardpost.Scope{AccountID: "111111111111", Region: "eu-west-1"} // another region
	// t0 has millisecond precision, as every time the suite writes.
	t0 = time.Date(2024, 5, 1, 12, 30, 45, 123_000_000, time.UTC)
)

const (
	attrRemotePort = "service.action.networkConnectionAction.remotePortDetails.port"
	attrCountry    = "service.action.networkConnectionAction.remoteIpDetails.country.countryName"
	attrUpdatedAt  = "updatedAt"
	typeProbe      = "Recon:EC2/PortProbeUnprotectedPort"
	typeBitcoin    = "CryptoCurrency:EC2/BitcoinTool.B!DNS"
)

func wantKind(t *testing.T, err error, kind, what string) {
	t.Helper()
	if got := guardpost.ErrorKind(err); got != kind {
		t.Fatalf("%s: error kind %q (%v), want %q", what, got, err, kind)
	}
	if kind != "" {
		var e *guardpost.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v is not a *guardpost.Error", what, err)
		}
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ---- detectors ----

func newDetector(scope guardpost.Scope, id string) *guardpost.Detector {
	return &guardpost.Detector{
		ID: id, AccountID: scope.AccountID, Region: scope.Region,
		ClientToken:                "token-" + id,
		Status:                     guardpost.DetectorEnabled,
		FindingPublishingFrequency: "SIX_HOURS",
		Features: []guardpost.DetectorFeature{
			{Name: "CLOUD_TRAIL", Status: "ENABLED", UpdatedAt: t0},
			{Name: "S3_DATA_EVENTS", Status: "DISABLED", UpdatedAt: t0.Add(time.Millisecond)},
			{Name: "RUNTIME_MONITORING", Status: "ENABLED", UpdatedAt: t0.Add(2 * time.Hour), AdditionalConfiguration: []guardpost.FeatureConfiguration{
				{Name: "EKS_ADDON_MANAGEMENT", Status: "ENABLED", UpdatedAt: t0.Add(3 * time.Second)},
				{Name: "EC2_AGENT_MANAGEMENT", Status: "DISABLED", UpdatedAt: t0.Add(-time.Minute)},
			}},
		},
		Tags:      map[string]string{"team": "sec", "env": "prod", "empty": ""},
		CreatedAt: t0,
		UpdatedAt: t0.Add(1500 * time.Millisecond),
	}
}

// detectorView is a Detector in comparable form: times as RFC 3339 text
// (so that a non-UTC location shows) and empty slices and maps as nil.
type detectorView struct {
	ID, AccountID, Region, ClientToken, Status, Frequency string
	Features                                              []featureView
	Tags                                                  map[string]string
	CreatedAt, UpdatedAt                                  string
}

type featureView struct {
	Name, Status, UpdatedAt string
	Additional              []string
}

func timeView(t time.Time) string { return t.Format(time.RFC3339Nano) + " " + t.Location().String() }

func viewDetector(d *guardpost.Detector) detectorView {
	v := detectorView{
		ID: d.ID, AccountID: d.AccountID, Region: d.Region, ClientToken: d.ClientToken,
		Status: d.Status, Frequency: d.FindingPublishingFrequency,
		CreatedAt: timeView(d.CreatedAt), UpdatedAt: timeView(d.UpdatedAt),
	}
	if len(d.Tags) > 0 {
		v.Tags = d.Tags
	}
	for _, f := range d.Features {
		fv := featureView{Name: f.Name, Status: f.Status, UpdatedAt: timeView(f.UpdatedAt)}
		for _, a := range f.AdditionalConfiguration {
			fv.Additional = append(fv.Additional, a.Name+"|"+a.Status+"|"+timeView(a.UpdatedAt))
		}
		v.Features = append(v.Features, fv)
	}
	return v
}

func sameDetector(t *testing.T, got, want *guardpost.Detector, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil detector", what)
	}
	g, w := viewDetector(got), viewDetector(want)
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(g, "", "  ")
		wj, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("%s: detector differs\ngot:  %s\nwant: %s", what, gj, wj)
	}
}

func (s *suite) detectorInsertAndGet(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d0000000000000000000000000000001")
	must(t, st.InsertDetector(ctx, d), "InsertDetector")
	got, err := st.Detector(ctx, scopeA, d.ID)
	must(t, err, "Detector")
	sameDetector(t, got, d, "after insert")
	if got == d {
		t.Fatal("Detector returned the inserted pointer itself")
	}

	// A bare detector: no features, no tags, no token, zero-length values.
	bare := &guardpost.Detector{ID: "d0000000000000000000000000000002", AccountID: scopeEU.AccountID, Region: scopeEU.Region,
		Status: guardpost.DetectorDisabled, FindingPublishingFrequency: "FIFTEEN_MINUTES", CreatedAt: t0, UpdatedAt: t0}
	must(t, st.InsertDetector(ctx, bare), "InsertDetector bare")
	got, err = st.Detector(ctx, scopeEU, bare.ID)
	must(t, err, "Detector bare")
	sameDetector(t, got, bare, "bare detector")
}

func (s *suite) detectorOnePerScope(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d0000000000000000000000000000001")
	must(t, st.InsertDetector(ctx, d), "InsertDetector")
	second := newDetector(scopeA, "d0000000000000000000000000000002")
	second.ClientToken = "other"
	wantKind(t, st.InsertDetector(ctx, second), guardpost.ECONFLICT, "second detector in the scope")
	wantKind(t, st.InsertDetector(ctx, newDetector(scopeA, d.ID)), guardpost.ECONFLICT, "same detector again")
	got, err := st.Detector(ctx, scopeA, d.ID)
	must(t, err, "Detector")
	sameDetector(t, got, d, "first detector after conflicts")
	_, err = st.Detector(ctx, scopeA, second.ID)
	wantKind(t, err, guardpost.ENOTFOUND, "rejected detector")

	// Other scopes each hold their own.
	must(t, st.InsertDetector(ctx, newDetector(scopeOther, "d0000000000000000000000000000003")), "InsertDetector other account")
	must(t, st.InsertDetector(ctx, newDetector(scopeEU, "d0000000000000000000000000000004")), "InsertDetector other region")
}

// together runs f(0) … f(n-1) on n goroutines released at once, so that
// they race for the store, and returns their errors by index.
func together(n int, f func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func (s *suite) detectorConcurrentInsert(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	errs := together(16, func(i int) error {
		return st.InsertDetector(ctx, newDetector(scopeA, fmt.Sprintf("d%031d", i)))
	})
	ok := 0
	for i, err := range errs {
		switch guardpost.ErrorKind(err) {
		case "":
			ok++
		case guardpost.ECONFLICT:
		default:
			t.Errorf("insert %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent inserts into one scope succeeded, want 1", ok)
	}
	ds, err := st.Detectors(ctx, scopeA, "", 100)
	must(t, err, "Detectors")
	if len(ds) != 1 {
		t.Fatalf("scope holds %d detectors, want 1", len(ds))
	}
}

func (s *suite) detectorNotFound(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d0000000000000000000000000000001")
	_, err := st.Detector(ctx, scopeA, d.ID)
	wantKind(t, err, guardpost.ENOTFOUND, "Detector of empty store")
	wantKind(t, replaceDetector(ctx, st, d), guardpost.ENOTFOUND, "UpdateDetector of missing detector")
	wantKind(t, st.DeleteDetector(ctx, scopeA, d.ID), guardpost.ENOTFOUND, "DeleteDetector of missing detector")
	ds, err := st.Detectors(ctx, scopeA, "", 10)
	must(t, err, "Detectors")
	if len(ds) != 0 {
		t.Fatalf("Detectors of empty store: %d", len(ds))
	}
	// UpdateDetector must not have created it.
	_, err = st.Detector(ctx, scopeA, d.ID)
	wantKind(t, err, guardpost.ENOTFOUND, "Detector after failed update")
}

// detectorFindingsMark checks FindingsMark through the detector's life
// (absent, inserted, seen from another scope, deleted) and that its
// version moves with every finding write.
func (s *suite) detectorFindingsMark(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d0000000000000000000000000000001")
	mark := func(sc guardpost.Scope, id string, want bool, when string) guardpost.FindingsMark {
		t.Helper()
		m, err := st.FindingsMark(ctx, sc, id)
		must(t, err, "FindingsMark "+when)
		if m.Exists != want {
			t.Fatalf("FindingsMark(%v, %s) %s: Exists = %t, want %t", sc, id, when, m.Exists, want)
		}
		return m
	}
	mark(scopeA, d.ID, false, "in an empty store")
	must(t, st.InsertDetector(ctx, d), "InsertDetector")
	before := mark(scopeA, d.ID, true, "after insert")
	mark(scopeA, "d0000000000000000000000000000002", false, "of another id")
	mark(scopeOther, d.ID, false, "from another account")
	mark(scopeEU, d.ID, false, "from another region")

	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, d.ID, "f1").finding(t)}, nil), "MergeFindings")
	created := mark(scopeA, d.ID, true, "after a finding was created")
	if created.Version == before.Version {
		t.Fatalf("FindingsMark version %d unchanged by a finding write", created.Version)
	}
	var seen []string
	must(t, updateAll(ctx, st, scopeA, d.ID, []string{"f1"}, archive(t, &seen)), "UpdateFindings")
	if archived := mark(scopeA, d.ID, true, "after a finding was archived"); archived.Version == created.Version {
		t.Fatalf("FindingsMark version %d unchanged by a finding update", archived.Version)
	}
	must(t, st.DeleteDetector(ctx, scopeA, d.ID), "DeleteDetector")
	mark(scopeA, d.ID, false, "after delete")
}

func (s *suite) detectorScopeIsolation(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d0000000000000000000000000000001")
	must(t, st.InsertDetector(ctx, d), "InsertDetector")
	for _, sc := range []guardpost.Scope{scopeOther, scopeEU} {
		_, err := st.Detector(ctx, sc, d.ID)
		wantKind(t, err, guardpost.ENOTFOUND, "Detector from "+sc.AccountID+"/"+sc.Region)
		ds, err := st.Detectors(ctx, sc, "", 10)
		must(t, err, "Detectors")
		if len(ds) != 0 {
			t.Fatalf("Detectors from %v: %d detectors, want none", sc, len(ds))
		}
		moved := newDetector(sc, d.ID)
		moved.Status = guardpost.DetectorDisabled
		wantKind(t, replaceDetector(ctx, st, moved), guardpost.ENOTFOUND, "UpdateDetector from another scope")
		wantKind(t, st.DeleteDetector(ctx, sc, d.ID), guardpost.ENOTFOUND, "DeleteDetector from another scope")
	}
	got, err := st.Detector(ctx, scopeA, d.ID)
	must(t, err, "Detector")
	sameDetector(t, got, d, "after foreign update and delete")
}

func (s *suite) detectorList(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d5000000000000000000000000000000")
	must(t, st.InsertDetector(ctx, d), "InsertDetector")
	// Neighbours in other scopes whose ids sort before and after.
	must(t, st.InsertDetector(ctx, newDetector(scopeOther, "d1000000000000000000000000000000")), "InsertDetector")
	must(t, st.InsertDetector(ctx, newDetector(scopeEU, "d9000000000000000000000000000000")), "InsertDetector")

	ids := func(after string, limit int) []string {
		t.Helper()
		ds, err := st.Detectors(ctx, scopeA, after, limit)
		must(t, err, "Detectors")
		var out []string
		for _, x := range ds {
			out = append(out, x.ID)
		}
		return out
	}
	for _, c := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 10, []string{d.ID}},
		{"", 1, []string{d.ID}},
		{"", 0, []string{d.ID}},
		{"d4", 10, []string{d.ID}},
		{d.ID, 10, nil},
		{d.ID, 0, nil},
		{"d6", 10, nil},
	} {
		if got := ids(c.after, c.limit); !slices.Equal(got, c.want) {
			t.Errorf("Detectors(after %q, limit %d) = %v, want %v", c.after, c.limit, got, c.want)
		}
	}
	ds, err := st.Detectors(ctx, scopeA, "", 10)
	must(t, err, "Detectors")
	sameDetector(t, ds[0], d, "listed detector")
}

func (s *suite) detectorUpdate(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d0000000000000000000000000000001")
	must(t, st.InsertDetector(ctx, d), "InsertDetector")

	u := newDetector(scopeA, d.ID)
	u.Status = guardpost.DetectorDisabled
	u.FindingPublishingFrequency = "ONE_HOUR"
	u.Features[1].Status = "ENABLED"
	u.Features[1].UpdatedAt = t0.Add(time.Hour + 7*time.Millisecond)
	u.Features[2].AdditionalConfiguration = append(u.Features[2].AdditionalConfiguration,
		guardpost.FeatureConfiguration{Name: "ECS_FARGATE_AGENT_MANAGEMENT", Status: "ENABLED", UpdatedAt: t0.Add(time.Hour)})
	u.Features = append(u.Features, guardpost.DetectorFeature{Name: "LAMBDA_NETWORK_LOGS", Status: "ENABLED", UpdatedAt: t0.Add(time.Hour)})
	u.Tags = map[string]string{"team": "ops"}
	u.UpdatedAt = t0.Add(time.Hour)
	must(t, replaceDetector(ctx, st, u), "UpdateDetector")
	got, err := st.Detector(ctx, scopeA, d.ID)
	must(t, err, "Detector")
	// Tags are not UpdateDetector's: they change only through UpdateTags,
	// so that a settings update cannot undo a concurrent TagResource.
	want := *u
	want.Tags = d.Tags
	sameDetector(t, got, &want, "after update")

	// Clearing features.
	u.Tags, u.Features = nil, nil
	must(t, replaceDetector(ctx, st, u), "UpdateDetector clearing")
	got, err = st.Detector(ctx, scopeA, d.ID)
	must(t, err, "Detector")
	want = *u
	want.Tags = d.Tags
	sameDetector(t, got, &want, "after clearing update")
}

func (s *suite) detectorDelete(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d0000000000000000000000000000001")
	must(t, st.InsertDetector(ctx, d), "InsertDetector")
	other := newDetector(scopeEU, "d0000000000000000000000000000002")
	must(t, st.InsertDetector(ctx, other), "InsertDetector")
	must(t, st.DeleteDetector(ctx, scopeA, d.ID), "DeleteDetector")
	_, err := st.Detector(ctx, scopeA, d.ID)
	wantKind(t, err, guardpost.ENOTFOUND, "Detector after delete")
	wantKind(t, st.DeleteDetector(ctx, scopeA, d.ID), guardpost.ENOTFOUND, "second DeleteDetector")
	ds, err := st.Detectors(ctx, scopeA, "", 10)
	must(t, err, "Detectors")
	if len(ds) != 0 {
		t.Fatalf("Detectors after delete: %d", len(ds))
	}
	if _, err := st.Detector(ctx, scopeEU, other.ID); err != nil {
		t.Fatalf("other scope's detector after delete: %v", err)
	}
	// The scope's slot is free again.
	must(t, st.InsertDetector(ctx, newDetector(scopeA, "d0000000000000000000000000000003")), "InsertDetector after delete")
}

func (s *suite) detectorDeleteCascades(t *testing.T) {
	st, ctx := s.store(t), context.Background()
	d := newDetector(scopeA, "d0000000000000000000000000000001")
	must(t, st.InsertDetector(ctx, d), "InsertDetector")
	// Another scope's detector with the same id shape but its own findings.
	other := newDetector(scopeEU, "d0000000000000000000000000000002")
	must(t, st.InsertDetector(ctx, other), "InsertDetector")
	var mine, theirs []*guardpost.Finding
	for i := range 5 {
		mine = append(mine, newDoc(scopeA, d.ID, fmt.Sprintf("f%d", i)).finding(t))
		theirs = append(theirs, newDoc(scopeEU, other.ID, fmt.Sprintf("f%d", i)).finding(t))
	}
	must(t, mergeAll(ctx, st, append(slices.Clone(mine), theirs...), noMerge(t)), "MergeFindings")
	must(t, st.DeleteDetector(ctx, scopeA, d.ID), "DeleteDetector")

	got, err := st.Findings(ctx, visOf(scopeA, d.ID), idsOf(mine))
	must(t, err, "Findings")
	if len(got) != 0 {
		t.Fatalf("%d findings survive their detector", len(got))
	}
	// A new detector with the same id does not inherit them.
	must(t, st.InsertDetector(ctx, newDetector(scopeA, d.ID)), "InsertDetector again")
	curs, err := st.ListFindings(ctx, visOf(scopeA, d.ID), guardpost.FindingQuery{})
	must(t, err, "ListFindings")
	if len(curs) != 0 {
		t.Fatalf("recreated detector lists %d old findings", len(curs))
	}
	got, err = st.Findings(ctx, visOf(scopeEU, other.ID), idsOf(theirs))
	must(t, err, "Findings other scope")
	if len(got) != len(theirs) {
		t.Fatalf("other scope kept %d of %d findings", len(got), len(theirs))
	}
}

// ---- finding documents ----

// doc is a finding document under construction.
type doc map[string]any

// newDoc returns a minimal valid finding document.
func newDoc(scope guardpost.Scope, detectorID, id string) doc {
	return doc{
		"schemaVersion": "2.0",
		"accountId":     scope.AccountID,
		"region":        scope.Region,
		"partition":     "aws",
		"id":            id,
		"arn":           "arn:aws:guardduty:" + scope.Region + ":" + scope.AccountID + ":detector/" + detectorID + "/finding/" + id,
		"type":          typeProbe,
		"severity":      5,
		"title":         "Unprotected port on EC2 instance is being probed.",
		"createdAt":     guardpost.ISOTime(t0),
		"updatedAt":     guardpost.ISOTime(t0),
		"service":       map[string]any{"serviceName": "guardduty", "detectorId": detectorID, "count": 1, "archived": false},
	}
}

// set sets a dotted path, creating objects on the way.
func (d doc) set(path string, v any) doc {
	parts := strings.Split(path, ".")
	m := map[string]any(d)
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
	return d
}

// bytes renders the document indented, so that byte-exact storage shows.
func (d doc) bytes(t *testing.T) []byte {
	t.Helper()
	b, err := json.MarshalIndent(d, "", "\t")
	must(t, err, "marshal document")
	return append(b, '\n')
}

func (d doc) finding(t *testing.T) *guardpost.Finding {
	t.Helper()
	f, err := guardpost.ParseFinding(d.bytes(t))
	must(t, err, "ParseFinding")
	return f
}

func (d doc) keyed(t *testing.T, key string) *guardpost.Finding {
	f := d.finding(t)
	f.AggregationKey = key
	return f
}

func idsOf(fs []*guardpost.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	return ids
}

// noMerge is a merge function that must not be called.
func noMerge(t *testing.T) func(stored, incoming *guardpost.Finding) (*guardpost.Finding, error) {
	return func(stored, incoming *guardpost.Finding) (*guardpost.Finding, error) {
		t.Errorf("merge(%s, %s) called, want no aggregation", stored.ID, incoming.ID)
		return incoming, nil
	}
}

// sameFinding checks every field of a stored finding.
func sameFinding(t *testing.T, got, want *guardpost.Finding, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil finding", what)
	}
	type view struct {
		AccountID, Region, DetectorID, ID, Type string
		Severity                                float64
		Archived                                bool
		CreatedAt, UpdatedAt                    string
		AggregationKey                          string
		FeedbackComments                        string
		SortKeys                                []any
		Document                                string
	}
	v := func(f *guardpost.Finding) view {
		return view{f.AccountID, f.Region, f.DetectorID, f.ID, f.Type, f.Severity, f.Archived,
			timeView(f.CreatedAt), timeView(f.UpdatedAt), f.AggregationKey, f.FeedbackComments, f.SortKeys, string(f.Document)}
	}
	g, w := v(got), v(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: finding differs\ngot:  %#v\nwant: %#v", what, g, w)
	}
	if len(got.SortKeys) != len(guardpost.SortAttributes) {
		t.Fatalf("%s: %d sort keys, want %d", what, len(got.SortKeys), len(guardpost.SortAttributes))
	}
}

// getOne reads one finding, failing unless it exists.
func getOne(t *testing.T, st guardpost.Store, scope guardpost.Scope, detectorID, id string) *guardpost.Finding {
	t.Helper()
	fs, err := st.Findings(context.Background(), visOf(scope, detectorID), []string{id})
	must(t, err, "Findings")
	if len(fs) != 1 {
		t.Fatalf("Findings(%s): %d findings, want 1", id, len(fs))
	}
	return fs[0]
}

func wantAbsent(t *testing.T, st guardpost.Store, scope guardpost.Scope, detectorID string, ids ...string) {
	t.Helper()
	fs, err := st.Findings(context.Background(), visOf(scope, detectorID), ids)
	must(t, err, "Findings")
	if len(fs) != 0 {
		t.Fatalf("Findings(%v): %v, want none", ids, idsOf(fs))
	}
}

// listAll lists a detector's finding ids in id order.
func listAll(t *testing.T, st guardpost.Store, scope guardpost.Scope, detectorID string) []string {
	t.Helper()
	curs, err := st.ListFindings(context.Background(), visOf(scope, detectorID), guardpost.FindingQuery{})
	must(t, err, "ListFindings")
	var ids []string
	for _, c := range curs {
		ids = append(ids, c.ID)
	}
	return ids
}

// withDetector opens a store holding one detector in scopeA.
func (s *suite) withDetector(t *testing.T) (guardpost.Store, string) {
	t.Helper()
	st := s.store(t)
	id := "d0000000000000000000000000000001"
	must(t, st.InsertDetector(context.Background(), newDetector(scopeA, id)), "InsertDetector")
	return st, id
}

// ---- MergeFindings ----

func (s *suite) mergeInsert(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	rich := newDoc(scopeA, det, "f-rich").
		set("severity", 8.5).
		set("confidence", 7).
		set("updatedAt", guardpost.ISOTime(t0.Add(time.Hour+42*time.Millisecond))).
		set("service.archived", true).
		set("service.count", 3).
		set("service.eventFirstSeen", "2024-04-30T00:00:00.001Z").
		set("service.eventLastSeen", "2024-05-01T10:00:00Z").
		set("resource.instanceDetails.instanceId", "i-0123456789abcdef0").
		set("service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", "198.51.100.7").
		set(attrCountry, "Brazil").
		set("service.action.networkConnectionAction.localPortDetails.port", 22).
		set(attrRemotePort, 40123).
		set("service.action.networkConnectionAction.protocol", "TCP").
		set("service.action.networkConnectionAction.blocked", true).
		keyed(t, "agg-rich")
	plain := newDoc(scopeA, det, "f-plain").finding(t)
	unicode := newDoc(scopeA, det, "f-unicode").set("title", "Ünïcödé \u2028 \"quoted\" <tag>").set(attrCountry, "Côte d'Ivoire").finding(t)
	want := []*guardpost.Finding{rich, plain, unicode}
	must(t, mergeAll(ctx, st, want, noMerge(t)), "MergeFindings")

	got, err := st.Findings(ctx, visOf(scopeA, det), idsOf(want))
	must(t, err, "Findings")
	if len(got) != len(want) {
		t.Fatalf("Findings: %d findings, want %d", len(got), len(want))
	}
	byID := map[string]*guardpost.Finding{}
	for _, f := range got {
		byID[f.ID] = f
	}
	for _, w := range want {
		sameFinding(t, byID[w.ID], w, w.ID)
	}
	if !byID["f-rich"].Archived || byID["f-plain"].Archived {
		t.Fatal("archived flag not kept")
	}
}

// countMerge is a merge that keeps the stored identity, takes the incoming
// document and counts occurrences, recording its arguments.
type countMerge struct {
	t     *testing.T
	calls []struct{ stored, incoming *guardpost.Finding }
}

func (m *countMerge) merge(stored, incoming *guardpost.Finding) (*guardpost.Finding, error) {
	m.calls = append(m.calls, struct{ stored, incoming *guardpost.Finding }{stored, incoming})
	var old, d map[string]any
	if err := json.Unmarshal(stored.Document, &old); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(incoming.Document, &d); err != nil {
		return nil, err
	}
	d["id"], d["arn"], d["createdAt"] = old["id"], old["arn"], old["createdAt"]
	count, _ := old["service"].(map[string]any)["count"].(float64)
	d["service"].(map[string]any)["count"] = count + 1
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	f, err := guardpost.ParseFinding(b)
	if err != nil {
		return nil, err
	}
	f.AggregationKey = incoming.AggregationKey
	return f, nil
}

func (s *suite) mergeByAggregationKey(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	first := newDoc(scopeA, det, "f-first").set("severity", 2).keyed(t, "k1")
	must(t, mergeAll(ctx, st, []*guardpost.Finding{first}, noMerge(t)), "MergeFindings first")

	second := newDoc(scopeA, det, "f-second").
		set("severity", 8).
		set("createdAt", guardpost.ISOTime(t0.Add(time.Hour))).
		set("updatedAt", guardpost.ISOTime(t0.Add(time.Hour))).
		keyed(t, "k1")
	m := &countMerge{t: t}
	must(t, mergeAll(ctx, st, []*guardpost.Finding{second}, m.merge), "MergeFindings second")
	if len(m.calls) != 1 {
		t.Fatalf("merge called %d times, want 1", len(m.calls))
	}
	sameFinding(t, m.calls[0].stored, first, "merge's stored argument")
	sameFinding(t, m.calls[0].incoming, second, "merge's incoming argument")

	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f-first"}) {
		t.Fatalf("findings after merge: %v, want [f-first]", ids)
	}
	got := getOne(t, st, scopeA, det, "f-first")
	if got.Severity != 8 || !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0.Add(time.Hour)) || got.AggregationKey != "k1" {
		t.Fatalf("merged finding: severity %v created %v updated %v key %q", got.Severity, got.CreatedAt, got.UpdatedAt, got.AggregationKey)
	}
	if c := got.SortKeys[guardpost.SortAttributeIndex("service.count")]; c != 2.0 {
		t.Fatalf("merged count sort key %v, want 2", c)
	}
	wantAbsent(t, st, scopeA, det, "f-second")

	// A third occurrence merges with the merged finding.
	third := newDoc(scopeA, det, "f-third").set("severity", 3).keyed(t, "k1")
	must(t, mergeAll(ctx, st, []*guardpost.Finding{third}, m.merge), "MergeFindings third")
	if len(m.calls) != 2 {
		t.Fatalf("merge called %d times, want 2", len(m.calls))
	}
	sameFinding(t, m.calls[1].stored, got, "merge's stored argument, second time")
	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f-first"}) {
		t.Fatalf("findings after second merge: %v", ids)
	}
}

func (s *suite) mergeAggregationKeyScope(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	otherDet := "d0000000000000000000000000000009"
	must(t, st.InsertDetector(ctx, newDetector(scopeEU, otherDet)), "InsertDetector")
	must(t, mergeAll(ctx, st, []*guardpost.Finding{
		newDoc(scopeA, det, "f1").keyed(t, "k"),
		newDoc(scopeA, det, "f-nokey-1").finding(t),
	}, noMerge(t)), "MergeFindings")
	// Same key but another type, another key, another detector and scope,
	// and no key at all: none of these aggregates.
	must(t, mergeAll(ctx, st, []*guardpost.Finding{
		newDoc(scopeA, det, "f2").set("type", typeBitcoin).keyed(t, "k"),
		newDoc(scopeA, det, "f3").keyed(t, "K"),
		newDoc(scopeA, det, "f4").keyed(t, "k2"),
		newDoc(scopeEU, otherDet, "f5").keyed(t, "k"),
		newDoc(scopeA, det, "f-nokey-2").finding(t),
	}, noMerge(t)), "MergeFindings non-aggregating")
	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f-nokey-1", "f-nokey-2", "f1", "f2", "f3", "f4"}) {
		t.Fatalf("findings: %v", ids)
	}
	if ids := listAll(t, st, scopeEU, otherDet); !slices.Equal(ids, []string{"f5"}) {
		t.Fatalf("other scope's findings: %v", ids)
	}
}

func (s *suite) mergeResultNewID(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f-old").keyed(t, "k")}, noMerge(t)), "MergeFindings")
	var result *guardpost.Finding
	merge := func(stored, incoming *guardpost.Finding) (*guardpost.Finding, error) {
		result = newDoc(scopeA, det, "f-new").set("severity", 7).keyed(t, "k")
		return result, nil
	}
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f-incoming").keyed(t, "k")}, merge), "MergeFindings")
	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f-new"}) {
		t.Fatalf("findings: %v, want [f-new]", ids)
	}
	sameFinding(t, getOne(t, st, scopeA, det, "f-new"), result, "merge result")
}

func (s *suite) mergeWithinBatch(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	m := &countMerge{t: t}
	must(t, mergeAll(ctx, st, []*guardpost.Finding{
		newDoc(scopeA, det, "f-a").keyed(t, "k"),
		newDoc(scopeA, det, "f-b").set("severity", 9).keyed(t, "k"),
		newDoc(scopeA, det, "f-c").keyed(t, "other"),
	}, m.merge), "MergeFindings")
	if len(m.calls) != 1 || m.calls[0].stored.ID != "f-a" || m.calls[0].incoming.ID != "f-b" {
		t.Fatalf("merge calls: %d, want one of (f-a, f-b)", len(m.calls))
	}
	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f-a", "f-c"}) {
		t.Fatalf("findings: %v, want [f-a f-c]", ids)
	}
	if got := getOne(t, st, scopeA, det, "f-a"); got.Severity != 9 {
		t.Fatalf("merged severity %v, want 9", got.Severity)
	}
}

func (s *suite) mergeReplaceByID(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{
		newDoc(scopeA, det, "f1").set("severity", 2).set(attrCountry, "Chile").keyed(t, "k-old"),
		newDoc(scopeA, det, "f2").set("severity", 2).finding(t),
	}, noMerge(t)), "MergeFindings")
	r1 := newDoc(scopeA, det, "f1").set("severity", 8).set("service.archived", true).keyed(t, "k-new")
	r2 := newDoc(scopeA, det, "f2").set("severity", 4).set(attrCountry, "Peru").finding(t)
	must(t, mergeAll(ctx, st, []*guardpost.Finding{r1, r2}, noMerge(t)), "MergeFindings replacing")
	sameFinding(t, getOne(t, st, scopeA, det, "f1"), r1, "replaced f1")
	sameFinding(t, getOne(t, st, scopeA, det, "f2"), r2, "replaced f2")
	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f1", "f2"}) {
		t.Fatalf("findings: %v", ids)
	}
	// The old key no longer aggregates; the new one does.
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f3").keyed(t, "k-old")}, noMerge(t)), "MergeFindings old key")
	m := &countMerge{t: t}
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f4").keyed(t, "k-new")}, m.merge), "MergeFindings new key")
	if len(m.calls) != 1 || m.calls[0].stored.ID != "f1" {
		t.Fatalf("merge calls %d, want one with stored f1", len(m.calls))
	}
	// The sort index follows a replacement.
	i := guardpost.SortAttributeIndex(attrCountry)
	curs, err := st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{Sort: &guardpost.SortCriteria{Attribute: i}})
	must(t, err, "ListFindings")
	if len(curs) == 0 || curs[0].ID != "f2" || curs[0].SortKey != "Peru" {
		t.Fatalf("ListFindings by country after replacement: %v", curs)
	}
}

func (s *suite) mergeRollback(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	stored := newDoc(scopeA, det, "f-stored").keyed(t, "k")
	replaced := newDoc(scopeA, det, "f-replaced").set("severity", 1).finding(t)
	must(t, mergeAll(ctx, st, []*guardpost.Finding{stored, replaced}, noMerge(t)), "MergeFindings")

	boom := guardpost.Errorf(guardpost.EINVALID, "merge refused")
	calls := 0
	failing := func(s, in *guardpost.Finding) (*guardpost.Finding, error) {
		calls++
		return nil, boom
	}
	err := mergeAll(ctx, st, []*guardpost.Finding{
		newDoc(scopeA, det, "f-new-before").finding(t),
		newDoc(scopeA, det, "f-replaced").set("severity", 9).finding(t),
		newDoc(scopeA, det, "f-incoming").keyed(t, "k"),
		newDoc(scopeA, det, "f-new-after").finding(t),
	}, failing)
	if !errors.Is(err, boom) {
		t.Fatalf("MergeFindings with failing merge: %v, want the merge error", err)
	}
	wantKind(t, err, guardpost.EINVALID, "merge error kind")
	if calls != 1 {
		t.Fatalf("merge called %d times, want 1", calls)
	}
	wantAbsent(t, st, scopeA, det, "f-new-before", "f-incoming", "f-new-after")
	sameFinding(t, getOne(t, st, scopeA, det, "f-stored"), stored, "stored finding after rollback")
	sameFinding(t, getOne(t, st, scopeA, det, "f-replaced"), replaced, "replaced finding after rollback")
	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f-replaced", "f-stored"}) {
		t.Fatalf("findings after rollback: %v", ids)
	}
	// The store still takes writes.
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f-later").finding(t)}, noMerge(t)), "MergeFindings after rollback")
}

func (s *suite) mergeUnknownDetector(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	for _, c := range []struct {
		what  string
		scope guardpost.Scope
		det   string
	}{
		{"unknown detector", scopeA, "d-missing"},
		{"detector of another account", scopeOther, det},
		{"detector of another region", scopeEU, det},
	} {
		f := newDoc(c.scope, c.det, "f-x").finding(t)
		_, err := st.MergeFindings(ctx, c.scope, c.det, []*guardpost.Finding{f}, func([]*guardpost.Filter) guardpost.MergeFunc {
			return func(_, in *guardpost.Finding) (*guardpost.Finding, error) { return in, nil }
		})
		wantKind(t, err, guardpost.ENOTFOUND, "MergeFindings with "+c.what)
		wantAbsent(t, st, c.scope, c.det, "f-x")
	}
	changes, err := st.FindingChanges(ctx, 0, 0)
	must(t, err, "FindingChanges")
	if len(changes) != 0 {
		t.Errorf("outbox after refused writes: %v", changes)
	}
}

func (s *suite) mergeEmpty(t *testing.T) {
	st, _ := s.withDetector(t)
	must(t, mergeAll(context.Background(), st, nil, noMerge(t)), "MergeFindings(nil)")
}

// ---- Findings ----

func (s *suite) findingsUnknownAndDuplicate(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	fa, fb := newDoc(scopeA, det, "fa").finding(t), newDoc(scopeA, det, "fb").finding(t)
	must(t, mergeAll(ctx, st, []*guardpost.Finding{fa, fb, newDoc(scopeA, det, "fc").finding(t)}, noMerge(t)), "MergeFindings")
	got, err := st.Findings(ctx, visOf(scopeA, det), []string{"fb", "nope", "fa", "fb", "", "fa"})
	must(t, err, "Findings")
	slices.SortFunc(got, func(x, y *guardpost.Finding) int { return strings.Compare(x.ID, y.ID) })
	if len(got) != 2 {
		t.Fatalf("Findings: %v, want [fa fb]", idsOf(got))
	}
	sameFinding(t, got[0], fa, "fa")
	sameFinding(t, got[1], fb, "fb")
	for _, ids := range [][]string{nil, {}, {"nope"}} {
		got, err := st.Findings(ctx, visOf(scopeA, det), ids)
		must(t, err, "Findings")
		if len(got) != 0 {
			t.Fatalf("Findings(%q): %v", ids, idsOf(got))
		}
	}
	wantAbsent(t, st, scopeA, "d-other", "fa", "fb")

	// Many ids at once.
	var many []*guardpost.Finding
	var ids []string
	for i := range 1200 {
		id := fmt.Sprintf("m%05d", i)
		many = append(many, newDoc(scopeA, det, id).finding(t))
		ids = append(ids, id, id+"-unknown")
	}
	must(t, mergeAll(ctx, st, many, noMerge(t)), "MergeFindings many")
	got, err = st.Findings(ctx, visOf(scopeA, det), ids)
	must(t, err, "Findings many")
	if len(got) != len(many) {
		t.Fatalf("Findings of %d ids: %d findings, want %d", len(ids), len(got), len(many))
	}
}

func (s *suite) findingsScopeIsolation(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f1").finding(t)}, noMerge(t)), "MergeFindings")
	for _, sc := range []guardpost.Scope{scopeOther, scopeEU} {
		wantAbsent(t, st, sc, det, "f1")
	}
}

func (s *suite) findingsSortKeys(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	// Whole-number floats must come back as float64, strings that look like
	// numbers as strings, and every absent attribute as nil.
	f := newDoc(scopeA, det, "f1").
		set("severity", 5).
		set("confidence", 0).
		set("accountId", scopeA.AccountID).
		set("resource.instanceDetails.instanceId", "12345").
		set(attrCountry, "").
		set("service.action.networkConnectionAction.blocked", false).
		set("service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", "0.0.0.0").
		set(attrRemotePort, 1e15).
		finding(t)
	must(t, mergeAll(ctx, st, []*guardpost.Finding{f}, noMerge(t)), "MergeFindings")
	got := getOne(t, st, scopeA, det, "f1")
	for i, a := range guardpost.SortAttributes {
		g, w := got.SortKeys[i], f.SortKeys[i]
		if reflect.TypeOf(g) != reflect.TypeOf(w) || g != w {
			t.Errorf("sort key %s: %#v (%T), want %#v (%T)", a.Name, g, g, w, w)
		}
	}
	sameFinding(t, got, f, "f1")
}

// ---- ListFindings ----

// listFixture writes findings chosen to exercise ordering: ties, absent
// keys, keys that differ only in case or by a byte, and ids out of order.
// It returns them.
func listFixture(t *testing.T, st guardpost.Store, det string) []*guardpost.Finding {
	t.Helper()
	type spec struct {
		id      string
		port    any // number or nil
		country any // string or nil
		minutes int
	}
	specs := []spec{
		{"f07", 443.0, "Brazil", 5},
		{"f01", 22.0, "brazil", 1},
		{"f12", nil, nil, 3},
		{"f03", 443.0, "Brazil", 5},
		{"f10", 8080.0, "Chile", 2},
		{"f05", nil, "Argentina", 9},
		{"f02", 22.0, nil, 7},
		{"f11", 0.5, "Brazil ", 0},
		{"f04", -1.0, "Ägypten", 4},
		{"f09", 443.0, "Chile", 5},
		{"f08", nil, nil, 6},
		{"f06", 65535.0, "Brazil", 8},
		{"f13", 22.0, "Argentina", 1},
	}
	var fs []*guardpost.Finding
	for _, sp := range specs {
		d := newDoc(scopeA, det, sp.id).set("updatedAt", guardpost.ISOTime(t0.Add(time.Duration(sp.minutes)*time.Minute)))
		if sp.port != nil {
			d.set(attrRemotePort, sp.port)
		}
		if sp.country != nil {
			d.set(attrCountry, sp.country)
		}
		fs = append(fs, d.finding(t))
	}
	// Findings of another detector and scope that must never show.
	otherDet := "d0000000000000000000000000000009"
	must(t, st.InsertDetector(context.Background(), newDetector(scopeEU, otherDet)), "InsertDetector")
	must(t, mergeAll(context.Background(), st, fs, noMerge(t)), "MergeFindings")
	must(t, mergeAll(context.Background(), st, []*guardpost.Finding{
		newDoc(scopeEU, otherDet, "f00").set(attrRemotePort, 1).set(attrCountry, "Brazil").finding(t),
		newDoc(scopeEU, otherDet, "f99").finding(t),
	}, noMerge(t)), "MergeFindings other")
	return fs
}

// expected returns the cursors of fs in the documented order.
func expected(fs []*guardpost.Finding, sort *guardpost.SortCriteria) []guardpost.FindingCursor {
	var out []guardpost.FindingCursor
	for _, f := range fs {
		c := guardpost.FindingCursor{ID: f.ID}
		if sort != nil {
			c.SortKey = f.SortKeys[sort.Attribute]
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b guardpost.FindingCursor) int {
		if sort != nil {
			var c int
			if sort.Descending && a.SortKey != nil && b.SortKey != nil {
				c = guardpost.CompareSortKeys(b.SortKey, a.SortKey)
			} else {
				c = guardpost.CompareSortKeys(a.SortKey, b.SortKey)
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

func sameCursors(t *testing.T, got, want []guardpost.FindingCursor, what string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], want[i]
		ok = g.ID == w.ID && reflect.TypeOf(g.SortKey) == reflect.TypeOf(w.SortKey) && g.SortKey == w.SortKey
	}
	if !ok {
		t.Fatalf("%s:\ngot:  %v\nwant: %v", what, got, want)
	}
}

func attr(t *testing.T, name string) int {
	t.Helper()
	i := guardpost.SortAttributeIndex(name)
	if i < 0 {
		t.Fatalf("no sort attribute %s", name)
	}
	return i
}

func (s *suite) listByID(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	fs := listFixture(t, st, det)
	want := expected(fs, nil)
	got, err := st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{})
	must(t, err, "ListFindings")
	sameCursors(t, got, want, "by id")
	got, err = st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{Limit: 4})
	must(t, err, "ListFindings")
	sameCursors(t, got, want[:4], "by id, limit 4")
	got, err = st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{Limit: 4, After: &want[3]})
	must(t, err, "ListFindings")
	sameCursors(t, got, want[4:8], "by id, second page")
	got, err = st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{After: &want[len(want)-1]})
	must(t, err, "ListFindings")
	sameCursors(t, got, nil, "by id, after the last")
}

func (s *suite) listOrder(t *testing.T, name string) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	fs := listFixture(t, st, det)
	for _, desc := range []bool{false, true} {
		sort := &guardpost.SortCriteria{Attribute: attr(t, name), Descending: desc}
		want := expected(fs, sort)
		if want[len(want)-1].SortKey != nil && name != attrUpdatedAt {
			t.Fatal("fixture lacks absent keys")
		}
		got, err := st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{Sort: sort})
		must(t, err, "ListFindings")
		sameCursors(t, got, want, fmt.Sprintf("%s descending=%t", name, desc))
		got, err = st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{Sort: sort, Limit: 5})
		must(t, err, "ListFindings")
		sameCursors(t, got, want[:5], fmt.Sprintf("%s descending=%t limit 5", name, desc))
	}
}

func (s *suite) listPagination(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	fs := listFixture(t, st, det)
	sorts := []*guardpost.SortCriteria{nil}
	for _, name := range []string{attrRemotePort, attrCountry, attrUpdatedAt, "severity"} {
		for _, desc := range []bool{false, true} {
			sorts = append(sorts, &guardpost.SortCriteria{Attribute: attr(t, name), Descending: desc})
		}
	}
	for _, sort := range sorts {
		want := expected(fs, sort)
		for _, limit := range []int{1, 2, 3, 5, len(fs) - 1, len(fs), len(fs) + 1} {
			what := fmt.Sprintf("sort %+v limit %d", sort, limit)
			var got []guardpost.FindingCursor
			var after *guardpost.FindingCursor
			for page := 0; ; page++ {
				if page > len(fs)+1 {
					t.Fatalf("%s: pagination does not end", what)
				}
				curs, err := st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{Sort: sort, Limit: limit, After: after})
				must(t, err, "ListFindings")
				if len(curs) > limit {
					t.Fatalf("%s: page of %d", what, len(curs))
				}
				got = append(got, curs...)
				if len(curs) < limit {
					break
				}
				after = &curs[len(curs)-1]
			}
			sameCursors(t, got, want, what)
		}
	}
}

func (s *suite) listAfterMissing(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	fs := listFixture(t, st, det)
	port := attr(t, attrRemotePort)
	for _, desc := range []bool{false, true} {
		sort := &guardpost.SortCriteria{Attribute: port, Descending: desc}
		want := expected(fs, sort)
		for _, after := range []guardpost.FindingCursor{
			{SortKey: 443.0, ID: "f05"},  // inside the run of 443s
			{SortKey: 443.0, ID: "f00"},  // before the run
			{SortKey: 443.0, ID: "f99"},  // after the run
			{SortKey: 100.0, ID: "f00"},  // a key no finding has
			{SortKey: 1e9, ID: "f00"},    // the highest key
			{SortKey: nil, ID: "f085"},   // among the absent keys
			{SortKey: -1e9, ID: "zzzzz"}, // the lowest key
		} {
			var rest []guardpost.FindingCursor
			for _, w := range want {
				if afterCursor(w, after, desc) {
					rest = append(rest, w)
				}
			}
			got, err := st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{Sort: sort, After: &after})
			must(t, err, "ListFindings")
			sameCursors(t, got, rest, fmt.Sprintf("descending=%t after %v", desc, after))
		}
	}
}

// afterCursor reports whether c comes strictly after pos in the order.
func afterCursor(c, pos guardpost.FindingCursor, desc bool) bool {
	var k int
	if desc && c.SortKey != nil && pos.SortKey != nil {
		k = guardpost.CompareSortKeys(pos.SortKey, c.SortKey)
	} else {
		k = guardpost.CompareSortKeys(c.SortKey, pos.SortKey)
	}
	return k > 0 || k == 0 && c.ID > pos.ID
}

func (s *suite) listScopeIsolation(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	listFixture(t, st, det)
	for _, sc := range []guardpost.Scope{scopeOther, scopeEU} {
		for _, sort := range []*guardpost.SortCriteria{nil, {Attribute: attr(t, attrCountry)}} {
			curs, err := st.ListFindings(ctx, visOf(sc, det), guardpost.FindingQuery{Sort: sort})
			must(t, err, "ListFindings")
			if len(curs) != 0 {
				t.Fatalf("ListFindings from %v: %v", sc, curs)
			}
		}
	}
	curs, err := st.ListFindings(ctx, visOf(scopeA, "d-missing"), guardpost.FindingQuery{})
	must(t, err, "ListFindings")
	if len(curs) != 0 {
		t.Fatalf("ListFindings of unknown detector: %v", curs)
	}
}

// ---- concurrency ----

// concurrency runs writers and readers at once: none may fail (a store
// must queue, not refuse, concurrent requests) and every write must show.
func (s *suite) concurrency(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	const writers, readers, rounds = 4, 4, 25
	var wg sync.WaitGroup
	errc := make(chan error, writers+readers)
	for w := range writers {
		var batch []*guardpost.Finding
		for r := range rounds {
			// Rounds 10 apart share a key: later rounds merge.
			batch = append(batch, newDoc(scopeA, det, fmt.Sprintf("w%d-%03d", w, r)).set("severity", r%9).keyed(t, fmt.Sprintf("w%d-%03d", w, r%10)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, d := range batch {
				if err := mergeAll(ctx, st, []*guardpost.Finding{d}, func(stored, in *guardpost.Finding) (*guardpost.Finding, error) {
					return in, nil
				}); err != nil {
					errc <- fmt.Errorf("writer %d, %s: %w", w, d.ID, err)
					return
				}
			}
		}()
	}
	severity := attr(t, "severity")
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sort := &guardpost.SortCriteria{Attribute: severity, Descending: r%2 == 0}
			for range rounds {
				curs, err := st.ListFindings(ctx, visOf(scopeA, det), guardpost.FindingQuery{Sort: sort, Limit: 20})
				if err == nil {
					var ids []string
					for _, c := range curs {
						ids = append(ids, c.ID)
					}
					_, err = st.Findings(ctx, visOf(scopeA, det), ids)
				}
				if err == nil {
					_, err = st.Detector(ctx, scopeA, det)
				}
				if err != nil {
					errc <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	// Each writer's 25 rounds aggregate into 10 keys; the merge returns the
	// incoming finding, so the last round of each key wins.
	ids := listAll(t, st, scopeA, det)
	want := map[string]bool{}
	for w := range writers {
		for r := rounds - 10; r < rounds; r++ {
			want[fmt.Sprintf("w%d-%03d", w, r)] = true
		}
	}
	if !slices.Equal(ids, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("findings after concurrent writes: %v", ids)
	}
}

// ---- UpdateFindings ----

// archive returns an update function that marks findings archived and
// records the ids it was called with.
func archive(t *testing.T, seen *[]string) func(*guardpost.Finding) (*guardpost.Finding, error) {
	return func(f *guardpost.Finding) (*guardpost.Finding, error) {
		*seen = append(*seen, f.ID)
		var d doc
		must(t, json.Unmarshal(f.Document, &d), "unmarshal stored document")
		d.set("service.archived", true)
		out, err := guardpost.ParseFinding(d.bytes(t))
		if err != nil {
			return nil, err
		}
		out.AggregationKey = f.AggregationKey
		return out, nil
	}
}

func (s *suite) updateFindings(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	f1 := newDoc(scopeA, det, "f1").keyed(t, "k1")
	f2 := newDoc(scopeA, det, "f2").set("severity", 2).finding(t)
	f3 := newDoc(scopeA, det, "f3").finding(t)
	must(t, mergeAll(ctx, st, []*guardpost.Finding{f1, f2, f3}, noMerge(t)), "MergeFindings")
	var seen []string
	must(t, updateAll(ctx, st, scopeA, det, []string{"f1", "f2"}, archive(t, &seen)), "UpdateFindings")
	slices.Sort(seen)
	if !slices.Equal(seen, []string{"f1", "f2"}) {
		t.Fatalf("update called for %v, want [f1 f2]", seen)
	}
	want1 := newDoc(scopeA, det, "f1").set("service.archived", true).keyed(t, "k1")
	want2 := newDoc(scopeA, det, "f2").set("severity", 2).set("service.archived", true).finding(t)
	sameFinding(t, getOne(t, st, scopeA, det, "f1"), want1, "f1 after update")
	sameFinding(t, getOne(t, st, scopeA, det, "f2"), want2, "f2 after update")
	sameFinding(t, getOne(t, st, scopeA, det, "f3"), f3, "f3 untouched")
	// The aggregation key survives the update: a new occurrence merges.
	m := &countMerge{t: t}
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f1-next").keyed(t, "k1")}, m.merge), "MergeFindings after update")
	if len(m.calls) != 1 || m.calls[0].stored.ID != "f1" || !m.calls[0].stored.Archived {
		t.Fatalf("merge after update: %d calls, want 1 with archived f1 stored", len(m.calls))
	}
	if ids := listAll(t, st, scopeA, det); !slices.Equal(ids, []string{"f1", "f2", "f3"}) {
		t.Fatalf("findings after merge: %v, want [f1 f2 f3]", ids)
	}
	// Feedback comments live beside the document and are written with it.
	const comments = "benign: our scanner, ticket SEC-1234 — ✓"
	must(t, updateAll(ctx, st, scopeA, det, []string{"f2"}, func(f *guardpost.Finding) (*guardpost.Finding, error) {
		g := *f
		g.FeedbackComments = comments
		return &g, nil
	}), "UpdateFindings setting feedback comments")
	if got := getOne(t, st, scopeA, det, "f2").FeedbackComments; got != comments {
		t.Fatalf("feedback comments after update: %q, want %q", got, comments)
	}
	f4 := newDoc(scopeA, det, "f4").finding(t)
	f4.FeedbackComments = "written with the finding"
	must(t, mergeAll(ctx, st, []*guardpost.Finding{f4}, noMerge(t)), "MergeFindings with feedback comments")
	sameFinding(t, getOne(t, st, scopeA, det, "f4"), f4, "f4 with feedback comments")
	// No ids: nothing to do.
	must(t, updateAll(ctx, st, scopeA, det, nil, func(f *guardpost.Finding) (*guardpost.Finding, error) {
		t.Errorf("update(%s) called for no ids", f.ID)
		return f, nil
	}), "UpdateFindings with no ids")
}

func (s *suite) updateUnknownIDs(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	must(t, mergeAll(ctx, st, []*guardpost.Finding{newDoc(scopeA, det, "f1").finding(t)}, noMerge(t)), "MergeFindings")
	var seen []string
	must(t, updateAll(ctx, st, scopeA, det, []string{"nope", "f1", "f1", "also-nope"}, archive(t, &seen)), "UpdateFindings")
	if !slices.Equal(seen, []string{"f1"}) {
		t.Fatalf("update called for %v, want [f1]", seen)
	}
	if !getOne(t, st, scopeA, det, "f1").Archived {
		t.Fatal("f1 not archived")
	}
	wantAbsent(t, st, scopeA, det, "nope", "also-nope")
	// Unknown detector: nothing happens either.
	must(t, updateAll(ctx, st, scopeA, "d-unknown", []string{"f1"}, archive(t, &seen)), "UpdateFindings unknown detector")
	if len(seen) != 1 {
		t.Fatalf("update called for an unknown detector: %v", seen)
	}
}

func (s *suite) updateRollback(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	f1 := newDoc(scopeA, det, "f1").finding(t)
	f2 := newDoc(scopeA, det, "f2").finding(t)
	must(t, mergeAll(ctx, st, []*guardpost.Finding{f1, f2}, noMerge(t)), "MergeFindings")
	boom := guardpost.Errorf(guardpost.EINVALID, "update refused")
	var seen []string
	ok := archive(t, &seen)
	err := updateAll(ctx, st, scopeA, det, []string{"f1", "f2"}, func(f *guardpost.Finding) (*guardpost.Finding, error) {
		if len(seen) == 1 { // the first one was rewritten; refuse the second
			return nil, boom
		}
		return ok(f)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateFindings with failing update: %v, want the update error", err)
	}
	wantKind(t, err, guardpost.EINVALID, "update error kind")
	sameFinding(t, getOne(t, st, scopeA, det, "f1"), f1, "f1 after rollback")
	sameFinding(t, getOne(t, st, scopeA, det, "f2"), f2, "f2 after rollback")
	// The store still takes writes.
	seen = nil
	must(t, updateAll(ctx, st, scopeA, det, []string{"f2"}, archive(t, &seen)), "UpdateFindings after rollback")
	if !getOne(t, st, scopeA, det, "f2").Archived {
		t.Fatal("f2 not archived after rollback")
	}
}

func (s *suite) updateScopeIsolation(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	for _, sc := range []guardpost.Scope{scopeOther, scopeEU} {
		must(t, st.InsertDetector(ctx, newDetector(sc, det)), "InsertDetector")
	}
	mine := newDoc(scopeA, det, "f1").finding(t)
	theirs := []*guardpost.Finding{newDoc(scopeOther, det, "f1").finding(t), newDoc(scopeEU, det, "f1").finding(t)}
	must(t, mergeAll(ctx, st, append([]*guardpost.Finding{mine}, theirs...), noMerge(t)), "MergeFindings")
	var seen []string
	must(t, updateAll(ctx, st, scopeA, det, []string{"f1"}, archive(t, &seen)), "UpdateFindings")
	if len(seen) != 1 {
		t.Fatalf("update called %d times, want 1", len(seen))
	}
	if !getOne(t, st, scopeA, det, "f1").Archived {
		t.Fatal("own finding not archived")
	}
	sameFinding(t, getOne(t, st, scopeOther, det, "f1"), theirs[0], "other account's finding")
	sameFinding(t, getOne(t, st, scopeEU, det, "f1"), theirs[1], "other region's finding")
}
