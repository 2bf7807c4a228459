package dnsquery_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost/detect/dnsquery"
	"github.com/guardpost/guardpost/ingest"
)

// TestBenignSilent: 20,000 ordinary queries of 50 instances over two
// hours (popular sites, CDN hostnames with hashes, AWS endpoints, package
// mirrors, the VPC's own names, anti-virus look-ups, NXDOMAIN typos),
// ingested in batches of 1,000, make no finding.
func TestBenignSilent(t *testing.T) {
	e := newEnv(t)
	records := dnsquery.BenignQueries(20000, 1, account, region, t0)
	a := e.engine.Begin(scope, t0)
	for chunk := range slices.Chunk(records, 1000) {
		if err := a.Add(context.Background(), chunk); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := a.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 20000 || rep.Accepted != 20000 || len(rep.Analysed) != 1 || rep.Analysed[0].Records != 20000 {
		t.Fatalf("report %+v", rep)
	}
	if fs := e.findings(); len(fs) != 0 {
		for _, f := range fs[:min(len(fs), 10)] {
			t.Errorf("%s: %s", aws.ToString(f.Type), aws.ToString(f.Service.Action.DnsRequestAction.Domain))
		}
		t.Fatalf("%d findings from ordinary queries", len(fs))
	}
}

// attackStream is ordinary traffic with every fixture's queries mixed in,
// in time order.
func attackStream() []ingest.DNSQuery {
	records := dnsquery.BenignQueries(5000, 2, account, region, t0)
	for _, f := range fixtures() {
		records = append(records, f.records...)
	}
	sort.SliceStable(records, func(i, j int) bool { return records[i].Time.Before(records[j].Time) })
	return records
}

// summary is what replay equivalence compares: every finding's type,
// count, times, domain and instance. Ids are a digest of the detector,
// type and aggregation key, so the runs (each its own detector) compare
// them through the key: the finding of one instance, type and domain.
func summary(fs []types.Finding) []string {
	var out []string
	for _, f := range fs {
		s := f.Service
		out = append(out, fmt.Sprintf("%s count=%d %s..%s %s %s", aws.ToString(f.Type), aws.ToInt32(s.Count),
			aws.ToString(s.EventFirstSeen), aws.ToString(s.EventLastSeen), aws.ToString(s.Action.DnsRequestAction.Domain),
			aws.ToString(f.Resource.InstanceDetails.InstanceId)))
	}
	sort.Strings(out)
	return out
}

// TestReplayEquivalence: the same logs ingested in one request, in 100
// requests, and split across a restart (a new Engine on the same store,
// resuming from the stored detection state) make the same findings: ids,
// counts, times.
func TestReplayEquivalence(t *testing.T) {
	records := attackStream()

	one := newEnv(t)
	one.entitySet("blocklist", "blocked-by-policy.example")
	one.ingest(nil, records)
	want := summary(one.findings())
	if len(want) < 14 {
		t.Fatalf("only %d findings from the attack stream", len(want))
	}

	many := newEnv(t)
	many.entitySet("blocklist", "blocked-by-policy.example")
	for i := 0; i < 100; i++ {
		many.ingest(nil, records[i*len(records)/100:(i+1)*len(records)/100])
	}
	if got := summary(many.findings()); !slices.Equal(got, want) {
		t.Errorf("100 ingests:\n%s\nwant (one ingest):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	t.Run("restart", func(t *testing.T) {
		split := newEnv(t)
		split.entitySet("blocklist", "blocked-by-policy.example")
		// Cut inside the exfiltration burst, so that its window straddles the
		// restart.
		cut := slices.IndexFunc(records, func(r ingest.DNSQuery) bool { return r.InstanceID == "i-0ex0000000000001" }) + 10
		split.ingest(nil, records[:cut])
		stored, err := split.svc.DetectionState(context.Background(), scope, split.det, dnsquery.StateName)
		if err != nil {
			t.Fatal(err)
		}
		if stored == nil {
			t.Skip("the store keeps no detection state yet (Service.DetectionState answers nil): the restart half needs it; TestRestartState checks the engine's half")
		}
		split.ingest(dnsquery.New(split.svc, split.managed), records[cut:])
		if got := summary(split.findings()); !slices.Equal(got, want) {
			t.Errorf("split across a restart:\n%s\nwant (one ingest):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
