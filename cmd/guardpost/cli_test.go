package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// awsEnv is an environment that points AWS tools at the test server's
// credentials file (profile a) and nothing of the user's own setup.
func (s *testServer) awsEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_SHARED_CREDENTIALS_FILE="+s.credFile,
		"AWS_CONFIG_FILE="+filepath.Join(s.dir, "no-config"),
		"AWS_PROFILE=a",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// cli runs the AWS CLI against the server and decodes its JSON output.
func (s *testServer) cli(t *testing.T, out any, args ...string) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", s.endpoint(), "--output", "json", "guardduty"}, args...)...)
	cmd.Env = s.awsEnv()
	b, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("aws %v: %v\n%s", args, err, stderr)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("aws %v: output %q: %v", args, b, err)
		}
	}
}

func TestAWSCLIRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the CLI round trip")
	}
	s := startServer(t)
	var created struct{ DetectorId string }
	s.cli(t, &created, "create-detector", "--enable")
	s.cli(t, nil, "create-sample-findings", "--detector-id", created.DetectorId)
	var listed struct{ FindingIds []string }
	s.cli(t, &listed, "list-findings", "--detector-id", created.DetectorId) // the CLI pages through every page
	if len(listed.FindingIds) < 100 {
		t.Fatalf("list-findings returned %d ids", len(listed.FindingIds))
	}
	var got struct {
		Findings []struct {
			Id       string
			Severity float64
			Type     string
		}
	}
	args := append([]string{"get-findings", "--detector-id", created.DetectorId, "--sort-criteria", "AttributeName=severity,OrderBy=DESC", "--finding-ids"}, listed.FindingIds[:40]...)
	s.cli(t, &got, args...)
	if len(got.Findings) != 40 {
		t.Fatalf("get-findings returned %d findings", len(got.Findings))
	}
	sevs := make([]float64, len(got.Findings))
	for i, f := range got.Findings {
		sevs[i] = f.Severity
	}
	if !slices.IsSortedFunc(sevs, func(a, b float64) int { return int(b*10 - a*10) }) || sevs[0] == sevs[len(sevs)-1] {
		t.Fatalf("severities not descending (or all equal): %v", sevs)
	}

	// An error reaches the CLI user as AWS's error line with exit code 255.
	cmd := exec.Command("aws", "--endpoint-url", s.endpoint(), "guardduty", "get-findings", "--detector-id", created.DetectorId,
		"--finding-ids", "x", "--sort-criteria", "AttributeName=nope,OrderBy=DESC")
	cmd.Env = s.awsEnv()
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 255 || !strings.Contains(string(out), "An error occurred (BadRequestException) when calling the GetFindings operation") {
		t.Fatalf("bad sort attribute: exit %v, output %s", err, out)
	}
}

const boto3Script = `
import json, sys, boto3
c = boto3.client("guardduty", endpoint_url=sys.argv[1])
det = c.create_detector(Enable=True)["DetectorId"]
c.create_sample_findings(DetectorId=det, FindingTypes=["Recon:EC2/PortProbeUnprotectedPort", "UnauthorizedAccess:EC2/SSHBruteForce", "Recon:IAMUser/MaliciousIPCaller"])
ids = []
for page in c.get_paginator("list_findings").paginate(DetectorId=det, PaginationConfig={"PageSize": 2}):
    ids += page["FindingIds"]
fs = c.get_findings(DetectorId=det, FindingIds=ids, SortCriteria={"AttributeName": "type", "OrderBy": "ASC"})["Findings"]
try:
    c.get_findings(DetectorId=det, FindingIds=["x"] * 51)
    err = None
except c.exceptions.BadRequestException as e:
    err = e.response["Error"]["Message"]
print(json.dumps({"detector": det, "ids": ids, "types": [f["Type"] for f in fs],
                  "arns": [f["Arn"] for f in fs], "error": err}))
`

func TestBoto3RoundTrip(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 is not installed; skipping the boto3 round trip")
	}
	s := startServer(t)
	cmd := exec.Command("python3", "-c", boto3Script, s.endpoint())
	cmd.Env = s.awsEnv()
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("boto3: %v\n%s", err, stderr)
	}
	var got struct {
		Detector string
		IDs      []string
		Types    []string
		Arns     []string
		Error    *string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("boto3 output %q: %v", out, err)
	}
	want := []string{"Recon:EC2/PortProbeUnprotectedPort", "Recon:IAMUser/MaliciousIPCaller", "UnauthorizedAccess:EC2/SSHBruteForce"}
	if len(got.IDs) != 3 || !slices.Equal(got.Types, want) {
		t.Fatalf("boto3 paged %d ids and read types %v, want %v", len(got.IDs), got.Types, want)
	}
	for _, arn := range got.Arns {
		if !strings.HasPrefix(arn, "arn:aws:guardduty:us-east-1:"+accountA+":detector/"+got.Detector+"/finding/") {
			t.Fatalf("arn %s", arn)
		}
	}
	if got.Error == nil || !strings.Contains(*got.Error, "less than or equal to 50") {
		t.Fatalf("51 ids through boto3: error %v", got.Error)
	}
}

func TestAWSCLICriteriaAndStatistics(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the CLI criteria test")
	}
	s := startServer(t)
	var created struct{ DetectorId string }
	s.cli(t, &created, "create-detector", "--enable")
	det := created.DetectorId
	s.cli(t, nil, "create-sample-findings", "--detector-id", det)

	var all, high struct{ FindingIds []string }
	s.cli(t, &all, "list-findings", "--detector-id", det)
	s.cli(t, &high, "list-findings", "--detector-id", det, "--finding-criteria", `{"Criterion":{"severity":{"GreaterThanOrEqual":7}}}`)
	if len(high.FindingIds) == 0 || len(high.FindingIds) >= len(all.FindingIds) {
		t.Fatalf("severity >= 7 listed %d of %d findings", len(high.FindingIds), len(all.FindingIds))
	}
	for chunk := range slices.Chunk(high.FindingIds, 50) {
		var got struct{ Findings []struct{ Severity float64 } }
		s.cli(t, &got, append([]string{"get-findings", "--detector-id", det, "--finding-ids"}, chunk...)...)
		for _, f := range got.Findings {
			if f.Severity < 7 {
				t.Fatalf("severity %v listed under severity >= 7", f.Severity)
			}
		}
	}

	var stats struct {
		FindingStatistics struct {
			CountBySeverity   map[string]int
			GroupedBySeverity []struct {
				Severity      float64
				TotalFindings int
			}
		}
	}
	s.cli(t, &stats, "get-findings-statistics", "--detector-id", det, "--finding-statistic-types", "COUNT_BY_SEVERITY")
	total := 0
	for _, n := range stats.FindingStatistics.CountBySeverity {
		total += n
	}
	if total != len(all.FindingIds) {
		t.Fatalf("countBySeverity sums to %d, want %d", total, len(all.FindingIds))
	}
	s.cli(t, &stats, "get-findings-statistics", "--detector-id", det, "--group-by", "SEVERITY",
		"--finding-criteria", `{"Criterion":{"severity":{"GreaterThanOrEqual":7}}}`)
	total = 0
	for _, g := range stats.FindingStatistics.GroupedBySeverity {
		if g.Severity < 7 {
			t.Fatalf("group of severity %v under severity >= 7", g.Severity)
		}
		total += g.TotalFindings
	}
	if total != len(high.FindingIds) {
		t.Fatalf("groupedBySeverity sums to %d, want %d", total, len(high.FindingIds))
	}
}

// TestAWSCLIIPSet creates, reads and deletes an IP set with the AWS CLI,
// its list served from loopback.
func TestAWSCLIIPSet(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the CLI round trip")
	}
	s := startServer(t)
	srv := listServer(t, map[string]string{"/ips.txt": "198.51.100.7\n"})
	var created struct{ DetectorId string }
	s.cli(t, &created, "create-detector", "--enable")
	var ipset struct{ IpSetId string }
	s.cli(t, &ipset, "create-ip-set", "--detector-id", created.DetectorId, "--name", "office", "--format", "TXT",
		"--location", srv.URL+"/ips.txt", "--activate")
	var got struct{ Status, Location string }
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.cli(t, &got, "get-ip-set", "--detector-id", created.DetectorId, "--ip-set-id", ipset.IpSetId)
		if got.Status != "ACTIVATING" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got.Status != "ACTIVE" || got.Location != srv.URL+"/ips.txt" {
		t.Fatalf("get-ip-set: %+v", got)
	}
	s.cli(t, nil, "delete-ip-set", "--detector-id", created.DetectorId, "--ip-set-id", ipset.IpSetId)
	var listed struct{ IpSetIds []string }
	s.cli(t, &listed, "list-ip-sets", "--detector-id", created.DetectorId)
	if len(listed.IpSetIds) != 0 {
		t.Fatalf("list-ip-sets after delete: %v", listed.IpSetIds)
	}
}
