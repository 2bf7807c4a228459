package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
)

func TestFindingsStatistics(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := sampleDetector(t, c)
	ids := listAll(t, c, det, nil)
	bySeverity := map[string]int32{}
	for _, f := range getAll(t, c, det, ids) {
		bySeverity[strconv.FormatFloat(aws.ToFloat64(f.Severity), 'f', 1, 64)]++
	}
	stats := func(t *testing.T, in *guardduty.GetFindingsStatisticsInput) *types.FindingStatistics {
		t.Helper()
		in.DetectorId = &det
		out, err := c.GetFindingsStatistics(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if out.FindingStatistics == nil {
			t.Fatal("no findingStatistics")
		}
		return out.FindingStatistics
	}

	t.Run("count by severity", func(t *testing.T) {
		got := stats(t, &guardduty.GetFindingsStatisticsInput{
			FindingStatisticTypes: []types.FindingStatisticType{types.FindingStatisticTypeCountBySeverity}}).CountBySeverity
		var sum int32
		for _, n := range got {
			sum += n
		}
		if int(sum) != len(ids) {
			t.Errorf("counts sum to %d, want %d findings", sum, len(ids))
		}
		if len(got) != len(bySeverity) {
			t.Errorf("got %v, want %v", got, bySeverity)
		}
		for k, n := range bySeverity {
			if got[k] != n {
				t.Errorf("severity %s: %d, want %d", k, got[k], n)
			}
		}
	})
	t.Run("by finding type", func(t *testing.T) {
		rows := stats(t, &guardduty.GetFindingsStatisticsInput{GroupBy: types.GroupByTypeFindingType}).GroupedByFindingType
		want := min(len(ids), 100)
		if len(rows) != want {
			t.Errorf("%d rows, want %d", len(rows), want)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			typ := aws.ToString(r.FindingType)
			if seen[typ] || typ == "" {
				t.Errorf("type %q repeated or empty", typ)
			}
			seen[typ] = true
			if aws.ToInt32(r.TotalFindings) != 1 || r.LastGeneratedAt == nil {
				t.Errorf("type %s: %d findings, lastGeneratedAt %v; want 1 and a time", typ, aws.ToInt32(r.TotalFindings), r.LastGeneratedAt)
			}
		}
	})
	t.Run("by severity with criterion", func(t *testing.T) {
		rows := stats(t, &guardduty.GetFindingsStatisticsInput{GroupBy: types.GroupByTypeSeverity,
			FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{
				"severity": {GreaterThanOrEqual: aws.Int64(7)}}}}).GroupedBySeverity
		if len(rows) == 0 {
			t.Fatal("no rows")
		}
		for _, r := range rows {
			if aws.ToFloat64(r.Severity) < 7 {
				t.Errorf("severity %v below 7", aws.ToFloat64(r.Severity))
			}
		}
	})
	t.Run("by resource", func(t *testing.T) {
		rows := stats(t, &guardduty.GetFindingsStatisticsInput{GroupBy: types.GroupByTypeResource}).GroupedByResource
		if len(rows) == 0 {
			t.Fatal("no rows")
		}
		for _, r := range rows {
			if aws.ToString(r.ResourceType) == "" {
				t.Errorf("row without resourceType: %+v", r)
			}
		}
	})
	t.Run("order", func(t *testing.T) {
		totals := func(o types.OrderBy) []int32 {
			var out []int32
			for _, r := range stats(t, &guardduty.GetFindingsStatisticsInput{GroupBy: types.GroupByTypeSeverity, OrderBy: o}).GroupedBySeverity {
				out = append(out, aws.ToInt32(r.TotalFindings))
			}
			return out
		}
		asc, desc := totals(types.OrderByAsc), totals(types.OrderByDesc)
		if len(asc) < 2 || !slices.IsSorted(asc) {
			t.Errorf("ASC totals %v not ascending", asc)
		}
		rev := slices.Clone(desc)
		slices.Reverse(rev)
		if !slices.IsSorted(rev) || len(desc) != len(asc) {
			t.Errorf("DESC totals %v not descending", desc)
		}
		if got := stats(t, &guardduty.GetFindingsStatisticsInput{GroupBy: types.GroupByTypeSeverity, MaxResults: aws.Int32(1)}).GroupedBySeverity; len(got) != 1 {
			t.Errorf("maxResults 1: %d rows", len(got))
		}
	})
	t.Run("neither groupBy nor types", func(t *testing.T) {
		_, err := c.GetFindingsStatistics(ctx, &guardduty.GetFindingsStatisticsInput{DetectorId: &det})
		code, msg := apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, "groupBy") {
			t.Fatalf("got %s %q", code, msg)
		}
	})
	t.Run("unknown detector", func(t *testing.T) {
		_, err := c.GetFindingsStatistics(ctx, &guardduty.GetFindingsStatisticsInput{DetectorId: aws.String("00000000000000000000000000000000"), GroupBy: types.GroupByTypeAccount})
		if code, _ := apiError(t, err); code != "BadRequestException" {
			t.Fatalf("got %s", code)
		}
	})
}

// The deprecated countBySeverity map has no maxResults: it counts every
// finding however many distinct severities there are. (groupBy answers are
// the ones cut at 100 groups.) The store is seeded directly: no API call
// can make 120 distinct severities.
func TestCountBySeverityCountsEveryFinding(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := createDetector(t, c)
	var fs []*guardpost.Finding
	for i := 1; i <= 120; i++ {
		id := fmt.Sprintf("%032x", i)
		doc := fmt.Sprintf(`{"schemaVersion":"2.0","accountId":%q,"region":"us-east-1","partition":"aws","id":%q,
			"arn":"arn:aws:guardduty:us-east-1:%s:detector/%s/finding/%s","type":"Recon:EC2/Portscan","severity":%.1f,
			"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z","resource":{"resourceType":"Instance"},
			"service":{"serviceName":"guardduty","detectorId":%q,"count":1,"archived":false}}`,
			accountA, id, accountA, det, id, float64(i)/10, det)
		f, err := guardpost.ParseFinding([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	s.writeUncheckedFindings(t, det, fs)
	out, err := c.GetFindingsStatistics(ctx, &guardduty.GetFindingsStatisticsInput{DetectorId: &det,
		FindingStatisticTypes: []types.FindingStatisticType{types.FindingStatisticTypeCountBySeverity}})
	if err != nil {
		t.Fatal(err)
	}
	total := int32(0)
	for _, n := range out.FindingStatistics.CountBySeverity {
		total += n
	}
	if len(out.FindingStatistics.CountBySeverity) != 120 || total != 120 {
		t.Fatalf("countBySeverity has %d keys counting %d findings, want 120 and 120", len(out.FindingStatistics.CountBySeverity), total)
	}
	grouped, err := c.GetFindingsStatistics(ctx, &guardduty.GetFindingsStatisticsInput{DetectorId: &det, GroupBy: types.GroupByTypeSeverity})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(grouped.FindingStatistics.GroupedBySeverity); n != 100 {
		t.Fatalf("groupBy SEVERITY gave %d groups, want 100 (the default and largest maxResults)", n)
	}
}
