package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/guardpost/guardpost"
)

// evidenceAnswer is the evidence endpoint's answer as a client reads it.
type evidenceAnswer struct {
	FindingID, DetectorID, AccountID, Region, Type string
	Occurrences, RecordCount, OmittedRecords       int64
	Records                                        []struct {
		Index     int64
		Size      int
		Truncated bool
		Record    json.RawMessage
	}
}

// evidence reads a finding's evidence as key's account in region with a
// request signed by the SDK's SigV4 signer; the raw answer is returned too.
func (s *testServer) evidence(t *testing.T, key, secret, region, det, id string) (evidenceAnswer, rawResponse) {
	t.Helper()
	r := s.doAs(key, secret, region, "guardduty", "GET", guardpost.EvidencePath(det, id), "")
	var out evidenceAnswer
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("evidence answer %s: %v", r.Body, err)
		}
	}
	return out, r
}

// rootCalls are n records of root calling DescribeInstances, each with
// its own event id ("evt-<from+i>") and time.
func rootCalls(from, n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		k := from + i
		out[i] = ctRecord("ec2.amazonaws.com", "DescribeInstances", "root", time.Duration(k)*time.Minute, map[string]any{
			"userIdentity.type": "Root", "userIdentity.arn": "arn:aws:iam::" + accountA + ":root", "userIdentity.userName": nil,
			"eventID": fmt.Sprintf("evt-%03d", k)})
	}
	return out
}

// wantRecords checks that the answer keeps exactly the given records (as
// their JSON encodings, the bytes the log file carried) at the given
// indexes.
func wantRecords(t *testing.T, got evidenceAnswer, want map[int64]map[string]any) {
	t.Helper()
	if len(got.Records) != len(want) {
		t.Fatalf("%d records kept, want %d: %+v", len(got.Records), len(want), got.Records)
	}
	for _, r := range got.Records {
		rec, ok := want[r.Index]
		if !ok {
			t.Fatalf("record at index %d kept, want indexes %v", r.Index, keysOf(want))
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Record, b) || r.Size != len(b) || r.Truncated {
			t.Fatalf("record %d: %s (size %d, truncated %t), want the record as sent: %s", r.Index, r.Record, r.Size, r.Truncated, b)
		}
	}
}

func keysOf(m map[int64]map[string]any) []int64 {
	var out []int64
	for k := range m {
		out = append(out, k)
	}
	return out
}

// summaryOf decodes a finding's additionalInfo value.
func summaryOf(t *testing.T, c *guardduty.Client, det, id string) map[string]any {
	t.Helper()
	fs := getAll(t, c, det, []string{id})
	if len(fs) != 1 || fs[0].Service == nil || fs[0].Service.AdditionalInfo == nil {
		t.Fatalf("finding %s: no additionalInfo", id)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(fs[0].Service.AdditionalInfo.Value)), &out); err != nil {
		t.Fatalf("additionalInfo value %q: %v", aws.ToString(fs[0].Service.AdditionalInfo.Value), err)
	}
	return out
}

// TestEvidenceCloudTrail: the records that made a CloudTrail finding are
// its evidence, byte for byte, and its additionalInfo summarises them.
func TestEvidenceCloudTrail(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)
	root := rootCalls(0, 3)
	benign := ctRecord("ec2.amazonaws.com", "DescribeInstances", "alice", time.Minute, map[string]any{"eventID": "evt-alice"})
	res := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, root[0], benign, root[1], root[2]))
	if res.FindingsCreated != 1 {
		t.Fatalf("ingest: %+v, want one finding", res)
	}
	fs := detectedOfType(t, a, det, "Policy:IAMUser/RootCredentialUsage")
	if len(fs) != 1 {
		t.Fatalf("%d root findings", len(fs))
	}
	id := aws.ToString(fs[0].Id)
	got, r := s.evidence(t, keyA, secretA, "us-east-1", det, id)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("evidence: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	if got.FindingID != id || got.DetectorID != det || got.AccountID != accountA || got.Region != "us-east-1" ||
		got.Type != "Policy:IAMUser/RootCredentialUsage" || got.Occurrences != 3 || got.RecordCount != 3 || got.OmittedRecords != 0 {
		t.Fatalf("evidence header: %+v", got)
	}
	wantRecords(t, got, map[int64]map[string]any{0: root[0], 1: root[1], 2: root[2]})

	sum := summaryOf(t, a, det, id)
	ev, _ := sum["evidence"].(map[string]any)
	if sum["eventID"] != "evt-002" || sum["firstEventID"] != "evt-000" || ev["records"] != 3.0 || ev["path"] != guardpost.EvidencePath(det, id) {
		t.Fatalf("additionalInfo summary %v", sum)
	}

	// JSON lines, gzip and a log file alike keep the bytes as sent.
	line, _ := json.Marshal(rootCalls(3, 1)[0])
	s.ingestCloudTrail(t, keyA, secretA, "us-east-1", append(append([]byte("\n  "), line...), "  \n"...))
	got, _ = s.evidence(t, keyA, secretA, "us-east-1", det, id)
	if got.RecordCount != 4 || string(got.Records[3].Record) != string(line) {
		t.Fatalf("after a JSON line: %d records, last %s, want %s", got.RecordCount, got.Records[len(got.Records)-1].Record, line)
	}
}

// TestEvidenceAggregation: occurrences over several ingests land on one
// finding, whose evidence keeps the first and the latest five records
// across them and counts them all; the summary follows.
func TestEvidenceAggregation(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)
	all := rootCalls(0, 16)
	// 3, then 12 in one file (of which the ingest itself keeps the first
	// and latest five), then 1.
	for _, part := range [][]map[string]any{all[:3], all[3:15], all[15:]} {
		s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, part...))
	}
	fs := detectedOfType(t, a, det, "Policy:IAMUser/RootCredentialUsage")
	if len(fs) != 1 || aws.ToInt32(fs[0].Service.Count) != 16 {
		t.Fatalf("%d root findings (count %v), want one of 16", len(fs), fs)
	}
	id := aws.ToString(fs[0].Id)
	got, r := s.evidence(t, keyA, secretA, "us-east-1", det, id)
	if r.Status != http.StatusOK {
		t.Fatalf("evidence: %d %s", r.Status, r.Body)
	}
	if got.Occurrences != 16 || got.RecordCount != 16 || got.OmittedRecords != 6 {
		t.Fatalf("evidence header: %+v", got)
	}
	want := map[int64]map[string]any{}
	for _, i := range []int64{0, 1, 2, 3, 4, 11, 12, 13, 14, 15} {
		want[i] = all[i]
	}
	wantRecords(t, got, want)
	sum := summaryOf(t, a, det, id)
	ev, _ := sum["evidence"].(map[string]any)
	if sum["eventID"] != "evt-015" || sum["firstEventID"] != "evt-000" || ev["records"] != 16.0 || ev["path"] != guardpost.EvidencePath(det, id) {
		t.Fatalf("additionalInfo summary after aggregation %v", sum)
	}
}

// TestEvidenceVisibility: an administrator reads a monitored member's
// evidence (through its own detector) until the member is disassociated;
// any other caller, and the owner in another region, gets the answer of a
// finding that never existed.
func TestEvidenceVisibility(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a, b := s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), createDetector(t, b)
	s.ingestCloudTrail(t, keyB, secretB, "us-east-1", logFile(t, memberRoot(rootCalls(0, 2))...))
	fs := detectedOfType(t, b, detB, "Policy:IAMUser/RootCredentialUsage")
	if len(fs) != 1 {
		t.Fatalf("%d member findings", len(fs))
	}
	id := aws.ToString(fs[0].Id)
	if got, r := s.evidence(t, keyB, secretB, "us-east-1", detB, id); r.Status != http.StatusOK || got.RecordCount != 2 {
		t.Fatalf("owner: %d %s", r.Status, r.Body)
	}

	// Before any association, A sees nothing of B's, exactly as nothing.
	never := guardpost.NewID()
	sameAsNever := func(what, key, secret, region, det, neverDet string) {
		t.Helper()
		_, got := s.evidence(t, key, secret, region, det, id)
		_, want := s.evidence(t, key, secret, region, neverDet, never)
		gotBody := strings.NewReplacer(id, "<id>", det, "<det>").Replace(string(got.Body))
		wantBody := strings.NewReplacer(never, "<id>", neverDet, "<det>").Replace(string(want.Body))
		if got.Status != want.Status || got.Header.Get("X-Amzn-ErrorType") != want.Header.Get("X-Amzn-ErrorType") || gotBody != wantBody {
			t.Errorf("%s: %d %s %s; a finding that never existed: %d %s %s", what, got.Status, got.Header.Get("X-Amzn-ErrorType"), gotBody,
				want.Status, want.Header.Get("X-Amzn-ErrorType"), wantBody)
		}
		if got.Status == http.StatusOK {
			t.Errorf("%s: evidence answered", what)
		}
	}
	sameAsNever("account A through its own detector", keyA, secretA, "us-east-1", detA, detA)
	sameAsNever("account A through B's detector", keyA, secretA, "us-east-1", detB, guardpost.NewID())
	detBWest := createDetector(t, s.client(keyB, secretB, "us-west-2"))
	sameAsNever("account B in another region", keyB, secretB, "us-west-2", detBWest, detBWest)
	sameAsNever("account B in another region, naming its us-east-1 detector", keyB, secretB, "us-west-2", detB, guardpost.NewID())
	_, r := s.evidence(t, keyA, secretA, "us-east-1", detA, never)
	if typ, msg := r.errorBody(t); r.Status != http.StatusNotFound || typ != "ResourceNotFoundException" || !strings.Contains(msg, "findingId") {
		t.Fatalf("unknown finding: %d %s %s", r.Status, typ, msg)
	}

	associate(t, a, detA, accountA, b, detB, accountB)
	got, r := s.evidence(t, keyA, secretA, "us-east-1", detA, id)
	if r.Status != http.StatusOK || got.AccountID != accountB || got.DetectorID != detB || got.RecordCount != 2 {
		t.Fatalf("administrator: %d %s", r.Status, r.Body)
	}
	if _, err := a.DisassociateMembers(ctx, &guardduty.DisassociateMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	sameAsNever("the administrator after disassociation", keyA, secretA, "us-east-1", detA, detA)
}

// memberRoot makes records account B's (root of B, delivered to B).
func memberRoot(recs []map[string]any) []map[string]any {
	for _, r := range recs {
		r["recipientAccountId"] = accountB
		r["userIdentity"].(map[string]any)["accountId"] = accountB
		r["userIdentity"].(map[string]any)["arn"] = "arn:aws:iam::" + accountB + ":root"
	}
	return recs
}

// TestEvidenceBadRequests: the evidence endpoint answers bad requests in
// the AWS error shape.
func TestEvidenceBadRequests(t *testing.T) {
	s := startServer(t)
	det := createDetector(t, s.clientA())
	long := strings.Repeat("f", 301)
	r := s.do("GET", guardpost.EvidencePath(det, long), "")
	if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || typ != "BadRequestException" || !strings.Contains(msg, "findingId") {
		t.Fatalf("long finding id: %d %s %s", r.Status, typ, msg)
	}
	r = s.do("GET", guardpost.EvidencePath(guardpost.NewID(), guardpost.NewID()), "")
	if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || typ != "BadRequestException" || !strings.Contains(msg, "detectorId is not owned") {
		t.Fatalf("unknown detector: %d %s %s", r.Status, typ, msg)
	}
	// Unsigned: refused like any GuardDuty call.
	req, _ := http.NewRequest("GET", s.endpoint()+guardpost.EvidencePath(det, guardpost.NewID()), nil)
	r = s.send(req)
	if typ, _ := r.errorBody(t); r.Status != http.StatusForbidden || typ == "" {
		t.Fatalf("unsigned: %d %s", r.Status, r.Body)
	}
}
