package guardpost

import (
	"slices"
	"strings"
	"testing"
)

func TestNewOrganizations(t *testing.T) {
	o, err := NewOrganizations([]OrganizationAccount{
		{AccountID: "222222222222", OrganizationID: "o-aaaaaaaaaa"},
		{AccountID: "111111111111", OrganizationID: "o-aaaaaaaaaa", Management: true},
		{AccountID: "111111111111", OrganizationID: "o-aaaaaaaaaa", Management: true}, // a second key of the same account
		{AccountID: "333333333333"},
		{AccountID: "444444444444", OrganizationID: "o-bbbbbbbbbb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Accounts("o-aaaaaaaaaa"); !slices.Equal(got, []string{"111111111111", "222222222222"}) {
		t.Errorf("accounts of o-aaaaaaaaaa: %v", got)
	}
	if a, ok := o.Of("111111111111"); !ok || !a.Management {
		t.Errorf("management account: %+v %v", a, ok)
	}
	if _, ok := o.Of("333333333333"); ok {
		t.Error("an account without organization is in one")
	}
	if got := o.IDs(); !slices.Equal(got, []string{"o-aaaaaaaaaa", "o-bbbbbbbbbb"}) {
		t.Errorf("IDs: %v", got)
	}
	var none *Organizations
	if _, ok := none.Of("111111111111"); ok || none.Accounts("o-aaaaaaaaaa") != nil {
		t.Error("the nil directory knows an organization")
	}

	for _, tt := range []struct {
		name     string
		accounts []OrganizationAccount
		want     string
	}{
		{"two management accounts", []OrganizationAccount{
			{AccountID: "111111111111", OrganizationID: "o-aaaaaaaaaa", Management: true},
			{AccountID: "222222222222", OrganizationID: "o-aaaaaaaaaa", Management: true}}, "two management accounts"},
		{"two organizations", []OrganizationAccount{
			{AccountID: "111111111111", OrganizationID: "o-aaaaaaaaaa"},
			{AccountID: "111111111111", OrganizationID: "o-bbbbbbbbbb"}}, "declared with organization"},
		{"two roles", []OrganizationAccount{
			{AccountID: "111111111111", OrganizationID: "o-aaaaaaaaaa"},
			{AccountID: "111111111111", OrganizationID: "o-aaaaaaaaaa", Management: true}}, "declared with organization"},
	} {
		if _, err := NewOrganizations(tt.accounts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}
