package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Fuzz modes (FuzzVerify's mode argument, bit by bit).
const (
	fuzzPresign   = 1 << iota // query-string form instead of the Authorization header
	fuzzTemporary             // temporary credentials (session token) instead of the long-term key
	fuzzWrongKey              // signed with a wrong secret: must be refused
	fuzzTamper                // signed right, then one byte of the body changed: must be refused
)

// fuzzVerifier accepts testKey and the session keys of fuzzSessions, at signTime.
func fuzzVerifier(t testing.TB) (*Verifier, Session, string) {
	keys, err := NewSessionKeys(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s, token := keys.Issue(Session{AccountID: "444455556666", Arn: "arn:aws:sts::444455556666:assumed-role/r/s", UserID: "AROA:s",
		AssumedRole: true, Expiration: signTime.Add(time.Hour)})
	v := testVerifier(signTime)
	v.Sessions = keys
	return v, s, token
}

// wire writes a client request and reads it back as net/http's server
// would; ok is false when the input makes no valid HTTP request.
func wire(req *http.Request) (*http.Request, []byte, bool) {
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return nil, nil, false
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		return nil, nil, false
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		return nil, nil, false
	}
	return sr, body, true
}

// FuzzVerify signs arbitrary requests (method, path, query, one extra
// header, body) with the SDK's signer in both forms, with a long-term key
// or temporary credentials, and checks that the verifier never panics and
// never accepts a request signed with a wrong secret or altered after
// signing. A request signed right may be refused (the input may be one no
// client sends) but, if accepted, is the signer's identity.
//
// Seeds run with every go test; fuzz with
// go test ./sigv4 -run '^$' -fuzz FuzzVerify$ -fuzztime 5m
func FuzzVerify(f *testing.F) {
	f.Add("GET", "/detector", "maxResults=1&nextToken=a%2Fb", "", "", []byte(nil), uint8(0))
	f.Add("POST", "/detector/abc/findings/get", "", "Content-Type", "application/json", []byte(`{"findingIds":["f1"]}`), uint8(fuzzTamper))
	f.Add("POST", "/detector/abc/findings/get", "", "Content-Type", "application/json", []byte(`{"findingIds":["f1"]}`), uint8(fuzzPresign|fuzzWrongKey))
	f.Add("GET", "/tags/arn%3Aaws%3Aguardduty", "x=1&x=2&y", "X-Amz-Meta", "v  v", []byte(nil), uint8(fuzzTemporary))
	f.Add("DELETE", "/detector/a b/filter/%2F", "", "x-amz-security-token", "t", []byte(nil), uint8(fuzzTemporary|fuzzPresign|fuzzWrongKey))
	f.Add("PUT", "//a/../b", "X-Amz-Signature=1", "Authorization", "AWS4-HMAC-SHA256", []byte("x"), uint8(fuzzPresign|fuzzTamper))
	v, session, token := fuzzVerifier(f)

	f.Fuzz(func(t *testing.T, method, path, query, hName, hValue string, body []byte, mode uint8) {
		u := &url.URL{Scheme: "https", Host: "guardduty.example.com", Path: "/" + path, RawQuery: query}
		req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
		if err != nil {
			return
		}
		if hName != "" {
			req.Header[hName] = []string{hValue}
		}
		creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
		wantAccount := testAccount
		if mode&fuzzTemporary != 0 {
			creds = aws.Credentials{AccessKeyID: session.AccessKeyID, SecretAccessKey: session.SecretAccessKey, SessionToken: token}
			wantAccount = session.AccountID
		}
		if mode&fuzzWrongKey != 0 {
			creds.SecretAccessKey += "x"
		}
		sum := sha256.Sum256(body)
		signer := v4.NewSigner()
		if mode&fuzzPresign != 0 {
			uri, _, err := signer.PresignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "guardduty", testRegion, signTime)
			if err != nil {
				return
			}
			presigned, err := http.NewRequest(method, uri, bytes.NewReader(body))
			if err != nil {
				return
			}
			if hName != "" {
				presigned.Header[hName] = []string{hValue}
			}
			req = presigned
		} else if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "guardduty", testRegion, signTime); err != nil {
			return
		}
		r, got, ok := wire(req)
		if !ok {
			return
		}
		tampered := false
		if mode&fuzzTamper != 0 {
			if len(got) == 0 {
				got = []byte{0}
			} else {
				got = append([]byte(nil), got...)
				got[len(got)/2] ^= 1
			}
			tampered = true
		}
		id, err := v.Verify(r, got)
		if err == nil && (mode&fuzzWrongKey != 0 || tampered) {
			t.Fatalf("accepted a request %s: mode %b, identity %+v\n%s %s", map[bool]string{true: "altered after signing", false: "signed with a wrong secret"}[tampered],
				mode, id, r.Method, r.RequestURI)
		}
		if err == nil && id.AccountID != wantAccount {
			t.Fatalf("accepted as %+v, want account %s", id, wantAccount)
		}
	})
}

// FuzzVerifyRaw feeds arbitrary bytes to the verifier as an HTTP request.
// The seeds are requests signed with a wrong secret, so no mutation of
// them may ever be accepted: the fuzzer does not know the secret.
//
// go test ./sigv4 -run '^$' -fuzz FuzzVerifyRaw -fuzztime 5m
func FuzzVerifyRaw(f *testing.F) {
	v, session, token := fuzzVerifier(f)
	wrong := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: "wrong"}
	wrongTemp := aws.Credentials{AccessKeyID: session.AccessKeyID, SecretAccessKey: "wrong", SessionToken: token}
	for _, c := range []aws.Credentials{wrong, wrongTemp} {
		for _, presign := range []bool{false, true} {
			body := `{"findingIds":["f1"]}`
			req, _ := http.NewRequest("POST", "https://guardduty.example.com/detector/abc/findings/get?a=b", bytes.NewReader([]byte(body)))
			req.Header.Set("Content-Type", "application/json")
			sum := sha256.Sum256([]byte(body))
			if presign {
				uri, _, err := v4.NewSigner().PresignHTTP(context.Background(), c, req, hex.EncodeToString(sum[:]), "guardduty", testRegion, signTime)
				if err != nil {
					f.Fatal(err)
				}
				req, _ = http.NewRequest("POST", uri, bytes.NewReader([]byte(body)))
			} else if err := v4.NewSigner().SignHTTP(context.Background(), c, req, hex.EncodeToString(sum[:]), "guardduty", testRegion, signTime); err != nil {
				f.Fatal(err)
			}
			var buf bytes.Buffer
			if err := req.Write(&buf); err != nil {
				f.Fatal(err)
			}
			f.Add(buf.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if id, err := v.Verify(r, body); err == nil {
			t.Fatalf("accepted a request no one could sign: %+v\n%q", id, raw)
		}
	})
}
