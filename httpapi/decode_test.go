package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guardpost/guardpost/httpapi/wire"
)

// TestDecodeBodyNamesTheMember checks that a value of the wrong type, or a
// number too large for its member, is reported with the member's full path,
// map keys included.
func TestDecodeBodyNamesTheMember(t *testing.T) {
	type stamped struct {
		When  *wire.Timestamp            `json:"when"`
		Stamp map[string]*wire.Timestamp `json:"stamps"`
		Blob  []byte                     `json:"blob"`
		Ratio *float64                   `json:"ratio"`
	}
	const at = "' failed to satisfy constraint: "
	cases := []struct {
		name string
		in   any
		body string
		want string
	}{
		{"string in a widened member", &wire.ListFindingsRequest{},
			`{"findingCriteria":{"criterion":{"updatedAt":{"gte":"abc"}}}}`,
			"Value at 'findingCriteria.criterion.updatedAt.gte" + at + "Member must be an integer, not a JSON string."},
		{"Long too large", &wire.ListFindingsRequest{},
			`{"findingCriteria":{"criterion":{"updatedAt":{"greaterThan":1e30}}}}`,
			"Value '1e30' at 'findingCriteria.criterion.updatedAt.greaterThan" + at +
				"Member must be a 64-bit integer; the number is too large (the largest is 9223372036854775807)."},
		{"Long too large by one", &wire.ListFindingsRequest{},
			`{"findingCriteria":{"criterion":{"severity":{"lessThan":9223372036854775808}}}}`,
			"Value '9223372036854775808' at 'findingCriteria.criterion.severity.lessThan" + at +
				"Member must be a 64-bit integer; the number is too large (the largest is 9223372036854775807)."},
		{"Long too small", &wire.ListFindingsRequest{},
			`{"findingCriteria":{"criterion":{"severity":{"lte":-9223372036854775809}}}}`,
			"Value '-9223372036854775809' at 'findingCriteria.criterion.severity.lte" + at +
				"Member must be a 64-bit integer; the number is too small (the smallest is -9223372036854775808)."},
		{"Integer too large", &wire.ListFindingsRequest{}, `{"maxResults":99999999999}`,
			"Value '99999999999' at 'maxResults" + at + "Member must be a 32-bit integer; the number is too large (the largest is 2147483647)."},
		{"fraction in an integer", &wire.ListFindingsRequest{}, `{"maxResults":1.5}`,
			"Value '1.5' at 'maxResults" + at + "Member must be an integer, written without a fraction or exponent."},
		{"exponent in an integer", &wire.ListFindingsRequest{}, `{"maxResults":1e1}`,
			"Value '1e1' at 'maxResults" + at + "Member must be an integer, written without a fraction or exponent."},
		{"huge exponent", &wire.ListFindingsRequest{}, `{"maxResults":1e999999999}`,
			"Value '1e999999999' at 'maxResults" + at + "Member must be a 32-bit integer; the number is too large (the largest is 2147483647)."},
		{"list element", &wire.GetFindingsRequest{}, `{"findingIds":["a",1]}`,
			"Value at 'findingIds.2.member" + at + "Member must be a string, not a JSON number."},
		{"list not a list", &wire.GetFindingsRequest{}, `{"findingIds":"abc"}`,
			"Value at 'findingIds" + at + "Member must be a list, not a JSON string."},
		{"map value", &wire.CreateDetectorRequest{}, `{"enable":true,"tags":{"team":1}}`,
			"Value at 'tags.team" + at + "Member must be a string, not a JSON number."},
		{"boolean", &wire.CreateDetectorRequest{}, `{"enable":"yes"}`,
			"Value at 'enable" + at + "Member must be a boolean, not a JSON string."},
		{"structure not an object", &wire.ListFindingsRequest{}, `{"findingCriteria":[]}`,
			"Value at 'findingCriteria" + at + "Member must be an object, not a JSON array."},
		{"first in document order", &wire.ListFindingsRequest{},
			`{"unknown":{"x":[1,{"y":2}]},"maxResults":"x","findingCriteria":{"criterion":{"a":{"gte":"y"}}}}`,
			"Value at 'maxResults" + at + "Member must be an integer, not a JSON string."},
		{"nulls fit anything", &wire.ListFindingsRequest{},
			`{"maxResults":null,"findingCriteria":{"criterion":{"a":{"gte":null,"equals":[null]}}},"sortCriteria":"x"}`,
			"Value at 'sortCriteria" + at + "Member must be an object, not a JSON string."},
		{"body a list", &wire.GetFindingsRequest{}, `[1,2]`, "The request body must be a JSON object, not a JSON array."},
		{"body a string", &wire.GetFindingsRequest{}, `"x"`, "The request body must be a JSON object, not a JSON string."},
		{"timestamp as text", &stamped{}, `{"when":"2024-01-01T00:00:00Z"}`,
			"Value at 'when" + at + "Member must be a timestamp in epoch seconds, not a JSON string."},
		{"timestamp out of range", &stamped{}, `{"stamps":{"a":1,"b":1e300}}`,
			"Value '1e300' at 'stamps.b" + at + "Member must be a timestamp in epoch seconds; the number is out of range."},
		{"blob not base64", &stamped{}, `{"blob":"*"}`,
			"Value at 'blob" + at + "Member must be base64-encoded."},
		{"double out of range", &stamped{}, `{"ratio":1e400}`,
			"Value '1e400' at 'ratio" + at + "Member must be a number; the number is too large for a 64-bit float."},
		{"long literal shortened", &wire.ListFindingsRequest{}, `{"maxResults":` + strings.Repeat("9", 100) + `}`,
			"Value '" + strings.Repeat("9", 40) + "...' at 'maxResults" + at +
				"Member must be a 32-bit integer; the number is too large (the largest is 2147483647)."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := decodeBody([]byte(c.body), c.in)
			if err == nil {
				t.Fatal("decoded without error")
			}
			e := toAPIError(err)
			if e.Status != http.StatusBadRequest || e.Type != "BadRequestException" {
				t.Errorf("%d %s, want 400 BadRequestException", e.Status, e.Type)
			}
			if e.Message != c.want {
				t.Errorf("message\n%s\nwant\n%s", e.Message, c.want)
			}
		})
	}
}

// TestDecodeBodyWideDeprecatedBounds checks that the deprecated range
// operators take 64-bit values, such as epoch milliseconds.
func TestDecodeBodyWideDeprecatedBounds(t *testing.T) {
	var in wire.ListFindingsRequest
	body := `{"findingCriteria":{"criterion":{"updatedAt":{"gte":1700000000000,"lt":-9223372036854775808,"gt":9223372036854775807,"lte":0}}}}`
	if err := decodeBody([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	c := in.FindingCriteria.Criterion["updatedAt"]
	if *c.Gte != 1700000000000 || *c.Lt != -9223372036854775808 || *c.Gt != 9223372036854775807 || *c.Lte != 0 {
		t.Fatalf("gte %d lt %d gt %d lte %d", *c.Gte, *c.Lt, *c.Gt, *c.Lte)
	}
	crit := criteria(in.FindingCriteria)["updatedAt"]
	if *crit.GreaterThanOrEqual != 1700000000000 || *crit.LessThan != -9223372036854775808 {
		t.Fatalf("folded into %+v", crit)
	}
	// The current operator wins over its deprecated spelling.
	in = wire.ListFindingsRequest{}
	if err := decodeBody([]byte(`{"findingCriteria":{"criterion":{"updatedAt":{"gte":1,"greaterThanOrEqual":2}}}}`), &in); err != nil {
		t.Fatal(err)
	}
	if got := *criteria(in.FindingCriteria)["updatedAt"].GreaterThanOrEqual; got != 2 {
		t.Fatalf("greaterThanOrEqual %d, want 2", got)
	}
}

// TestDecodeBodyOtherErrorsUnchanged pins the messages of errors that are
// not about a value's type.
func TestDecodeBodyOtherErrorsUnchanged(t *testing.T) {
	for body, want := range map[string]string{
		`{"findingIds":`:       "The request body is not valid JSON: it ends too early.",
		`{"findingIds":[]} {}`: "The request body is not valid JSON: unexpected data after the top-level value.",
		`{"findingIds":[}`:     "The request body is not valid JSON: invalid character '}' looking for beginning of value (at byte 16).",
	} {
		err := decodeBody([]byte(body), &wire.GetFindingsRequest{})
		if err == nil || toAPIError(err).Message != want {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}

// TestDecodeBodyFastPathAgrees checks decodeBody's Unmarshal fast path
// against decodeStrict alone: the same error text for every body, and the
// same decoded input for every body both accept.
func TestDecodeBodyFastPathAgrees(t *testing.T) {
	bodies := []string{
		`{"findingIds":["a","b"],"sortCriteria":{"attributeName":"severity","orderBy":"DESC"}}`,
		` {"findingIds":[]} ` + "\n\t\r",
		`{"findingIds":["a"]} {"findingIds":["b"]}`,
		`{"findingIds":["a"]}]`,
		`{"findingIds":["a"]}x`,
		`{"findingIds":["a"]`,
		`{"findingIds":"a"}`,
		`{"findingIds":[1]}`,
		`{"findingIds":["a"],"findingIds":["b"]}`,
		`{"findingids":["a"],"unknown":{"x":[1,2]}}`,
		`{"sortCriteria":{"attributeName":1}}`,
		`[]`, `"x"`, `null`, `{}`, `{"findingIds":null}`, "\ufeff{}", `{"findingIds":["\ud800"]}`,
		`{"findingIds":["a"]}` + "\x00",
	}
	for _, b := range bodies {
		fastPathAgrees(t, []byte(b))
	}
}

// FuzzDecodeBodyFastPath is TestDecodeBodyFastPathAgrees over any body:
//
//	go test ./httpapi -run '^$' -fuzz FuzzDecodeBodyFastPath -fuzztime 1m
func FuzzDecodeBodyFastPath(f *testing.F) {
	f.Add([]byte(`{"findingIds":["a","b"],"sortCriteria":{"attributeName":"severity","orderBy":"DESC"}}`))
	f.Add([]byte(`{"findingIds":["a"]} {}`))
	f.Add([]byte(`{"sortCriteria":{"attributeName":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(bytes.TrimSpace(body)) > 0 {
			fastPathAgrees(t, body)
		}
	})
}

func fastPathAgrees(t *testing.T, body []byte) {
	t.Helper()
	var fast, strict wire.GetFindingsRequest
	errFast, errStrict := decodeBody(body, &fast), error(nil)
	if !utf8.Valid(body) {
		errStrict = serializationError(body)
	} else {
		exact, _ := exactKeys(body, &strict)
		errStrict = decodeStrict(exact, &strict)
	}
	if fmt.Sprint(errFast) != fmt.Sprint(errStrict) {
		t.Errorf("%q: decodeBody says %v, decodeStrict %v", body, errFast, errStrict)
	}
	if errFast == nil && !reflect.DeepEqual(fast, strict) {
		t.Errorf("%q: decodeBody gives %+v, decodeStrict %+v", body, fast, strict)
	}
}

// TestDecodeBodyExact: decoding is as exact as AWS's parsers. A key that
// names a member only when case is ignored is an unknown key, ignored
// (encoding/json alone binds it); map keys are data and stay as sent; a
// body that is not valid UTF-8 is refused with SerializationException
// (encoding/json alone replaces the bytes).
func TestDecodeBodyExact(t *testing.T) {
	var get wire.GetFindingsRequest
	if err := decodeBody([]byte(`{"FindingIds":["a"],"findingIDs":["b"],"sortCriteria":{"AttributeName":"x","orderBy":"ASC"}}`), &get); err != nil {
		t.Fatal(err)
	}
	if get.FindingIds != nil || get.SortCriteria == nil || get.SortCriteria.AttributeName != nil {
		t.Errorf("keys in another case were bound: %+v %+v", get, get.SortCriteria)
	}
	var list wire.ListFindingsRequest
	if err := decodeBody([]byte(`{"FindingCriteria":{"criterion":{"severity":{"gte":4}}},"findingCriteria":{"criterion":{"Severity":{"Gte":4,"gte":5}}}}`), &list); err != nil {
		t.Fatal(err)
	}
	c, ok := list.FindingCriteria.Criterion["Severity"]
	if !ok || c.Gte == nil || *c.Gte != 5 || len(list.FindingCriteria.Criterion) != 1 {
		t.Errorf("criterion %+v", list.FindingCriteria.Criterion)
	}
	for _, body := range []string{"{\"findingIds\":[\"a\xffb\"]}", "{\"findingIds\":[\"\xc3\"]}", "{\"x\xfe\":1}"} {
		err := decodeBody([]byte(body), &wire.GetFindingsRequest{})
		e := toAPIError(err)
		if err == nil || e.Status != http.StatusBadRequest || e.Type != "SerializationException" {
			t.Errorf("%q: %v, want 400 SerializationException", body, err)
		}
	}
}
