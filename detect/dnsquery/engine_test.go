package dnsquery

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/intel"
	"github.com/guardpost/guardpost/sqlite"
)

var (
	testScope = guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	start     = time.Date(2026, 5, 31, 22, 0, 0, 0, time.UTC)
)

// newService returns a service on a fresh SQLite store with an enabled
// detector.
func newService(t testing.TB) (*guardpost.Service, string) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := &guardpost.Service{Store: db}
	det, err := svc.CreateDetector(context.Background(), testScope, "", guardpost.DetectorSettings{Enable: aws.Bool(true)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc, det
}

func q(at time.Time, instance, name string, answers ...string) ingest.DNSQuery {
	r := ingest.DNSQuery{AccountID: testScope.AccountID, Region: testScope.Region, Time: at, Name: name, RawName: name + ".",
		Type: "A", Class: "IN", RCode: "NOERROR", SrcAddr: netip.MustParseAddr("10.0.0.9"), Transport: "UDP", InstanceID: instance, Size: 200}
	for _, a := range answers {
		r.Answers = append(r.Answers, ingest.DNSAnswer{Data: a, Type: "A", Class: "IN"})
	}
	return r
}

// tunnel returns n queries carrying hex data under tunnel.example, ten
// seconds apart.
func tunnel(n int, from time.Time, instance string) []ingest.DNSQuery {
	var out []ingest.DNSQuery
	for i := 0; i < n; i++ {
		out = append(out, q(from.Add(time.Duration(i)*10*time.Second), instance, fmt.Sprintf("%x.tunnel.example", sha256.Sum256([]byte{byte(i), byte(i >> 8)}))))
	}
	return out
}

// occurrences runs one ingest and returns, before it is written, what it
// made: type|key -> count first..last.
func occurrences(t *testing.T, e *Engine, records []ingest.DNSQuery) map[string]string {
	t.Helper()
	a := e.Begin(testScope, start)
	if err := a.Add(context.Background(), records); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, w := range a.order {
		for _, o := range w.order {
			out[o.rule.Type+"|"+o.key] = fmt.Sprintf("%d %d..%d", o.count, o.first, o.last)
		}
	}
	if _, err := a.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

// merged folds the occurrences of several ingests as the findings
// pipeline does (counts add up, the first sighting stays).
func merged(runs ...map[string]string) map[string]string {
	type agg struct{ count, first, last int64 }
	m := map[string]*agg{}
	for _, run := range runs {
		for k, v := range run {
			var c, f, l int64
			fmt.Sscanf(strings.Replace(v, "..", " ", 1), "%d %d %d", &c, &f, &l)
			a := m[k]
			if a == nil {
				m[k] = &agg{c, f, l}
				continue
			}
			a.count += c
			a.first = min(a.first, f)
			a.last = max(a.last, l)
		}
	}
	out := map[string]string{}
	for k, a := range m {
		out[k] = fmt.Sprintf("%d %d..%d", a.count, a.first, a.last)
	}
	return out
}

// TestRestartState: an engine that resumes from the state the last one
// stored (Findings.State["dns"], as Service.DetectionState returns it)
// makes what one engine would have made: the exfiltration window
// straddles the restart.
func TestRestartState(t *testing.T) {
	records := append(benignQueries(3000, 3, testScope.AccountID, testScope.Region, start), tunnel(30, start.Add(time.Minute), "i-0aaa")...)
	slices.SortStableFunc(records, func(a, b ingest.DNSQuery) int { return a.Time.Compare(b.Time) })
	cut := slices.IndexFunc(records, func(r ingest.DNSQuery) bool { return r.InstanceID == "i-0aaa" }) + 12

	svc, _ := newService(t)
	whole := occurrences(t, New(svc, nil), records)
	if whole["Trojan:EC2/DNSDataExfiltration|i-0aaa|tunnel.example"] == "" {
		t.Fatalf("no exfiltration finding: %v", whole)
	}

	svc2, _ := newService(t)
	first := New(svc2, nil)
	before := occurrences(t, first, records[:cut])
	// What Finish stored for the detector: the durable state, encoded.
	var stored []byte
	for _, s := range first.durable {
		b, err := s.encode()
		if err != nil {
			t.Fatal(err)
		}
		stored = b
	}
	second := New(svc2, nil)
	loads := 0
	second.load = func(context.Context, guardpost.Scope, string) ([]byte, error) { loads++; return stored, nil }
	after := occurrences(t, second, records[cut:])
	if loads != 1 {
		t.Errorf("state loaded %d times, want once", loads)
	}
	if got := merged(before, after); !maps.Equal(got, whole) {
		t.Errorf("across a restart %v, want %v", got, whole)
	}
	// Without the state the burst starts over: the windows matter.
	third := New(svc2, nil)
	third.load = func(context.Context, guardpost.Scope, string) ([]byte, error) { return nil, nil }
	if got := merged(before, occurrences(t, third, records[cut:])); maps.Equal(got, whole) {
		t.Error("the same findings without the stored state: the fixture does not straddle the restart")
	}
}

// TestAbort: an aborted ingest leaves the windows where the last finished
// one left them, and writes nothing.
func TestAbort(t *testing.T) {
	svc, det := newService(t)
	e := New(svc, nil)
	records := tunnel(20, start, "i-0bbb")
	occurrences(t, e, records[:15])
	a := e.Begin(testScope, start)
	if err := a.Add(context.Background(), records[15:19]); err != nil {
		t.Fatal(err)
	}
	a.Abort()
	// Had the aborted four counted, this one query would be a hit.
	if got := occurrences(t, e, records[19:20]); len(got) != 0 {
		t.Fatalf("after an abort: %v", got)
	}
	ids, _, err := svc.ListFindings(context.Background(), testScope, det, guardpost.ListFindingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Fatalf("%d findings written", len(ids))
	}
	// The four again, finished this time: the twentieth distinct name
	// fires.
	if got := occurrences(t, e, records[15:19]); got["Trojan:EC2/DNSDataExfiltration|i-0bbb|tunnel.example"] == "" {
		t.Fatalf("no burst: %v", got)
	}
}

// TestEvidence: a finding keeps the first and the latest query log records
// of its occurrence, re-encoded as Route 53 Resolver writes them.
func TestEvidence(t *testing.T) {
	svc, det := newService(t)
	e := New(svc, nil)
	records := tunnel(30, start, "i-0ccc")
	records[0].FirewallAction = "BLOCK"
	a := e.Begin(testScope, start)
	if err := a.Add(context.Background(), records); err != nil {
		t.Fatal(err)
	}
	// The caller reuses its batch: the evidence must not change.
	for i := range records {
		records[i].Name, records[i].RawName = "overwritten.example", "overwritten.example."
	}
	w := a.order[0]
	if len(w.order) != 1 {
		t.Fatalf("%d occurrences", len(w.order))
	}
	f, err := w.order[0].finding(testScope, det, start)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Evidence) != 5 {
		t.Fatalf("%d evidence records", len(f.Evidence))
	}
	// The burst fired at the 20th query: its window's members are the
	// occurrence, the records kept are the 20th, 21st, 22nd (first) and
	// the 29th and 30th (latest).
	wantIdx := []int{19, 20, 21, 28, 29}
	for i, line := range f.Evidence {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("evidence %d: %v", i, err)
		}
		want := tunnel(30, start, "i-0ccc")[wantIdx[i]]
		if rec["query_name"] != want.RawName || rec["query_timestamp"] != want.Time.Format(time.RFC3339Nano) ||
			rec["srcids"].(map[string]any)["instance"] != "i-0ccc" || rec["account_id"] != testScope.AccountID {
			t.Errorf("evidence %d: %s", i, line)
		}
	}
	a.Abort()
}

// TestWindowsBounded: the windows stay under MaxWindows however many
// instances query generated names, and expire once event time moves past
// them.
func TestWindowsBounded(t *testing.T) {
	svc, _ := newService(t)
	e := New(svc, nil)
	cfg := DefaultConfig()
	cfg.MaxWindows = 1000
	e.Configure(cfg)
	r := rand.New(rand.NewPCG(5, 5))
	var records []ingest.DNSQuery
	for i := 0; i < 5000; i++ {
		b := make([]byte, 14)
		for j := range b {
			b[j] = "bcdfghjklmnpqrstvwxz"[r.IntN(20)]
		}
		records = append(records, q(start.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("i-%05d", i), string(b)+".com"))
	}
	occurrences(t, e, records)
	for _, s := range e.durable {
		if len(s.Windows) > 1000 {
			t.Fatalf("%d windows", len(s.Windows))
		}
	}
	// An hour later, a sweep's worth of ordinary queries: every window has
	// expired.
	later := benignQueries(sweepEvery, 9, testScope.AccountID, testScope.Region, start.Add(time.Hour))
	occurrences(t, e, later)
	for _, s := range e.durable {
		if len(s.Windows) != 0 {
			t.Fatalf("%d windows an hour later", len(s.Windows))
		}
	}
}

// TestRegistered: the registered domain and the label the models score.
func TestRegistered(t *testing.T) {
	for name, want := range map[string]string{
		"example.com": "example.com example", "www.example.com": "example.com example", "a.b.example.co.uk": "example.co.uk example",
		"d1234abcd.cloudfront.net": "cloudfront.net cloudfront", "x7hq.duckdns.org": "x7hq.duckdns.org x7hq",
		"a.x7hq.duckdns.org": "x7hq.duckdns.org x7hq", "localhost": "localhost localhost", "com": "com com",
		"s3.us-east-1.amazonaws.com": "amazonaws.com amazonaws",
	} {
		d, l := registered(name)
		if d+" "+l != want {
			t.Errorf("%s: %s %s, want %s", name, d, l, want)
		}
	}
}

// TestExfilModel: encoded data in a name is seen; long names people and
// services choose are not.
func TestExfilModel(t *testing.T) {
	m := DefaultConfig().Exfil
	for _, name := range []string{
		"ovwxlmcaeirxoq2y7lt6vdaz5drwfhbkwpoaabmqsztwe4vtjymm.tunnel.example",
		"0123456789abcdef0123456789abcdef0123456789abcdef.tunnel.example",
		"aGVsbG8td29ybGQtdGhpcy1pcy1kYXRh.bW9yZS1kYXRhLWhlcmU.tunnel.example",
	} {
		d, _ := registered(strings.ToLower(name))
		if !m.Encoded(strings.ToLower(name), d) {
			t.Errorf("%s: not encoded", name)
		}
	}
	for _, name := range []string{
		"this-is-a-long-but-ordinary-subdomain-name.example.com",
		"production-database-primary.eu-west-1.internal-services.example.com",
		"abc123.tunnel.example",
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.example.com",
	} {
		d, _ := registered(name)
		if m.Encoded(name, d) {
			t.Errorf("%s: encoded", name)
		}
	}
}

// TestIntelWithoutLists: with no intel loaded, only the built-in test
// domains match.
func TestIntelWithoutLists(t *testing.T) {
	svc, _ := newService(t)
	e := New(svc, intel.NewManaged())
	got := occurrences(t, e, []ingest.DNSQuery{q(start, "i-1", "guarddutyc2activityb.com"), q(start, "i-1", "example.com", "93.184.216.34")})
	if len(got) != 1 || got["Backdoor:EC2/C&CActivity.B!DNS|i-1|guarddutyc2activityb.com"] == "" {
		t.Fatalf("%v", got)
	}
}
