package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/cputime"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// testImport is an import into a detector of a store that has one.
func testImport(t testing.TB) *guardpost.FindingImport {
	t.Helper()
	svc := &guardpost.Service{Store: &discardStore{}}
	im, err := svc.NewImport(context.Background(), guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// sameAsSlow checks that the fast path, where it takes a record, makes of
// it what the general path makes: the same document bytes and the same
// Finding, field for field; and that it takes no record the general path
// refuses (the error is then the general path's own). It reports whether
// the fast path took the record.
func sameAsSlow(t testing.TB, im *guardpost.FindingImport, rec []byte) bool {
	t.Helper()
	r := Record{N: 1, JSON: rec}
	want, wantErr := slowPrepare(im, r)
	got, ok := fastPrepare(im, r)
	if !ok {
		return false
	}
	if wantErr != nil {
		t.Fatalf("fast path took a record the general path refuses (%v):\n%s", wantErr, rec)
	}
	if !bytes.Contains(rec, []byte(`"id"`)) || got.ID != want.ID {
		// Both assigned an id: compare as if they had assigned the same.
		if !bytes.Contains(got.Document, []byte(got.ID)) {
			t.Fatalf("assigned id %s not in the document", got.ID)
		}
		doc := bytes.ReplaceAll(got.Document, []byte(got.ID), []byte(want.ID))
		g := *got
		g.Document = doc
		g.Attributes = append([]guardpost.AttributeValue(nil), got.Attributes...)
		for i := range g.Attributes {
			g.Attributes[i].Text = strings.ReplaceAll(g.Attributes[i].Text, got.ID, want.ID)
		}
		g.ID = want.ID
		got = &g
	}
	if !bytes.Equal(got.Document, want.Document) {
		t.Fatalf("documents differ for\n%s\n got %s\nwant %s", rec, got.Document, want.Document)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings differ for\n%s\n got %+v\nwant %+v", rec, got, want)
	}
	return true
}

// TestFastPathIsSlowPath: over the samples (as they are and in
// PascalCase), thousands of generated findings, the records of the other
// import tests and edge cases of every kind, the fast path gives exactly
// what the general path gives, and it takes the common forms.
func TestFastPathIsSlowPath(t *testing.T) {
	im := testImport(t)
	taken, total := 0, 0
	try := func(rec []byte) bool {
		total++
		if sameAsSlow(t, im, rec) {
			taken++
			return true
		}
		return false
	}
	for _, doc := range sampleDocs(t) {
		if !try(doc) {
			t.Errorf("the fast path does not take sample %s", decode(t, doc)["type"])
		}
		if !try(eventOf(doc)) {
			t.Errorf("the fast path does not take sample %s in an EventBridge event", decode(t, doc)["type"])
		}
		p, _ := json.Marshal(pascal(decode(t, doc), 0))
		try(p)
	}
	for seed := range uint64(3) {
		gen := findinggen.New(seed + 1)
		for i := range 1500 {
			rec, err := gen.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !try(rec) {
				t.Fatalf("the fast path does not take generated finding %d of seed %d:\n%s", i, seed+1, rec)
			}
		}
	}
	for rec := range bytes.SplitSeq(importBody(t), []byte("\n")) {
		if len(bytes.TrimSpace(rec)) > 0 && rec[0] == '{' {
			try(rec)
		}
	}
	for _, rec := range fastPathEdgeCases(t) {
		try([]byte(rec))
	}
	t.Logf("the fast path took %d of %d records", taken, total)
}

// fastPathEdgeCases are records around every rule the fast path applies:
// each is a small change to a sample or to the minimal finding.
func fastPathEdgeCases(t testing.TB) []string {
	base := string(sampleDocs(t)[0])
	repl := func(old, new string) string { return strings.Replace(base, old, new, 1) }
	cases := []string{
		minimal + `}`,
		minimal + `, "id": "kept-id", "service": {"count": 3, "archived": true}}`,
		minimal + `, "id": "kept-id", "service": {"count": 3.0, "archived": true}}`,
		minimal + `, "id": ""}`,
		minimal + `, "id": 7}`,
		minimal + `, "id": "` + strings.Repeat("x", 300) + `"}`,
		minimal + `, "id": "` + strings.Repeat("x", 301) + `"}`,
		minimal + `, "id": "` + strings.Repeat("é", 300) + `"}`,
		minimal + `, "accountId": 5}`,
		minimal + `, "accountId": "not checked", "region": "", "arn": "x", "partition": "p"}`,
		minimal + `, "service": {"detectorId": ""}}`,
		minimal + `, "service": {"detectorId": 3}}`,
		minimal + `, "service": null}`,
		minimal + `, "service": {}}`,
		minimal + `, "title": null}`,
		minimal + `, "title": "a<b>&c \u2028 \u00e9 é \" \\ \/ \b\f\n\r\t \u0001"}`,
		minimal + `, "title": "\ud83d\ude00"}`,
		minimal + ", \"title\": \"raw \u2028 \u2029 \u20ac \u2013 \u00e9 <x> & y\"}",
		minimal + ", \"title\": \"raw \u20ac \u2013 \u00e9\"}",
		minimal + ", \"title\": \"bad \xe2\x82 utf-8\"}",
		minimal + `, "title": "\ud83d"}`,
		minimal + `, "title": "bad \xff utf-8"}`,
		minimal + `, "title": "ctl ` + "\x01" + `"}`,
		minimal + `, "title": 5}`,
		minimal + `, "title": true}`,
		minimal + `, "Title": "x"}`,
		minimal + `, "title": "x", "title": "y"}`,
		minimal + `, "unknown": 1}`,
		minimal + `, "confidence": 1e400}`,
		minimal + `, "confidence": 12345678901234567890123}`,
		minimal + `, "confidence": -0.5e-3}`,
		minimal + `, "confidence": 01}`,
		minimal + `, "confidence": 1x}`,
		minimal + `, "confidence": "5"}`,
		minimal + `}  `,
		minimal + `} x`,
		minimal + `}{}`,
		bare + `}`,
		bare + `, "resource": {}}`,
		bare + `, "resource": []}`,
		bare + `, "resource": {"resourceType": 5}}`,
		strings.Replace(minimal, `"severity": 2`, `"severity": 0.5`, 1) + `}`,
		strings.Replace(minimal, `"severity": 2`, `"severity": 10`, 1) + `}`,
		strings.Replace(minimal, `"severity": 2`, `"severity": 10.01`, 1) + `}`,
		strings.Replace(minimal, `"severity": 2`, `"severity": "high"`, 1) + `}`,
		strings.Replace(minimal, `"createdAt": "2026-01-01T00:00:00.000Z"`, `"createdAt": "2026-01-01 00:00:00"`, 1) + `}`,
		strings.Replace(minimal, `"createdAt": "2026-01-01T00:00:00.000Z"`, `"createdAt": 1767225600`, 1) + `}`,
		strings.Replace(minimal, `"type": "Recon:EC2/PortProbeUnprotectedPort"`, `"type": ""`, 1) + `}`,
		strings.Replace(minimal, `"type": "Recon:EC2/PortProbeUnprotectedPort"`, `"type": "`+strings.Repeat("t", 101)+`"`, 1) + `}`,
		minimal + `, "service": {"eventFirstSeen": "yesterday"}}`,
		minimal + `, "service": {"eventFirstSeen": "2026-01-01T00:00:00Z", "count": 2147483648}}`,
		minimal + `, "service": {"count": -1, "archived": "yes"}}`,
		minimal + `, "service": {"resourceRole": ""}}`,
		minimal + `, "service": {"featureName": ""}}`,
		minimal + `, "service": {"ebsVolumeScanDetails": {"scanType": "ON_DEMAND"}}}`,
		minimal + `, "service": {"ebsVolumeScanDetails": {"scanType": "BOGUS"}}}`,
		minimal + `, "service": {"ebsVolumeScanDetails": {"scanType": ""}}}`,
		minimal + `, "service": {"malwareScanDetails": {"scanType": "BACKUP_INITIATED", "threats": [{"itemDetails": [{"itemPath": ""}]}]}}}`,
		minimal + `, "service": {"malwareScanDetails": {"threats": [{"itemDetails": [{"itemPath": "/x"}]}]}}}`,
		minimal + `, "service": {"detection": {"sequence": {"uid": "u", "description": "d", "signals": [{"uid": "s", "type": "FINDING", "name": "n", "createdAt": 1, "updatedAt": 2, "firstSeenAt": 1, "lastSeenAt": 2, "count": 1}]}}}}`,
		minimal + `, "service": {"detection": {"sequence": {"uid": "u", "description": "d", "signals": [{"uid": "s", "type": "BOGUS"}]}}}}`,
		minimal + `, "service": {"detection": {"anomaly": {"profiles": {"a": {"b": [{"profileType": "FREQUENCY"}]}}, "unusual": {"behavior": {"x": {"y": {"profileType": "FREQUENCY"}}}}}}}}`,
		minimal + `, "service": {"detection": {"anomaly": {"profiles": {"a": {"b": [{"profileType": "OTHER"}]}}}}}}`,
		minimal + `, "service": {"detection": {"anomaly": {"profiles": {"b": {}, "a": {"b": []}, "a": {}}}}}}`,
		minimal + `, "resource": {"resourceType": "Instance", "instanceDetails": {"launchTime": "2026-01-01T00:00:00Z", "networkInterfaces": [null]}}}`,
		minimal + `, "resource": {"resourceType": "Instance", "instanceDetails": {"networkInterfaces": [{"securityGroups": [{"groupId": "sg-1"}, {"groupId": "sg-2"}], "privateIpAddresses": []}]}}}`,
		minimal + `, "resource": {"resourceType": "S3Bucket", "s3BucketDetails": [{"name": "b1", "createdAt": 1767225600.5}, {"name": "b2", "createdAt": 1e3}]}}`,
		minimal + `, "resource": {"resourceType": "S3Bucket", "s3BucketDetails": [{"createdAt": "2026-01-01T00:00:00Z"}]}}`,
		minimal + `, "resource": {"resourceType": "S3Bucket", "s3BucketDetails": [{"createdAt": 1e400}]}}`,
		`{"detail-type": "GuardDuty Finding", "source": "aws.guardduty", "detail": ` + minimal + `}}`,
		`{"detail-type": "Other", "source": "x", "detail": {}}`,
		`{"version": "0", "detail": ` + minimal + `}}`,
		`{"version": "0", "source": "aws.guardduty", "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": 5, "source": "aws.guardduty", "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "detail": ` + minimal + `}, "detail-type": "GuardDuty Finding"}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "detail": ` + minimal + `}, "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "detail": ` + minimal + `, "title": null}}`,
		`{"version": "0", "detail-type": "GuardDuty\u0020Finding", "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "x": {"a": [1, -2.5e3, true, false, null, "\u00e9\n", {}], "a": 1}, "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "x": {"a": [1, -2.5e3, true, false, null, "\u00e9\n", {}]}, "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "x": {"\u0061": 1}, "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "x": [01], "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "x": "\x", "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "x": nul, "detail": ` + minimal + `}}`,
		`{"version": "0", "detail-type": "GuardDuty Finding", "detail": []}`,
		`{"version": "0", "detail-type": "GuardDuty Finding"}`,
		`{"unknownFirst": 1, "schemaVersion": "2.0"}`,
		`[` + minimal + `}]`,
		`7`,
		``,
		`{`,
		repl(`"schemaVersion"`, `"SchemaVersion"`),
		repl(`"severity":`, `"severity":  `),
		repl(`{`, "{\n\t"),
	}
	// Every member of a sample: left out, null, of another kind.
	var doc map[string]any
	if err := json.Unmarshal([]byte(base), &doc); err != nil {
		t.Fatal(err)
	}
	for k := range doc {
		for _, v := range []any{nil, "text", 1.5, []any{}, map[string]any{}, true} {
			d := map[string]any{}
			for k2, v2 := range doc {
				d[k2] = v2
			}
			d[k] = v
			b, _ := json.Marshal(d)
			cases = append(cases, string(b))
		}
		d := map[string]any{}
		for k2, v2 := range doc {
			if k2 != k {
				d[k2] = v2
			}
		}
		b, _ := json.Marshal(d)
		cases = append(cases, string(b))
	}
	// Members in another order than json.Marshal's.
	b, _ := json.MarshalIndent(doc, "", " ")
	cases = append(cases, reverseMembers(string(b)))
	return cases
}

// eventOf wraps a finding in an EventBridge event, as EventBridge
// delivers it.
func eventOf(finding []byte) []byte {
	return []byte(`{"version":"0","id":"6f5b1b8c-0000-4000-8000-000000000000","detail-type":"GuardDuty Finding",` +
		`"source":"aws.guardduty","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1",` +
		`"resources":[],"detail":` + string(finding) + `}`)
}

// reverseMembers writes a JSON object's members in reverse order, at the
// top level only.
func reverseMembers(doc string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(doc), &m) != nil {
		return doc
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("{")
	for i := len(keys) - 1; i >= 0; i-- {
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", keys[i], m[keys[i]])
	}
	b.WriteString("}")
	return b.String()
}

// FuzzFastPath: whatever the record, the fast path agrees with the general
// path (see sameAsSlow).
func FuzzFastPath(f *testing.F) {
	for _, doc := range sampleDocs(f)[:20] {
		f.Add(doc)
	}
	gen := findinggen.New(11)
	for range 10 {
		rec, err := gen.Next()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(rec)
	}
	for _, rec := range fastPathEdgeCases(f) {
		f.Add([]byte(rec))
	}
	im := testImport(f)
	f.Fuzz(func(t *testing.T, rec []byte) {
		sameAsSlow(t, im, rec)
	})
}

// BenchmarkPrepare is one record's decoding, checking, stamping and
// making into a stored finding, by the fast path and by the general one,
// over generated findings: ns/op and allocs/op are per record.
func BenchmarkPrepare(b *testing.B) {
	im := testImport(b)
	gen := findinggen.New(1)
	recs := make([]Record, 500)
	for i := range recs {
		rec, err := gen.Next()
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = Record{N: i + 1, JSON: rec}
	}
	// cpu-ns/op is the process's CPU time (the collector's included) per
	// record: steadier than ns/op on a shared machine.
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cputime.Process()
		i := 0
		for b.Loop() {
			if _, ok := fastPrepare(im, recs[i%len(recs)]); !ok {
				b.Fatal("not taken")
			}
			i++
		}
		b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	b.Run("general", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cputime.Process()
		i := 0
		for b.Loop() {
			if _, err := slowPrepare(im, recs[i%len(recs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
}
