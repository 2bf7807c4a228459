package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"iter"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/internal/findinggen"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

// benchFindings is how many findings the handler benchmarks' store holds.
const benchFindings = 2000

var benchCreds = aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "benchsecret"}

// BenchmarkFindingHandlers measures GetFindings, ListFindings and
// GetFindingsStatistics through Server.ServeHTTP: signature check,
// decoding, validation, the store (SQLite in a temporary directory,
// holding benchFindings generated findings imported as guardpost-load
// --load imports them) and encoding. The requests are guardpost-load's
// ops, signed before the clock starts; ns/op includes building each
// http.Request from the signed template. GetFindings runs twice: answered
// from the service's finding cache (32 variants of the request, all held
// after the first round), and with the cache off (every finding read from
// the store, as right after a write).
func BenchmarkFindingHandlers(b *testing.B) {
	s, detector, ids, instanceID := benchServer(b)
	benchAudit(b, s)
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(n int) []string {
		out := make([]string, n)
		for i, j := range rng.Perm(len(ids))[:n] {
			out[i] = ids[j]
		}
		return out
	}
	criterion := func(name string, cond map[string]any) map[string]any {
		return map[string]any{"criterion": map[string]any{name: cond}}
	}
	get := "/detector/" + detector + "/findings/get"
	list := "/detector/" + detector + "/findings"
	stats := "/detector/" + detector + "/findings/statistics"
	get50 := func() any {
		return map[string]any{"findingIds": pick(50), "sortCriteria": map[string]any{"attributeName": "severity", "orderBy": "DESC"}}
	}
	get1 := func() any { return map[string]any{"findingIds": pick(1)} }
	cases := []struct {
		name string
		path string
		body func() any // called for each of the variants
		// uncached runs the case with the service's finding cache off: every
		// GetFindings reads the store, as after a write.
		uncached bool
	}{
		{"GetFindings/50-by-severity", get, get50, false},
		{"GetFindings/1", get, get1, false},
		{"GetFindings/50-by-severity-uncached", get, get50, true},
		{"GetFindings/1-uncached", get, get1, true},
		{"ListFindings/by-id", list, func() any { return map[string]any{"maxResults": 50} }, false},
		{"ListFindings/severity>=5-by-updatedAt", list, func() any {
			return map[string]any{"maxResults": 50, "findingCriteria": criterion("severity", map[string]any{"greaterThanOrEqual": 5}),
				"sortCriteria": map[string]any{"attributeName": "updatedAt", "orderBy": "DESC"}}
		}, false},
		{"ListFindings/instanceId-equals", list, func() any {
			return map[string]any{"maxResults": 50, "findingCriteria": criterion("resource.instanceDetails.instanceId", map[string]any{"equals": []string{instanceID}})}
		}, false},
		{"ListFindings/instanceId-matches", list, func() any {
			return map[string]any{"maxResults": 50, "findingCriteria": criterion("resource.instanceDetails.instanceId", map[string]any{"matches": []string{instanceID[:6] + "*"}})}
		}, false},
		{"Statistics/COUNT_BY_SEVERITY", stats, func() any { return map[string]any{"findingStatisticTypes": []string{"COUNT_BY_SEVERITY"}} }, false},
		{"Statistics/FINDING_TYPE-unarchived", stats, func() any {
			return map[string]any{"groupBy": "FINDING_TYPE", "findingCriteria": criterion("service.archived", map[string]any{"equals": []string{"false"}})}
		}, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.uncached {
				s.service.FindingCacheBytes = -1
				defer func() { s.service.FindingCacheBytes = 0 }()
			}
			// Variants so that GetFindings asks for other ids; the others
			// are all the same.
			reqs := make([]*signedRequest, 32)
			for i := range reqs {
				body, err := json.Marshal(c.body())
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = &signedRequest{path: c.path, body: body}
			}
			signAll := func() {
				for _, r := range reqs {
					r.sign(b)
				}
			}
			signAll()
			signed := time.Now()
			// Once outside the clock: the answer must be a 200, and a
			// store may build what it keeps in memory on first use.
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, reqs[0].request())
			if rec.Code != http.StatusOK {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
			w := &countingWriter{h: http.Header{}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				// The verifier accepts a signature for 5 minutes.
				if i%1024 == 0 && time.Since(signed) > 2*time.Minute {
					b.StopTimer()
					signAll()
					signed = time.Now()
					b.StartTimer()
				}
				clear(w.h)
				s.ServeHTTP(w, reqs[i%len(reqs)].request())
				i++
			}
			b.ReportMetric(float64(rec.Body.Len()), "resp-bytes")
		})
	}
}

// benchServer is a Server over a temporary SQLite store holding
// benchFindings generated findings, built once per benchmark run; it
// returns the detector, the findings' ids and an instance id one of them
// has.
func benchServer(b *testing.B) (s *Server, detector string, ids []string, instanceID string) {
	b.Helper()
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "guardpost.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := &guardpost.Service{Store: db, Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	ctx := context.Background()
	if detector, err = svc.CreateDetector(ctx, scope, "", guardpost.DetectorSettings{Enable: aws.Bool(true)}, nil); err != nil {
		b.Fatal(err)
	}
	gen := findinggen.New(1)
	for len(ids) < benchFindings {
		docs := func(yield func(map[string]any, error) bool) {
			for range 500 {
				raw, err := gen.Next()
				if err != nil {
					yield(nil, err)
					return
				}
				doc, err := ingest.Finding(raw)
				if err == nil {
					ids = append(ids, doc["id"].(string))
					if instanceID == "" {
						instanceID = instanceOf(doc)
					}
				}
				if !yield(doc, err) {
					return
				}
			}
		}
		if _, err := svc.ImportFindings(ctx, scope, iter.Seq2[map[string]any, error](docs)); err != nil {
			b.Fatal(err)
		}
	}
	verifier := &sigv4.Verifier{Service: "guardduty", Credentials: map[string]sigv4.Credential{
		benchCreds.AccessKeyID: {AccessKeyID: benchCreds.AccessKeyID, SecretAccessKey: benchCreds.SecretAccessKey, AccountID: scope.AccountID}}}
	return New(svc, verifier, slog.New(slog.NewTextHandler(io.Discard, nil))), detector, ids, instanceID
}

func instanceOf(doc map[string]any) string {
	r, _ := doc["resource"].(map[string]any)
	d, _ := r["instanceDetails"].(map[string]any)
	id, _ := d["instanceId"].(string)
	return id
}

// signedRequest is a POST signed once, from which requests are made.
type signedRequest struct {
	path   string
	body   []byte
	header http.Header
}

func (r *signedRequest) sign(b *testing.B) {
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1"+r.path, bytes.NewReader(r.body))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(r.body)
	if err := v4.NewSigner().SignHTTP(context.Background(), benchCreds, req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	r.header = req.Header
}

func (r *signedRequest) request() *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+r.path, bytes.NewReader(r.body))
	req.Header = r.header
	return req
}

// countingWriter is a ResponseWriter that keeps nothing.
type countingWriter struct {
	h http.Header
	n int
}

func (w *countingWriter) Header() http.Header         { return w.h }
func (w *countingWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *countingWriter) WriteHeader(int)             {}
