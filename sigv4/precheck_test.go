package sigv4

import (
	"errors"
	"testing"
	"time"
)

// TestPrecheckAgreesWithVerify: Precheck refuses what Verify refuses for
// reasons that need no body, with the same error, and lets through a
// request whose only fault would be its signature.
func TestPrecheckAgreesWithVerify(t *testing.T) {
	v := testVerifier(signTime)
	body := []byte(`{"findingIds":["a"]}`)
	for name, o := range map[string]signOpts{
		"unknown key":   {key: "AKIAUNKNOWNUNKNOWN00"},
		"other service": {service: "s3"},
		"expired":       {time: signTime.Add(-time.Hour)},
	} {
		r, b := signedRequest(t, goSDK, "POST", "/detector/d/findings/get", body, o)
		perr := v.Precheck(r)
		_, verr := v.Verify(r, b)
		var pa, va *AuthError
		if !errors.As(perr, &pa) || !errors.As(verr, &va) || *pa != *va {
			t.Errorf("%s: Precheck %v, Verify %v", name, perr, verr)
		}
	}
	r, _ := signedRequest(t, goSDK, "POST", "/detector/d/findings/get", body, signOpts{secret: "wrong"})
	if err := v.Precheck(r); err != nil {
		t.Errorf("wrong secret: Precheck %v, want nil (only Verify can tell)", err)
	}
	r, _ = signedRequest(t, goSDK, "POST", "/detector/d/findings/get", body, signOpts{})
	r.Header.Del("Authorization")
	if err := v.Precheck(r); err == nil {
		t.Error("no Authorization: Precheck accepted it")
	}
}
