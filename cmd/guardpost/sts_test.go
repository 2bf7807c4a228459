package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/guardpost/guardpost/sigv4"
	gpsts "github.com/guardpost/guardpost/sts"
)

// stsClient is a real STS SDK client pointed at the test server.
func (s *testServer) stsClient(key, secret, region string) *sts.Client {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:  testHTTPClient,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.endpoint()) })
}

func TestSTSGetCallerIdentitySDK(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	for _, tc := range []struct{ key, secret, profile, account, region, partition string }{
		{keyA, secretA, "a", accountA, "us-east-1", "aws"},
		{keyB, secretB, "b", accountB, "eu-west-1", "aws"},
		{keyB, secretB, "b", accountB, "us-gov-west-1", "aws-us-gov"},
	} {
		out, err := s.stsClient(tc.key, tc.secret, tc.region).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("%s: GetCallerIdentity: %v", tc.profile, err)
		}
		want := gpsts.CallerOf(sigv4.Credential{Profile: tc.profile, AccountID: tc.account}, tc.region)
		if aws.ToString(out.Account) != tc.account || aws.ToString(out.Arn) != "arn:"+tc.partition+":iam::"+tc.account+":user/"+tc.profile ||
			aws.ToString(out.UserId) != want.UserID {
			t.Fatalf("%s: Account %s Arn %s UserId %s, want %s %s %s", tc.profile,
				aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId), tc.account, want.Arn, want.UserID)
		}
	}

	// A wrong secret and an unknown key: the SDK's error codes.
	for _, tc := range []struct{ key, secret, code string }{
		{keyA, "wrong-secret", "SignatureDoesNotMatch"},
		{"AKIAUNKNOWNUNKNOWN00", secretA, "InvalidClientTokenId"},
	} {
		_, err := s.stsClient(tc.key, tc.secret, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Fatalf("key %s: err %v, want %s", tc.key, err, tc.code)
		}
	}

	// Other STS actions: a clear error, in STS's shape, that the SDK reads.
	_, err := s.stsClient(keyA, secretA, "us-east-1").GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("bob")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotImplemented" || !strings.Contains(ae.ErrorMessage(), "GetFederationToken is not implemented by guardpost") {
		t.Fatalf("GetFederationToken: %v", err)
	}
}

// TestSTSRoutingKeepsGuardDuty: GuardDuty on the same endpoint is untouched,
// and a plain unknown path still answers GuardDuty's UnknownOperationException.
func TestSTSRoutingKeepsGuardDuty(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	if _, err := s.stsClient(keyA, secretA, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	createDetector(t, s.clientA())
	r := s.do("POST", "/", "{}")
	if typ, _ := r.errorBody(t); r.Status != http.StatusNotFound || typ != "UnknownOperationException" {
		t.Fatalf("POST / as GuardDuty: %d %s", r.Status, r.Body)
	}
	// Signed for sts on a GuardDuty path: GuardDuty's route, GuardDuty's refusal.
	r = s.doAs(keyA, secretA, "us-east-1", "sts", "GET", "/detector", "")
	if typ, _ := r.errorBody(t); r.Status != http.StatusForbidden || typ != "InvalidSignatureException" {
		t.Fatalf("GET /detector signed for sts: %d %s", r.Status, r.Body)
	}
}

func TestSTSGetCallerIdentityCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the STS CLI test")
	}
	s := startServer(t)
	for _, p := range []struct{ profile, account string }{{"a", accountA}, {"b", accountB}} {
		cmd := exec.Command("aws", "--endpoint-url", s.endpoint(), "--output", "json", "--profile", p.profile, "sts", "get-caller-identity")
		cmd.Env = s.awsEnv()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws sts get-caller-identity --profile %s: %v\n%s", p.profile, err, stderrOf(err))
		}
		var got struct{ UserId, Account, Arn string }
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		want := gpsts.CallerOf(sigv4.Credential{Profile: p.profile, AccountID: p.account}, "us-east-1")
		if got.Account != want.Account || got.Arn != want.Arn || got.UserId != want.UserID {
			t.Fatalf("profile %s: %+v, want %+v", p.profile, got, want)
		}
	}
	// A wrong secret: the CLI names STS's error code.
	cmd := exec.Command("aws", "--endpoint-url", s.endpoint(), "sts", "get-caller-identity")
	cmd.Env = append(s.awsEnv(), "AWS_ACCESS_KEY_ID="+keyA, "AWS_SECRET_ACCESS_KEY=wrong-secret")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "(SignatureDoesNotMatch)") {
		t.Fatalf("wrong secret: err %v, output %s", err, out)
	}
}

const boto3STSScript = `
import json, sys, boto3, botocore.exceptions
out = {}
for p in ("a", "b"):
    out[p] = boto3.Session(profile_name=p).client("sts").get_caller_identity()
    del out[p]["ResponseMetadata"]
try:
    boto3.Session(aws_access_key_id="AKIAUNKNOWNUNKNOWN00", aws_secret_access_key="x").client("sts").get_caller_identity()
    out["error"] = None
except botocore.exceptions.ClientError as e:
    out["error"] = e.response["Error"]["Code"]
print(json.dumps(out))
`

// TestSTSGetCallerIdentityBoto3 points boto3 at guardpost the way tools do:
// with AWS_ENDPOINT_URL, for every service.
func TestSTSGetCallerIdentityBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 is not installed; skipping the STS boto3 test")
	}
	s := startServer(t)
	cmd := exec.Command("python3", "-c", boto3STSScript)
	cmd.Env = append(s.awsEnv(), "AWS_ENDPOINT_URL="+s.endpoint())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, stderrOf(err))
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	for p, account := range map[string]string{"a": accountA, "b": accountB} {
		want := gpsts.CallerOf(sigv4.Credential{Profile: p, AccountID: account}, "us-east-1")
		c, _ := got[p].(map[string]any)
		if c["Account"] != want.Account || c["Arn"] != want.Arn || c["UserId"] != want.UserID {
			t.Fatalf("profile %s: %v, want %+v", p, c, want)
		}
	}
	if got["error"] != "InvalidClientTokenId" {
		t.Fatalf("unknown key: error %v, want InvalidClientTokenId", got["error"])
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// TestSTSAuthenticatesBeforeTheBody: an STS request without valid
// credentials is refused on its header alone, as the GuardDuty edge
// refuses one: the server does not wait for (or hold) the 60 KB it
// announces. Before: STS read its whole body (up to 64 KiB) first.
func TestSTSAuthenticatesBeforeTheBody(t *testing.T) {
	s := startServer(t)
	now := time.Now().UTC()
	unknown := "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNUNKNOWN00/" + now.Format("20060102") +
		"/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)
	for _, tc := range []struct{ name, auth, code string }{
		{"no Authorization", "", "MissingAuthenticationToken"},
		{"unknown key", "Authorization: " + unknown + "\r\nX-Amz-Date: " + now.Format("20060102T150405Z") + "\r\n", "InvalidClientTokenId"},
	} {
		c := s.dial()
		c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: 60000\r\n" +
			tc.auth + "\r\nAction=GetCallerIdentity&Ver")
		r, err := c.answer(10 * time.Second)
		if err != nil {
			t.Fatalf("%s: no answer before the body: %v", tc.name, err)
		}
		var e struct {
			Code string `xml:"Error>Code"`
		}
		if err := xml.Unmarshal(r.Body, &e); err != nil || r.Status != http.StatusForbidden || e.Code != tc.code {
			t.Errorf("%s: %d %s, want 403 %s", tc.name, r.Status, r.Body, tc.code)
		}
	}
}
