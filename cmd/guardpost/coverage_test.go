package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
)

// listCoverage lists every page of coverage through the SDK's paginator.
func listCoverage(t *testing.T, c *guardduty.Client, det string, filter []types.CoverageFilterCriterion, sort *types.CoverageSortCriteria, pageSize int32) []types.CoverageResource {
	t.Helper()
	in := &guardduty.ListCoverageInput{DetectorId: &det, SortCriteria: sort}
	if filter != nil {
		in.FilterCriteria = &types.CoverageFilterCriteria{FilterCriterion: filter}
	}
	if pageSize > 0 {
		in.MaxResults = &pageSize
	}
	var out []types.CoverageResource
	p := guardduty.NewListCoveragePaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListCoverage: %v", err)
		}
		if pageSize > 0 && len(page.Resources) > int(pageSize) {
			t.Fatalf("a page of %d resources, asked %d", len(page.Resources), pageSize)
		}
		out = append(out, page.Resources...)
	}
	return out
}

func resourceIDs(rs []types.CoverageResource) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = aws.ToString(r.ResourceId)
	}
	return ids
}

func criterion(key types.CoverageFilterCriterionKey, equals, notEquals []string) types.CoverageFilterCriterion {
	return types.CoverageFilterCriterion{CriterionKey: key, FilterCondition: &types.CoverageFilterCondition{Equals: equals, NotEquals: notEquals}}
}

// TestCoverage observes instances and a cluster as the log ingests do and
// reads them through ListCoverage and GetCoverageStatistics: status from
// how recently a log named them, details, filters, sorts, pages; an
// administrator sees its monitored member's resources, the member and an
// unrelated account only their own.
func TestCoverage(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b, c := s.clientA(), s.clientB(), s.clientC()
	detA, detB, detC := createDetector(t, a), createDetector(t, b), createDetector(t, c)
	now := time.Now().UTC().Truncate(time.Millisecond)
	scopeA := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	observe := func(scope guardpost.Scope, det string, rs ...guardpost.ObservedResource) {
		t.Helper()
		if err := s.service.ObserveResources(ctx, scope, det, rs); err != nil {
			t.Fatal(err)
		}
	}
	observe(scopeA, detA,
		guardpost.ObservedResource{Type: "EC2", ID: "i-0aaa", InstanceType: "t3.micro", LastSeen: now.Add(-time.Hour)},
		guardpost.ObservedResource{Type: "EC2", ID: "i-0bbb", LastSeen: now.Add(-48 * time.Hour)},
		guardpost.ObservedResource{Type: "EKS", ID: "prod", LastSeen: now.Add(-10 * time.Minute)},
		guardpost.ObservedResource{Type: "EC2", ID: "i-0ccc", ClusterName: "prod", LastSeen: now.Add(-2 * time.Hour)})
	// A later observation moves last-seen on; an earlier one does not.
	observe(scopeA, detA,
		guardpost.ObservedResource{Type: "EC2", ID: "i-0ccc", LastSeen: now.Add(-time.Minute)},
		guardpost.ObservedResource{Type: "EC2", ID: "i-0aaa", LastSeen: now.Add(-5 * time.Hour)})
	observe(guardpost.Scope{AccountID: accountC, Region: "us-east-1"}, detC, guardpost.ObservedResource{Type: "EC2", ID: "i-0zzz", LastSeen: now})

	all := listCoverage(t, a, detA, nil, nil, 0)
	if got := resourceIDs(all); !slices.Equal(got, []string{"i-0aaa", "i-0bbb", "i-0ccc", "prod"}) {
		t.Fatalf("coverage %v", got)
	}
	byID := map[string]types.CoverageResource{}
	for _, r := range all {
		byID[aws.ToString(r.ResourceId)] = r
		if aws.ToString(r.AccountId) != accountA || aws.ToString(r.DetectorId) != detA {
			t.Fatalf("%s: account %s detector %s", aws.ToString(r.ResourceId), aws.ToString(r.AccountId), aws.ToString(r.DetectorId))
		}
	}
	i := byID["i-0aaa"]
	if i.CoverageStatus != types.CoverageStatusHealthy || i.Issue != nil || !aws.ToTime(i.UpdatedAt).Equal(now.Add(-time.Hour)) ||
		i.ResourceDetails.ResourceType != types.ResourceTypeEc2 || aws.ToString(i.ResourceDetails.Ec2InstanceDetails.InstanceType) != "t3.micro" ||
		aws.ToString(i.ResourceDetails.Ec2InstanceDetails.InstanceId) != "i-0aaa" {
		t.Fatalf("i-0aaa: %+v %+v", i, i.ResourceDetails)
	}
	stale := byID["i-0bbb"]
	if stale.CoverageStatus != types.CoverageStatusUnhealthy || !strings.Contains(aws.ToString(stale.Issue), "No analysed log") {
		t.Fatalf("i-0bbb, last seen 48 hours ago: %s %q", stale.CoverageStatus, aws.ToString(stale.Issue))
	}
	if !aws.ToTime(byID["i-0ccc"].UpdatedAt).Equal(now.Add(-time.Minute)) {
		t.Fatalf("i-0ccc updated at %v, want its latest observation %v", aws.ToTime(byID["i-0ccc"].UpdatedAt), now.Add(-time.Minute))
	}
	if k := byID["prod"]; k.ResourceDetails.ResourceType != types.ResourceTypeEks || aws.ToString(k.ResourceDetails.EksClusterDetails.ClusterName) != "prod" {
		t.Fatalf("cluster: %+v", k.ResourceDetails)
	}

	for _, tc := range []struct {
		name   string
		filter []types.CoverageFilterCriterion
		want   []string
	}{
		{"unhealthy", []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyCoverageStatus, []string{"UNHEALTHY"}, nil)}, []string{"i-0bbb"}},
		{"clusters", []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyResourceType, []string{"EKS"}, nil)}, []string{"prod"}},
		{"of cluster prod", []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyEksClusterName, []string{"prod"}, nil)}, []string{"i-0ccc", "prod"}},
		{"not one instance, healthy", []types.CoverageFilterCriterion{
			criterion(types.CoverageFilterCriterionKeyInstanceId, nil, []string{"i-0aaa"}),
			criterion(types.CoverageFilterCriterionKeyCoverageStatus, []string{"HEALTHY"}, nil)}, []string{"i-0ccc", "prod"}},
		{"another account", []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyAccountId, []string{accountC}, nil)}, []string{}},
	} {
		if got := resourceIDs(listCoverage(t, a, detA, tc.filter, nil, 0)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	newest := &types.CoverageSortCriteria{AttributeName: types.CoverageSortKeyUpdatedAt, OrderBy: types.OrderByDesc}
	want := []string{"i-0ccc", "prod", "i-0aaa", "i-0bbb"}
	for _, size := range []int32{0, 1, 3} {
		if got := resourceIDs(listCoverage(t, a, detA, nil, newest, size)); !slices.Equal(got, want) {
			t.Fatalf("newest first in pages of %d: %v, want %v", size, got, want)
		}
	}
	unhealthyFirst := &types.CoverageSortCriteria{AttributeName: types.CoverageSortKeyCoverageStatus, OrderBy: types.OrderByDesc}
	if got := resourceIDs(listCoverage(t, a, detA, nil, unhealthyFirst, 2)); got[0] != "i-0bbb" || len(got) != 4 {
		t.Fatalf("unhealthy first: %v", got)
	}

	st, err := a.GetCoverageStatistics(ctx, &guardduty.GetCoverageStatisticsInput{DetectorId: &detA,
		StatisticsType: []types.CoverageStatisticsType{types.CoverageStatisticsTypeCountByResourceType, types.CoverageStatisticsTypeCountByCoverageStatus}})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CoverageStatistics; got.CountByResourceType[string(types.ResourceTypeEc2)] != 3 || got.CountByResourceType[string(types.ResourceTypeEks)] != 1 ||
		got.CountByCoverageStatus[string(types.CoverageStatusHealthy)] != 3 || got.CountByCoverageStatus[string(types.CoverageStatusUnhealthy)] != 1 {
		t.Fatalf("statistics %+v", got)
	}
	st, err = a.GetCoverageStatistics(ctx, &guardduty.GetCoverageStatisticsInput{DetectorId: &detA,
		StatisticsType: []types.CoverageStatisticsType{types.CoverageStatisticsTypeCountByCoverageStatus},
		FilterCriteria: &types.CoverageFilterCriteria{FilterCriterion: []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyResourceType, []string{"EC2"}, nil)}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CoverageStatistics; got.CountByResourceType != nil || got.CountByCoverageStatus[string(types.CoverageStatusHealthy)] != 2 {
		t.Fatalf("statistics of instances by status: %+v", got)
	}

	// Isolation: B (not yet a member) and C see only their own.
	if got := resourceIDs(listCoverage(t, b, detB, nil, nil, 0)); len(got) != 0 {
		t.Fatalf("B sees %v", got)
	}
	if got := resourceIDs(listCoverage(t, c, detC, nil, nil, 0)); !slices.Equal(got, []string{"i-0zzz"}) {
		t.Fatalf("C sees %v", got)
	}
	// An administrator sees its monitored member's resources.
	associate(t, a, detA, accountA, b, detB, accountB)
	observe(guardpost.Scope{AccountID: accountB, Region: "us-east-1"}, detB, guardpost.ObservedResource{Type: "EC2", ID: "i-0bee", LastSeen: now})
	ofB := listCoverage(t, a, detA, []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyAccountId, []string{accountB}, nil)}, nil, 0)
	if len(ofB) != 1 || aws.ToString(ofB[0].ResourceId) != "i-0bee" || aws.ToString(ofB[0].AccountId) != accountB || aws.ToString(ofB[0].DetectorId) != detB {
		t.Fatalf("administrator's view of B: %+v", ofB)
	}
	if got := resourceIDs(listCoverage(t, b, detB, nil, nil, 0)); !slices.Equal(got, []string{"i-0bee"}) {
		t.Fatalf("member sees %v", got)
	}
	if got := resourceIDs(listCoverage(t, a, detA, nil, nil, 0)); len(got) != 5 {
		t.Fatalf("administrator sees %v", got)
	}
}

// TestCoverageValidation: bad criteria and tokens answer 400 in AWS's
// shape with a message saying what to fix.
func TestCoverageValidation(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	for _, tc := range []struct {
		name   string
		filter []types.CoverageFilterCriterion
		want   string
	}{
		{"unknown resource type", []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyResourceType, []string{"VM"}, nil)}, `"VM" is not a valid RESOURCE_TYPE`},
		{"unknown status", []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyCoverageStatus, nil, []string{"OK"})}, `"OK" is not a valid COVERAGE_STATUS`},
		{"bad account", []types.CoverageFilterCriterion{criterion(types.CoverageFilterCriterionKeyAccountId, []string{"12"}, nil)}, "12 digits"},
		{"no condition", []types.CoverageFilterCriterion{{CriterionKey: types.CoverageFilterCriterionKeyInstanceId}}, "has no condition"},
		{"no key", []types.CoverageFilterCriterion{{FilterCondition: &types.CoverageFilterCondition{Equals: []string{"x"}}}}, "no criterionKey"},
	} {
		_, err := a.ListCoverage(ctx, &guardduty.ListCoverageInput{DetectorId: &det, FilterCriteria: &types.CoverageFilterCriteria{FilterCriterion: tc.filter}})
		code, msg := apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, tc.want) {
			t.Errorf("ListCoverage %s: %s %q, want BadRequestException saying %q", tc.name, code, msg, tc.want)
		}
		_, err = a.GetCoverageStatistics(ctx, &guardduty.GetCoverageStatisticsInput{DetectorId: &det,
			StatisticsType: []types.CoverageStatisticsType{types.CoverageStatisticsTypeCountByResourceType},
			FilterCriteria: &types.CoverageFilterCriteria{FilterCriterion: tc.filter}})
		code, msg = apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, tc.want) {
			t.Errorf("GetCoverageStatistics %s: %s %q", tc.name, code, msg)
		}
	}
	_, err := a.ListCoverage(ctx, &guardduty.ListCoverageInput{DetectorId: &det, NextToken: aws.String("x.y")})
	if code, msg := apiError(t, err); code != "BadRequestException" || !strings.Contains(msg, "nextToken is invalid") {
		t.Errorf("bad token: %s %q", code, msg)
	}
	for path, body := range map[string]string{
		"/coverage":             `{"sortCriteria":{"attributeName":"COLOUR"}}`,
		"/coverage ":            `{"filterCriteria":{"filterCriterion":[{"criterionKey":"COLOUR","filterCondition":{"equals":["x"]}}]}}`,
		"/coverage/statistics":  `{"statisticsType":["COUNT_BY_COLOUR"]}`,
		"/coverage/statistics ": `{}`,
	} {
		r := s.do("POST", "/detector/"+det+strings.TrimSpace(path), body)
		if r.Status != http.StatusBadRequest || r.Header.Get("X-Amzn-ErrorType") == "" {
			t.Errorf("%s %s: %d %s", path, body, r.Status, r.Body)
		}
	}
	_, err = s.clientB().ListCoverage(ctx, &guardduty.ListCoverageInput{DetectorId: &det})
	wantAPIError(t, err, "BadRequestException", msgNotOwned)
}

// TestCoverageFromCloudTrail: the instances whose instance-profile
// credentials made calls in ingested CloudTrail records are covered,
// last seen at their latest record; records of another region, or of a
// user, cover nothing.
func TestCoverageFromCloudTrail(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)
	recent := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	at := func(t time.Time, more map[string]any) map[string]any {
		return with(with(instanceRole, map[string]any{"eventTime": t.Format(time.RFC3339)}), more)
	}
	other := "arn:aws:sts::" + accountA + ":assumed-role/app-server-role/i-0fedcba9876543210"
	body := logFile(t,
		ctRecord("ec2.amazonaws.com", "DescribeInstances", "app", 0, at(recent.Add(-time.Hour), nil)),
		ctRecord("ec2.amazonaws.com", "DescribeInstances", "app", 0, at(recent, nil)),
		ctRecord("ec2.amazonaws.com", "DescribeInstances", "app", 0, at(recent, map[string]any{"awsRegion": "eu-west-1", "userIdentity.arn": other})),
		ctRecord("ec2.amazonaws.com", "DescribeInstances", "alice", 0, nil))
	if got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", body); got.Accepted != 3 || got.Skipped != 1 {
		t.Fatalf("ingest: %+v", got)
	}
	rs := listCoverage(t, a, det, nil, nil, 0)
	if len(rs) != 1 {
		t.Fatalf("coverage %v, want the one instance", resourceIDs(rs))
	}
	r := rs[0]
	if aws.ToString(r.ResourceId) != "i-0abcd1234ef567890" || r.ResourceDetails.ResourceType != types.ResourceTypeEc2 ||
		!aws.ToTime(r.UpdatedAt).Equal(recent) || r.CoverageStatus != types.CoverageStatusHealthy {
		t.Fatalf("instance %s %s updated %v %s, want i-0abcd1234ef567890 EC2 %v HEALTHY", aws.ToString(r.ResourceId),
			r.ResourceDetails.ResourceType, aws.ToTime(r.UpdatedAt), r.CoverageStatus, recent)
	}
}
