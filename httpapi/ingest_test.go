package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

// TestIngestLimits: a body over the limit, as sent or once decoded (a gzip
// bomb), is answered 413 in the AWS error shape, and nothing is written.
func TestIngestLimits(t *testing.T) {
	oldBody, oldDecoded := ingestBodyLimit, ingestDecodedLimit
	ingestBodyLimit, ingestDecodedLimit = 64<<10, 256<<10
	t.Cleanup(func() { ingestBodyLimit, ingestDecodedLimit = oldBody, oldDecoded })

	db, err := sqlite.Open(filepath.Join(t.TempDir(), "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := &guardpost.Service{Store: db}
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	if _, err := svc.CreateDetector(context.Background(), scope, "", guardpost.DetectorSettings{Enable: aws.Bool(true)}, nil); err != nil {
		t.Fatal(err)
	}
	verifier := &sigv4.Verifier{Credentials: map[string]sigv4.Credential{
		"AKIDTEST": {AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", AccountID: scope.AccountID}}}
	srv := httptest.NewServer(New(svc, verifier, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)

	post := func(body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+IngestFindingsPath, bytes.NewReader(body))
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"},
			req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct {
			Message string `json:"message"`
			Type    string `json:"__type"`
		}
		json.Unmarshal(b, &e)
		if resp.StatusCode != http.StatusOK && (e.Type == "" || resp.Header.Get("X-Amzn-ErrorType") != e.Type) {
			t.Errorf("error without the AWS shape: %d %s", resp.StatusCode, b)
		}
		return resp.StatusCode, e.Message
	}

	if code, msg := post(bytes.Repeat([]byte(" "), 65<<10)); code != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "larger than 65536 bytes") {
		t.Errorf("body over the limit: %d %s", code, msg)
	}
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte(" "), 8<<20))
	zw.Close()
	if bomb.Len() > 64<<10 {
		t.Fatalf("the bomb is %d bytes compressed", bomb.Len())
	}
	if code, msg := post(bomb.Bytes()); code != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "decoded request body is larger than 262144 bytes") {
		t.Errorf("gzip bomb: %d %s", code, msg)
	}
	if code, msg := post([]byte(" \n ")); code != http.StatusOK {
		t.Errorf("empty body: %d %s", code, msg)
	}
}
