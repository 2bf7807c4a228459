package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/guardpost/guardpost/intel"
)

// BenchmarkIngestCloudTrail is the CloudTrail endpoint end to end in one
// process, without the network: each iteration posts one signed, gzipped
// log file of 200,000 mixed records (mostly ordinary calls by 500 users
// from 5,000 addresses; 1 in 100 from a Tor exit node, 1 in 500 by root,
// 1 in 1,000 from a Kali machine, 1 in 5,000 stopping a trail) with
// detection on, into a SQLite store, and reports records/s.
//
//	go test -run '^$' -bench BenchmarkIngestCloudTrail -benchtime 3x ./httpapi
func BenchmarkIngestCloudTrail(b *testing.B) {
	const records = 200_000
	s := logBenchServer(b) // account 111122223333, its detector enabled
	intelDir := b.TempDir()
	var tor strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&tor, "185.220.%d.%d\n", i/250, i%250)
	}
	if err := os.WriteFile(filepath.Join(intelDir, "tor-exit.txt"), []byte(tor.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	managed := intel.NewManaged()
	if _, err := managed.Load(intelDir); err != nil {
		b.Fatal(err)
	}
	s.SetIntel(managed)

	t0 := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	recs := make([]map[string]any, records)
	for i := range recs {
		user := fmt.Sprintf("user%03d", i%500)
		identity := map[string]any{"type": "IAMUser", "principalId": "AIDA" + user, "arn": "arn:aws:iam::111122223333:user/" + user,
			"accountId": "111122223333", "accessKeyId": "AKIA" + user, "userName": user}
		rec := map[string]any{"eventVersion": "1.08", "userIdentity": identity, "eventTime": t0.Add(time.Duration(i) * 100 * time.Millisecond).Format(time.RFC3339),
			"eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1",
			"sourceIPAddress": fmt.Sprintf("198.51.%d.%d", i%5000/250, i%250), "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0",
			"requestParameters": map[string]any{"maxResults": 100}, "responseElements": nil, "requestID": fmt.Sprintf("req-%d", i),
			"eventID": fmt.Sprintf("evt-%d", i), "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
			"recipientAccountId": "111122223333", "eventCategory": "Management"}
		switch {
		case i%5000 == 7:
			rec["eventSource"], rec["eventName"], rec["readOnly"] = "cloudtrail.amazonaws.com", "StopLogging", false
			rec["requestParameters"] = map[string]any{"name": "main"}
		case i%1000 == 3:
			rec["userAgent"] = "aws-cli/2.15.30 distrib/kali.2024.1"
		case i%500 == 1:
			identity["type"], identity["arn"] = "Root", "arn:aws:iam::111122223333:root"
		case i%100 == 5:
			rec["sourceIPAddress"] = fmt.Sprintf("185.220.%d.%d", i%2000/250, i%250)
		}
		recs[i] = rec
	}
	file, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(file)
	zw.Close()
	data := buf.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+IngestCloudTrailPath, bytes.NewReader(data))
		req.Header.Set("Content-Encoding", "gzip")
		sum := sha256.Sum256(data)
		if err := v4.NewSigner().SignHTTP(context.Background(), benchCreds, req, hex.EncodeToString(sum[:]), "guardduty", "us-east-1", time.Now()); err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		b.StartTimer()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"accepted":200000`) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N*records)/b.Elapsed().Seconds(), "records/s")
}
