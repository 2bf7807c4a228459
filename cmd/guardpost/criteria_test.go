package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

// listWhere lists every finding id matching criteria, maxResults at a time.
func listWhere(t *testing.T, c *guardduty.Client, det string, criteria map[string]types.Condition, maxResults int32) []string {
	t.Helper()
	var ids []string
	p := guardduty.NewListFindingsPaginator(c, &guardduty.ListFindingsInput{DetectorId: &det,
		FindingCriteria: &types.FindingCriteria{Criterion: criteria}, MaxResults: aws.Int32(maxResults)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.FindingIds) > int(maxResults) {
			t.Fatalf("page of %d ids with maxResults %d", len(page.FindingIds), maxResults)
		}
		ids = append(ids, page.FindingIds...)
	}
	return ids
}

func sorted(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

func TestListFindingsCriteria(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := sampleDetector(t, c)
	all := listAll(t, c, det, nil)
	findings := getAll(t, c, det, all)
	var severe, twoTypes []string
	typeA, typeB := "Recon:EC2/PortProbeUnprotectedPort", "UnauthorizedAccess:EC2/SSHBruteForce"
	for _, f := range findings {
		if aws.ToFloat64(f.Severity) >= 7 {
			severe = append(severe, aws.ToString(f.Id))
		}
		if typ := aws.ToString(f.Type); typ == typeA || typ == typeB {
			twoTypes = append(twoTypes, aws.ToString(f.Id))
		}
	}
	if len(severe) == 0 || len(severe) == len(findings) || len(twoTypes) != 2 {
		t.Fatalf("samples: %d of %d with severity >= 7, %d of the two types", len(severe), len(findings), len(twoTypes))
	}
	slices.Sort(severe)
	slices.Sort(twoTypes)

	t.Run("severity greaterThanOrEqual", func(t *testing.T) {
		got := listWhere(t, c, det, map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}, 50)
		if !slices.Equal(sorted(got), severe) {
			t.Fatalf("got %d ids, want the %d with severity >= 7", len(got), len(severe))
		}
	})
	t.Run("deprecated gte", func(t *testing.T) {
		got := listWhere(t, c, det, map[string]types.Condition{"severity": {Gte: aws.Int32(7)}}, 50)
		if !slices.Equal(sorted(got), severe) {
			t.Fatalf("gte: got %d ids, want the %d with severity >= 7", len(got), len(severe))
		}
	})
	t.Run("type equals", func(t *testing.T) {
		got := listWhere(t, c, det, map[string]types.Condition{"type": {Equals: []string{typeA, typeB}}}, 50)
		if !slices.Equal(sorted(got), twoTypes) {
			t.Fatalf("got %v, want %v", got, twoTypes)
		}
	})
	t.Run("paging", func(t *testing.T) {
		got := listWhere(t, c, det, map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}, 5)
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("id %s listed twice", id)
			}
			seen[id] = true
		}
		if !slices.Equal(sorted(got), severe) {
			t.Fatalf("paged: got %d ids, want the %d with severity >= 7", len(got), len(severe))
		}
	})
	// XSOAR keeps a nextToken across runs while its exclusion list (the
	// criteria) changes: the token is a position in the order, and the
	// listing resumes after it under the new criteria.
	t.Run("token survives a change of criteria", func(t *testing.T) {
		severeOnly := map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}
		out, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(5),
			FindingCriteria: &types.FindingCriteria{Criterion: severeOnly}})
		if err != nil || out.NextToken == nil || len(out.FindingIds) != 5 {
			t.Fatalf("first page: %v, %d ids, token %v", err, len(out.FindingIds), out.NextToken)
		}
		last := out.FindingIds[4]
		wider := map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(2)}}
		var want []string
		for _, id := range listWhere(t, c, det, wider, 50) {
			if id > last {
				want = append(want, id)
			}
		}
		var got []string
		in := &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(50), NextToken: out.NextToken,
			FindingCriteria: &types.FindingCriteria{Criterion: wider}}
		for {
			page, err := c.ListFindings(ctx, in)
			if err != nil {
				t.Fatalf("token reused with other criteria: %v", err)
			}
			got = append(got, page.FindingIds...)
			if page.NextToken == nil {
				break
			}
			in.NextToken = page.NextToken
		}
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("resumed under new criteria: got %d ids, want the %d after %s matching them", len(got), len(want), last)
		}
	})
	t.Run("token from another sort order or detector", func(t *testing.T) {
		out, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(5)})
		if err != nil || out.NextToken == nil {
			t.Fatalf("first page: %v, token %v", err, out.NextToken)
		}
		_, err = c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(5), NextToken: out.NextToken,
			SortCriteria: &types.SortCriteria{AttributeName: aws.String("severity"), OrderBy: types.OrderByDesc}})
		if code, _ := apiError(t, err); code != "BadRequestException" {
			t.Fatalf("token reused with another sort order: %s", code)
		}
		b := s.clientB()
		detB := createDetector(t, b)
		_, err = b.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &detB, NextToken: out.NextToken})
		if code, _ := apiError(t, err); code != "BadRequestException" {
			t.Fatalf("token reused by another account: %s", code)
		}
	})
	t.Run("unknown attribute", func(t *testing.T) {
		_, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &det,
			FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"nope.notAnAttribute": {Equals: []string{"x"}}}}})
		code, msg := apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, "nope.notAnAttribute") {
			t.Fatalf("got %s %q", code, msg)
		}
	})
}
