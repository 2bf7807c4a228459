package guardpost

import (
	"fmt"
	"testing"
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
