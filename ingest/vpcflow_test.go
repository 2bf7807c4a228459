package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost/internal/cputime"
)

// readAllFlows reads a body into one slice (copies of each batch).
func readAllFlows(t testing.TB, body string, batch int) ([]FlowRecord, error) {
	t.Helper()
	var out []FlowRecord
	err := ReadFlowLogs(strings.NewReader(body), batch, func(b []FlowRecord) error {
		if len(b) > batch {
			t.Fatalf("a batch of %d records; the limit is %d", len(b), batch)
		}
		out = append(out, b...)
		return nil
	})
	return out, err
}

func TestReadFlowLogsDefaultFormat(t *testing.T) {
	body := "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n" +
		"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK\n" +
		"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n" +
		"2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA\n" +
		"\n" +
		"2 123456789010 eni-f41c42bf 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK" // no newline
	recs, err := readAllFlows(t, body, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	r := recs[0]
	want := FlowRecord{Line: 1, Size: 115, Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
		SrcAddr: netip.MustParseAddr("172.31.16.139"), DstAddr: netip.MustParseAddr("172.31.16.21"), SrcPort: 20641, DstPort: 22,
		Protocol: 6, Packets: 20, Bytes: 4249, Start: 1418530010, End: 1418530070, Action: FlowActionAccept, LogStatus: FlowOK}
	if r != want {
		t.Errorf("record 1:\n got %+v\nwant %+v", r, want)
	}
	if recs[1].Action != FlowActionReject || recs[1].DstPort != 3389 {
		t.Errorf("record 2: %+v", recs[1])
	}
	if n := recs[2]; n.LogStatus != FlowNoData || n.SrcAddr.IsValid() || n.Protocol != -1 || n.Action != FlowActionNone || n.Start != 1431280876 {
		t.Errorf("NODATA record: %+v", n)
	}
	if recs[3].LogStatus != FlowSkipData {
		t.Errorf("SKIPDATA record: %+v", recs[3])
	}
	if v6 := recs[4]; v6.Line != 6 || v6.SrcAddr != netip.MustParseAddr("2001:db8:1234:a100:8d6e:3477:df66:f105") || v6.Size != len(strings.Split(body, "\n")[5]) {
		t.Errorf("IPv6 record: %+v", v6)
	}
}

func TestReadFlowLogsCustomFormats(t *testing.T) {
	// v5 fields in an order of the user's choosing, as CreateFlowLogs'
	// LogFormat allows; then a second file's header (files concatenated).
	body := "region flow-direction instance-id srcaddr dstaddr dstport srcport protocol action log-status account-id interface-id start end pkt-srcaddr pkt-dstaddr tcp-flags type traffic-path pkt-src-aws-service pkt-dst-aws-service vpc-id subnet-id az-id sublocation-type sublocation-id version packets bytes ecs-cluster-name reject-reason\n" +
		"us-east-1 egress i-0abcd1234ef567890 10.0.1.5 52.94.1.1 443 51234 6 ACCEPT OK 111122223333 eni-0a1b2c3d 1700000000 1700000060 10.0.1.5 52.94.1.1 19 IPv4 8 - S3 vpc-0123 subnet-0456 use1-az1 - - 5 10 840 - -\n" +
		"${version} ${account-id} ${interface-id} ${instance-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${log-status}\n" +
		"3 111122223333 eni-0a1b2c3d - 198.51.100.7 10.0.1.5 40000 22 6 REJECT OK\n"
	recs, err := readAllFlows(t, body, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	a := recs[0]
	if a.Region != "us-east-1" || a.FlowDirection != FlowEgress || a.InstanceID != "i-0abcd1234ef567890" || a.DstPort != 443 || a.SrcPort != 51234 ||
		a.TCPFlags != 19 || a.Type != "IPv4" || a.TrafficPath != 8 || a.PktDstAWSService != "S3" || a.PktSrcAWSService != "" ||
		a.VPCID != "vpc-0123" || a.SubnetID != "subnet-0456" || a.AZID != "use1-az1" || a.Version != 5 || a.Bytes != 840 || a.Line != 2 ||
		a.PktDstAddr != netip.MustParseAddr("52.94.1.1") {
		t.Errorf("v5 record: %+v", a)
	}
	b := recs[1]
	if b.Version != 3 || b.InstanceID != "" || b.Region != "" || b.DstPort != 22 || b.Action != FlowActionReject || b.Line != 4 || b.FlowDirection != FlowDirectionUnknown {
		t.Errorf("v3 record: %+v", b)
	}
}

func TestReadFlowLogsErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"version account-id colour srcaddr shape\n", `Line 1: the header names fields VPC Flow Logs does not have: "colour", "shape".`},
		{"version srcaddr version\n", "Line 1: the header names version more than once."},
		{"eni-0a1b2c3d 10.0.0.1\n", `Line 1: the header names fields VPC Flow Logs does not have: "eni-0a1b2c3d", "10.0.0.1"`},
		{"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT\n", "Line 2: the record has 13 fields; the format has 14"},
		{"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK extra\n", "Line 1: the record has 15 fields; the format has 14"},
		{"2 123456789010 eni-1 10.0.0.256 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n", `Line 1: srcaddr "10.0.0.256" is not an IPv4 or IPv6 address.`},
		{"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 65536 6 1 1 1 2 ACCEPT OK\n", `Line 1: dstport "65536" is not a port number`},
		{"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ALLOW OK\n", `Line 1: action "ALLOW" is not ACCEPT, REJECT or -.`},
		{"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT FINE\n", `Line 1: log-status "FINE" is not OK, NODATA or SKIPDATA.`},
		{"srcaddr flow-direction\n10.0.0.1 sideways\n", `Line 2: flow-direction "sideways" is not ingress, egress or -.`},
	} {
		_, err := readAllFlows(t, c.body, 10)
		var le *LineError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.body, err, c.want)
		}
	}
}

// TestReadFlowLogsLimit: a body past Open's limit fails with ErrTooLarge,
// and fn's error comes back as it is.
func TestReadFlowLogsLimit(t *testing.T) {
	line := "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n"
	r, err := Open(strings.NewReader(strings.Repeat(line, 1000)), false, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if err := ReadFlowLogs(r, 100, func([]FlowRecord) error { return nil }); !errors.Is(err, ErrTooLarge) {
		t.Errorf("error %v, want ErrTooLarge", err)
	}
	stop := errors.New("stop")
	if err := ReadFlowLogs(strings.NewReader(line), 100, func([]FlowRecord) error { return stop }); err != stop {
		t.Errorf("error %v, want fn's", err)
	}
}

// TestParseAddrAgreesWithNetip: the hand-written IPv4 reader takes
// exactly what netip takes.
func TestParseAddrAgreesWithNetip(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "255.255.255.255", "10.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3", "256.1.1.1", ".1.2.3", "1.2.3.", "::1", "fe80::1%eth0", "::ffff:1.2.3.4", "x", "1.2.3.04"} {
		a, ok := parseAddr([]byte(s))
		b, err := netip.ParseAddr(s)
		if ok != (err == nil) || a != b {
			t.Errorf("%q: %v %v, netip %v %v", s, a, ok, b, err)
		}
	}
}

// flowBody is n default-format records of a few hundred interfaces and
// thousands of remote addresses, as a busy VPC logs them.
func flowBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(DefaultFlowFormat + "\n")
	for i := range n {
		fmt.Fprintf(&b, "2 123456789012 eni-%017x 10.0.%d.%d 198.51.%d.%d 443 %d 6 %d %d %d %d ACCEPT OK\n",
			i%300, i%300/250, i%250, i%4000/250, i%250, 32768+i%28000, 1+i%20, 60+i%9000, 1700000000+i/100, 1700000060+i/100)
	}
	return b.Bytes()
}

// BenchmarkReadFlowLogs is the parser alone, on default-format records.
//
//	go test -run '^$' -bench BenchmarkReadFlowLogs -benchmem ./ingest
func BenchmarkReadFlowLogs(b *testing.B) {
	const n = 100_000
	body := flowBody(n)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		if err := ReadFlowLogs(bytes.NewReader(body), 4096, func([]FlowRecord) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRecord(b, n, cpu)
}

// BenchmarkReadFlowLogsGzip is the parser behind gunzip, as a gzipped
// body is read.
func BenchmarkReadFlowLogsGzip(b *testing.B) {
	const n = 100_000
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(flowBody(n))
	zw.Close()
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		r, err := Open(bytes.NewReader(z.Bytes()), true, 1<<30)
		if err != nil {
			b.Fatal(err)
		}
		if err := ReadFlowLogs(r, 4096, func([]FlowRecord) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRecord(b, n, cpu)
}

// reportPerRecord reports wall and CPU nanoseconds per record (the CPU
// figure is what the work costs on a shared machine).
func reportPerRecord(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/record")
}

var _ = io.EOF
