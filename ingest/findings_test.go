package ingest

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
	"github.com/guardpost/guardpost/samples"
)

func sampleDocs(t testing.TB) [][]byte {
	t.Helper()
	c := samples.New()
	var out [][]byte
	for _, ty := range c.Types() {
		doc, _ := c.Sample(ty, guardpost.SampleParams{AccountID: "123456789012", Region: "us-east-1", Partition: "aws",
			DetectorID: "0123456789abcdef0123456789abcdef", FindingID: guardpost.NewID(), Now: time.Now()})
		out = append(out, doc)
	}
	return out
}

func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// canonical re-decodes a document with float64 numbers, for comparison.
func canonical(t testing.TB, doc map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

// TestFindingKeepsWireDocuments: a finding already in the wire form comes
// out as it went in.
func TestFindingKeepsWireDocuments(t *testing.T) {
	for _, doc := range sampleDocs(t) {
		got, err := Finding(doc)
		if err != nil {
			t.Fatalf("%s: %v", decode(t, doc)["type"], err)
		}
		if want := decode(t, doc); !reflect.DeepEqual(canonical(t, got), want) {
			t.Fatalf("%s changed", want["type"])
		}
	}
}

// pascal rewrites a wire document with the model's member names, and its
// timestamps as ISO-8601 text (as boto3's datetimes are dumped), walking
// the shape table the way a PascalCase writer would.
func pascal(v any, si int) any {
	s := wire.FindingDoc[si]
	switch s.Kind {
	case wire.DocStructure:
		obj := v.(map[string]any)
		out := map[string]any{}
		for k, e := range obj {
			name := k
			for _, m := range s.Members {
				if m.JSON == k {
					name = m.Name
					e = pascal(e, m.Shape)
				}
			}
			out[name] = e
		}
		return out
	case wire.DocList:
		out := []any{}
		for _, e := range v.([]any) {
			out = append(out, pascal(e, s.Elem))
		}
		return out
	case wire.DocMap:
		out := map[string]any{}
		for k, e := range v.(map[string]any) {
			out[k] = pascal(e, s.Elem)
		}
		return out
	case wire.DocTimestamp:
		f := v.(float64)
		return time.UnixMilli(int64(f * 1000)).UTC().Format("2006-01-02 15:04:05.999999-07:00")
	}
	return v
}

func TestFindingReadsPascalCase(t *testing.T) {
	aliases := 0
	for _, doc := range sampleDocs(t) {
		want := decode(t, doc)
		p, err := json.Marshal(pascal(decode(t, doc), 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{`"Latitude"`, `"Code"`, `"SourceIps"`} {
			if strings.Contains(string(p), name) {
				aliases++
			}
		}
		got, err := Finding(p)
		if err != nil {
			t.Fatalf("%s: %v", want["type"], err)
		}
		if !reflect.DeepEqual(canonical(t, got), want) {
			t.Fatalf("%s: PascalCase read as\n%s\nwant\n%s", want["type"], mustJSON(got), doc)
		}
	}
	if aliases == 0 {
		t.Error("no sample has a member whose wire name differs beyond case")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// minimal is a finding with only the members a record must carry.
const (
	minimal = bare + `, "resource": {"resourceType": "Instance"}`
	bare    = `{"schemaVersion": "2.0", "type": "Recon:EC2/PortProbeUnprotectedPort", "severity": 2,
	"createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"`
)

func TestFindingNormalizes(t *testing.T) {
	cases := []struct {
		name, in string
		check    func(t *testing.T, doc map[string]any)
	}{
		{"identity members are not required", minimal + `}`, nil},
		{"aliases and irregular names", bare + `, "Service": {"Action": {"NetworkConnectionAction": {"RemoteIpDetails": {"GeoLocation": {"Lat": 1.5, "lon": 2.5}}}}},
			"Resource": {"InstanceDetails": {"ProductCodes": [{"Code": "c", "ProductType": "t"}], "iamInstanceProfile": {"Arn": "a"}}}}`,
			func(t *testing.T, doc map[string]any) {
				geo := doc["service"].(map[string]any)["action"].(map[string]any)["networkConnectionAction"].(map[string]any)["remoteIpDetails"].(map[string]any)["geoLocation"]
				if !reflect.DeepEqual(canonical(t, geo.(map[string]any)), map[string]any{"lat": 1.5, "lon": 2.5}) {
					t.Errorf("geoLocation %v", geo)
				}
				inst := doc["resource"].(map[string]any)["instanceDetails"].(map[string]any)
				if got := mustJSON(inst); got != `{"iamInstanceProfile":{"arn":"a"},"productCodes":[{"productCodeId":"c","productCodeType":"t"}]}` {
					t.Errorf("instanceDetails %s", got)
				}
			}},
		{"timestamps in every form", bare + `, "service": {"ebsVolumeScanDetails": {
			"scanStartedAt": "2024-01-02T03:04:05.5Z", "scanCompletedAt": "2024-01-02 03:04:05+00:00",
			"triggerFindingId": "x"}, "malwareScanDetails": {"scanConfiguration": {"triggerType": "BACKUP"}}},
			"resource": {"ebsSnapshotDetails": {"snapshotArn": "s"}, "eksClusterDetails": {"createdAt": "1700000000.25"},
			"ecsClusterDetails": {"taskDetails": {"TaskCreatedAt": 1700000000, "startedAt": "2024-01-02T03:04:05.123456+02:00"}}}}`,
			func(t *testing.T, doc map[string]any) {
				scan := doc["service"].(map[string]any)["ebsVolumeScanDetails"].(map[string]any)
				if scan["scanStartedAt"] != json.Number("1704164645.5") || scan["scanCompletedAt"] != json.Number("1704164645") {
					t.Errorf("scan times %v", scan)
				}
				res := doc["resource"].(map[string]any)
				if got := res["eksClusterDetails"].(map[string]any)["createdAt"]; got != json.Number("1700000000.25") {
					t.Errorf("epoch text: %v", got)
				}
				task := res["ecsClusterDetails"].(map[string]any)["taskDetails"].(map[string]any)
				if task["createdAt"] != json.Number("1700000000") || task["startedAt"] != json.Number("1704157445.123") {
					t.Errorf("task %v", task)
				}
			}},
		{"integers lose a zero fraction", minimal + `, "service": {"count": 5.0}}`, func(t *testing.T, doc map[string]any) {
			if c := doc["service"].(map[string]any)["count"]; c != json.Number("5") {
				t.Errorf("count %v", c)
			}
		}},
		{"null and empty enums are absent", minimal + `, "title": null, "service": {"ebsVolumeScanDetails": {"scanType": ""}}}`, func(t *testing.T, doc map[string]any) {
			if got := mustJSON(doc["service"]); got != `{"ebsVolumeScanDetails":{}}` {
				t.Errorf("service %s", got)
			}
			if _, ok := doc["title"]; ok {
				t.Error("title: null kept")
			}
		}},
		{"unknown members are kept", minimal + `, "futureMember": {"a": [1]}, "service": {"FutureThing": true}}`, func(t *testing.T, doc map[string]any) {
			if got := mustJSON(doc["futureMember"]); got != `{"a":[1]}` {
				t.Errorf("futureMember %s", got)
			}
			if doc["service"].(map[string]any)["FutureThing"] != true {
				t.Errorf("service %v", doc["service"])
			}
		}},
		{"EventBridge event", `{"version": "0", "detail-type": "GuardDuty Finding", "source": "aws.guardduty", "detail": ` + minimal + `}}`, func(t *testing.T, doc map[string]any) {
			if doc["type"] != "Recon:EC2/PortProbeUnprotectedPort" {
				t.Errorf("detail not unwrapped: %v", doc)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Finding([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, doc)
			}
		})
	}
}

// TestLookup: every name a writer may use for a member finds it, the
// wire name of the two PascalCase members included.
func TestLookup(t *testing.T) {
	for i, s := range wire.FindingDoc {
		for j, m := range s.Members {
			for _, name := range []string{m.JSON, m.Name, strings.ToLower(m.Name[:1]) + m.Name[1:], strings.ToUpper(m.JSON)} {
				if got, ok := docIndex()[i].member(name); !ok || got != j {
					t.Errorf("%s: %q finds member %d (%v), want %d (%s)", s.Name, name, got, ok, j, m.Name)
				}
			}
		}
		if s.Name == "Ec2Instance" {
			j, _ := docIndex()[i].member("iamInstanceProfile")
			if s.Members[j].JSON != "IamInstanceProfile" {
				t.Errorf("Ec2Instance: iamInstanceProfile is %s", s.Members[j].JSON)
			}
		}
	}
}

func TestFindingViolations(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{}`, "6 validation errors detected: Value null at 'createdAt' failed to satisfy constraint: Member must not be null; Value null at 'resource'"},
		{minimal + `, "severity": 0.5}`, "1 validation error detected: Value '0.5' at 'severity' failed to satisfy constraint: Member must have value between 1.0 and 10.0"},
		{minimal + `, "Severity": 3}`, "1 validation error detected: Value at 'severity' failed to satisfy constraint: Member is given twice, as 'severity' and as 'Severity'."},
		{minimal + `, "id": ""}`, "1 validation error detected: Value '' at 'id' failed to satisfy constraint: Member must have length between 1 and 300"},
		{minimal + `, "service": {"count": 1.5, "archived": "no", "eventLastSeen": "later"}, "title": 7}`,
			"3 validation errors detected: Value at 'service.archived' failed to satisfy constraint: Member must be a boolean, not a JSON string.; " +
				"Value '1.5' at 'service.count' failed to satisfy constraint: Member must be an integer of 32 bits; " +
				"Value at 'title' failed to satisfy constraint: Member must be a string, not a JSON number."},
		{minimal + `, "service": {"eventLastSeen": "later"}}`, "1 validation error detected: Value 'later' at 'service.eventLastSeen' failed to satisfy constraint: Member must be an ISO-8601 date and time"},
		{minimal + `, "resource": {"eksClusterDetails": {"createdAt": "soon"}}}`, "1 validation error detected: Value 'soon' at 'resource.eksClusterDetails.createdAt' failed to satisfy constraint: Member must be a timestamp"},
		{minimal + `, "resource": {"eksClusterDetails": {"tags": [null]}}}`, "1 validation error detected: Value null at 'resource.eksClusterDetails.tags.1.member' failed to satisfy constraint: Member must not be null"},
		{minimal + `, "type": ""}`, "1 validation error detected: Value '' at 'type' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{`[1]`, "a record must be a JSON object"},
	}
	for _, tc := range cases {
		_, err := Finding([]byte(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %s", tc.in, err, tc.want)
		}
		var ve *wire.ValidationError
		if strings.Contains(tc.want, "validation error") && !errors.As(err, &ve) {
			t.Errorf("%s: %T is not a *wire.ValidationError", tc.in, err)
		}
	}
}

// TestFindingsNamesTheRecord: Findings numbers records across the forms of
// a body and stops at the first bad one.
func TestFindingsNamesTheRecord(t *testing.T) {
	body := minimal + "}\n" + `{"findings": [` + minimal + `}, ` + minimal + `, "severity": 11}]}`
	n := 0
	var last error
	for _, err := range Findings(strings.NewReader(body)) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if n != 2 || guardpost.ErrorKind(last) != guardpost.EINVALID ||
		!strings.HasPrefix(guardpost.ErrorMessage(last), "Record 3: 1 validation error detected: Value '11' at 'severity'") {
		t.Errorf("%d findings, then %v", n, last)
	}
}

func BenchmarkFinding(b *testing.B) {
	docs := sampleDocs(b)
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.SetBytes(int64(size / len(docs)))
	i := 0
	for b.Loop() {
		if _, err := Finding(docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
