package main

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

// rawListWhere lists every finding id matching one criterion given as raw
// JSON, following nextToken, with requests signed like the SDK's. It is for
// conditions the SDK cannot express: the SDK types the deprecated gt, gte,
// lt and lte as int32, so epoch milliseconds can only go out raw, as
// clients in other languages (Cortex XSOAR's Python) send them.
func rawListWhere(t *testing.T, s *testServer, det, attribute, condition string) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		body := `{"findingCriteria":{"criterion":{` + strconv.Quote(attribute) + `:` + condition + `}},"maxResults":50`
		if token != "" {
			body += `,"nextToken":` + strconv.Quote(token)
		}
		resp := s.do("POST", "/detector/"+det+"/findings", body+"}")
		if resp.Status != 200 {
			typ, msg := resp.errorBody(t)
			t.Fatalf("ListFindings %s: %d %s %q", body, resp.Status, typ, msg)
		}
		var page struct {
			FindingIDs []string `json:"findingIds"`
			NextToken  string   `json:"nextToken"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, page.FindingIDs...)
		if page.NextToken == "" {
			return ids
		}
		token = page.NextToken
	}
}

// TestDeprecatedBoundsTake64BitValues: updatedAt filtered with the
// deprecated gte and an epoch-millisecond bound (beyond int32) selects what
// greaterThanOrEqual selects; lt selects the rest.
func TestDeprecatedBoundsTake64BitValues(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()
	det := sampleDetector(t, c)
	// A later occurrence of a few types moves their updatedAt past every
	// other finding's.
	time.Sleep(5 * time.Millisecond)
	later := []string{"Recon:EC2/PortProbeUnprotectedPort", "UnauthorizedAccess:EC2/SSHBruteForce", "CryptoCurrency:EC2/BitcoinTool.B!DNS"}
	if _, err := c.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: later}); err != nil {
		t.Fatal(err)
	}
	findings := getAll(t, c, det, listAll(t, c, det, nil))
	millis := map[string]int64{}
	var latest int64
	for _, f := range findings {
		at, err := time.Parse(time.RFC3339Nano, aws.ToString(f.UpdatedAt))
		if err != nil {
			t.Fatalf("finding %s updatedAt: %v", aws.ToString(f.Id), err)
		}
		millis[aws.ToString(f.Id)] = at.UnixMilli()
		latest = max(latest, at.UnixMilli())
	}
	if latest <= 1<<31 {
		t.Fatalf("updatedAt %d ms fits in 32 bits: the test would prove nothing", latest)
	}
	var newer, older []string
	for id, ms := range millis {
		if ms >= latest {
			newer = append(newer, id)
		} else {
			older = append(older, id)
		}
	}
	slices.Sort(newer)
	slices.Sort(older)
	if len(newer) == 0 || len(older) == 0 {
		t.Fatalf("fixture: %d findings at the latest updatedAt, %d before", len(newer), len(older))
	}
	bound := strconv.FormatInt(latest, 10)

	viaSDK := sorted(listWhere(t, c, det, map[string]types.Condition{"updatedAt": {GreaterThanOrEqual: aws.Int64(latest)}}, 50))
	if !slices.Equal(viaSDK, newer) {
		t.Fatalf("greaterThanOrEqual %s: %d ids, want %d", bound, len(viaSDK), len(newer))
	}
	if got := sorted(rawListWhere(t, s, det, "updatedAt", `{"gte":`+bound+`}`)); !slices.Equal(got, viaSDK) {
		t.Fatalf("gte %s: %v\ngreaterThanOrEqual gives %v", bound, got, viaSDK)
	}
	if got := sorted(rawListWhere(t, s, det, "updatedAt", `{"gt":`+strconv.FormatInt(latest-1, 10)+`}`)); !slices.Equal(got, newer) {
		t.Fatalf("gt %d: %d ids, want %d", latest-1, len(got), len(newer))
	}
	if got := sorted(rawListWhere(t, s, det, "updatedAt", `{"lt":`+bound+`}`)); !slices.Equal(got, older) {
		t.Fatalf("lt %s: %d ids, want %d", bound, len(got), len(older))
	}
	if got := sorted(rawListWhere(t, s, det, "updatedAt", `{"lte":`+bound+`,"gte":0}`)); len(got) != len(findings) {
		t.Fatalf("lte %s and gte 0: %d ids, want all %d", bound, len(got), len(findings))
	}
	// The current operator wins over the deprecated one when both are given.
	if got := sorted(rawListWhere(t, s, det, "updatedAt", `{"gte":0,"greaterThanOrEqual":`+bound+`}`)); !slices.Equal(got, newer) {
		t.Fatalf("gte 0 with greaterThanOrEqual %s: %d ids, want %d", bound, len(got), len(newer))
	}
}

// TestCriterionValueOfTheWrongType: the 400 names the member by its full
// path, the criterion's attribute included, and says what was wrong.
func TestCriterionValueOfTheWrongType(t *testing.T) {
	s := startServer(t)
	det := createDetector(t, s.clientA())
	for _, tc := range []struct{ body, msg string }{
		{`{"findingCriteria":{"criterion":{"updatedAt":{"gte":"abc"}}}}`,
			"Value at 'findingCriteria.criterion.updatedAt.gte' failed to satisfy constraint: Member must be an integer, not a JSON string."},
		{`{"findingCriteria":{"criterion":{"updatedAt":{"greaterThan":1e30}}}}`,
			"Value '1e30' at 'findingCriteria.criterion.updatedAt.greaterThan' failed to satisfy constraint: " +
				"Member must be a 64-bit integer; the number is too large (the largest is 9223372036854775807)."},
		{`{"findingCriteria":{"criterion":{"severity":{"equals":[7]}}}}`,
			"Value at 'findingCriteria.criterion.severity.equals.1.member' failed to satisfy constraint: Member must be a string, not a JSON number."},
	} {
		resp := s.do("POST", "/detector/"+det+"/findings", tc.body)
		typ, msg := resp.errorBody(t)
		if resp.Status != 400 || typ != "BadRequestException" || msg != tc.msg {
			t.Errorf("%s:\ngot  %d %s %q\nwant 400 BadRequestException %q", tc.body, resp.Status, typ, msg, tc.msg)
		}
	}
}
