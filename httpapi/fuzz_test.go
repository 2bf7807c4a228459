package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/guardpost/guardpost/httpapi/wire"
)

// FuzzDecodeAndValidate feeds arbitrary bodies, query strings and labels
// through the edge of every operation: binding, JSON decoding and
// validation must answer a client error, never panic or fail otherwise.
//
//	go test ./httpapi -run '^$' -fuzz FuzzDecodeAndValidate -fuzztime 5m
func FuzzDecodeAndValidate(f *testing.F) {
	seeds := []struct {
		op          string
		body, query string
	}{
		{"GetFindings", `{"findingIds":["a","b"],"sortCriteria":{"attributeName":"severity","orderBy":"DESC"}}`, ""},
		{"ListFindings", `{"findingCriteria":{"criterion":{"severity":{"gte":4,"equals":["x"]}}},"maxResults":50,"nextToken":"t"}`, ""},
		{"CreateDetector", `{"enable":true,"tags":{"k":"v"},"features":[{"name":"RUNTIME_MONITORING","status":"ENABLED","additionalConfiguration":[{"name":"EC2_AGENT_MANAGEMENT","status":"ENABLED"}]}]}`, ""},
		{"ListDetectors", ``, "maxResults=3&nextToken=abc"},
		{"CreateFilter", `{"name":"abc","rank":3,"action":"ARCHIVE","findingCriteria":{"criterion":{"type":{"eq":["x"]}}}}`, ""},
		{"UntagResource", ``, "tagKeys=a&tagKeys=b"},
		{"CreateSampleFindings", `{"findingTypes":["Recon:EC2/Portscan"]}`, ""},
		{"GetFindings", `{"findingIds":[1.5e999]}`, ""},
		{"ListFindings", `{"findingCriteria":{"criterion":{"updatedAt":{"gte":"abc","greaterThan":1e30}}}}`, ""},
		{"CreateFilter", `{"name":"n","FindingCriteria":{"Criterion":{"a":{"lte":[1],"eq":[null,2]}}},"rank":-1e3}`, ""},
	}
	index := map[string]int{}
	for i, op := range wire.Operations {
		index[op.Name] = i
	}
	for _, s := range seeds {
		f.Add(uint8(index[s.op]), []byte(s.body), s.query, "d1")
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte, query, label string) {
		op := wire.Operations[int(opIndex)%len(wire.Operations)]
		in := op.NewInput()
		q, _ := url.ParseQuery(query)
		var ve *wire.ValidationError
		if err := in.BindHTTP(func(string) string { return label }, q, http.Header{}); err != nil && !errors.As(err, &ve) {
			t.Fatalf("%s: BindHTTP returned %T %v, want a validation error", op.Name, err, err)
		}
		if err := decodeBody(body, in); err != nil {
			if e := toAPIError(err); e.Status != http.StatusBadRequest {
				t.Fatalf("%s: decode error maps to %d %s", op.Name, e.Status, e.Type)
			}
			// A valid JSON body refused by encoding/json has a value that
			// does not fit: the message must name it with its path.
			if json.Valid(body) {
				if _, ok := typeErrorMessage(body, op.NewInput()); !ok {
					t.Fatalf("%s: %v: no offending value found in %s", op.Name, err, body)
				}
			}
			return
		}
		if err := in.Validate(); err != nil && !errors.As(err, &ve) {
			t.Fatalf("%s: Validate returned %T %v", op.Name, err, err)
		}
	})
}
