package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/audit"
	"github.com/guardpost/guardpost/httpapi/wire"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

// auditServer is a Server over a temporary store whose audit records are
// collected in memory; it returns the server, a detector of its account
// and the records so far.
func auditServer(t *testing.T, reads bool) (*Server, string, func() []*audit.Record) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := &guardpost.Service{Store: db, Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}
	scope := guardpost.Scope{AccountID: "111122223333", Region: "eu-west-3"}
	det, err := svc.CreateDetector(context.Background(), scope, "", guardpost.DetectorSettings{Enable: aws.Bool(true)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	verifier := &sigv4.Verifier{Service: "guardduty", Credentials: map[string]sigv4.Credential{
		"AKIDTEST": {Profile: "ops", AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", AccountID: scope.AccountID}}}
	s := New(svc, verifier, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var mu sync.Mutex
	var recs []*audit.Record
	s.HandleAudit(func(r *audit.Record) error {
		// A copy: the record's memory is reused once this returns.
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		var c audit.Record
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		recs = append(recs, &c)
		return nil
	}, reads)
	return s, det, func() []*audit.Record {
		mu.Lock()
		defer mu.Unlock()
		return append([]*audit.Record(nil), recs...)
	}
}

// signedAs builds a request signed by the auditServer's key.
func signedAs(t *testing.T, method, target, body string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"},
		req, hex.EncodeToString(sum[:]), "guardduty", "eu-west-3", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestAuditRecords(t *testing.T) {
	s, det, records := auditServer(t, false)
	arn := "arn:aws:guardduty:eu-west-3:111122223333:detector/" + det
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		t.Helper()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	last := func() *audit.Record {
		t.Helper()
		recs := records()
		if len(recs) == 0 {
			t.Fatal("no record")
		}
		return recs[len(recs)-1]
	}

	// TagResource answers 204 without a body: recorded all the same.
	w := serve(signedAs(t, http.MethodPost, "/tags/"+url.PathEscape(arn), `{"tags":{"team":"blue"}}`))
	if w.Code != http.StatusNoContent {
		t.Fatalf("TagResource: %d %s", w.Code, w.Body)
	}
	r := last()
	if r.EventName != "TagResource" || r.RequestID != w.Header().Get("X-Amzn-RequestId") || r.ErrorCode != "" ||
		string(r.RequestParameters) != `{"resourceArn":"`+arn+`","tags":{"team":"blue"}}` || string(r.ResponseElements) != "null" {
		t.Errorf("TagResource record %+v %s", r, r.RequestParameters)
	}
	if r.UserIdentity.ARN != "arn:aws:iam::111122223333:user/ops" || r.UserIdentity.UserName != "ops" || r.AWSRegion != "eu-west-3" {
		t.Errorf("identity %+v, region %s", r.UserIdentity, r.AWSRegion)
	}

	// Query members are request parameters too, under their wire names.
	w = serve(signedAs(t, http.MethodDelete, "/tags/"+url.PathEscape(arn)+"?tagKeys=team&tagKeys=x", ""))
	if w.Code != http.StatusNoContent {
		t.Fatalf("UntagResource: %d %s", w.Code, w.Body)
	}
	if r := last(); string(r.RequestParameters) != `{"resourceArn":"`+arn+`","tagKeys":["team","x"]}` {
		t.Errorf("UntagResource requestParameters %s", r.RequestParameters)
	}

	// A body that does not decode: the call is recorded with its error and
	// no parameters.
	n := len(records())
	w = serve(signedAs(t, http.MethodPost, "/detector/"+det+"/findings/archive", `{"findingIds":`))
	if w.Code != http.StatusBadRequest || len(records()) != n+1 {
		t.Fatalf("bad JSON: %d, %d records", w.Code, len(records())-n)
	}
	var e struct{ Message, Type string }
	json.Unmarshal(w.Body.Bytes(), &e)
	if r := last(); r.ErrorCode != "BadRequestException" || r.ErrorMessage == "" || !strings.Contains(w.Body.String(), r.ErrorMessage) ||
		string(r.RequestParameters) != "null" {
		t.Errorf("bad JSON record: %+v", r)
	}

	// A request that fails SigV4 is recorded with its error and the
	// caller its signature claims (the key exists: its user and account).
	bad := signedAs(t, http.MethodPost, "/detector/"+det+"/findings/archive", `{"findingIds":["a"]}`)
	bad.Header.Set("Authorization", strings.Replace(bad.Header.Get("Authorization"), "Signature=", "Signature=0", 1))
	n = len(records())
	if w := serve(bad); w.Code != http.StatusForbidden || len(records()) != n+1 {
		t.Fatalf("bad signature: %d, %d records", w.Code, len(records())-n)
	}
	if r := last(); r.ErrorCode != "InvalidSignatureException" || r.UserIdentity.Type != "IAMUser" || r.UserIdentity.AccessKeyID != "AKIDTEST" ||
		r.RecipientAccountID != "111122223333" || r.AWSRegion != "eu-west-3" || string(r.RequestParameters) != "null" {
		t.Errorf("bad signature record: %+v", r)
	}

	// Reads are not recorded unless asked for.
	n = len(records())
	if w := serve(signedAs(t, http.MethodGet, "/detector/"+det, "")); w.Code != http.StatusOK || len(records()) != n {
		t.Errorf("GetDetector: %d, %d records", w.Code, len(records())-n)
	}

	// A parameter larger than CloudTrail keeps is omitted, as CloudTrail
	// marks it.
	ids := make([]string, 0, 400)
	for range cap(ids) {
		ids = append(ids, strings.Repeat("f", 300))
	}
	body, _ := json.Marshal(map[string]any{"findingIds": ids})
	serve(signedAs(t, http.MethodPost, "/detector/"+det+"/findings/archive", string(body)))
	if r := last(); !bytes.Equal(r.RequestParameters, audit.Omitted) || r.ErrorCode == "" {
		t.Errorf("oversized parameters: %.100s, error %q", r.RequestParameters, r.ErrorCode)
	}

	// Over TLS, the record tells the version, suite and host.
	req := signedAs(t, http.MethodPost, "/detector/"+det+"/findings/unarchive", `{"findingIds":["0123"]}`)
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	req.URL.Scheme, req.URL.Host, req.RequestURI = "https", strings.TrimPrefix(srv.URL, "https://"), ""
	req.Host = "example.com" // signed host; the answer does not matter here
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := last(); r.EventName != "UnarchiveFindings" || r.TLSDetails == nil || !strings.HasPrefix(r.TLSDetails.TLSVersion, "TLSv1.") ||
		r.TLSDetails.CipherSuite == "" || r.TLSDetails.ClientProvidedHostHeader != "example.com" || r.SourceIPAddress != "127.0.0.1" {
		t.Errorf("TLS record: %+v %+v", r, r.TLSDetails)
	}
}

func TestAuditReadsRecorded(t *testing.T) {
	s, det, records := auditServer(t, true)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, signedAs(t, http.MethodPost, "/detector/"+det+"/findings", `{"maxResults":3}`))
	if w.Code != http.StatusOK {
		t.Fatalf("ListFindings: %d %s", w.Code, w.Body)
	}
	recs := records()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if r := recs[0]; !r.ReadOnly || r.EventName != "ListFindings" || string(r.ResponseElements) != "null" ||
		string(r.RequestParameters) != `{"detectorId":"`+det+`","maxResults":3}` {
		t.Errorf("ListFindings record %+v %s", r, r.RequestParameters)
	}
}

// benchAudit turns the audit log on for a benchmark when
// GUARDPOST_BENCH_AUDIT is "writes" (state-changing calls only, the
// default of guardpost serve) or "reads" (--audit-reads).
func benchAudit(b *testing.B, s *Server) {
	mode := os.Getenv("GUARDPOST_BENCH_AUDIT")
	if mode == "" {
		return
	}
	if mode != "writes" && mode != "reads" {
		b.Fatalf("GUARDPOST_BENCH_AUDIT=%q: want writes or reads", mode)
	}
	l, err := audit.Open(b.TempDir(), audit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if n := l.Dropped(); n > 0 {
			b.Logf("audit: %d read records dropped", n)
		}
		l.Close()
	})
	s.HandleAudit(l.Write, mode == "reads")
}

// A handler that panics is answered 500 by ServeHTTP; its call is
// recorded as an internal error.
func TestAuditPanickingHandler(t *testing.T) {
	s, _, records := auditServer(t, false)
	op := wire.Operation{Name: "CreatePanic", Method: http.MethodPost, Path: "/panic", Code: http.StatusOK,
		NewInput: func() wire.Input { return new(wire.NoInput) }}
	s.mux.Handle("POST /panic", s.operation(op, func(*request) (any, error) { panic("boom") }))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, signedAs(t, http.MethodPost, "/panic", ""))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("panic: %d %s", w.Code, w.Body)
	}
	recs := records()
	if len(recs) != 1 || recs[0].EventName != "CreatePanic" || recs[0].ErrorCode != "InternalServerErrorException" ||
		recs[0].RequestID != w.Header().Get("X-Amzn-RequestId") {
		t.Errorf("records %+v", recs)
	}
}
