package wire_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost/httpapi/wire"
)

func ptr[T any](v T) *T { return &v }

func TestOperationsTable(t *testing.T) {
	if got := len(wire.Operations); got != 87 {
		t.Fatalf("len(Operations) = %d, want 87", got)
	}
	if !slices.IsSortedFunc(wire.Operations, func(a, b wire.Operation) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Operations is not sorted by name")
	}
	codes := map[string]int{}
	for _, op := range wire.Operations {
		codes[op.Name] = op.Code
		if op.NewInput == nil || op.NewInput() == nil {
			t.Errorf("%s: NewInput returns nil", op.Name)
		}
	}
	for name, want := range map[string]int{"TagResource": 204, "UntagResource": 204, "GetFindings": 200, "ListDetectors": 200} {
		if codes[name] != want {
			t.Errorf("%s: Code = %d, want %d", name, codes[name], want)
		}
	}
	if _, ok := wire.Operations[0].NewInput().(*wire.AcceptAdministratorInvitationRequest); !ok {
		t.Errorf("AcceptAdministratorInvitation input is %T", wire.Operations[0].NewInput())
	}
}

var label = regexp.MustCompile(`\{([A-Za-z0-9_]+)(\.\.\.)?\}`)

// TestRoutesRegisterAndDispatch registers every operation into one ServeMux
// (which panics on conflicting patterns) and checks that a concrete request
// for each operation reaches that operation and binds its labels.
func TestRoutesRegisterAndDispatch(t *testing.T) {
	mux := http.NewServeMux()
	for _, op := range wire.Operations {
		mux.HandleFunc(op.Method+" "+op.Path, func(w http.ResponseWriter, r *http.Request) {
			in := op.NewInput()
			if err := in.BindHTTP(r.PathValue, r.URL.Query(), r.Header); err != nil {
				t.Errorf("%s: BindHTTP: %v", op.Name, err)
			}
			w.Header().Set("X-Op", op.Name)
		})
	}
	for _, op := range wire.Operations {
		// Label values that look like literal segments would be ambiguous on
		// purpose; use values no literal segment has.
		path := label.ReplaceAllStringFunc(op.Path, func(m string) string {
			return "v-" + label.FindStringSubmatch(m)[1]
		})
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(op.Method, path, nil))
		if got := rec.Header().Get("X-Op"); got != op.Name {
			t.Errorf("%s %s routed to %q (status %d), want %s", op.Method, path, got, rec.Code, op.Name)
		}
	}
}

func TestTagsRouteEscapedARN(t *testing.T) {
	// SDKs percent-encode "/" in a non-greedy label; ServeMux decodes it
	// back, so an ARN stays one segment.
	arn := "arn:aws:guardduty:us-east-1:123456789012:detector/abc"
	mux := http.NewServeMux()
	var got string
	for _, op := range wire.Operations {
		if op.Name == "ListTagsForResource" {
			mux.HandleFunc(op.Method+" "+op.Path, func(w http.ResponseWriter, r *http.Request) {
				in := op.NewInput().(*wire.ListTagsForResourceRequest)
				_ = in.BindHTTP(r.PathValue, r.URL.Query(), r.Header)
				got = *in.ResourceArn
			})
		}
	}
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/tags/"+url.PathEscape(arn), nil))
	if got != arn {
		t.Fatalf("ResourceArn = %q, want %q", got, arn)
	}
}

func validationMessage(t *testing.T, err error) string {
	t.Helper()
	var ve *wire.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	return ve.Error()
}

func TestValidateGetFindings(t *testing.T) {
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = "f"
	}
	cases := []struct {
		name string
		in   wire.GetFindingsRequest
		want string
	}{
		{"too many ids", wire.GetFindingsRequest{DetectorId: ptr("d"), FindingIds: ids},
			"1 validation error detected: Value at 'findingIds' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"missing ids", wire.GetFindingsRequest{DetectorId: ptr("d")},
			"1 validation error detected: Value null at 'findingIds' failed to satisfy constraint: Member must not be null"},
		{"bad orderBy", wire.GetFindingsRequest{DetectorId: ptr("d"), FindingIds: []string{}, SortCriteria: &wire.SortCriteria{OrderBy: ptr("UP")}},
			"1 validation error detected: Value 'UP' at 'sortCriteria.orderBy' failed to satisfy constraint: Member must satisfy enum value set: [ASC, DESC]"},
		{"empty id", wire.GetFindingsRequest{DetectorId: ptr("d"), FindingIds: []string{"a", ""}},
			"1 validation error detected: Value '' at 'findingIds.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"missing label", wire.GetFindingsRequest{FindingIds: []string{"a"}},
			"1 validation error detected: Value null at 'detectorId' failed to satisfy constraint: Member must not be null"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := validationMessage(t, c.in.Validate()); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
	ok := wire.GetFindingsRequest{DetectorId: ptr("d"), FindingIds: []string{"a"}, SortCriteria: &wire.SortCriteria{OrderBy: ptr("DESC")}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid request: %v", err)
	}
}

func TestValidateListFindingsMaxResults(t *testing.T) {
	for n, want := range map[int32]string{
		0:  "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
		51: "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50",
	} {
		in := wire.ListFindingsRequest{DetectorId: ptr("d"), MaxResults: ptr(n)}
		if got := validationMessage(t, in.Validate()); got != want {
			t.Errorf("maxResults %d:\ngot  %s\nwant %s", n, got, want)
		}
	}
	in := wire.ListFindingsRequest{DetectorId: ptr("d"), MaxResults: ptr(int32(50))}
	if err := in.Validate(); err != nil {
		t.Errorf("maxResults 50: %v", err)
	}
}

func TestValidateCreateFilterAggregates(t *testing.T) {
	in := wire.CreateFilterRequest{
		DetectorId:      ptr("d"),
		Name:            ptr("ab"),
		FindingCriteria: &wire.FindingCriteria{},
		Tags:            map[string]string{"aws:x": "v", "ok": "v"},
	}
	want := "2 validation errors detected: " +
		"Value 'ab' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 3; " +
		"Value 'aws:x' at 'tags.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$"
	if got := validationMessage(t, in.Validate()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestValidateNestedPaths(t *testing.T) {
	in := wire.CreateFilterRequest{
		DetectorId: ptr("d"),
		Name:       ptr("abc"),
		FindingCriteria: &wire.FindingCriteria{Criterion: map[string]wire.Condition{
			"severity": {Matches: []string{"a", "b", "c", "d", "e", "f"}},
		}},
		Tags: map[string]string{"k": strings.Repeat("é", 257)},
	}
	want := "2 validation errors detected: " +
		"Value at 'findingCriteria.criterion.severity.value.matches' failed to satisfy constraint: Member must have length less than or equal to 5; " +
		"Value '" + strings.Repeat("é", 257) + "' at 'tags.k.value' failed to satisfy constraint: Member must have length less than or equal to 256"
	if got := validationMessage(t, in.Validate()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// 256 two-byte runes are 512 bytes but only 256 characters.
	in.Tags = map[string]string{"k": strings.Repeat("é", 256)}
	in.FindingCriteria.Criterion = nil
	if err := in.Validate(); err != nil {
		t.Errorf("256 runes: %v", err)
	}
}

func TestValidateSensitiveNotEchoed(t *testing.T) {
	in := wire.CreateMembersRequest{
		DetectorId:     ptr("d"),
		AccountDetails: []wire.AccountDetail{{AccountId: ptr("123456789012"), Email: ptr("")}},
	}
	want := "1 validation error detected: Value at 'accountDetails.1.member.email' failed to satisfy constraint: Member must have length greater than or equal to 1"
	if got := validationMessage(t, in.Validate()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	in.AccountDetails = []wire.AccountDetail{{AccountId: ptr("1"), Email: ptr(strings.Repeat("x", 65))}}
	got := validationMessage(t, in.Validate())
	if strings.Contains(got, "xxx") || !strings.Contains(got, "Value '1' at 'accountDetails.1.member.accountId'") {
		t.Errorf("unexpected message: %s", got)
	}
}

func TestBindHTTPListDetectors(t *testing.T) {
	var in wire.ListDetectorsRequest
	err := in.BindHTTP(func(string) string { return "" }, url.Values{"maxResults": {"abc"}}, http.Header{})
	want := "1 validation error detected: Value 'abc' at 'maxResults' failed to satisfy constraint: Member must be a number"
	if got := validationMessage(t, err); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	in = wire.ListDetectorsRequest{}
	if err := in.BindHTTP(func(string) string { return "" }, url.Values{"maxResults": {"10"}, "nextToken": {"tok"}}, http.Header{}); err != nil {
		t.Fatal(err)
	}
	if in.MaxResults == nil || *in.MaxResults != 10 || in.NextToken == nil || *in.NextToken != "tok" {
		t.Errorf("bound %+v", in)
	}
	if err := in.Validate(); err != nil {
		t.Error(err)
	}
}

func TestBindHTTPLabelsAndQueryList(t *testing.T) {
	var in wire.UntagResourceRequest
	pv := func(name string) string {
		if name == "ResourceArn" {
			return "arn:aws:guardduty:us-east-1:123456789012:detector/" + strings.Repeat("a", 32)
		}
		return ""
	}
	if err := in.BindHTTP(pv, url.Values{"tagKeys": {"a", "aws:b"}}, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.TagKeys, []string{"a", "aws:b"}) {
		t.Errorf("TagKeys = %q", in.TagKeys)
	}
	want := "1 validation error detected: Value 'aws:b' at 'tagKeys.2.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$"
	if got := validationMessage(t, in.Validate()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	var none wire.UntagResourceRequest
	if err := none.BindHTTP(func(string) string { return "" }, url.Values{}, nil); err != nil {
		t.Fatal(err)
	}
	want = "2 validation errors detected: " +
		"Value null at 'resourceArn' failed to satisfy constraint: Member must not be null; " +
		"Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"
	if got := validationMessage(t, none.Validate()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestNoInput(t *testing.T) {
	for _, op := range wire.Operations {
		if op.Name != "GetOrganizationStatistics" {
			continue
		}
		in := op.NewInput()
		if _, ok := in.(*wire.NoInput); !ok {
			t.Fatalf("input is %T, want *NoInput", in)
		}
		if err := json.Unmarshal([]byte(`{}`), in); err != nil {
			t.Fatal(err)
		}
		if in.BindHTTP(nil, nil, nil) != nil || in.Validate() != nil {
			t.Error("NoInput methods must succeed")
		}
		return
	}
	t.Fatal("GetOrganizationStatistics not found")
}

func TestFindingJSONNames(t *testing.T) {
	f := wire.Finding{
		Id: ptr("f1"),
		Service: &wire.Service{
			Action: &wire.Action{
				NetworkConnectionAction: &wire.NetworkConnectionAction{RemoteIpDetails: &wire.RemoteIpDetails{
					GeoLocation: &wire.GeoLocation{Lat: ptr(1.5), Lon: ptr(-2.25)},
				}},
				KubernetesApiCallAction: &wire.KubernetesApiCallAction{SourceIps: []string{"10.0.0.1"}},
				RdsLoginAttemptAction:   &wire.RdsLoginAttemptAction{LoginAttributes: []wire.LoginAttribute{{User: ptr("u")}}},
			},
			Detection: &wire.Detection{Sequence: &wire.Sequence{Resources: []wire.ResourceV2{{
				Data: &wire.ResourceData{Ec2Instance: &wire.Ec2Instance{
					IamInstanceProfile: &wire.IamInstanceProfile{Arn: ptr("arn")},
					ProductCodes:       []wire.ProductCode{{Code: ptr("pc"), ProductType: ptr("marketplace")}},
				}},
			}}}},
		},
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"geoLocation":{"lat":1.5,"lon":-2.25}`,
		`"sourceIPs":["10.0.0.1"]`,
		`"LoginAttributes":[{"user":"u"}]`,
		`"IamInstanceProfile":{"arn":"arn"}`,
		`"productCodes":[{"productCodeId":"pc","productCodeType":"marketplace"}]`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	var back wire.Finding
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := *back.Service.Detection.Sequence.Resources[0].Data.Ec2Instance.IamInstanceProfile.Arn; got != "arn" {
		t.Errorf("round trip IamInstanceProfile.Arn = %q", got)
	}
}

func TestBoundMembersNotInJSON(t *testing.T) {
	b, err := json.Marshal(wire.ListFindingsRequest{DetectorId: ptr("d"), MaxResults: ptr(int32(5))})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"maxResults":5}` {
		t.Errorf("got %s", b)
	}
	var in wire.ListDetectorsRequest
	if err := json.Unmarshal([]byte(`{"maxResults":5,"MaxResults":6}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.MaxResults != nil {
		t.Errorf("query-bound member decoded from the body: %d", *in.MaxResults)
	}
}

func TestEmptyListsStayOnTheWire(t *testing.T) {
	b, _ := json.Marshal(wire.ListDetectorsResponse{DetectorIds: []string{}})
	if string(b) != `{"detectorIds":[]}` {
		t.Errorf("empty list: %s", b)
	}
	b, _ = json.Marshal(wire.ListDetectorsResponse{})
	if string(b) != `{}` {
		t.Errorf("nil list: %s", b)
	}
}

func TestTimestampJSON(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1700000000, 0), "1700000000"},
		{time.Unix(1700000000, 123e6), "1700000000.123"},
		{time.Unix(1700000000, 500e6+999), "1700000000.5"},
		{time.Unix(-2, 500e6), "-1.5"},
		{time.Unix(0, 0), "0"},
	} {
		b, err := json.Marshal(wire.Timestamp{Time: c.t})
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.t, b, err, c.want)
		}
		var back wire.Timestamp
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(c.t.Truncate(time.Millisecond)) {
			t.Errorf("Unmarshal(%s) = %v, %v", b, back.Time, err)
		}
	}
	var ts wire.Timestamp
	if err := json.Unmarshal([]byte(`1.7e9`), &ts); err != nil || ts.Unix() != 1700000000 {
		t.Errorf("exponent form: %v %v", ts.Time, err)
	}
	for _, bad := range []string{`"2024-01-01"`, `"1700000000"`, `true`, `{}`, `[1]`} {
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	var st wire.AccountStatistics
	if err := json.Unmarshal([]byte(`{"lastGeneratedAt":"2024-01-01T00:00:00Z"}`), &st); err == nil {
		t.Error("ISO timestamp in a struct accepted")
	}
	if err := json.Unmarshal([]byte(`{"lastGeneratedAt":1700000000.25}`), &st); err != nil || st.LastGeneratedAt.UnixMilli() != 1700000000250 {
		t.Errorf("epoch in a struct: %v %v", st.LastGeneratedAt, err)
	}
}

func TestEnumValues(t *testing.T) {
	if got := wire.EnumValues["OrderBy"]; !slices.Equal(got, []string{"ASC", "DESC"}) {
		t.Errorf("OrderBy = %q", got)
	}
	if got := len(wire.EnumValues); got != 68 {
		t.Errorf("len(EnumValues) = %d, want 68", got)
	}
}
