package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

const (
	acctAdmin  = "111111111111" // scopeA's account
	acctMember = "222222222222" // scopeOther's account
	acctThird  = "333333333333"
)

func newMembership(admin, account, region, status, invitation string) *guardpost.Membership {
	m := &guardpost.Membership{
		AdministratorID: admin, AccountID: account, Region: region, Email: account + "@example.com",
		Status: status, Invitation: invitation, CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
	}
	if invitation != guardpost.InvitationNone {
		m.InvitationID, m.InvitedAt = "inv-"+admin+"-"+account, t0.Add(time.Millisecond)
	}
	return m
}

// putMemberships stores ms in one ChangeMemberships of their region.
func putMemberships(ctx context.Context, st guardpost.Store, ms ...*guardpost.Membership) error {
	var accounts []string
	for _, m := range ms {
		accounts = append(accounts, m.AccountID)
	}
	return st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: ms[0].Region, Accounts: accounts}, func(*guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
		return ms, nil, nil
	})
}

func membershipKeys(ms []*guardpost.Membership) []string {
	var keys []string
	for _, m := range ms {
		keys = append(keys, m.AdministratorID+">"+m.AccountID+"@"+m.Region)
	}
	return keys
}

// members: memberships round-trip, list in key order per side and region,
// change atomically, and one administrator per account holds against
// concurrent acceptances.
func (s *suite) members(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		must(t, st.InsertDetector(ctx, newDetector(scopeOther, "d-member")), "InsertDetector")
		invited := newMembership(acctAdmin, acctMember, scopeA.Region, guardpost.RelationshipEnabled, guardpost.InvitationAccepted)
		created := newMembership(acctAdmin, acctThird, scopeA.Region, guardpost.RelationshipCreated, guardpost.InvitationNone)
		must(t, putMemberships(ctx, st, invited, created), "ChangeMemberships")
		got, err := st.MembershipsOf(ctx, scopeA, []string{acctThird, acctMember, "444444444444"})
		must(t, err, "MembershipsOf")
		if len(got) != 2 {
			t.Fatalf("MembershipsOf: %v", membershipKeys(got))
		}
		wantInvited, wantCreated := *invited, *created
		wantInvited.DetectorID = "d-member" // filled in from the member's detector
		for i, want := range []*guardpost.Membership{&wantInvited, &wantCreated} {
			if got[i].CreatedAt.Location() != time.UTC || !reflect.DeepEqual(got[i], want) {
				t.Errorf("membership %d = %+v, want %+v", i, got[i], want)
			}
		}
	})
	t.Run("FindingsMarkMonitors", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		must(t, st.InsertDetector(ctx, newDetector(scopeA, "d-admin")), "InsertDetector")
		monitors := func(when string, want bool) {
			t.Helper()
			m, err := st.FindingsMark(ctx, scopeA, "d-admin")
			must(t, err, "FindingsMark")
			if m.Monitors != want {
				t.Errorf("FindingsMark.Monitors %s = %t, want %t", when, m.Monitors, want)
			}
		}
		monitors("without members", false)
		m := newMembership(acctAdmin, acctMember, scopeA.Region, guardpost.RelationshipInvited, guardpost.InvitationPending)
		must(t, putMemberships(ctx, st, m), "invite")
		monitors("with an invited member", false)
		m.Status, m.Invitation = guardpost.RelationshipEnabled, guardpost.InvitationAccepted
		must(t, putMemberships(ctx, st, m), "accept")
		monitors("with a monitored member", true)
		eu := *m
		eu.Region = scopeEU.Region
		must(t, putMemberships(ctx, st, &eu), "accept in another region")
		m.Status = guardpost.RelationshipDisabled
		must(t, putMemberships(ctx, st, m), "stop monitoring")
		monitors("with a member no longer monitored (and one in another region)", false)
	})
	t.Run("Listings", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		east, west := scopeA.Region, scopeEU.Region
		must(t, putMemberships(ctx, st,
			newMembership(acctAdmin, acctMember, east, guardpost.RelationshipEnabled, guardpost.InvitationAccepted),
			newMembership(acctAdmin, acctThird, east, guardpost.RelationshipInvited, guardpost.InvitationPending),
			newMembership(acctAdmin, "444444444444", east, guardpost.RelationshipCreated, guardpost.InvitationNone),
			newMembership(acctThird, acctMember, east, guardpost.RelationshipResigned, guardpost.InvitationDeclined),
		), "ChangeMemberships east")
		must(t, putMemberships(ctx, st, newMembership(acctAdmin, acctMember, west, guardpost.RelationshipInvited, guardpost.InvitationPending)), "ChangeMemberships west")

		all, err := st.Memberships(ctx, scopeA, "", 0, false)
		must(t, err, "Memberships")
		if got, want := membershipKeys(all), []string{
			acctAdmin + ">" + acctMember + "@" + east, acctAdmin + ">" + acctThird + "@" + east, acctAdmin + ">444444444444@" + east,
		}; !reflect.DeepEqual(got, want) {
			t.Errorf("Memberships = %v, want %v", got, want)
		}
		page, err := st.Memberships(ctx, scopeA, acctMember, 1, false)
		must(t, err, "Memberships after")
		if got := membershipKeys(page); len(got) != 1 || got[0] != acctAdmin+">"+acctThird+"@"+east {
			t.Errorf("Memberships after %s limit 1 = %v", acctMember, got)
		}
		assoc, err := st.Memberships(ctx, scopeA, "", 0, true)
		must(t, err, "Memberships associated")
		if got := membershipKeys(assoc); len(got) != 1 || got[0] != acctAdmin+">"+acctMember+"@"+east {
			t.Errorf("associated Memberships = %v", got)
		}
		inv, err := st.Invitations(ctx, guardpost.Scope{AccountID: acctMember, Region: east}, "", 0)
		must(t, err, "Invitations")
		if got, want := membershipKeys(inv), []string{acctAdmin + ">" + acctMember + "@" + east, acctThird + ">" + acctMember + "@" + east}; !reflect.DeepEqual(got, want) {
			t.Errorf("Invitations = %v, want %v", got, want)
		}
		none, err := st.Invitations(ctx, guardpost.Scope{AccountID: "444444444444", Region: east}, "", 0)
		must(t, err, "Invitations of a created member")
		if len(none) != 0 {
			t.Errorf("a member never invited has invitations %v", membershipKeys(none))
		}
		westInv, err := st.Invitations(ctx, guardpost.Scope{AccountID: acctMember, Region: west}, "", 0)
		must(t, err, "Invitations west")
		if got := membershipKeys(westInv); len(got) != 1 || got[0] != acctAdmin+">"+acctMember+"@"+west {
			t.Errorf("Invitations in %s = %v", west, got)
		}
	})
	t.Run("Change", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		east := scopeA.Region
		m := newMembership(acctAdmin, acctMember, east, guardpost.RelationshipCreated, guardpost.InvitationNone)
		must(t, putMemberships(ctx, st, m), "ChangeMemberships")
		// change sees the memberships of the accounts named as members, and
		// the counts of those that administer.
		var seen *guardpost.MembershipsRead
		must(t, st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Accounts: []string{acctMember, acctAdmin}},
			func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
				seen = read
				return nil, nil, nil
			}), "ChangeMemberships read")
		want := map[string]guardpost.MemberCounts{acctAdmin: {Members: 1, Active: 1}}
		if len(seen.Memberships) != 1 || !reflect.DeepEqual(seen.Administered, want) {
			t.Errorf("ChangeMemberships by member account saw %v, counts %v", membershipKeys(seen.Memberships), seen.Administered)
		}
		// An administrator named as an account is read by its counts, not
		// by its members.
		must(t, st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Accounts: []string{acctAdmin}},
			func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
				seen = read
				return nil, nil, nil
			}), "ChangeMemberships read")
		if len(seen.Memberships) != 0 || !reflect.DeepEqual(seen.Administered, want) {
			t.Errorf("ChangeMemberships by administrator saw %v, counts %v", membershipKeys(seen.Memberships), seen.Administered)
		}
		// An error from change writes nothing.
		boom := errors.New("boom")
		err := st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Administrator: acctAdmin}, func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
			return []*guardpost.Membership{newMembership(acctAdmin, acctThird, east, guardpost.RelationshipCreated, "")}, read.Memberships, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("ChangeMemberships returned %v, want the change's error", err)
		}
		all, err := st.Memberships(ctx, scopeA, "", 0, false)
		must(t, err, "Memberships")
		if got := membershipKeys(all); len(got) != 1 || got[0] != acctAdmin+">"+acctMember+"@"+east {
			t.Errorf("after a failed change: %v", got)
		}
		// A change may not write memberships of accounts it did not name.
		err = st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Accounts: []string{acctThird}}, func(*guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
			return nil, []*guardpost.Membership{m}, nil
		})
		if err == nil {
			t.Error("ChangeMemberships deleted a membership of accounts it did not name")
		}
		// Update and delete.
		up := *m
		up.Status, up.UpdatedAt = guardpost.RelationshipInvited, t0.Add(time.Hour)
		must(t, putMemberships(ctx, st, &up), "update")
		got, err := st.MembershipsOf(ctx, scopeA, []string{acctMember})
		must(t, err, "MembershipsOf")
		if len(got) != 1 || got[0].Status != guardpost.RelationshipInvited || !got[0].UpdatedAt.Equal(up.UpdatedAt) {
			t.Errorf("after update: %+v", got)
		}
		must(t, st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Administrator: acctAdmin}, func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
			return nil, read.Memberships, nil
		}), "delete")
		if got, _ := st.Memberships(ctx, scopeA, "", 0, false); len(got) != 0 {
			t.Errorf("after delete: %v", membershipKeys(got))
		}
		must(t, st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Accounts: []string{acctAdmin}},
			func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
				seen = read
				return nil, nil, nil
			}), "ChangeMemberships read")
		if c := seen.Administered[acctAdmin]; c.Members != 0 || c.Active != 0 {
			t.Errorf("counts after delete: %+v", c)
		}
	})
	t.Run("Counts", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		east, west := scopeA.Region, scopeEU.Region
		counts := func() guardpost.MemberCounts {
			t.Helper()
			var c guardpost.MemberCounts
			must(t, st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Accounts: []string{acctAdmin}},
				func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
					c = read.Administered[acctAdmin]
					return nil, nil, nil
				}), "ChangeMemberships read")
			return c
		}
		m := newMembership(acctAdmin, acctMember, east, guardpost.RelationshipCreated, guardpost.InvitationNone)
		must(t, putMemberships(ctx, st, m, newMembership(acctAdmin, acctThird, east, guardpost.RelationshipInvited, guardpost.InvitationPending)), "put")
		must(t, putMemberships(ctx, st, newMembership(acctAdmin, acctMember, west, guardpost.RelationshipCreated, guardpost.InvitationNone)), "put west")
		if c := counts(); c != (guardpost.MemberCounts{Members: 2, Active: 2}) {
			t.Errorf("two members: %+v", c)
		}
		removed := *m
		removed.Status = guardpost.RelationshipRemoved
		must(t, putMemberships(ctx, st, &removed), "update")
		if c := counts(); c != (guardpost.MemberCounts{Members: 2, Active: 1}) {
			t.Errorf("one removed: %+v", c)
		}
		must(t, st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Accounts: []string{acctMember}}, func(*guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
			return nil, []*guardpost.Membership{&removed}, nil
		}), "delete")
		if c := counts(); c != (guardpost.MemberCounts{Members: 1, Active: 1}) {
			t.Errorf("one deleted: %+v", c)
		}
	})
	t.Run("ChangeChecksDetector", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		m := newMembership(acctAdmin, acctMember, scopeA.Region, guardpost.RelationshipCreated, guardpost.InvitationNone)
		change := guardpost.MembershipChange{Region: scopeA.Region, Accounts: []string{acctMember}, Detector: scopeA, DetectorID: "d-admin"}
		put := func(*guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
			return []*guardpost.Membership{m}, nil, nil
		}
		wantKind(t, st.ChangeMemberships(ctx, change, put), guardpost.ENOTFOUND, "ChangeMemberships without the detector")
		if got, _ := st.Memberships(ctx, scopeA, "", 0, false); len(got) != 0 {
			t.Errorf("a change refused for its detector wrote %v", membershipKeys(got))
		}
		must(t, st.InsertDetector(ctx, newDetector(scopeA, "d-admin")), "InsertDetector")
		must(t, st.ChangeMemberships(ctx, change, put), "ChangeMemberships with the detector")
	})
	t.Run("DeleteDetectorWithMembers", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		east, west := scopeA.Region, scopeEU.Region
		must(t, st.InsertDetector(ctx, newDetector(scopeA, "d-admin")), "InsertDetector")
		invited := newMembership(acctAdmin, acctMember, east, guardpost.RelationshipInvited, guardpost.InvitationPending)
		must(t, putMemberships(ctx, st, invited, newMembership(acctAdmin, acctThird, east, guardpost.RelationshipCreated, guardpost.InvitationNone)), "put")
		// Another region's membership, and one where the account is the
		// member, are not the detector's.
		must(t, putMemberships(ctx, st, newMembership(acctAdmin, acctMember, west, guardpost.RelationshipEnabled, guardpost.InvitationAccepted)), "put west")
		must(t, putMemberships(ctx, st, newMembership(acctThird, acctAdmin, east, guardpost.RelationshipResigned, guardpost.InvitationDeclined)), "put member side")
		wantKind(t, st.DeleteDetector(ctx, scopeA, "d-admin"), guardpost.ECONFLICT, "DeleteDetector with an invited member")
		if _, err := st.Detector(ctx, scopeA, "d-admin"); err != nil {
			t.Fatalf("the refused deletion deleted the detector: %v", err)
		}
		for _, status := range []string{guardpost.RelationshipEnabled, guardpost.RelationshipDisabled} {
			assoc := *invited
			assoc.Status, assoc.Invitation = status, guardpost.InvitationAccepted
			must(t, putMemberships(ctx, st, &assoc), "associate")
			wantKind(t, st.DeleteDetector(ctx, scopeA, "d-admin"), guardpost.ECONFLICT, "DeleteDetector with an associated member ("+status+")")
		}
		removed := *invited
		removed.Status, removed.Invitation = guardpost.RelationshipRemoved, guardpost.InvitationNone
		must(t, putMemberships(ctx, st, &removed), "remove")
		must(t, st.DeleteDetector(ctx, scopeA, "d-admin"), "DeleteDetector with created and removed members")
		if got, _ := st.Memberships(ctx, scopeA, "", 0, false); len(got) != 0 {
			t.Errorf("members left after their detector: %v", membershipKeys(got))
		}
		if got, _ := st.Memberships(ctx, guardpost.Scope{AccountID: acctAdmin, Region: west}, "", 0, false); len(got) != 1 {
			t.Errorf("another region's members: %v", membershipKeys(got))
		}
		if got, _ := st.Invitations(ctx, scopeA, "", 0); len(got) != 1 {
			t.Errorf("the account's own invitations: %v", membershipKeys(got))
		}
	})
	t.Run("OneAdministratorUnderConcurrency", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		east := scopeA.Region
		const n = 8
		var admins []string
		for i := range n {
			admin := fmt.Sprintf("9000000000%02d", i)
			admins = append(admins, admin)
			must(t, putMemberships(ctx, st, newMembership(admin, acctMember, east, guardpost.RelationshipInvited, guardpost.InvitationPending)), "invite")
		}
		// Each goroutine accepts its administrator's invitation unless the
		// member already has one: the service's rule, which holds only if
		// each change sees the others' commits.
		var wg sync.WaitGroup
		for _, admin := range admins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.ChangeMemberships(ctx, guardpost.MembershipChange{Region: east, Accounts: []string{acctMember, admin}}, func(read *guardpost.MembershipsRead) (put, del []*guardpost.Membership, err error) {
					var mine *guardpost.Membership
					for _, m := range read.Memberships {
						if m.Invitation == guardpost.InvitationAccepted {
							return nil, nil, nil
						}
						if m.AdministratorID == admin {
							mine = m
						}
					}
					c := *mine
					c.Status, c.Invitation = guardpost.RelationshipEnabled, guardpost.InvitationAccepted
					return []*guardpost.Membership{&c}, nil, nil
				})
				if err != nil {
					t.Errorf("accept %s: %v", admin, err)
				}
			}()
		}
		wg.Wait()
		inv, err := st.Invitations(ctx, guardpost.Scope{AccountID: acctMember, Region: east}, "", 0)
		must(t, err, "Invitations")
		associated := 0
		for _, m := range inv {
			if m.Invitation == guardpost.InvitationAccepted {
				associated++
			}
		}
		if associated != 1 {
			t.Errorf("%d administrators after %d concurrent acceptances, want 1", associated, n)
		}
	})
}
