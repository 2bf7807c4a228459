package main

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

func TestArchiveAndFeedback(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := createDetector(t, c)
	sampleTypes := []string{
		"Recon:EC2/PortProbeUnprotectedPort",
		"UnauthorizedAccess:EC2/SSHBruteForce",
		"Recon:IAMUser/MaliciousIPCaller",
		"CryptoCurrency:EC2/BitcoinTool.B!DNS",
	}
	if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: sampleTypes}); err != nil {
		t.Fatal(err)
	}
	ids := listAll(t, c, det, nil)
	if len(ids) != len(sampleTypes) {
		t.Fatalf("%d findings, want %d", len(ids), len(sampleTypes))
	}
	byUpdated := &types.SortCriteria{AttributeName: aws.String("updatedAt"), OrderBy: types.OrderByDesc}
	orderBefore := listAll(t, c, det, byUpdated)
	get := func(t *testing.T) map[string]types.Finding {
		t.Helper()
		out, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: ids})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]types.Finding{}
		for _, f := range out.Findings {
			m[aws.ToString(f.Id)] = f
		}
		if len(m) != len(ids) {
			t.Fatalf("GetFindings: %d findings, want %d", len(m), len(ids))
		}
		return m
	}
	wantArchived := func(t *testing.T, archived ...string) {
		t.Helper()
		for id, f := range get(t) {
			want := slices.Contains(archived, id)
			if f.Service == nil || aws.ToBool(f.Service.Archived) != want {
				t.Errorf("finding %s: archived %v, want %v", id, f.Service != nil && aws.ToBool(f.Service.Archived), want)
			}
		}
	}
	before := get(t)

	wantArchived(t)
	archived := ids[:2]
	if _, err := c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: archived}); err != nil {
		t.Fatal(err)
	}
	wantArchived(t, archived...)
	for id, f := range get(t) {
		if aws.ToString(f.UpdatedAt) != aws.ToString(before[id].UpdatedAt) {
			t.Errorf("finding %s: archiving changed updatedAt from %s to %s", id, aws.ToString(before[id].UpdatedAt), aws.ToString(f.UpdatedAt))
		}
		if aws.ToInt32(f.Service.Count) != aws.ToInt32(before[id].Service.Count) {
			t.Errorf("finding %s: archiving changed count", id)
		}
	}
	if got := listAll(t, c, det, byUpdated); !slices.Equal(got, orderBefore) {
		t.Errorf("order by updatedAt after archiving: %v, want %v", got, orderBefore)
	}
	// Archiving again is harmless.
	if _, err := c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: archived[:1]}); err != nil {
		t.Fatal(err)
	}
	wantArchived(t, archived...)

	// A new occurrence keeps the archived mark.
	if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: sampleTypes}); err != nil {
		t.Fatal(err)
	}
	wantArchived(t, archived...)

	if _, err := c.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: &det, FindingIds: archived}); err != nil {
		t.Fatal(err)
	}
	wantArchived(t)

	t.Run("feedback", func(t *testing.T) {
		if _, err := c.UpdateFindingsFeedback(ctx, &guardduty.UpdateFindingsFeedbackInput{
			DetectorId: &det, FindingIds: ids[1:3], Feedback: types.FeedbackUseful, Comments: aws.String("good catch"),
		}); err != nil {
			t.Fatal(err)
		}
		for id, f := range get(t) {
			want := ""
			if slices.Contains(ids[1:3], id) {
				want = "USEFUL"
			}
			if got := aws.ToString(f.Service.UserFeedback); got != want {
				t.Errorf("finding %s: userFeedback %q, want %q", id, got, want)
			}
		}
		if _, err := c.UpdateFindingsFeedback(ctx, &guardduty.UpdateFindingsFeedbackInput{
			DetectorId: &det, FindingIds: ids[2:3], Feedback: types.FeedbackNotUseful,
		}); err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(get(t)[ids[2]].Service.UserFeedback); got != "NOT_USEFUL" {
			t.Errorf("userFeedback %q, want NOT_USEFUL", got)
		}
	})

	t.Run("unknown ids ignored", func(t *testing.T) {
		unknown := []string{"00000000000000000000000000000000", ids[3]}
		if _, err := c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: unknown}); err != nil {
			t.Fatal(err)
		}
		wantArchived(t, ids[3])
		if _, err := c.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: &det, FindingIds: unknown}); err != nil {
			t.Fatal(err)
		}
		wantArchived(t)
		if _, err := c.UpdateFindingsFeedback(ctx, &guardduty.UpdateFindingsFeedbackInput{
			DetectorId: &det, FindingIds: unknown[:1], Feedback: types.FeedbackUseful,
		}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("another account's detector", func(t *testing.T) {
		b := s.clientB()
		_, err := b.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: ids})
		wantAPIError(t, err, "BadRequestException", msgNotOwned)
		_, err = b.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: &det, FindingIds: ids})
		wantAPIError(t, err, "BadRequestException", msgNotOwned)
		_, err = b.UpdateFindingsFeedback(ctx, &guardduty.UpdateFindingsFeedbackInput{DetectorId: &det, FindingIds: ids, Feedback: types.FeedbackUseful})
		wantAPIError(t, err, "BadRequestException", msgNotOwned)
		wantArchived(t)
	})

	t.Run("too many ids", func(t *testing.T) {
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprintf("%032x", i)
		}
		const msg = "1 validation error detected: Value at 'findingIds' failed to satisfy constraint: Member must have length less than or equal to 50"
		_, err := c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: many})
		wantAPIError(t, err, "BadRequestException", msg)
		_, err = c.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: &det, FindingIds: many})
		wantAPIError(t, err, "BadRequestException", msg)
		_, err = c.UpdateFindingsFeedback(ctx, &guardduty.UpdateFindingsFeedbackInput{DetectorId: &det, FindingIds: many, Feedback: types.FeedbackUseful})
		wantAPIError(t, err, "BadRequestException", msg)
	})
}
