package network_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/detect/network"
	"github.com/guardpost/guardpost/ingest"
)

// benign is ordinary traffic of a small VPC over days (3 when scale is
// 1): a web server answering 5,000 clients, an application server
// fetching from a CDN, a database server with a nightly backup to a
// remote host, everyone asking the VPC resolver and the time service, a
// traceroute, a server resolving names itself, and three failed SSH
// logins. None of it is a finding.
func benign(scale int, days int) []ingest.FlowRecord {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []ingest.FlowRecord
	web := onInstance("i-0000000000000aaa1", "eni-0000000000000aaa1", "vpc-0a1")
	app := onInstance("i-0000000000000aaa2", "eni-0000000000000aaa2", "vpc-0a1")
	db := onInstance("i-0000000000000aaa3", "eni-0000000000000aaa3", "vpc-0a1")
	const webIP, appIP, dbIP = "10.0.2.10", "10.0.2.11", "10.0.2.12"
	add := func(opt flowOpt, src string, sport uint16, dst string, dport uint16, proto int16, packets, bytes, start int64) {
		out = append(out, flow(src, sport, dst, dport, proto, packets, bytes, start, opt))
	}
	pair := func(opt flowOpt, client string, cport uint16, server string, sport uint16, proto int16, packets, bytes, start int64) {
		add(opt, client, cport, server, sport, proto, packets, bytes/4, start)
		add(opt, server, sport, client, cport, proto, packets, bytes, start)
	}
	span := int64(days) * 86400
	// The web server's clients: 5,000 addresses, each back a few times.
	clients := 5000
	for i := 0; i < clients*3*scale; i++ {
		c := i % clients
		ip := fmt.Sprintf("198.18.%d.%d", c/250, 1+c%250)
		at := t0 + rng.Int64N(span)
		pair(web, ip, uint16(32768+rng.IntN(28000)), webIP, 443, 6, 8+rng.Int64N(40), 2000+rng.Int64N(200000), at)
	}
	// The web server asks the application server, which asks the database.
	for i := 0; i < 3000*scale; i++ {
		at := t0 + rng.Int64N(span)
		pair(web, webIP, uint16(32768+rng.IntN(28000)), appIP, 8080, 6, 10, 8000, at)
		pair(app, webIP, uint16(32768+rng.IntN(28000)), appIP, 8080, 6, 10, 8000, at)
		pair(app, appIP, uint16(32768+rng.IntN(28000)), dbIP, 5432, 6, 12, 6000, at)
		pair(db, appIP, uint16(32768+rng.IntN(28000)), dbIP, 5432, 6, 12, 6000, at)
	}
	// The application server fetches assets from 300 CDN edges.
	for i := 0; i < 2000*scale; i++ {
		edge := fmt.Sprintf("198.19.%d.%d", i%300/250, 1+i%300%250)
		pair(app, appIP, uint16(32768+rng.IntN(28000)), edge, 443, 6, 30+rng.Int64N(300), 40000+rng.Int64N(4000000), t0+rng.Int64N(span))
	}
	// Everyone asks the resolver and the time service.
	for i := 0; i < 4000*scale; i++ {
		at := t0 + rng.Int64N(span)
		for _, h := range []struct {
			opt flowOpt
			ip  string
		}{{web, webIP}, {app, appIP}, {db, dbIP}} {
			pair(h.opt, h.ip, uint16(32768+rng.IntN(28000)), "10.0.0.2", 53, 17, 2, 180, at)
			if i%20 == 0 {
				pair(h.opt, h.ip, 123, "169.254.169.123", 123, 17, 1, 76, at)
			}
		}
	}
	// The nightly backup: 50 GB at 02:00 to the backup provider.
	for night := int64(0); night < int64(days); night++ {
		at := t0 + 16*3600 + night*86400
		for part := int64(0); part < 10; part++ {
			pair(db, dbIP, uint16(40000+part), "198.51.100.250", 443, 6, 3_600_000, 5_000_000_000, at+part*60)
		}
	}
	// A traceroute from the application server (UDP, a port a probe),
	// and the database server resolving on its own: one-packet UDP
	// queries to 500 name servers.
	for i := 0; i < 90; i++ {
		add(app, appIP, uint16(45000+i), "198.51.100.33", uint16(33434+i), 17, 1, 60, t0+3600+int64(i/3))
	}
	for i := 0; i < 500; i++ {
		pair(db, dbIP, uint16(32768+rng.IntN(28000)), fmt.Sprintf("192.0.2.%d", i%250), 53, 17, 1, 120, t0+5000+int64(i))
	}
	// Three failed SSH logins on the web server.
	for i := 0; i < 3; i++ {
		pair(web, "203.0.113.80", uint16(51000+i), webIP, 22, 6, 20, 3200, t0+7200+int64(i*5))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// TestBenign: ordinary traffic makes no finding.
func TestBenign(t *testing.T) {
	e := newEnv(t, network.Options{})
	recs := benign(1, 3)
	rep := e.ingest(10000, recs)
	if rep.Accepted != len(recs) {
		t.Fatalf("report %+v", rep)
	}
	if fs := e.findings(); len(fs) != 0 {
		t.Fatalf("%d findings from benign traffic: %v", len(fs), typesOf(fs))
	}
}

// mixed is benign traffic with attacks of many types woven in, in time
// order: what the replay tests feed the engine.
func mixed() []ingest.FlowRecord {
	recs := benign(1, 2)
	attacks := cat(
		connOut(c2IP, 443, 6, 10, 1500, t0+600), connOut(c2IP, 443, 6, 10, 1500, t0+40000), connOut(c2IP, 443, 6, 10, 1500, t0+90000),
		connOut(cryptoIP, 8332, 6, 10, 1500, t0+3000),
		sweep(23, 400, 1, t0+5000),
		scan("198.51.100.40", portRange(1, 120), t0+20000),
		logins("203.0.113.80", 22, 60, true, t0+30000),
		logins("198.51.100.90", 3389, 30, false, t0+50000),
		onOther(mailRun(45, t0+60000)), // an instance that never used port 25 (the scan above touched it)
		[]ingest.FlowRecord{flow(localIP, 45000, "198.51.100.150", 80, 6, 700_000, 28_000_000, t0+70000), flow(localIP, 45000, "198.51.100.150", 80, 6, 700_000, 28_000_000, t0+70060)},
		connOut("198.51.100.7", 443, 6, 20, 4000, t0+100), connOut("198.51.100.7", 6667, 6, 20, 4000, t0+100000),
		connOut("198.51.100.200", 443, 6, 1_500_000, 2_000_000_000, t0+200), connOut("198.51.100.201", 443, 6, 14_000_000, 20_000_000_000, t0+110000),
		[]ingest.FlowRecord{flow(scannerIP, 61000, localIP, 22, 6, 1, 44, t0+8000), flow(scannerIP, 61001, localIP, 8088, 6, 1, 44, t0+8100)},
	)
	recs = append(recs, attacks...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Start < recs[j].Start })
	return recs
}

func onOther(recs []ingest.FlowRecord) []ingest.FlowRecord {
	for i := range recs {
		onInstance("i-0000000000000ddd1", "eni-0000000000000ddd1", "")(&recs[i])
	}
	return recs
}

// summary is what replays must agree on: the findings' ids, types,
// counts, severities and activity times.
func summary(fs []types.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %s x%d sev %v %s..%s\n", *f.Id, *f.Type, *f.Service.Count, *f.Severity, *f.Service.EventFirstSeen, *f.Service.EventLastSeen)
	}
	return b.String()
}

// TestReplayEquivalence: the same logs in one request, in 100 requests,
// and split across a restart (a new engine resuming from the stored
// state) make the same findings.
func TestReplayEquivalence(t *testing.T) {
	recs := mixed()

	one := newEnv(t, network.Options{})
	one.ingest(0, recs)
	want := summary(one.findings())
	if n := strings.Count(want, "\n"); n < 10 {
		t.Fatalf("the fixture makes only %d findings:\n%s", n, want)
	}

	hundred := newEnv(t, network.Options{})
	per := (len(recs) + 99) / 100
	for i := 0; i < len(recs); i += per {
		hundred.ingest(1000, recs[i:min(i+per, len(recs))])
	}
	if got := summary(hundred.findings()); got != want {
		t.Errorf("100 requests:\n%s\none request:\n%s", got, want)
	}

	split := newEnv(t, network.Options{})
	half := len(recs) / 2
	split.ingest(777, recs[:half])
	split.restart()
	split.ingest(777, recs[half:])
	if got := summary(split.findings()); got != want {
		t.Errorf("across a restart:\n%s\none request:\n%s", got, want)
	}
	t.Logf("%d records, findings:\n%s", len(recs), want)
}

// TestAbort: an aborted ingest leaves neither findings nor window state:
// the ingests around it make what they make without it.
func TestAbort(t *testing.T) {
	first := scan("198.51.100.40", portRange(1, 30), t0)
	second := scan("198.51.100.40", portRange(31, 30), t0+40)

	e := newEnv(t, network.Options{})
	e.ingest(0, first)
	a := e.engine.Begin(e.scope(), e.now)
	if err := a.Add(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	a.Abort()
	if fs := e.findings(); len(fs) != 0 {
		t.Fatalf("aborted ingest wrote %v", typesOf(fs))
	}
	// The 30 ports of the aborted ingest are forgotten: 30 + 19 stays
	// below the threshold of 50.
	e.ingest(0, scan("198.51.100.40", portRange(100, 19), t0+80))
	if fs := e.findings(); len(fs) != 0 {
		t.Fatalf("the aborted ingest's window survived: %v", typesOf(fs))
	}
	e.ingest(0, scan("198.51.100.40", portRange(200, 1), t0+100))
	if fs := e.findings(); len(fs) != 1 || *fs[0].Type != "Recon:EC2/Portscan" {
		t.Fatalf("findings %v", typesOf(fs))
	}
}

// TestInstanceAndDirection: without instance-id the interface's mapping
// names the instance, else the interface itself; without flow-direction
// the address the interface's records share is its own, even between
// two private addresses.
func TestInstanceAndDirection(t *testing.T) {
	mapped := "i-0feedfacefeedface"
	e := newEnv(t, network.Options{InstanceOf: func(acct, id string) string {
		if acct == account && id == "eni-0000000000000bbb1" {
			return mapped
		}
		return ""
	}})
	onB := func(r *ingest.FlowRecord) { r.InterfaceID, r.InstanceID, r.Version = "eni-0000000000000bbb1", "", 2 }
	onC := func(r *ingest.FlowRecord) { r.InterfaceID, r.InstanceID, r.Version = "eni-0000000000000ccc1", "", 2 }
	var recs []ingest.FlowRecord
	// B talks to a peer in the VPC first (both sides private: undecided),
	// then to the C&C server from the same address: its own address is
	// the one both records share.
	recs = append(recs, flow("10.0.3.7", 443, "10.0.3.9", 45000, 6, 10, 1000, t0, onB))
	recs = append(recs, flow("10.0.3.9", 46000, c2IP, 443, 6, 10, 1000, t0+10, onB))
	recs = append(recs, flow(c2IP, 443, "10.0.3.9", 46000, 6, 10, 1000, t0+10, onB))
	// C has no mapping: the finding names the interface.
	recs = append(recs, flow("10.0.4.4", 47000, cryptoIP, 8332, 6, 10, 1000, t0, onC))
	// v5: flow-direction says which side is the interface's, and tcp-flags
	// who opened (SYN-ACK from the instance: the remote host opened).
	recs = append(recs, flow("10.0.4.4", 8332, cryptoIP, 8333, 6, 10, 1000, t0+20, onC, func(r *ingest.FlowRecord) {
		r.Version, r.FlowDirection, r.TCPFlags = 5, ingest.FlowEgress, 18
	}))
	e.ingest(0, recs)
	fs := e.findings()
	if len(fs) != 2 {
		t.Fatalf("findings %v", typesOf(fs))
	}
	for _, f := range fs {
		c := f.Service.Action.NetworkConnectionAction
		switch *f.Type {
		case "Backdoor:EC2/C&CActivity.B":
			if *f.Resource.InstanceDetails.InstanceId != mapped || *c.LocalIpDetails.IpAddressV4 != "10.0.3.9" || *c.ConnectionDirection != "OUTBOUND" || *f.Service.Count != 1 {
				t.Errorf("C&C: instance %s local %s direction %s count %d", *f.Resource.InstanceDetails.InstanceId, *c.LocalIpDetails.IpAddressV4, *c.ConnectionDirection, *f.Service.Count)
			}
		case "CryptoCurrency:EC2/BitcoinTool.B":
			// The second record was the instance answering: not a query.
			if *f.Resource.InstanceDetails.InstanceId != "eni-0000000000000ccc1" || *f.Service.Count != 1 {
				t.Errorf("Bitcoin: instance %s count %d", *f.Resource.InstanceDetails.InstanceId, *f.Service.Count)
			}
		default:
			t.Errorf("unexpected %s", *f.Type)
		}
	}
}

// TestNoData: NODATA and SKIPDATA records count as records and carry no
// flow.
func TestNoData(t *testing.T) {
	e := newEnv(t, network.Options{})
	recs := connOut(c2IP, 443, 6, 10, 1500, t0)
	for i := range recs {
		recs[i].LogStatus, recs[i].Action = ingest.FlowNoData, ingest.FlowActionNone
	}
	skip := flow(localIP, 1, c2IP, 443, 6, 0, 0, t0, func(r *ingest.FlowRecord) {
		r.LogStatus, r.Action, r.SrcAddr, r.DstAddr = ingest.FlowSkipData, ingest.FlowActionNone, netip.Addr{}, netip.Addr{}
	})
	rep := e.ingest(0, append(recs, skip))
	if rep.Records != 3 || rep.Accepted != 3 || rep.Analysed[0].Records != 3 {
		t.Fatalf("report %+v", rep)
	}
	if fs := e.findings(); len(fs) != 0 {
		t.Fatalf("findings %v", typesOf(fs))
	}
}

// TestEvidence: a finding carries the flow lines that made it, rendered
// in the default format, the window's first record first.
func TestEvidence(t *testing.T) {
	e := newEnv(t, network.Options{})
	var got [][]byte
	e.engine = network.NewEngine(e.svc, e.managed, network.Options{LoadState: e.states.load,
		Write: func(ctx context.Context, svc *guardpost.Service, out []detect.Findings, rep *detect.Report) error {
			for _, w := range out {
				for _, f := range w.Findings {
					got = append(got, f.Evidence...)
				}
			}
			return e.states.write(ctx, svc, out, rep)
		}})
	e.ingest(0, scan("198.51.100.40", portRange(1, 50), t0))
	if len(got) != 2 {
		t.Fatalf("evidence %q", got)
	}
	want0 := fmt.Sprintf("2 %s %s %s 198.51.100.40 41000 1 6 1 44 %d %d ACCEPT OK", account, eni, localIP, t0, t0+60)
	want1 := fmt.Sprintf("2 %s %s %s 198.51.100.40 41000 50 6 1 44 %d %d ACCEPT OK", account, eni, localIP, t0+49, t0+109)
	if string(got[0]) != want0 || string(got[1]) != want1 {
		t.Fatalf("evidence\n%s\n%s\nwant\n%s\n%s", got[0], got[1], want0, want1)
	}
}
