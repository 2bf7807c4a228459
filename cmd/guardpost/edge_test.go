package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/internal/sdkhttp"
)

// Tests of the edge (issue 9 point 7): each case was measured against the
// server before the edge was built, and each test fails there.

// startLimited is startServer with the edge's limits set by limit.
func startLimited(t *testing.T, limit func(*httpapi.Limits)) *testServer {
	t.Helper()
	dir := t.TempDir()
	cred := writeCredentials(t, dir)
	m := NewMain()
	m.Stderr = io.Discard
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--credentials", cred}); err != nil {
		t.Fatal(err)
	}
	limit(&m.Limits)
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

// writeCredentials writes accounts A and B's credentials file into dir.
func writeCredentials(t *testing.T, dir string) string {
	t.Helper()
	cred := filepath.Join(dir, "credentials")
	content := "[a]\naws_access_key_id = " + keyA + "\naws_secret_access_key = " + secretA + "\naws_account_id = " + accountA +
		"\n\n[b]\naws_access_key_id = " + keyB + "\naws_secret_access_key = " + secretB + "\naws_account_id = " + accountB + "\n"
	if err := os.WriteFile(cred, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return cred
}

// rawConn is a client connection that writes bytes as given.
type rawConn struct {
	net.Conn
	t *testing.T
	r *bufio.Reader
}

func (s *testServer) dial() *rawConn {
	s.t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, t: s.t, r: bufio.NewReader(c)}
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.Conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// answer reads one answer, waiting at most wait (a bound so that a server
// that never answers fails the test instead of hanging it; no timing is
// asserted).
func (c *rawConn) answer(wait time.Duration) (rawResponse, error) {
	c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return rawResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// signedHead is the header of a request signed by account A whose body is
// body, as the client writes it before the body.
func (s *testServer) signedHead(method, path, body string) string {
	req := s.signed(keyA, secretA, "us-east-1", "guardduty", method, path, body, time.Now())
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", method, path, req.Host, len(body))
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

func wantAWSError(t *testing.T, what string, r rawResponse, status int, typ string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, typ)
	}
	got, msg := r.errorBody(t)
	if got != typ {
		t.Fatalf("%s: %s %q, want %s", what, got, msg, typ)
	}
	if r.Header.Get("X-Amzn-RequestId") == "" {
		t.Errorf("%s: no X-Amzn-RequestId", what)
	}
	return msg
}

// TestEdgeAuthenticatesBeforeTheBody: a request without valid credentials
// is refused on its header alone; the server does not wait for (or hold)
// the 4 MB it announces. Before: it read the whole body first.
func TestEdgeAuthenticatesBeforeTheBody(t *testing.T) {
	s := startServer(t)
	unknown := "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNUNKNOWN00/" + time.Now().UTC().Format("20060102") +
		"/us-east-1/guardduty/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)
	for _, tc := range []struct{ name, auth, typ string }{
		{"no Authorization", "", "MissingAuthenticationTokenException"},
		{"unknown key", "Authorization: " + unknown + "\r\nX-Amz-Date: " + time.Now().UTC().Format("20060102T150405Z") + "\r\n", "UnrecognizedClientException"},
	} {
		c := s.dial()
		c.send("POST /detector/abc/findings/get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n" + tc.auth + "\r\n{")
		r, err := c.answer(10 * time.Second)
		if err != nil {
			t.Fatalf("%s: no answer before the body: %v", tc.name, err)
		}
		wantAWSError(t, tc.name, r, http.StatusForbidden, tc.typ)
	}
}

// TestEdgeSlowSenderCutOff: a client that stops sending its body loses its
// connection after the read timeout. Before: no read timeout (a
// 1-byte-per-second sender stayed 140 s).
func TestEdgeSlowSenderCutOff(t *testing.T) {
	s := startLimited(t, func(l *httpapi.Limits) {
		l.ReadHeaderTimeout = 300 * time.Millisecond
		l.ReadTimeout = 300 * time.Millisecond
	})
	body := `{"findingIds":["a","b","c","d","e","f"]}`
	c := s.dial()
	c.send(s.signedHead("POST", "/detector/abc/findings/get", body) + body[:5])
	r, err := c.answer(20 * time.Second)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server still waits for the body")
	}
	if err == nil && r.Status < 400 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// Slowloris on the header: the connection ends too.
	c = s.dial()
	c.send("GET /detector HTTP/1.1\r\nHost: x\r\n")
	if _, err := c.answer(20 * time.Second); errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server still waits for the header")
	}
}

// TestEdgeConnectionCap: beyond MaxConnections a connection is answered
// 429 ThrottlingException at once and closed; the slots come back when
// connections close. Before: no cap at all.
func TestEdgeConnectionCap(t *testing.T) {
	s := startLimited(t, func(l *httpapi.Limits) { l.MaxConnections = 3 })
	var slow []*rawConn
	for range 3 {
		c := s.dial()
		c.send("GET /detector HTTP/1.1\r\nHost: x\r\n") // never finished
		slow = append(slow, c)
	}
	time.Sleep(50 * time.Millisecond) // let the server accept them (no timing asserted)
	c := s.dial()
	c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	r, err := c.answer(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msg := wantAWSError(t, "connection beyond the cap", r, http.StatusTooManyRequests, "ThrottlingException"); msg != "Rate exceeded" {
		t.Errorf("message %q", msg)
	}
	for _, c := range slow {
		c.Close()
	}
	// A retrying SDK gets through once the slots are free.
	out, err := s.retryingClient().ListDetectors(context.Background(), &guardduty.ListDetectorsInput{})
	if err != nil || out == nil {
		t.Fatalf("after the slow connections closed: %v", err)
	}
}

// retryingClient is account A's client with the SDK's standard retryer
// (the harness's clients never retry).
func (s *testServer) retryingClient() *guardduty.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(keyA, secretA, ""),
		HTTPClient:  testHTTPClient,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 20
				o.MaxBackoff = 200 * time.Millisecond
				o.RateLimiter = noRateLimit{}
			})
		},
	}
	return guardduty.NewFromConfig(cfg, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(s.endpoint()) })
}

// noRateLimit lets the retryer retry as often as MaxAttempts says (the
// standard retryer's token bucket would stop it sooner).
type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

// TestEdgeSlowBodiesHoldNoSlots: requests whose bodies never end hold
// connections (until the read timeout), not the in-flight slots or the
// body budget beyond what they sent: the SDK's requests keep being served.
// The in-flight limits themselves: httpapi.TestInFlightLimits.
func TestEdgeSlowBodiesHoldNoSlots(t *testing.T) {
	s := startLimited(t, func(l *httpapi.Limits) {
		l.MaxInFlight = 2
		l.MaxBufferedBodyBytes = 1 << 20
	})
	body := `{"findingIds":["a"]}`
	for range 4 {
		c := s.dial()
		c.send(strings.Replace(s.signedHead("POST", "/detector/abc/findings/get", body), "Content-Length: 20", "Content-Length: 4000000", 1) + "{")
	}
	time.Sleep(100 * time.Millisecond) // let the server take them in (no timing asserted)
	if _, err := s.clientA().ListDetectors(context.Background(), &guardduty.ListDetectorsInput{}); err != nil {
		t.Fatalf("with slow bodies pending: %v", err)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEdgeValidationMessageBounded: a signed request of 300,000 empty ids
// gets a short message that still counts every violation. Before: one
// message part per id (a 4 MB request made a 168 MB message).
func TestEdgeValidationMessageBounded(t *testing.T) {
	s := startServer(t)
	det := createDetector(t, s.clientA())
	body := `{"findingIds":[` + strings.Repeat(`"",`, 300000) + `""]}`
	r := s.do("POST", "/detector/"+det+"/findings/get", body)
	msg := wantAWSError(t, "300,001 empty ids", r, http.StatusBadRequest, "BadRequestException")
	if len(msg) > 4096 || !strings.HasPrefix(msg, "300002 validation errors detected: ") {
		t.Errorf("message of %d bytes: %.200s", len(msg), msg)
	}
}

// TestEdgeCriteriaLimits: the user guide's limits on finding criteria (50
// attributes, 50 values per equals/notEquals) answer 400 for queries and
// filters alike. Before: 32,761 values or 1,000 criteria hit SQLite's
// limits (500), and CreateFilter stored such criteria.
func TestEdgeCriteriaLimits(t *testing.T) {
	s := startServer(t)
	c := s.clientA()
	ctx := context.Background()
	det := createDetector(t, c)
	many := make([]string, 32761)
	for i := range many {
		many[i] = fmt.Sprint("i-", i)
	}
	allStrings := map[string]types.Condition{} // every string attribute: 447
	for _, a := range guardpost.FilterAttributes {
		if a.Kind == guardpost.KindString {
			allStrings[a.Name] = types.Condition{Equals: []string{"x"}}
		}
	}
	for i, tc := range []struct {
		name string
		crit map[string]types.Condition
	}{
		{"51 values", map[string]types.Condition{"resource.instanceDetails.instanceId": {Equals: many[:51]}}},
		{"32,761 values", map[string]types.Condition{"resource.instanceDetails.instanceId": {NotEquals: many}}},
		{"51 eq values", map[string]types.Condition{"resource.instanceDetails.instanceId": {Eq: many[:51]}}},
		{"a value of 2,049 characters", map[string]types.Condition{"resource.instanceDetails.instanceId": {Equals: []string{strings.Repeat("i", 2049)}}}},
		{fmt.Sprint(len(allStrings), " criteria"), allStrings},
	} {
		fc := &types.FindingCriteria{Criterion: tc.crit}
		_, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(det), FindingCriteria: fc})
		var bad *types.BadRequestException
		if !errors.As(err, &bad) {
			t.Errorf("ListFindings, %s: %v, want BadRequestException", tc.name, err)
		}
		_, err = c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: aws.String(det), Name: aws.String(fmt.Sprint("filter", i)), FindingCriteria: fc})
		if !errors.As(err, &bad) {
			t.Errorf("CreateFilter, %s: %v, want BadRequestException", tc.name, err)
		}
	}
	_, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: aws.String(det), Name: aws.String("fifty"),
		FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"resource.instanceDetails.instanceId": {Equals: many[:50]}}}})
	if err != nil {
		t.Errorf("50 values: %v", err)
	}
	list, err := c.ListFilters(ctx, &guardduty.ListFiltersInput{DetectorId: aws.String(det)})
	if err != nil || len(list.FilterNames) != 1 {
		t.Errorf("filters stored: %v %v", list, err)
	}
}

// TestEdgeFeedbackCommentsBounded: comments beyond 4,096 characters answer
// 400 and change nothing. Before: 3.9 MiB of comments on 50 findings were
// stored 50 times.
func TestEdgeFeedbackCommentsBounded(t *testing.T) {
	s := startServer(t)
	c := s.clientA()
	det := sampleDetector(t, c)
	ids, err := c.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: aws.String(det)})
	if err != nil || len(ids.FindingIds) == 0 {
		t.Fatal(ids, err)
	}
	_, err = c.UpdateFindingsFeedback(context.Background(), &guardduty.UpdateFindingsFeedbackInput{DetectorId: aws.String(det),
		FindingIds: ids.FindingIds, Feedback: types.FeedbackUseful, Comments: aws.String(strings.Repeat("x", 4097))})
	var bad *types.BadRequestException
	if !errors.As(err, &bad) || !strings.Contains(bad.ErrorMessage(), "Member must have length less than or equal to 4096") {
		t.Fatalf("4,097 characters: %v", err)
	}
	_, err = c.UpdateFindingsFeedback(context.Background(), &guardduty.UpdateFindingsFeedbackInput{DetectorId: aws.String(det),
		FindingIds: ids.FindingIds, Feedback: types.FeedbackUseful, Comments: aws.String(strings.Repeat("é", 4096))})
	if err != nil {
		t.Fatalf("4,096 characters: %v", err)
	}
}

// TestEdgeUncleanPaths: a path with "..", "." or "//" is answered like any
// unknown path, in the AWS error shape, instead of ServeMux's 307 to its
// cleaned form before any authentication.
func TestEdgeUncleanPaths(t *testing.T) {
	s := startServer(t)
	for _, p := range []string{"/detector//findings", "/detector/../detector", "/./detector", "/detector/x/.."} {
		c := s.dial()
		c.send("GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n")
		r, err := c.answer(10 * time.Second)
		if err != nil {
			t.Fatal(p, err)
		}
		wantAWSError(t, p, r, http.StatusNotFound, "UnknownOperationException")
		if loc := r.Header.Get("Location"); loc != "" {
			t.Errorf("%s: redirected to %s", p, loc)
		}
	}
}

// TestEdgeNetHTTPErrorsInAWSShape: the answers net/http writes by itself (a
// header too large, a malformed request) come in the AWS error shape.
// Before: plain text.
func TestEdgeNetHTTPErrorsInAWSShape(t *testing.T) {
	s := startLimited(t, func(l *httpapi.Limits) { l.MaxHeaderBytes = 4 << 10 })
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"header too large", "GET /detector HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"no Host", "GET /detector HTTP/1.1\r\n\r\n", http.StatusBadRequest},
		{"malformed", "GET /detector HTTP/1.1\r\nHost x\r\n\r\n", http.StatusBadRequest},
	} {
		c := s.dial()
		c.send(tc.req)
		r, err := c.answer(10 * time.Second)
		if err != nil {
			t.Fatal(tc.name, err)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q: %s", tc.name, r.Header.Get("Content-Type"), r.Body)
			continue
		}
		wantAWSError(t, tc.name, r, tc.status, "BadRequestException")
	}
}

// TestEdgeExactDecoding: member names are matched exactly and invalid
// UTF-8 is refused, as AWS's parsers do. Before: "FindingIds" bound to
// findingIds and invalid bytes were silently replaced.
func TestEdgeExactDecoding(t *testing.T) {
	s := startServer(t)
	det := createDetector(t, s.clientA())
	r := s.do("POST", "/detector/"+det+"/findings/get", `{"FindingIds":["a"]}`)
	msg := wantAWSError(t, "FindingIds", r, http.StatusBadRequest, "BadRequestException")
	if !strings.Contains(msg, "Value null at 'findingIds'") {
		t.Errorf("message %q", msg)
	}
	r = s.do("POST", "/detector/"+det+"/filter", "{\"name\":\"ab\xffc\",\"findingCriteria\":{\"criterion\":{\"severity\":{\"gte\":4}}}}")
	wantAWSError(t, "invalid UTF-8", r, http.StatusBadRequest, "SerializationException")
}

// TestEdgeWriteTimeout: an answer the client never reads does not hold the
// server's goroutine and buffers past the write timeout. Before: no write
// timeout.
func TestEdgeWriteTimeout(t *testing.T) {
	s := startLimited(t, func(l *httpapi.Limits) { l.WriteTimeout = 300 * time.Millisecond })
	c := s.dial()
	if tcp, ok := c.Conn.(*net.TCPConn); ok {
		tcp.SetReadBuffer(4 << 10)
	}
	// The Prometheus metrics page is large enough, asked many times on
	// one connection, never read.
	var b strings.Builder
	for range 2000 {
		b.WriteString("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	go io.WriteString(c.Conn, b.String())
	// Once the write deadline passes, the server closes the connection:
	// reading then ends (at EOF or a reset) instead of going on forever.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	time.Sleep(time.Second) // the client reads nothing meanwhile (no timing asserted)
	_, err := io.Copy(io.Discard, c.Conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept writing to a client that does not read")
	}
}

// TestEdgeStorageFaultReported and the others above run against a real
// server; a storage fault needs a store that fails, see
// httpapi.TestStorageFault.

// TestEdgeGracefulShutdownUnderLoad: Close finishes while slow clients hold
// connections and others keep calling.
func TestEdgeGracefulShutdownUnderLoad(t *testing.T) {
	s := startLimited(t, func(l *httpapi.Limits) {
		l.ReadHeaderTimeout = 500 * time.Millisecond
		l.ReadTimeout = time.Second
	})
	det := createDetector(t, s.clientA())
	for range 20 {
		c := s.dial()
		c.send("GET /detector HTTP/1.1\r\nHost: x\r\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := s.clientA()
		for ctx.Err() == nil {
			c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(det)})
		}
	}()
	time.Sleep(200 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- s.Main.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-time.After(shutdownTimeout + 10*time.Second):
		t.Fatal("Close did not return")
	}
	cancel()
	<-done
	s.Main.stop = nil // closed: the harness's Close must not close again
	s.Main.store = nil
}

// TestEdgeTLS: with --tls-cert and --tls-key the API is served over TLS,
// to the SDK as to any client that trusts the certificate.
func TestEdgeTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	m := NewMain()
	m.Stderr = &printed
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--credentials", writeCredentials(t, dir),
		"--tls-cert", certFile, "--tls-key", keyFile}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if !strings.Contains(printed.String(), "export AWS_ENDPOINT_URL=https://") {
		t.Errorf("start instructions:\n%s", printed.String())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool}
	client := guardduty.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(keyA, secretA, ""),
		HTTPClient: &http.Client{Transport: sdkhttp.PrivateBody{Inner: transport}}, Retryer: func() aws.Retryer { return aws.NopRetryer{} }},
		func(o *guardduty.Options) { o.BaseEndpoint = aws.String("https://" + m.Addr()) })
	if _, err := client.CreateDetector(context.Background(), &guardduty.CreateDetectorInput{Enable: aws.Bool(true)}); err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	// Plain HTTP to the TLS port gets no answer it could mistake for one.
	resp, err := testHTTPClient.Get("http://" + m.Addr() + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served on the TLS port")
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 and its key, in PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "guardpost test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// TestEdgeUnreadAnswersHoldNoSlot: a client that asks and never reads its
// answers holds its connection and its answers' bytes until the write
// timeout, not the in-flight slots: other requests are served meanwhile.
func TestEdgeUnreadAnswersHoldNoSlot(t *testing.T) {
	s := startLimited(t, func(l *httpapi.Limits) { l.MaxInFlight = 1 })
	c := s.clientA()
	det := sampleDetector(t, c)
	list, err := c.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: aws.String(det)})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"findingIds":["` + strings.Join(list.FindingIds, `","`) + `"]}`
	conn := s.dial()
	if tcp, ok := conn.Conn.(*net.TCPConn); ok {
		tcp.SetReadBuffer(4 << 10)
	}
	// Ask until the server stops reading: it is then blocked writing an
	// answer, with no work of this client in progress.
	stalled := make(chan struct{})
	go func() {
		defer close(stalled)
		req := s.signedHead("POST", "/detector/"+det+"/findings/get", body) + body
		for range 100000 {
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := io.WriteString(conn.Conn, req); err != nil {
				return
			}
		}
	}()
	select {
	case <-stalled:
	case <-time.After(time.Minute):
		t.Fatal("the server kept reading requests whose answers are not read")
	}
	for range 5 {
		if _, err := c.ListDetectors(context.Background(), &guardduty.ListDetectorsInput{}); err != nil {
			t.Fatalf("while another client does not read its answers: %v", err)
		}
	}
}
