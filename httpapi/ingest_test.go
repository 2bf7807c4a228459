package httpapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/findinggen"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

// TestIngestLimits: a body over the limit, as sent or once decoded (a gzip
// bomb), is answered 413 in the AWS error shape, and nothing is written.
func TestIngestLimits(t *testing.T) {
	oldBody, oldDecoded := ingestBodyLimit, ingestDecodedLimit
	ingestBodyLimit, ingestDecodedLimit = 64<<10, 256<<10
	t.Cleanup(func() { ingestBodyLimit, ingestDecodedLimit = oldBody, oldDecoded })

	url := ingestTestServer(t)
	post := func(body []byte) (int, string) {
		t.Helper()
		code, msg, _ := postIngest(t, url, bytes.NewReader(body), body)
		return code, msg
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

// ingestTestServer serves the ingest endpoints for account 111122223333
// (key AKIDTEST, secret "secret"), which has a detector in us-east-1.
func ingestTestServer(t *testing.T) string {
	t.Helper()
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
	return srv.URL
}

// postIngest posts body (whose bytes are signed) to the findings import
// endpoint; when body is not a *bytes.Reader the request has no
// Content-Length (chunked). It returns the status, the error message if
// any (checking the AWS error shape) and the records imported.
func postIngest(t *testing.T, url string, body io.Reader, signed []byte) (code int, msg string, records int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+IngestFindingsPath, body)
	sum := sha256.Sum256(signed)
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
		Records int    `json:"records"`
	}
	json.Unmarshal(b, &e)
	if resp.StatusCode != http.StatusOK && (e.Type == "" || resp.Header.Get("X-Amzn-ErrorType") != e.Type) {
		t.Errorf("error without the AWS shape: %d %s", resp.StatusCode, b)
	}
	return resp.StatusCode, e.Message, e.Records
}

// TestIngestBodyPieces: a bulk body is read in pooled pieces of pieceSize
// bytes; every record reaches the import whole, wherever the pieces cut
// it, with or without a Content-Length; a body one byte over the limit is
// refused (413) while it is read, one at the limit is not.
func TestIngestBodyPieces(t *testing.T) {
	const limit = 8 * pieceSize
	oldBody := ingestBodyLimit
	ingestBodyLimit = limit
	t.Cleanup(func() { ingestBodyLimit = oldBody })
	url := ingestTestServer(t)

	gen := findinggen.New(7)
	var lines bytes.Buffer
	n := 0
	for lines.Len() < 5*pieceSize {
		rec, err := gen.Next()
		if err != nil {
			t.Fatal(err)
		}
		lines.Write(rec)
		lines.WriteByte('\n')
		n++
	}
	body := lines.Bytes()
	if code, msg, records := postIngest(t, url, bytes.NewReader(body), body); code != http.StatusOK || records != n {
		t.Errorf("%d findings in %d bytes: %d %s, %d records", n, len(body), code, msg, records)
	}
	if code, msg, records := postIngest(t, url, io.MultiReader(bytes.NewReader(body)), body); code != http.StatusOK || records != n {
		t.Errorf("%d findings in %d bytes, chunked: %d %s, %d records", n, len(body), code, msg, records)
	}

	atLimit := append(bytes.Repeat([]byte(" "), limit-len(body)), body...)
	if code, msg, records := postIngest(t, url, io.MultiReader(bytes.NewReader(atLimit)), atLimit); code != http.StatusOK || records != n {
		t.Errorf("a body of exactly the limit, chunked: %d %s, %d records", code, msg, records)
	}
	over := append([]byte(" "), atLimit...)
	if code, msg, _ := postIngest(t, url, io.MultiReader(bytes.NewReader(over)), over); code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(msg, fmt.Sprintf("larger than %d bytes", limit)) {
		t.Errorf("a body one byte over the limit, chunked: %d %s", code, msg)
	}
	if code, msg, _ := postIngest(t, url, bytes.NewReader(over), over); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body one byte over the limit: %d %s", code, msg)
	}
}

// TestPieces: what pieces read comes back byte for byte, whatever the
// size against pieceSize and however the source and the reader cut it,
// with the body's SHA-256.
func TestPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, pieceSize - 1, pieceSize, pieceSize + 1, 3*pieceSize + 5} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		var p pieces
		if err := p.readFrom(iotest.HalfReader(bytes.NewReader(data))); err != nil {
			t.Fatal(err)
		}
		if p.sum() != sha256.Sum256(data) {
			t.Errorf("size %d: wrong sum", size)
		}
		for _, read := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r },
			iotest.OneByteReader,
			func(r io.Reader) io.Reader { return bufio.NewReaderSize(r, 1000) },
		} {
			got, err := io.ReadAll(read(p.reader()))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("size %d: read back %d bytes (%v), want %d", size, len(got), err, size)
			}
		}
		p.release()
		if len(p.bufs) != 0 || p.size != 0 {
			t.Errorf("size %d: released pieces still hold %d buffers", size, len(p.bufs))
		}
	}
	errRead := errors.New("connection reset")
	var p pieces
	if err := p.readFrom(io.MultiReader(bytes.NewReader(make([]byte, pieceSize+3)), iotest.ErrReader(errRead))); !errors.Is(err, errRead) {
		t.Errorf("a failed read: %v", err)
	}
	p.release()
}
