package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
	"github.com/guardpost/guardpost/internal/sdkhttp"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

var (
	credsA = aws.Credentials{AccessKeyID: "AKIAEDGEEDGEEDGEAAAA", SecretAccessKey: "secret-a"}
	credsB = aws.Credentials{AccessKeyID: "AKIAEDGEEDGEEDGEBBBB", SecretAccessKey: "secret-b"}
)

// edgeServer serves a Server with limits over a real listener (Configure
// and Listener applied), with an extra operation "Block" at POST /block
// that holds its in-flight slot until release is closed.
func edgeServer(t *testing.T, limits Limits) (url string, entered chan struct{}, release chan struct{}) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := New(&guardpost.Service{Store: db, Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))},
		&sigv4.Verifier{Service: "guardduty", Credentials: map[string]sigv4.Credential{
			credsA.AccessKeyID: {AccessKeyID: credsA.AccessKeyID, SecretAccessKey: credsA.SecretAccessKey, AccountID: "111111111111"},
			credsB.AccessKeyID: {AccessKeyID: credsB.AccessKeyID, SecretAccessKey: credsB.SecretAccessKey, AccountID: "222222222222"},
		}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.SetLimits(limits)
	entered, release = make(chan struct{}, 16), make(chan struct{})
	block := wire.Operation{Name: "Block", Method: http.MethodPost, Path: "/block", Code: http.StatusOK,
		NewInput: func() wire.Input { return &wire.NoInput{} }}
	s.mux.Handle("POST /block", s.operation(block, func(*request) (any, error) {
		entered <- struct{}{}
		<-release
		return nil, nil
	}))
	srv := httptest.NewUnstartedServer(nil)
	s.Configure(srv.Config)
	srv.Listener = s.Listener(srv.Listener, nil)
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	return srv.URL, entered, release
}

func hold(t *testing.T, url string, creds aws.Credentials, entered chan struct{}) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/block", nil)
	sum := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the blocking request was not served")
	}
}

func sdkClient(url string, creds aws.Credentials, retryer aws.Retryer) *guardduty.Client {
	return guardduty.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.StaticCredentialsProvider{Value: creds},
		HTTPClient: &http.Client{Transport: sdkhttp.PrivateBody{Inner: http.DefaultTransport.(*http.Transport).Clone()}},
		Retryer:    func() aws.Retryer { return retryer }}, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(url) })
}

func wantThrottled(t *testing.T, what string, err error) {
	t.Helper()
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" || ae.ErrorMessage() != "Rate exceeded" ||
		!errors.As(err, &re) || re.HTTPStatusCode() != http.StatusTooManyRequests {
		t.Fatalf("%s: %v, want 429 ThrottlingException \"Rate exceeded\"", what, err)
	}
	if !retry.NewStandard().IsErrorRetryable(err) {
		t.Errorf("%s: the SDK's standard retryer would not retry %v", what, err)
	}
}

// TestInFlightLimits: beyond MaxInFlightPerAccount requests of one account,
// or MaxInFlight in all, a request is answered 429 ThrottlingException
// "Rate exceeded", which the SDK's standard retryer retries; another
// account keeps its share, and the slots come back with the answers.
func TestInFlightLimits(t *testing.T) {
	url, entered, release := edgeServer(t, Limits{MaxInFlight: 3, MaxInFlightPerAccount: 2})
	ctx := context.Background()
	a, b := sdkClient(url, credsA, aws.NopRetryer{}), sdkClient(url, credsB, aws.NopRetryer{})
	hold(t, url, credsA, entered)
	hold(t, url, credsA, entered)
	_, err := a.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	wantThrottled(t, "account A at its limit", err)
	if _, err := b.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil {
		t.Fatalf("account B while A is at its limit: %v", err)
	}
	hold(t, url, credsB, entered)
	_, err = b.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	wantThrottled(t, "the server at its limit", err)
	close(release)
	retrying := sdkClient(url, credsA, retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 10 }))
	if _, err := retrying.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil {
		t.Fatalf("once the slots are free: %v", err)
	}
}
