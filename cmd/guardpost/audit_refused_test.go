package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/guardpost/guardpost/audit"
)

// TestAuditSTSIngestAndRefused: STS's AssumeRole, the CloudTrail ingest
// endpoint, and calls refused before their signature is verified (an
// unknown key, a wrong secret, for GuardDuty and for STS) are CloudTrail
// records with the identity as far as it is known; GetCallerIdentity is a
// read, recorded only with --audit-reads.
func TestAuditSTSIngestAndRefused(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	clock := &testClock{}
	stsA := s.stsClientAt(static(keyA, secretA, ""), clock)
	roleA := "arn:aws:iam::" + accountA + ":role/ops"
	assumed, err := stsA.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleA), RoleSessionName: aws.String("night-shift")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stsA.GetCallerIdentity(ctx, nil); err != nil {
		t.Fatal(err)
	}
	det := createDetector(t, s.clientA())
	rec := ctRecord("iam.amazonaws.com", "ListUsers", "torrecon", 0, map[string]any{"sourceIPAddress": plainIP})
	s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, rec))
	const unknownKey = "AKIAUNKNOWNUNKNOWN00"
	_, err = s.client(unknownKey, secretA, "eu-west-1").ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	wantAPIError(t, err, "UnrecognizedClientException", "")
	_, err = s.client(keyB, "wrong"+secretB, "us-east-1").ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: []string{"x"}})
	wantAPIError(t, err, "InvalidSignatureException", "")
	_, err = s.stsClientAt(static(keyB, "wrong"+secretB, ""), clock).GetCallerIdentity(ctx, nil)
	if err == nil {
		t.Fatal("STS with a wrong secret answered")
	}
	// The assumed role's key and token with a wrong secret.
	cr := assumed.Credentials
	_, err = s.sdkClient(static(aws.ToString(cr.AccessKeyId), "wrong"+aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)), "us-east-1", nil).
		GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &det})
	if err == nil {
		t.Fatal("a wrong secret for temporary credentials answered")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	byName := map[string][]audit.Record{}
	for _, r := range readAudit(t, s.DataDir) {
		byName[r.EventSource+" "+r.EventName] = append(byName[r.EventSource+" "+r.EventName], r)
	}
	one := func(key string) audit.Record {
		t.Helper()
		if len(byName[key]) != 1 {
			t.Fatalf("%d records of %s, want 1 (all: %v)", len(byName[key]), key, keys(byName))
		}
		return byName[key][0]
	}

	ar := one("sts.amazonaws.com AssumeRole")
	var params struct{ RoleArn, RoleSessionName string }
	json.Unmarshal(ar.RequestParameters, &params)
	var resp struct {
		Credentials struct {
			AccessKeyID string `json:"accessKeyId"`
		}
		AssumedRoleUser struct{ Arn string }
	}
	json.Unmarshal(ar.ResponseElements, &resp)
	if ar.UserIdentity.AccessKeyID != keyA || ar.UserIdentity.AccountID != accountA || ar.RecipientAccountID != accountA || ar.ErrorCode != "" ||
		params.RoleArn != roleA || params.RoleSessionName != "night-shift" ||
		resp.Credentials.AccessKeyID != aws.ToString(assumed.Credentials.AccessKeyId) || resp.AssumedRoleUser.Arn != aws.ToString(assumed.AssumedRoleUser.Arn) {
		t.Errorf("AssumeRole record: %+v\nparameters %s\nresponse %s", ar, ar.RequestParameters, ar.ResponseElements)
	}
	if len(byName["sts.amazonaws.com GetCallerIdentity"]) != 0 {
		t.Errorf("GetCallerIdentity (a read) recorded without --audit-reads")
	}

	in := one("guardduty.amazonaws.com IngestCloudTrail")
	var counts struct{ Records int }
	json.Unmarshal(in.ResponseElements, &counts)
	if in.UserIdentity.AccessKeyID != keyA || in.RecipientAccountID != accountA || in.ReadOnly || counts.Records != 1 {
		t.Errorf("IngestCloudTrail record: %+v, response %s", in, in.ResponseElements)
	}

	unknown := one("guardduty.amazonaws.com ListDetectors")
	if unknown.ErrorCode != "UnrecognizedClientException" || unknown.UserIdentity.Type != "Unknown" || unknown.UserIdentity.AccessKeyID != unknownKey ||
		unknown.UserIdentity.AccountID != "" || unknown.AWSRegion != "eu-west-1" || unknown.RecipientAccountID != "" {
		t.Errorf("refused call with an unknown key: %+v", unknown)
	}
	wrong := one("guardduty.amazonaws.com ArchiveFindings")
	if wrong.ErrorCode != "InvalidSignatureException" || wrong.UserIdentity.Type != "IAMUser" || wrong.UserIdentity.AccessKeyID != keyB ||
		wrong.UserIdentity.AccountID != accountB || wrong.RecipientAccountID != accountB || string(wrong.RequestParameters) != "null" {
		t.Errorf("refused call with a wrong secret: %+v", wrong)
	}
	role := one("guardduty.amazonaws.com GetDetector")
	if role.ErrorCode != "InvalidSignatureException" || role.UserIdentity.Type != "AssumedRole" || role.UserIdentity.ARN != aws.ToString(assumed.AssumedRoleUser.Arn) ||
		role.UserIdentity.AccessKeyID != aws.ToString(assumed.Credentials.AccessKeyId) || role.RecipientAccountID != accountA {
		t.Errorf("refused call with temporary credentials: %+v", role)
	}
	stsWrong := one("sts.amazonaws.com unknown")
	if stsWrong.ErrorCode != "SignatureDoesNotMatch" || stsWrong.UserIdentity.AccessKeyID != keyB || stsWrong.UserIdentity.AccountID != accountB {
		t.Errorf("refused STS call: %+v", stsWrong)
	}
}

func keys(m map[string][]audit.Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
