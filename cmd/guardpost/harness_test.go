package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/sdkhttp"
)

// Test identities: two accounts, so tests can show one never sees the other.
const (
	accountA = "111122223333"
	keyA     = "AKIAAAAAAAAAAAAAAAAA"
	secretA  = "secretAsecretAsecretAsecretAsecretAsecr1"
	accountB = "444455556666"
	keyB     = "AKIABBBBBBBBBBBBBBBB"
	secretB  = "secretBsecretBsecretBsecretBsecretBsecr2"
)

// testServer is a real guardpost (Main) serving on a loopback port.
type testServer struct {
	*Main
	listenerAddr string // set when the server runs in another process
	t            *testing.T
	dir          string
	credFile     string
}

func startServer(t *testing.T, flags ...string) *testServer {
	t.Helper()
	dir := t.TempDir()
	cred := filepath.Join(dir, "credentials")
	content := "[a]\naws_access_key_id = " + keyA + "\naws_secret_access_key = " + secretA + "\naws_account_id = " + accountA +
		"\n\n[b]\naws_access_key_id = " + keyB + "\naws_secret_access_key = " + secretB + "\naws_account_id = " + accountB + "\n"
	if err := os.WriteFile(cred, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServerWith(t, dir, cred, flags...)
}

// startServerWith starts a server on dir's data directory with a
// credentials file and extra serve flags.
func startServerWith(t *testing.T, dir, cred string, flags ...string) *testServer {
	t.Helper()
	return startConfiguredServer(t, dir, cred, nil, flags...)
}

// startConfiguredServer is startServerWith with configure (if not nil)
// applied to the Main before it runs, for what no flag sets (a clock).
func startConfiguredServer(t *testing.T, dir, cred string, configure func(*Main), flags ...string) *testServer {
	t.Helper()
	m := NewMain()
	if configure != nil {
		configure(m)
	}
	m.Stderr = io.Discard
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--credentials", cred}, flags...)
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &testServer{Main: m, t: t, dir: dir, credFile: cred}
}

func (s *testServer) endpoint() string {
	if s.listenerAddr != "" {
		return "http://" + s.listenerAddr
	}
	return "http://" + s.Addr()
}

var testHTTPClient = &http.Client{Transport: sdkhttp.PrivateBody{Inner: http.DefaultTransport.(*http.Transport).Clone()}}

// client returns a real GuardDuty SDK client for an identity and region.
// Retries are off so that a server fault cannot hide behind a retry.
func (s *testServer) client(key, secret, region string) *guardduty.Client {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:  testHTTPClient,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return guardduty.NewFromConfig(cfg, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(s.endpoint()) })
}

func (s *testServer) clientA() *guardduty.Client { return s.client(keyA, secretA, "us-east-1") }
func (s *testServer) clientB() *guardduty.Client { return s.client(keyB, secretB, "us-east-1") }

// rawResponse is an HTTP answer read in full.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorBody decodes an AWS error body.
func (r rawResponse) errorBody(t *testing.T) (typ, msg string) {
	t.Helper()
	var e struct {
		Message string `json:"message"`
		Type    string `json:"__type"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.Body, err)
	}
	if h := r.Header.Get("X-Amzn-ErrorType"); h != e.Type {
		t.Errorf("X-Amzn-ErrorType %q, body __type %q", h, e.Type)
	}
	return e.Type, e.Message
}

// do sends a request signed with the SDK's signer as account A in
// us-east-1, for bodies the SDK itself would never send.
func (s *testServer) do(method, path, body string) rawResponse {
	return s.doAs(keyA, secretA, "us-east-1", "guardduty", method, path, body)
}

func (s *testServer) doAs(key, secret, region, service, method, path, body string) rawResponse {
	s.t.Helper()
	return s.send(s.signed(key, secret, region, service, method, path, body, time.Now()))
}

// signed builds a request signed with the AWS SDK's own SigV4 signer.
func (s *testServer) signed(key, secret, region, service, method, path, body string, at time.Time) *http.Request {
	s.t.Helper()
	req, err := http.NewRequest(method, s.endpoint()+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), service, region, at)
	if err != nil {
		s.t.Fatal(err)
	}
	return req
}

func (s *testServer) send(req *http.Request) rawResponse {
	s.t.Helper()
	resp, err := testHTTPClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.Header.Get("X-Amzn-RequestId") == "" {
		s.t.Errorf("%s %s: no X-Amzn-RequestId", req.Method, req.URL.Path)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// createDetector makes the caller's detector and returns its id.
func createDetector(t *testing.T, c *guardduty.Client) string {
	t.Helper()
	out, err := c.CreateDetector(context.Background(), &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
	if err != nil {
		t.Fatalf("CreateDetector: %v", err)
	}
	return aws.ToString(out.DetectorId)
}

// sampleDetector creates the caller's detector with one sample finding of
// every type and returns its id.
func sampleDetector(t *testing.T, c *guardduty.Client) string {
	t.Helper()
	det := createDetector(t, c)
	if _, err := c.CreateSampleFindings(context.Background(), &guardduty.CreateSampleFindingsInput{DetectorId: &det}); err != nil {
		t.Fatal(err)
	}
	return det
}

// getAll reads any number of findings, 50 ids (the API's limit) at a time.
func getAll(t *testing.T, c *guardduty.Client, det string, ids []string) []types.Finding {
	t.Helper()
	var out []types.Finding
	for chunk := range slices.Chunk(ids, 50) {
		got, err := c.GetFindings(context.Background(), &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: chunk})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got.Findings...)
	}
	return out
}

// writeFindings writes findings into account A's detector through the
// import endpoint, for fixtures no GuardDuty API call can make. Each
// document keeps its id; the detector is the caller's.
func (s *testServer) writeFindings(t *testing.T, det string, fs []*guardpost.Finding) {
	t.Helper()
	var body bytes.Buffer
	for _, f := range fs {
		if f.AccountID != accountA || f.DetectorID != det {
			t.Fatalf("fixture %s names account %s, detector %s: writeFindings writes account A's detector %s", f.ID, f.AccountID, f.DetectorID, det)
		}
		if err := json.Compact(&body, f.Document); err != nil {
			t.Fatal(err)
		}
		body.WriteByte('\n')
	}
	r := s.ingest("us-east-1", body.Bytes(), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("import of %d fixtures: %d %s", len(fs), r.Status, r.Body)
	}
}

// writeUncheckedFindings writes findings into account A's detector through
// the public findings pipeline (guardpost.Service.WriteFindings) over the
// running server's store, skipping the import's model checks: for fixtures
// no import accepts (synthetic values in every member, severities outside
// 1-10).
func (s *testServer) writeUncheckedFindings(t *testing.T, det string, fs []*guardpost.Finding) {
	t.Helper()
	svc := &guardpost.Service{Store: s.store}
	if _, err := svc.WriteFindings(context.Background(), guardpost.Scope{AccountID: accountA, Region: "us-east-1"}, det, fs); err != nil {
		t.Fatalf("WriteFindings: %v", err)
	}
}
