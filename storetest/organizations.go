package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

func newOrganization(org, region, admin string) *guardpost.OrganizationConfig {
	return &guardpost.OrganizationConfig{
		OrganizationID: org, Region: region, AdministratorID: admin, AutoEnable: guardpost.AutoEnableNew,
		Features: []guardpost.OrganizationFeature{
			{Name: "S3_DATA_EVENTS", AutoEnable: guardpost.AutoEnableAll},
			{Name: "RUNTIME_MONITORING", AutoEnable: guardpost.AutoEnableNone, Additional: []guardpost.OrganizationAdditional{
				{Name: "EKS_ADDON_MANAGEMENT", AutoEnable: guardpost.AutoEnableNew}}},
		},
		KnownAccounts: []string{acctAdmin, acctMember},
		EnabledAt:     t0, UpdatedAt: t0.Add(time.Second),
	}
}

// organizations: an organization's state round-trips per region, change
// reads what it replaces, an error or a nil result behave as documented,
// and concurrent designations leave one administrator.
func (s *suite) organizations(t *testing.T) {
	put := func(ctx context.Context, st guardpost.Store, c *guardpost.OrganizationConfig) error {
		return st.ChangeOrganization(ctx, c.OrganizationID, c.Region, func(*guardpost.OrganizationConfig) (*guardpost.OrganizationConfig, error) {
			return c, nil
		})
	}
	t.Run("RoundTrip", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		east, west := newOrganization("o-aaaaaaaaaa", "us-east-1", acctAdmin), newOrganization("o-aaaaaaaaaa", "us-west-2", acctThird)
		must(t, put(ctx, st, west), "ChangeOrganization")
		must(t, put(ctx, st, east), "ChangeOrganization")
		must(t, put(ctx, st, newOrganization("o-bbbbbbbbbb", "us-east-1", acctMember)), "ChangeOrganization")
		got, err := st.OrganizationConfigs(ctx, "o-aaaaaaaaaa")
		must(t, err, "OrganizationConfigs")
		if len(got) != 2 || !reflect.DeepEqual(got[0], east) || !reflect.DeepEqual(got[1], west) {
			t.Fatalf("OrganizationConfigs = %+v, want %+v and %+v (by region)", got, east, west)
		}
		if got, err := st.OrganizationConfigs(ctx, "o-cccccccccc"); err != nil || len(got) != 0 {
			t.Errorf("unknown organization: %v %v", got, err)
		}
	})
	t.Run("ChangeSeesCurrentAndDeletes", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		c := newOrganization("o-aaaaaaaaaa", "us-east-1", acctAdmin)
		must(t, put(ctx, st, c), "ChangeOrganization")
		failure := errors.New("refused")
		err := st.ChangeOrganization(ctx, c.OrganizationID, c.Region, func(cur *guardpost.OrganizationConfig) (*guardpost.OrganizationConfig, error) {
			if !reflect.DeepEqual(cur, c) {
				t.Errorf("change sees %+v, want %+v", cur, c)
			}
			n := *cur
			n.AdministratorID = acctThird
			return &n, failure
		})
		if err != failure {
			t.Fatalf("change error: %v, want it as returned", err)
		}
		if got, _ := st.OrganizationConfigs(ctx, c.OrganizationID); len(got) != 1 || got[0].AdministratorID != acctAdmin {
			t.Fatalf("after a failed change: %+v", got)
		}
		must(t, st.ChangeOrganization(ctx, c.OrganizationID, c.Region, func(*guardpost.OrganizationConfig) (*guardpost.OrganizationConfig, error) {
			return nil, nil
		}), "ChangeOrganization (delete)")
		if got, _ := st.OrganizationConfigs(ctx, c.OrganizationID); len(got) != 0 {
			t.Fatalf("after delete: %+v", got)
		}
		called := false
		must(t, st.ChangeOrganization(ctx, c.OrganizationID, c.Region, func(cur *guardpost.OrganizationConfig) (*guardpost.OrganizationConfig, error) {
			called = true
			if cur != nil {
				t.Errorf("change of a deleted organization sees %+v", cur)
			}
			return nil, nil
		}), "ChangeOrganization (none)")
		if !called {
			t.Error("change not called")
		}
	})
	t.Run("OneAdministrator", func(t *testing.T) {
		st, ctx := s.store(t), context.Background()
		var wg sync.WaitGroup
		won := make(chan string, 3)
		for _, admin := range []string{acctAdmin, acctMember, acctThird} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.ChangeOrganization(ctx, "o-aaaaaaaaaa", "us-east-1", func(cur *guardpost.OrganizationConfig) (*guardpost.OrganizationConfig, error) {
					if cur != nil {
						return nil, errors.New("taken")
					}
					return newOrganization("o-aaaaaaaaaa", "us-east-1", admin), nil
				})
				if err == nil {
					won <- admin
				}
			}()
		}
		wg.Wait()
		close(won)
		var winners []string
		for w := range won {
			winners = append(winners, w)
		}
		got, err := st.OrganizationConfigs(ctx, "o-aaaaaaaaaa")
		must(t, err, "OrganizationConfigs")
		if len(winners) != 1 || len(got) != 1 || got[0].AdministratorID != winners[0] {
			t.Fatalf("concurrent designations: winners %v, stored %+v", winners, got)
		}
	})
}
