package guardpost

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestUsageRows checks how totals are grouped and ordered: sums by key,
// tops by volume with at most 50 per feature, volumes without a resource
// left out of the resource statistics, the cost always 0.
func TestUsageRows(t *testing.T) {
	var totals []UsageTotal
	for i := range 60 {
		totals = append(totals, UsageTotal{AccountID: fmt.Sprintf("%012d", i), Feature: "FLOW_LOGS", ResourceID: fmt.Sprintf("i-%02d", i), Records: int64(i), Bytes: int64(10 * i)})
	}
	totals = append(totals,
		UsageTotal{AccountID: "000000000001", Feature: "CLOUD_TRAIL", Records: 5, Bytes: 50},
		UsageTotal{AccountID: "000000000002", Feature: "CLOUD_TRAIL", Records: 7, Bytes: 70},
		UsageTotal{AccountID: "000000000002", Feature: "CLOUD_TRAIL", Records: 1, Bytes: 10}) // another day

	rows := usageRows(UsageTopAccountsByFeature, UnitRecords, totals)
	if len(rows) != 2+50 {
		t.Fatalf("%d rows, want 2 of CLOUD_TRAIL and the top 50 of FLOW_LOGS", len(rows))
	}
	if rows[0] != (UsageRow{Feature: "CLOUD_TRAIL", Key: "000000000002", Amount: "8"}) || rows[1].Key != "000000000001" {
		t.Fatalf("CLOUD_TRAIL rows %+v", rows[:2])
	}
	if rows[2].Key != "000000000059" || rows[51].Key != "000000000010" {
		t.Fatalf("FLOW_LOGS top from %s to %s, want 59 down to 10", rows[2].Key, rows[51].Key)
	}

	rows = usageRows(UsageSumByResource, UnitUSD, totals)
	if len(rows) != 60 || rows[0] != (UsageRow{Key: "i-00", Amount: "0"}) {
		t.Fatalf("sum by resource: %d rows, first %+v", len(rows), rows[0])
	}
	rows = usageRows(UsageSumByDataSource, UnitBytes, totals)
	want := []UsageRow{{Key: "CLOUD_TRAIL", Amount: "130"}, {Key: "FLOW_LOGS", Amount: fmt.Sprint(10 * 59 * 60 / 2)}}
	if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
		t.Fatalf("sum by data source %+v, want %+v", rows, want)
	}
}

// TestCoverageCriteria checks the matching of coverage filters: equals is
// one of, notEquals none of, criteria all hold.
func TestCoverageCriteria(t *testing.T) {
	c := Coverage{CoveredResource: &CoveredResource{AccountID: "111122223333", ObservedResource: ObservedResource{Type: CoverageEC2, ID: "i-1", ClusterName: "prod"}}, Status: CoverageHealthy}
	for _, tc := range []struct {
		criteria []CoverageCriterion
		want     bool
	}{
		{nil, true},
		{[]CoverageCriterion{{Key: "INSTANCE_ID", Equals: []string{"i-2", "i-1"}}}, true},
		{[]CoverageCriterion{{Key: "INSTANCE_ID", NotEquals: []string{"i-1"}}}, false},
		{[]CoverageCriterion{{Key: "EKS_CLUSTER_NAME", Equals: []string{"prod"}}, {Key: "COVERAGE_STATUS", Equals: []string{"UNHEALTHY"}}}, false},
		{[]CoverageCriterion{{Key: "AGENT_VERSION", NotEquals: []string{"1.0"}}}, true},
		{[]CoverageCriterion{{Key: "AGENT_VERSION", Equals: []string{"1.0"}}}, false},
	} {
		if got := matchCoverage(c, tc.criteria); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.criteria, got, tc.want)
		}
	}
}

// usageFake keeps what AddUsage and ObserveResources are given; every
// other Store method panics.
type usageFake struct {
	Store
	added    map[string][]UsageRecord
	observed map[string][]ObservedResource
	days     []time.Time
}

func (f *usageFake) AddUsage(_ context.Context, scope Scope, det string, day time.Time, us []UsageRecord) error {
	if det == "gone" {
		return Errorf(ENOTFOUND, "detector %s not found", det)
	}
	f.added[scope.AccountID+"/"+det] = append(f.added[scope.AccountID+"/"+det], us...)
	f.days = append(f.days, day)
	return nil
}

func (f *usageFake) ObserveResources(_ context.Context, scope Scope, det string, rs []ObservedResource) error {
	f.observed[scope.AccountID+"/"+det] = append(f.observed[scope.AccountID+"/"+det], rs...)
	return nil
}

// TestUsageTally: an engine's per-record additions become one write per
// detector, summed by feature and resource, resources merged to their
// latest sighting; a deleted detector is skipped.
func TestUsageTally(t *testing.T) {
	f := &usageFake{added: map[string][]UsageRecord{}, observed: map[string][]ObservedResource{}}
	svc := &Service{Store: f}
	a, b := Scope{AccountID: "111122223333", Region: "us-east-1"}, Scope{AccountID: "444455556666", Region: "us-east-1"}
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var tl UsageTally
	for i := range 1000 {
		tl.Add(a, "da", "FLOW_LOGS", fmt.Sprintf("i-%d", i%3), 1, 80)
		tl.Observe(a, "da", ObservedResource{Type: CoverageEC2, ID: fmt.Sprintf("i-%d", i%3), LastSeen: t0.Add(time.Duration(i) * time.Second)})
	}
	tl.Observe(a, "da", ObservedResource{Type: CoverageEC2, ID: "i-0", InstanceType: "m5.large", LastSeen: t0})
	tl.Add(b, "db", "DNS_LOGS", "", 5, 500)
	tl.Add(b, "gone", "DNS_LOGS", "", 5, 500)
	if err := tl.Record(context.Background(), svc, t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	sum := map[string]int64{}
	for _, u := range f.added[a.AccountID+"/da"] {
		if u.Feature != "FLOW_LOGS" || u.Bytes != 80*u.Records {
			t.Fatalf("usage %+v", u)
		}
		sum[u.ResourceID] += u.Records
	}
	if len(f.added[a.AccountID+"/da"]) != 3 || sum["i-0"] != 334 || sum["i-1"] != 333 || sum["i-2"] != 333 {
		t.Fatalf("A's usage %+v", f.added[a.AccountID+"/da"])
	}
	if got := f.added[b.AccountID+"/db"]; len(got) != 1 || got[0] != (UsageRecord{Feature: "DNS_LOGS", Records: 5, Bytes: 500}) {
		t.Fatalf("B's usage %+v", got)
	}
	for _, d := range f.days {
		if !d.Equal(t0.Truncate(24 * time.Hour)) {
			t.Fatalf("usage dated %v, want the day of %v", d, t0)
		}
	}
	seen := map[string]ObservedResource{}
	for _, r := range f.observed[a.AccountID+"/da"] {
		seen[r.ID] = r
	}
	if len(seen) != 3 || seen["i-0"].InstanceType != "m5.large" || !seen["i-0"].LastSeen.Equal(t0.Add(999*time.Second)) {
		t.Fatalf("A's resources %+v", seen)
	}
	if tl.detectors != nil {
		t.Fatal("the tally is not empty after Record")
	}
}
