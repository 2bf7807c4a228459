package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// testClock is a server and client clock a test can move.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time           { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration)  { c.offset.Add(int64(d)) }
func (c *testClock) signer() clockSigner      { return clockSigner{clock: c.Now, inner: v4.NewSigner()} }
func skewed(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }

// clockSigner is the SDK's own signer, signing at another time (a client
// clock) or for another service than the client's.
type clockSigner struct {
	clock   func() time.Time
	service string
	inner   *v4.Signer
}

func (s clockSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) error {
	if s.service != "" {
		service = s.service
	}
	return s.inner.SignHTTP(ctx, c, r, payloadHash, service, region, s.clock(), optFns...)
}

// sdkClient is a GuardDuty SDK client with any credentials and signer.
func (s *testServer) sdkClient(creds aws.CredentialsProvider, region string, signer guardduty.HTTPSignerV4) *guardduty.Client {
	cfg := aws.Config{Region: region, Credentials: creds, HTTPClient: testHTTPClient, Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	return guardduty.NewFromConfig(cfg, func(o *guardduty.Options) {
		o.BaseEndpoint = aws.String(s.endpoint())
		if signer != nil {
			o.HTTPSignerV4 = signer
		}
	})
}

func static(key, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, token)
}

// wantRefusal checks an SDK error's code, message and HTTP status.
func wantRefusal(t *testing.T, what string, err error, status int, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("%s: status %v, want %d", what, err, status)
	}
	if ae.ErrorCode() != code {
		t.Errorf("%s: code %s (%s), want %s", what, ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if prefix, ok := strings.CutSuffix(msg, "…"); ok {
		if !strings.HasPrefix(ae.ErrorMessage(), prefix) {
			t.Errorf("%s: message %q, want prefix %q", what, ae.ErrorMessage(), prefix)
		}
	} else if ae.ErrorMessage() != msg {
		t.Errorf("%s: message %q, want %q", what, ae.ErrorMessage(), msg)
	}
}

// Profile c of the refusal tests (its own server) declares a session token.
const (
	keyTok     = "ASIACCCCCCCCCCCCCCCC"
	secretTok  = "secretCsecretCsecretCsecretCsecretCsecr3"
	tokenTok   = "FwoGZXIvYXdzEXAMPLETOKEN"
	accountTok = "777788889999"
)

func startServerWithTokenProfile(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	cred := filepath.Join(dir, "credentials")
	content := "[a]\naws_access_key_id = " + keyA + "\naws_secret_access_key = " + secretA + "\naws_account_id = " + accountA +
		"\n\n[c]\naws_access_key_id = " + keyTok + "\naws_secret_access_key = " + secretTok + "\naws_session_token = " + tokenTok +
		"\naws_account_id = " + accountTok + "\n"
	if err := os.WriteFile(cred, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServerWith(t, dir, cred)
}

const (
	msgInvalidToken = "The security token included in the request is invalid."
	msgMismatch     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// TestSigV4RefusalsSDK: every refusal of point 4, as the Go SDK reads it
// (GuardDuty's restJson1 errors, all 403).
func TestSigV4RefusalsSDK(t *testing.T) {
	s := startServerWithTokenProfile(t)
	ctx := context.Background()
	list := func(c *guardduty.Client) error {
		_, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
		return err
	}
	for _, tc := range []struct {
		name   string
		client *guardduty.Client
		code   string
		msg    string
	}{
		{"wrong secret", s.sdkClient(static(keyA, "wrong", ""), "us-east-1", nil), "InvalidSignatureException", msgMismatch},
		{"unknown key", s.sdkClient(static("AKIAUNKNOWNUNKNOWN00", secretA, ""), "us-east-1", nil), "UnrecognizedClientException", msgInvalidToken},
		{"client clock 16 minutes behind", s.sdkClient(static(keyA, secretA, ""), "us-east-1",
			clockSigner{clock: skewed(-16 * time.Minute), inner: v4.NewSigner()}), "InvalidSignatureException", "Signature expired: …"},
		{"client clock 16 minutes ahead", s.sdkClient(static(keyA, secretA, ""), "us-east-1",
			clockSigner{clock: skewed(16 * time.Minute), inner: v4.NewSigner()}), "InvalidSignatureException", "Signature not yet current: …"},
		{"scope for another service", s.sdkClient(static(keyA, secretA, ""), "us-east-1",
			clockSigner{clock: time.Now, service: "securityhub", inner: v4.NewSigner()}), "InvalidSignatureException",
			"Credential should be scoped to correct service: 'guardduty'. "},
		{"region of no partition", s.sdkClient(static(keyA, secretA, ""), "us-east-7", nil), "InvalidSignatureException",
			"Credential should be scoped to a valid region, not 'us-east-7'. "},
		{"session token with a long-term key", s.sdkClient(static(keyA, secretA, "some-token"), "us-east-1", nil),
			"UnrecognizedClientException", msgInvalidToken},
		{"profile's session token missing", s.sdkClient(static(keyTok, secretTok, ""), "us-east-1", nil), "UnrecognizedClientException", msgInvalidToken},
		{"profile's session token wrong", s.sdkClient(static(keyTok, secretTok, tokenTok+"x"), "us-east-1", nil), "UnrecognizedClientException", msgInvalidToken},
		{"forged temporary credentials", s.sdkClient(static("ASIAFORGEDFORGEDFORG", "x", "forged-token"), "us-east-1", nil),
			"UnrecognizedClientException", msgInvalidToken},
	} {
		wantRefusal(t, tc.name, list(tc.client), http.StatusForbidden, tc.code, tc.msg)
	}
	// The clock-skew messages in full: AWS's format, a 15-minute window.
	err := list(s.sdkClient(static(keyA, secretA, ""), "us-east-1", clockSigner{clock: skewed(-16 * time.Minute), inner: v4.NewSigner()}))
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.HasSuffix(ae.ErrorMessage(), " - 15 min.)") || !strings.Contains(ae.ErrorMessage(), " is now earlier than ") {
		t.Errorf("expired message: %v", err)
	}

	// The profile's session token, when sent, is accepted.
	if err := list(s.sdkClient(static(keyTok, secretTok, tokenTok), "us-east-1", nil)); err != nil {
		t.Fatalf("profile with its session token: %v", err)
	}

	// Refusals no SDK produces, on requests signed by the SDK's signer.
	body := `{"findingIds":["x"]}`
	det := createDetector(t, s.clientA())
	path := "/detector/" + det + "/findings/get"
	for _, tc := range []struct {
		name   string
		edit   func(r *http.Request)
		status int
		code   string
		msg    string
	}{
		{"duplicated X-Amz-Date", func(r *http.Request) { r.Header.Add("X-Amz-Date", r.Header.Get("X-Amz-Date")) },
			403, "IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got '…"},
		{"unsigned X-Amz-Date", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-date", "", 1))
		}, 403, "InvalidSignatureException", "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."},
		{"unsigned Host", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
		}, 403, "InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"X-Amz-Content-Sha256 not the body's", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64)) },
			403, "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."},
	} {
		req := s.signed(keyA, secretA, "us-east-1", "guardduty", "POST", path, body, time.Now())
		tc.edit(req)
		r := s.send(req)
		typ, msg := r.errorBody(t)
		if r.Status != tc.status || typ != tc.code || !strings.HasPrefix(msg, strings.TrimSuffix(tc.msg, "…")) {
			t.Errorf("%s: %d %s %q, want %d %s %q", tc.name, r.Status, typ, msg, tc.status, tc.code, tc.msg)
		}
	}

	// UNSIGNED-PAYLOAD: GuardDuty, like every service but S3, signs the
	// body's hash, so a request signed over UNSIGNED-PAYLOAD mismatches.
	req, err := http.NewRequest("POST", s.endpoint()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secretA}, req, "UNSIGNED-PAYLOAD",
		"guardduty", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	r := s.send(req)
	if typ, msg := r.errorBody(t); r.Status != 403 || typ != "InvalidSignatureException" || msg != msgMismatch {
		t.Errorf("UNSIGNED-PAYLOAD: %d %s %q", r.Status, typ, msg)
	}
}

// TestSigV4RefusalsSTS: the same refusals answered by STS, in its XML
// error shape with its own codes, as the STS SDK client reads them.
func TestSigV4RefusalsSTS(t *testing.T) {
	s := startServerWithTokenProfile(t)
	ctx := context.Background()
	call := func(creds aws.CredentialsProvider, region string, signer sts.HTTPSignerV4) error {
		cfg := aws.Config{Region: region, Credentials: creds, HTTPClient: testHTTPClient, Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
		c := sts.NewFromConfig(cfg, func(o *sts.Options) {
			o.BaseEndpoint = aws.String(s.endpoint())
			if signer != nil {
				o.HTTPSignerV4 = signer
			}
		})
		_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}
	wantRefusal(t, "expired signature", call(static(keyA, secretA, ""), "us-east-1", clockSigner{clock: skewed(-16 * time.Minute), inner: v4.NewSigner()}),
		403, "SignatureDoesNotMatch", "Signature expired: …")
	wantRefusal(t, "token with a long-term key", call(static(keyA, secretA, "tok"), "us-east-1", nil), 403, "InvalidClientTokenId", msgInvalidToken)
	wantRefusal(t, "profile token missing", call(static(keyTok, secretTok, ""), "us-east-1", nil), 403, "InvalidClientTokenId", msgInvalidToken)
	wantRefusal(t, "region of no partition", call(static(keyA, secretA, ""), "eu-moon-1", nil), 403, "SignatureDoesNotMatch",
		"Credential should be scoped to a valid region, not 'eu-moon-1'. ")
	wantRefusal(t, "scope for guardduty", call(static(keyA, secretA, ""), "us-east-1", clockSigner{clock: time.Now, service: "guardduty", inner: v4.NewSigner()}),
		403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'. ")
	if err := call(static(keyTok, secretTok, tokenTok), "us-east-1", nil); err != nil {
		t.Fatalf("profile with its token: %v", err)
	}
}

// presign makes a presigned URL with the SDK's v4 signer (PresignHTTP).
func presign(t *testing.T, c aws.Credentials, method, url, body, service string, at time.Time) string {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	uri, _, err := v4.NewSigner().PresignHTTP(context.Background(), c, req, hex.EncodeToString(sum[:]), service, "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return uri
}

func plainDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := testHTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestPresignedURLs: presigned ListDetectors and GetFindings URLs work with
// a plain HTTP client (no SDK, no Authorization header), until they expire.
func TestPresignedURLs(t *testing.T) {
	s := startServer(t)
	det := sampleDetector(t, s.clientA())
	ids, err := s.clientA().ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(2)})
	if err != nil || len(ids.FindingIds) == 0 {
		t.Fatalf("ListFindings: %v", err)
	}
	credsA := aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secretA}

	url := presign(t, credsA, "GET", s.endpoint()+"/detector?maxResults=10", "", "guardduty", time.Now())
	if !strings.Contains(url, "X-Amz-Signature=") || !strings.Contains(url, "X-Amz-Credential=") {
		t.Fatalf("not presigned: %s", url)
	}
	if code, body := plainDo(t, "GET", url, ""); code != 200 || !strings.Contains(body, det) {
		t.Fatalf("presigned ListDetectors: %d %s", code, body)
	}

	getBody := `{"findingIds":["` + ids.FindingIds[0] + `"]}`
	url = presign(t, credsA, "POST", s.endpoint()+"/detector/"+det+"/findings/get", getBody, "guardduty", time.Now())
	if code, body := plainDo(t, "POST", url, getBody); code != 200 || !strings.Contains(body, ids.FindingIds[0]) {
		t.Fatalf("presigned GetFindings: %d %s", code, body)
	}
	// The URL authenticates its body: another body is refused.
	otherBody := `{"findingIds":["` + ids.FindingIds[1] + `"]}`
	if code, body := plainDo(t, "POST", url, otherBody); code != 403 || !strings.Contains(body, "InvalidSignatureException") {
		t.Fatalf("presigned GetFindings with another body: %d %s", code, body)
	}

	// Signed 16 minutes ago: expired, whatever X-Amz-Expires says.
	url = presign(t, credsA, "GET", s.endpoint()+"/detector?X-Amz-Expires=3600", "", "guardduty", time.Now().Add(-16*time.Minute))
	code, body := plainDo(t, "GET", url, "")
	if code != 403 || !strings.Contains(body, `"__type":"InvalidSignatureException"`) || !strings.Contains(body, "Signature expired: ") {
		t.Fatalf("expired presigned ListDetectors: %d %s", code, body)
	}
	url = presign(t, credsA, "POST", s.endpoint()+"/detector/"+det+"/findings/get", getBody, "guardduty", time.Now().Add(-16*time.Minute))
	if code, body := plainDo(t, "POST", url, getBody); code != 403 || !strings.Contains(body, "Signature expired: ") {
		t.Fatalf("expired presigned GetFindings: %d %s", code, body)
	}

	// STS too: a presigned GetCallerIdentity (what EKS tokens are).
	url = presign(t, credsA, "GET", s.endpoint()+"/?Action=GetCallerIdentity&Version=2011-06-15", "", "sts", time.Now())
	if code, body := plainDo(t, "GET", url, ""); code != 200 || !strings.Contains(body, "<Account>"+accountA+"</Account>") {
		t.Fatalf("presigned GetCallerIdentity: %d %s", code, body)
	}
}
