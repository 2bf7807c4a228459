package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

// msgNoSuchResource is GuardDuty's answer (400 BadRequestException) for a
// filter, IP set or threat intel set that does not exist. Terraform's AWS
// provider matches it verbatim to drop a resource from its state instead of
// failing; docs/aws-messages.md lists where.
const msgNoSuchResource = "The request is rejected since no such resource found."

// terraformSeesGone is the test Terraform's AWS provider applies to a
// GetFilter or DeleteFilter error: a *types.BadRequestException whose
// message contains the text.
func terraformSeesGone(err error, text string) bool {
	var bre *types.BadRequestException
	return errors.As(err, &bre) && strings.Contains(bre.ErrorMessage(), text)
}

func wantBadRequest(t *testing.T, op string, err error, msg string) {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%s: want an HTTP error response, got %v", op, err)
	}
	if re.HTTPStatusCode() != 400 {
		t.Errorf("%s: HTTP %d, want 400", op, re.HTTPStatusCode())
	}
	wantAPIError(t, err, "BadRequestException", msg)
	if !terraformSeesGone(err, msg) {
		t.Errorf("%s: %v is not a *types.BadRequestException containing %q", op, err, msg)
	}
}

func TestMissingFilterAnswersLikeGuardDuty(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := createDetector(t, c)
	criteria := &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}}
	if _, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("gone"), FindingCriteria: criteria}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteFilter(ctx, &guardduty.DeleteFilterInput{DetectorId: &det, FilterName: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gone", "never-was"} {
		_, err := c.GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &det, FilterName: &name})
		wantBadRequest(t, "GetFilter "+name, err, msgNoSuchResource)
		_, err = c.UpdateFilter(ctx, &guardduty.UpdateFilterInput{DetectorId: &det, FilterName: &name, Rank: aws.Int32(1), FindingCriteria: criteria})
		wantBadRequest(t, "UpdateFilter "+name, err, msgNoSuchResource)
		_, err = c.DeleteFilter(ctx, &guardduty.DeleteFilterInput{DetectorId: &det, FilterName: &name})
		wantBadRequest(t, "DeleteFilter "+name, err, msgNoSuchResource)
	}
	// A filter of a detector the caller does not have: the detector's
	// message, which Terraform also takes as "gone" for a filter.
	missing := strings.Repeat("0", 32)
	_, err := c.GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &missing, FilterName: aws.String("gone")})
	wantBadRequest(t, "GetFilter of a missing detector", err, msgNotOwned)
	_, err = c.DeleteFilter(ctx, &guardduty.DeleteFilterInput{DetectorId: &missing, FilterName: aws.String("gone")})
	wantBadRequest(t, "DeleteFilter of a missing detector", err, msgNotOwned)
	_, err = c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &missing})
	wantBadRequest(t, "GetDetector of a missing detector", err, msgNotOwned)
	// Another account's detector is as missing as one that never existed.
	_, err = s.clientB().GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &det, FilterName: aws.String("gone")})
	wantBadRequest(t, "GetFilter of another account's detector", err, msgNotOwned)
}

// TestAWSCLIMissingFilter: the AWS CLI prints the error code and the exact
// text for each filter operation on a filter that does not exist.
func TestAWSCLIMissingFilter(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the CLI not-found check")
	}
	s := startServer(t)
	var created struct{ DetectorId string }
	s.cli(t, &created, "create-detector", "--enable")
	for op, args := range map[string][]string{
		"GetFilter":    {"get-filter", "--detector-id", created.DetectorId, "--filter-name", "nope"},
		"UpdateFilter": {"update-filter", "--detector-id", created.DetectorId, "--filter-name", "nope", "--description", "x"},
		"DeleteFilter": {"delete-filter", "--detector-id", created.DetectorId, "--filter-name", "nope"},
	} {
		cmd := exec.Command("aws", append([]string{"--endpoint-url", s.endpoint(), "guardduty"}, args...)...)
		cmd.Env = s.awsEnv()
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("aws %v succeeded: %s", args, out)
		}
		want := "An error occurred (BadRequestException) when calling the " + op + " operation: " + msgNoSuchResource
		if !strings.Contains(string(out), want) {
			t.Errorf("aws %v:\n%s\nwant it to contain %q", args, out, want)
		}
	}
}
