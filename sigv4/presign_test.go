package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presigned makes a presigned URL with the SDK's PresignHTTP and returns the
// request a plain HTTP client sends for it (no Authorization header), as
// the server receives it.
func presigned(t *testing.T, method, target string, body []byte, expires string, creds aws.Credentials, at time.Time) (*http.Request, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "https://guardduty.example.com"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if expires != "" {
		q := req.URL.Query()
		q.Set("X-Amz-Expires", expires)
		req.URL.RawQuery = q.Encode()
	}
	sum := sha256.Sum256(body)
	uri, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "guardduty", testRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := http.NewRequest(method, uri, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return receive(t, plain)
}

func wantAuthError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want %s", err, code)
	}
	if ae.Code != code || ae.Message != msg {
		t.Fatalf("got %s %q\nwant %s %q", ae.Code, ae.Message, code, msg)
	}
}

func TestVerifyPresigned(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	body := []byte(`{"findingIds":["f1"]}`)

	t.Run("GET with a query", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector?maxResults=5&nextToken=a%2Fb+c", nil, "", creds, signTime)
		if r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Signature") == "" {
			t.Fatalf("not a presigned request: %v", r.URL)
		}
		mustVerify(t, testVerifier(signTime.Add(14*time.Minute)), r, b)
	})
	t.Run("POST with the signed body", func(t *testing.T) {
		r, b := presigned(t, "POST", "/detector/abc/findings/get", body, "300", creds, signTime)
		mustVerify(t, testVerifier(signTime.Add(time.Minute)), r, b)
	})
	t.Run("POST with another body", func(t *testing.T) {
		r, _ := presigned(t, "POST", "/detector/abc/findings/get", body, "300", creds, signTime)
		_, err := testVerifier(signTime).Verify(r, []byte(`{"findingIds":["f2"]}`))
		wantAuthError(t, err, "InvalidSignatureException", mismatch)
	})
	t.Run("edited query", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector?maxResults=5", nil, "", creds, signTime)
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "maxResults=5", "maxResults=50", 1)
		r.RequestURI = r.URL.RequestURI()
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "InvalidSignatureException", mismatch)
	})
	t.Run("wrong secret", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector", nil, "", aws.Credentials{AccessKeyID: testKey, SecretAccessKey: "nope"}, signTime)
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "InvalidSignatureException", mismatch)
	})
	t.Run("expired after 15 minutes whatever X-Amz-Expires says", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector", nil, "3600", creds, signTime)
		_, err := testVerifier(signTime.Add(15*time.Minute+time.Second)).Verify(r, b)
		wantAuthError(t, err, "InvalidSignatureException",
			"Signature expired: 20240506T070809Z is now earlier than 20240506T070810Z (20240506T072310Z - 15 min.)")
	})
	t.Run("shorter X-Amz-Expires honoured", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector", nil, "60", creds, signTime)
		mustVerify(t, testVerifier(signTime.Add(60*time.Second)), r, b)
		_, err := testVerifier(signTime.Add(61*time.Second)).Verify(r, b)
		wantAuthError(t, err, "InvalidSignatureException",
			"Signature expired: 20240506T070809Z is now earlier than 20240506T070810Z (20240506T070910Z - 60 sec.)")
	})
	t.Run("X-Amz-Expires over a week", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector", nil, "604801", creds, signTime)
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "IncompleteSignatureException", "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	})
	t.Run("both forms", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector", nil, "", creds, signTime)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "IncompleteSignatureException",
			"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	})
	t.Run("missing parameters", func(t *testing.T) {
		r, b := readRequest(t, []byte("GET /detector?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab HTTP/1.1\r\nHost: h\r\n\r\n"))
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "IncompleteSignatureException",
			"AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. "+
				"AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.")
	})
	t.Run("duplicated X-Amz-Date", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector", nil, "", creds, signTime)
		r.URL.RawQuery += "&X-Amz-Date=20240506T070809Z"
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "IncompleteSignatureException",
			"Date must be in ISO-8601 'basic format'. Got '20240506T070809Z,20240506T070809Z'. See http://en.wikipedia.org/wiki/ISO_8601")
	})
	t.Run("host not signed", func(t *testing.T) {
		r, b := presigned(t, "GET", "/detector", nil, "", creds, signTime)
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date", 1)
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	})
}

func TestVerifyRefusals(t *testing.T) {
	body := []byte(`{"findingIds":["f1"]}`)
	t.Run("duplicated X-Amz-Date header", func(t *testing.T) {
		r, b := signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{})
		r.Header.Add("X-Amz-Date", r.Header.Get("X-Amz-Date"))
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "IncompleteSignatureException",
			"Date must be in ISO-8601 'basic format'. Got '20240506T070809Z,20240506T070809Z'. See http://en.wikipedia.org/wiki/ISO_8601")
	})
	t.Run("region not in any partition", func(t *testing.T) {
		r, b := signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{region: "us-east-7"})
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'us-east-7'. ")
	})
	t.Run("UNSIGNED-PAYLOAD", func(t *testing.T) {
		// The client signs UNSIGNED-PAYLOAD as its payload hash; GuardDuty,
		// like every service but S3, signs the body's.
		req, err := http.NewRequest("POST", "https://guardduty.example.com/detector/abc/findings/get", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret},
			req, unsignedPayload, "guardduty", testRegion, signTime); err != nil {
			t.Fatal(err)
		}
		r, b := receive(t, req)
		_, verr := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, verr, "InvalidSignatureException", mismatch)
	})
	t.Run("session token with a long-term key", func(t *testing.T) {
		r, b := signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{token: "some-token"})
		_, err := testVerifier(signTime).Verify(r, b)
		wantAuthError(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	})
	t.Run("profile's session token missing or wrong", func(t *testing.T) {
		v := testVerifier(signTime)
		c := v.Credentials[testKey]
		c.SessionToken = "the-token"
		v.Credentials[testKey] = c
		for _, token := range []string{"", "the-token2", "the-toke"} {
			r, b := signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{token: token})
			_, err := v.Verify(r, b)
			wantAuthError(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
		}
		r, b := signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{token: "the-token"})
		mustVerify(t, v, r, b)
	})
}

func testSessionKeys(t *testing.T, seed byte) *SessionKeys {
	t.Helper()
	key := make([]byte, 32)
	for i := range key {
		key[i] = seed + byte(i)
	}
	k, err := NewSessionKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVerifySessionCredentials(t *testing.T) {
	keys := testSessionKeys(t, 1)
	s, token := keys.Issue(Session{AccountID: "444455556666", Arn: "arn:aws:sts::444455556666:assumed-role/Admin/s1",
		UserID: "AROAEXAMPLE:s1", AssumedRole: true, Expiration: signTime.Add(time.Hour), Profile: "default", SourceAccount: testAccount})
	if !strings.HasPrefix(s.AccessKeyID, "ASIA") || len(s.AccessKeyID) != 20 || len(s.SecretAccessKey) != 40 {
		t.Fatalf("credentials %q %q", s.AccessKeyID, s.SecretAccessKey)
	}
	v := testVerifier(signTime)
	v.Sessions = keys
	sign := func(key, secret, token string) (*http.Request, []byte) {
		return signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{key: key, secret: secret, token: token})
	}

	r, b := sign(s.AccessKeyID, s.SecretAccessKey, token)
	id, err := v.Verify(r, b)
	if err != nil {
		t.Fatal(err)
	}
	if id.AccountID != "444455556666" || id.AccessKeyID != s.AccessKeyID || id.Session == nil || id.Session.Arn != s.Arn ||
		id.Session.SecretAccessKey != "" {
		t.Fatalf("identity %+v", id)
	}

	// Presigned with the token in the query.
	pr, pb := presigned(t, "GET", "/detector", nil, "", aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: token}, signTime)
	if pr.URL.Query().Get("X-Amz-Security-Token") != token {
		t.Fatal("token not in the presigned URL")
	}
	if id, err := v.Verify(pr, pb); err != nil || id.AccountID != "444455556666" {
		t.Fatalf("presigned: %+v %v", id, err)
	}

	other, otherToken := keys.Issue(Session{AccountID: testAccount, Arn: "x", UserID: "y", Expiration: signTime.Add(time.Hour)})
	_, foreignToken := testSessionKeys(t, 2).Issue(Session{AccountID: testAccount, Arn: "x", UserID: "y", Expiration: signTime.Add(time.Hour)})
	for name, tc := range map[string]struct{ key, secret, token string }{
		"no token":                 {s.AccessKeyID, s.SecretAccessKey, ""},
		"another key's token":      {s.AccessKeyID, s.SecretAccessKey, otherToken},
		"token of another server":  {s.AccessKeyID, s.SecretAccessKey, foreignToken},
		"edited token":             {s.AccessKeyID, s.SecretAccessKey, token[:len(token)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(token, "AA")]},
		"garbage token":            {s.AccessKeyID, s.SecretAccessKey, "not base64 !"},
		"token with the wrong key": {other.AccessKeyID, other.SecretAccessKey, token},
	} {
		r, b := sign(tc.key, tc.secret, tc.token)
		_, err := v.Verify(r, b)
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Code != "UnrecognizedClientException" || ae.Message != msgInvalidToken {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The right token and key but the wrong secret: a signature mismatch.
	r, b = sign(s.AccessKeyID, other.SecretAccessKey, token)
	_, err = v.Verify(r, b)
	wantAuthError(t, err, "InvalidSignatureException", mismatch)

	// Expired: from the first second of the expiry on.
	v.Now = func() time.Time { return s.Expiration }
	r, b = signedRequest(t, goSDK, "GET", "/detector", nil, signOpts{key: s.AccessKeyID, secret: s.SecretAccessKey, token: token, time: s.Expiration})
	_, err = v.Verify(r, b)
	wantAuthError(t, err, "ExpiredTokenException", "The security token included in the request is expired")

	// A verifier without session keys accepts no temporary credentials.
	v = testVerifier(signTime)
	r, b = sign(s.AccessKeyID, s.SecretAccessKey, token)
	_, err = v.Verify(r, b)
	wantAuthError(t, err, "UnrecognizedClientException", msgInvalidToken)
}

func TestSessionKeys(t *testing.T) {
	if _, err := NewSessionKeys(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte server key was accepted")
	}
	k := testSessionKeys(t, 7)
	exp := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	s, token := k.Issue(Session{AccountID: testAccount, Arn: "arn", UserID: "uid", Expiration: exp, SourceIdentity: "me"})
	got, err := k.Open(token)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != s.AccessKeyID || got.SecretAccessKey != s.SecretAccessKey || !got.Expiration.Equal(exp.Truncate(time.Second)) ||
		got.SourceIdentity != "me" || got.Arn != "arn" {
		t.Fatalf("opened %+v, issued %+v", got, s)
	}
	if strings.Contains(token, s.SecretAccessKey) || strings.Contains(token, testAccount) {
		t.Fatal("the token shows what it carries")
	}
	if _, err := k.Open(strings.Repeat("A", maxTokenLen+1)); err == nil {
		t.Fatal("an oversized token opened")
	}
}
