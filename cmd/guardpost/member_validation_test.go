package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

// TestMemberAccountListLengths: account lists of the wrong length get the
// real service's text ("...accountDetails array was 64. Max allowed
// length is 50.", as AWS's Security Reference Architecture met it), not
// the model's generic one, and change nothing.
func TestMemberAccountListLengths(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("5%011d", i)
		}
		return out
	}
	details := make([]types.AccountDetail, 64)
	for i, id := range ids(64) {
		details[i] = types.AccountDetail{AccountId: aws.String(id), Email: aws.String("m@example.com")}
	}
	_, err := a.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det, AccountDetails: details})
	wantAPIError(t, err, "BadRequestException", "The request failed because the length provided for the accountDetails array was 64. Max allowed length is 50.")
	_, err = a.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det, AccountDetails: []types.AccountDetail{}})
	wantAPIError(t, err, "BadRequestException", "The request failed because the length provided for the accountDetails array was 0. Min allowed length is 1.")
	if got := listedMembers(t, a, det, nil); len(got) != 0 {
		t.Fatalf("refused CreateMembers created %v", got)
	}
	tooMany := "The request failed because the length provided for the accountIds array was 51. Max allowed length is 50."
	empty := "The request failed because the length provided for the accountIds array was 0. Min allowed length is 1."
	for _, n := range []int{51, 0} {
		want := map[int]string{51: tooMany, 0: empty}[n]
		list := ids(n)
		calls := map[string]func() error{
			"InviteMembers": func() error {
				_, err := a.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &det, AccountIds: list})
				return err
			},
			"GetMembers": func() error {
				_, err := a.GetMembers(ctx, &guardduty.GetMembersInput{DetectorId: &det, AccountIds: list})
				return err
			},
			"DeleteMembers": func() error {
				_, err := a.DeleteMembers(ctx, &guardduty.DeleteMembersInput{DetectorId: &det, AccountIds: list})
				return err
			},
			"DisassociateMembers": func() error {
				_, err := a.DisassociateMembers(ctx, &guardduty.DisassociateMembersInput{DetectorId: &det, AccountIds: list})
				return err
			},
			"StartMonitoringMembers": func() error {
				_, err := a.StartMonitoringMembers(ctx, &guardduty.StartMonitoringMembersInput{DetectorId: &det, AccountIds: list})
				return err
			},
			"StopMonitoringMembers": func() error {
				_, err := a.StopMonitoringMembers(ctx, &guardduty.StopMonitoringMembersInput{DetectorId: &det, AccountIds: list})
				return err
			},
			"GetMemberDetectors": func() error {
				_, err := a.GetMemberDetectors(ctx, &guardduty.GetMemberDetectorsInput{DetectorId: &det, AccountIds: list})
				return err
			},
			"UpdateMemberDetectors": func() error {
				_, err := a.UpdateMemberDetectors(ctx, &guardduty.UpdateMemberDetectorsInput{DetectorId: &det, AccountIds: list})
				return err
			},
			"DeclineInvitations": func() error {
				_, err := a.DeclineInvitations(ctx, &guardduty.DeclineInvitationsInput{AccountIds: list})
				return err
			},
			"DeleteInvitations": func() error {
				_, err := a.DeleteInvitations(ctx, &guardduty.DeleteInvitationsInput{AccountIds: list})
				return err
			},
		}
		for name, call := range calls {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				wantAPIError(t, call(), "BadRequestException", want)
			})
		}
	}
}
