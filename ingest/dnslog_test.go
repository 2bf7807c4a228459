package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost/internal/cputime"
)

func readAllDNS(t testing.TB, body string, batch int) ([]DNSQuery, error) {
	t.Helper()
	var out []DNSQuery
	err := ReadDNSLogs(strings.NewReader(body), batch, func(b []DNSQuery) error {
		if len(b) > batch {
			t.Fatalf("a batch of %d records; the limit is %d", len(b), batch)
		}
		out = append(out, b...)
		return nil
	})
	return out, err
}

// The record of the Route 53 developer guide's example, on one line as
// Resolver writes it, then variations.
const dnsExample = `{"srcaddr": "4.5.64.102", "vpc_id": "vpc-7example", "answers": [{"Rdata": "203.0.113.9", "Type": "PTR", "Class": "IN"}], "firewall_rule_group_id": "rslvr-frg-01234567890abcdef", "firewall_rule_action": "BLOCK", "query_name": "15.3.4.32.in-addr.arpa.", "firewall_domain_list_id": "rslvr-fdl-01234567890abcdef", "query_class": "IN", "srcids": {"instance": "i-0d15cd0d3example"}, "rcode": "NOERROR", "query_type": "PTR", "transport": "UDP", "version": "1.100000", "account_id": "111122223333", "srcport": "56067", "query_timestamp": "2021-02-04T17:51:55Z", "region": "us-east-1"}`

func TestReadDNSLogs(t *testing.T) {
	body := dnsExample + "\n\n" +
		`{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-7example","query_timestamp":"2021-02-04T17:51:56.250Z","query_name":"WWW.Example.COM.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"93.184.216.34","Type":"A","Class":"IN"},{"Rdata":"93.184.216.35","Type":"A","Class":"IN"}],"srcaddr":"2001:db8::5","srcport":53211,"transport":"TCP","srcids":{"instance":"i-0abc","resolver_endpoint":"rslvr-in-1"},"extra":{"nested":[1,2.5e3,true,false,null,"x\"y"]}}` + "\r\n" +
		`{"query_name":"esc\u0061ped\\name.","query_timestamp":"2021-02-04T17:51:57+01:00","answers":[],"srcids":null,"srcaddr":null}`
	recs, err := readAllDNS(t, body, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	a := recs[0]
	if a.Line != 1 || a.Size != len(dnsExample)+1 || a.SrcAddr != netip.MustParseAddr("4.5.64.102") || a.VPCID != "vpc-7example" ||
		len(a.Answers) != 1 || a.Answers[0] != (DNSAnswer{Data: "203.0.113.9", Type: "PTR", Class: "IN"}) || a.FirewallAction != "BLOCK" ||
		a.RawName != "15.3.4.32.in-addr.arpa." || a.Name != "15.3.4.32.in-addr.arpa" || a.Class != "IN" || a.InstanceID != "i-0d15cd0d3example" ||
		a.RCode != "NOERROR" || a.Type != "PTR" || a.Transport != "UDP" || a.Version != "1.100000" || a.AccountID != "111122223333" ||
		a.SrcPort != 56067 || !a.Time.Equal(time.Date(2021, 2, 4, 17, 51, 55, 0, time.UTC)) || a.Region != "us-east-1" {
		t.Errorf("example record: %+v", a)
	}
	b := recs[1]
	if b.Line != 3 || b.Name != "www.example.com" || b.RawName != "WWW.Example.COM." || len(b.Answers) != 2 || b.Answers[1].Data != "93.184.216.35" ||
		b.SrcPort != 53211 || b.SrcAddr != netip.MustParseAddr("2001:db8::5") || b.ResolverEndpoint != "rslvr-in-1" ||
		!b.Time.Equal(time.Date(2021, 2, 4, 17, 51, 56, 250e6, time.UTC)) {
		t.Errorf("record 2: %+v", b)
	}
	c := recs[2]
	if c.Name != `escaped\name` || !c.Time.Equal(time.Date(2021, 2, 4, 16, 51, 57, 0, time.UTC)) || c.Answers != nil || c.SrcAddr.IsValid() {
		t.Errorf("record 3: %+v", c)
	}
}

func TestReadDNSLogsErrors(t *testing.T) {
	ok := `{"query_name":"a.example.","query_timestamp":"2021-02-04T17:51:55Z"}`
	for _, c := range []struct{ body, want string }{
		{ok + "\nnot json\n", "Line 2: the line is not a JSON object"},
		{ok + "\n" + `{"query_name":"a.example."`, "Line 2: the JSON object ends early"},
		{`{"query_name":"a.example."}`, "Line 1: the record lacks query_timestamp."},
		{`{"query_timestamp":"2021-02-04T17:51:55Z"}`, "Line 1: the record lacks query_name."},
		{`{"query_name":"a.","query_timestamp":"2021-02-31T17:51:55Z"}`, `Line 1: query_timestamp "2021-02-31T17:51:55Z" is not an ISO 8601 time`},
		{`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z","srcaddr":"10.0.0.300"}`, `Line 1: srcaddr "10.0.0.300" is not an IP address`},
		{`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z","srcport":"70000"}`, `Line 1: srcport "70000" is not a port number`},
		{`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z","answers":{}}`, "Line 1: the answers array expected at column"},
		{`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z"} {"x":1}`, "Line 1: unexpected '{' after the record's object"},
		{`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z","x":tru}`, "Line 1: a JSON value expected at column"},
		{`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z","x":1.2.3}`, "Line 1: a number at column"},
		{`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z",}`, "Line 1: a member name expected at column"},
	} {
		_, err := readAllDNS(t, c.body, 10)
		var le *LineError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.body, err, c.want)
		}
	}
}

// dnsBody is n query log records of a VPC's ordinary lookups.
func dnsBody(n int) []byte {
	var b bytes.Buffer
	names := []string{"www.example.com.", "api.example.net.", "d111111abcdef8.cloudfront.net.", "s3.us-east-1.amazonaws.com.", "db.internal.corp."}
	for i := range n {
		fmt.Fprintf(&b, `{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b2c3d","query_timestamp":"2026-03-14T09:%02d:%02dZ","query_name":"%s","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"198.51.100.%d","Type":"A","Class":"IN"}],"srcaddr":"10.0.%d.%d","srcport":"%d","transport":"UDP","srcids":{"instance":"i-%017x"}}`+"\n",
			i/60%60, i%60, names[i%len(names)], i%250, i%200/250, i%200, 1024+i%60000, i%200)
	}
	return b.Bytes()
}

// BenchmarkReadDNSLogs is the query log parser alone.
//
//	go test -run '^$' -bench BenchmarkReadDNSLogs -benchmem ./ingest
func BenchmarkReadDNSLogs(b *testing.B) {
	const n = 50_000
	body := dnsBody(n)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		if err := ReadDNSLogs(bytes.NewReader(body), 4096, func([]DNSQuery) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRecord(b, n, cpu)
}
