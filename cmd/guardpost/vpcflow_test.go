package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/internal/loggen"
)

// ingestLogs posts body to a log ingest endpoint as key's account in
// region and returns the answer, failing unless it is 200.
func (s *testServer) ingestLogs(t *testing.T, path, key, secret, region string, body []byte, header map[string]string) ctResult {
	t.Helper()
	r := s.postSigned(path, key, secret, region, body, header)
	if r.Status != http.StatusOK {
		t.Fatalf("ingest %s: %d %s", path, r.Status, r.Body)
	}
	var out ctResult
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// flowLine is a default-format (v2) flow record of account's interface.
func flowLine(account, eni, src, dst string, srcPort, dstPort int, action string) string {
	return fmt.Sprintf("2 %s %s %s %s %d %d 6 10 840 1773480413 1773480473 %s OK\n", account, eni, src, dst, srcPort, dstPort, action)
}

// setFeature sets a detector's foundational data source on or off in the
// store (the API, as GuardDuty's, does not let them be turned off).
func setFeature(t *testing.T, s *testServer, det, name, status string) {
	t.Helper()
	err := s.service.Store.UpdateDetector(context.Background(), guardpost.Scope{AccountID: accountA, Region: "us-east-1"}, det, func(d *guardpost.Detector) error {
		for i := range d.Features {
			if d.Features[i].Name == name {
				d.Features[i].Status = status
				return nil
			}
		}
		d.Features = append(d.Features, guardpost.DetectorFeature{Name: name, Status: status})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVPCFlowIngest: flow logs in the default format and in custom formats
// (v3 to v5 fields in any order) are read and counted; gzip is read;
// another account's records are rejected, another region's skipped; a
// malformed line or header is a 400 naming it; FLOW_LOGS off accepts the
// records and analyses none; the caller needs a detector and a signature.
func TestVPCFlowIngest(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)
	ingest := func(body string, header map[string]string) ctResult {
		t.Helper()
		return s.ingestLogs(t, httpapi.IngestVPCFlowPath, keyA, secretA, "us-east-1", []byte(body), header)
	}

	// Default format, no header: two flows, a NODATA and a SKIPDATA
	// record (counted, no flow), one record of account B (rejected).
	body := flowLine(accountA, "eni-0a1b2c3d4e5f60718", "10.0.1.5", "198.51.100.7", 443, 51234, "ACCEPT") +
		flowLine(accountA, "eni-0a1b2c3d4e5f60718", "203.0.113.9", "10.0.1.5", 40000, 22, "REJECT") +
		"2 " + accountA + " eni-0a1b2c3d4e5f60718 - - - - - - - 1773480413 1773480473 - NODATA\n" +
		"2 " + accountA + " eni-0a1b2c3d4e5f60718 - - - - - - - 1773480413 1773480473 - SKIPDATA\n" +
		flowLine(accountB, "eni-0bbbbbbbbbbbbbbbb", "10.9.0.1", "10.9.0.2", 1, 2, "ACCEPT")
	if got := ingest(body, nil); got != (ctResult{Records: 5, Accepted: 4, Rejected: 1}) {
		t.Fatalf("default format: %+v", got)
	}
	// The same with the default header, gzip.
	if got := ingest(string(gzipped(t, []byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"+body))),
		map[string]string{"Content-Encoding": "gzip"}); got != (ctResult{Records: 5, Accepted: 4, Rejected: 1}) {
		t.Fatalf("gzip with header: %+v", got)
	}

	// Custom v5 format in an odd order: region says which detector
	// analyses each record (eu-west-1's is skipped here); a record
	// without account-id is the caller's.
	v5 := "flow-direction dstport instance-id region srcaddr account-id dstaddr pkt-dst-aws-service action traffic-path srcport interface-id log-status tcp-flags protocol start end\n" +
		"ingress 22 i-0abcd1234ef567890 us-east-1 203.0.113.9 " + accountA + " 10.0.1.5 - REJECT - 40001 eni-0a1b2c3d4e5f60718 OK 2 6 1773480413 1773480473\n" +
		"egress 443 i-0abcd1234ef567890 us-east-1 10.0.1.5 - 52.94.1.1 S3 ACCEPT 8 51000 eni-0a1b2c3d4e5f60718 OK 19 6 1773480413 1773480473\n" +
		"egress 443 i-0eu00000000000000 eu-west-1 10.1.1.5 " + accountA + " 52.94.1.1 - ACCEPT 1 51000 eni-0eu0000000000000 OK 19 6 1773480413 1773480473\n"
	if got := ingest(v5, nil); got != (ctResult{Records: 3, Accepted: 2, Skipped: 1}) {
		t.Fatalf("custom v5 format: %+v", got)
	}
	// v3 fields, then a second header (files concatenated).
	v3 := "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status\n" +
		"3 vpc-0123 subnet-0456 i-0abcd1234ef567890 eni-0a1b2c3d4e5f60718 " + accountA + " IPv4 10.0.1.5 10.0.2.9 40000 5432 10.0.1.5 10.0.2.9 6 5000 10 1773480413 1773480473 ACCEPT 3 OK\n" +
		"srcaddr dstaddr\n10.0.1.5 10.0.2.9\n"
	if got := ingest(v3, nil); got != (ctResult{Records: 2, Accepted: 2}) {
		t.Fatalf("custom v3 format: %+v", got)
	}

	// Malformed: a 400 naming the line, in the AWS shape.
	for _, c := range []struct{ body, want string }{
		{flowLine(accountA, "eni-1", "10.0.0.1", "10.0.0.2", 1, 2, "ACCEPT") + "2 " + accountA + " eni-1 10.0.0.1 10.0.0.2 1 2 6 10 840 1773480413 1773480473 ACCEPT\n",
			"Line 2: the record has 13 fields; the format has 14"},
		{"version account-id colour\n", `Line 1: the header names fields VPC Flow Logs does not have: "colour".`},
		{flowLine(accountA, "eni-1", "10.0.0.1", "10.0.0.999", 1, 2, "ACCEPT"), `Line 1: dstaddr "10.0.0.999" is not an IPv4 or IPv6 address.`},
	} {
		r := s.postSigned(httpapi.IngestVPCFlowPath, keyA, secretA, "us-east-1", []byte(c.body), nil)
		if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || typ != "BadRequestException" || !strings.HasPrefix(msg, c.want) {
			t.Errorf("%q: %d %s %q, want 400 %q", c.body, r.Status, typ, msg, c.want)
		}
	}
	r := s.postSigned(httpapi.IngestVPCFlowPath, keyA, secretA, "us-east-1", []byte(body), map[string]string{"Content-Encoding": "gzip"})
	if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || typ != "BadRequestException" || !strings.Contains(msg, "not gzip") {
		t.Errorf("gzip header, plain body: %d %s %s", r.Status, typ, msg)
	}

	// FLOW_LOGS off: the records are accepted (they are the caller's) and
	// analysed by nothing, as GuardDuty drops a disabled source's logs.
	setFeature(t, s, det, "FLOW_LOGS", guardpost.DetectorDisabled)
	if got := ingest(body, nil); got != (ctResult{Records: 5, Accepted: 4, Rejected: 1}) {
		t.Fatalf("FLOW_LOGS disabled: %+v", got)
	}

	// Account B has no detector: its own ingest is refused.
	r = s.postSigned(httpapi.IngestVPCFlowPath, keyB, secretB, "us-east-1", []byte(flowLine(accountB, "eni-0b", "10.9.0.1", "10.9.0.2", 1, 2, "ACCEPT")), nil)
	if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || typ != "BadRequestException" || !strings.Contains(msg, "has no detector") {
		t.Errorf("no detector: %d %s %s", r.Status, typ, msg)
	}
	// Unsigned.
	if r := s.send(mustRequest(t, http.MethodPost, s.endpoint()+httpapi.IngestVPCFlowPath)); r.Status != http.StatusForbidden {
		t.Errorf("unsigned: %d %s", r.Status, r.Body)
	}
}

// TestVPCFlowAdministeredAccount: an administrator sends its member's flow
// logs; the member cannot send its administrator's.
func TestVPCFlowAdministeredAccount(t *testing.T) {
	s := startServer(t)
	a, b := s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), createDetector(t, b)
	associate(t, a, detA, accountA, b, detB, accountB)
	body := []byte(flowLine(accountB, "eni-0b", "10.9.0.1", "10.9.0.2", 1, 2, "ACCEPT") + flowLine(accountA, "eni-0a", "10.0.0.1", "10.0.0.2", 1, 2, "ACCEPT"))
	if got := s.ingestLogs(t, httpapi.IngestVPCFlowPath, keyA, secretA, "us-east-1", body, nil); got != (ctResult{Records: 2, Accepted: 2}) {
		t.Fatalf("administrator: %+v", got)
	}
	if got := s.ingestLogs(t, httpapi.IngestVPCFlowPath, keyB, secretB, "us-east-1", body, nil); got != (ctResult{Records: 2, Accepted: 1, Rejected: 1}) {
		t.Fatalf("member: %+v", got)
	}
}

// dnsLine is a query log record (the Route 53 developer guide's fields)
// of account's VPC in region.
func dnsLine(account, region, name, srcaddr string) string {
	return fmt.Sprintf(`{"version":"1.100000","account_id":"%s","region":"%s","vpc_id":"vpc-0a1b2c3d","query_timestamp":"2026-03-14T09:26:53Z","query_name":"%s","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"93.184.216.34","Type":"A","Class":"IN"}],"srcaddr":"%s","srcport":"53211","transport":"UDP","srcids":{"instance":"i-0abcd1234ef567890"}}`+"\n",
		account, region, name, srcaddr)
}

// TestDNSIngest: query logs are read and counted as flow logs are, with
// the same account, region, error and data source rules.
func TestDNSIngest(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)
	ingest := func(body string, header map[string]string) ctResult {
		t.Helper()
		return s.ingestLogs(t, httpapi.IngestDNSPath, keyA, secretA, "us-east-1", []byte(body), header)
	}
	body := dnsLine(accountA, "us-east-1", "www.example.com.", "10.0.1.5") +
		dnsLine(accountA, "us-east-1", "d111111abcdef8.cloudfront.net.", "10.0.1.6") +
		"\n" +
		dnsLine(accountA, "eu-west-1", "www.example.com.", "10.1.1.5") +
		dnsLine(accountB, "us-east-1", "www.example.com.", "10.9.1.5")
	want := ctResult{Records: 4, Accepted: 2, Rejected: 1, Skipped: 1}
	if got := ingest(body, nil); got != want {
		t.Fatalf("query logs: %+v", got)
	}
	if got := ingest(string(gzipped(t, []byte(body))), map[string]string{"Content-Encoding": "gzip"}); got != want {
		t.Fatalf("gzip: %+v", got)
	}
	for _, c := range []struct{ body, want string }{
		{dnsLine(accountA, "us-east-1", "a.example.", "10.0.0.1") + `{"query_name":"b.example.","query_timestamp":"yesterday"}` + "\n",
			`Line 2: query_timestamp "yesterday" is not an ISO 8601 time`},
		{dnsLine(accountA, "us-east-1", "a.example.", "10.0.0.1") + "\n" + `{"query_name": "b.example.",` + "\n", "Line 3: the JSON object ends early"},
	} {
		r := s.postSigned(httpapi.IngestDNSPath, keyA, secretA, "us-east-1", []byte(c.body), nil)
		if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || typ != "BadRequestException" || !strings.HasPrefix(msg, c.want) {
			t.Errorf("%q: %d %s %q, want 400 %q", c.body, r.Status, typ, msg, c.want)
		}
	}
	setFeature(t, s, det, "DNS_LOGS", guardpost.DetectorDisabled)
	if got := ingest(body, nil); got != want {
		t.Fatalf("DNS_LOGS disabled: %+v", got)
	}
	if _, err := a.UpdateDetector(context.Background(), &guardduty.UpdateDetectorInput{DetectorId: &det, Enable: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if got := ingest(body, nil); got != want {
		t.Fatalf("detector disabled: %+v", got)
	}
}

// TestENIMap: serve --eni-map reads the operator's pairs (a bad file
// stops the start, naming the line), and CloudTrail ingests teach the
// server the interfaces RunInstances reports, for the caller's account
// only.
func TestENIMap(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "enis.txt")
	if err := os.WriteFile(file, []byte("# bastion\neni-0bastion00000000 i-0bastion0000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--eni-map", file)
	a := s.clientA()
	createDetector(t, a)
	run := func(account string) map[string]any {
		return ctRecord("ec2.amazonaws.com", "RunInstances", "alice", 0, map[string]any{"recipientAccountId": account,
			"responseElements": map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": "i-0web" + account,
				"networkInterfaceSet": map[string]any{"items": []any{map[string]any{"networkInterfaceId": "eni-0web" + account}}}}}}}})
	}
	s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, run(accountA), run(accountB)))
	for _, c := range []struct{ account, eni, want string }{
		{accountA, "eni-0bastion00000000", "i-0bastion0000000"},
		{accountA, "eni-0web" + accountA, "i-0web" + accountA},
		{accountB, "eni-0web" + accountB, "eni-0web" + accountB}, // a rejected record teaches nothing
	} {
		if got := s.ENIs.Instance(c.account, c.eni); got != c.want {
			t.Errorf("Instance(%s, %s) = %s, want %s", c.account, c.eni, got, c.want)
		}
	}

	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("eni-0a i-0a\neni-0b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := NewMain()
	m.DataDir, m.Listen, m.ENIMapFile, m.Stderr = t.TempDir(), "127.0.0.1:0", bad, io.Discard
	err := m.Run(context.Background())
	if err == nil {
		m.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "--eni-map") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("a bad --eni-map file: %v", err)
	}
}

// TestLogIngestCommand: guardpost ingest --source vpcflow and dns send
// directories in the layouts AWS delivers (gzip, a header per flow log
// file, or none) and plain files, a few lines per request (each flow
// request carrying its file's header), and sum the answers; a malformed
// line is named by file and line.
func TestLogIngestCommand(t *testing.T) {
	s := startServer(t)
	createDetector(t, s.clientA())
	s.useOnlyCredentialsFile(t)
	dir := t.TempDir()
	write := fileWriter(t, dir)
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := runIngest(context.Background(), append([]string{"--endpoint", s.endpoint(), "--profile", "a", "--region", "us-east-1"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	// Flow logs: a custom-format file (v5 fields, region us-east-1 and
	// eu-west-1), a default-format file without header, a record of
	// account B; --batch 2 splits each file across requests.
	day := "AWSLogs/" + accountA + "/vpcflowlogs/us-east-1/2026/03/14/"
	custom := "region account-id interface-id srcaddr dstaddr dstport action log-status\n" +
		"us-east-1 " + accountA + " eni-0a 10.0.1.5 198.51.100.7 443 ACCEPT OK\n" +
		"\n" +
		"us-east-1 " + accountA + " eni-0a 10.0.1.5 198.51.100.8 443 ACCEPT OK\n" +
		"eu-west-1 " + accountA + " eni-0e 10.1.1.5 198.51.100.8 443 ACCEPT OK\n"
	write(day+accountA+"_vpcflowlogs_us-east-1_fl-0a1b2c3d_20260314T0925Z_1a2b3c4d.log.gz", gzipped(t, []byte(custom)))
	write(day+accountA+"_vpcflowlogs_us-east-1_fl-0a1b2c3d_20260314T0930Z_5e6f7a8b.log.gz", gzipped(t, []byte(
		flowLine(accountA, "eni-0a", "10.0.1.5", "198.51.100.9", 51000, 443, "ACCEPT")+
			"2 "+accountA+" eni-0a - - - - - - - 1773480413 1773480473 - NODATA\n"+
			flowLine(accountB, "eni-0b", "10.9.0.1", "10.9.0.2", 1, 2, "ACCEPT"))))
	plain := write("more.log", []byte(flowLine(accountA, "eni-0a", "10.0.1.5", "198.51.100.10", 51000, 443, "ACCEPT")))
	code, stdout, stderr := run("--source", "vpcflow", "--batch", "2", filepath.Join(dir, "AWSLogs"), plain)
	if code != 0 || !strings.HasPrefix(stdout, "3 files, 7 records: 5 accepted, 1 rejected, 1 skipped; findings: 0 created, 0 updated in ") {
		t.Fatalf("vpcflow: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	// A malformed line in the second request of a file is named in the file.
	bad := write("bad.log", []byte(custom+"us-east-1 "+accountA+" eni-0a 10.0.1.5 198.51.100.7 443 ACCEPT SOMETIMES\n"))
	code, _, stderr = run("--source", "vpcflow", "--batch", "2", bad)
	if code != 1 || !strings.Contains(stderr, bad+`, line 6: log-status "SOMETIMES" is not OK, NODATA or SKIPDATA.`) {
		t.Fatalf("malformed flow log: exit %d, stderr %q", code, stderr)
	}

	// Query logs, in their S3 layout, and a bad line.
	qday := "AWSLogs/" + accountA + "/vpcdnsquerylogs/vpc-0a1b2c3d/2026/03/14/"
	write(qday+"vpc-0a1b2c3d_vpcdnsquerylogs_"+accountA+"_20260314T0925Z_1a2b3c4d.log.gz", gzipped(t, []byte(
		dnsLine(accountA, "us-east-1", "www.example.com.", "10.0.1.5")+dnsLine(accountA, "us-east-1", "api.example.com.", "10.0.1.5")+
			dnsLine(accountA, "eu-west-1", "www.example.com.", "10.1.1.5"))))
	code, stdout, stderr = run("--source", "dns", "--batch", "2", filepath.Join(dir, "AWSLogs", accountA, "vpcdnsquerylogs"))
	if code != 0 || !strings.HasPrefix(stdout, "1 files, 3 records: 2 accepted, 0 rejected, 1 skipped; findings: 0 created, 0 updated in ") {
		t.Fatalf("dns: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	badDNS := write("bad.jsonl", []byte(dnsLine(accountA, "us-east-1", "a.example.", "10.0.0.1")+"\n"+dnsLine(accountA, "us-east-1", "b.example.", "10.0.0.1")+`{"query_name":1}`+"\n"))
	code, _, stderr = run("--source", "dns", "--batch", "2", badDNS)
	if code != 1 || !strings.Contains(stderr, badDNS+", line 4: a string expected at column 15") {
		t.Fatalf("malformed query log: exit %d, stderr %q", code, stderr)
	}
}

// TestGeneratedLogsIngest: a reduced run of loggen's ordinary VPC (the
// benchmarks' load) is ingested whole by guardpost ingest from the tree
// it writes, every record accepted; no finding is made of it (with the
// detection engines in place, this is the check that their rules stay
// silent on ordinary traffic).
func TestGeneratedLogsIngest(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)
	s.useOnlyCredentialsFile(t)
	dir := t.TempDir()
	flows, dns, err := loggen.WriteTree(dir, loggen.Config{Seed: 3, Account: accountA, Flows: 40_000, DNSQueries: 8_000, Files: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		source, dir string
		counts      loggen.Counts
	}{
		{"vpcflow", filepath.Join(dir, "AWSLogs", accountA, "vpcflowlogs"), flows},
		{"dns", filepath.Join(dir, "AWSLogs", accountA, "vpcdnsquerylogs"), dns},
	} {
		var stdout, stderr bytes.Buffer
		code := runIngest(context.Background(), []string{"--endpoint", s.endpoint(), "--profile", "a", "--region", "us-east-1",
			"--source", c.source, "--batch", "15000", c.dir}, &stdout, &stderr)
		want := fmt.Sprintf("4 files, %d records: %d accepted, 0 rejected, 0 skipped; findings: 0 created, 0 updated in ", c.counts.Records, c.counts.Records)
		if code != 0 || !strings.HasPrefix(stdout.String(), want) {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s\nwant: %s", c.source, code, &stdout, &stderr, want)
		}
	}
	out, err := a.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.FindingIds) != 0 {
		t.Fatalf("ordinary traffic made %d findings", len(out.FindingIds))
	}
}

// TestLearnedENIsSurviveRestart: an interface learned from CloudTrail
// still names its instance in flow findings after the server restarts.
func TestLearnedENIsSurviveRestart(t *testing.T) {
	s := startServer(t)
	det := createDetector(t, s.clientA())
	instance, eni := "i-0feed0000000000a1", "eni-0feed0000000000a1"
	run := ctRecord("ec2.amazonaws.com", "RunInstances", "alice", 0, map[string]any{
		"responseElements": map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": instance,
			"networkInterfaceSet": map[string]any{"items": []any{map[string]any{"networkInterfaceId": eni}}}}}}}})
	s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, run))
	if err := s.Main.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "detection.json")
	if err := os.WriteFile(cfg, []byte(`{"network": {"SSHBruteForce": {"Count": 3, "Window": "10m"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := startServerWith(t, s.dir, s.credFile, "--detection-config", cfg)
	var body strings.Builder // v2: no instance-id; three short SSH sessions from one host
	for i := range 3 {
		body.WriteString(flowLine(accountA, eni, "198.51.100.7", "10.0.1.5", 41000+i, 22, "ACCEPT"))
	}
	s2.ingestLogs(t, httpapi.IngestVPCFlowPath, keyA, secretA, "us-east-1", []byte(body.String()), nil)
	a := s2.clientA()
	list, err := a.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det})
	if err != nil || len(list.FindingIds) != 1 {
		t.Fatalf("findings: %v %v", list, err)
	}
	got, err := a.GetFindings(context.Background(), &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: list.FindingIds})
	if err != nil {
		t.Fatal(err)
	}
	if id := aws.ToString(got.Findings[0].Resource.InstanceDetails.InstanceId); id != instance {
		t.Fatalf("the finding names %s, want %s (learned before the restart)", id, instance)
	}
}
