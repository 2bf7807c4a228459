package sigv4

import (
	"testing"
	"time"
)

// BenchmarkVerify measures the verifier on the hot path: a Go SDK
// GetFindings request signed in the Authorization header.
//
// go test ./sigv4 -run '^$' -bench BenchmarkVerify -benchmem
func BenchmarkVerify(b *testing.B) {
	v := testVerifier(signTime.Add(time.Minute))
	r, body := signedRequest(&testing.T{}, goSDK, "POST", "/detector/abc/findings/get?x=1", []byte(`{"findingIds":["f1"]}`), signOpts{})
	if _, err := v.Verify(r, body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySession is BenchmarkVerify with temporary credentials: the
// session token is opened (AES-GCM, JSON) on every request.
func BenchmarkVerifySession(b *testing.B) {
	v, s, token := fuzzVerifier(b)
	v.Now = func() time.Time { return signTime.Add(time.Minute) }
	r, body := signedRequest(&testing.T{}, goSDK, "POST", "/detector/abc/findings/get?x=1", []byte(`{"findingIds":["f1"]}`),
		signOpts{key: s.AccessKeyID, secret: s.SecretAccessKey, token: token})
	if _, err := v.Verify(r, body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
