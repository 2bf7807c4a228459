package main

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost/samples"
)

// listFrom lists every finding id matching criteria in the given order.
func listFrom(t *testing.T, c *guardduty.Client, det string, sort *types.SortCriteria, criteria map[string]types.Condition) []string {
	t.Helper()
	in := &guardduty.ListFindingsInput{DetectorId: &det, SortCriteria: sort, MaxResults: aws.Int32(50)}
	if criteria != nil {
		in.FindingCriteria = &types.FindingCriteria{Criterion: criteria}
	}
	var ids []string
	for p := guardduty.NewListFindingsPaginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, page.FindingIds...)
	}
	return ids
}

// isSubsequence reports whether every id of sub appears in seq, in the
// same order.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, id := range seq {
		if i < len(sub) && sub[i] == id {
			i++
		}
	}
	return i == len(sub)
}

// The ListFindings rule: paging through while findings are added and
// archived never returns a finding twice and never skips one that existed
// when the listing began and still matches at its end. Between every two
// pages this test adds three findings and archives two, one already
// returned and one not yet, and then checks the whole listing against a
// fresh one taken afterwards.
func TestListingHoldsWhileFindingsChange(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	allTypes := samples.New().Types()
	initialTypes, laterTypes := allTypes[:120], allTypes[120:]
	notArchived := map[string]types.Condition{"service.archived": {Equals: []string{"false"}}}
	cases := []struct {
		name, region string
		sort         *types.SortCriteria
		criteria     map[string]types.Condition
	}{
		{"by id", "us-east-1", nil, nil},
		{"severity descending, not archived", "us-west-2",
			&types.SortCriteria{AttributeName: aws.String("severity"), OrderBy: types.OrderByDesc}, notArchived},
		{"updatedAt ascending", "eu-west-1",
			&types.SortCriteria{AttributeName: aws.String("updatedAt"), OrderBy: types.OrderByAsc}, nil},
		{"type ascending, severity at least 5, not archived", "ap-southeast-2",
			&types.SortCriteria{AttributeName: aws.String("type"), OrderBy: types.OrderByAsc},
			map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(5)}, "service.archived": {Equals: []string{"false"}}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each case has its own region, hence its own detector.
			c := s.client(keyA, secretA, tc.region)
			det := createDetector(t, c)
			for chunk := range slices.Chunk(initialTypes, 50) { // the API's limit per call
				if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: chunk}); err != nil {
					t.Fatal(err)
				}
			}
			atStart := listFrom(t, c, det, nil, nil)
			if len(atStart) != len(initialTypes) {
				t.Fatalf("%d findings at start, want %d", len(atStart), len(initialTypes))
			}
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			pending := slices.Clone(laterTypes)
			seen := map[string]bool{}
			var listed []string
			in := &guardduty.ListFindingsInput{DetectorId: &det, SortCriteria: tc.sort, MaxResults: aws.Int32(9)}
			if tc.criteria != nil {
				in.FindingCriteria = &types.FindingCriteria{Criterion: tc.criteria}
			}
			archived := 0
			for page := 0; ; page++ {
				out, err := c.ListFindings(ctx, in)
				if err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				for _, id := range out.FindingIds {
					if seen[id] {
						t.Fatalf("page %d returned %s again", page, id)
					}
					seen[id] = true
				}
				listed = append(listed, out.FindingIds...)
				if aws.ToString(out.NextToken) == "" {
					break
				}
				in.NextToken = out.NextToken
				// Changes between pages: three new findings (new types,
				// so they are additions, not new occurrences)...
				if n := min(3, len(pending)); n > 0 {
					if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: pending[:n]}); err != nil {
						t.Fatal(err)
					}
					pending = pending[n:]
				}
				// ...and two archived: one the listing returned, one it has
				// not reached yet.
				var returned, ahead []string
				for _, id := range atStart {
					if seen[id] {
						returned = append(returned, id)
					} else {
						ahead = append(ahead, id)
					}
				}
				var archive []string
				if len(returned) > 0 {
					archive = append(archive, returned[rng.IntN(len(returned))])
				}
				if len(ahead) > 0 {
					archive = append(archive, ahead[rng.IntN(len(ahead))])
				}
				if _, err := c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: archive}); err != nil {
					t.Fatal(err)
				}
				archived += len(archive)
			}

			// Never skipped: every finding that existed at the start and
			// matches now was returned.
			matchingNow := listFrom(t, c, det, tc.sort, tc.criteria)
			for _, id := range matchingNow {
				if slices.Contains(atStart, id) && !seen[id] {
					t.Errorf("%s existed at the start and still matches, but the listing skipped it", id)
				}
			}
			// The listing kept the order: what it returned is a
			// subsequence of a fresh listing in the same order.
			everything := listFrom(t, c, det, tc.sort, nil)
			if !isSubsequence(listed, everything) {
				t.Errorf("the listing's order departs from a fresh listing's:\nlisted: %v\nfresh:  %v", listed, everything)
			}
			added := len(everything) - len(atStart)
			if added != len(laterTypes)-len(pending) || added == 0 || archived == 0 {
				t.Fatalf("the test changed too little: %d added, %d archived", added, archived)
			}
			t.Logf("%d listed over the changes; %d at the start, %d added, %d archived, %d match now", len(listed), len(atStart), added, archived, len(matchingNow))
		})
	}
}

// A page token is signed with a key kept in the database, so a listing
// begun on one node goes on on another node sharing the database (here two
// servers on one SQLite file at once).
func TestPageTokenWorksOnAnotherNode(t *testing.T) {
	one := startServer(t)
	c1 := one.clientA()
	det := sampleDetector(t, c1)
	two := startServerWith(t, one.dir, one.credFile)
	c2 := two.clientA()
	ctx := context.Background()

	first, err := c1.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(7)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page on node one: %v, token %v", err, first.NextToken)
	}
	second, err := c2.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(7), NextToken: first.NextToken})
	if err != nil {
		t.Fatalf("node two refused node one's token: %v", err)
	}
	want := listAll(t, c1, det, nil)
	got := append(slices.Clone(first.FindingIds), second.FindingIds...)
	if len(want) < 14 || !slices.Equal(got, want[:14]) {
		t.Fatalf("pages across nodes: %v, want %v", got, want[:min(14, len(want))])
	}
}
