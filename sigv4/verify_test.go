package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey     = "AKIAIOSFODNN7EXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testAccount = "123456789012"
	testRegion  = "eu-central-1"

	tagsPath = "/tags/arn%3Aaws%3Aguardduty%3Aus-east-1%3A123456789012%3Adetector%2Fabc"
)

var signTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func testVerifier(now time.Time) *Verifier {
	return &Verifier{
		Credentials: map[string]Credential{
			testKey: {Profile: "default", AccessKeyID: testKey, SecretAccessKey: testSecret, AccountID: testAccount},
		},
		Service: "guardduty",
		Now:     func() time.Time { return now },
	}
}

// clientStyle selects the headers a real client sends and signs.
type clientStyle int

const (
	goSDK  clientStyle = iota // signs amz-sdk-*, content-length, content-type, host, x-amz-date
	awsCLI                    // signs content-type (with a body), host, x-amz-date; sends Content-Length unsigned
)

// signOpts tweaks a signed request; the zero value is a valid request.
type signOpts struct {
	key, secret, token, service, region string
	time                                time.Time
	extraHeaders                        map[string]string // set before signing; lowercase keys get signed even if the signer ignores them
}

// signedRequest signs a client request like the given client would and
// returns it the way net/http's server receives it (http.ReadRequest on the
// bytes the client writes), plus its body.
func signedRequest(t *testing.T, style clientStyle, method, target string, body []byte, o signOpts) (*http.Request, []byte) {
	t.Helper()
	if o.key == "" {
		o.key = testKey
	}
	if o.secret == "" {
		o.secret = testSecret
	}
	if o.service == "" {
		o.service = "guardduty"
	}
	if o.region == "" {
		o.region = testRegion
	}
	if o.time.IsZero() {
		o.time = signTime
	}

	req, err := http.NewRequest(method, "https://guardduty.example.com"+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch style {
	case goSDK:
		req.Header.Set("Amz-Sdk-Invocation-Id", "8a1b4c35-4a3d-4a44-9dd8-23e0f4a1b0c1")
		req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
		req.Header.Set("User-Agent", "aws-sdk-go-v2/1.36.0 os/linux lang/go#1.26 api/guardduty#1.78.2")
		if len(body) > 0 {
			req.Header.Set("Content-Type", "application/json")
		}
		req.ContentLength = int64(len(body))
	case awsCLI:
		req.Header.Set("User-Agent", "aws-cli/2.27.0 md/awscrt#0.26.1 ua/2.1 os/linux")
		if len(body) > 0 {
			req.Header.Set("Content-Type", "application/json")
		}
		req.ContentLength = 0 // botocore signs before the HTTP layer adds Content-Length
	}
	for k, v := range o.extraHeaders {
		req.Header.Del(k) // a lowercase key replaces the canonical one
		req.Header[k] = []string{v}
	}

	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: o.key, SecretAccessKey: o.secret, SessionToken: o.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), o.service, o.region, o.time); err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	return receive(t, req)
}

// receive writes a client request and reads it back as a server would.
func receive(t *testing.T, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	// Header keys lowercased for the signer must go out once, canonically.
	h := make(http.Header)
	for k, v := range req.Header {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		h[ck] = append(h[ck], v...)
	}
	req.Header = h
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return readRequest(t, buf.Bytes())
}

func readRequest(t *testing.T, raw []byte) (*http.Request, []byte) {
	t.Helper()
	sr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("reading request: %v\n%s", err, raw)
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sr, body
}

func signedHeadersOf(r *http.Request) string {
	_, after, _ := strings.Cut(r.Header.Get("Authorization"), "SignedHeaders=")
	sh, _, _ := strings.Cut(after, ",")
	return sh
}

func mustVerify(t *testing.T, v *Verifier, r *http.Request, body []byte) Identity {
	t.Helper()
	id, err := v.Verify(r, body)
	if err != nil {
		t.Fatalf("Verify: %v (%#v)", err, err)
	}
	if id.AccessKeyID != testKey || id.AccountID != testAccount {
		t.Errorf("identity %+v", id)
	}
	return id
}

func TestVerifyAccepts(t *testing.T) {
	getFindings := []byte(`{"findingIds":["f1"]}`)
	tests := []struct {
		name          string
		style         clientStyle
		method        string
		target        string
		body          []byte
		signedHeaders string
	}{
		{"go sdk POST", goSDK, "POST", "/detector/abc/findings/get", getFindings,
			"amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date"},
		{"go sdk GET", goSDK, "GET", "/detector", nil, "amz-sdk-invocation-id;amz-sdk-request;host;x-amz-date"},
		{"cli GET", awsCLI, "GET", "/detector", nil, "host;x-amz-date"},
		{"cli POST", awsCLI, "POST", "/detector/abc/findings/get", getFindings, "content-type;host;x-amz-date"},
		{"go sdk escaped label", goSDK, "GET", tagsPath, nil, "amz-sdk-invocation-id;amz-sdk-request;host;x-amz-date"},
		{"cli escaped label", awsCLI, "GET", tagsPath, nil, "host;x-amz-date"},
		{"go sdk query", goSDK, "GET", "/detector?maxResults=1&nextToken=a%2Fb", nil, "amz-sdk-invocation-id;amz-sdk-request;host;x-amz-date"},
		{"cli query", awsCLI, "GET", "/detector?maxResults=1&nextToken=a%2Fb", nil, "host;x-amz-date"},
		{"escaped label and body", goSDK, "POST", tagsPath, []byte(`{"tags":{"k":"v"}}`),
			"amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := signedRequest(t, tt.style, tt.method, tt.target, tt.body, signOpts{})
			if got := signedHeadersOf(r); got != tt.signedHeaders {
				t.Fatalf("client signed %q, want %q (test does not mimic the real client)", got, tt.signedHeaders)
			}
			if strings.Contains(tt.target, "%3A") && r.URL.RawPath == "" {
				t.Fatalf("server request has no RawPath: %#v", r.URL)
			}
			id := mustVerify(t, testVerifier(signTime.Add(2*time.Minute)), r, body)
			if id.Region != testRegion {
				t.Errorf("region %q, want %q", id.Region, testRegion)
			}
		})
	}
}

func TestVerifyVariants(t *testing.T) {
	v := testVerifier(signTime)
	body := []byte(`{"findingIds":["f1"]}`)

	t.Run("any partition's region", func(t *testing.T) {
		for _, region := range []string{"us-east-1", "cn-northwest-1", "us-gov-west-1", "eusc-de-east-1"} {
			r, b := signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{region: region})
			if id := mustVerify(t, v, r, b); id.Region != region {
				t.Errorf("region %q, want %q", id.Region, region)
			}
		}
	})
	t.Run("unsigned header changed", func(t *testing.T) {
		r, b := signedRequest(t, goSDK, "POST", "/detector/abc/findings/get", body, signOpts{})
		r.Header.Set("User-Agent", "something else")
		r.Header.Set("X-Amzn-Trace-Id", "Root=1-abc")
		mustVerify(t, v, r, b)
	})
	t.Run("security token signed", func(t *testing.T) {
		v := testVerifier(signTime)
		c := v.Credentials[testKey]
		c.SessionToken = "session-token"
		v.Credentials[testKey] = c
		r, b := signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{token: "session-token"})
		if sh := signedHeadersOf(r); !strings.Contains(sh, "x-amz-security-token") {
			t.Fatalf("token not signed: %s", sh)
		}
		mustVerify(t, v, r, b)
	})
	t.Run("x-amz-content-sha256 matching", func(t *testing.T) {
		sum := sha256.Sum256(body)
		r, b := signedRequest(t, goSDK, "POST", "/detector/abc/findings/get", body,
			signOpts{extraHeaders: map[string]string{"X-Amz-Content-Sha256": hex.EncodeToString(sum[:])}})
		mustVerify(t, v, r, b)
	})
	t.Run("user-agent signed", func(t *testing.T) {
		// Clients such as the AWS SDK for Java v1 sign User-Agent, which the
		// Go signer skips unless the header key is not canonical.
		r, b := signedRequest(t, goSDK, "GET", "/detector", nil,
			signOpts{extraHeaders: map[string]string{"user-agent": "aws-sdk-java/1.12.0", "expect": "100-continue"}})
		if sh := signedHeadersOf(r); !strings.Contains(sh, "user-agent") || !strings.Contains(sh, "expect") {
			t.Fatalf("user-agent/expect not signed: %s", sh)
		}
		mustVerify(t, v, r, b)
		r.Header.Set("User-Agent", "tampered")
		if _, err := v.Verify(r, b); err == nil {
			t.Error("tampered signed User-Agent accepted")
		}
	})
	t.Run("explicit default port in host", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://guardduty.example.com/detector", nil)
		req.Host = "guardduty.example.com:80"
		// Signed with the scheme cleared, so the signer keeps the port,
		// as a client that signs the Host header verbatim would.
		req.URL.Scheme = ""
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret},
			req, hex.EncodeToString(sum[:]), "guardduty", testRegion, signTime); err != nil {
			t.Fatal(err)
		}
		req.URL.Scheme = "http"
		r, b := receive(t, req)
		if r.Host != "guardduty.example.com:80" {
			t.Fatalf("host %q", r.Host)
		}
		mustVerify(t, v, r, b)
	})
	t.Run("repeated header", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://guardduty.example.com/detector", nil)
		req.Header["X-Custom"] = []string{"a", "b  c"}
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret},
			req, hex.EncodeToString(sum[:]), "guardduty", testRegion, signTime); err != nil {
			t.Fatal(err)
		}
		r, b := receive(t, req)
		mustVerify(t, v, r, b)
	})
	t.Run("routing rewrote the URL", func(t *testing.T) {
		r, b := signedRequest(t, goSDK, "GET", tagsPath, nil, signOpts{})
		r.URL.Path, r.URL.RawPath = "/rewritten", "" // e.g. http.StripPrefix
		mustVerify(t, v, r, b)
	})
	t.Run("concurrent", func(t *testing.T) {
		r, b := signedRequest(t, goSDK, "POST", "/detector/abc/findings/get", body, signOpts{})
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if _, err := v.Verify(r, b); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	})
	t.Run("default service and clock", func(t *testing.T) {
		now := time.Now().UTC().Truncate(time.Second)
		r, b := signedRequest(t, awsCLI, "GET", "/detector", nil, signOpts{time: now})
		dv := &Verifier{Credentials: testVerifier(now).Credentials}
		mustVerify(t, dv, r, b)
		r, b = signedRequest(t, awsCLI, "GET", "/detector", nil, signOpts{time: now, service: "s3"})
		if _, err := dv.Verify(r, b); err == nil {
			t.Error("empty Service accepted an s3-scoped signature")
		}
	})
}

const mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func TestVerifyErrors(t *testing.T) {
	body := []byte(`{"findingIds":["f1"]}`)
	post := func(t *testing.T, o signOpts) (*http.Request, []byte) {
		return signedRequest(t, goSDK, "POST", "/detector/abc/findings/get", body, o)
	}
	get := func(t *testing.T, o signOpts) (*http.Request, []byte) {
		return signedRequest(t, awsCLI, "GET", "/detector", nil, o)
	}
	setAuth := func(r *http.Request, old, new string) {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
	}
	scope := testKey + "/20240506/" + testRegion + "/guardduty/aws4_request"

	tests := []struct {
		name string
		now  time.Time // zero: signTime
		req  func(t *testing.T) (*http.Request, []byte)
		code string
		msg  string // exact, or a prefix when it ends in "…"
	}{
		{"no authorization", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			r.Header.Del("Authorization")
			return r, b
		}, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"garbage authorization", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			r.Header.Set("Authorization", "foo")
			return r, b
		}, "IncompleteSignatureException", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=foo"},
		{"no signature", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
			return r, b
		}, "IncompleteSignatureException", "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;x-amz-date"},
		{"no signed headers or date", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "SignedHeaders=host;x-amz-date, ", "")
			r.Header.Del("X-Amz-Date")
			return r, b
		}, "IncompleteSignatureException", "Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=…"},
		{"no date", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := post(t, signOpts{})
			r.Header.Del("X-Amz-Date")
			return r, b
		}, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=…"},
		{"malformed date", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			r.Header.Set("X-Amz-Date", "2024-05-06T07:08:09Z")
			return r, b
		}, "IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got '2024-05-06T07:08:09Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{"unsupported algorithm", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")
			return r, b
		}, "IncompleteSignatureException", "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'. Only 'AWS4-HMAC-SHA256' is supported. Authorization=…"},
		{"short credential", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "/aws4_request", "")
			return r, b
		}, "IncompleteSignatureException", "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + testKey + "/20240506/" + testRegion + "/guardduty'"},
		{"bad scope date", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "/20240506/", "/2024-05-06/")
			return r, b
		}, "IncompleteSignatureException", "Credential should be scoped to a valid date in YYYYMMDD format, not '2024-05-06'. "},
		{"bad region", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			return get(t, signOpts{region: "EU_CENTRAL_1"})
		}, "IncompleteSignatureException", "Credential should be scoped to a valid region, not 'EU_CENTRAL_1'. "},
		{"bad terminator", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "/aws4_request", "/aws5_request")
			return r, b
		}, "IncompleteSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "},
		{"two authorization headers", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r, b
		}, "IncompleteSignatureException", "Only one Authorization header is allowed."},
		{"unknown key", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			return post(t, signOpts{key: "AKIAUNKNOWNUNKNOWN00"})
		}, "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"wrong service", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			return post(t, signOpts{service: "securityhub"})
		}, "InvalidSignatureException", "Credential should be scoped to correct service: 'guardduty'. "},
		{"scope date mismatch", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "/20240506/", "/20240505/")
			return r, b
		}, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240505' != '20240506', from '20240506T070809Z'."},
		{"expired", signTime.Add(15*time.Minute + time.Second), func(t *testing.T) (*http.Request, []byte) {
			return post(t, signOpts{})
		}, "InvalidSignatureException", "Signature expired: 20240506T070809Z is now earlier than 20240506T070810Z (20240506T072310Z - 15 min.)"},
		{"not yet current", signTime.Add(-15*time.Minute - time.Second), func(t *testing.T) (*http.Request, []byte) {
			return post(t, signOpts{})
		}, "InvalidSignatureException", "Signature not yet current: 20240506T070809Z is still later than 20240506T070808Z (20240506T065308Z + 15 min.)"},
		{"wrong secret", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			return post(t, signOpts{secret: "not-the-secret"})
		}, "InvalidSignatureException", mismatch},
		{"tampered body", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, _ := post(t, signOpts{})
			return r, []byte(`{"findingIds":["f2"]}`)
		}, "InvalidSignatureException", mismatch},
		{"tampered signed header", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := post(t, signOpts{})
			r.Header.Set("Content-Type", "text/plain")
			return r, b
		}, "InvalidSignatureException", mismatch},
		{"tampered host", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := post(t, signOpts{})
			r.Host = "evil.example.com"
			return r, b
		}, "InvalidSignatureException", mismatch},
		{"tampered path", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := post(t, signOpts{})
			r.RequestURI = "/detector/xyz/findings/get"
			return r, b
		}, "InvalidSignatureException", mismatch},
		{"tampered query", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := signedRequest(t, goSDK, "GET", "/detector?maxResults=1&nextToken=a%2Fb", nil, signOpts{})
			r.RequestURI = "/detector?maxResults=50&nextToken=a%2Fb"
			return r, b
		}, "InvalidSignatureException", mismatch},
		{"tampered method", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			r.Method = "DELETE"
			return r, b
		}, "InvalidSignatureException", mismatch},
		{"tampered signature", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+map[bool]string{true: "1", false: "0"}[a[len(a)-1] == '0'])
			return r, b
		}, "InvalidSignatureException", mismatch},
		{"host not signed", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date")
			return r, b
		}, "InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"x-amz-date not signed", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "SignedHeaders=host;x-amz-date", "SignedHeaders=host")
			return r, b
		}, "InvalidSignatureException", "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."},
		{"signed headers not sorted", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date;host")
			return r, b
		}, "InvalidSignatureException", mismatch + " SignedHeaders must be lowercase, sorted and without duplicates: expected 'host;x-amz-date', got 'x-amz-date;host'."},
		{"content sha256 mismatch", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			return post(t, signOpts{extraHeaders: map[string]string{"X-Amz-Content-Sha256": strings.Repeat("0", 64)}})
		}, "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{"date header only", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			r.Header.Del("X-Amz-Date")
			r.Header.Set("Date", signTime.Format(http.TimeFormat))
			setAuth(r, "SignedHeaders=host;x-amz-date", "SignedHeaders=date;host")
			return r, b
		}, "InvalidSignatureException", "Requests dated by the 'Date' header are not supported; sign with 'X-Amz-Date' (as all AWS SDKs and the AWS CLI do)."},
		{"date header scope mismatch", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			r.Header.Del("X-Amz-Date")
			r.Header.Set("Date", "Sun, 05 May 2024 07:08:09 GMT")
			return r, b
		}, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240506' != '20240505', from 'Sun, 05 May 2024 07:08:09 GMT'."},
		{"signed content-length zero", time.Time{}, func(t *testing.T) (*http.Request, []byte) {
			r, b := get(t, signOpts{})
			setAuth(r, "SignedHeaders=host;x-amz-date", "SignedHeaders=content-length;host;x-amz-date")
			r.Header.Set("Content-Length", "0")
			return r, b
		}, "InvalidSignatureException", "A signed 'content-length' header must be a positive number (guardpost cannot verify signatures over 'content-length: 0')."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = signTime
			}
			r, b := tt.req(t)
			id, err := testVerifier(now).Verify(r, b)
			if err == nil {
				t.Fatalf("accepted: %+v", id)
			}
			if id != (Identity{}) {
				t.Errorf("identity %+v returned with an error", id)
			}
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T %v is not an *AuthError", err, err)
			}
			if ae.Code != tt.code {
				t.Errorf("code %q, want %q (message %q)", ae.Code, tt.code, ae.Message)
			}
			if prefix, ok := strings.CutSuffix(tt.msg, "…"); ok {
				if !strings.HasPrefix(ae.Message, prefix) {
					t.Errorf("message\n %q\nwant prefix\n %q", ae.Message, prefix)
				}
			} else if ae.Message != tt.msg {
				t.Errorf("message\n %q\nwant\n %q", ae.Message, tt.msg)
			}
			if ae.Error() != ae.Message {
				t.Errorf("Error() = %q, want the message", ae.Error())
			}
		})
	}
}

// TestSignerHeaderRules pins the SDK signer behaviour the verifier is built
// on; if an SDK upgrade changes it, this fails before real clients do.
func TestSignerHeaderRules(t *testing.T) {
	sign := func(req *http.Request) string {
		t.Helper()
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"},
			req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", signTime); err != nil {
			t.Fatal(err)
		}
		return signedHeadersOf(req)
	}

	req, _ := http.NewRequest("GET", "http://h/", nil)
	for _, k := range []string{"User-Agent", "Expect", "Transfer-Encoding", "X-Amzn-Trace-Id", "Content-Length"} {
		req.Header.Set(k, "1")
	}
	if got := sign(req); got != "host;x-amz-date" {
		t.Errorf("canonical keys: signed %q; the signer no longer skips these headers", got)
	}

	req, _ = http.NewRequest("GET", "http://h/", nil)
	for _, k := range []string{"user-agent", "expect", "transfer-encoding", "x-amzn-trace-id"} {
		req.Header[k] = []string{"1"}
	}
	if got := sign(req); got != "expect;host;transfer-encoding;user-agent;x-amz-date;x-amzn-trace-id" {
		t.Errorf("lowercase keys: signed %q; the verifier relies on lowercase keys bypassing the ignore list", got)
	}

	req, _ = http.NewRequest("GET", "http://h/", nil)
	req.Header["content-length"] = []string{"0"}
	if got := sign(req); got != "host;x-amz-date" {
		t.Errorf("content-length 0: signed %q", got)
	}
	req, _ = http.NewRequest("GET", "http://h/", nil)
	req.ContentLength = 7
	if got := sign(req); got != "content-length;host;x-amz-date" {
		t.Errorf("ContentLength 7: signed %q", got)
	}

	// The derived-key cache is keyed by access key id, not secret: one
	// signer reused with a new secret for the same key signs with the old
	// one. This is why Verify uses a fresh signer per request.
	s := v4.NewSigner()
	sig := func(secret string) string {
		req, _ := http.NewRequest("GET", "http://h/", nil)
		sum := sha256.Sum256(nil)
		_ = s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AK", SecretAccessKey: secret},
			req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", signTime)
		return req.Header.Get("Authorization")
	}
	if sig("one") != sig("two") {
		t.Log("the signer's key cache now includes the secret; the fresh-signer-per-request note in Verify is obsolete")
	}
}

// TestVerifyAfterSecretRotation checks that the signers the verifier keeps
// (one per credential, region and service, each caching its derived key
// for the day) never check a request against a secret no longer in the
// credentials: signed with the old secret, the same request is refused
// the moment the secret changes, in the same day, region and service.
func TestVerifyAfterSecretRotation(t *testing.T) {
	v := testVerifier(signTime.Add(time.Minute))
	getFindings := []byte(`{"findingIds":["f1"]}`)
	old, oldBody := signedRequest(t, goSDK, "POST", "/detector/abc/findings/get", getFindings, signOpts{})
	mustVerify(t, v, old, oldBody)

	const newSecret = "rotated/secret/0123456789abcdefghijklmnopq"
	v.Credentials = map[string]Credential{
		testKey: {Profile: "default", AccessKeyID: testKey, SecretAccessKey: newSecret, AccountID: testAccount},
	}
	old, oldBody = signedRequest(t, goSDK, "POST", "/detector/abc/findings/get", getFindings, signOpts{})
	_, err := v.Verify(old, oldBody)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != codeInvalidSignature {
		t.Fatalf("a request signed with the rotated-out secret: %v, want %s", err, codeInvalidSignature)
	}
	cur, curBody := signedRequest(t, goSDK, "POST", "/detector/abc/findings/get", getFindings, signOpts{secret: newSecret})
	mustVerify(t, v, cur, curBody)
}

// TestVerifySignerCacheBounded checks that requests for many keys (temporary
// keys come and go) cannot grow the verifier's signers without bound.
func TestVerifySignerCacheBounded(t *testing.T) {
	v := testVerifier(signTime.Add(time.Minute))
	for i := range 3 * maxSigners {
		key := fmt.Sprintf("AKIACACHE%011d", i)
		v.Credentials[key] = Credential{Profile: "p", AccessKeyID: key, SecretAccessKey: testSecret, AccountID: testAccount}
		r, body := signedRequest(t, awsCLI, "GET", "/detector", nil, signOpts{key: key})
		if id, err := v.Verify(r, body); err != nil || id.AccessKeyID != key {
			t.Fatalf("Verify: %+v, %v", id, err)
		}
		if n := len(v.signers.m); n > maxSigners {
			t.Fatalf("after %d keys the verifier keeps %d signers, more than %d", i+1, n, maxSigners)
		}
	}
}
