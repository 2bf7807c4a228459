package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
)

// TestOps loads a few generated findings through the import endpoint and
// runs every op raw with the static comparison, then through the SDK:
// every op must run without an error, and the ratio must be computed.
func TestOps(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Endpoint = startServer(t)
	cfg.Load = 30
	cfg.Mix = opsMix
	cfg.Concurrency = 2
	cfg.Duration = 150 * time.Millisecond
	cfg.Static = true
	cfg.CommandLine = "guardpost-load --mix ops --static"
	ctx := context.Background()

	var out strings.Builder
	if err := importFindings(ctx, cfg, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "imported 30 findings (30 created, 0 updated)") {
		t.Errorf("import: %s", out.String())
	}
	out.Reset()
	if err := importFindings(ctx, cfg, &out); err != nil || !strings.Contains(out.String(), "holds 30 findings, --load 30: nothing to import") {
		t.Errorf("second import: %v, %s", err, out.String())
	}

	for _, raw := range []bool{true, false} {
		cfg.Static, cfg.Raw = raw, raw
		rep, err := runOps(ctx, cfg, ops)
		if err != nil {
			t.Fatal(err)
		}
		var printed strings.Builder
		rep.write(&printed)
		t.Log("\n" + printed.String())
		if rep.Findings != 30 || rep.Queries.instanceID == "" || !strings.HasSuffix(rep.Queries.pattern, "*") {
			t.Errorf("findings %d, queries %+v", rep.Findings, rep.Queries)
		}
		if rep.RSSBefore <= 0 || rep.RSSAfter <= 0 {
			t.Errorf("RSS %v before, %v after", rep.RSSBefore, rep.RSSAfter)
		}
		if len(rep.Rows) != len(ops) {
			t.Fatalf("%d rows, want %d", len(rep.Rows), len(ops))
		}
		for i, r := range rep.Rows {
			if r.Operation != ops[i].name || r.Requests == 0 || r.ErrorCount() != 0 {
				t.Errorf("row %q: %d requests, errors %v %v", r.Operation, r.Requests, r.Errors, r.FirstMessage)
			}
			switch {
			case raw && (r.Static == nil || r.Static.Requests == 0 || r.Static.ErrorCount() != 0 || r.Ratio() <= 0 || r.BytesPerAnswer <= 0):
				t.Errorf("%s: static %+v, ratio %v, %v bytes per answer", r.Operation, r.Static, r.Ratio(), r.BytesPerAnswer)
			case !raw && (r.Static != nil || r.BytesPerAnswer != 0):
				t.Errorf("%s: SDK run with static figures", r.Operation)
			}
		}
		if strings.Contains(printed.String(), "errors by code") || !strings.Contains(printed.String(), ops[0].name+" ") {
			t.Errorf("report:\n%s", printed.String())
		}
	}
}

// TestOpBodies: each op's body, decoded into the SDK's input, goes on the
// wire as the raw client sends it, so that --raw and the SDK ask the same.
func TestOpBodies(t *testing.T) {
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	client := guardduty.New(guardduty.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), HTTPClient: newHTTPClient(1)})
	q := &queries{target: target{detector: "d", ids: []string{"a", "b", "c"}}, instanceID: "i-0123456789abcdef0", pattern: "i-0123*"}
	for _, o := range ops {
		body := o.body(q, rand.New(rand.NewPCG(1, 1)))
		if err := o.callSDK(context.Background(), client, q.detector, body); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		var want, sent any
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(<-got, &sent); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(want, sent) {
			t.Errorf("%s: the SDK sent %v, the raw body is %v", o.name, sent, want)
		}
	}
}

func TestSelectOps(t *testing.T) {
	if got, ok := selectOps(opsMix); !ok || len(got) != len(ops) {
		t.Errorf("ops: %d, %v", len(got), ok)
	}
	if got, ok := selectOps("get-1,stats-type,get-1"); !ok || len(got) != 2 || got[0].mix != "get-1" || got[1].mix != "stats-type" {
		t.Errorf("a list: %v", got)
	}
	for _, bad := range []string{"get", "get-1,nope", ""} {
		if _, ok := selectOps(bad); ok {
			t.Errorf("%q selected ops", bad)
		}
	}
	for _, bad := range [][]string{{"--mix", "get", "--raw"}, {"--mix", "mixed", "--static"}, {"--load", "-1"}, {"--duration", "0s"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	cfg, err := parseFlags([]string{"--load", "100", "--duration", "0s"}, io.Discard)
	if err != nil || cfg.Load != 100 || cfg.LoadSeed != 1 {
		t.Errorf("load only: %+v, %v", cfg, err)
	}
}

func TestParseServerStats(t *testing.T) {
	s := parseServerStats(strings.NewReader("# HELP process_resident_memory_bytes x\n" +
		"process_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 4.5e+07\ngo_goroutines 9\n"))
	if !s.ok || s.rss != 45e6 || s.cpu != 12.5 {
		t.Errorf("%+v", s)
	}
	if s := parseServerStats(strings.NewReader("go_goroutines 9\n")); s.ok {
		t.Errorf("%+v", s)
	}
}
