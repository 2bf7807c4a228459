// Package loggen writes the logs of an ordinary, healthy VPC: VPC Flow
// Logs and Route 53 Resolver query logs of web servers answering
// thousands of clients, databases behind them, a NAT gateway, a bastion
// host with a few failed SSH logins, CDN and AWS hostnames, and a nightly
// backup to S3. It is the background detection must stay silent on, and
// the load of the ingest benchmarks. Output is a function of the Config
// alone (the seed included), so a run can be reproduced byte for byte.
package loggen

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config says what to generate.
type Config struct {
	Seed       uint64
	Account    string    // owner of the VPC (default 111122223333)
	Region     string    // default us-east-1
	VPCID      string    // default vpc-0a1b2c3d4e5f60718
	Start      time.Time // the first record's time (default 2026-03-14T00:00:00Z)
	Duration   time.Duration
	Flows      int // flow log records
	DNSQueries int // query log records
	// Files is how many files each log is cut into (default: one per hour
	// of Duration, as S3 delivery does, at least 1).
	Files int
}

func (c Config) withDefaults() Config {
	if c.Account == "" {
		c.Account = "111122223333"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.VPCID == "" {
		c.VPCID = "vpc-0a1b2c3d4e5f60718"
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	}
	if c.Duration <= 0 {
		c.Duration = 24 * time.Hour
	}
	if c.Files <= 0 {
		c.Files = max(1, int(c.Duration/time.Hour))
	}
	return c
}

// FlowFormat is the generated flow logs' format: the v5 fields
// detection reads, as a custom format delivers them (header line first).
const FlowFormat = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id flow-direction traffic-path"

// host is an instance (or the NAT gateway) of the VPC.
type host struct {
	role     string
	eni      string
	instance string // "" for the NAT gateway
	subnet   string
	addr     netip.Addr
}

// vpc is the generated network.
type vpc struct {
	web, db  []host
	nat      host
	bastion  host
	clients  []netip.Addr // the web servers' visitors
	admins   []netip.Addr // the bastion's legitimate users
	guessers []netip.Addr // the few addresses that fail SSH logins
	mirrors  []netip.Addr // package mirrors and APIs the NAT reaches
	s3       []netip.Addr
}

// newVPC makes the VPC's hosts and the people using it. A day of more
// flow records is a larger organisation, not the same few people working
// harder: the bastion's administrators grow with the volume (three per
// million records a day), so that no one of them opens more SSH sessions
// an hour than a person does.
func newVPC(rng *rand.Rand, flows int) *vpc {
	v := &vpc{}
	mk := func(role string, i int, subnet string, addr string) host {
		return host{role: role, eni: fmt.Sprintf("eni-0%s%014x", role[:1], i), instance: fmt.Sprintf("i-0%s%014x", role[:1], i),
			subnet: subnet, addr: netip.MustParseAddr(addr)}
	}
	for i := range 6 {
		v.web = append(v.web, mk("web", i, "subnet-0web00000000000", fmt.Sprintf("10.0.1.%d", 10+i)))
	}
	for i := range 2 {
		v.db = append(v.db, mk("db", i, "subnet-0db000000000000", fmt.Sprintf("10.0.2.%d", 20+i)))
	}
	v.bastion = mk("bastion", 0, "subnet-0pub00000000000", "10.0.0.10")
	v.nat = host{role: "nat", eni: "eni-0nat00000000000000", subnet: "subnet-0pub00000000000", addr: netip.MustParseAddr("10.0.0.5")}
	public := func() netip.Addr {
		for {
			a := netip.AddrFrom4([4]byte{byte(24 + rng.IntN(180)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
			if a.As4()[0] != 127 && a.As4()[0] != 100 && a.IsGlobalUnicast() && !a.IsPrivate() {
				return a
			}
		}
	}
	for range 5000 {
		v.clients = append(v.clients, public())
	}
	for range 3 * max(1, flows/1_000_000) {
		v.admins = append(v.admins, public())
	}
	for range 2 {
		v.guessers = append(v.guessers, public())
	}
	for range 12 {
		v.mirrors = append(v.mirrors, public())
	}
	for i := range 8 {
		v.s3 = append(v.s3, netip.AddrFrom4([4]byte{52, 216, byte(i * 17), byte(10 + i)}))
	}
	return v
}

// Counts is what a generator wrote.
type Counts struct {
	Files   int
	Records int // every record, NODATA included
	NoData  int
	Bytes   int64 // uncompressed
}

// flowGen makes flow records one at a time.
type flowGen struct {
	cfg Config
	rng *rand.Rand
	v   *vpc
	buf []byte
}

// record appends the i-th of n records: time advances evenly over the
// duration, and the kind of traffic is drawn by the hour's profile (the
// backup runs from 02:00 to 02:30; web traffic peaks in the day).
func (g *flowGen) record(i, n int) (line []byte, nodata bool) {
	cfg, rng, v := g.cfg, g.rng, g.v
	at := cfg.Start.Add(time.Duration(float64(cfg.Duration) * float64(i) / float64(n)))
	start := at.Unix()
	end := start + 60
	hour := at.Hour()
	b := g.buf[:0]
	type flow struct {
		h              host
		src, dst       netip.Addr
		sport, dport   int
		proto          int
		packets, bytes int
		action         string
		flags          int
		ingress        bool
		path           int // traffic-path of egress flows
	}
	var f flow
	r := rng.IntN(1000)
	backup := hour == 2 && at.Minute() < 30
	switch {
	case r < 3: // an idle interface's capture window
		h := v.db[rng.IntN(len(v.db))]
		b = g.head(b, h)
		b = append(b, " - - - - - - - "...)
		b = strconv.AppendInt(b, start, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, end, 10)
		b = append(b, " - NODATA "...)
		b = append(b, cfg.VPCID...)
		b = append(b, ' ')
		b = append(b, h.subnet...)
		b = append(b, ' ')
		b = append(b, h.instance...)
		b = append(b, " - - - - "...)
		b = append(b, cfg.Region...)
		b = append(b, " use1-az1 - -\n"...)
		g.buf = b
		return b, true
	case backup && r < 300: // the nightly backup: a database to S3 through its endpoint
		h := v.db[rng.IntN(len(v.db))]
		f = flow{h: h, src: h.addr, dst: v.s3[rng.IntN(len(v.s3))], sport: 32768 + rng.IntN(28000), dport: 443, proto: 6,
			packets: 20000 + rng.IntN(20000), action: "ACCEPT", flags: 3, path: 7}
		f.bytes = f.packets * 1400
	case r < 560: // a visitor to a web server, and its answer
		h := v.web[rng.IntN(len(v.web))]
		c := v.clients[int(rng.ExpFloat64()*400)%len(v.clients)]
		sport := 32768 + rng.IntN(28000)
		if rng.IntN(2) == 0 {
			f = flow{h: h, src: c, dst: h.addr, sport: sport, dport: 443, proto: 6, packets: 8 + rng.IntN(30), action: "ACCEPT", flags: 3, ingress: true}
			f.bytes = f.packets * (60 + rng.IntN(400))
		} else {
			f = flow{h: h, src: h.addr, dst: c, sport: 443, dport: sport, proto: 6, packets: 10 + rng.IntN(60), action: "ACCEPT", flags: 19, path: 1}
			f.bytes = f.packets * (400 + rng.IntN(1000))
		}
	case r < 760: // a web server's query to a database
		h := v.web[rng.IntN(len(v.web))]
		d := v.db[rng.IntN(len(v.db))]
		if rng.IntN(2) == 0 {
			f = flow{h: h, src: h.addr, dst: d.addr, sport: 40000 + rng.IntN(20000), dport: 5432, proto: 6, packets: 4 + rng.IntN(20), action: "ACCEPT", flags: 3, path: 1}
		} else {
			f = flow{h: d, src: h.addr, dst: d.addr, sport: 40000 + rng.IntN(20000), dport: 5432, proto: 6, packets: 4 + rng.IntN(20), action: "ACCEPT", flags: 3, ingress: true}
		}
		f.bytes = f.packets * (100 + rng.IntN(900))
	case r < 900: // an instance reaching a mirror or an API through the NAT
		var h host
		switch rng.IntN(3) {
		case 0:
			h = v.db[rng.IntN(len(v.db))]
		default:
			h = v.web[rng.IntN(len(v.web))]
		}
		dst := v.mirrors[rng.IntN(len(v.mirrors))]
		if rng.IntN(2) == 0 {
			f = flow{h: h, src: h.addr, dst: dst, sport: 32768 + rng.IntN(28000), dport: 443, proto: 6, packets: 5 + rng.IntN(50), action: "ACCEPT", flags: 3, path: 2}
		} else {
			f = flow{h: v.nat, src: v.nat.addr, dst: dst, sport: 1024 + rng.IntN(64000), dport: 443, proto: 6, packets: 5 + rng.IntN(50), action: "ACCEPT", flags: 3, path: 8}
		}
		f.bytes = f.packets * (80 + rng.IntN(1200))
	case r < 960: // DNS to the VPC resolver and NTP
		h := v.web[rng.IntN(len(v.web))]
		if rng.IntN(3) == 0 {
			f = flow{h: h, src: h.addr, dst: netip.MustParseAddr("169.254.169.123"), sport: 32768 + rng.IntN(28000), dport: 123, proto: 17, packets: 1, bytes: 76, action: "ACCEPT", path: 1}
		} else {
			f = flow{h: h, src: h.addr, dst: netip.MustParseAddr("10.0.0.2"), sport: 32768 + rng.IntN(28000), dport: 53, proto: 17, packets: 1 + rng.IntN(3), bytes: 70 + rng.IntN(60), action: "ACCEPT", path: 1}
		}
	case r < 985: // administrators on the bastion
		a := v.admins[rng.IntN(len(v.admins))]
		f = flow{h: v.bastion, src: a, dst: v.bastion.addr, sport: 50000 + rng.IntN(15000), dport: 22, proto: 6, packets: 30 + rng.IntN(300), action: "ACCEPT", flags: 3, ingress: true}
		f.bytes = f.packets * (60 + rng.IntN(200))
	case r < 987 && rng.IntN(200) == 0: // a failed SSH login now and then (~10 a million records): a short accepted session
		a := v.guessers[rng.IntN(len(v.guessers))]
		f = flow{h: v.bastion, src: a, dst: v.bastion.addr, sport: 40000 + rng.IntN(20000), dport: 22, proto: 6, packets: 12 + rng.IntN(6), action: "ACCEPT", flags: 3, ingress: true}
		f.bytes = f.packets * 90
	default: // the internet's background: a refused connection to a closed port
		c := v.clients[rng.IntN(len(v.clients))]
		h := v.web[rng.IntN(len(v.web))]
		f = flow{h: h, src: c, dst: h.addr, sport: 1024 + rng.IntN(64000), dport: []int{23, 445, 3389, 8080}[rng.IntN(4)], proto: 6, packets: 1, bytes: 44, action: "REJECT", flags: 2, ingress: true}
	}
	b = g.head(b, f.h)
	b = append(b, ' ')
	b = f.src.AppendTo(b)
	b = append(b, ' ')
	b = f.dst.AppendTo(b)
	for _, x := range []int64{int64(f.sport), int64(f.dport), int64(f.proto), int64(f.packets), int64(f.bytes), start, end} {
		b = append(b, ' ')
		b = strconv.AppendInt(b, x, 10)
	}
	b = append(b, ' ')
	b = append(b, f.action...)
	b = append(b, " OK "...)
	b = append(b, cfg.VPCID...)
	b = append(b, ' ')
	b = append(b, f.h.subnet...)
	b = append(b, ' ')
	if f.h.instance == "" {
		b = append(b, '-')
	} else {
		b = append(b, f.h.instance...)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(f.flags), 10)
	b = append(b, " IPv4 "...)
	b = f.src.AppendTo(b)
	b = append(b, ' ')
	b = f.dst.AppendTo(b)
	b = append(b, ' ')
	b = append(b, cfg.Region...)
	b = append(b, " use1-az1 "...)
	if f.ingress {
		b = append(b, "ingress -\n"...)
	} else {
		b = append(b, "egress "...)
		b = strconv.AppendInt(b, int64(f.path), 10)
		b = append(b, '\n')
	}
	g.buf = b
	return b, false
}

// head appends a record's version, account and interface.
func (g *flowGen) head(b []byte, h host) []byte {
	b = append(b, "5 "...)
	b = append(b, g.cfg.Account...)
	b = append(b, ' ')
	return append(b, h.eni...)
}

// dnsNames are what the VPC resolves: AWS endpoints, CDN hostnames,
// package mirrors, its own private zone.
var dnsNames = []string{
	"s3.us-east-1.amazonaws.com.", "sts.us-east-1.amazonaws.com.", "ec2.us-east-1.amazonaws.com.", "dynamodb.us-east-1.amazonaws.com.",
	"secretsmanager.us-east-1.amazonaws.com.", "logs.us-east-1.amazonaws.com.", "monitoring.us-east-1.amazonaws.com.",
	"ssm.us-east-1.amazonaws.com.", "ec2messages.us-east-1.amazonaws.com.", "ssmmessages.us-east-1.amazonaws.com.",
	"d1a2b3c4d5e6f7.cloudfront.net.", "d3k8z2x9q7w1e5.cloudfront.net.", "static.example-shop.com.", "cdn.example-shop.com.",
	"e12345.a.akamaiedge.net.", "www.example-shop.com.edgekey.net.", "fonts.gstatic.com.", "fonts.googleapis.com.",
	"ajax.googleapis.com.", "cdn.jsdelivr.net.", "registry.npmjs.org.", "pypi.org.", "files.pythonhosted.org.",
	"deb.debian.org.", "security.debian.org.", "archive.ubuntu.com.", "security.ubuntu.com.", "github.com.",
	"api.github.com.", "objects.githubusercontent.com.", "api.stripe.com.", "hooks.slack.com.", "api.sendgrid.com.",
	"ntp.ubuntu.com.", "time.aws.com.", "db-primary.internal.example-shop.com.", "db-replica.internal.example-shop.com.",
	"cache.internal.example-shop.com.", "queue.internal.example-shop.com.", "auth.internal.example-shop.com.",
}

// dnsGen makes query log records.
type dnsGen struct {
	cfg Config
	rng *rand.Rand
	v   *vpc
	buf []byte
}

func (g *dnsGen) record(i, n int) []byte {
	cfg, rng, v := g.cfg, g.rng, g.v
	at := cfg.Start.Add(time.Duration(float64(cfg.Duration) * float64(i) / float64(n)))
	var h host
	switch r := rng.IntN(20); {
	case r < 14:
		h = v.web[rng.IntN(len(v.web))]
	case r < 19:
		h = v.db[rng.IntN(len(v.db))]
	default:
		h = v.bastion
	}
	// Popular names far more often than the rest (a Zipf-like draw).
	name := dnsNames[int(rng.ExpFloat64()*8)%len(dnsNames)]
	qtype, rcode := "A", "NOERROR"
	if rng.IntN(5) == 0 {
		qtype = "AAAA"
	}
	b := g.buf[:0]
	b = append(b, `{"version":"1.100000","account_id":"`...)
	b = append(b, cfg.Account...)
	b = append(b, `","region":"`...)
	b = append(b, cfg.Region...)
	b = append(b, `","vpc_id":"`...)
	b = append(b, cfg.VPCID...)
	b = append(b, `","query_timestamp":"`...)
	b = at.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","query_name":"`...)
	b = append(b, name...)
	b = append(b, `","query_type":"`...)
	b = append(b, qtype...)
	b = append(b, `","query_class":"IN","rcode":"`...)
	b = append(b, rcode...)
	b = append(b, `","answers":[`...)
	sum := fnv.New32a()
	sum.Write([]byte(name))
	k := sum.Sum32()
	for j := range 1 + int(k%3) {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Rdata":"`...)
		if qtype == "AAAA" {
			b = fmt.Appendf(b, "2600:9000:%x::%x", k%4096, j+1)
		} else if strings.Contains(name, ".internal.") {
			b = fmt.Appendf(b, "10.0.2.%d", 20+j)
		} else {
			b = fmt.Appendf(b, "%d.%d.%d.%d", 13+k%200, (k>>8)%256, (k>>16)%256, 1+j)
		}
		b = append(b, `","Type":"`...)
		b = append(b, qtype...)
		b = append(b, `","Class":"IN"}`...)
	}
	b = append(b, `],"srcaddr":"`...)
	b = h.addr.AppendTo(b)
	b = append(b, `","srcport":"`...)
	b = strconv.AppendInt(b, int64(32768+rng.IntN(28000)), 10)
	b = append(b, `","transport":"UDP","srcids":{"instance":"`...)
	b = append(b, h.instance...)
	b = append(b, "\"}}\n"...)
	g.buf = b
	return b
}

// WriteFlowLogs writes cfg.Flows flow records (header first) to w.
func WriteFlowLogs(w io.Writer, cfg Config) (Counts, error) {
	cfg = cfg.withDefaults()
	f, _ := newGens(cfg)
	return writeFlows(w, cfg, 0, cfg.Flows, f)
}

// WriteDNSLogs writes cfg.DNSQueries query log records to w.
func WriteDNSLogs(w io.Writer, cfg Config) (Counts, error) {
	cfg = cfg.withDefaults()
	_, d := newGens(cfg)
	return writeDNS(w, 0, cfg.DNSQueries, d)
}

func newGens(cfg Config) (*flowGen, *dnsGen) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	v := newVPC(rng, cfg.Flows)
	return &flowGen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 1)), v: v},
		&dnsGen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 2)), v: v}
}

func writeFlows(w io.Writer, cfg Config, from, to int, g *flowGen) (Counts, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	c := Counts{Bytes: int64(len(FlowFormat) + 1)}
	bw.WriteString(FlowFormat + "\n")
	for i := from; i < to; i++ {
		line, nodata := g.record(i, cfg.Flows)
		bw.Write(line)
		c.Records++
		c.Bytes += int64(len(line))
		if nodata {
			c.NoData++
		}
	}
	return c, bw.Flush()
}

func writeDNS(w io.Writer, from, to int, g *dnsGen) (Counts, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	var c Counts
	for i := from; i < to; i++ {
		line := g.record(i, g.cfg.DNSQueries)
		bw.Write(line)
		c.Records++
		c.Bytes += int64(len(line))
	}
	return c, bw.Flush()
}

// WriteTree writes both logs under dir as AWS delivers them to S3,
// gzip-compressed, cut into cfg.Files files each:
// AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_fl-…_<time>_<hash>.log.gz
// and AWSLogs/<account>/vpcdnsquerylogs/<vpc>/YYYY/MM/DD/<vpc>_vpcdnsquerylogs_<account>_<time>_<hash>.log.gz.
// It returns the counts of each.
func WriteTree(dir string, cfg Config) (flows, dns Counts, err error) {
	cfg = cfg.withDefaults()
	fg, dg := newGens(cfg)
	for k := range cfg.Files {
		at := cfg.Start.Add(cfg.Duration * time.Duration(k) / time.Duration(cfg.Files))
		stamp := at.Format("20060102T1504Z")
		day := at.Format("2006/01/02")
		if cfg.Flows > 0 {
			name := filepath.Join(dir, "AWSLogs", cfg.Account, "vpcflowlogs", cfg.Region, day,
				fmt.Sprintf("%s_vpcflowlogs_%s_fl-0a1b2c3d4e5f6a7b8_%s_%08x.log.gz", cfg.Account, cfg.Region, stamp, cfg.Seed+uint64(k)))
			c, err := writeGzip(name, func(w io.Writer) (Counts, error) {
				return writeFlows(w, cfg, cfg.Flows*k/cfg.Files, cfg.Flows*(k+1)/cfg.Files, fg)
			})
			if err != nil {
				return flows, dns, err
			}
			flows.Files++
			flows.Records += c.Records
			flows.NoData += c.NoData
			flows.Bytes += c.Bytes
		}
		if cfg.DNSQueries > 0 {
			name := filepath.Join(dir, "AWSLogs", cfg.Account, "vpcdnsquerylogs", cfg.VPCID, day,
				fmt.Sprintf("%s_vpcdnsquerylogs_%s_%s_%08x.log.gz", cfg.VPCID, cfg.Account, stamp, cfg.Seed+uint64(k)))
			c, err := writeGzip(name, func(w io.Writer) (Counts, error) {
				return writeDNS(w, cfg.DNSQueries*k/cfg.Files, cfg.DNSQueries*(k+1)/cfg.Files, dg)
			})
			if err != nil {
				return flows, dns, err
			}
			dns.Files++
			dns.Records += c.Records
			dns.Bytes += c.Bytes
		}
	}
	return flows, dns, nil
}

func writeGzip(name string, write func(io.Writer) (Counts, error)) (Counts, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return Counts{}, err
	}
	f, err := os.Create(name)
	if err != nil {
		return Counts{}, err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	c, err := write(zw)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return c, err
}
