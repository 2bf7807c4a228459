package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/guardpost/guardpost"
)

// TestSTSRouting: only requests meant for STS reach the STS handler, with
// their operation name and account in the request log; the rest keep
// GuardDuty's answers.
func TestSTSRouting(t *testing.T) {
	var logged strings.Builder
	s := New(&guardpost.Service{}, nil, slog.New(slog.NewTextHandler(&logged, nil)))
	s.HandleSTS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := w.(interface {
			SetOperation(string)
			SetAccount(string)
		})
		x.SetOperation("sts:GetCallerIdentity")
		x.SetAccount("111122223333")
		io.WriteString(w, "sts")
	}))
	for _, tc := range []struct {
		method, target, contentType, authz string
		sts                                bool
	}{
		{"POST", "/", "application/x-www-form-urlencoded", "", true},
		{"GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", "", true},
		{"POST", "/", "", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00", true},
		{"POST", "/", "application/json", "", false},
		{"GET", "/", "", "", false},
		{"POST", "/nothing", "application/x-www-form-urlencoded", "", false},
	} {
		r := httptest.NewRequest(tc.method, tc.target, strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		if tc.contentType != "" {
			r.Header.Set("Content-Type", tc.contentType)
		}
		if tc.authz != "" {
			r.Header.Set("Authorization", tc.authz)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if got := w.Body.String() == "sts"; got != tc.sts {
			t.Errorf("%s %s (%s): STS %v, want %v: %d %s", tc.method, tc.target, tc.contentType, got, tc.sts, w.Code, w.Body)
		}
		if !tc.sts && (w.Code != http.StatusNotFound || w.Header().Get("X-Amzn-ErrorType") != "UnknownOperationException") {
			t.Errorf("%s %s: %d %s, want GuardDuty's 404", tc.method, tc.target, w.Code, w.Body)
		}
	}
	if !strings.Contains(logged.String(), "account=111122223333 operation=sts:GetCallerIdentity status=200") {
		t.Errorf("request log:\n%s", logged.String())
	}
}
