package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// snippet is a small hand-written model that uses the features the
// GuardDuty model has plus several it lacks (greedy labels, headers,
// query literals, boolean and double query parameters, httpQueryParams,
// httpPrefixHeaders, member-level constraints, blobs, unions).
const snippet = `{
  "smithy": "2.0",
  "shapes": {
    "ex#Svc": {"type": "service", "version": "1", "operations": []},
    "ex#DoThing": {
      "type": "operation",
      "input": {"target": "ex#DoThingRequest"},
      "output": {"target": "ex#DoThingResponse"},
      "traits": {"smithy.api#http": {"method": "POST", "uri": "/things/{ThingId}", "code": 201}}
    },
    "ex#GetFile": {
      "type": "operation",
      "input": {"target": "ex#GetFileRequest"},
      "output": {"target": "smithy.api#Unit"},
      "traits": {"smithy.api#http": {"method": "GET", "uri": "/files/{Path+}"}}
    },
    "ex#Ping": {
      "type": "operation",
      "output": {"target": "smithy.api#Unit"},
      "traits": {"smithy.api#http": {"method": "GET", "uri": "/ping?mode=fast"}}
    },
    "ex#DoThingRequest": {
      "type": "structure",
      "members": {
        "ThingId": {"target": "ex#ThingId", "traits": {"smithy.api#httpLabel": {}, "smithy.api#required": {}}},
        "Zeta": {"target": "smithy.api#String", "traits": {"smithy.api#jsonName": "zeta", "smithy.api#required": {}}},
        "Max": {"target": "ex#Max", "traits": {"smithy.api#httpQuery": "max"}},
        "Ratio": {"target": "smithy.api#Double", "traits": {"smithy.api#httpQuery": "ratio"}},
        "Dry": {"target": "smithy.api#Boolean", "traits": {"smithy.api#httpQuery": "dry"}},
        "Ids": {"target": "ex#Counts", "traits": {"smithy.api#httpQuery": "id"}},
        "Token": {"target": "ex#Secret", "traits": {"smithy.api#httpHeader": "X-Token"}},
        "Labels": {"target": "ex#Names", "traits": {"smithy.api#httpHeader": "X-Labels"}},
        "Rest": {"target": "ex#StringMap", "traits": {"smithy.api#httpQueryParams": {}}},
        "Meta": {"target": "ex#StringMap", "traits": {"smithy.api#httpPrefixHeaders": "X-Meta-"}},
        "Alpha": {"target": "ex#Mode", "traits": {"smithy.api#jsonName": "alpha"}},
        "Items": {"target": "ex#Items", "traits": {"smithy.api#jsonName": "items"}},
        "Raw": {"target": "ex#Name"},
        "Short": {"target": "ex#Name", "traits": {"smithy.api#jsonName": "short", "smithy.api#length": {"max": 2}}},
        "Stamp": {"target": "smithy.api#Timestamp", "traits": {"smithy.api#jsonName": "stamp"}},
        "Blob": {"target": "smithy.api#Blob", "traits": {"smithy.api#jsonName": "blob"}},
        "Nested": {"target": "ex#Nested", "traits": {"smithy.api#jsonName": "nested"}},
        "Choice": {"target": "ex#Choice", "traits": {"smithy.api#jsonName": "choice"}},
        "Tags": {"target": "ex#TagMap", "traits": {"smithy.api#jsonName": "tags"}}
      }
    },
    "ex#DoThingResponse": {
      "type": "structure",
      "members": {
        "Code": {"target": "smithy.api#Integer", "traits": {"smithy.api#httpResponseCode": {}}},
        "Stamps": {"target": "ex#Stamps", "traits": {"smithy.api#jsonName": "stamps"}}
      }
    },
    "ex#GetFileRequest": {
      "type": "structure",
      "members": {
        "Path": {"target": "smithy.api#String", "traits": {"smithy.api#httpLabel": {}, "smithy.api#required": {}}}
      }
    },
    "ex#Item": {
      "type": "structure",
      "members": {
        "Name": {"target": "ex#Name", "traits": {"smithy.api#jsonName": "name", "smithy.api#required": {}}},
        "Count": {"target": "smithy.api#Integer", "traits": {"smithy.api#jsonName": "count"}}
      }
    },
    "ex#Choice": {
      "type": "union",
      "members": {
        "A": {"target": "smithy.api#String", "traits": {"smithy.api#jsonName": "a"}},
        "B": {"target": "smithy.api#Long", "traits": {"smithy.api#jsonName": "b"}}
      }
    },
    "ex#ThingId": {"type": "string", "traits": {"smithy.api#length": {"min": 1, "max": 5}}},
    "ex#Name": {"type": "string", "traits": {"smithy.api#length": {"min": 1, "max": 4}, "smithy.api#pattern": "^(?!x-)[a-z-]+$"}},
    "ex#Secret": {"type": "string", "traits": {"smithy.api#sensitive": {}, "smithy.api#length": {"min": 3}}},
    "ex#Max": {"type": "integer", "traits": {"smithy.api#range": {"min": 1, "max": 10}}},
    "ex#Mode": {"type": "enum", "members": {
      "FAST": {"target": "smithy.api#Unit", "traits": {"smithy.api#enumValue": "fast"}},
      "SLOW": {"target": "smithy.api#Unit", "traits": {"smithy.api#enumValue": "slow"}}
    }},
    "ex#Items": {"type": "list", "member": {"target": "ex#Item"}, "traits": {"smithy.api#length": {"max": 2}}},
    "ex#Counts": {"type": "list", "member": {"target": "ex#Max"}},
    "ex#Names": {"type": "list", "member": {"target": "smithy.api#String"}},
    "ex#Stamps": {"type": "list", "member": {"target": "smithy.api#Timestamp"}},
    "ex#StringMap": {"type": "map", "key": {"target": "smithy.api#String"}, "value": {"target": "smithy.api#String"}},
    "ex#Nested": {"type": "map", "key": {"target": "smithy.api#String"}, "value": {"target": "ex#Inner"}},
    "ex#Inner": {"type": "map", "key": {"target": "smithy.api#String"}, "value": {"target": "ex#Items"}},
    "ex#TagMap": {"type": "map", "key": {"target": "ex#Name"}, "value": {"target": "ex#Name"}, "traits": {"smithy.api#length": {"min": 1}}}
  }
}`

func generateSnippet(t *testing.T, src string) map[string][]byte {
	t.Helper()
	m, err := ParseModel([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := Generate(m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestMembersKeepModelOrder(t *testing.T) {
	m, err := ParseModel([]byte(snippet))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mem := range m.Shapes["ex#DoThingRequest"].Members {
		names = append(names, mem.Name)
	}
	if got := strings.Join(names[:3], ","); got != "ThingId,Zeta,Max" {
		t.Errorf("member order %s", got)
	}
}

func TestShapesTypesAndTags(t *testing.T) {
	src := string(generateSnippet(t, snippet)["shapes_gen.go"])
	if !strings.HasPrefix(src, "// Code generated by internal/codegen. DO NOT EDIT.\n") {
		t.Error("missing generated-code header")
	}
	for _, want := range []string{
		"ThingId *string `json:\"-\"`",
		"Zeta    *string `json:\"zeta,omitempty\"`",
		"Max     *int32  `json:\"-\"`",
		"Ratio   *float64",
		"Dry     *bool",
		"Ids     []int32 `json:\"-\"`",
		"Rest    map[string]string `json:\"-\"`",
		"Raw     *string `json:\"Raw,omitempty\"`", // no jsonName: member name verbatim
		"Items   []Item  `json:\"items,omitzero\"`",
		"Stamp   *Timestamp",
		"Blob    []byte",
		"Nested  map[string]map[string][]Item `json:\"nested,omitzero\"`",
		"Choice  *Choice",
		"Code   *int32      `json:\"-\"`",
		"Stamps []Timestamp `json:\"stamps,omitzero\"`",
		"B *int64  `json:\"b,omitempty\"`",
		"// DoThingRequest is the input of DoThing.",
	} {
		if !strings.Contains(squeeze(src), squeeze(want)) {
			t.Errorf("shapes_gen.go lacks %q", want)
		}
	}
	enums := string(generateSnippet(t, snippet)["enums_gen.go"])
	if !strings.Contains(enums, `"Mode": {"fast", "slow"},`) {
		t.Errorf("enums_gen.go:\n%s", enums)
	}
}

// squeeze collapses runs of spaces so gofmt's column alignment does not
// matter to the assertions.
func squeeze(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func TestRoutes(t *testing.T) {
	src := string(generateSnippet(t, snippet)["routes_gen.go"])
	for _, want := range []string{
		`{Name: "DoThing", Method: "POST", Path: "/things/{ThingId}", Code: 201, NewInput: func() Input { return new(DoThingRequest) }},`,
		`{Name: "GetFile", Method: "GET", Path: "/files/{Path...}", Code: 200,`,
		`// The URI also has the query literal "mode=fast", which is not routed on.`,
		`{Name: "Ping", Method: "GET", Path: "/ping", Code: 200, NewInput: func() Input { return new(NoInput) }},`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("routes_gen.go lacks %q\n%s", want, src)
		}
	}
}

func TestMuxPattern(t *testing.T) {
	for _, c := range []struct{ uri, pattern, query string }{
		{"/detector/{DetectorId}/findings/get", "/detector/{DetectorId}/findings/get", ""},
		{"/files/{Key+}", "/files/{Key...}", ""},
		{"/x?a=b&c", "/x", "a=b&c"},
		{"/x/", "/x/{$}", ""},
	} {
		p, q, _, err := muxPattern(c.uri)
		if err != nil || p != c.pattern || q != c.query {
			t.Errorf("muxPattern(%q) = %q, %q, %v; want %q, %q", c.uri, p, q, err, c.pattern, c.query)
		}
	}
	for _, bad := range []string{"/a/{B+}/c", "/a/x{B}", "noslash"} {
		if _, _, _, err := muxPattern(bad); err == nil {
			t.Errorf("muxPattern(%q) succeeded", bad)
		}
	}
}

func TestQueryLiteralCollisionIsAnError(t *testing.T) {
	src := strings.Replace(snippet, `"ex#Svc"`, `"ex#Ping2": {"type": "operation", "traits": {"smithy.api#http": {"method": "GET", "uri": "/ping?mode=slow"}}},
    "ex#Svc"`, 1)
	m, err := ParseModel([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Generate(m, Config{}); err == nil || !strings.Contains(err.Error(), "both route to GET /ping") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnsupportedTraitsFail(t *testing.T) {
	for name, edit := range map[string][2]string{
		"httpPayload":  {`"Zeta": {"target": "smithy.api#String", "traits": {`, `"Zeta": {"target": "smithy.api#String", "traits": {"smithy.api#httpPayload": {}, `},
		"label absent": {`"uri": "/things/{ThingId}"`, `"uri": "/things"`},
		"document":     {`"target": "smithy.api#Blob"`, `"target": "smithy.api#Document"`},
		"name clash":   {`"ex#Item": {`, `"ex#Timestamp": {"type": "structure", "members": {}}, "ex#Item": {`},
	} {
		m, err := ParseModel([]byte(strings.Replace(snippet, edit[0], edit[1], 1)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, _, err := Generate(m, Config{}); err == nil {
			t.Errorf("%s: Generate succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestTranslatePattern(t *testing.T) {
	for _, c := range []struct {
		pat, re, prefix string
		ok              bool
	}{
		{`^[0-9]+$`, `^[0-9]+$`, "", true},
		{`^(?!aws:)[a-zA-Z+-=._:/]+$`, `^[a-zA-Z+-=._:/]+$`, "aws:", true},
		{`^(?!a\.b)x$`, `^x$`, "a.b", true},
		{`^(?!a.)x$`, "", "", false}, // not a literal
		{`^a(?=b)`, "", "", false},
	} {
		re, prefix, ok := translatePattern(c.pat)
		if re != c.re || prefix != c.prefix || ok != c.ok {
			t.Errorf("translatePattern(%q) = %q, %q, %v", c.pat, re, prefix, ok)
		}
	}
}

func TestValidationCode(t *testing.T) {
	src := squeeze(string(generateSnippet(t, snippet)["validate_gen.go"]))
	for _, want := range []string{
		// model order: label, then zeta
		`if s.ThingId == nil { v.null(vjoin(path, "thingId")) } else { checkThingId(v, vjoin(path, "thingId"), *s.ThingId) } if s.Zeta == nil { v.null(vjoin(path, "zeta")) }`,
		`checkMax(v, vjoin(path, "max"), *s.Max)`,
		`checkSecret(v, vjoin(path, "X-Token"), *s.Token)`,
		`v.add(p, "", false, "Member must have length greater than or equal to 3")`, // sensitive
		`n := utf8.RuneCountInString(x)`,
		`if strings.HasPrefix(x, "x-") || !patternName.MatchString(x) { v.add(p, x, true, "Member must satisfy regular expression pattern: ^(?!x-)[a-z-]+$") }`,
		`func checkDoThingRequest_Short(v *violations, p string, x string)`, // member-level length
		`if n > 2 {`,
		`case "fast", "slow": default: v.add(p, x, true, "Member must satisfy enum value set: [fast, slow]")`,
		`for i := range x { x[i].validate(v, velem(p, i)) }`,
		`for _, k := range sortedKeys(x) { checkName(v, vkey(p), k) checkName(v, vvalue(p, k), x[k]) }`,
		`func (s *Item) Validate() error`,
	} {
		if !strings.Contains(src, squeeze(want)) {
			t.Errorf("validate_gen.go lacks %q", want)
		}
	}
	// A length trait of {min: 1} on a map without max still gives a check,
	// {max} only on a string does not give a min check.
	if strings.Contains(src, "func (s *DoThingResponse) Validate") {
		t.Error("output-only structures must not get Validate")
	}
}

func TestMissingModel(t *testing.T) {
	_, err := LoadModel(filepath.Join(t.TempDir(), "nope.json"))
	if err == nil || !strings.Contains(err.Error(), "-model") {
		t.Fatalf("err = %v", err)
	}
	if _, err := ParseModel([]byte(`{"smithy":"1.0","shapes":{}}`)); err == nil {
		t.Error("Smithy 1.0 accepted")
	}
}

func TestDeterministic(t *testing.T) {
	first := generateSnippet(t, snippet)
	for i := 0; i < 5; i++ {
		again := generateSnippet(t, snippet)
		for name, b := range first {
			if !bytes.Equal(b, again[name]) {
				t.Fatalf("%s differs between runs", name)
			}
		}
	}
}

// TestSnippetCompilesAndRuns builds the snippet's generated code together
// with the hand-written wire.go and runs a small test against it, covering
// binding kinds the GuardDuty model does not use.
func TestSnippetCompilesAndRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	wireGo, err := os.ReadFile("../../httpapi/wire/wire.go")
	if err != nil {
		t.Skipf("hand-written wire.go not found: %v", err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/wire\n\ngo 1.26\n")
	write("wire.go", string(wireGo))
	for name, b := range generateSnippet(t, snippet) {
		write(name, string(b))
	}
	write("snippet_test.go", snippetTest)
	cmd := exec.Command(goBin, "test", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test on generated snippet: %v\n%s", err, out)
	}
}

const snippetTest = `package wire

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestBindAll(t *testing.T) {
	var in DoThingRequest
	q := url.Values{"max": {"7"}, "ratio": {"0.5"}, "dry": {"true"}, "id": {"1", "2"}, "other": {"o"}}
	h := http.Header{"X-Token": {"sec"}, "X-Labels": {"a, b", "c"}, "X-Meta-Color": {"red"}}
	pv := func(n string) string { return map[string]string{"ThingId": "t1"}[n] }
	if err := in.BindHTTP(pv, q, h); err != nil {
		t.Fatal(err)
	}
	if *in.ThingId != "t1" || *in.Max != 7 || *in.Ratio != 0.5 || !*in.Dry || len(in.Ids) != 2 || in.Ids[1] != 2 ||
		*in.Token != "sec" || strings.Join(in.Labels, "|") != "a|b|c" || in.Rest["other"] != "o" || in.Rest["max"] != "" ||
		in.Meta["Color"] != "red" {
		t.Fatalf("bound %+v", in)
	}

	var bad DoThingRequest
	err := bad.BindHTTP(pv, url.Values{"max": {"x"}, "ratio": {"y"}, "dry": {"z"}}, http.Header{})
	want := "3 validation errors detected: Value 'x' at 'max' failed to satisfy constraint: Member must be a number; " +
		"Value 'y' at 'ratio' failed to satisfy constraint: Member must be a number; " +
		"Value 'z' at 'dry' failed to satisfy constraint: Member must be a boolean"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}

	in.Zeta = new(string)
	in.Items = []Item{{}, {Name: new(string)}, {}}
	in.Short = new(string)
	*in.Short = "abc"
	in.Tags = map[string]string{}
	*in.Token = "s"
	err = in.Validate()
	want = "8 validation errors detected: " +
		"Value at 'X-Token' failed to satisfy constraint: Member must have length greater than or equal to 3; " +
		"Value at 'items' failed to satisfy constraint: Member must have length less than or equal to 2; " +
		"Value null at 'items.1.member.name' failed to satisfy constraint: Member must not be null; " +
		"Value '' at 'items.2.member.name' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
		"Value '' at 'items.2.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!x-)[a-z-]+$; " +
		"Value null at 'items.3.member.name' failed to satisfy constraint: Member must not be null; " +
		"Value 'abc' at 'short' failed to satisfy constraint: Member must have length less than or equal to 2; " +
		"Value at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

func TestGreedyLabel(t *testing.T) {
	mux := http.NewServeMux()
	var got string
	for _, op := range Operations {
		mux.HandleFunc(op.Method+" "+op.Path, func(w http.ResponseWriter, r *http.Request) {
			in := op.NewInput()
			_ = in.BindHTTP(r.PathValue, r.URL.Query(), r.Header)
			if f, ok := in.(*GetFileRequest); ok {
				got = *f.Path
			}
		})
	}
	req := httptest.NewRequest("GET", "/files/a/b/c.txt", nil)
	mux.ServeHTTP(httptest.NewRecorder(), req)
	if got != "a/b/c.txt" {
		t.Fatalf("Path = %q", got)
	}
}
`
