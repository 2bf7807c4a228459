package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/guardpost/guardpost"
)

// The races below drive the store through guardpost.Service, as requests
// do: each is a read-modify-write that a store must run in one transaction
// (the FindingStore, DetectorStore and FilterStore comments), or concurrent
// requests undo each other's changes.

// racers is how many goroutines each race runs.
const racers = 8

// service returns a Service over a fresh store, with the caller's detector
// made by CreateDetector (so it has every feature).
func (s *suite) service(t *testing.T) (*guardpost.Service, string) {
	t.Helper()
	svc := &guardpost.Service{Store: s.store(t)}
	det, err := svc.CreateDetector(context.Background(), scopeA, "", guardpost.DetectorSettings{}, nil)
	must(t, err, "CreateDetector")
	return svc, det
}

// race runs f(i) in racers goroutines released together and reports every error.
func race(t *testing.T, f func(i int) error) {
	t.Helper()
	for i, err := range together(racers, f) {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
}

func (s *suite) races(t *testing.T) {
	t.Run("AggregateOneKey", s.raceAggregateOneKey)
	t.Run("ArchiveAndFeedbackOneFinding", s.raceArchiveAndFeedback)
	t.Run("UpdateDetector", s.raceUpdateDetector)
	t.Run("UpdateFilter", s.raceUpdateFilter)
	t.Run("CreateFiltersAtLimit", s.raceFiltersAtLimit)
	t.Run("CreateFilterClientToken", s.raceFilterClientToken)
	t.Run("CreateThreatListsAtLimit", s.raceThreatListsAtLimit)
}

// raceAggregateOneKey: concurrent occurrences of one finding make one
// finding that counts them all.
func (s *suite) raceAggregateOneKey(t *testing.T) {
	svc, det := s.service(t)
	ctx := context.Background()
	const each = 5
	race(t, func(i int) error {
		for j := range each {
			f := newDoc(scopeA, det, fmt.Sprintf("occ-%d-%d", i, j)).keyed(t, "same-key")
			if _, err := svc.WriteFindings(ctx, scopeA, det, []*guardpost.Finding{f}); err != nil {
				return err
			}
		}
		return nil
	})
	ids := listAll(t, svc.Store, scopeA, det)
	if len(ids) != 1 {
		t.Fatalf("%d findings after concurrent occurrences of one key, want 1: %v", len(ids), ids)
	}
	got := getOne(t, svc.Store, scopeA, det, ids[0])
	if n := serviceMember(t, got, "count"); n != float64(racers*each) {
		t.Fatalf("service.count %v, want %d", n, racers*each)
	}
}

// serviceMember reads a member of a stored finding's service object.
func serviceMember(t *testing.T, f *guardpost.Finding, name string) any {
	t.Helper()
	var d struct {
		Service map[string]any `json:"service"`
	}
	must(t, json.Unmarshal(f.Document, &d), "decode document")
	return d.Service[name]
}

// raceArchiveAndFeedback: archiving and feedback on one finding at once
// keep both changes.
func (s *suite) raceArchiveAndFeedback(t *testing.T) {
	svc, det := s.service(t)
	ctx := context.Background()
	f := newDoc(scopeA, det, "f-shared").finding(t)
	_, err := svc.WriteFindings(ctx, scopeA, det, []*guardpost.Finding{f})
	must(t, err, "WriteFindings")
	race(t, func(i int) error {
		for range 5 {
			var err error
			if i%2 == 0 {
				err = svc.ArchiveFindings(ctx, scopeA, det, []string{"f-shared"})
			} else {
				err = svc.UpdateFindingsFeedback(ctx, scopeA, det, []string{"f-shared"}, "USEFUL", "seen by racer")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	got := getOne(t, svc.Store, scopeA, det, "f-shared")
	if !got.Archived || serviceMember(t, got, "archived") != true {
		t.Errorf("archived lost: %s", got.Document)
	}
	if fb := serviceMember(t, got, "userFeedback"); fb != "USEFUL" || got.FeedbackComments != "seen by racer" {
		t.Errorf("feedback lost: userFeedback %v, comments %q", fb, got.FeedbackComments)
	}
}

// raceUpdateDetector: concurrent UpdateDetector calls that each change
// another setting all take effect.
func (s *suite) raceUpdateDetector(t *testing.T) {
	svc, det := s.service(t)
	ctx := context.Background()
	features := []string{"S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS"}
	d, err := svc.GetDetector(ctx, scopeA, det)
	must(t, err, "GetDetector")
	want := map[string]string{}
	for _, name := range features {
		f, ok := d.Feature(name)
		if !ok {
			t.Fatalf("new detector lacks %s", name)
		}
		want[name] = map[string]string{"ENABLED": "DISABLED", "DISABLED": "ENABLED"}[f.Status]
	}
	race(t, func(i int) error {
		if i >= len(features) {
			return svc.UpdateDetector(ctx, scopeA, det, guardpost.DetectorSettings{FindingPublishingFrequency: "FIFTEEN_MINUTES"})
		}
		name := features[i]
		return svc.UpdateDetector(ctx, scopeA, det, guardpost.DetectorSettings{
			Features: []guardpost.DetectorFeature{{Name: name, Status: want[name]}}})
	})
	d, err = svc.GetDetector(ctx, scopeA, det)
	must(t, err, "GetDetector")
	for name, status := range want {
		if f, _ := d.Feature(name); f.Status != status {
			t.Errorf("%s is %s after a concurrent update set it %s", name, f.Status, status)
		}
	}
	if d.FindingPublishingFrequency != "FIFTEEN_MINUTES" {
		t.Errorf("findingPublishingFrequency %s, want FIFTEEN_MINUTES", d.FindingPublishingFrequency)
	}
}

// raceUpdateFilter: concurrent UpdateFilter calls that each change
// another field all take effect.
func (s *suite) raceUpdateFilter(t *testing.T) {
	svc, det := s.service(t)
	ctx := context.Background()
	_, err := svc.CreateFilter(ctx, scopeA, det, guardpost.Filter{Name: "shared", Action: guardpost.FilterNoop, Rank: 1,
		Criteria: guardpost.Criteria{"severity": {GreaterThanOrEqual: i64(4)}}})
	must(t, err, "CreateFilter")
	description, action, rank := "changed", guardpost.FilterArchive, 9
	criteria := guardpost.Criteria{"type": {Equals: []string{typeProbe}}}
	race(t, func(i int) error {
		var set guardpost.FilterSettings
		switch i % 4 {
		case 0:
			set.Description = &description
		case 1:
			set.Action = &action
		case 2:
			set.Rank = &rank
		case 3:
			set.Criteria = criteria
		}
		_, err := svc.UpdateFilter(ctx, scopeA, det, "shared", set)
		return err
	})
	f, err := svc.GetFilter(ctx, scopeA, det, "shared")
	must(t, err, "GetFilter")
	if f.Description != description || f.Action != action || f.Rank != rank || len(f.Criteria) != 1 || f.Criteria["type"].Equals == nil {
		t.Errorf("after concurrent updates: description %q action %s rank %d criteria %v", f.Description, f.Action, f.Rank, f.Criteria)
	}
}

// raceFiltersAtLimit: concurrent creates near the limit never pass it.
func (s *suite) raceFiltersAtLimit(t *testing.T) {
	svc, det := s.service(t)
	ctx := context.Background()
	const limit = 100
	newFilter := func(name string) guardpost.Filter {
		return guardpost.Filter{Name: name, Criteria: guardpost.Criteria{"severity": {GreaterThanOrEqual: i64(4)}}}
	}
	for i := range limit - 2 {
		_, err := svc.CreateFilter(ctx, scopeA, det, newFilter(fmt.Sprintf("f%03d", i)))
		must(t, err, "CreateFilter")
	}
	var mu sync.Mutex
	created := 0
	for _, err := range together(racers, func(i int) error {
		_, err := svc.CreateFilter(ctx, scopeA, det, newFilter(fmt.Sprintf("racer%d", i)))
		if err == nil {
			mu.Lock()
			created++
			mu.Unlock()
		}
		return err
	}) {
		if err != nil && guardpost.ErrorKind(err) != guardpost.EINVALID {
			t.Errorf("CreateFilter at the limit: %v, want success or EINVALID", err)
		}
	}
	all, err := svc.Store.Filters(ctx, scopeA, det, "", 0)
	must(t, err, "Filters")
	if len(all) != limit || created != 2 {
		t.Fatalf("%d filters (%d created by %d racers), want %d (2 created)", len(all), created, racers, limit)
	}
}

// raceFilterClientToken: concurrent repeats of one CreateFilter (same
// client token) all succeed with the same name and make one filter.
func (s *suite) raceFilterClientToken(t *testing.T) {
	svc, det := s.service(t)
	ctx := context.Background()
	names := make([]string, racers)
	race(t, func(i int) error {
		var err error
		names[i], err = svc.CreateFilter(ctx, scopeA, det, guardpost.Filter{Name: "retried", ClientToken: "tok-1",
			Criteria: guardpost.Criteria{"severity": {GreaterThanOrEqual: i64(4)}}})
		return err
	})
	if slices.ContainsFunc(names, func(n string) bool { return n != "retried" }) {
		t.Errorf("names returned: %v", names)
	}
	all, err := svc.Store.Filters(ctx, scopeA, det, "", 0)
	must(t, err, "Filters")
	if len(all) != 1 {
		t.Fatalf("%d filters after repeats of one client token, want 1", len(all))
	}
}
