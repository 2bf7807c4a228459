package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/smithy-go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetrics makes real SDK calls, then reads GET /metrics as Prometheus
// would and checks the counters of those calls.
func TestMetrics(t *testing.T) {
	s := startServer(t)
	c := s.clientA()
	ctx := context.Background()
	det := createDetector(t, c)
	for range 2 {
		if _, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(strings.Repeat("0", 32))})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "BadRequestException" {
		t.Fatalf("GetDetector of another's id: %v", err)
	}
	// A bad signature is counted too, under its operation.
	if _, err := s.client(keyA, "not-the-secret", "us-east-1").ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err == nil {
		t.Fatal("a bad signature was accepted")
	}

	// Two new sample findings, then a repeat of one: a new occurrence.
	for _, types := range [][]string{{"Recon:EC2/Portscan", "UnauthorizedAccess:EC2/SSHBruteForce"}, {"Recon:EC2/Portscan"}} {
		if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: types}); err != nil {
			t.Fatal(err)
		}
	}

	got := scrape(t, s)
	for key, want := range map[string]float64{
		`guardpost_http_requests_total{code="200",operation="CreateDetector"}`:                 1,
		`guardpost_http_requests_total{code="200",operation="ListDetectors"}`:                  2,
		`guardpost_http_requests_total{code="403",operation="ListDetectors"}`:                  1,
		`guardpost_http_requests_total{code="400",operation="GetDetector"}`:                    1,
		`guardpost_http_request_duration_seconds_count{operation="ListDetectors"}`:             3,
		`guardpost_http_request_duration_seconds_count{operation="GetDetector"}`:               1,
		`guardpost_http_request_duration_seconds_bucket{le="+Inf",operation="CreateDetector"}`: 1,
		`guardpost_findings_written_total{outcome="created"}`:                                  2,
		`guardpost_findings_written_total{outcome="updated"}`:                                  1,
		`guardpost_store_duration_seconds_count{method="InsertDetector"}`:                      1,
		`guardpost_store_duration_seconds_count{method="Detectors"}`:                           2,
		`guardpost_store_duration_seconds_count{method="MergeFindings"}`:                       2,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	// The scrape counts itself only once it is answered: the second sees the first.
	if got := scrape(t, s); got[`guardpost_http_requests_total{code="200",operation="guardpost:Metrics"}`] != 1 {
		t.Errorf("scrapes counted: %v", got[`guardpost_http_requests_total{code="200",operation="guardpost:Metrics"}`])
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := got[name]; !ok {
			t.Errorf("no %s: the Go and process collectors are missing", name)
		}
	}
	if t.Failed() {
		var keys []string
		for k := range got {
			if strings.HasPrefix(k, "guardpost_") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		t.Logf("guardpost series:\n%s", strings.Join(keys, "\n"))
	}
}

// scrape reads /metrics over plain HTTP, unauthenticated, and returns every
// sample by name and sorted labels, e.g. `name{a="x",b="y"}`; histograms
// contribute their _count, _sum and _bucket series.
func scrape(t *testing.T, s *testServer) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.endpoint() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			slices.Sort(labels)
			key := func(suffix string, extra ...string) string {
				ls := slices.Sorted(slices.Values(append(slices.Clone(labels), extra...)))
				if len(ls) == 0 {
					return name + suffix
				}
				return name + suffix + "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key("")] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key("")] = m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				out[key("")] = m.GetUntyped().GetValue()
			case m.GetHistogram() != nil:
				h := m.GetHistogram()
				out[key("_count")] = float64(h.GetSampleCount())
				out[key("_sum")] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					out[key("_bucket", `le="`+model.FloatString(b.GetUpperBound()).String()+`"`)] = float64(b.GetCumulativeCount())
				}
				out[key("_bucket", `le="+Inf"`)] = float64(h.GetSampleCount())
			}
		}
	}
	return out
}
