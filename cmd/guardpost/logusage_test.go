package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost/httpapi"
)

// TestLogUsageAndCoverage: what the flow and query log endpoints analysed
// is what usage statistics report, by data source and by instance, to the
// record and the byte; the instances the logs named are covered.
func TestLogUsageAndCoverage(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)

	var flows strings.Builder
	flows.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id\n")
	header := flows.Len()
	perInstance := map[string][2]int{} // records, bytes
	add := func(instance, line string) {
		flows.WriteString(line)
		c := perInstance[instance]
		perInstance[instance] = [2]int{c[0] + 1, c[1] + len(line)}
	}
	for i := range 30 {
		instance := "i-0aaa000000000000" + strconv.Itoa(i%3)
		add(instance, fmt.Sprintf("3 %s eni-0%d 10.0.1.%d 10.0.2.9 443 5%04d 6 10 840 1773480413 1773480473 ACCEPT OK vpc-1 subnet-1 %s\n",
			accountA, i%3, i%3, i, instance))
	}
	// A NODATA record counts, about no instance.
	add("", fmt.Sprintf("3 %s eni-09 - - - - - - - 1773480413 1773480473 - NODATA vpc-1 subnet-1 -\n", accountA))
	flowBytes := flows.Len() - header
	res := s.ingestLogs(t, httpapi.IngestVPCFlowPath, keyA, secretA, "us-east-1", []byte(flows.String()), nil)
	if res.Records != 31 || res.Accepted != 31 {
		t.Fatalf("flow ingest: %+v", res)
	}

	var dns strings.Builder
	for i := range 7 {
		dns.WriteString(dnsLine(accountA, "us-east-1", fmt.Sprintf("www%d.example.com.", i), "10.0.1.7"))
	}
	dnsBytes := dns.Len()
	if res := s.ingestLogs(t, httpapi.IngestDNSPath, keyA, secretA, "us-east-1", []byte(dns.String()), nil); res.Accepted != 7 {
		t.Fatalf("dns ingest: %+v", res)
	}

	sources := types.UsageCriteria{DataSources: []types.DataSource{types.DataSourceFlowLogs, types.DataSourceDnsLogs}}
	_, records := usageTotals(t, a, det, types.UsageStatisticTypeSumByDataSource, sources, "RECORDS", 0)
	sameTotals(t, "records by data source", records, map[string]string{"FLOW_LOGS": "31", "DNS_LOGS": "7"})
	_, bytes := usageTotals(t, a, det, types.UsageStatisticTypeSumByDataSource, sources, "BYTES", 0)
	sameTotals(t, "bytes by data source", bytes, map[string]string{"FLOW_LOGS": strconv.Itoa(flowBytes), "DNS_LOGS": strconv.Itoa(dnsBytes)})

	flow := types.UsageCriteria{Features: []types.UsageFeature{types.UsageFeatureFlowLogs}}
	_, byResource := usageTotals(t, a, det, types.UsageStatisticTypeSumByResource, flow, "BYTES", 0)
	want := map[string]string{}
	for instance, c := range perInstance {
		if instance != "" {
			want[instance] = strconv.Itoa(c[1])
		}
	}
	for k := range byResource {
		if k == "" {
			delete(byResource, k) // the NODATA record's share, about no resource
		}
	}
	sameTotals(t, "flow bytes by instance", byResource, want)

	covered := resourceIDs(listCoverage(t, a, det, nil, nil, 0))
	for _, id := range []string{"i-0aaa0000000000000", "i-0aaa0000000000001", "i-0aaa0000000000002", "i-0abcd1234ef567890"} {
		found := false
		for _, c := range covered {
			found = found || c == id
		}
		if !found {
			t.Fatalf("coverage %v lacks %s", covered, id)
		}
	}
}
