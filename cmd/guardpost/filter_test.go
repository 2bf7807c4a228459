package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

func TestFilters(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := createDetector(t, c)
	probe := "Recon:EC2/PortProbeUnprotectedPort"
	other := "UnauthorizedAccess:EC2/SSHBruteForce"
	byType := func(v string) *types.FindingCriteria {
		return &types.FindingCriteria{Criterion: map[string]types.Condition{"type": {Equals: []string{v}}}}
	}

	t.Run("CRUD", func(t *testing.T) {
		out, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("filter1"),
			Description: aws.String("first"), FindingCriteria: byType(other), Tags: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Name) != "filter1" {
			t.Fatalf("name %q", aws.ToString(out.Name))
		}
		got, err := c.GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &det, FilterName: aws.String("filter1")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Action != types.FilterActionNoop || aws.ToInt32(got.Rank) != 1 || aws.ToString(got.Description) != "first" ||
			got.Tags["k"] != "v" || got.FindingCriteria.Criterion["type"].Equals[0] != other {
			t.Fatalf("GetFilter: %+v", got)
		}
		if _, err := c.UpdateFilter(ctx, &guardduty.UpdateFilterInput{DetectorId: &det, FilterName: aws.String("filter1"), Rank: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		got, err = c.GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &det, FilterName: aws.String("filter1")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt32(got.Rank) != 7 || aws.ToString(got.Description) != "first" {
			t.Fatalf("after update: %+v", got)
		}
		_, err = c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("filter1"), FindingCriteria: byType(other)})
		wantAPIError(t, err, "BadRequestException", "The request is rejected because a filter with the name filter1 already exists.")
		if _, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("filter0"), FindingCriteria: byType(other)}); err != nil {
			t.Fatal(err)
		}
		list, err := c.ListFilters(ctx, &guardduty.ListFiltersInput{DetectorId: &det, MaxResults: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		names := list.FilterNames
		for list.NextToken != nil {
			if list, err = c.ListFilters(ctx, &guardduty.ListFiltersInput{DetectorId: &det, MaxResults: aws.Int32(1), NextToken: list.NextToken}); err != nil {
				t.Fatal(err)
			}
			names = append(names, list.FilterNames...)
		}
		if strings.Join(names, ",") != "filter0,filter1" {
			t.Fatalf("ListFilters: %v", names)
		}
		for _, n := range []string{"filter0", "filter1"} {
			if _, err := c.DeleteFilter(ctx, &guardduty.DeleteFilterInput{DetectorId: &det, FilterName: aws.String(n)}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = c.GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &det, FilterName: aws.String("filter1")})
		if code, _ := apiError(t, err); code != "BadRequestException" {
			t.Fatalf("GetFilter after delete: %v", err)
		}
	})

	t.Run("Constraints", func(t *testing.T) {
		criteria := byType(other)
		for _, tc := range []struct {
			name string
			in   guardduty.CreateFilterInput
			msg  string // a part of the message that tells the user what to fix
		}{
			{"space in name", guardduty.CreateFilterInput{Name: aws.String("my filter")}, `contains ' '`},
			{"slash in name", guardduty.CreateFilterInput{Name: aws.String("a/b")}, `contains '/'`},
			{"short name", guardduty.CreateFilterInput{Name: aws.String("ab")}, "at 'name' failed to satisfy constraint: Member must have length greater than or equal to 3"},
			{"long name", guardduty.CreateFilterInput{Name: aws.String(strings.Repeat("n", 65))}, "Member must have length less than or equal to 64"},
			{"long description", guardduty.CreateFilterInput{Name: aws.String("desc"), Description: aws.String(strings.Repeat("d", 513))}, "at 'description' failed to satisfy constraint: Member must have length less than or equal to 512"},
			{"rank 0", guardduty.CreateFilterInput{Name: aws.String("rank0"), Rank: aws.Int32(0)}, "at 'rank' failed to satisfy constraint: Member must have value greater than or equal to 1"},
			{"rank 101", guardduty.CreateFilterInput{Name: aws.String("rank101"), Rank: aws.Int32(101)}, "Member must have value less than or equal to 100"},
			{"unknown action", guardduty.CreateFilterInput{Name: aws.String("act"), Action: "DELETE"}, "at 'action' failed to satisfy constraint: Member must satisfy enum value set: [NOOP, ARCHIVE]"},
			{"no criterion", guardduty.CreateFilterInput{Name: aws.String("empty"), FindingCriteria: &types.FindingCriteria{}}, "must name at least one attribute"},
		} {
			in := tc.in
			in.DetectorId = &det
			if in.FindingCriteria == nil {
				in.FindingCriteria = criteria
			}
			_, err := c.CreateFilter(ctx, &in)
			code, msg := apiError(t, err)
			if code != "BadRequestException" || !strings.Contains(msg, tc.msg) {
				t.Errorf("%s: got %s %q, want BadRequestException containing %q", tc.name, code, msg, tc.msg)
			}
		}
		// None of them was written.
		list, err := c.ListFilters(ctx, &guardduty.ListFiltersInput{DetectorId: &det})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range list.FilterNames {
			if n != "filter0" && n != "filter1" {
				t.Errorf("a rejected filter was written: %s", n)
			}
		}
	})

	t.Run("UnknownAttribute", func(t *testing.T) {
		_, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("bad"),
			FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"no.such.attribute": {Equals: []string{"x"}}}}})
		code, msg := apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, "no.such.attribute") {
			t.Fatalf("got %s %q", code, msg)
		}
	})

	t.Run("Suppression", func(t *testing.T) {
		if _, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("noop"),
			Action: types.FilterActionNoop, FindingCriteria: byType(other)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("archive-probes"),
			Action: types.FilterActionArchive, FindingCriteria: byType(probe)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: []string{probe, other}}); err != nil {
			t.Fatal(err)
		}
		ids := listAll(t, c, det, nil)
		out, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: ids})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Findings) != 2 {
			t.Fatalf("%d findings, want 2", len(out.Findings))
		}
		for _, f := range out.Findings {
			want := aws.ToString(f.Type) == probe
			if got := f.Service != nil && aws.ToBool(f.Service.Archived); got != want {
				t.Errorf("%s: archived %v, want %v", aws.ToString(f.Type), got, want)
			}
		}
	})
}
