package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/smithy-go"

	"github.com/guardpost/guardpost/internal/sdkhttp"
)

func newGuardDutyClient(t *testing.T, endpoint, key, secret, region string) *guardduty.Client {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	return guardduty.New(guardduty.Options{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Transport: sdkhttp.PrivateBody{Inner: transport}},
		// No retries: a failure must show, not be papered over.
		Retryer: aws.NopRetryer{},
	})
}

// authServer is a minimal guardpost: Verify, then a canned answer.
type authServer struct {
	v *Verifier

	mu            sync.Mutex
	identities    []Identity
	signedHeaders map[string]string // "METHOD path" -> SignedHeaders of the last such request
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	id, err := s.v.Verify(r, body)
	if err != nil {
		var ae *AuthError
		if !errors.As(err, &ae) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-Amzn-ErrorType", ae.Code)
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": ae.Message, "__type": ae.Code})
		return
	}
	s.mu.Lock()
	s.identities = append(s.identities, id)
	s.signedHeaders[r.Method+" "+r.URL.Path] = signedHeadersOf(r)
	s.mu.Unlock()

	switch {
	case r.Method == "GET" && r.URL.Path == "/detector":
		io.WriteString(w, `{"detectorIds":[]}`)
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/findings/get"):
		io.WriteString(w, `{"findings":[]}`)
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/tags/"):
		io.WriteString(w, `{"tags":{}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"not found","__type":"BadRequestException"}`)
	}
}

func TestGoSDKEndToEnd(t *testing.T) {
	as := &authServer{v: &Verifier{
		Credentials: map[string]Credential{
			testKey: {Profile: "default", AccessKeyID: testKey, SecretAccessKey: testSecret, AccountID: testAccount},
		},
		Service: "guardduty",
	}, signedHeaders: map[string]string{}}
	srv := httptest.NewServer(as)
	defer srv.Close()
	ctx := context.Background()

	client := newGuardDutyClient(t, srv.URL, testKey, testSecret, "ap-southeast-2")
	// Enough calls that the closed-connection trap would show up.
	for i := range 50 {
		if _, err := client.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil {
			t.Fatalf("ListDetectors #%d: %v", i, err)
		}
		if _, err := client.GetFindings(ctx, &guardduty.GetFindingsInput{
			DetectorId: aws.String("abc"), FindingIds: []string{"f1", "f2"},
		}); err != nil {
			t.Fatalf("GetFindings #%d: %v", i, err)
		}
	}
	if _, err := client.ListDetectors(ctx, &guardduty.ListDetectorsInput{MaxResults: aws.Int32(1), NextToken: aws.String("a/b c")}); err != nil {
		t.Fatalf("ListDetectors with query: %v", err)
	}
	if _, err := client.ListTagsForResource(ctx, &guardduty.ListTagsForResourceInput{
		ResourceArn: aws.String("arn:aws:guardduty:us-east-1:123456789012:detector/abc"),
	}); err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}

	as.mu.Lock()
	for _, id := range as.identities {
		if id != (Identity{AccessKeyID: testKey, AccountID: testAccount, Region: "ap-southeast-2", Profile: "default"}) {
			t.Fatalf("identity %+v", id)
		}
	}
	if got, want := as.signedHeaders["POST /detector/abc/findings/get"],
		"amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date"; got != want {
		t.Errorf("GetFindings signed %q, want %q", got, want)
	}
	as.mu.Unlock()

	tests := []struct {
		name, key, secret, code string
	}{
		{"wrong secret", testKey, "wrong-secret", "InvalidSignatureException"},
		{"unknown key", "AKIAUNKNOWNUNKNOWN00", testSecret, "UnrecognizedClientException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := newGuardDutyClient(t, srv.URL, tt.key, tt.secret, "us-east-1")
			for _, call := range []func() error{
				func() error { _, err := bad.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); return err },
				func() error {
					_, err := bad.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String("abc"), FindingIds: []string{"f1"}})
					return err
				},
			} {
				err := call()
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("got %v, want an API error", err)
				}
				if apiErr.ErrorCode() != tt.code {
					t.Errorf("ErrorCode %q, want %q (message %q)", apiErr.ErrorCode(), tt.code, apiErr.ErrorMessage())
				}
				if tt.code == "InvalidSignatureException" && apiErr.ErrorMessage() != mismatch {
					t.Errorf("message %q", apiErr.ErrorMessage())
				}
				var respErr *awshttp.ResponseError
				if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusForbidden {
					t.Errorf("want HTTP 403, got %v", err)
				}
			}
		})
	}
}
