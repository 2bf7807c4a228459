package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRequestOverhead is what ServeHTTP adds around a handler (request
// id, status capture, request log line, metrics hook), on /healthz.
func BenchmarkRequestOverhead(b *testing.B) {
	s := New(nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.ObserveRequest = func(string, int, time.Duration) {}
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	b.ReportAllocs()
	for b.Loop() {
		s.ServeHTTP(discardWriter{http.Header{}}, r)
	}
}

type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}
