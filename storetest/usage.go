package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

// usage checks UsageStore: totals add up per (day, feature, resource)
// across calls, reads sum the days from the one asked and are bounded by
// the detectors asked for,
// an unknown detector takes nothing, days more than UsageKept before the
// latest are forgotten, and deleting a detector forgets its usage.
func (s *suite) usage(t *testing.T) {
	const det, detOther = "d0000000000000000000000000000001", "d0000000000000000000000000000002"
	st, ctx := s.store(t), context.Background()
	must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector")
	must(t, st.InsertDetector(ctx, newDetector(scopeOther, detOther)), "InsertDetector other")
	day := t0.Truncate(24 * time.Hour)
	prev := day.AddDate(0, 0, -1)
	must(t, st.AddUsage(ctx, scopeA, det, day, []guardpost.UsageRecord{
		{Feature: "CLOUD_TRAIL", Records: 10, Bytes: 1000},
		{Feature: "FLOW_LOGS", ResourceID: "i-0a", Records: 5, Bytes: 500},
	}), "AddUsage")
	must(t, st.AddUsage(ctx, scopeA, det, day, []guardpost.UsageRecord{
		{Feature: "CLOUD_TRAIL", Records: 3, Bytes: 300},
		{Feature: "FLOW_LOGS", ResourceID: "i-0b", Records: 1, Bytes: 100},
	}), "AddUsage again")
	must(t, st.AddUsage(ctx, scopeA, det, prev, []guardpost.UsageRecord{{Feature: "CLOUD_TRAIL", Records: 7, Bytes: 70}}), "AddUsage previous day")
	must(t, st.AddUsage(ctx, scopeOther, detOther, day, []guardpost.UsageRecord{{Feature: "DNS_LOGS", Records: 2, Bytes: 20}}), "AddUsage other")

	err := st.AddUsage(ctx, scopeA, detOther, day, []guardpost.UsageRecord{{Feature: "DNS_LOGS", Records: 1, Bytes: 1}})
	wantKind(t, err, guardpost.ENOTFOUND, "AddUsage for another account's detector")
	err = st.AddUsage(ctx, scopeEU, det, day, []guardpost.UsageRecord{{Feature: "DNS_LOGS", Records: 1, Bytes: 1}})
	wantKind(t, err, guardpost.ENOTFOUND, "AddUsage in another region")

	key := func(u guardpost.UsageTotal) string {
		return strings.Join([]string{u.AccountID, u.DetectorID, u.Feature, u.ResourceID}, "|")
	}
	read := func(detectors []guardpost.DetectorRef, since time.Time) map[string][2]int64 {
		t.Helper()
		us, err := st.Usage(ctx, scopeA.Region, detectors, since)
		must(t, err, "Usage")
		out := map[string][2]int64{}
		for _, u := range us {
			if _, dup := out[key(u)]; dup {
				t.Fatalf("Usage returned %s twice: one total per detector, feature and resource", key(u))
			}
			if !u.Day.Equal(since) || u.Day.Location() != time.UTC {
				t.Fatalf("Usage day %v, want %v in UTC", u.Day, since)
			}
			out[key(u)] = [2]int64{u.Records, u.Bytes}
		}
		return out
	}
	a := []guardpost.DetectorRef{{AccountID: scopeA.AccountID, DetectorID: det}}
	ofA := scopeA.AccountID + "|" + det + "|"
	sameUsage(t, read(a, prev), map[string][2]int64{
		ofA + "CLOUD_TRAIL|":   {20, 1370}, // both days summed
		ofA + "FLOW_LOGS|i-0a": {5, 500},
		ofA + "FLOW_LOGS|i-0b": {1, 100},
	}, "usage of A since the previous day")
	want := map[string][2]int64{
		ofA + "CLOUD_TRAIL|":   {13, 1300},
		ofA + "FLOW_LOGS|i-0a": {5, 500},
		ofA + "FLOW_LOGS|i-0b": {1, 100},
	}
	sameUsage(t, read(a, day), want, "usage of A since today")
	both := append(slices.Clone(a), guardpost.DetectorRef{AccountID: scopeOther.AccountID, DetectorID: detOther})
	want[scopeOther.AccountID+"|"+detOther+"|DNS_LOGS|"] = [2]int64{2, 20}
	sameUsage(t, read(both, day), want, "usage of both detectors")
	if got := read(a, day.AddDate(0, 0, 1)); len(got) != 0 {
		t.Fatalf("usage since tomorrow: %v, want none", got)
	}
	if us, err := st.Usage(ctx, scopeEU.Region, a, prev); err != nil || len(us) != 0 {
		t.Fatalf("Usage in another region = %v, %v; want nothing", us, err)
	}
	if us, err := st.Usage(ctx, scopeA.Region, nil, prev); err != nil || len(us) != 0 {
		t.Fatalf("Usage of no detectors = %v, %v; want nothing", us, err)
	}

	// A day more than UsageKept days after the oldest forgets it.
	old := day.AddDate(0, 0, -guardpost.UsageKept-1)
	must(t, st.AddUsage(ctx, scopeA, det, old, []guardpost.UsageRecord{{Feature: "DNS_LOGS", Records: 4, Bytes: 40}}), "AddUsage long ago")
	if got := read(a, old); got[ofA+"DNS_LOGS|"] != [2]int64{4, 40} {
		t.Fatalf("usage of a day %d days ago: %v", guardpost.UsageKept+1, got)
	}
	must(t, st.AddUsage(ctx, scopeA, det, day, []guardpost.UsageRecord{{Feature: "CLOUD_TRAIL", Records: 1, Bytes: 1}}), "AddUsage today")
	if got := read(a, old); got[ofA+"DNS_LOGS|"] != [2]int64{} || got[ofA+"CLOUD_TRAIL|"] != [2]int64{21, 1371} {
		t.Fatalf("after a day %d days later: %v, want the old day forgotten and the others kept", guardpost.UsageKept+1, got)
	}

	must(t, st.DeleteDetector(ctx, scopeA, det), "DeleteDetector")
	must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector again")
	if got := read(a, prev); len(got) != 0 {
		t.Fatalf("usage after the detector was deleted and made again: %v, want none", got)
	}
}

func sameUsage(t *testing.T, got, want map[string][2]int64, what string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: %s = %v, want %v (all: %v)", what, k, got[k], v, got)
		}
	}
}

// coverage checks CoverageStore: one row per resource, the later
// LastSeen kept whatever the order of observations, details kept unless
// a new observation names them, reads bounded by detector.
func (s *suite) coverage(t *testing.T) {
	const det, detOther = "d0000000000000000000000000000001", "d0000000000000000000000000000002"
	st, ctx := s.store(t), context.Background()
	must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector")
	must(t, st.InsertDetector(ctx, newDetector(scopeOther, detOther)), "InsertDetector other")
	must(t, st.ObserveResources(ctx, scopeA, det, []guardpost.ObservedResource{
		{Type: guardpost.CoverageEC2, ID: "i-0a", InstanceType: "t3.micro", LastSeen: t0},
		{Type: guardpost.CoverageEKS, ID: "prod", LastSeen: t0.Add(-time.Hour)},
	}), "ObserveResources")
	must(t, st.ObserveResources(ctx, scopeA, det, []guardpost.ObservedResource{
		{Type: guardpost.CoverageEC2, ID: "i-0a", ClusterName: "prod", LastSeen: t0.Add(-time.Minute)}, // older: LastSeen stays
		{Type: guardpost.CoverageEKS, ID: "prod", LastSeen: t0.Add(time.Hour)},
	}), "ObserveResources again")
	must(t, st.ObserveResources(ctx, scopeOther, detOther, []guardpost.ObservedResource{
		{Type: guardpost.CoverageEC2, ID: "i-0z", LastSeen: t0},
	}), "ObserveResources other")
	err := st.ObserveResources(ctx, scopeEU, det, []guardpost.ObservedResource{{Type: guardpost.CoverageEC2, ID: "i-0q", LastSeen: t0}})
	wantKind(t, err, guardpost.ENOTFOUND, "ObserveResources in another region")

	read := func(detectors ...guardpost.DetectorRef) map[string]guardpost.CoveredResource {
		t.Helper()
		rs, err := st.CoveredResources(ctx, scopeA.Region, detectors)
		must(t, err, "CoveredResources")
		out := map[string]guardpost.CoveredResource{}
		for _, r := range rs {
			k := r.AccountID + "|" + r.Type + "|" + r.ID
			if _, dup := out[k]; dup {
				t.Fatalf("CoveredResources returned %s twice", k)
			}
			out[k] = *r
		}
		return out
	}
	a := guardpost.DetectorRef{AccountID: scopeA.AccountID, DetectorID: det}
	got := read(a)
	if len(got) != 2 {
		t.Fatalf("CoveredResources of A = %v, want 2 resources", got)
	}
	i := got[scopeA.AccountID+"|EC2|i-0a"]
	if i.DetectorID != det || i.InstanceType != "t3.micro" || i.ClusterName != "prod" || !i.LastSeen.Equal(t0) || i.LastSeen.Location() != time.UTC {
		t.Fatalf("instance = %+v, want detector %s, t3.micro in cluster prod, last seen %v (UTC)", i, det, t0)
	}
	if c := got[scopeA.AccountID+"|EKS|prod"]; !c.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("cluster last seen %v, want %v", c.LastSeen, t0.Add(time.Hour))
	}
	if got := read(a, guardpost.DetectorRef{AccountID: scopeOther.AccountID, DetectorID: detOther}); len(got) != 3 {
		t.Fatalf("CoveredResources of both = %v, want 3 resources", got)
	}
	if got := read(); len(got) != 0 {
		t.Fatalf("CoveredResources of no detector = %v", got)
	}
	must(t, st.DeleteDetector(ctx, scopeA, det), "DeleteDetector")
	must(t, st.InsertDetector(ctx, newDetector(scopeA, det)), "InsertDetector again")
	if got := read(a); len(got) != 0 {
		t.Fatalf("coverage after the detector was deleted and made again: %v, want none", got)
	}
}
