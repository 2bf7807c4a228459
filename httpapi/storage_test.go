package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

// sqliteError is an error as the SQLite driver reports it: a result code.
type sqliteError int

func (e sqliteError) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e sqliteError) Code() int     { return int(e) }

// readOnlyStore fails every detector insert as a database whose file
// became read-only does (SQLITE_READONLY_DBMOVED, an extended code).
type readOnlyStore struct {
	guardpost.Store
	broken atomic.Bool
}

func (s *readOnlyStore) InsertDetector(ctx context.Context, d *guardpost.Detector) error {
	if s.broken.Load() {
		return fmt.Errorf("sqlite: insert detector: %w", sqliteError(8|4<<8))
	}
	return s.Store.InsertDetector(ctx, d)
}

// TestStorageFault: when storage cannot take writes, a write answers 503
// with a type every AWS SDK retries, /readyz fails with the reason, and
// the log says why, once. Before: 500 InternalServerErrorException, a
// /readyz that said ready, and only the generic internal-error line.
func TestStorageFault(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &readOnlyStore{Store: db}
	store.broken.Store(true)
	var logged strings.Builder
	creds := aws.Credentials{AccessKeyID: "AKIAFAULTFAULTFAULT0", SecretAccessKey: "secret"}
	s := New(&guardpost.Service{Store: store, Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))},
		&sigv4.Verifier{Service: "guardduty", Credentials: map[string]sigv4.Credential{creds.AccessKeyID: {
			AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, AccountID: "111122223333"}}},
		slog.New(slog.NewTextHandler(&logged, nil)))
	s.HandleReady(func() bool { return true })

	createDetector := func() *httptest.ResponseRecorder {
		body := []byte(`{"enable":true}`)
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/detector", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	readyz := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return w
	}
	for range 3 {
		w := createDetector()
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("X-Amzn-ErrorType") != "ServiceUnavailableException" {
			t.Fatalf("write on read-only storage: %d %s %s", w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body)
		}
	}
	if w := readyz(); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "read-only") {
		t.Errorf("/readyz: %d %s", w.Code, w.Body)
	}
	if n := strings.Count(logged.String(), "storage fault"); n != 1 || !strings.Contains(logged.String(), "reason=\"the database is read-only\"") {
		t.Errorf("%d storage fault lines in the log:\n%s", n, logged.String())
	}
	store.broken.Store(false)
	if w := createDetector(); w.Code != http.StatusOK {
		t.Errorf("once fixed: %d %s", w.Code, w.Body)
	}
}
