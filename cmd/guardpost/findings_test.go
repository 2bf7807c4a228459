package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/samples"
)

func TestSampleFindings(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := createDetector(t, c)
	catalog := samples.New()

	if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det}); err != nil {
		t.Fatal(err)
	}
	ids := listAll(t, c, det, nil)
	if len(ids) != len(catalog.Types()) {
		t.Fatalf("no types given: %d findings, want one of each of %d types", len(ids), len(catalog.Types()))
	}
	seen := map[string]bool{}
	for _, f := range getAll(t, c, det, ids) {
		seen[aws.ToString(f.Type)] = true
		checkSample(t, f, det, "us-east-1")
	}
	for _, typ := range catalog.Types() {
		if !seen[typ] {
			t.Errorf("no sample of %s", typ)
		}
	}

	t.Run("named types only", func(t *testing.T) {
		c := s.client(keyA, secretA, "cn-north-1")
		det := createDetector(t, c)
		types := []string{"UnauthorizedAccess:EC2/SSHBruteForce", "Recon:IAMUser/MaliciousIPCaller", "UnauthorizedAccess:EC2/SSHBruteForce"}
		if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: types}); err != nil {
			t.Fatal(err)
		}
		ids := listAll(t, c, det, nil)
		out, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: ids})
		if err != nil || len(out.Findings) != 2 {
			t.Fatalf("got %d findings, %v; want 2", len(out.Findings), err)
		}
		for _, f := range out.Findings {
			checkSample(t, f, det, "cn-north-1")
		}
	})
	t.Run("unknown type", func(t *testing.T) {
		_, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: []string{"Nope:EC2/Nothing"}})
		code, msg := apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, "Nope:EC2/Nothing") {
			t.Fatalf("got %s %q", code, msg)
		}
	})
	t.Run("repeat aggregates", func(t *testing.T) {
		typ := "Recon:EC2/PortProbeUnprotectedPort"
		before := findingsOfType(t, c, det, typ)
		if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: []string{typ}}); err != nil {
			t.Fatal(err)
		}
		after := findingsOfType(t, c, det, typ)
		if len(before) != 1 || len(after) != 1 || aws.ToString(after[0].Id) != aws.ToString(before[0].Id) {
			t.Fatalf("repeat made %d findings of %s (was %d)", len(after), typ, len(before))
		}
		if got := aws.ToInt32(after[0].Service.Count); got != 2 {
			t.Fatalf("count %d after a repeat, want 2", got)
		}
	})
}

// checkSample asserts what every sample finding must carry.
func checkSample(t *testing.T, f types.Finding, det, region string) {
	t.Helper()
	typ := aws.ToString(f.Type)
	part := guardpost.Partition(region)
	wantArn := fmt.Sprintf("arn:%s:guardduty:%s:%s:detector/%s/finding/%s", part, region, accountA, det, aws.ToString(f.Id))
	switch {
	case aws.ToString(f.Arn) != wantArn:
		t.Errorf("%s: arn %s, want %s", typ, aws.ToString(f.Arn), wantArn)
	case aws.ToString(f.SchemaVersion) != "2.0", aws.ToString(f.Partition) != part, aws.ToString(f.Region) != region, aws.ToString(f.AccountId) != accountA:
		t.Errorf("%s: schemaVersion %s partition %s region %s account %s", typ, aws.ToString(f.SchemaVersion), aws.ToString(f.Partition), aws.ToString(f.Region), aws.ToString(f.AccountId))
	case f.Severity == nil || *f.Severity < 1 || *f.Severity > 10:
		t.Errorf("%s: severity %v", typ, f.Severity)
	case f.Resource == nil || aws.ToString(f.Resource.ResourceType) == "":
		t.Errorf("%s: no resource type", typ)
	case f.Service == nil || aws.ToString(f.Service.DetectorId) != det || aws.ToInt32(f.Service.Count) < 1:
		t.Errorf("%s: service %+v", typ, f.Service)
	case f.Service.AdditionalInfo == nil || !strings.Contains(aws.ToString(f.Service.AdditionalInfo.Value), `"sample":true`):
		t.Errorf("%s: additionalInfo does not mark a sample", typ)
	case aws.ToString(f.Title) == "" || aws.ToString(f.Description) == "":
		t.Errorf("%s: no title or description", typ)
	}
	for _, ts := range []string{aws.ToString(f.CreatedAt), aws.ToString(f.UpdatedAt)} {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("%s: timestamp %q: %v", typ, ts, err)
		}
	}
}

func findingsOfType(t *testing.T, c *guardduty.Client, det, typ string) []types.Finding {
	t.Helper()
	var out []types.Finding
	for _, f := range getAll(t, c, det, listAll(t, c, det, nil)) {
		if aws.ToString(f.Type) == typ {
			out = append(out, f)
		}
	}
	return out
}

// listAll pages through ListFindings with the paginator, as users do.
func listAll(t *testing.T, c *guardduty.Client, det string, sort *types.SortCriteria) []string {
	t.Helper()
	var ids []string
	p := guardduty.NewListFindingsPaginator(c, &guardduty.ListFindingsInput{DetectorId: &det, SortCriteria: sort, MaxResults: aws.Int32(17)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.FindingIds) > 17 {
			t.Fatalf("page of %d ids with maxResults 17", len(page.FindingIds))
		}
		ids = append(ids, page.FindingIds...)
	}
	return ids
}

func TestGetFindingsSelection(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := sampleDetector(t, c)
	ids := listAll(t, c, det, nil)
	pick := []string{ids[7], ids[2], "0123456789abcdef0123456789abcdef", ids[9], ids[2], ids[0]}

	out, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: pick})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range out.Findings {
		got = append(got, aws.ToString(f.Id))
	}
	if want := []string{ids[7], ids[2], ids[9], ids[0]}; !slices.Equal(got, want) {
		t.Fatalf("GetFindings order %v, want the asked order without unknown and repeated ids %v", got, want)
	}

	empty, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: []string{}})
	if err != nil || len(empty.Findings) != 0 {
		t.Fatalf("no ids: %v, %v", empty, err)
	}
	// Findings of account A are invisible to account B, even by id.
	detB := createDetector(t, s.clientB())
	outB, err := s.clientB().GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &detB, FindingIds: ids[:5]})
	if err != nil || len(outB.Findings) != 0 {
		t.Fatalf("account B read %d of account A's findings (%v)", len(outB.Findings), err)
	}
	_, err = s.clientB().GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: ids[:5]})
	wantAPIError(t, err, "BadRequestException", msgNotOwned)
}

// sortFixture writes findings whose sort attributes differ in the ways a
// naive comparison gets wrong (9 < 10, 9.0.0.10 < 10.0.0.9, "…00Z" <
// "…00.500Z") and some that lack each attribute.
func sortFixture(t *testing.T, s *testServer, det string) []string {
	t.Helper()
	type vals struct {
		id, account, typ, first, last, created, updated, ip, instance, country, protocol, api, svcName string
		sev, conf                                                                                      float64
		lport, rport, count                                                                            int
		blocked                                                                                        any
	}
	rows := []vals{
		{"a0", accountA, "B:Type", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00.500Z", "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", "10.0.0.9", "i-2", "Brazil", "TCP", "GetObject", "s3.amazonaws.com", 9, 9, 9, 443, 9, true},
		{"a1", accountA, "A:Type", "2024-01-01T00:00:00.500Z", "2024-01-02T00:00:00Z", "2024-01-01T00:00:00.500Z", "2024-02-01T00:00:00Z", "9.0.0.10", "i-10", "Angola", "UDP", "ListBuckets", "iam.amazonaws.com", 10, 10, 10, 80, 10, false},
		{"a2", accountA, "C:Type", "2023-12-31T23:59:59.999Z", "2024-01-03T00:00:00Z", "2023-12-31T23:59:59.999Z", "2024-01-01T00:00:00Z", "200.1.1.1", "i-1", "Chad", "ICMP", "AssumeRole", "sts.amazonaws.com", 2.5, 0.5, 22, 22, 1, nil},
		{"a3", accountA, "A:Type", "", "", "2024-05-05T00:00:00Z", "2024-05-05T00:00:00Z", "", "", "", "", "", "", 5, -1, -1, -1, -1, nil},
		{"a4", accountA, "D:Type", "", "", "2024-05-06T00:00:00Z", "2024-05-06T00:00:00Z", "", "", "", "", "", "", 8, -1, -1, -1, -1, nil},
	}
	var ids []string
	var findings []*guardpost.Finding
	for _, v := range rows {
		id := fmt.Sprintf("%s%030d", v.id, 0)
		ids = append(ids, id)
		svc := map[string]any{"serviceName": "guardduty", "detectorId": det, "archived": false}
		if v.first != "" {
			svc["eventFirstSeen"], svc["eventLastSeen"] = v.first, v.last
		}
		if v.count >= 0 {
			svc["count"] = v.count
		}
		action := map[string]any{}
		if v.ip != "" {
			nca := map[string]any{
				"remoteIpDetails":  map[string]any{"ipAddressV4": v.ip, "country": map[string]any{"countryName": v.country}},
				"localPortDetails": map[string]any{"port": v.lport}, "remotePortDetails": map[string]any{"port": v.rport},
				"protocol": v.protocol,
			}
			if v.blocked != nil {
				nca["blocked"] = v.blocked
			}
			action["networkConnectionAction"] = nca
			action["awsApiCallAction"] = map[string]any{"api": v.api, "serviceName": v.svcName}
		}
		svc["action"] = action
		res := map[string]any{"resourceType": "Instance"}
		if v.instance != "" {
			res["instanceDetails"] = map[string]any{"instanceId": v.instance}
		}
		doc := map[string]any{
			"schemaVersion": "2.0", "accountId": v.account, "region": "us-east-1", "partition": "aws", "id": id,
			"arn":  fmt.Sprintf("arn:aws:guardduty:us-east-1:%s:detector/%s/finding/%s", v.account, det, id),
			"type": v.typ, "severity": v.sev, "createdAt": v.created, "updatedAt": v.updated,
			"resource": res, "service": svc, "title": "t", "description": "d",
		}
		if v.conf >= 0 {
			doc["confidence"] = v.conf
		}
		b, _ := json.Marshal(doc)
		f, err := guardpost.ParseFinding(b)
		if err != nil {
			t.Fatal(err)
		}
		f.AggregationKey = id
		findings = append(findings, f)
	}
	s.writeFindings(t, det, findings)
	return ids
}

// sortValue extracts a sort attribute from an SDK-decoded finding the way
// the API reference defines it: numbers as numbers, times as instants,
// IPv4 addresses numerically. ok is false when the finding lacks it.
func sortValue(t *testing.T, f types.Finding, attr string) (v any, ok bool) {
	t.Helper()
	num := func(p *float64) (any, bool) { return aws.ToFloat64(p), p != nil }
	str := func(p *string) (any, bool) { return aws.ToString(p), p != nil }
	tm := func(p *string) (any, bool) {
		if p == nil {
			return nil, false
		}
		x, err := time.Parse(time.RFC3339Nano, *p)
		if err != nil {
			t.Fatalf("%s %q: %v", attr, *p, err)
		}
		return float64(x.UnixMilli()), true
	}
	var act types.Action
	if f.Service != nil && f.Service.Action != nil {
		act = *f.Service.Action
	}
	nca, api := act.NetworkConnectionAction, act.AwsApiCallAction
	switch attr {
	case "accountId":
		return str(f.AccountId)
	case "severity":
		return num(f.Severity)
	case "confidence":
		return num(f.Confidence)
	case "type":
		return str(f.Type)
	case "createdAt":
		return tm(f.CreatedAt)
	case "updatedAt":
		return tm(f.UpdatedAt)
	case "service.eventFirstSeen":
		return tm(f.Service.EventFirstSeen)
	case "service.eventLastSeen":
		return tm(f.Service.EventLastSeen)
	case "service.count":
		if f.Service.Count == nil {
			return nil, false
		}
		return float64(*f.Service.Count), true
	case "resource.instanceDetails.instanceId":
		if f.Resource.InstanceDetails == nil {
			return nil, false
		}
		return str(f.Resource.InstanceDetails.InstanceId)
	case "service.action.awsApiCallAction.api", "service.action.awsApiCallAction.serviceName":
		if api == nil {
			return nil, false
		}
		if strings.HasSuffix(attr, ".api") {
			return str(api.Api)
		}
		return str(api.ServiceName)
	}
	if nca == nil {
		return nil, false
	}
	switch attr {
	case "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4":
		a, err := netip.ParseAddr(aws.ToString(nca.RemoteIpDetails.IpAddressV4))
		if err != nil {
			t.Fatal(err)
		}
		b := a.As4()
		return float64(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), true
	case "service.action.networkConnectionAction.localPortDetails.port":
		return float64(aws.ToInt32(nca.LocalPortDetails.Port)), true
	case "service.action.networkConnectionAction.remotePortDetails.port":
		return float64(aws.ToInt32(nca.RemotePortDetails.Port)), true
	case "service.action.networkConnectionAction.remoteIpDetails.country.countryName":
		return str(nca.RemoteIpDetails.Country.CountryName)
	case "service.action.networkConnectionAction.protocol":
		return str(nca.Protocol)
	case "service.action.networkConnectionAction.blocked":
		if nca.Blocked == nil {
			return nil, false
		}
		if *nca.Blocked {
			return 1.0, true
		}
		return 0.0, true
	}
	t.Fatalf("test has no accessor for %s", attr)
	return nil, false
}

// checkSorted asserts the findings are in attr order, absent values last.
func checkSorted(t *testing.T, fs []types.Finding, attr string, desc bool) {
	t.Helper()
	absentSeen, distinct := false, map[any]bool{}
	var prev any
	for i, f := range fs {
		v, ok := sortValue(t, f, attr)
		if !ok {
			absentSeen = true
			continue
		}
		distinct[v] = true
		if absentSeen {
			t.Fatalf("%s: finding %d has a value after one that lacks it", attr, i)
		}
		if prev != nil {
			var c int
			switch x := v.(type) {
			case float64:
				c = cmp.Compare(prev.(float64), x)
			case string:
				c = cmp.Compare(prev.(string), x)
			}
			if (!desc && c > 0) || (desc && c < 0) {
				t.Fatalf("%s desc=%t: %v before %v", attr, desc, prev, v)
			}
		}
		prev = v
	}
	// Every finding of one detector has the caller's account id, so that
	// attribute cannot vary here.
	if len(distinct) < 2 && attr != "accountId" {
		t.Fatalf("%s: fixture has %d distinct values, the check proves nothing", attr, len(distinct))
	}
}

func TestSortEveryAttributeBothWays(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := createDetector(t, c)
	ids := sortFixture(t, s, det)
	for _, a := range guardpost.SortAttributes {
		for _, order := range []types.OrderBy{types.OrderByAsc, types.OrderByDesc} {
			t.Run(a.Name+"/"+string(order), func(t *testing.T) {
				sc := &types.SortCriteria{AttributeName: aws.String(a.Name), OrderBy: order}
				out, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: ids, SortCriteria: sc})
				if err != nil {
					t.Fatal(err)
				}
				if len(out.Findings) != len(ids) {
					t.Fatalf("%d findings, want %d", len(out.Findings), len(ids))
				}
				checkSorted(t, out.Findings, a.Name, order == types.OrderByDesc)

				// ListFindings sorts the same way, across pages.
				listed := listAll(t, c, det, sc)
				var got []string
				for _, f := range out.Findings {
					got = append(got, aws.ToString(f.Id))
				}
				if !sortEquivalent(t, out.Findings, listed, a.Name) {
					t.Fatalf("ListFindings order %v differs from GetFindings order %v", listed, got)
				}
			})
		}
	}
	t.Run("unsupported attribute", func(t *testing.T) {
		_, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: ids, SortCriteria: &types.SortCriteria{AttributeName: aws.String("resource.resourceType")}})
		code, msg := apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, "resource.resourceType") {
			t.Fatalf("got %s %q", code, msg)
		}
	})
}

// sortEquivalent reports whether two orders agree on the attribute's value
// at every position (ties may be broken differently).
func sortEquivalent(t *testing.T, fs []types.Finding, listed []string, attr string) bool {
	byID := map[string]types.Finding{}
	for _, f := range fs {
		byID[aws.ToString(f.Id)] = f
	}
	if len(listed) != len(fs) {
		return false
	}
	for i, id := range listed {
		a, aok := sortValue(t, fs[i], attr)
		b, bok := sortValue(t, byID[id], attr)
		if aok != bok || a != b {
			return false
		}
	}
	return true
}
