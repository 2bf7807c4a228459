package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

// waitReady polls /readyz until the indexes are loaded.
func waitReady(t *testing.T, s *testServer) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(s.endpoint() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after a minute: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// closeServer stops s now (its cleanup then does nothing).
func closeServer(t *testing.T, s *testServer) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.stop, s.auditLog, s.store = nil, nil, nil
}

// findingAnswers lists and counts the detector's findings through the
// SDK, as text to compare.
func findingAnswers(t *testing.T, c *guardduty.Client, det string) string {
	t.Helper()
	ctx := context.Background()
	out := fmt.Sprintln(listAll(t, c, det, nil))
	out += fmt.Sprintln(listAll(t, c, det, &types.SortCriteria{AttributeName: aws.String("severity"), OrderBy: types.OrderByDesc}))
	active := &types.FindingCriteria{Criterion: map[string]types.Condition{"service.archived": {Equals: []string{"false"}}}}
	p := guardduty.NewListFindingsPaginator(c, &guardduty.ListFindingsInput{DetectorId: &det, FindingCriteria: active,
		SortCriteria: &types.SortCriteria{AttributeName: aws.String("updatedAt"), OrderBy: types.OrderByAsc}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintln(page.FindingIds)
	}
	for _, in := range []*guardduty.GetFindingsStatisticsInput{
		{DetectorId: &det, FindingStatisticTypes: []types.FindingStatisticType{types.FindingStatisticTypeCountBySeverity}},
		{DetectorId: &det, GroupBy: types.GroupByTypeFindingType, FindingCriteria: active},
	} {
		st, err := c.GetFindingsStatistics(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintln(st.FindingStatistics.CountBySeverity)
		if g := st.FindingStatistics.GroupedByFindingType; g != nil {
			var rows []string
			for _, r := range g {
				rows = append(rows, fmt.Sprint(aws.ToString(r.FindingType), aws.ToInt32(r.TotalFindings)))
			}
			slices.Sort(rows)
			out += fmt.Sprintln(rows)
		}
	}
	return out
}

// TestIndexSnapshotAcrossRestarts: a server writes its index snapshot
// when it stops; the next start on the data directory reads it, answers
// as before, and goes on with writes. With --index-snapshots off, none is
// written.
func TestIndexSnapshotAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	s := startServer(t)
	c := s.clientA()
	det := sampleDetector(t, c)
	ids := listAll(t, c, det, nil)
	if _, err := c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: ids[:5]}); err != nil {
		t.Fatal(err)
	}
	want := findingAnswers(t, c, det)
	closeServer(t, s)
	snaps, _ := filepath.Glob(filepath.Join(s.dir, "data", "index", "*.idx"))
	if len(snaps) != 1 {
		t.Fatalf("index snapshots after a clean stop: %v", snaps)
	}

	before, err := os.Stat(snaps[0])
	if err != nil {
		t.Fatal(err)
	}

	s = startServerWith(t, s.dir, s.credFile)
	waitReady(t, s)
	c = s.clientA()
	if got := findingAnswers(t, c, det); got != want {
		t.Fatalf("after a restart from the snapshot:\n%s\nwant\n%s", got, want)
	}
	// Read, not built: a build would have written a new file (renamed
	// into place) once loaded.
	if now, err := os.Stat(snaps[0]); err != nil || !os.SameFile(before, now) {
		t.Fatalf("the snapshot was replaced after a restart with nothing to replay: %v", err)
	}
	if _, err := c.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: &det, FindingIds: ids[:2]}); err != nil {
		t.Fatal(err)
	}
	after := findingAnswers(t, c, det)
	if after == want {
		t.Fatal("unarchiving changed no answer")
	}
	closeServer(t, s)

	// Off: the restart builds, and answers alike.
	s = startServerWith(t, s.dir, s.credFile, "--index-snapshots", "off")
	waitReady(t, s)
	if got := findingAnswers(t, s.clientA(), det); got != after {
		t.Fatalf("after a restart without snapshots:\n%s\nwant\n%s", got, after)
	}

	other := startServer(t, "--index-snapshots", "off")
	sampleDetector(t, other.clientA())
	closeServer(t, other)
	if snaps, _ := filepath.Glob(filepath.Join(other.dir, "data", "index", "*")); len(snaps) != 0 {
		t.Fatalf("snapshots written with --index-snapshots off: %v", snaps)
	}
}
