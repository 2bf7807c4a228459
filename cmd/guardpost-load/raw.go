package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// rawClient sends requests signed with the SDK's SigV4 signer over a plain
// net/http client and reads each answer to its end without decoding it:
// what it measures is the server (and the connection), not an SDK's
// decoder, which on this machine can cost more CPU than the server spends.
type rawClient struct {
	http   *http.Client
	creds  aws.Credentials
	region string
	signer *v4.Signer
}

func newRawClient(awsCfg aws.Config, creds aws.Credentials, concurrency int) *rawClient {
	return &rawClient{http: &http.Client{Transport: newTransport(concurrency), Timeout: time.Minute},
		creds: creds, region: awsCfg.Region, signer: v4.NewSigner()}
}

// request builds a signed POST, as the SDK signs it: over the payload's
// SHA-256, service guardduty, the client's region. header is set before
// signing.
func (c *rawClient) request(ctx context.Context, url string, body []byte, header map[string]string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "guardduty", c.region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

var jsonHeader = map[string]string{"Content-Type": "application/json"}

// send posts body and discards the answer, returning its size. An answer
// other than 200 is an error named by its X-Amzn-ErrorType.
func (c *rawClient) send(ctx context.Context, url string, body []byte) (int64, error) {
	req, err := c.request(ctx, url, body, jsonHeader)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, statusError(resp)
	}
	return io.Copy(io.Discard, resp.Body)
}

// recorded is one answer kept as it came: status, headers and body.
type recorded struct {
	status int
	header http.Header
	body   []byte
}

// record posts body and keeps the whole answer, which must be a 200.
func (c *rawClient) record(ctx context.Context, url string, body []byte) (recorded, error) {
	req, err := c.request(ctx, url, body, jsonHeader)
	if err != nil {
		return recorded{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return recorded{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return recorded{}, statusError(resp)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return recorded{}, err
	}
	return recorded{status: resp.StatusCode, header: resp.Header.Clone(), body: b}, nil
}

// statusError reads an error answer: the only answers whose body the raw
// client reads, to tell what went wrong.
func statusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	if code == "" {
		code = fmt.Sprintf("HTTP%d", resp.StatusCode)
	}
	return &rawError{status: resp.StatusCode, code: code, body: string(b)}
}

// rawError is an answer other than 200. It is a smithy.APIError so that
// the report names it by its code as it names the SDK's errors.
type rawError struct {
	status int
	code   string
	body   string
}

var _ smithy.APIError = (*rawError)(nil)

func (e *rawError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.code, e.status, e.body)
}
func (e *rawError) ErrorCode() string             { return e.code }
func (e *rawError) ErrorMessage() string          { return e.body }
func (e *rawError) ErrorFault() smithy.ErrorFault { return smithy.FaultUnknown }

// staticServer answers each op's requests with the bytes the real server
// answered one of them: the same status, headers and body, with none of
// the work. It reads each request's body, as the server does, but checks
// no signature. The op is the first segment of the path (/get-50/detector/
// ...), so that the requests are otherwise the ones the server got.
type staticServer struct {
	answers map[string]recorded
	server  *http.Server
	url     string
}

func startStatic(answers map[string]recorded) (*staticServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &staticServer{answers: answers, url: "http://" + ln.Addr().String()}
	s.server = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.server.Serve(ln)
	return s, nil
}

func (s *staticServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	a, ok := s.answers[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// opURL is where an op's requests go on the static server.
func (s *staticServer) opURL(o *op, detector string) string {
	return s.url + "/" + o.mix + o.call.path(detector)
}

func (s *staticServer) close() error {
	err := s.server.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
