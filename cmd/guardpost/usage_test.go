package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
)

// ctLines is n CloudTrail records of account as JSON lines, without a
// final newline, so the bytes the ingest analyses are the body's length.
func ctLines(t *testing.T, account string, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	for i := range n {
		rec := ctRecord("ec2.amazonaws.com", "DescribeInstances", "alice", time.Duration(i)*time.Second, map[string]any{
			"recipientAccountId": account, "userIdentity.accountId": account,
			"userIdentity.arn": "arn:aws:iam::" + account + ":user/alice"})
		line, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.Write(line)
	}
	return b.Bytes()
}

// usageTotals asks one usage statistic through the SDK, following every
// page, and returns the totals by key (feature/key for
// TOP_ACCOUNTS_BY_FEATURE) in the order answered, failing unless every
// total is in unit.
func usageTotals(t *testing.T, c *guardduty.Client, det string, typ types.UsageStatisticType, criteria types.UsageCriteria, unit string, pageSize int32) ([]string, map[string]string) {
	t.Helper()
	in := &guardduty.GetUsageStatisticsInput{DetectorId: &det, UsageStatisticType: typ, UsageCriteria: &criteria}
	if unit != "" {
		in.Unit = &unit
	}
	if pageSize > 0 {
		in.MaxResults = &pageSize
	}
	want := cmpOr(unit, "USD")
	var order []string
	out := map[string]string{}
	add := func(key string, total *types.Total) {
		if aws.ToString(total.Unit) != want {
			t.Fatalf("%s %s: unit %q, want %q", typ, key, aws.ToString(total.Unit), want)
		}
		if _, dup := out[key]; dup {
			t.Fatalf("%s: %s answered twice", typ, key)
		}
		order = append(order, key)
		out[key] = aws.ToString(total.Amount)
	}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("GetUsageStatistics: no end of pages")
		}
		resp, err := c.GetUsageStatistics(context.Background(), in)
		if err != nil {
			t.Fatalf("GetUsageStatistics %s: %v", typ, err)
		}
		before := len(order)
		st := resp.UsageStatistics
		for _, r := range st.SumByAccount {
			add(aws.ToString(r.AccountId), r.Total)
		}
		for _, r := range st.SumByDataSource {
			add(string(r.DataSource), r.Total)
		}
		for _, r := range st.SumByFeature {
			add(string(r.Feature), r.Total)
		}
		for _, r := range st.SumByResource {
			add(aws.ToString(r.Resource), r.Total)
		}
		for _, r := range st.TopResources {
			add(aws.ToString(r.Resource), r.Total)
		}
		for _, f := range st.TopAccountsByFeature {
			for _, a := range f.Accounts {
				add(string(f.Feature)+"/"+aws.ToString(a.AccountId), a.Total)
			}
		}
		if pageSize > 0 && len(order)-before > int(pageSize) && typ != types.UsageStatisticTypeTopAccountsByFeature {
			t.Fatalf("%s: page %d holds %d totals, more than %d", typ, pages, len(order)-before, pageSize)
		}
		if resp.NextToken == nil {
			return order, out
		}
		in.NextToken = resp.NextToken
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sameTotals(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: %s = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
}

// TestUsageStatisticsAfterIngest ingests known CloudTrail volumes through
// the endpoint and reads them back through the SDK: records and bytes
// equal what was sent, per account, for the administrator (its own and
// its member's, which it sent on the member's behalf), for the member
// (its own only) and for an unrelated account (its own only); the USD
// cost is 0.
func TestUsageStatisticsAfterIngest(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b, c := s.clientA(), s.clientB(), s.clientC()
	detA, detB, detC := createDetector(t, a), createDetector(t, b), createDetector(t, c)
	associate(t, a, detA, accountA, b, detB, accountB)

	var recA, bytesA int
	for _, n := range []int{7, 3} { // two ingests add up
		body := ctLines(t, accountA, n)
		if got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", body); got.Accepted != n {
			t.Fatalf("ingest of A: %+v", got)
		}
		recA, bytesA = recA+n, bytesA+len(body)
	}
	bodyB := ctLines(t, accountB, 5) // sent by the administrator
	if got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", bodyB); got.Accepted != 5 {
		t.Fatalf("ingest of B by A: %+v", got)
	}
	bodyC := ctLines(t, accountC, 4)
	if got := s.ingestCloudTrail(t, keyC, secretC, "us-east-1", bodyC); got.Accepted != 4 {
		t.Fatalf("ingest of C: %+v", got)
	}
	// Records the caller may not send are not usage of anyone.
	if got := s.ingestCloudTrail(t, keyB, secretB, "us-east-1", ctLines(t, accountC, 2)); got.Rejected != 2 {
		t.Fatalf("B sending C's records: %+v", got)
	}
	itoa := func(n int) string { return fmt.Sprint(n) }
	ct := types.UsageCriteria{Features: []types.UsageFeature{types.UsageFeatureCloudTrail}}

	_, got := usageTotals(t, a, detA, types.UsageStatisticTypeSumByAccount, ct, "RECORDS", 0)
	sameTotals(t, "administrator's records by account", got, map[string]string{accountA: itoa(recA), accountB: "5"})
	_, got = usageTotals(t, a, detA, types.UsageStatisticTypeSumByAccount, ct, "BYTES", 0)
	sameTotals(t, "administrator's bytes by account", got, map[string]string{accountA: itoa(bytesA), accountB: itoa(len(bodyB))})
	_, got = usageTotals(t, a, detA, types.UsageStatisticTypeSumByAccount, ct, "", 0)
	sameTotals(t, "administrator's cost by account", got, map[string]string{accountA: "0", accountB: "0"})
	withB := ct
	withB.AccountIds = []string{accountB}
	_, got = usageTotals(t, a, detA, types.UsageStatisticTypeSumByAccount, withB, "BYTES", 0)
	sameTotals(t, "administrator asking for its member", got, map[string]string{accountB: itoa(len(bodyB))})
	_, got = usageTotals(t, a, detA, types.UsageStatisticTypeSumByDataSource, types.UsageCriteria{DataSources: []types.DataSource{types.DataSourceCloudTrail}}, "RECORDS", 0)
	sameTotals(t, "administrator by data source", got, map[string]string{"CLOUD_TRAIL": itoa(recA + 5)})
	_, got = usageTotals(t, a, detA, types.UsageStatisticTypeSumByFeatures,
		types.UsageCriteria{Features: []types.UsageFeature{types.UsageFeatureCloudTrail, types.UsageFeatureFlowLogs}}, "BYTES", 0)
	sameTotals(t, "administrator by feature", got, map[string]string{"CLOUD_TRAIL": itoa(bytesA + len(bodyB))})
	order, got := usageTotals(t, a, detA, types.UsageStatisticTypeTopAccountsByFeature, ct, "RECORDS", 0)
	sameTotals(t, "top accounts", got, map[string]string{"CLOUD_TRAIL/" + accountA: itoa(recA), "CLOUD_TRAIL/" + accountB: "5"})
	if !slices.Equal(order, []string{"CLOUD_TRAIL/" + accountA, "CLOUD_TRAIL/" + accountB}) {
		t.Fatalf("top accounts in order %v, want the larger first", order)
	}

	_, got = usageTotals(t, b, detB, types.UsageStatisticTypeSumByAccount, ct, "BYTES", 0)
	sameTotals(t, "member's own usage", got, map[string]string{accountB: itoa(len(bodyB))})
	_, got = usageTotals(t, c, detC, types.UsageStatisticTypeSumByAccount, ct, "RECORDS", 0)
	sameTotals(t, "unrelated account's usage", got, map[string]string{accountC: "4"})
	_, got = usageTotals(t, c, detC, types.UsageStatisticTypeSumByDataSource, types.UsageCriteria{DataSources: []types.DataSource{types.DataSourceFlowLogs}}, "RECORDS", 0)
	sameTotals(t, "a data source nothing analysed", got, map[string]string{})
	// The asked statistic is an empty list then, the others absent.
	raw := s.doAs(keyC, secretC, "us-east-1", "guardduty", "POST", "/detector/"+detC+"/usage/statistics",
		`{"usageStatisticsType":"SUM_BY_DATA_SOURCE","usageCriteria":{"dataSources":["FLOW_LOGS"]}}`)
	if raw.Status != http.StatusOK || string(raw.Body) != `{"usageStatistics":{"sumByDataSource":[]}}` {
		t.Fatalf("empty statistic: %d %s", raw.Status, raw.Body)
	}

	// Accounts the caller does not see are refused, not silently empty.
	for _, tc := range []struct {
		c       *guardduty.Client
		det, of string
	}{{a, detA, accountC}, {b, detB, accountA}, {c, detC, accountB}} {
		_, err := tc.c.GetUsageStatistics(ctx, &guardduty.GetUsageStatisticsInput{DetectorId: &tc.det,
			UsageStatisticType: types.UsageStatisticTypeSumByAccount,
			UsageCriteria:      &types.UsageCriteria{AccountIds: []string{tc.of}, Features: ct.Features}})
		code, msg := apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, tc.of) {
			t.Fatalf("usage of %s as another account: %s %q", tc.of, code, msg)
		}
	}

	// A member that is no longer monitored drops out of the administrator's view.
	if _, err := a.StopMonitoringMembers(ctx, &guardduty.StopMonitoringMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	_, got = usageTotals(t, a, detA, types.UsageStatisticTypeSumByAccount, ct, "RECORDS", 0)
	sameTotals(t, "administrator after StopMonitoringMembers", got, map[string]string{accountA: itoa(recA)})
}

// TestUsageStatisticsByResource checks the resource statistics, the
// resources criterion and pagination on totals recorded the way the flow
// and DNS ingests record them (per instance).
func TestUsageStatisticsByResource(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)
	scope := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	now := time.Now()
	var usage []guardpost.UsageRecord
	for i := range 60 {
		// i-000 is the largest; each record is counted in two parts.
		id := fmt.Sprintf("i-%03d", i)
		usage = append(usage,
			guardpost.UsageRecord{Feature: "FLOW_LOGS", ResourceID: id, Records: int64(100 - i), Bytes: int64(10000 - 100*i)},
			guardpost.UsageRecord{Feature: "FLOW_LOGS", ResourceID: id, Records: 1, Bytes: 1})
	}
	usage = append(usage, guardpost.UsageRecord{Feature: "DNS_LOGS", ResourceID: "i-000", Records: 9, Bytes: 900})
	if err := s.service.RecordUsage(context.Background(), scope, det, now, usage); err != nil {
		t.Fatal(err)
	}
	// Usage older than the 30-day window is not reported.
	if err := s.service.RecordUsage(context.Background(), scope, det, now.AddDate(0, 0, -31),
		[]guardpost.UsageRecord{{Feature: "FLOW_LOGS", ResourceID: "i-old", Records: 1, Bytes: 1}}); err != nil {
		t.Fatal(err)
	}
	flow := types.UsageCriteria{Features: []types.UsageFeature{types.UsageFeatureFlowLogs}}
	order, got := usageTotals(t, a, det, types.UsageStatisticTypeSumByResource, flow, "RECORDS", 7)
	if len(got) != 60 || got["i-000"] != "101" || got["i-059"] != "42" || got["i-old"] != "" {
		t.Fatalf("sum by resource over pages of 7: %d totals, i-000 %q, i-059 %q, i-old %q", len(got), got["i-000"], got["i-059"], got["i-old"])
	}
	if !slices.IsSorted(order) {
		t.Fatalf("sum by resource not in resource order: %v", order)
	}
	// A page resumes after the last resource listed, even when a resource
	// sorting before it appeared meanwhile.
	first, err := a.GetUsageStatistics(context.Background(), &guardduty.GetUsageStatisticsInput{DetectorId: &det,
		UsageStatisticType: types.UsageStatisticTypeSumByResource, UsageCriteria: &flow, MaxResults: aws.Int32(2)})
	if err != nil || len(first.UsageStatistics.SumByResource) != 2 || first.NextToken == nil {
		t.Fatalf("first page: %v %+v", err, first)
	}
	if err := s.service.RecordUsage(context.Background(), scope, det, now,
		[]guardpost.UsageRecord{{Feature: "FLOW_LOGS", ResourceID: "i-0005", Records: 1, Bytes: 1}}); err != nil {
		t.Fatal(err)
	}
	second, err := a.GetUsageStatistics(context.Background(), &guardduty.GetUsageStatisticsInput{DetectorId: &det,
		UsageStatisticType: types.UsageStatisticTypeSumByResource, UsageCriteria: &flow, MaxResults: aws.Int32(2), NextToken: first.NextToken})
	if err != nil || aws.ToString(second.UsageStatistics.SumByResource[0].Resource) != "i-002" {
		t.Fatalf("second page after i-0005 appeared: %v %+v", err, second)
	}
	order, got = usageTotals(t, a, det, types.UsageStatisticTypeTopResources, flow, "BYTES", 0)
	if len(order) != 50 || order[0] != "i-000" || order[49] != "i-049" || got["i-000"] != "10001" {
		t.Fatalf("top resources: %d, first %v, i-000 %q", len(order), order[:min(3, len(order))], got["i-000"])
	}
	flow.Resources = []string{"i-000", "i-005", "i-nothing"}
	_, got = usageTotals(t, a, det, types.UsageStatisticTypeSumByResource, flow, "BYTES", 0)
	sameTotals(t, "resources criterion", got, map[string]string{"i-000": "10001", "i-005": "9501"})
	_, got = usageTotals(t, a, det, types.UsageStatisticTypeSumByFeatures,
		types.UsageCriteria{Features: []types.UsageFeature{types.UsageFeatureFlowLogs, types.UsageFeatureDnsLogs}, Resources: []string{"i-000"}}, "RECORDS", 0)
	sameTotals(t, "features of one resource", got, map[string]string{"FLOW_LOGS": "101", "DNS_LOGS": "9"})
}

// TestUsageStatisticsValidation: what the caller must fix answers 400
// BadRequestException with a message saying what.
func TestUsageStatisticsValidation(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	ct := []types.UsageFeature{types.UsageFeatureCloudTrail}
	for _, tc := range []struct {
		name string
		in   guardduty.GetUsageStatisticsInput
		want string
	}{
		{"no features", guardduty.GetUsageStatisticsInput{UsageStatisticType: types.UsageStatisticTypeSumByAccount, UsageCriteria: &types.UsageCriteria{}}, "names no features"},
		{"features and data sources", guardduty.GetUsageStatisticsInput{UsageStatisticType: types.UsageStatisticTypeSumByAccount,
			UsageCriteria: &types.UsageCriteria{Features: ct, DataSources: []types.DataSource{types.DataSourceCloudTrail}}}, "both features and dataSources"},
		{"data sources for SUM_BY_FEATURES", guardduty.GetUsageStatisticsInput{UsageStatisticType: types.UsageStatisticTypeSumByFeatures,
			UsageCriteria: &types.UsageCriteria{DataSources: []types.DataSource{types.DataSourceCloudTrail}}}, "needs usageCriteria.features"},
		{"a feature without a data source", guardduty.GetUsageStatisticsInput{UsageStatisticType: types.UsageStatisticTypeSumByDataSource,
			UsageCriteria: &types.UsageCriteria{Features: []types.UsageFeature{types.UsageFeatureRdsLoginEvents}}}, "no data source"},
		{"unknown unit", guardduty.GetUsageStatisticsInput{UsageStatisticType: types.UsageStatisticTypeSumByAccount,
			UsageCriteria: &types.UsageCriteria{Features: ct}, Unit: aws.String("EUR")}, "BYTES or RECORDS"},
		{"foreign token", guardduty.GetUsageStatisticsInput{UsageStatisticType: types.UsageStatisticTypeSumByAccount,
			UsageCriteria: &types.UsageCriteria{Features: ct}, NextToken: aws.String("bm90LWEtdG9rZW4.AAAA")}, "nextToken is invalid"},
	} {
		in := tc.in
		in.DetectorId = &det
		_, err := a.GetUsageStatistics(ctx, &in)
		code, msg := apiError(t, err)
		if code != "BadRequestException" || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %s %q, want BadRequestException saying %q", tc.name, code, msg, tc.want)
		}
	}
	// The model's own constraints (required members, enums) come first.
	for _, body := range []string{`{"usageCriteria":{"features":["CLOUD_TRAIL"]}}`,
		`{"usageStatisticsType":"SUM_BY_DAY","usageCriteria":{"features":["CLOUD_TRAIL"]}}`,
		`{"usageStatisticsType":"SUM_BY_ACCOUNT","usageCriteria":{"features":["COFFEE"]}}`,
		`{"usageStatisticsType":"SUM_BY_ACCOUNT","usageCriteria":{"features":["CLOUD_TRAIL"]},"maxResults":0}`} {
		r := s.do("POST", "/detector/"+det+"/usage/statistics", body)
		if r.Status != http.StatusBadRequest || r.Header.Get("X-Amzn-ErrorType") == "" {
			t.Errorf("%s: %d %s", body, r.Status, r.Body)
		}
	}
	// Another account's detector is not the caller's.
	_, err := s.clientB().GetUsageStatistics(ctx, &guardduty.GetUsageStatisticsInput{DetectorId: &det,
		UsageStatisticType: types.UsageStatisticTypeSumByAccount, UsageCriteria: &types.UsageCriteria{Features: ct}})
	wantAPIError(t, err, "BadRequestException", msgNotOwned)
}

// TestRemainingFreeTrialDays: guardpost is free, so the trial never runs
// out: the caller and the members it administers have 30 days left on
// every data source and feature; other accounts are unprocessed.
func TestRemainingFreeTrialDays(t *testing.T) {
	s := startServer3(t)
	ctx := context.Background()
	a, b, c := s.clientA(), s.clientB(), s.clientC()
	detA, detB := createDetector(t, a), createDetector(t, b)
	createDetector(t, c)
	associate(t, a, detA, accountA, b, detB, accountB)
	resp, err := a.GetRemainingFreeTrialDays(ctx, &guardduty.GetRemainingFreeTrialDaysInput{DetectorId: &detA,
		AccountIds: []string{accountA, accountB, accountC, accountA}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, acct := range resp.Accounts {
		got = append(got, aws.ToString(acct.AccountId))
		ds := acct.DataSources
		for name, d := range map[string]*types.DataSourceFreeTrial{"cloudTrail": ds.CloudTrail, "flowLogs": ds.FlowLogs, "dnsLogs": ds.DnsLogs,
			"s3Logs": ds.S3Logs, "kubernetes.auditLogs": ds.Kubernetes.AuditLogs, "malwareProtection": ds.MalwareProtection.ScanEc2InstanceWithFindings} {
			if aws.ToInt32(d.FreeTrialDaysRemaining) != 30 {
				t.Errorf("%s %s: %d days", aws.ToString(acct.AccountId), name, aws.ToInt32(d.FreeTrialDaysRemaining))
			}
		}
		features := map[types.FreeTrialFeatureResult]int32{}
		for _, f := range acct.Features {
			features[f.Name] = aws.ToInt32(f.FreeTrialDaysRemaining)
		}
		for _, f := range []types.FreeTrialFeatureResult{types.FreeTrialFeatureResultCloudTrail, types.FreeTrialFeatureResultFlowLogs, types.FreeTrialFeatureResultDnsLogs} {
			if features[f] != 30 {
				t.Errorf("%s feature %s: %d days (all: %v)", aws.ToString(acct.AccountId), f, features[f], features)
			}
		}
	}
	if !slices.Equal(got, []string{accountA, accountB}) {
		t.Fatalf("accounts %v, want A and its member B", got)
	}
	if u := unprocessedResults(resp.UnprocessedAccounts); len(u) != 1 || u[accountC] == "" {
		t.Fatalf("unprocessed %v, want C only", u)
	}
	// The member sees itself, not its administrator.
	resp, err = b.GetRemainingFreeTrialDays(ctx, &guardduty.GetRemainingFreeTrialDaysInput{DetectorId: &detB, AccountIds: []string{accountB, accountA}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Accounts) != 1 || aws.ToString(resp.Accounts[0].AccountId) != accountB || unprocessedResults(resp.UnprocessedAccounts)[accountA] == "" {
		t.Fatalf("member: %+v unprocessed %v", resp.Accounts, unprocessedResults(resp.UnprocessedAccounts))
	}
	_, err = c.GetRemainingFreeTrialDays(ctx, &guardduty.GetRemainingFreeTrialDaysInput{DetectorId: &detA, AccountIds: []string{accountC}})
	wantAPIError(t, err, "BadRequestException", msgNotOwned)
}

// TestAWSCLIUsage: the stock AWS CLI asks guardpost's unit extension
// (--unit BYTES) and reads the bytes ingested; the default unit answers
// the cost, 0 USD.
func TestAWSCLIUsage(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed")
	}
	s := startServer(t)
	det := createDetector(t, s.clientA())
	body := ctLines(t, accountA, 12)
	if got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", body); got.Accepted != 12 {
		t.Fatalf("ingest: %+v", got)
	}
	usage := func(args ...string) []map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", s.endpoint(), "--output", "json", "guardduty", "get-usage-statistics",
			"--detector-id", det, "--usage-statistic-type", "SUM_BY_DATA_SOURCE", "--usage-criteria", `{"DataSources":["CLOUD_TRAIL"]}`}, args...)...)
		cmd.Env = append(s.awsEnv(), "AWS_PROFILE=a")
		b, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws get-usage-statistics %v: %v\n%s", args, err, stderr)
		}
		var out struct {
			UsageStatistics struct{ SumByDataSource []map[string]any }
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("output %q: %v", b, err)
		}
		return out.UsageStatistics.SumByDataSource
	}
	want := fmt.Sprintf(`[{"DataSource":"CLOUD_TRAIL","Total":{"Amount":"%d","Unit":"BYTES"}}]`, len(body))
	if got, _ := json.Marshal(usage("--unit", "BYTES")); string(got) != want {
		t.Fatalf("--unit BYTES: %s, want %s", got, want)
	}
	if got, _ := json.Marshal(usage()); string(got) != `[{"DataSource":"CLOUD_TRAIL","Total":{"Amount":"0","Unit":"USD"}}]` {
		t.Fatalf("default unit: %s", got)
	}
}
