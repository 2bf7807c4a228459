package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
)

// resources names what an isolation case addresses: the detector, a
// finding, a filter and the ARNs of the detector and the filter.
type resources struct {
	detector, finding, filter string
	detectorARN, filterARN    string
	// One threat list of each kind, by kind ("ipset", ...), and the IP
	// set's ARN.
	lists    map[string]string
	ipSetARN string
}

// isolationCase is one implemented operation, as a request built from
// the resources it addresses. own is the caller's own detector, for the
// operations that take the caller's detector and another's finding ids.
type isolationCase struct {
	op   string
	call func(r resources, own string) (method, path, body string)
}

// isolationCases lists every implemented GuardDuty operation that names
// a resource. CreateDetector and ListDetectors name none.
var isolationCases = []isolationCase{
	{"GetDetector", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector, ""
	}},
	{"UpdateDetector", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector, `{"enable":false,"findingPublishingFrequency":"ONE_HOUR"}`
	}},
	{"CreateSampleFindings", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/findings/create", `{}`
	}},
	{"GetFindings", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/findings/get", `{"findingIds":["` + r.finding + `"]}`
	}},
	{"GetFindings of the caller's detector", func(r resources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/findings/get", `{"findingIds":["` + r.finding + `"]}`
	}},
	{"guardpost:GetFindingEvidence", func(r resources, _ string) (string, string, string) {
		return "GET", guardpost.EvidencePath(r.detector, r.finding), ""
	}},
	{"guardpost:GetFindingEvidence of the caller's detector", func(r resources, own string) (string, string, string) {
		return "GET", guardpost.EvidencePath(own, r.finding), ""
	}},
	{"ListFindings", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/findings", `{}`
	}},
	{"ListFindings of the caller's detector by id", func(r resources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/findings", `{"findingCriteria":{"criterion":{"id":{"equals":["` + r.finding + `"]}}}}`
	}},
	{"GetFindingsStatistics", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/findings/statistics", `{"findingStatisticTypes":["COUNT_BY_SEVERITY"]}`
	}},
	{"ArchiveFindings", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/findings/archive", `{"findingIds":["` + r.finding + `"]}`
	}},
	{"ArchiveFindings of the caller's detector", func(r resources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/findings/archive", `{"findingIds":["` + r.finding + `"]}`
	}},
	{"UnarchiveFindings", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/findings/unarchive", `{"findingIds":["` + r.finding + `"]}`
	}},
	{"UnarchiveFindings of the caller's detector", func(r resources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/findings/unarchive", `{"findingIds":["` + r.finding + `"]}`
	}},
	{"UpdateFindingsFeedback", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/findings/feedback", `{"findingIds":["` + r.finding + `"],"feedback":"NOT_USEFUL","comments":"x"}`
	}},
	{"UpdateFindingsFeedback of the caller's detector", func(r resources, own string) (string, string, string) {
		return "POST", "/detector/" + own + "/findings/feedback", `{"findingIds":["` + r.finding + `"],"feedback":"NOT_USEFUL","comments":"x"}`
	}},
	{"CreateFilter", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/filter", `{"name":"intruder","action":"ARCHIVE","findingCriteria":{"criterion":{"severity":{"gte":1}}}}`
	}},
	{"GetFilter", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/filter/" + r.filter, ""
	}},
	{"UpdateFilter", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/filter/" + r.filter, `{"action":"NOOP","rank":1}`
	}},
	{"ListFilters", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/filter", ""
	}},
	{"TagResource detector", func(r resources, _ string) (string, string, string) {
		return "POST", tagsPath(r.detectorARN), `{"tags":{"owner":"intruder"}}`
	}},
	{"TagResource filter", func(r resources, _ string) (string, string, string) {
		return "POST", tagsPath(r.filterARN), `{"tags":{"owner":"intruder"}}`
	}},
	{"UntagResource detector", func(r resources, _ string) (string, string, string) {
		return "DELETE", tagsPath(r.detectorARN) + "?tagKeys=team", ""
	}},
	{"UntagResource filter", func(r resources, _ string) (string, string, string) {
		return "DELETE", tagsPath(r.filterARN) + "?tagKeys=team", ""
	}},
	{"ListTagsForResource detector", func(r resources, _ string) (string, string, string) {
		return "GET", tagsPath(r.detectorARN), ""
	}},
	{"ListTagsForResource filter", func(r resources, _ string) (string, string, string) {
		return "GET", tagsPath(r.filterARN), ""
	}},
	{"TagResource ipset", func(r resources, _ string) (string, string, string) {
		return "POST", tagsPath(r.ipSetARN), `{"tags":{"owner":"intruder"}}`
	}},
	{"UntagResource ipset", func(r resources, _ string) (string, string, string) {
		return "DELETE", tagsPath(r.ipSetARN) + "?tagKeys=team", ""
	}},
	{"ListTagsForResource ipset", func(r resources, _ string) (string, string, string) {
		return "GET", tagsPath(r.ipSetARN), ""
	}},
	{"CreateIPSet", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/ipset", `{"name":"intruder","format":"TXT","location":"https://example.com/l.txt","activate":false}`
	}},
	{"GetIPSet", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/ipset/" + r.lists["ipset"], ""
	}},
	{"UpdateIPSet", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/ipset/" + r.lists["ipset"], `{"name":"intruder","activate":true}`
	}},
	{"ListIPSets", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/ipset", ""
	}},
	{"CreateThreatIntelSet", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/threatintelset", `{"name":"intruder","format":"TXT","location":"https://example.com/l.txt","activate":false}`
	}},
	{"GetThreatIntelSet", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/threatintelset/" + r.lists["threatintelset"], ""
	}},
	{"UpdateThreatIntelSet", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/threatintelset/" + r.lists["threatintelset"], `{"name":"intruder","activate":true}`
	}},
	{"ListThreatIntelSets", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/threatintelset", ""
	}},
	{"CreateTrustedEntitySet", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/trustedentityset", `{"name":"intruder","format":"TXT","location":"https://example.com/l.txt","activate":false}`
	}},
	{"GetTrustedEntitySet", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/trustedentityset/" + r.lists["trustedentityset"], ""
	}},
	{"UpdateTrustedEntitySet", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/trustedentityset/" + r.lists["trustedentityset"], `{"name":"intruder","activate":true}`
	}},
	{"ListTrustedEntitySets", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/trustedentityset", ""
	}},
	{"CreateThreatEntitySet", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/threatentityset", `{"name":"intruder","format":"TXT","location":"https://example.com/l.txt","activate":false}`
	}},
	{"GetThreatEntitySet", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/threatentityset/" + r.lists["threatentityset"], ""
	}},
	{"UpdateThreatEntitySet", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/threatentityset/" + r.lists["threatentityset"], `{"name":"intruder","activate":true}`
	}},
	{"ListThreatEntitySets", func(r resources, _ string) (string, string, string) {
		return "GET", "/detector/" + r.detector + "/threatentityset", ""
	}},
	{"GetUsageStatistics", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/usage/statistics", `{"usageStatisticsType":"SUM_BY_ACCOUNT","usageCriteria":{"features":["CLOUD_TRAIL"]},"unit":"RECORDS"}`
	}},
	{"GetRemainingFreeTrialDays", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/freeTrial/daysRemaining", `{"accountIds":["` + accountA + `"]}`
	}},
	{"ListCoverage", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/coverage", `{}`
	}},
	{"GetCoverageStatistics", func(r resources, _ string) (string, string, string) {
		return "POST", "/detector/" + r.detector + "/coverage/statistics", `{"statisticsType":["COUNT_BY_RESOURCE_TYPE"]}`
	}},
	// The destructive ones last, so that a failure of isolation shows in
	// the comparisons above before it destroys the fixtures.
	{"DeleteIPSet", func(r resources, _ string) (string, string, string) {
		return "DELETE", "/detector/" + r.detector + "/ipset/" + r.lists["ipset"], ""
	}},
	{"DeleteThreatIntelSet", func(r resources, _ string) (string, string, string) {
		return "DELETE", "/detector/" + r.detector + "/threatintelset/" + r.lists["threatintelset"], ""
	}},
	{"DeleteTrustedEntitySet", func(r resources, _ string) (string, string, string) {
		return "DELETE", "/detector/" + r.detector + "/trustedentityset/" + r.lists["trustedentityset"], ""
	}},
	{"DeleteThreatEntitySet", func(r resources, _ string) (string, string, string) {
		return "DELETE", "/detector/" + r.detector + "/threatentityset/" + r.lists["threatentityset"], ""
	}},
	{"DeleteFilter", func(r resources, _ string) (string, string, string) {
		return "DELETE", "/detector/" + r.detector + "/filter/" + r.filter, ""
	}},
	{"DeleteDetector", func(r resources, _ string) (string, string, string) {
		return "DELETE", "/detector/" + r.detector, ""
	}},
}

// TestIsolationEveryOperation runs every implemented operation against
// account A's resources as a caller that must not see them (account B in
// A's region; account A itself in another region) and compares each answer
// (status, error type, message, body) with the answer to the same request
// for resources that never existed. Then it checks that nothing of A's
// changed.
func TestIsolationEveryOperation(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a := s.clientA()
	detA := sampleDetector(t, a)
	ids := listWhere(t, a, detA, nil, 50)
	if len(ids) == 0 {
		t.Fatal("no sample findings")
	}
	filter, err := a.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &detA, Name: aws.String("keep"),
		Action:          types.FilterActionNoop,
		FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}},
		Tags:            map[string]string{"team": "sec"}})
	if err != nil {
		t.Fatal(err)
	}
	filterARN := "arn:aws:guardduty:us-east-1:" + accountA + ":detector/" + detA + "/filter/" + aws.ToString(filter.Name)
	if _, err := a.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: aws.String(detectorARN(accountA, detA)),
		Tags: map[string]string{"team": "sec"}}); err != nil {
		t.Fatal(err)
	}
	if got := listTags(t, a, filterARN); got["team"] != "sec" {
		t.Fatalf("fixture: filter %s tags %v", filterARN, got)
	}
	theirs := resources{detector: detA, finding: ids[0], filter: "keep",
		detectorARN: detectorARN(accountA, detA), filterARN: filterARN, lists: map[string]string{}}
	never := resources{detector: guardpost.NewID(), finding: guardpost.NewID(), filter: "keep", lists: map[string]string{}}
	never.detectorARN = detectorARN(accountA, never.detector)
	never.filterARN = "arn:aws:guardduty:us-east-1:" + accountA + ":detector/" + never.detector + "/filter/keep"
	for _, kind := range guardpost.ThreatListKinds {
		resp := s.do("POST", "/detector/"+detA+"/"+string(kind),
			`{"name":"mine","format":"TXT","location":"https://example.com/mine.txt","activate":false,"tags":{"team":"sec"}}`)
		if resp.Status != http.StatusOK {
			t.Fatalf("fixture %s: %d %s", kind, resp.Status, resp.Body)
		}
		var created map[string]string
		if err := json.Unmarshal(resp.Body, &created); err != nil || len(created) != 1 {
			t.Fatalf("fixture %s: %s", kind, resp.Body)
		}
		for _, id := range created {
			theirs.lists[string(kind)] = id
		}
		never.lists[string(kind)] = guardpost.NewID()
	}
	theirs.ipSetARN = guardpost.ThreatListARN(guardpost.Scope{AccountID: accountA, Region: "us-east-1"}, detA, guardpost.KindIPSet, theirs.lists["ipset"])
	never.ipSetARN = guardpost.ThreatListARN(guardpost.Scope{AccountID: accountA, Region: "us-east-1"}, never.detector, guardpost.KindIPSet, never.lists["ipset"])

	before := snapshotAccountA(t, s, theirs, ids)

	// Each caller has a detector of its own, so that the cases that pass
	// the caller's detector with A's finding ids reach the finding lookup.
	type caller struct {
		name, key, secret, region string
	}
	callers := []caller{
		{"account B", keyB, secretB, "us-east-1"},
		{"account A in us-west-2", keyA, secretA, "us-west-2"},
	}
	for _, c := range callers {
		own := createDetector(t, s.client(c.key, c.secret, c.region))
		for _, tc := range isolationCases {
			m1, p1, b1 := tc.call(never, own)
			m2, p2, b2 := tc.call(theirs, own)
			// The resource that never existed is asked about first: were
			// A's resource visible, a destructive case would change the
			// other's answer, not this one's.
			want := s.doAs(c.key, c.secret, c.region, "guardduty", m1, p1, b1)
			got := s.doAs(c.key, c.secret, c.region, "guardduty", m2, p2, b2)
			wantBody := neutral(want.Body, never)
			gotBody := neutral(got.Body, theirs)
			if got.Status != want.Status || got.Header.Get("X-Amzn-ErrorType") != want.Header.Get("X-Amzn-ErrorType") ||
				!bytes.Equal(gotBody, wantBody) {
				t.Errorf("%s, %s: A's resource answers %d %s %s; one that never existed %d %s %s", c.name, tc.op,
					got.Status, got.Header.Get("X-Amzn-ErrorType"), gotBody,
					want.Status, want.Header.Get("X-Amzn-ErrorType"), wantBody)
			}
		}
	}

	after := snapshotAccountA(t, s, theirs, ids)
	for k, v := range before {
		if !bytes.Equal(after[k], v) {
			t.Errorf("account A's %s changed:\nbefore %s\nafter  %s", k, v, after[k])
		}
	}
}

// neutral replaces the ids of r in an answer with placeholders, so that an
// answer about A's resources compares with one about resources that never
// existed.
func neutral(body []byte, r resources) []byte {
	s := string(body)
	ids := []string{r.detectorARN, r.filterARN, r.ipSetARN, r.detector, r.finding}
	for _, id := range r.lists {
		ids = append(ids, id)
	}
	for _, id := range ids {
		s = strings.ReplaceAll(s, id, "<id>")
	}
	return []byte(s)
}

// snapshotAccountA reads everything of account A's that an isolation case
// could change, as the raw answers of A's own requests.
func snapshotAccountA(t *testing.T, s *testServer, r resources, ids []string) map[string][]byte {
	t.Helper()
	snap := map[string][]byte{}
	read := func(name, method, path, body string) {
		resp := s.do(method, path, body)
		if resp.Status != http.StatusOK {
			t.Fatalf("snapshot %s: %d %s", name, resp.Status, resp.Body)
		}
		snap[name] = resp.Body
	}
	read("detector", "GET", "/detector/"+r.detector, "")
	read("filters", "GET", "/detector/"+r.detector+"/filter", "")
	read("filter", "GET", "/detector/"+r.detector+"/filter/"+r.filter, "")
	read("detector tags", "GET", tagsPath(r.detectorARN), "")
	read("filter tags", "GET", tagsPath(r.filterARN), "")
	read("ipset tags", "GET", tagsPath(r.ipSetARN), "")
	for kind, id := range r.lists {
		read(kind, "GET", "/detector/"+r.detector+"/"+kind+"/"+id, "")
		read(kind+" list", "GET", "/detector/"+r.detector+"/"+kind, "")
	}
	read("statistics", "POST", "/detector/"+r.detector+"/findings/statistics",
		`{"findingStatisticTypes":["COUNT_BY_SEVERITY"]}`)
	for chunk := range slices.Chunk(sorted(ids), 50) {
		read(fmt.Sprintf("findings from %s", chunk[0]), "POST", "/detector/"+r.detector+"/findings/get",
			`{"findingIds":["`+strings.Join(chunk, `","`)+`"]}`)
	}
	return snap
}
