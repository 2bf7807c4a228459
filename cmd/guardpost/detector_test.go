package main

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/smithy-go"
)

// apiError returns the AWS error code and message of an SDK error, failing
// the test when err is not an API error.
func apiError(t *testing.T, err error) (code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	gotCode, gotMsg := apiError(t, err)
	if gotCode != code || (msg != "" && gotMsg != msg) {
		t.Fatalf("got %s %q, want %s %q", gotCode, gotMsg, code, msg)
	}
}

const msgNotOwned = "The request is rejected because the input detectorId is not owned by the current account."

func TestDetectorLifecycle(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()

	created, err := c.CreateDetector(ctx, &guardduty.CreateDetectorInput{
		Enable:                     aws.Bool(true),
		ClientToken:                aws.String("token-1"),
		FindingPublishingFrequency: types.FindingPublishingFrequencyFifteenMinutes,
		Tags:                       map[string]string{"team": "sec"},
		Features: []types.DetectorFeatureConfiguration{{
			Name: types.DetectorFeatureRuntimeMonitoring, Status: types.FeatureStatusEnabled,
			AdditionalConfiguration: []types.DetectorAdditionalConfiguration{{Name: types.FeatureAdditionalConfigurationEc2AgentManagement, Status: types.FeatureStatusEnabled}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.DetectorId)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("detector id %q is not 32 lowercase hex characters", id)
	}

	t.Run("idempotent on clientToken", func(t *testing.T) {
		again, err := c.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true), ClientToken: aws.String("token-1")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(again.DetectorId) != id {
			t.Fatalf("repeat with the same clientToken gave %s, want %s", aws.ToString(again.DetectorId), id)
		}
	})
	t.Run("second detector rejected", func(t *testing.T) {
		_, err := c.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true), ClientToken: aws.String("token-2")})
		wantAPIError(t, err, "BadRequestException", "The request is rejected because a detector already exists for the current account.")
		var bre *types.BadRequestException
		if !errors.As(err, &bre) {
			t.Fatalf("SDK did not type the error as BadRequestException: %T", err)
		}
	})
	t.Run("get", func(t *testing.T) {
		d, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &id})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.DetectorStatusEnabled || d.FindingPublishingFrequency != types.FindingPublishingFrequencyFifteenMinutes {
			t.Fatalf("status %s frequency %s", d.Status, d.FindingPublishingFrequency)
		}
		if d.Tags["team"] != "sec" || aws.ToString(d.ServiceRole) != "arn:aws:iam::"+accountA+":role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty" {
			t.Fatalf("tags %v service role %s", d.Tags, aws.ToString(d.ServiceRole))
		}
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(aws.ToString(d.CreatedAt)) {
			t.Fatalf("createdAt %q is not GuardDuty's ISO format", aws.ToString(d.CreatedAt))
		}
		var rm *types.DetectorFeatureConfigurationResult
		for i, f := range d.Features {
			if f.Name == types.DetectorFeatureResultRuntimeMonitoring {
				rm = &d.Features[i]
			}
			if f.UpdatedAt == nil {
				t.Errorf("feature %s has no updatedAt", f.Name)
			}
		}
		if rm == nil || rm.Status != types.FeatureStatusEnabled {
			t.Fatalf("RUNTIME_MONITORING not enabled: %+v", d.Features)
		}
		for _, a := range rm.AdditionalConfiguration {
			want := types.FeatureStatusDisabled
			if a.Name == types.FeatureAdditionalConfigurationEc2AgentManagement {
				want = types.FeatureStatusEnabled
			}
			if a.Status != want {
				t.Errorf("additional configuration %s is %s, want %s", a.Name, a.Status, want)
			}
		}
		if d.DataSources == nil || d.DataSources.CloudTrail.Status != types.DataSourceStatusEnabled {
			t.Fatalf("dataSources %+v", d.DataSources)
		}
	})
	t.Run("update", func(t *testing.T) {
		_, err := c.UpdateDetector(ctx, &guardduty.UpdateDetectorInput{DetectorId: &id, Enable: aws.Bool(false),
			FindingPublishingFrequency: types.FindingPublishingFrequencyOneHour,
			DataSources:                &types.DataSourceConfigurations{S3Logs: &types.S3LogsConfiguration{Enable: aws.Bool(false)}}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &id})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.DetectorStatusDisabled || d.FindingPublishingFrequency != types.FindingPublishingFrequencyOneHour || d.DataSources.S3Logs.Status != types.DataSourceStatusDisabled {
			t.Fatalf("after update: status %s frequency %s s3 %s", d.Status, d.FindingPublishingFrequency, d.DataSources.S3Logs.Status)
		}
		if aws.ToString(d.UpdatedAt) < aws.ToString(d.CreatedAt) {
			t.Fatalf("updatedAt %s before createdAt %s", aws.ToString(d.UpdatedAt), aws.ToString(d.CreatedAt))
		}
	})
	t.Run("list", func(t *testing.T) {
		out, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.DetectorIds, []string{id}) || out.NextToken != nil {
			t.Fatalf("ListDetectors = %v, %v", out.DetectorIds, out.NextToken)
		}
	})
	t.Run("another account sees nothing", func(t *testing.T) {
		b := s.clientB()
		_, err := b.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &id})
		wantAPIError(t, err, "BadRequestException", msgNotOwned)
		_, err = b.DeleteDetector(ctx, &guardduty.DeleteDetectorInput{DetectorId: &id})
		wantAPIError(t, err, "BadRequestException", msgNotOwned)
		out, err := b.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
		if err != nil || len(out.DetectorIds) != 0 {
			t.Fatalf("account B lists %v, %v", out, err)
		}
	})
	t.Run("another region is another scope", func(t *testing.T) {
		west := s.client(keyA, secretA, "us-west-2")
		_, err := west.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &id})
		wantAPIError(t, err, "BadRequestException", msgNotOwned)
		createDetector(t, west) // one detector per region is allowed
	})
	t.Run("delete takes findings with it", func(t *testing.T) {
		if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &id, FindingTypes: []string{"Recon:EC2/PortProbeUnprotectedPort"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteDetector(ctx, &guardduty.DeleteDetectorInput{DetectorId: &id}); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &id})
		wantAPIError(t, err, "BadRequestException", msgNotOwned)
		// A new detector starts with no findings.
		id2 := createDetector(t, c)
		out, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &id2})
		if err != nil || len(out.FindingIds) != 0 {
			t.Fatalf("new detector lists %v, %v", out, err)
		}
	})
}

func TestListDetectorsPaginates(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	regions := []string{"us-east-1", "us-east-2", "us-west-1"}
	// One detector per region: ListDetectors is per scope, so each page
	// here holds one; pagination is exercised with maxResults=1 in one
	// region, and the token must not leak into another.
	var ids []string
	for _, r := range regions {
		ids = append(ids, createDetector(t, s.client(keyA, secretA, r)))
	}
	c := s.client(keyA, secretA, "us-east-2")
	out, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{MaxResults: aws.Int32(1)})
	if err != nil || !slices.Equal(out.DetectorIds, []string{ids[1]}) || out.NextToken != nil {
		t.Fatalf("ListDetectors = %+v, %v", out, err)
	}
	resp := s.do(http.MethodGet, "/detector?nextToken=forged", "")
	if typ, _ := resp.errorBody(t); resp.Status != 400 || typ != "BadRequestException" {
		t.Fatalf("forged token: %d %s", resp.Status, resp.Body)
	}
}
