package dnsquery_test

import (
	"encoding/base32"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect/dnsquery"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/samples"
)

// want is the finding a fixture must make.
type want struct {
	typ      string
	count    int32
	first    time.Time
	last     time.Time
	domain   string // dnsRequestAction.domain (the latest query)
	suffix   string // dnsRequestAction.domainWithSuffix
	blocked  bool
	protocol string
	list     string // threatIntelligenceDetails' list name, "" for none
}

// fixture is one instance's queries and the findings they must make
// (none for a near miss).
type fixture struct {
	name     string
	instance string
	records  []ingest.DNSQuery
	want     []want
}

// rng gives the same generated names on every run.
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

// generatedLabel is a name as a DGA makes it: letters and digits at
// random.
func generatedLabel(r *rand.Rand) string {
	const set = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12+r.IntN(6))
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

// flaggedLabel is a generated label the model takes for one.
func flaggedLabel(r *rand.Rand) string {
	for {
		if l := generatedLabel(r); dnsquery.DefaultConfig().DGA.Generated(l) {
			return l
		}
	}
}

// encodedLabel is data as a DNS tunnel encodes it: base32 of 35 bytes
// (56 characters, one label).
func encodedLabel(r *rand.Rand) string {
	b := make([]byte, 35)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func at(min int, sec ...int) time.Time {
	d := time.Duration(min) * time.Minute
	if len(sec) > 0 {
		d += time.Duration(sec[0]) * time.Second
	}
	return t0.Add(d)
}

// fixtures: for every type, queries built from the user guide's trigger,
// and a near miss that stays silent. Each fixture has its own instance, so
// that the findings of one cannot hide another's.
func fixtures() []fixture {
	var fs []fixture
	one := func(name, instance, src, qname string, when time.Time, w []want, answers ...string) {
		fs = append(fs, fixture{name: name, instance: instance, records: []ingest.DNSQuery{query(when, instance, src, qname, answers...)}, want: w})
	}
	intelHit := func(typ string, sev float64, qname, suffix, list string) func(time.Time) []want {
		_ = sev
		return func(when time.Time) []want {
			return []want{{typ: typ, count: 1, first: when, last: when, domain: qname, suffix: suffix, protocol: "UDP", list: list}}
		}
	}

	// Backdoor:EC2/C&CActivity.B!DNS: the user guide's test domain, and a
	// listed domain queried twice (one finding, count 2).
	cc := intelHit("Backdoor:EC2/C&CActivity.B!DNS", 8, "guarddutyc2activityb.com", "guarddutyc2activityb.com", "GuardDutyThreatIntel")
	one("c&c test domain", "i-0cc0000000000001", "10.0.1.11", "guarddutyc2activityb.com", at(1), cc(at(1)), "198.51.100.10")
	fs = append(fs, fixture{name: "c&c listed twice", instance: "i-0cc0000000000002", records: []ingest.DNSQuery{
		query(at(1), "i-0cc0000000000002", "10.0.1.12", "cc-panel.example", "198.51.100.11"),
		query(at(3), "i-0cc0000000000002", "10.0.1.12", "api.cc-panel.example", "198.51.100.11"),
	}, want: []want{{typ: "Backdoor:EC2/C&CActivity.B!DNS", count: 2, first: at(1), last: at(3), domain: "api.cc-panel.example", suffix: "cc-panel.example", protocol: "UDP", list: "GuardDutyThreatIntel"}}})
	one("c&c near miss", "i-0cc0000000000003", "10.0.1.13", "notguarddutyc2activityb.com", at(1), nil, "198.51.100.12")

	// CryptoCurrency:EC2/BitcoinTool.B!DNS: the tester's name and a
	// listed pool; a name that only contains the listed one is not.
	one("bitcoin tester", "i-0b10000000000001", "10.0.2.11", "crypto.guarddutyc2activityb.com", at(2),
		intelHit("CryptoCurrency:EC2/BitcoinTool.B!DNS", 8, "crypto.guarddutyc2activityb.com", "guarddutyc2activityb.com", "GuardDutyThreatIntel")(at(2)), "198.51.100.20")
	// A listed pool that also resolves to a listed address: the
	// threat-intel type, not the reputation one.
	one("bitcoin pool", "i-0b10000000000002", "10.0.2.12", "eu.xmr-pool.example", at(2),
		intelHit("CryptoCurrency:EC2/BitcoinTool.B!DNS", 8, "eu.xmr-pool.example", "xmr-pool.example", "GuardDutyThreatIntel")(at(2)), "203.0.113.77")
	one("bitcoin near miss", "i-0b10000000000003", "10.0.2.13", "xmr-pool.example.net", at(2), nil, "203.0.113.78")

	// Trojan:EC2/BlackholeTraffic!DNS: the tester's name, and a name
	// redirected to a listed black-hole address.
	one("blackhole tester", "i-0bh0000000000001", "10.0.3.11", "guarddutyblackholeactivity.com", at(3),
		intelHit("Trojan:EC2/BlackholeTraffic!DNS", 5, "guarddutyblackholeactivity.com", "guarddutyblackholeactivity.com", "GuardDutyThreatIntel")(at(3)), "192.0.2.1")
	one("blackhole answer", "i-0bh0000000000002", "10.0.3.12", "old-campaign.example.org", at(3),
		intelHit("Trojan:EC2/BlackholeTraffic!DNS", 5, "old-campaign.example.org", "example.org", "GuardDutyThreatIntel")(at(3)), "192.0.2.66")
	one("blackhole near miss", "i-0bh0000000000003", "10.0.3.13", "old-campaign.example.org", at(3), nil, "192.0.2.67")

	// Trojan:EC2/DropPoint!DNS, blocked by DNS Firewall and over TCP.
	dp := query(at(4), "i-0dp0000000000001", "10.0.4.11", "www.guarddutydroppointactivity.com")
	dp.FirewallAction, dp.Transport, dp.RCode = "BLOCK", "TCP", "NOERROR"
	fs = append(fs, fixture{name: "drop point blocked", instance: "i-0dp0000000000001", records: []ingest.DNSQuery{dp},
		want: []want{{typ: "Trojan:EC2/DropPoint!DNS", count: 1, first: at(4), last: at(4), domain: "www.guarddutydroppointactivity.com",
			suffix: "guarddutydroppointactivity.com", blocked: true, protocol: "TCP", list: "GuardDutyThreatIntel"}}})
	one("drop point near miss", "i-0dp0000000000002", "10.0.4.12", "guarddutydroppointactivity.co", at(4), nil, "192.0.2.40")

	// Trojan:EC2/PhishingDomainRequest!DNS.
	one("phishing", "i-0ph0000000000001", "10.0.5.11", "guarddutyphishingactivity.com", at(5),
		intelHit("Trojan:EC2/PhishingDomainRequest!DNS", 8, "guarddutyphishingactivity.com", "guarddutyphishingactivity.com", "GuardDutyThreatIntel")(at(5)), "192.0.2.50")
	one("phishing near miss", "i-0ph0000000000002", "10.0.5.12", "guarddutyphishingactivity.com.example", at(5), nil, "192.0.2.51")

	// Trojan:EC2/DGADomainRequest.C!DNS: the known-DGA list.
	one("dga known", "i-0dc0000000000001", "10.0.6.11", "guarddutydgaactivity.com", at(6),
		intelHit("Trojan:EC2/DGADomainRequest.C!DNS", 8, "guarddutydgaactivity.com", "guarddutydgaactivity.com", "GuardDutyThreatIntel")(at(6)))
	one("dga known near miss", "i-0dc0000000000002", "10.0.6.12", "guardduty-dga-activity.com", at(6), nil, "192.0.2.60")

	// Trojan:EC2/DGADomainRequest.B: twelve generated names (NXDOMAIN,
	// as most of a bot's guesses are) within eight minutes. The model
	// takes most of them for generated: the fifth of those fires the
	// burst (count 5, first seen the first of them), each later one adds
	// one.
	r := rng(1)
	var dga []ingest.DNSQuery
	var flagged []ingest.DNSQuery
	model := dnsquery.DefaultConfig().DGA
	for i := 0; i < 12; i++ {
		label := generatedLabel(r)
		q := query(at(10, 40*i), "i-0db0000000000001", "10.0.7.11", label+".com")
		dga = append(dga, q)
		if model.Generated(label) {
			flagged = append(flagged, q)
		}
	}
	if len(flagged) < 5 {
		panic("the DGA fixture needs five generated-looking names")
	}
	fl := flagged[len(flagged)-1]
	fs = append(fs, fixture{name: "dga burst", instance: "i-0db0000000000001", records: dga, want: []want{{
		typ: "Trojan:EC2/DGADomainRequest.B", count: int32(len(flagged)), first: flagged[0].Time, last: fl.Time, domain: fl.Name, suffix: fl.Name, protocol: "UDP"}}})
	// Near miss: four generated names, then a fifth eleven minutes after
	// the first (the window is ten): never five within one window.
	var slow []ingest.DNSQuery
	for _, when := range []time.Time{at(10), at(12), at(14), at(16), at(21)} {
		slow = append(slow, query(when, "i-0db0000000000002", "10.0.7.12", flaggedLabel(r)+".net"))
	}
	fs = append(fs, fixture{name: "dga near miss", instance: "i-0db0000000000002", records: slow})

	// Trojan:EC2/DNSDataExfiltration: 25 names carrying base32 data
	// under one domain within four minutes; the 20th fires (count 20),
	// five more add one each.
	var tunnel []ingest.DNSQuery
	for i := 0; i < 25; i++ {
		tunnel = append(tunnel, query(at(20, 10*i), "i-0ex0000000000001", "10.0.8.11", encodedLabel(r)+".t.tunnel-host.example", "192.0.2.80"))
	}
	fs = append(fs, fixture{name: "exfiltration", instance: "i-0ex0000000000001", records: tunnel, want: []want{{
		typ: "Trojan:EC2/DNSDataExfiltration", count: 25, first: at(20), last: at(20, 240), domain: tunnel[24].Name, suffix: "tunnel-host.example", protocol: "UDP"}}})
	// Near miss: 19 such names (one short of the threshold), and 30 long
	// hashed names under AWS's own domain.
	var short []ingest.DNSQuery
	for i := 0; i < 19; i++ {
		short = append(short, query(at(20, 10*i), "i-0ex0000000000002", "10.0.8.12", encodedLabel(r)+".tunnel-host.example", "192.0.2.80"))
	}
	for i := 0; i < 30; i++ {
		short = append(short, query(at(20, 5*i), "i-0ex0000000000002", "10.0.8.12", encodedLabel(r)+".s3.us-east-1.amazonaws.com", "52.216.1.1"))
	}
	fs = append(fs, fixture{name: "exfiltration near miss", instance: "i-0ex0000000000002", records: short})

	// UnauthorizedAccess:EC2/MetadataDNSRebind: a name resolving to the
	// metadata address; the near miss resolves to the VPC resolver's
	// link-local address next to it.
	one("metadata rebind", "i-0md0000000000001", "10.0.9.11", "169.254.169.254.rebind.example.net", at(30), []want{{
		typ: "UnauthorizedAccess:EC2/MetadataDNSRebind", count: 1, first: at(30), last: at(30), domain: "169.254.169.254.rebind.example.net", suffix: "example.net", protocol: "UDP"}},
		"169.254.169.254")
	one("metadata near miss", "i-0md0000000000002", "10.0.9.12", "resolver.rebind.example.net", at(30), nil, "169.254.169.253")

	// Impact:EC2/AbusedDomainRequest.Reputation: a listed name on a
	// dynamic DNS zone, and the tester's name; an unlisted ordinary name
	// on the zone is not.
	one("abused listed", "i-0ab0000000000001", "10.0.10.11", "bad-host.duckdns.org", at(31), []want{{
		typ: "Impact:EC2/AbusedDomainRequest.Reputation", count: 1, first: at(31), last: at(31), domain: "bad-host.duckdns.org", suffix: "bad-host.duckdns.org", protocol: "UDP"}}, "192.0.2.90")
	one("abused tester", "i-0ab0000000000002", "10.0.10.12", "abused-rep.guarddutyc2activityb.com", at(31), []want{{
		typ: "Impact:EC2/AbusedDomainRequest.Reputation", count: 1, first: at(31), last: at(31), domain: "abused-rep.guarddutyc2activityb.com", suffix: "guarddutyc2activityb.com", protocol: "UDP"}}, "192.0.2.91")
	one("abused near miss", "i-0ab0000000000003", "10.0.10.13", "homeserver.duckdns.org", at(31), nil, "192.0.2.92")

	// Impact:EC2/BitcoinDomainRequest.Reputation: an unlisted name that
	// resolves to a listed cryptocurrency address.
	one("bitcoin reputation", "i-0br0000000000001", "10.0.11.11", "coins.example.net", at(32), []want{{
		typ: "Impact:EC2/BitcoinDomainRequest.Reputation", count: 1, first: at(32), last: at(32), domain: "coins.example.net", suffix: "example.net", protocol: "UDP"}}, "203.0.113.77")
	one("bitcoin reputation tester", "i-0br0000000000002", "10.0.11.12", "crypto-rep.guarddutyc2activityb.com", at(32), []want{{
		typ: "Impact:EC2/BitcoinDomainRequest.Reputation", count: 1, first: at(32), last: at(32), domain: "crypto-rep.guarddutyc2activityb.com", suffix: "guarddutyc2activityb.com", protocol: "UDP"}}, "192.0.2.93")
	one("bitcoin reputation near miss", "i-0br0000000000003", "10.0.11.13", "coins.example.net", at(32), nil, "203.0.113.76")

	// Impact:EC2/MaliciousDomainRequest.Reputation: a listed name, and a
	// name resolving to a listed malicious address.
	one("malicious listed", "i-0mr0000000000001", "10.0.12.11", "cdn.malware-drop.example", at(33), []want{{
		typ: "Impact:EC2/MaliciousDomainRequest.Reputation", count: 1, first: at(33), last: at(33), domain: "cdn.malware-drop.example", suffix: "malware-drop.example", protocol: "UDP"}}, "192.0.2.94")
	one("malicious answer", "i-0mr0000000000002", "10.0.12.12", "files.example.com", at(33), []want{{
		typ: "Impact:EC2/MaliciousDomainRequest.Reputation", count: 1, first: at(33), last: at(33), domain: "files.example.com", suffix: "example.com", protocol: "UDP"}}, "198.51.100.99")
	one("malicious tester", "i-0mr0000000000003", "10.0.12.13", "malicious-rep.guarddutyc2activityb.com", at(33), []want{{
		typ: "Impact:EC2/MaliciousDomainRequest.Reputation", count: 1, first: at(33), last: at(33), domain: "malicious-rep.guarddutyc2activityb.com", suffix: "guarddutyc2activityb.com", protocol: "UDP"}}, "192.0.2.95")
	one("malicious near miss", "i-0mr0000000000004", "10.0.12.14", "malware-drop.example.org", at(33), nil, "198.51.100.98")

	// Impact:EC2/SuspiciousDomainRequest.Reputation: an unlisted
	// generated-looking name on a dynamic DNS zone.
	sus := flaggedLabel(r)
	one("suspicious", "i-0su0000000000001", "10.0.13.11", sus+".duckdns.org", at(34), []want{{
		typ: "Impact:EC2/SuspiciousDomainRequest.Reputation", count: 1, first: at(34), last: at(34), domain: sus + ".duckdns.org", suffix: sus + ".duckdns.org", protocol: "UDP"}}, "192.0.2.96")
	one("suspicious tester", "i-0su0000000000002", "10.0.13.12", "suspicious-rep.guarddutyc2activityb.com", at(34), []want{{
		typ: "Impact:EC2/SuspiciousDomainRequest.Reputation", count: 1, first: at(34), last: at(34), domain: "suspicious-rep.guarddutyc2activityb.com", suffix: "guarddutyc2activityb.com", protocol: "UDP"}}, "192.0.2.97")
	one("suspicious near miss", "i-0su0000000000003", "10.0.13.13", sus+".example.com", at(34), nil, "192.0.2.98")

	// Impact:EC2/MaliciousDomainRequest.Custom: the detector's threat
	// entity set "blocklist" holds blocked-by-policy.example.
	one("custom", "i-0cu0000000000001", "10.0.14.11", "api.blocked-by-policy.example", at(35), []want{{
		typ: "Impact:EC2/MaliciousDomainRequest.Custom", count: 1, first: at(35), last: at(35), domain: "api.blocked-by-policy.example", suffix: "blocked-by-policy.example", protocol: "UDP", list: "blocklist"}}, "192.0.2.99")
	one("custom near miss", "i-0cu0000000000002", "10.0.14.12", "blocked-by-policy.example.com", at(35), nil, "192.0.2.100")

	// A query without srcids (a Resolver log of a source that is not an
	// instance): the source address is the actor.
	fs = append(fs, fixture{name: "no instance", instance: "10.0.15.11", records: []ingest.DNSQuery{query(at(36), "", "10.0.15.11", "guarddutyphishingactivity.com", "192.0.2.50")},
		want: []want{{typ: "Trojan:EC2/PhishingDomainRequest!DNS", count: 1, first: at(36), last: at(36), domain: "guarddutyphishingactivity.com", suffix: "guarddutyphishingactivity.com", protocol: "UDP", list: "GuardDutyThreatIntel"}}})
	return fs
}

// TestEveryType: every fixture makes exactly its findings, read back
// through the GuardDuty SDK, with the type's severity, the querying
// instance, the dnsRequestAction, the count and the event times; the
// near misses make none.
func TestEveryType(t *testing.T) {
	e := newEnv(t)
	e.entitySet("blocklist", "blocked-by-policy.example")
	fs := fixtures()
	for _, f := range fs {
		e.ingest(nil, f.records)
	}
	cat := samples.New()
	byInstance := map[string][]types.Finding{}
	for _, f := range e.findings() {
		key := ""
		if d := f.Resource.InstanceDetails; d != nil {
			key = aws.ToString(d.InstanceId)
			if key == "" && len(d.NetworkInterfaces) > 0 {
				key = aws.ToString(d.NetworkInterfaces[0].PrivateIpAddress)
			}
		}
		byInstance[key] = append(byInstance[key], f)
	}
	covered := map[string]bool{}
	for _, fx := range fs {
		got := byInstance[fx.instance]
		delete(byInstance, fx.instance)
		if len(got) != len(fx.want) {
			var types []string
			for _, g := range got {
				types = append(types, aws.ToString(g.Type))
			}
			t.Errorf("%s: %d findings %v, want %d", fx.name, len(got), types, len(fx.want))
			continue
		}
		sort.Slice(got, func(i, j int) bool { return aws.ToString(got[i].Type) < aws.ToString(got[j].Type) })
		for i, w := range fx.want {
			g := got[i]
			covered[w.typ] = true
			sev, ok := cat.Severity(w.typ)
			errs := checkFinding(g, w, fx.instance, sev, ok)
			for _, msg := range errs {
				t.Errorf("%s: %s", fx.name, msg)
			}
		}
	}
	for k, v := range byInstance {
		t.Errorf("unexpected findings for %s: %d", k, len(v))
	}
	for _, typ := range []string{"CryptoCurrency:EC2/BitcoinTool.B!DNS", "Backdoor:EC2/C&CActivity.B!DNS", "Trojan:EC2/BlackholeTraffic!DNS",
		"Trojan:EC2/DropPoint!DNS", "Trojan:EC2/PhishingDomainRequest!DNS", "Trojan:EC2/DGADomainRequest.B", "Trojan:EC2/DGADomainRequest.C!DNS",
		"Trojan:EC2/DNSDataExfiltration", "UnauthorizedAccess:EC2/MetadataDNSRebind", "Impact:EC2/AbusedDomainRequest.Reputation",
		"Impact:EC2/BitcoinDomainRequest.Reputation", "Impact:EC2/MaliciousDomainRequest.Reputation", "Impact:EC2/SuspiciousDomainRequest.Reputation",
		"Impact:EC2/MaliciousDomainRequest.Custom"} {
		if !covered[typ] {
			t.Errorf("%s: no fixture made it", typ)
		}
	}
}

func checkFinding(g types.Finding, w want, instance string, catalogueSeverity float64, known bool) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if aws.ToString(g.Type) != w.typ {
		bad("type %s, want %s", aws.ToString(g.Type), w.typ)
		return errs
	}
	if !known || aws.ToFloat64(g.Severity) != catalogueSeverity {
		bad("%s: severity %v, the catalogue (user guide) has %v", w.typ, aws.ToFloat64(g.Severity), catalogueSeverity)
	}
	if aws.ToString(g.Resource.ResourceType) != "Instance" {
		bad("%s: resource type %s", w.typ, aws.ToString(g.Resource.ResourceType))
	}
	d := g.Resource.InstanceDetails
	if strings.HasPrefix(instance, "i-") && aws.ToString(d.InstanceId) != instance {
		bad("%s: instanceId %q, want %s", w.typ, aws.ToString(d.InstanceId), instance)
	}
	s := g.Service
	if aws.ToInt32(s.Count) != w.count {
		bad("%s: count %d, want %d", w.typ, aws.ToInt32(s.Count), w.count)
	}
	if aws.ToString(s.EventFirstSeen) != guardpost.ISOTime(w.first) || aws.ToString(s.EventLastSeen) != guardpost.ISOTime(w.last) {
		bad("%s: seen %s..%s, want %s..%s", w.typ, aws.ToString(s.EventFirstSeen), aws.ToString(s.EventLastSeen), guardpost.ISOTime(w.first), guardpost.ISOTime(w.last))
	}
	if aws.ToString(s.ResourceRole) != "ACTOR" || aws.ToString(s.FeatureName) != "DnsLogs" {
		bad("%s: role %s feature %s", w.typ, aws.ToString(s.ResourceRole), aws.ToString(s.FeatureName))
	}
	if s.Action == nil || aws.ToString(s.Action.ActionType) != "DNS_REQUEST" || s.Action.DnsRequestAction == nil {
		bad("%s: no dnsRequestAction", w.typ)
		return errs
	}
	a := s.Action.DnsRequestAction
	if aws.ToString(a.Domain) != w.domain || aws.ToString(a.DomainWithSuffix) != w.suffix || aws.ToBool(a.Blocked) != w.blocked || aws.ToString(a.Protocol) != w.protocol {
		bad("%s: dnsRequestAction domain %q suffix %q blocked %v protocol %q, want %q %q %v %q", w.typ,
			aws.ToString(a.Domain), aws.ToString(a.DomainWithSuffix), aws.ToBool(a.Blocked), aws.ToString(a.Protocol), w.domain, w.suffix, w.blocked, w.protocol)
	}
	list := ""
	if s.Evidence != nil && len(s.Evidence.ThreatIntelligenceDetails) > 0 {
		list = aws.ToString(s.Evidence.ThreatIntelligenceDetails[0].ThreatListName)
	}
	if list != w.list {
		bad("%s: threat list %q, want %q", w.typ, list, w.list)
	}
	if !strings.Contains(aws.ToString(g.Title), instance) || !strings.Contains(aws.ToString(g.Description), instance) {
		bad("%s: title/description do not name %s: %q / %q", w.typ, instance, aws.ToString(g.Title), aws.ToString(g.Description))
	}
	return errs
}
