package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// captureStore keeps what a finding write receives.
type captureStore struct {
	discardStore
	findings   []*guardpost.Finding
	noDetector bool
}

func (s *captureStore) Detectors(ctx context.Context, scope guardpost.Scope, after string, limit int) ([]*guardpost.Detector, error) {
	if s.noDetector {
		return nil, nil
	}
	return s.discardStore.Detectors(ctx, scope, after, limit)
}

func (s *captureStore) MergeFindings(ctx context.Context, scope guardpost.Scope, detectorID string, findings []*guardpost.Finding, newMerge func([]*guardpost.Filter) guardpost.MergeFunc) ([]guardpost.FindingChange, error) {
	s.findings = append(s.findings, findings...)
	return s.discardStore.MergeFindings(ctx, scope, detectorID, findings, newMerge)
}

// importBody is a body of many forms: generated findings, the samples in
// wire and PascalCase form, one without id and one without service, across
// several of Import's chunks.
func importBody(t *testing.T) []byte {
	var body bytes.Buffer
	gen := findinggen.New(7)
	for range 3*chunkRecords + 5 {
		rec, err := gen.Next()
		if err != nil {
			t.Fatal(err)
		}
		body.Write(rec)
		body.WriteByte('\n')
	}
	body.WriteString("[")
	for i, doc := range sampleDocs(t) {
		if i > 0 {
			body.WriteString(",")
		}
		if i%2 == 1 {
			p, _ := json.Marshal(pascal(decode(t, doc), 0))
			doc = p
		}
		body.Write(doc)
	}
	body.WriteString("]\n")
	body.WriteString(bare + `, "resource": {"resourceType": "Instance"}, "unknownMember": {"x": [1, 2.50, "<&>"]}}` + "\n")
	body.WriteString(minimal + `, "id": "kept-id", "service": {"count": 3.0, "archived": true}}` + "\n")
	return body.Bytes()
}

// TestImportIsImportFindings: Import stores exactly the findings that
// Findings and then ImportFindings's former one-by-one path (encode the
// stamped document, then ParseFinding) make of the same body.
func TestImportIsImportFindings(t *testing.T) {
	body := importBody(t)
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	ctx := context.Background()
	store := &captureStore{}
	svc := &guardpost.Service{Store: store}
	rep, err := Import(ctx, svc, scope, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != len(store.findings) || rep.Created != rep.Records {
		t.Fatalf("report %+v for %d findings", rep, len(store.findings))
	}
	i := 0
	for doc, err := range Findings(bytes.NewReader(body)) {
		if err != nil {
			t.Fatal(err)
		}
		got := store.findings[i]
		i++
		if _, ok := doc["id"]; !ok {
			doc["id"] = got.ID // assigned: take the one Import chose
		}
		arn := "arn:aws:guardduty:us-east-1:111122223333:detector/0123456789abcdef0123456789abcdef/finding/" + doc["id"].(string)
		doc["accountId"], doc["region"], doc["partition"], doc["arn"] = scope.AccountID, scope.Region, "aws", arn
		svcObj, _ := doc["service"].(map[string]any)
		if svcObj == nil {
			svcObj = map[string]any{}
			doc["service"] = svcObj
		}
		svcObj["detectorId"] = "0123456789abcdef0123456789abcdef"
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		want, err := guardpost.ParseFinding(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if i != len(store.findings) {
		t.Fatalf("%d findings stored, %d read", len(store.findings), i)
	}
}

// TestImportErrors: Import fails as ImportFindings over Findings does, with
// the first failing record's error, and writes nothing.
func TestImportErrors(t *testing.T) {
	good := importBody(t)
	lines := bytes.SplitAfter(bytes.TrimSpace(good), []byte("\n"))
	with := func(at int, bad string) string {
		var b strings.Builder
		for i, l := range lines {
			if i == at {
				b.WriteString(bad)
			}
			b.Write(l)
		}
		return b.String()
	}
	bigNumber := minimal + `, "unknown": 1e400}`
	cases := map[string]string{
		"empty":                 " \n ",
		"syntax first":          `{"a": }` + string(good),
		"syntax late":           with(2*chunkRecords+3, `{"id": "x",,}`),
		"truncated":             string(good) + `{"id": "x"`,
		"invalid late":          with(chunkRecords+1, minimal+`, "severity": 11}`+"\n"),
		"invalid then syntax":   with(5, minimal+`, "severity": 11}`+"\n") + "]",
		"not an object":         with(20, "7\n"),
		"big number":            with(9, bigNumber+"\n"),
		"event of another kind": with(1, `{"detail-type": "Other", "source": "x", "detail": {}}`+"\n"),
		"findings not a list":   `{"findings": 3}`,
	}
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	ctx := context.Background()
	run := func(body string, limit int64, noDetector bool, f func(svc *guardpost.Service, r io.Reader) (guardpost.ImportReport, error)) (guardpost.ImportReport, error, int) {
		store := &captureStore{noDetector: noDetector}
		content, err := Open(strings.NewReader(body), false, limit)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := f(&guardpost.Service{Store: store}, content)
		return rep, err, len(store.findings)
	}
	check := func(name, body string, limit int64, noDetector bool) {
		t.Helper()
		rep, err, n := run(body, limit, noDetector, func(svc *guardpost.Service, r io.Reader) (guardpost.ImportReport, error) {
			return Import(ctx, svc, scope, r)
		})
		wantRep, wantErr, _ := run(body, limit, noDetector, func(svc *guardpost.Service, r io.Reader) (guardpost.ImportReport, error) {
			return svc.ImportFindings(ctx, scope, Findings(r))
		})
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || guardpost.ErrorKind(err) != guardpost.ErrorKind(wantErr) ||
			errors.Is(err, ErrTooLarge) != errors.Is(wantErr, ErrTooLarge) {
			t.Errorf("%s: error\n got %v\nwant %v", name, err, wantErr)
		}
		if err != nil && n != 0 {
			t.Errorf("%s: %d findings written with an error", name, n)
		}
		if rep != wantRep {
			t.Errorf("%s: report %+v, want %+v", name, rep, wantRep)
		}
	}
	for name, body := range cases {
		check(name, body, 1<<30, false)
	}
	check("too large", string(good), int64(len(good)/2), false)
	check("no detector", string(good), 1<<30, true)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Import(cctx, &guardpost.Service{Store: &captureStore{}}, scope, bytes.NewReader(good)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}
