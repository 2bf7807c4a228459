package sts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/guardpost/guardpost/sigv4"
)

const (
	testKey     = "AKIAAAAAAAAAAAAAAAAA"
	testSecret  = "secretAsecretAsecretAsecretAsecretAsecr1"
	testAccount = "111122223333"
)

func testHandler() *Handler {
	return &Handler{Verifier: &sigv4.Verifier{Service: "sts", Credentials: map[string]sigv4.Credential{
		testKey: {Profile: "alice", AccessKeyID: testKey, SecretAccessKey: testSecret, AccountID: testAccount},
	}}}
}

// signed builds a query-protocol request signed with the SDK's signer.
func signed(t *testing.T, method, query, body, key, secret, service, region string) *http.Request {
	t.Helper()
	target := "http://localhost/"
	if query != "" {
		target += "?" + query
	}
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Del("Content-Type")
	if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

func serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	w.Header().Set("X-Amzn-RequestId", "req-1")
	testHandler().ServeHTTP(w, r)
	return w
}

const getCallerIdentity = "Action=GetCallerIdentity&Version=2011-06-15"

func TestGetCallerIdentityXML(t *testing.T) {
	w := serve(signed(t, "POST", "", getCallerIdentity, testKey, testSecret, "sts", "us-east-1"))
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/xml" {
		t.Fatalf("%d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	uid := CallerOf(sigv4.Credential{Profile: "alice", AccountID: testAccount}, "us-east-1").UserID
	want := `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
		`<Arn>arn:aws:iam::111122223333:user/alice</Arn><UserId>` + uid + `</UserId><Account>111122223333</Account>` +
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	if got := w.Body.String(); got != want {
		t.Fatalf("body\n%s\nwant\n%s", got, want)
	}
	if len(uid) != 21 || !strings.HasPrefix(uid, "AIDA") || strings.ContainsAny(uid, "=") {
		t.Fatalf("UserId %q: want AIDA and 17 base32 characters", uid)
	}

	// The same as a GET with the parameters in the query string, and the
	// partition follows the signing region.
	w = serve(signed(t, "GET", getCallerIdentity, "", testKey, testSecret, "sts", "cn-north-1"))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<Arn>arn:aws-cn:iam::111122223333:user/alice</Arn>") {
		t.Fatalf("GET: %d %s", w.Code, w.Body)
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-3": "aws", "cn-northwest-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f",
	} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%s) = %s, want %s", region, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
		typ    string
		code   string
		msg    string
	}{
		{"unknown key", func() *http.Request {
			return signed(t, "POST", "", getCallerIdentity, "AKIAUNKNOWNUNKNOWN00", testSecret, "sts", "us-east-1")
		}, 403, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"wrong secret", func() *http.Request {
			return signed(t, "POST", "", getCallerIdentity, testKey, "wrong", "sts", "us-east-1")
		}, 403, "Sender", "SignatureDoesNotMatch", "~The request signature we calculated does not match"},
		{"unsigned", func() *http.Request {
			r := httptest.NewRequest("POST", "http://localhost/", strings.NewReader(getCallerIdentity))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 403, "Sender", "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"incomplete signature", func() *http.Request {
			r := signed(t, "POST", "", getCallerIdentity, testKey, testSecret, "sts", "us-east-1")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20261201/us-east-1/sts/aws4_request")
			return r
		}, 400, "Sender", "IncompleteSignature", "~Authorization header requires 'Signature' parameter."},
		{"scoped to guardduty", func() *http.Request {
			return signed(t, "POST", "", getCallerIdentity, testKey, testSecret, "guardduty", "us-east-1")
		}, 403, "Sender", "SignatureDoesNotMatch", "~Credential should be scoped to correct service: 'sts'"},
		{"unknown action", func() *http.Request {
			return signed(t, "POST", "", "Action=ListUsers&Version=2011-06-15", testKey, testSecret, "sts", "us-east-1")
		}, 400, "Sender", "InvalidAction", "Could not find operation ListUsers for version 2011-06-15"},
		{"wrong version", func() *http.Request {
			return signed(t, "POST", "", "Action=GetCallerIdentity&Version=2010-05-08", testKey, testSecret, "sts", "us-east-1")
		}, 400, "Sender", "InvalidAction", "Could not find operation GetCallerIdentity for version 2010-05-08"},
		{"no action", func() *http.Request {
			return signed(t, "POST", "", "Version=2011-06-15", testKey, testSecret, "sts", "us-east-1")
		}, 400, "Sender", "MissingAction", "Missing Action"},
		{"not implemented yet", func() *http.Request {
			return signed(t, "POST", "", "Action=GetFederationToken&Version=2011-06-15&Name=bob",
				testKey, testSecret, "sts", "us-east-1")
		}, 501, "Receiver", "NotImplemented", "The STS action GetFederationToken is not implemented by guardpost yet; only GetCallerIdentity, GetSessionToken and AssumeRole are."},
		{"no session key", func() *http.Request {
			return signed(t, "POST", "", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fx&RoleSessionName=s",
				testKey, testSecret, "sts", "us-east-1")
		}, 501, "Receiver", "NotImplemented", "The STS action AssumeRole is not enabled on this guardpost server (it has no session key)."},
		{"too large", func() *http.Request {
			return signed(t, "POST", "", getCallerIdentity+"&x="+strings.Repeat("a", MaxBodyBytes), testKey, testSecret, "sts", "us-east-1")
		}, 413, "Sender", "RequestEntityTooLarge", "~larger than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(tc.req())
			if w.Code != tc.status || w.Header().Get("Content-Type") != "text/xml" {
				t.Fatalf("%d %s, want %d: %s", w.Code, w.Header().Get("Content-Type"), tc.status, w.Body)
			}
			if !strings.HasPrefix(w.Body.String(), `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>`) ||
				!strings.HasSuffix(w.Body.String(), `</Error><RequestId>req-1</RequestId></ErrorResponse>`) {
				t.Fatalf("not STS's error shape: %s", w.Body)
			}
			var e struct {
				Error struct{ Type, Code, Message string }
			}
			if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			if e.Error.Type != tc.typ || e.Error.Code != tc.code {
				t.Fatalf("%s %s, want %s %s", e.Error.Type, e.Error.Code, tc.typ, tc.code)
			}
			if want, ok := strings.CutPrefix(tc.msg, "~"); ok {
				if !strings.Contains(e.Error.Message, want) {
					t.Fatalf("message %q does not contain %q", e.Error.Message, want)
				}
			} else if e.Error.Message != tc.msg {
				t.Fatalf("message %q, want %q", e.Error.Message, tc.msg)
			}
		})
	}
}

func TestIsRequest(t *testing.T) {
	form := func(method, path, ct string) *http.Request {
		r := httptest.NewRequest(method, "http://localhost"+path, strings.NewReader(getCallerIdentity))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"signed for sts", signed(t, "POST", "", getCallerIdentity, testKey, testSecret, "sts", "us-east-1"), true},
		{"signed for guardduty", func() *http.Request {
			r := signed(t, "POST", "", "{}", testKey, testSecret, "guardduty", "us-east-1")
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), false},
		{"unsigned form", form("POST", "/", "application/x-www-form-urlencoded"), true},
		{"form elsewhere", form("POST", "/detector", "application/x-www-form-urlencoded"), false},
		{"json on /", form("POST", "/", "application/json"), false},
		{"GET query", httptest.NewRequest("GET", "http://localhost/?"+getCallerIdentity, nil), true},
		{"GET other version", httptest.NewRequest("GET", "http://localhost/?Action=GetCallerIdentity&Version=1", nil), false},
		{"GET /", httptest.NewRequest("GET", "http://localhost/", nil), false},
	} {
		if got := IsRequest(tc.r); got != tc.want {
			t.Errorf("%s: IsRequest = %v, want %v", tc.name, got, tc.want)
		}
	}
}
