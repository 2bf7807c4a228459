package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/guardpost/guardpost/audit"
)

// auditCall is one SDK call the audit log must show.
type auditCall struct {
	name      string // the operation
	requestID string
	account   string
	key       string
	profile   string
	err       error          // the SDK's error; nil for a success
	params    map[string]any // members requestParameters must carry
	response  map[string]any // members responseElements must carry; nil: null
}

// record runs one GuardDuty call through the SDK and notes what its audit
// record must say.
func record(t *testing.T, calls *[]auditCall, c auditCall, run func() (middleware.Metadata, error)) {
	t.Helper()
	md, err := run()
	if err != nil {
		var re *awshttp.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("%s: %v", c.name, err)
		}
		c.requestID = re.ServiceRequestID()
	} else {
		c.requestID, _ = awsmiddleware.GetRequestIDMetadata(md)
	}
	if c.requestID == "" {
		t.Fatalf("%s: no request id", c.name)
	}
	c.err = err
	*calls = append(*calls, c)
}

// readAudit parses every record of a data directory's audit log with Go
// into the struct mirroring CloudTrail's record, refusing fields the
// struct does not declare.
func readAudit(t *testing.T, dataDir string) []audit.Record {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "audit", "audit-*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no audit files in %s (%v)", dataDir, err)
	}
	var recs []audit.Record
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.DisallowUnknownFields()
			var r audit.Record
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("%s: %v: %s", name, err, sc.Bytes())
			}
			recs = append(recs, r)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestAuditLogRecordsCalls performs archive, feedback, filter and member
// calls as two accounts through the Go SDK, some failing, and finds each
// as a CloudTrail record with the caller's identity (the one STS reports),
// its parameters and its outcome.
func TestAuditLogRecordsCalls(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	started := time.Now().UTC().Truncate(time.Second)
	var calls []auditCall
	type account struct {
		c                     *guardduty.Client
		id, key, secret, prof string
		det                   string
	}
	accounts := []*account{
		{c: s.clientA(), id: accountA, key: keyA, secret: secretA, prof: "a"},
		{c: s.clientB(), id: accountB, key: keyB, secret: secretB, prof: "b"},
	}
	for _, a := range accounts {
		call := func(name string, params, response map[string]any, run func() (middleware.Metadata, error)) {
			t.Helper()
			record(t, &calls, auditCall{name: name, account: a.id, key: a.key, profile: a.prof, params: params, response: response}, run)
		}
		var det string
		call("CreateDetector", map[string]any{"enable": true}, map[string]any{}, func() (middleware.Metadata, error) {
			out, err := a.c.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
			if err != nil {
				return middleware.Metadata{}, err
			}
			det = aws.ToString(out.DetectorId)
			return out.ResultMetadata, nil
		})
		calls[len(calls)-1].response = map[string]any{"detectorId": det}
		a.det = det
		sampleTypes := []string{"Recon:EC2/PortProbeUnprotectedPort", "UnauthorizedAccess:EC2/SSHBruteForce"}
		call("CreateSampleFindings", map[string]any{"detectorId": det, "findingTypes": sampleTypes}, nil, func() (middleware.Metadata, error) {
			out, err := a.c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: sampleTypes})
			return metadata(out, err)
		})
		ids := listAll(t, a.c, det, nil) // reads: not recorded without --audit-reads
		if len(ids) != 2 {
			t.Fatalf("%d findings, want 2", len(ids))
		}
		call("ArchiveFindings", map[string]any{"detectorId": det, "findingIds": ids[:1]}, nil, func() (middleware.Metadata, error) {
			out, err := a.c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: ids[:1]})
			return metadata(out, err)
		})
		call("UnarchiveFindings", map[string]any{"detectorId": det, "findingIds": ids[:1]}, nil, func() (middleware.Metadata, error) {
			out, err := a.c.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: &det, FindingIds: ids[:1]})
			return metadata(out, err)
		})
		// comments are a sensitive member: hidden, as CloudTrail hides them.
		call("UpdateFindingsFeedback", map[string]any{"detectorId": det, "findingIds": ids, "feedback": "USEFUL",
			"comments": "HIDDEN_DUE_TO_SECURITY_REASONS"}, nil, func() (middleware.Metadata, error) {
			out, err := a.c.UpdateFindingsFeedback(ctx, &guardduty.UpdateFindingsFeedbackInput{DetectorId: &det, FindingIds: ids,
				Feedback: types.FeedbackUseful, Comments: aws.String("secret comment " + a.prof)})
			return metadata(out, err)
		})
		criteria := &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(4)}}}
		name := "audit-" + a.prof
		call("CreateFilter", map[string]any{"detectorId": det, "name": name, "action": "ARCHIVE", "rank": 1,
			"findingCriteria": map[string]any{"criterion": map[string]any{"severity": map[string]any{"greaterThanOrEqual": 4}}}},
			map[string]any{"name": name}, func() (middleware.Metadata, error) {
				out, err := a.c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: &name, Action: types.FilterActionArchive,
					Rank: aws.Int32(1), FindingCriteria: criteria})
				return metadata(out, err)
			})
		call("UpdateFilter", map[string]any{"detectorId": det, "filterName": name, "description": "updated"},
			map[string]any{"name": name}, func() (middleware.Metadata, error) {
				out, err := a.c.UpdateFilter(ctx, &guardduty.UpdateFilterInput{DetectorId: &det, FilterName: &name, Description: aws.String("updated")})
				return metadata(out, err)
			})
		call("DeleteFilter", map[string]any{"detectorId": det, "filterName": name}, nil, func() (middleware.Metadata, error) {
			out, err := a.c.DeleteFilter(ctx, &guardduty.DeleteFilterInput{DetectorId: &det, FilterName: &name})
			return metadata(out, err)
		})
		// Fails: the filter is gone.
		call("DeleteFilter", map[string]any{"detectorId": det, "filterName": name}, nil, func() (middleware.Metadata, error) {
			out, err := a.c.DeleteFilter(ctx, &guardduty.DeleteFilterInput{DetectorId: &det, FilterName: &name})
			return metadata(out, err)
		})
		// Fails validation: a name with a space.
		call("CreateFilter", map[string]any{"detectorId": det, "name": "bad name"}, nil, func() (middleware.Metadata, error) {
			out, err := a.c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("bad name"), FindingCriteria: criteria})
			return metadata(out, err)
		})
		// Member calls: the e-mail address is sensitive.
		call("CreateMembers", map[string]any{"detectorId": det, "accountDetails": []any{map[string]any{"accountId": "999988887777",
			"email": "HIDDEN_DUE_TO_SECURITY_REASONS"}}}, map[string]any{"unprocessedAccounts": []any{}}, func() (middleware.Metadata, error) {
			out, err := a.c.CreateMembers(ctx, &guardduty.CreateMembersInput{DetectorId: &det,
				AccountDetails: []types.AccountDetail{{AccountId: aws.String("999988887777"), Email: aws.String("member@example.com")}}})
			return metadata(out, err)
		})
	}
	// B archives A's findings with A's detector id: refused, and recorded
	// as B's failed call.
	a, b := accounts[0], accounts[1]
	record(t, &calls, auditCall{name: "ArchiveFindings", account: b.id, key: b.key, profile: b.prof,
		params: map[string]any{"detectorId": a.det, "findingIds": []string{"0123456789abcdef0123456789abcdef"}}}, func() (middleware.Metadata, error) {
		out, err := b.c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &a.det, FindingIds: []string{"0123456789abcdef0123456789abcdef"}})
		return metadata(out, err)
	})
	if calls[len(calls)-1].err == nil {
		t.Fatal("B archived A's findings")
	}

	// The identity each record must carry is the one STS reports.
	callers := map[string]*sts.GetCallerIdentityOutput{}
	for _, a := range accounts {
		out, err := s.stsClient(a.key, a.secret, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		callers[a.key] = out
	}

	recs := readAudit(t, s.DataDir)
	byID := map[string]audit.Record{}
	eventIDs := map[string]bool{}
	for _, r := range recs {
		if r.ReadOnly || strings.HasPrefix(r.EventName, "List") || strings.HasPrefix(r.EventName, "Get") {
			t.Errorf("read %s recorded without --audit-reads", r.EventName)
		}
		if eventIDs[r.EventID] || !uuidPattern.MatchString(r.EventID) {
			t.Errorf("eventID %q repeated or not a UUID", r.EventID)
		}
		eventIDs[r.EventID] = true
		byID[r.RequestID] = r
	}
	if len(recs) != len(calls) {
		t.Errorf("%d records, want one per call: %d", len(recs), len(calls))
	}
	failed := 0
	for _, c := range calls {
		r, ok := byID[c.requestID]
		if !ok {
			t.Errorf("%s by %s (request %s): no record", c.name, c.account, c.requestID)
			continue
		}
		where := c.name + " by " + c.account
		caller := callers[c.key]
		want := audit.UserIdentity{Type: "IAMUser", PrincipalID: aws.ToString(caller.UserId), ARN: aws.ToString(caller.Arn),
			AccountID: c.account, AccessKeyID: c.key, UserName: c.profile}
		if r.UserIdentity != want {
			t.Errorf("%s: userIdentity %+v, want %+v", where, r.UserIdentity, want)
		}
		if !strings.HasPrefix(want.PrincipalID, "AIDA") || want.ARN != "arn:aws:iam::"+c.account+":user/"+c.profile {
			t.Errorf("%s: STS says %+v", where, want)
		}
		if r.EventName != c.name || r.EventVersion != "1.08" || r.EventSource != "guardduty.amazonaws.com" || r.AWSRegion != "us-east-1" ||
			r.EventType != "AwsApiCall" || !r.ManagementEvent || r.EventCategory != "Management" || r.RecipientAccountID != c.account || r.ReadOnly {
			t.Errorf("%s: record %+v", where, r)
		}
		if r.SourceIPAddress != "127.0.0.1" || !strings.Contains(r.UserAgent, "aws-sdk-go-v2") {
			t.Errorf("%s: sourceIPAddress %q, userAgent %q", where, r.SourceIPAddress, r.UserAgent)
		}
		if tm := r.Time(); tm.Before(started) || tm.After(time.Now().Add(time.Second)) || r.EventTime != tm.Format(audit.TimeFormat) {
			t.Errorf("%s: eventTime %q", where, r.EventTime)
		}
		var params map[string]any
		if err := json.Unmarshal(r.RequestParameters, &params); err != nil {
			t.Errorf("%s: requestParameters %s: %v", where, r.RequestParameters, err)
		}
		for k, v := range c.params {
			if got, _ := json.Marshal(params[k]); string(got) != string(mustJSON(t, v)) {
				t.Errorf("%s: requestParameters.%s = %s, want %s", where, k, got, mustJSON(t, v))
			}
		}
		if c.err != nil {
			failed++
			var ae smithy.APIError
			if !errors.As(c.err, &ae) {
				t.Fatalf("%s: %v", where, c.err)
			}
			if r.ErrorCode != ae.ErrorCode() || r.ErrorMessage != ae.ErrorMessage() || r.ErrorMessage == "" {
				t.Errorf("%s: errorCode %q errorMessage %q, the SDK got %q %q", where, r.ErrorCode, r.ErrorMessage, ae.ErrorCode(), ae.ErrorMessage())
			}
			if string(r.ResponseElements) != "null" {
				t.Errorf("%s: failed, responseElements %s", where, r.ResponseElements)
			}
			continue
		}
		if r.ErrorCode != "" || r.ErrorMessage != "" {
			t.Errorf("%s: succeeded, errorCode %q errorMessage %q", where, r.ErrorCode, r.ErrorMessage)
		}
		if c.response == nil {
			if string(r.ResponseElements) != "null" {
				t.Errorf("%s: responseElements %s, want null", where, r.ResponseElements)
			}
		} else if got, want := string(r.ResponseElements), string(mustJSON(t, c.response)); got != want {
			t.Errorf("%s: responseElements %s, want %s", where, got, want)
		}
	}
	if failed < 5 { // 2 × (DeleteFilter, CreateFilter) and B's archive, at least
		t.Errorf("%d failed calls, want at least 5", failed)
	}

	// No secret reaches the log: keys' secrets, and sensitive members.
	for _, name := range mustGlob(t, filepath.Join(s.DataDir, "audit", "*")) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{secretA, secretB, "secret comment", "member@example.com"} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q", name, secret)
			}
		}
	}
}

// TestAuditReads records reads too with --audit-reads: readOnly true,
// responseElements null.
func TestAuditReads(t *testing.T) {
	s := startServer(t, "--audit-reads")
	c := s.clientA()
	ctx := context.Background()
	det := createDetector(t, c)
	out, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if err := s.Close(); err != nil { // a read's record is on disk at the latest after Close
		t.Fatal(err)
	}
	var found bool
	for _, r := range readAudit(t, s.DataDir) {
		if r.RequestID != id {
			continue
		}
		found = true
		if r.EventName != "ListFindings" || !r.ReadOnly || string(r.ResponseElements) != "null" ||
			string(r.RequestParameters) != `{"detectorId":"`+det+`","maxResults":7}` {
			t.Errorf("ListFindings record: %+v, requestParameters %s", r, r.RequestParameters)
		}
	}
	if !found {
		t.Error("no record of ListFindings with --audit-reads")
	}
}

// metadata is an SDK call's result metadata, or its error.
func metadata(out any, err error) (middleware.Metadata, error) {
	if err != nil {
		return middleware.Metadata{}, err
	}
	return reflect.ValueOf(out).Elem().FieldByName("ResultMetadata").Interface().(middleware.Metadata), nil
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("glob %s: %v %v", pattern, m, err)
	}
	return m
}

// TestAuditCommand runs `guardpost audit` with each filter over a log
// written by two accounts' SDK calls.
func TestAuditCommand(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	before := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	for _, c := range []*guardduty.Client{s.clientA(), s.clientB()} {
		det := createDetector(t, c)
		if _, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("audit-filter"),
			FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {Gte: aws.Int32(4)}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteDetector(ctx, &guardduty.DeleteDetectorInput{DetectorId: &det}); err != nil {
			t.Fatal(err)
		}
	}
	dataDir := s.DataDir
	auditCmd := func(args ...string) (code int, recs []audit.Record, stderr string) {
		t.Helper()
		var out, errb bytes.Buffer
		code = run(ctx, append([]string{"audit", "--data-dir", dataDir}, args...), &out, &errb)
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var r audit.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("audit %v: line %q: %v", args, sc.Bytes(), err)
			}
			recs = append(recs, r)
		}
		return code, recs, errb.String()
	}
	summary := func(recs []audit.Record) string {
		var s []string
		for _, r := range recs {
			s = append(s, r.UserIdentity.AccountID+":"+r.EventName)
		}
		return strings.Join(s, " ")
	}
	a, b := accountA, accountB
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, a + ":CreateDetector " + a + ":CreateFilter " + a + ":DeleteDetector " + b + ":CreateDetector " + b + ":CreateFilter " + b + ":DeleteDetector"},
		{[]string{"--account", b}, b + ":CreateDetector " + b + ":CreateFilter " + b + ":DeleteDetector"},
		{[]string{"--event-name", "CreateFilter"}, a + ":CreateFilter " + b + ":CreateFilter"},
		{[]string{"--event-name", "CreateFilter,DeleteDetector", "--account", a}, a + ":CreateFilter " + a + ":DeleteDetector"},
		{[]string{"--event-name", "DeleteDetector", "--event-name", "CreateDetector", "--account", b}, b + ":CreateDetector " + b + ":DeleteDetector"},
		{[]string{"--since", before, "--event-name", "DeleteDetector"}, a + ":DeleteDetector " + b + ":DeleteDetector"},
		{[]string{"--since", "1h"}, a + ":CreateDetector " + a + ":CreateFilter " + a + ":DeleteDetector " + b + ":CreateDetector " + b + ":CreateFilter " + b + ":DeleteDetector"},
		{[]string{"--since", time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}, ""},
		{[]string{"--since", "2999-01-01"}, ""},
		{[]string{"--account", "999999999999"}, ""},
	} {
		code, recs, stderr := auditCmd(tc.args...)
		if code != 0 || stderr != "" {
			t.Errorf("audit %v: exit %d, stderr %q", tc.args, code, stderr)
		}
		if got := summary(recs); got != tc.want {
			t.Errorf("audit %v:\n got %s\nwant %s", tc.args, got, tc.want)
		}
	}
	// The lines are the records as written, byte for byte.
	var out bytes.Buffer
	if code := run(ctx, []string{"audit", "--data-dir", dataDir}, &out, io.Discard); code != 0 {
		t.Fatal(code)
	}
	var written bytes.Buffer
	for _, f := range mustGlob(t, filepath.Join(dataDir, "audit", "audit-*.jsonl")) {
		data, _ := os.ReadFile(f)
		written.Write(data)
	}
	if out.String() != written.String() {
		t.Errorf("audit prints\n%s\nthe files hold\n%s", out.String(), written.String())
	}

	if code, _, stderr := auditCmd("--since", "yesterday"); code != 2 || !strings.Contains(stderr, "yesterday") {
		t.Errorf("--since yesterday: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := auditCmd("extra"); code != 2 || !strings.Contains(stderr, "extra") {
		t.Errorf("an argument: exit %d, stderr %q", code, stderr)
	}
	var errb bytes.Buffer
	if code := run(ctx, []string{"audit", "--data-dir", t.TempDir()}, io.Discard, &errb); code != 1 || !strings.Contains(errb.String(), "audit") {
		t.Errorf("no audit directory: exit %d, stderr %q", code, errb.String())
	}
	var help bytes.Buffer
	if code := run(ctx, []string{"audit", "--help"}, &help, io.Discard); code != 0 || !strings.Contains(help.String(), "-event-name operation") {
		t.Errorf("--help: exit %d, %q", code, help.String())
	}
}

// TestAuditRecordsSurviveKill: calls answered by a server process killed
// with SIGKILL in the middle of a stream of writes from two accounts all
// have their records, which the reader (and guardpost audit) then reads
// even if the kill tore the last line.
func TestAuditRecordsSurviveKill(t *testing.T) {
	base := startServer(t) // for its credentials file
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startProcess(t, dataDir, base.credFile)
	s := &testServer{Main: &Main{}, t: t, listenerAddr: p.addr}
	ctx := context.Background()
	answered := make(chan string, 10000)
	done := make(chan struct{})
	var running sync.WaitGroup
	for _, c := range []*guardduty.Client{s.clientA(), s.clientB()} {
		det := createDetector(t, c)
		for range 2 {
			running.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-done:
						return
					default:
					}
					ids := []string{fmt.Sprintf("%032x", i)}
					out, err := c.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &det, FindingIds: ids})
					if err != nil {
						return // the kill
					}
					id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
					answered <- id
				}
			})
		}
	}
	// Kill once a few dozen calls were answered, while the others are in
	// flight.
	for deadline := time.Now().Add(30 * time.Second); len(answered) < 40; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d calls answered", len(answered))
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	close(done)
	running.Wait()
	close(answered)

	recorded := map[string]bool{}
	if err := audit.Scan(filepath.Join(dataDir, "audit"), audit.Filter{EventNames: []string{"ArchiveFindings"}}, func(r *audit.Record, _ []byte) error {
		recorded[r.RequestID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for id := range answered {
		n++
		if !recorded[id] {
			t.Errorf("call %s was answered but has no record after SIGKILL", id)
		}
	}
	t.Logf("%d answered calls, %d records", n, len(recorded))
}

// TestAuditOff: --audit=false writes no audit log.
func TestAuditOff(t *testing.T) {
	s := startServer(t, "--audit=false")
	createDetector(t, s.clientA())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "audit")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("audit directory with --audit=false: %v", err)
	}
}

// TestAuditMaxBytes: --audit-max-bytes rotates the files, and guardpost
// audit reads across them in order.
func TestAuditMaxBytes(t *testing.T) {
	s := startServer(t, "--audit-max-bytes", "3000") // a couple of records a file
	c := s.clientA()
	ctx := context.Background()
	det := createDetector(t, c)
	var want []string
	for i := range 6 {
		name := fmt.Sprintf("rotation-%d", i)
		if _, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: &name,
			FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {Gte: aws.Int32(int32(i))}}}}); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	if files := mustGlob(t, filepath.Join(s.DataDir, "audit", "audit-*.jsonl")); len(files) < 3 {
		t.Errorf("%d files of at most 3000 bytes for 7 records, want at least 3", len(files))
	}
	var out bytes.Buffer
	if code := run(ctx, []string{"audit", "--data-dir", s.DataDir, "--event-name", "CreateFilter"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		var p struct{ Name string }
		json.Unmarshal(r.RequestParameters, &p)
		got = append(got, p.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("records across files: %v, want %v in order", got, want)
	}
}
