package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/httpapi/wire"
	"github.com/guardpost/guardpost/internal/sdkhttp"
	"github.com/guardpost/guardpost/samples"
)

// ingestAs posts body to the ingest endpoint signed as an identity, with
// extra headers set before signing.
func (s *testServer) ingestAs(key, secret, region string, body []byte, header map[string]string) rawResponse {
	s.t.Helper()
	return s.postSigned(httpapi.IngestFindingsPath, key, secret, region, body, header)
}

// postSigned posts body to one of guardpost's own endpoints, signed with
// SigV4 for guardduty in region.
func (s *testServer) postSigned(path, key, secret, region string, body []byte, header map[string]string) rawResponse {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.endpoint()+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "guardduty", region, time.Now()); err != nil {
		s.t.Fatal(err)
	}
	return s.send(req)
}

func (s *testServer) ingest(region string, body []byte, header map[string]string) rawResponse {
	s.t.Helper()
	return s.ingestAs(keyA, secretA, region, body, header)
}

// ingestOK posts body and checks the answer's counts.
func (s *testServer) ingestOK(t *testing.T, region string, body []byte, header map[string]string, records, created, updated int) {
	t.Helper()
	r := s.ingest(region, body, header)
	if r.Status != http.StatusOK {
		t.Fatalf("ingest: %d %s", r.Status, r.Body)
	}
	var got map[string]int
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("ingest answer %s: %v", r.Body, err)
	}
	want := map[string]int{"records": records, "findingsCreated": created, "findingsUpdated": updated}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ingest answered %s, want %v", r.Body, want)
	}
}

// recorder keeps the body of the last response an SDK client received, so
// that a test can compare what GetFindings sent, member by member.
type recorder struct {
	inner http.RoundTripper
	mu    sync.Mutex
	last  []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.last = b
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// recordingClient is a real SDK client whose responses are recorded.
func (s *testServer) recordingClient(region string) (*guardduty.Client, *recorder) {
	rec := &recorder{inner: sdkhttp.PrivateBody{Inner: http.DefaultTransport.(*http.Transport).Clone()}}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(keyA, secretA, ""),
		HTTPClient:  &http.Client{Transport: rec},
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return guardduty.NewFromConfig(cfg, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(s.endpoint()) }), rec
}

// readBack reads findings through the SDK's GetFindings and returns, by
// id, the SDK's findings and the documents exactly as the SDK received
// them (decoded with float64 numbers).
func readBack(t *testing.T, c *guardduty.Client, rec *recorder, det string, ids []string) (map[string]types.Finding, map[string]map[string]any) {
	t.Helper()
	typed := map[string]types.Finding{}
	raw := map[string]map[string]any{}
	for chunk := range slices.Chunk(ids, 50) {
		out, err := c.GetFindings(context.Background(), &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: chunk})
		if err != nil {
			t.Fatalf("GetFindings: %v", err)
		}
		for _, f := range out.Findings {
			typed[aws.ToString(f.Id)] = f
		}
		var body struct{ Findings []map[string]any }
		rec.mu.Lock()
		err = json.Unmarshal(rec.last, &body)
		rec.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range body.Findings {
			raw[d["id"].(string)] = d
		}
	}
	if len(typed) != len(ids) || len(raw) != len(ids) {
		t.Fatalf("GetFindings returned %d findings (%d documents) of %d", len(typed), len(raw), len(ids))
	}
	return typed, raw
}

// owned is doc as the caller's import stores it: account, region,
// partition, ARN and detector are the caller's.
func owned(doc map[string]any, account, region, det string) map[string]any {
	var out map[string]any
	b, _ := json.Marshal(doc)
	json.Unmarshal(b, &out)
	id := out["id"].(string)
	out["accountId"], out["region"], out["partition"] = account, region, "aws"
	out["arn"] = "arn:aws:guardduty:" + region + ":" + account + ":detector/" + det + "/finding/" + id
	svc, _ := out["service"].(map[string]any)
	if svc == nil {
		svc = map[string]any{}
		out["service"] = svc
	}
	svc["detectorId"] = det
	return out
}

// treeDiff lists the paths where two decoded JSON trees differ.
func treeDiff(path string, a, b any) []string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
		}
		var out []string
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			out = append(out, treeDiff(path+"."+k, x[k], y[k])...)
		}
		return out
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
		}
		var out []string
		for i := range x {
			out = append(out, treeDiff(path+"."+strconv.Itoa(i), x[i], y[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(a, b) {
		return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
	}
	return nil
}

// fullFinding is a finding with every member of the model's Finding tree
// present, each list with one element and each map with one entry: the
// import must carry all of them, under their irregular wire names too
// (lat, lon, productCodeId, sourceIPs, IamInstanceProfile...). Timestamps
// have a fraction that float64 holds exactly (.5): the Go SDK reads epoch
// seconds through float64 and truncates to milliseconds, which would turn
// .123 into .122 whatever the server does.
func fullFinding(id string) map[string]any {
	seq := 0
	var fill func(si int, name string) any
	fill = func(si int, name string) any {
		s := wire.FindingDoc[si]
		seq++
		switch s.Kind {
		case wire.DocStructure:
			obj := map[string]any{}
			for _, m := range s.Members {
				obj[m.JSON] = fill(m.Shape, m.JSON)
			}
			return obj
		case wire.DocList:
			return []any{fill(s.Elem, name)}
		case wire.DocMap:
			return map[string]any{"key" + strconv.Itoa(seq): fill(s.Elem, name)}
		case wire.DocString:
			if vals := wire.EnumValues[s.Name]; len(vals) > 0 {
				return vals[seq%len(vals)]
			}
			if s.Name == "AccountId" {
				return "123456789012"
			}
			return name + "-" + strconv.Itoa(seq)
		case wire.DocBoolean:
			return seq%2 == 0
		case wire.DocInteger:
			return seq
		case wire.DocNumber:
			return float64(seq) + 0.25
		case wire.DocTimestamp:
			return 1700000000.5 + float64(seq)
		}
		panic("unexpected shape kind")
	}
	doc := fill(0, "").(map[string]any)
	doc["id"] = id
	doc["type"] = "Backdoor:EC2/C&CActivity.B"
	doc["severity"] = 7.5
	doc["createdAt"] = "2026-01-02T03:04:05.678Z"
	doc["updatedAt"] = "2026-01-03T03:04:05.678Z"
	svc := doc["service"].(map[string]any)
	svc["eventFirstSeen"] = "2026-01-02T03:04:05.000Z"
	svc["eventLastSeen"] = "2026-01-03T03:04:05.000Z"
	return doc
}

// ingestCorpus is a full finding and samples of types across the
// catalogue, in the wire form, each with its own id and in account
// 999988887777 (which the import replaces).
func ingestCorpus(t *testing.T) ([]map[string]any, []string) {
	t.Helper()
	docs := []map[string]any{fullFinding("full-finding-1")}
	c := samples.New()
	typesList := c.Types()
	step := 10
	if testing.Short() {
		step = 40
	}
	for i := 0; i < len(typesList); i += step {
		b, _ := c.Sample(typesList[i], guardpost.SampleParams{AccountID: "999988887777", Region: "eu-west-3",
			DetectorID: "0123456789abcdef0123456789abcdef", FindingID: guardpost.NewID(), Now: time.Now().Truncate(time.Second)})
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d["id"].(string)
	}
	return docs, ids
}

func jsonLines(t *testing.T, docs []map[string]any) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, d := range docs {
		line, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestIngestForms posts the same findings in every accepted form, each into
// the detector of its own region, and reads every member back through the
// SDK's GetFindings: what comes back is what was posted, but for account,
// region, partition, ARN and detector, which are the caller's.
func TestIngestForms(t *testing.T) {
	s := startServer(t)
	docs, ids := ingestCorpus(t)
	lines := jsonLines(t, docs)

	events := make([]map[string]any, len(docs))
	for i, d := range docs {
		events[i] = map[string]any{"version": "0", "id": guardpost.NewID(), "detail-type": "GuardDuty Finding",
			"source": "aws.guardduty", "account": "999988887777", "time": "2026-01-03T03:04:05Z", "region": "eu-west-3",
			"resources": []any{}, "detail": d}
	}
	document, err := json.MarshalIndent(map[string]any{"findings": docs}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}

	// check imports body into region and compares every finding with want.
	check := func(t *testing.T, region string, body []byte, header map[string]string, want []map[string]any) map[string]types.Finding {
		t.Helper()
		c, rec := s.recordingClient(region)
		det := createDetector(t, c)
		s.ingestOK(t, region, body, header, len(want), len(want), 0)
		typed, raw := readBack(t, c, rec, det, ids)
		for _, w := range want {
			id := w["id"].(string)
			if d := treeDiff("", owned(w, accountA, region, det), raw[id]); len(d) > 0 {
				t.Errorf("finding %s differs from what was posted (want vs got):\n%s", id, strings.Join(d[:min(len(d), 20)], "\n"))
			}
			if f := typed[id]; aws.ToString(f.AccountId) != accountA || aws.ToString(f.Service.DetectorId) != det {
				t.Errorf("finding %s: account %s, detector %s", id, aws.ToString(f.AccountId), aws.ToString(f.Service.DetectorId))
			}
		}
		return typed
	}

	var typed map[string]types.Finding
	t.Run("camelCase JSON lines", func(t *testing.T) {
		typed = check(t, "us-east-1", lines, nil, docs)
	})
	t.Run("gzip by Content-Encoding", func(t *testing.T) {
		check(t, "us-east-2", gzipped(t, lines), map[string]string{"Content-Encoding": "gzip"}, docs)
	})
	t.Run("gzip by magic bytes", func(t *testing.T) {
		check(t, "us-west-1", gzipped(t, lines), nil, docs)
	})
	t.Run("findings document", func(t *testing.T) {
		check(t, "us-west-2", document, nil, docs)
	})
	t.Run("EventBridge events", func(t *testing.T) {
		check(t, "eu-west-1", jsonLines(t, events), nil, docs)
	})
	t.Run("PascalCase from the SDK's findings", func(t *testing.T) {
		if typed == nil {
			t.Skip("needs the camelCase import")
		}
		// The SDK's own structures marshal to the member names the CLI
		// and boto3 print, with timestamps as RFC 3339 text.
		var list []types.Finding
		for _, id := range ids {
			list = append(list, typed[id])
		}
		pascal, err := json.Marshal(map[string]any{"Findings": list})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(pascal, []byte(`"ProductCodeId"`)) && !bytes.Contains(pascal, []byte(`"Code"`)) {
			t.Fatalf("no product code in %s", pascal[:200])
		}
		check(t, "eu-central-1", pascal, nil, docs)
	})
}

// TestIngestOwnership: a finding that names another account, region and
// detector lands in the caller's; one without an id gets one; a repeated
// id replaces the finding; members the model does not know are kept.
func TestIngestOwnership(t *testing.T) {
	s := startServer(t)
	c, rec := s.recordingClient("us-east-1")
	det := createDetector(t, c)
	detB := createDetector(t, s.clientB())

	docs, _ := ingestCorpus(t)
	foreign := docs[1]
	foreign["accountId"], foreign["region"], foreign["partition"] = accountB, "cn-north-1", "aws-cn"
	foreign["arn"] = "arn:aws-cn:guardduty:cn-north-1:" + accountB + ":detector/" + detB + "/finding/" + foreign["id"].(string)
	foreign["service"].(map[string]any)["detectorId"] = detB
	foreign["futureMember"] = map[string]any{"nested": []any{1.0, "two"}}
	foreign["resource"].(map[string]any)["futureResourceMember"] = "kept"
	anonymous := docs[2]
	delete(anonymous, "id")
	s.ingestOK(t, "us-east-1", jsonLines(t, []map[string]any{foreign, anonymous}), nil, 2, 2, 0)

	ids, err := c.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids.FindingIds) != 2 || !slices.Contains(ids.FindingIds, foreign["id"].(string)) {
		t.Fatalf("caller's findings %v", ids.FindingIds)
	}
	_, raw := readBack(t, c, rec, det, ids.FindingIds)
	got := raw[foreign["id"].(string)]
	if d := treeDiff("", owned(foreign, accountA, "us-east-1", det), got); len(d) > 0 {
		t.Errorf("foreign finding differs:\n%s", strings.Join(d, "\n"))
	}
	for _, id := range ids.FindingIds {
		if id != foreign["id"] {
			if len(id) != 32 {
				t.Errorf("assigned id %q is not 32 hex characters", id)
			}
			if d := treeDiff("", owned(withID(anonymous, id), accountA, "us-east-1", det), raw[id]); len(d) > 0 {
				t.Errorf("finding without id differs:\n%s", strings.Join(d, "\n"))
			}
		}
	}
	// Account B sees none of them.
	listB, err := s.clientB().ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &detB})
	if err != nil {
		t.Fatal(err)
	}
	if len(listB.FindingIds) != 0 {
		t.Errorf("account B sees %v", listB.FindingIds)
	}

	// The same id again replaces the finding.
	foreign["severity"] = 2.5
	s.ingestOK(t, "us-east-1", jsonLines(t, []map[string]any{foreign}), nil, 1, 0, 1)
	_, raw = readBack(t, c, rec, det, []string{foreign["id"].(string)})
	if sev := raw[foreign["id"].(string)]["severity"]; sev != 2.5 {
		t.Errorf("severity after re-import %v", sev)
	}
}

func withID(doc map[string]any, id string) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		out[k] = v
	}
	out["id"] = id
	return out
}

// TestIngestRejects: a malformed record is answered 400 naming the record
// and the member, and nothing of the request is written.
func TestIngestRejects(t *testing.T) {
	s := startServer(t)
	c := s.clientA()
	det := createDetector(t, c)
	good := func() map[string]any { docs, _ := ingestCorpus(t); return docs[1] }
	with := func(edit func(d map[string]any)) map[string]any { d := good(); edit(d); return d }
	line := func(d map[string]any) string { b, _ := json.Marshal(d); return string(b) }

	cases := []struct {
		name, body, want string
	}{
		{"severity out of range", line(good()) + "\n" + line(good()) + "\n" + line(with(func(d map[string]any) { d["severity"] = 11 })),
			"Record 3: 1 validation error detected: Value '11' at 'severity' failed to satisfy constraint: Member must have value between 1.0 and 10.0"},
		{"wrong type", line(good()) + "\n" + line(with(func(d map[string]any) { d["service"].(map[string]any)["count"] = "5" })),
			"Record 2: 1 validation error detected: Value at 'service.count' failed to satisfy constraint: Member must be an integer, not a JSON string."},
		{"unknown enum", line(with(func(d map[string]any) {
			d["service"].(map[string]any)["ebsVolumeScanDetails"] = map[string]any{"scanType": "SOMETIMES"}
		})), "Record 1: 1 validation error detected: Value 'SOMETIMES' at 'service.ebsVolumeScanDetails.scanType' failed to satisfy constraint: Member must satisfy enum value set: [GUARDDUTY_INITIATED, ON_DEMAND]"},
		{"nested list member", line(with(func(d map[string]any) {
			d["resource"] = map[string]any{"instanceDetails": map[string]any{"networkInterfaces": []any{
				map[string]any{"subnetId": "s"}, map[string]any{"privateIpAddresses": []any{map[string]any{"privateIpAddress": 10}}}}}}
		})), "Record 1: 1 validation error detected: Value at 'resource.instanceDetails.networkInterfaces.2.member.privateIpAddresses.1.member.privateIpAddress' failed to satisfy constraint: Member must be a string, not a JSON number."},
		{"missing required member", line(good()) + "\n" + line(with(func(d map[string]any) { delete(d, "type") })),
			"Record 2: 1 validation error detected: Value null at 'type' failed to satisfy constraint: Member must not be null"},
		{"PascalCase document", `{"Findings": [` + line(good()) + `, {"Id": "x", "Severity": "high"}]}`,
			"Record 2: 1 validation error detected: Value at 'severity' failed to satisfy constraint: Member must be a number, not a JSON string."},
		{"invalid JSON", line(good()) + "\n" + `{"id": "x", "severity": }`,
			"Record 2: not valid JSON"},
		{"not an object", line(good()) + "\n42", "Record 2: a record must be a JSON object, not a number"},
		{"bad time", line(with(func(d map[string]any) { d["updatedAt"] = "yesterday" })),
			"Record 1: 1 validation error detected: Value 'yesterday' at 'updatedAt' failed to satisfy constraint: Member must be an ISO-8601 date and time"},
		{"another event", `{"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}`,
			"Record 1: an EventBridge event of detail-type 'EC2 Instance State-change Notification' is not a GuardDuty finding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.ingest("us-east-1", []byte(tc.body), nil)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
			typ, msg := r.errorBody(t)
			if typ != "BadRequestException" || !strings.HasPrefix(msg, tc.want) {
				t.Errorf("got %s: %s\nwant %s", typ, msg, tc.want)
			}
		})
	}
	list, err := c.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.FindingIds) != 0 {
		t.Fatalf("rejected requests wrote %d findings", len(list.FindingIds))
	}

	t.Run("no detector", func(t *testing.T) {
		r := s.ingest("ap-south-1", []byte(line(good())), nil)
		typ, msg := r.errorBody(t)
		if r.Status != http.StatusBadRequest || !strings.Contains(msg, "no detector in ap-south-1") || !strings.Contains(msg, "CreateDetector") {
			t.Errorf("%d %s: %s", r.Status, typ, msg)
		}
	})
	t.Run("unsupported encoding", func(t *testing.T) {
		r := s.ingest("us-east-1", []byte(line(good())), map[string]string{"Content-Encoding": "br"})
		if typ, msg := r.errorBody(t); r.Status != http.StatusUnsupportedMediaType || !strings.Contains(msg, "'br'") {
			t.Errorf("%d %s: %s", r.Status, typ, msg)
		}
	})
	t.Run("gzip header without gzip", func(t *testing.T) {
		r := s.ingest("us-east-1", []byte(line(good())), map[string]string{"Content-Encoding": "gzip"})
		if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || !strings.Contains(msg, "gzip") {
			t.Errorf("%d %s: %s", r.Status, typ, msg)
		}
	})
	t.Run("corrupt gzip", func(t *testing.T) {
		z := gzipped(t, []byte(line(good())))
		z[len(z)-5] ^= 0xff // the CRC
		r := s.ingest("us-east-1", z, nil)
		if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || !strings.Contains(msg, "not valid gzip") {
			t.Errorf("%d %s: %s", r.Status, typ, msg)
		}
	})
	t.Run("wrong signature", func(t *testing.T) {
		r := s.ingestAs(keyA, "not-the-secret", "us-east-1", []byte(line(good())), nil)
		if typ, _ := r.errorBody(t); r.Status != http.StatusForbidden || typ != "InvalidSignatureException" {
			t.Errorf("%d %s", r.Status, typ)
		}
	})
	t.Run("payload hash header", func(t *testing.T) {
		body := []byte(line(good()))
		r := s.ingest("us-east-1", body, map[string]string{"X-Amz-Content-Sha256": strings.Repeat("0", 64)})
		if typ, _ := r.errorBody(t); r.Status != http.StatusForbidden {
			t.Errorf("a wrong X-Amz-Content-Sha256: %d %s", r.Status, typ)
		}
	})
}

// TestIngestCommand runs guardpost ingest against a running server: files
// of each kind and a directory, in small batches.
func TestIngestCommand(t *testing.T) {
	s := startServer(t)
	c, rec := s.recordingClient("us-east-1")
	det := createDetector(t, c)
	s.useOnlyCredentialsFile(t)

	docs, ids := ingestCorpus(t)
	if len(docs) < 6 {
		t.Fatalf("corpus of %d", len(docs))
	}
	dir := t.TempDir()
	write := fileWriter(t, dir)
	single, _ := json.MarshalIndent(docs[0], "", "  ")
	document, _ := json.Marshal(map[string]any{"Findings": docs[1:3]})
	event, _ := json.Marshal(map[string]any{"detail-type": "GuardDuty Finding", "source": "aws.guardduty", "detail": docs[3]})
	one := write("one.json", single)
	write("tree/doc.json", document)
	write("tree/deeper/lines.jsonl", jsonLines(t, docs[4:len(docs)-2]))
	write("tree/deeper/event.json.gz", gzipped(t, event))
	write("tree/deeper/rest.jsonl.gz", gzipped(t, jsonLines(t, docs[len(docs)-2:])))
	write("tree/notes.txt", []byte("not a finding file"))

	var stdout, stderr bytes.Buffer
	code := runIngest(context.Background(), []string{"--endpoint", s.endpoint(), "--profile", "a", "--region", "us-east-1",
		"--source", "findings", "--batch", "3", "--gzip", one, filepath.Join(dir, "tree")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
	}
	want := fmt.Sprintf("5 files, %d findings: %d created, 0 updated in ", len(docs), len(docs))
	if !strings.HasPrefix(stdout.String(), want) || !strings.Contains(stdout.String(), "findings/s") {
		t.Errorf("summary %q, want it to begin %q", stdout.String(), want)
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr (not a terminal: no progress line) %q", &stderr)
	}
	_, raw := readBack(t, c, rec, det, ids)
	for _, d := range docs {
		if diff := treeDiff("", owned(d, accountA, "us-east-1", det), raw[d["id"].(string)]); len(diff) > 0 {
			t.Errorf("finding %s differs:\n%s", d["id"], strings.Join(diff, "\n"))
		}
	}

	t.Run("uncompressed, more in flight", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := runIngest(context.Background(), []string{"--endpoint", s.endpoint(), "--profile", "a", "--region", "us-east-1",
			"--batch", "2", "--inflight", "3", "--gzip=false", one, filepath.Join(dir, "tree")}, &stdout, &stderr)
		want := fmt.Sprintf("5 files, %d findings: 0 created, %d updated in ", len(docs), len(docs))
		if code != 0 || !strings.HasPrefix(stdout.String(), want) {
			t.Errorf("exit %d, summary %q, want it to begin %q; stderr %q", code, &stdout, want, &stderr)
		}
	})
	t.Run("a bad record names its file", func(t *testing.T) {
		bad := docs[1]
		bad["severity"] = "high"
		p := write("bad/b.jsonl", jsonLines(t, []map[string]any{docs[2], docs[3], bad}))
		var stdout, stderr bytes.Buffer
		code := runIngest(context.Background(), []string{"--endpoint", s.endpoint(), "--profile", "a", "--region", "us-east-1", p}, &stdout, &stderr)
		want := p + ", record 3: 1 validation error detected: Value at 'severity' failed to satisfy constraint: Member must be a number, not a JSON string. (BadRequestException)"
		if code != 1 || !strings.Contains(stderr.String(), want) {
			t.Errorf("exit %d, stderr %q\nwant it to hold %q", code, &stderr, want)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"--region", "us-east-1", one},
			{"--endpoint", s.endpoint(), "--source", "syslog", one},
			{"--endpoint", s.endpoint()},
		} {
			var stdout, stderr bytes.Buffer
			if code := runIngest(context.Background(), args, &stdout, &stderr); code != 2 {
				t.Errorf("%v: exit %d", args, code)
			}
			if args[len(args)-2] == "syslog" && !strings.Contains(stderr.String(), "supported sources: findings, cloudtrail, vpcflow, dns") {
				t.Errorf("%v: %s", args, &stderr)
			}
		}
	})
}

// TestIngestAWSCLIOutput imports what the AWS CLI's get-findings prints
// about one guardpost's findings into another: the second then holds the
// same findings.
func TestIngestAWSCLIOutput(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the CLI export and re-import")
	}
	src := startServer(t)
	cs, recS := src.recordingClient("us-east-1")
	detS := createDetector(t, cs)
	docs, ids := ingestCorpus(t)
	src.ingestOK(t, "us-east-1", jsonLines(t, docs), nil, len(docs), len(docs), 0)
	// Sample findings too, as many as make one get-findings call of 50
	// (the CLI is slow to start).
	sampleTypes := samples.New().Types()[:50-len(ids)]
	if _, err := cs.CreateSampleFindings(context.Background(), &guardduty.CreateSampleFindingsInput{DetectorId: &detS, FindingTypes: sampleTypes}); err != nil {
		t.Fatal(err)
	}
	var listed struct{ FindingIds []string }
	src.cli(t, &listed, "list-findings", "--detector-id", detS)
	if len(listed.FindingIds) != 50 {
		t.Fatalf("list-findings gave %d ids", len(listed.FindingIds))
	}

	// The CLI's output files, 50 findings each (get-findings' limit).
	dir := t.TempDir()
	for i := 0; i < len(listed.FindingIds); i += 50 {
		chunk := listed.FindingIds[i:min(i+50, len(listed.FindingIds))]
		cmd := exec.Command("aws", append([]string{"--endpoint-url", src.endpoint(), "--output", "json", "guardduty",
			"get-findings", "--detector-id", detS, "--finding-ids"}, chunk...)...)
		cmd.Env = src.awsEnv()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws get-findings: %v", err)
		}
		if !bytes.Contains(out, []byte(`"Findings"`)) || !bytes.Contains(out, []byte(`"AccountId"`)) {
			t.Fatalf("CLI output is not PascalCase: %.300s", out)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("findings-%03d.json", i/50)), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	dst := startServer(t)
	cd, recD := dst.recordingClient("us-east-1")
	detD := createDetector(t, cd)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dst.credFile)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dst.dir, "no-config"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "a")
	var stdout, stderr bytes.Buffer
	if code := runIngest(context.Background(), []string{"--endpoint", dst.endpoint(), "--region", "us-east-1", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("guardpost ingest: exit %d\n%s%s", code, &stdout, &stderr)
	}

	_, before := readBack(t, cs, recS, detS, listed.FindingIds)
	_, after := readBack(t, cd, recD, detD, listed.FindingIds)
	for _, id := range listed.FindingIds {
		if d := treeDiff("", owned(before[id], accountA, "us-east-1", detD), after[id]); len(d) > 0 {
			t.Errorf("finding %s changed on the way through the CLI:\n%s", id, strings.Join(d[:min(len(d), 20)], "\n"))
		}
	}
}

// useOnlyCredentialsFile makes the AWS SDK of a command run in this test
// read the server's credentials file and nothing else of the machine's.
func (s *testServer) useOnlyCredentialsFile(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", s.credFile)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(s.dir, "no-config"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
}

// fileWriter returns a function that writes a file below dir (creating
// its directories) and returns its path.
func fileWriter(t *testing.T, dir string) func(name string, b []byte) string {
	return func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
