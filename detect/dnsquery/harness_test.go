package dnsquery_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect/dnsquery"
	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/intel"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

const (
	account = "111122223333"
	region  = "us-east-1"
	keyID   = "AKIDDNSTEST"
	secret  = "dns-test-secret"
)

var scope = guardpost.Scope{AccountID: account, Region: region}

// env is a service on a SQLite store, served over HTTP to a real
// GuardDuty SDK client, with the engine writing to the same service.
type env struct {
	t       *testing.T
	svc     *guardpost.Service
	gd      *guardduty.Client
	det     string
	managed *intel.Managed
	engine  *dnsquery.Engine
	lists   map[string]string // threat list files by location
}

// intelFiles are the managed lists every env loads: the categories the
// fixtures name, as a feed would deliver them.
var intelFiles = map[string]string{
	"cryptocurrency.txt":   "xmr-pool.example\n203.0.113.77\n",
	"blackhole.txt":        "sinkhole-ns.example\n192.0.2.66\n",
	"malicious-domain.txt": "malware-drop.example\nbad-host.duckdns.org\n",
	"malicious-ip.txt":     "198.51.100.99\n",
	"command-and-control.txt": "# C&C\n" +
		"cc-panel.example\n",
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, svc: &guardpost.Service{Store: db}, lists: map[string]string{}}
	e.svc.FetchList = func(_ context.Context, location, _ string, _ int64) ([]byte, error) {
		return []byte(e.lists[location]), nil
	}
	dir := t.TempDir()
	for name, body := range intelFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.managed = intel.NewManaged()
	if _, err := e.managed.Load(dir); err != nil {
		t.Fatal(err)
	}
	verifier := &sigv4.Verifier{Credentials: map[string]sigv4.Credential{
		keyID: {AccessKeyID: keyID, SecretAccessKey: secret, AccountID: account}}}
	srv := httptest.NewServer(httpapi.New(e.svc, verifier, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	e.gd = guardduty.NewFromConfig(aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	out, err := e.gd.CreateDetector(context.Background(), &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	e.det = aws.ToString(out.DetectorId)
	e.engine = dnsquery.New(e.svc, e.managed)
	return e
}

// entitySet creates and activates a threat entity set holding domains,
// through the SDK, and waits until it is ACTIVE.
func (e *env) entitySet(name string, domains ...string) {
	e.t.Helper()
	ctx := context.Background()
	loc := "https://lists.example/" + name + ".txt"
	e.lists[loc] = strings.Join(domains, "\n") + "\n"
	out, err := e.gd.CreateThreatEntitySet(ctx, &guardduty.CreateThreatEntitySetInput{DetectorId: &e.det, Name: aws.String(name),
		Format: types.ThreatEntitySetFormatTxt, Location: aws.String(loc), Activate: aws.Bool(true)})
	if err != nil {
		e.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		g, err := e.gd.GetThreatEntitySet(ctx, &guardduty.GetThreatEntitySetInput{DetectorId: &e.det, ThreatEntitySetId: out.ThreatEntitySetId})
		if err != nil {
			e.t.Fatal(err)
		}
		if g.Status == types.ThreatEntitySetStatusActive {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("threat entity set still %s", g.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ingest runs one ingest of records through engine (e.engine when nil)
// and returns its report.
func (e *env) ingest(engine *dnsquery.Engine, records []ingest.DNSQuery) {
	e.t.Helper()
	if engine == nil {
		engine = e.engine
	}
	a := engine.Begin(scope, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	if err := a.Add(context.Background(), records); err != nil {
		e.t.Fatal(err)
	}
	if _, err := a.Finish(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// findings reads every finding of the detector through the SDK.
func (e *env) findings() []types.Finding {
	e.t.Helper()
	ctx := context.Background()
	var ids []string
	p := guardduty.NewListFindingsPaginator(e.gd, &guardduty.ListFindingsInput{DetectorId: &e.det})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, page.FindingIds...)
	}
	var out []types.Finding
	for chunk := range slices.Chunk(ids, 50) {
		got, err := e.gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &e.det, FindingIds: chunk})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, got.Findings...)
	}
	return out
}

var t0 = time.Date(2026, 5, 31, 22, 0, 0, 0, time.UTC)

// query builds a query log record as the parser gives it: instance "" for
// a record without srcids; answers are A records (AAAA when they hold a
// colon).
func query(at time.Time, instance, src, name string, answers ...string) ingest.DNSQuery {
	q := ingest.DNSQuery{
		Line: 1, Size: 300, Version: "1.100000", AccountID: account, Region: region, VPCID: "vpc-0dns0test0",
		Time: at, Name: strings.ToLower(strings.TrimSuffix(name, ".")), RawName: name + ".",
		Type: "A", Class: "IN", RCode: "NOERROR", SrcAddr: netip.MustParseAddr(src), SrcPort: 40123,
		Transport: "UDP", InstanceID: instance,
	}
	for _, a := range answers {
		typ := "A"
		if strings.Contains(a, ":") {
			typ = "AAAA"
		}
		q.Answers = append(q.Answers, ingest.DNSAnswer{Data: a, Type: typ, Class: "IN"})
	}
	if len(answers) == 0 {
		q.RCode = "NXDOMAIN"
	}
	return q
}
