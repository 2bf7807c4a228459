package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/findinggen"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

// BenchmarkIngestEndpoint is the import endpoint end to end in one
// process, without the network: signed requests of 2,000 new generated
// findings each (guardpost ingest's batch, gzipped as it sends them) into
// one detector of a SQLite store that grows as it runs. ns/finding is per
// finding; a CPU profile of it shows where the server's time goes.
// "unbuilt" writes into a detector whose index is not built yet (an
// import before the first query); "built" into one whose index is, so
// that every write also updates it.
func BenchmarkIngestEndpoint(b *testing.B) {
	b.Run("unbuilt", func(b *testing.B) { benchIngestEndpoint(b, false) })
	b.Run("built", func(b *testing.B) { benchIngestEndpoint(b, true) })
}

func benchIngestEndpoint(b *testing.B, built bool) {
	const batch = 2000
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "guardpost.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := &guardpost.Service{Store: db}
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	detectorID, err := svc.CreateDetector(context.Background(), scope, "", guardpost.DetectorSettings{Enable: aws.Bool(true)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if built { // the first query builds the detector's index
		if _, _, err := svc.ListFindings(context.Background(), scope, detectorID, guardpost.ListFindingsInput{}); err != nil {
			b.Fatal(err)
		}
	}
	verifier := &sigv4.Verifier{Service: "guardduty", Credentials: map[string]sigv4.Credential{
		benchCreds.AccessKeyID: {AccessKeyID: benchCreds.AccessKeyID, SecretAccessKey: benchCreds.SecretAccessKey, AccountID: scope.AccountID}}}
	s := New(svc, verifier, slog.New(slog.NewTextHandler(io.Discard, nil)))
	gen := findinggen.New(1)
	body := func() []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		for range batch {
			rec, err := gen.Next()
			if err != nil {
				b.Fatal(err)
			}
			zw.Write(rec)
			zw.Write([]byte("\n"))
		}
		zw.Close()
		return buf.Bytes()
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		data := body()
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+IngestFindingsPath, bytes.NewReader(data))
		req.Header.Set("Content-Encoding", "gzip")
		sum := sha256.Sum256(data)
		if err := v4.NewSigner().SignHTTP(context.Background(), benchCreds, req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", time.Now()); err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		b.StartTimer()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/finding")
}
