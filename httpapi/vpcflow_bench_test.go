package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	"github.com/guardpost/guardpost/internal/cputime"
	"github.com/guardpost/guardpost/internal/loggen"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

// logBenchServer is a server on a SQLite store with an enabled detector
// of loggen's account.
func logBenchServer(b *testing.B) *Server {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "guardpost.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := &guardpost.Service{Store: db}
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	if _, err := svc.CreateDetector(context.Background(), scope, "", guardpost.DetectorSettings{Enable: aws.Bool(true)}, nil); err != nil {
		b.Fatal(err)
	}
	verifier := &sigv4.Verifier{Service: "guardduty", Credentials: map[string]sigv4.Credential{
		benchCreds.AccessKeyID: {AccessKeyID: benchCreds.AccessKeyID, SecretAccessKey: benchCreds.SecretAccessKey, AccountID: scope.AccountID}}}
	return New(svc, verifier, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// benchLogIngest posts body (gzipped) to path once per iteration and
// reports records/s end to end: signature check, gunzip, parse, routing
// and the engine's analysis. The bodies are gzip as guardpost ingest
// sends them by default, or plain.
func benchLogIngest(b *testing.B, path string, body []byte, records int) {
	b.Run("gzip", func(b *testing.B) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(body)
		zw.Close()
		benchLogBody(b, path, buf.Bytes(), true, records)
	})
	// As sent with guardpost ingest --gzip=false (over loopback).
	b.Run("plain", func(b *testing.B) { benchLogBody(b, path, body, false, records) })
}

func benchLogBody(b *testing.B, path string, data []byte, gzipped bool, records int) {
	s := logBenchServer(b)
	want := fmt.Sprintf(`"accepted":%d`, records)
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+path, bytes.NewReader(data))
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		sum := sha256.Sum256(data)
		if err := v4.NewSigner().SignHTTP(context.Background(), benchCreds, req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", time.Now()); err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		b.StartTimer()
		c0 := cputime.Process()
		s.ServeHTTP(rec, req)
		cpu += cputime.Process() - c0
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N*records)/b.Elapsed().Seconds(), "records/s")
	// CPU time of the whole process over the requests (both cores'): what
	// a record costs whatever else the machine runs.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*records), "cpu-ns/record")
}

// BenchmarkIngestVPCFlow is the flow log endpoint end to end in one
// process, without the network: each iteration posts one signed, gzipped
// body of 500,000 records of loggen's ordinary VPC (v5 custom format) and
// reports records/s.
//
//	go test -run '^$' -bench BenchmarkIngestVPCFlow -benchtime 3x -benchmem ./httpapi
func BenchmarkIngestVPCFlow(b *testing.B) {
	const records = 500_000
	var body bytes.Buffer
	if _, err := loggen.WriteFlowLogs(&body, loggen.Config{Seed: 1, Flows: records}); err != nil {
		b.Fatal(err)
	}
	benchLogIngest(b, IngestVPCFlowPath, body.Bytes(), records)
}

// BenchmarkIngestDNS is the query log endpoint as BenchmarkIngestVPCFlow,
// with 200,000 records.
//
//	go test -run '^$' -bench BenchmarkIngestDNS -benchtime 3x -benchmem ./httpapi
func BenchmarkIngestDNS(b *testing.B) {
	const records = 200_000
	var body bytes.Buffer
	if _, err := loggen.WriteDNSLogs(&body, loggen.Config{Seed: 1, DNSQueries: records}); err != nil {
		b.Fatal(err)
	}
	benchLogIngest(b, IngestDNSPath, body.Bytes(), records)
}
