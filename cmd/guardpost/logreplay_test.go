package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/guardpost/guardpost/httpapi"
)

// replayFlows is an hour of one instance's flow logs (v3, instance-id
// given) holding two SSH brute-force runs against it and a port scan it
// makes, between ordinary web traffic, in time order.
func replayFlows() (header string, lines []string) {
	header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id\n"
	const t0, instance = 1773480000, "i-0replay000000001"
	line := func(at int, src, dst string, sport, dport, packets, bytes int, action string) string {
		return fmt.Sprintf("3 %s eni-0r1 %s %s %d %d 6 %d %d %d %d %s OK vpc-1 subnet-1 %s\n",
			accountA, src, dst, sport, dport, packets, bytes, t0+at, t0+at+20, action, instance)
	}
	for i := range 720 { // every 5 s for an hour
		at := i * 5
		lines = append(lines, line(at, fmt.Sprintf("93.184.%d.%d", i%7, 10+i%200), "10.0.1.5", 30000+i, 443, 40, 52000, "ACCEPT"))
		switch {
		case i < 60: // brute force, first run
			lines = append(lines, line(at, "198.51.100.7", "10.0.1.5", 40000+i, 22, 12, 2100, "ACCEPT"))
		case i >= 300 && i < 360: // brute force, second run
			lines = append(lines, line(at, "198.51.100.7", "10.0.1.5", 41000+i, 22, 12, 2100, "REJECT"))
		case i >= 500 && i < 590: // a scan of 90 ports
			lines = append(lines, line(at, "10.0.1.5", "203.0.113.9", 50000, 1+i-500, 1, 44, "REJECT"))
		}
	}
	return header, lines
}

// detectionsOf lists the detector's findings as what must not depend on
// how the logs were sent: type, role, resource, remote party, count,
// times, severity (and the id, when withIDs).
func detectionsOf(t *testing.T, c *guardduty.Client, det string, withIDs bool) []string {
	t.Helper()
	ctx := context.Background()
	list, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &det})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.FindingIds) == 0 {
		return nil
	}
	got, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: list.FindingIds})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range got.Findings {
		remote := ""
		if a := f.Service.Action; a != nil && a.NetworkConnectionAction != nil && a.NetworkConnectionAction.RemoteIpDetails != nil {
			remote = *a.NetworkConnectionAction.RemoteIpDetails.IpAddressV4
		}
		s := fmt.Sprintf("%s role=%s instance=%s remote=%s count=%d first=%s last=%s severity=%v",
			*f.Type, *f.Service.ResourceRole, *f.Resource.InstanceDetails.InstanceId, remote, *f.Service.Count,
			*f.Service.EventFirstSeen, *f.Service.EventLastSeen, *f.Severity)
		if withIDs {
			s += " id=" + *f.Id
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestFlowLogReplayEquivalence: the same flow logs sent in one request,
// in 100 requests, and split across a restart of the server make the same
// findings, with the same ids, counts and times (event time, not arrival,
// drives the windows; the windows survive the restart in the store).
func TestFlowLogReplayEquivalence(t *testing.T) {
	header, lines := replayFlows()
	send := func(s *testServer, from, to, requests int) {
		t.Helper()
		n := to - from
		for r := range requests {
			chunk := lines[from+r*n/requests : from+(r+1)*n/requests]
			if len(chunk) == 0 {
				continue
			}
			res := s.ingestLogs(t, httpapi.IngestVPCFlowPath, keyA, secretA, "us-east-1", []byte(header+strings.Join(chunk, "")), nil)
			if res.Accepted != len(chunk) {
				t.Fatalf("request %d: %+v", r, res)
			}
		}
	}

	whole := startServer(t)
	detWhole := createDetector(t, whole.clientA())
	send(whole, 0, len(lines), 1)
	want := detectionsOf(t, whole.clientA(), detWhole, true)
	types := map[string]bool{}
	for _, f := range want {
		types[strings.Fields(f)[0]] = true
	}
	if !types["UnauthorizedAccess:EC2/SSHBruteForce"] || !types["Recon:EC2/Portscan"] || len(types) != 2 {
		t.Fatalf("the fixture should make SSHBruteForce and Portscan findings only, made:\n%s", strings.Join(want, "\n"))
	}
	for _, f := range want {
		if strings.Contains(f, "count=1 ") && strings.Contains(f, "SSHBruteForce") {
			t.Fatalf("two brute-force runs should aggregate into one finding: %s", f)
		}
	}

	t.Logf("findings:\n%s", strings.Join(want, "\n"))

	pieces := startServer(t)
	detPieces := createDetector(t, pieces.clientA())
	send(pieces, 0, len(lines), 100)
	if got := detectionsOf(t, pieces.clientA(), detPieces, true); !slices.Equal(got, want) {
		t.Fatalf("100 requests:\n%s\none request:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	first := startServer(t)
	detSplit := createDetector(t, first.clientA())
	cut := len(lines) * 2 / 5 // inside the second brute-force run's hour
	send(first, 0, cut, 3)
	before := detectionsOf(t, first.clientA(), detSplit, true)
	if err := first.Main.Close(); err != nil {
		t.Fatal(err)
	}
	second := startServerWith(t, first.dir, first.credFile)
	send(second, cut, len(lines), 4)
	got := detectionsOf(t, second.clientA(), detSplit, true)
	if !slices.Equal(got, want) {
		t.Fatalf("split across a restart:\n%s\none request:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A finding made before the restart kept its id.
	after := detectionsOf(t, second.clientA(), detSplit, true)
	for _, b := range before {
		id := b[strings.LastIndex(b, " id=")+4:]
		if !slices.ContainsFunc(after, func(a string) bool { return strings.HasSuffix(a, " id="+id) }) {
			t.Fatalf("finding %s of before the restart is gone: %v", id, after)
		}
	}
}
