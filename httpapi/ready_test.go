package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/guardpost/guardpost"
)

func TestReadyz(t *testing.T) {
	s := New(&guardpost.Service{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ready atomic.Bool
	s.HandleReady(ready.Load)
	get := func() (int, string) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return w.Code, w.Body.String()
	}
	if code, body := get(); code != http.StatusServiceUnavailable || body != `{"status":"loading"}` {
		t.Fatalf("while loading: %d %s", code, body)
	}
	ready.Store(true)
	if code, body := get(); code != http.StatusOK || body != `{"status":"ready"}` {
		t.Fatalf("once loaded: %d %s", code, body)
	}
}
