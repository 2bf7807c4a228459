package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

// TestDeleteDetectorInvitationRace deletes an administrator's detector
// while other requests keep creating, inviting and deleting a member: a
// deletion that succeeds must take every invitation of that administrator
// with it, and no member change may land after it (the member would
// otherwise hold an invitation from an administrator with no detector,
// and the administrator's next detector would inherit it).
func TestDeleteDetectorInvitationRace(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b := s.clientA(), s.clientB()
	createDetector(t, b)
	const rounds, hammers = 8, 4
	for round := range rounds {
		det := createDetector(t, a)
		var (
			stop atomic.Bool
			wg   sync.WaitGroup
		)
		for range hammers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					_, err := a.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det,
						AccountDetails: []types.AccountDetail{{AccountId: aws.String(accountB), Email: aws.String("b@example.com")}}})
					wantBadRequestOrNil(t, "CreateMembers", err)
					_, err = a.InviteMembers(ctx, &guardduty.InviteMembersInput{DetectorId: &det, AccountIds: []string{accountB}})
					wantBadRequestOrNil(t, "InviteMembers", err)
					_, err = a.DeleteMembers(ctx, &guardduty.DeleteMembersInput{DetectorId: &det, AccountIds: []string{accountB}})
					wantBadRequestOrNil(t, "DeleteMembers", err)
				}
			}()
		}
		for {
			_, err := a.DeleteDetector(ctx, &guardduty.DeleteDetectorInput{DetectorId: &det})
			if err == nil {
				break
			}
			if !strings.Contains(err.Error(), msgDetectorHasMembers) {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("round %d: DeleteDetector: %v", round, err)
			}
		}
		stop.Store(true)
		wg.Wait()
		if t.Failed() {
			return
		}
		if inv := invitationFrom(t, b, accountA); inv != nil {
			t.Fatalf("round %d: B holds invitation %s from A, whose detector was deleted", round, aws.ToString(inv.InvitationId))
		}
		if n := invitationsCount(t, b); n != 0 {
			t.Fatalf("round %d: B counts %d invitations after A's detector went", round, n)
		}
		// A's next detector starts with no members.
		next := createDetector(t, a)
		if got := listedMembers(t, a, next, nil); len(got) != 0 {
			t.Fatalf("round %d: a new detector inherited members %v", round, got)
		}
		if _, err := a.DeleteDetector(ctx, &guardduty.DeleteDetectorInput{DetectorId: &next}); err != nil {
			t.Fatal(err)
		}
	}
}

// wantBadRequestOrNil fails the test unless err is nil or a 400
// BadRequestException (what a member call racing a deletion may get).
func wantBadRequestOrNil(t *testing.T, op string, err error) {
	t.Helper()
	var bad *types.BadRequestException
	if err != nil && !errors.As(err, &bad) {
		t.Errorf("%s: %v", op, err)
	}
}
