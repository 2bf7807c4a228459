package network_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/detect/network"
	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/intel"
	"github.com/guardpost/guardpost/internal/sdkhttp"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

const (
	account = "111122223333"
	region  = "us-east-1"
	keyID   = "AKIDNETWORKTEST"
	secret  = "network-secret"
)

// Addresses of the fixtures: the instance's private address, and remote
// parties from the documentation ranges, each on one managed list.
var (
	localIP    = "10.0.1.5"
	c2IP       = "198.51.100.10"
	cryptoIP   = "198.51.100.11"
	blackhole  = "198.51.100.12"
	dropIP     = "198.51.100.13"
	torRelayIP = "198.51.100.14"
	torExitIP  = "198.51.100.15" // an exit, which is also a relay
	scannerIP  = "203.0.113.50"
	customIP   = "203.0.113.66"
	trustedIP  = "203.0.113.77"
)

// t0 is the fixtures' first record: 2026-11-30T10:00:00Z.
var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC).Unix()

// env is an in-process guardpost: a SQLite store, the service, the
// GuardDuty API over HTTP read through the real Go SDK, and a network
// detection engine writing to the same service.
type env struct {
	t       testing.TB
	svc     *guardpost.Service
	client  *guardduty.Client
	det     string
	managed *intel.Managed
	engine  *network.Engine
	opts    network.Options
	states  *stateStore
	now     time.Time
}

// stateStore stands in for the store's detection state until the
// evidence branch keeps it (Service.DetectionState answers nil today).
type stateStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *stateStore) load(_ context.Context, scope guardpost.Scope, detectorID string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[scope.AccountID+"/"+scope.Region+"/"+detectorID], nil
}

func (s *stateStore) write(ctx context.Context, svc *guardpost.Service, out []detect.Findings, rep *detect.Report) error {
	if err := detect.Write(ctx, svc, out, rep); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range out {
		s.m[w.Scope.AccountID+"/"+w.Scope.Region+"/"+w.DetectorID] = w.State[network.StateName]
	}
	return nil
}

var testHTTPClient = &http.Client{Transport: sdkhttp.PrivateBody{Inner: http.DefaultTransport.(*http.Transport).Clone()}}

func newEnv(t testing.TB, opts network.Options) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lists := map[string]string{
		"https://lists.example.com/threats.txt": customIP + "\n",
		"https://lists.example.com/trusted.txt": trustedIP + "\n",
	}
	svc := &guardpost.Service{Store: db, FetchList: func(_ context.Context, location, _ string, _ int64) ([]byte, error) {
		return []byte(lists[location]), nil
	}}
	intelDir := filepath.Join(dir, "intel")
	os.MkdirAll(intelDir, 0o700)
	for name, content := range map[string]string{
		"command-and-control.txt": c2IP + "\n",
		"cryptocurrency.txt":      cryptoIP + "\n",
		"blackhole.txt":           blackhole + "\n",
		"drop-point.txt":          dropIP + "\n",
		"tor-relay.txt":           torRelayIP + "\n" + torExitIP + "\n",
		"tor-exit.txt":            torExitIP + "\n",
		"scanner.txt":             scannerIP + "\n",
		// a trusted address on a managed list: the IP set wins
		"malicious-ip.txt": trustedIP + "\n",
	} {
		if err := os.WriteFile(filepath.Join(intelDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	managed := intel.NewManaged()
	if _, err := managed.Load(intelDir); err != nil {
		t.Fatal(err)
	}
	verifier := &sigv4.Verifier{Service: "guardduty", Credentials: map[string]sigv4.Credential{
		keyID: {AccessKeyID: keyID, SecretAccessKey: secret, AccountID: account}}}
	srv := httptest.NewServer(httpapi.New(svc, verifier, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	client := guardduty.NewFromConfig(aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		HTTPClient:  testHTTPClient,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	d, err := client.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, client: client, det: *d.DetectorId, managed: managed, opts: opts,
		states: &stateStore{m: map[string][]byte{}}, now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	ts, err := client.CreateThreatIntelSet(ctx, &guardduty.CreateThreatIntelSetInput{DetectorId: &e.det, Name: aws.String("incident-42"),
		Format: types.ThreatIntelSetFormatTxt, Location: aws.String("https://lists.example.com/threats.txt"), Activate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := client.CreateIPSet(ctx, &guardduty.CreateIPSetInput{DetectorId: &e.det, Name: aws.String("office"),
		Format: types.IpSetFormatTxt, Location: aws.String("https://lists.example.com/trusted.txt"), Activate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		a, err := client.GetThreatIntelSet(ctx, &guardduty.GetThreatIntelSetInput{DetectorId: &e.det, ThreatIntelSetId: ts.ThreatIntelSetId})
		if err != nil {
			t.Fatal(err)
		}
		b, err := client.GetIPSet(ctx, &guardduty.GetIPSetInput{DetectorId: &e.det, IpSetId: ip.IpSetId})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == types.ThreatIntelSetStatusActive && b.Status == types.IpSetStatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lists not active: %s %s", a.Status, b.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.restart()
	return e
}

// restart replaces the engine by a new one on the same store: what it
// knows of earlier ingests comes from the stored state.
func (e *env) restart() {
	opts := e.opts
	opts.LoadState, opts.Write = e.states.load, e.states.write
	e.engine = network.NewEngine(e.svc, e.managed, opts)
}

func (e *env) scope() guardpost.Scope { return guardpost.Scope{AccountID: account, Region: region} }

// ingest analyses records as one request: one Begin, batches of at most
// batch records (0: one batch), one Finish.
func (e *env) ingest(batch int, recs []ingest.FlowRecord) detect.Report {
	e.t.Helper()
	ctx := context.Background()
	a := e.engine.Begin(e.scope(), e.now)
	if batch <= 0 {
		batch = len(recs) + 1
	}
	for len(recs) > 0 {
		n := min(batch, len(recs))
		// The engine may not keep the records: hand it a copy that is
		// overwritten once Add returns.
		buf := append([]ingest.FlowRecord(nil), recs[:n]...)
		if err := a.Add(ctx, buf); err != nil {
			e.t.Fatal(err)
		}
		clear(buf)
		recs = recs[n:]
	}
	rep, err := a.Finish(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// findings reads every finding of the detector through the SDK, by type.
func (e *env) findings() []types.Finding {
	e.t.Helper()
	ctx := context.Background()
	var ids []string
	p := guardduty.NewListFindingsPaginator(e.client, &guardduty.ListFindingsInput{DetectorId: &e.det})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, page.FindingIds...)
	}
	var out []types.Finding
	for len(ids) > 0 {
		n := min(50, len(ids))
		g, err := e.client.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &e.det, FindingIds: ids[:n]})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, g.Findings...)
		ids = ids[n:]
	}
	sort.Slice(out, func(i, j int) bool {
		if *out[i].Type != *out[j].Type {
			return *out[i].Type < *out[j].Type
		}
		return *out[i].Id < *out[j].Id
	})
	return out
}

// Record builders. A flow is written from the sender's side: src sends
// to dst. Records carry no flow-direction (format v2), so the engine
// works out which side is the instance's.

const (
	eni      = "eni-0a1b2c3d4e5f60001"
	instance = "i-0a1b2c3d4e5f60001"
)

type flowOpt func(*ingest.FlowRecord)

func flow(src string, sport uint16, dst string, dport uint16, proto int16, packets, bytes, start int64, opts ...flowOpt) ingest.FlowRecord {
	r := ingest.FlowRecord{Version: 3, AccountID: account, InterfaceID: eni, InstanceID: instance,
		SrcAddr: netip.MustParseAddr(src), DstAddr: netip.MustParseAddr(dst), SrcPort: sport, DstPort: dport,
		Protocol: proto, Packets: packets, Bytes: bytes, Start: start, End: start + 60, Action: ingest.FlowActionAccept, Size: 120}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func rejected(r *ingest.FlowRecord) { r.Action = ingest.FlowActionReject }

func onInstance(id, eniID, vpc string) flowOpt {
	return func(r *ingest.FlowRecord) { r.InstanceID, r.InterfaceID, r.VPCID = id, eniID, vpc }
}

func noInstance(r *ingest.FlowRecord) { r.InstanceID, r.Version = "", 2 }

// connOut is a connection the instance opens: its request and the answer.
func connOut(remote string, rport uint16, proto int16, packets, bytes, start int64, opts ...flowOpt) []ingest.FlowRecord {
	lport := uint16(40000 + start%20000)
	return []ingest.FlowRecord{
		flow(localIP, lport, remote, rport, proto, packets, bytes, start, opts...),
		flow(remote, rport, localIP, lport, proto, packets, bytes, start, opts...),
	}
}

// connIn is a connection a remote host opens to the instance.
func connIn(remote string, rport, lport uint16, proto int16, packets, bytes, start int64, opts ...flowOpt) []ingest.FlowRecord {
	return []ingest.FlowRecord{
		flow(remote, rport, localIP, lport, proto, packets, bytes, start, opts...),
		flow(localIP, lport, remote, rport, proto, packets, bytes, start, opts...),
	}
}
