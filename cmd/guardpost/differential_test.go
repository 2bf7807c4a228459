package main

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/guardpost/guardpost"
)

// The differential test stores thousands of random findings (fewer under
// -race: see raceDifferentialSize), asks the server random ListFindings
// and GetFindingsStatistics questions through
// the Go SDK, and compares every answer with a plain in-memory evaluator
// written here from the API's documented semantics. The evaluator must not
// call the project's own evaluation code (Match, CompileCriteria,
// FindingAttributes, CompareSortKeys, StatKey...): that would compare the
// code with itself.
//
// Where the API leaves the answer open, the evaluator follows guardpost's
// stated contract:
//   - ListFindings without sortCriteria lists by id ascending (byte order);
//     with it, by the attribute in the asked direction, ties by id
//     ascending, findings lacking the attribute last in either direction
//     (themselves by id ascending);
//   - statistics rows are ordered by count (DESC unless orderBy is ASC),
//     ties by the group key's text ascending, then by resource type; at
//     most maxResults rows (100 when absent);
//   - DATE groups by the UTC day of updatedAt and reports the group's
//     highest severity; SEVERITY's key text is the shortest decimal of the
//     severity; countBySeverity keys have one decimal ("8.0");
//   - RESOURCE groups by (resource id, resource type), the id being
//     instanceDetails.instanceId, accessKeyDetails.accessKeyId or the first
//     s3BucketDetails name, and is reported with the caller's account.

// differentialSeedEnv names the environment variable that replaces the
// default seed, so that a failure seen elsewhere can be replayed.
const differentialSeedEnv = "GUARDPOST_DIFFERENTIAL_SEED"

// differentialFindingsEnv and differentialQueriesEnv replace the size, for
// runs at scale by hand (100,000 findings takes some minutes).
const (
	differentialFindingsEnv = "GUARDPOST_DIFFERENTIAL_FINDINGS"
	differentialQueriesEnv  = "GUARDPOST_DIFFERENTIAL_QUERIES"
)

const (
	defaultDifferentialSeed = 20260611
	// maxReportedMismatches stops the test once this many queries
	// disagreed; past that the log only grows.
	maxReportedMismatches = 5
)

// differentialSize is how much one run does.
type differentialSize struct {
	findings, queries int
	// pagesPerListing bounds the pages one listing takes by raising a small
	// random maxResults for large results (up to the API's 50): 3000
	// findings one at a time would cost thousands of calls and tell little
	// more than the same findings in pages of 50.
	pagesPerListing int
}

// The SQLite engine is Go code too (modernc.org/sqlite), so the race
// detector slows every statement ~15-fold: storing 3000 findings alone
// takes about a minute. Under -race the test keeps its shape at a size
// that fits CI; without it, it runs at full size.
var (
	fullDifferentialSize = differentialSize{findings: 3000, queries: 300, pagesPerListing: 12}
	raceDifferentialSize = differentialSize{findings: 600, queries: 50, pagesPerListing: 6}
)

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// valueKind says how the evaluator compares an attribute's values.
type valueKind int

const (
	kindString valueKind = iota // exact text; matches/notMatches apply
	kindNumber                  // numbers, criteria values parsed as numbers
	kindTime                    // ISO-8601 in the finding, epoch ms in criteria
	kindBool                    // true/false
)

// queryPath is an attribute path the random criteria draw from.
type queryPath struct {
	name string
	kind valueKind
}

// differentialPaths covers single-valued and list-valued string paths,
// numbers, times and booleans, several of them absent on many findings.
var differentialPaths = []queryPath{
	{"accountId", kindString},
	{"id", kindString},
	{"type", kindString},
	{"resource.resourceType", kindString},
	{"resource.instanceDetails.instanceId", kindString},
	{"resource.instanceDetails.instanceType", kindString},
	{"resource.instanceDetails.tags.key", kindString},
	{"resource.instanceDetails.tags.value", kindString},
	{"resource.instanceDetails.networkInterfaces.privateIpAddress", kindString},
	{"resource.instanceDetails.networkInterfaces.securityGroups.groupId", kindString},
	{"resource.accessKeyDetails.userName", kindString},
	{"resource.accessKeyDetails.accessKeyId", kindString},
	{"resource.s3BucketDetails.name", kindString},
	{"service.action.networkConnectionAction.protocol", kindString},
	{remoteIPv4Path, kindString},
	{"service.action.networkConnectionAction.remoteIpDetails.country.countryName", kindString},
	{"service.action.awsApiCallAction.api", kindString},
	{"service.action.awsApiCallAction.serviceName", kindString},
	{"severity", kindNumber},
	{"confidence", kindNumber},
	{"service.count", kindNumber},
	{"service.action.networkConnectionAction.localPortDetails.port", kindNumber},
	{"service.action.networkConnectionAction.remotePortDetails.port", kindNumber},
	{"createdAt", kindTime},
	{"updatedAt", kindTime},
	{"service.eventFirstSeen", kindTime},
	{"service.eventLastSeen", kindTime},
	{"service.archived", kindBool},
	{"service.action.networkConnectionAction.blocked", kindBool},
}

// differentialSorts are the sortCriteria attributes the listings use
// ("" for none); service.count, eventFirstSeen, the remote port and the
// remote address are absent on some findings, so absent-last ordering is
// exercised.
var differentialSorts = []string{
	"",
	"severity",
	"updatedAt",
	"type",
	"service.count",
	"service.eventFirstSeen",
	"service.action.networkConnectionAction.remotePortDetails.port",
	remoteIPv4Path,
}

// remoteIPv4Path is a string attribute that sorts as an IPv4 address
// (numerically), not as text: 9.x.x.x comes before 10.x.x.x.
const remoteIPv4Path = "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4"

func pathKind(name string) valueKind {
	for _, p := range differentialPaths {
		if p.name == name {
			return p.kind
		}
	}
	panic("differential: unknown path " + name)
}

func TestDifferentialFindingQueries(t *testing.T) {
	seed := uint64(defaultDifferentialSeed)
	if s := os.Getenv(differentialSeedEnv); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", differentialSeedEnv, s, err)
		}
		seed = n
	}
	size, sizeNote := fullDifferentialSize, ""
	if raceEnabled() {
		size, sizeNote = raceDifferentialSize, " (reduced under -race)"
	}
	// By hand, at scale: GUARDPOST_DIFFERENTIAL_FINDINGS=100000
	// GUARDPOST_DIFFERENTIAL_QUERIES=100 go test -run TestDifferential
	// -timeout 2h ./cmd/guardpost
	for env, field := range map[string]*int{differentialFindingsEnv: &size.findings, differentialQueriesEnv: &size.queries} {
		if s := os.Getenv(env); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				t.Fatalf("%s=%q: want a positive number", env, s)
			}
			*field, sizeNote = n, " (size from the environment)"
		}
	}
	t.Logf("seed %d (replay with %s=%d); %d findings, %d queries%s", seed, differentialSeedEnv, seed,
		size.findings, size.queries, sizeNote)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	start := time.Now()
	ts := startServer(t)
	ctx := context.Background()
	c := ts.clientA()
	det := createDetector(t, c)

	findings := seedDifferentialFindings(t, ts, det, rng, size.findings)
	t.Logf("stored %d findings in %v", len(findings), time.Since(start).Round(time.Millisecond))

	gen := newCriteriaGenerator(rng, findings)
	var listCalls, statCalls, mismatches, nonEmpty int
	for q := range size.queries {
		criteria := gen.criteria()
		matched := oracleSelect(findings, criteria)
		if len(matched) > 0 {
			nonEmpty++
		}

		sortName := differentialSorts[rng.IntN(len(differentialSorts))]
		descending := rng.IntN(2) == 0
		pageSize := 1 + rng.IntN(50)
		if need := (len(matched) + size.pagesPerListing - 1) / size.pagesPerListing; pageSize < need {
			pageSize = min(50, need)
		}
		got, pages := listEverything(t, c, det, criteria, sortName, descending, pageSize, len(findings))
		listCalls += pages
		want := oracleOrder(matched, sortName, descending)
		if !slices.Equal(got, want) {
			mismatches++
			t.Errorf("query %d: ListFindings sort %q desc=%t maxResults %d criteria %s:\n%s",
				q, sortName, descending, pageSize, criteriaJSON(criteria), describeListDiff(got, want))
		}

		in, describe := gen.statisticsInput(det, criteria)
		out, err := c.GetFindingsStatistics(ctx, in)
		statCalls++
		if err != nil {
			t.Fatalf("query %d: GetFindingsStatistics %s criteria %s: %v", q, describe, criteriaJSON(criteria), err)
		}
		if diff := compareStatistics(in, out.FindingStatistics, matched); diff != "" {
			mismatches++
			t.Errorf("query %d: GetFindingsStatistics %s criteria %s:\n%s", q, describe, criteriaJSON(criteria), diff)
		}
		if mismatches >= maxReportedMismatches {
			t.Fatalf("stopping after %d mismatches (seed %d)", mismatches, seed)
		}
	}
	t.Logf("%d findings, %d queries (%d with a non-empty result), %d ListFindings pages, %d GetFindingsStatistics calls, %v",
		len(findings), size.queries, nonEmpty, listCalls, statCalls, time.Since(start).Round(time.Millisecond))
	// A generator that drifted into selecting nothing would make every
	// comparison trivially equal.
	if nonEmpty < size.queries/2 {
		t.Errorf("only %d of %d queries selected any finding: the criteria no longer exercise the data", nonEmpty, size.queries)
	}
}

// listEverything pages through ListFindings to the end and returns the ids
// in order and the number of calls. stored, the number of findings stored,
// bounds the walk should the server never stop handing out tokens.
func listEverything(t *testing.T, c *guardduty.Client, det string, criteria map[string]types.Condition, sortName string, descending bool, pageSize, stored int) ([]string, int) {
	t.Helper()
	in := &guardduty.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(int32(pageSize))}
	if len(criteria) > 0 {
		in.FindingCriteria = &types.FindingCriteria{Criterion: criteria}
	}
	if sortName != "" {
		order := types.OrderByAsc
		if descending {
			order = types.OrderByDesc
		}
		in.SortCriteria = &types.SortCriteria{AttributeName: aws.String(sortName), OrderBy: order}
	}
	var ids []string
	pages := 0
	for {
		out, err := c.ListFindings(context.Background(), in)
		pages++
		if err != nil {
			t.Fatalf("ListFindings sort %q criteria %s page %d: %v", sortName, criteriaJSON(criteria), pages, err)
		}
		if len(out.FindingIds) > pageSize {
			t.Errorf("ListFindings page of %d ids, maxResults %d", len(out.FindingIds), pageSize)
		}
		ids = append(ids, out.FindingIds...)
		if out.NextToken == nil {
			return ids, pages
		}
		if pages > stored {
			t.Fatalf("ListFindings still paging after %d pages and %d ids", pages, len(ids))
		}
		in.NextToken = out.NextToken
	}
}

// oracleFinding is what the evaluator knows of a stored finding: the
// document decoded as any JSON reader would, and the facts the generator
// put in it.
type oracleFinding struct {
	id, accountID, findingType string
	severity                   float64
	updatedAt                  time.Time
	resourceType, resourceID   string
	// values holds, per query and sort path, every leaf the document has
	// there, lists on the way flattened.
	values map[string][]any
}

// jsonLeaves returns the scalar values at path in a decoded JSON document,
// walking every element of the lists met on the way or at the end.
func jsonLeaves(v any, path []string) []any {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, jsonLeaves(e, path)...)
		}
		return out
	case map[string]any:
		if len(path) == 0 {
			return nil // an object is not a value
		}
		child, ok := x[path[0]]
		if !ok {
			return nil
		}
		return jsonLeaves(child, path[1:])
	case nil:
		return nil
	default:
		if len(path) > 0 {
			return nil
		}
		return []any{x}
	}
}

// --- random findings ---

var (
	differentialTypes = []string{
		"Recon:EC2/PortProbeUnprotectedPort",
		"UnauthorizedAccess:EC2/SSHBruteForce",
		"CryptoCurrency:EC2/BitcoinTool.B!DNS",
		"Backdoor:EC2/C&CActivity.B",
		"Trojan:EC2/DNSDataExfiltration",
		"Impact:EC2/PortSweep",
		"UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B",
		"Recon:IAMUser/MaliciousIPCaller",
		"PenTest:IAMUser/KaliLinux",
		"Discovery:S3/MaliciousIPCaller",
		"Policy:S3/BucketBlockPublicAccessDisabled",
		"Exfiltration:S3/AnomalousBehavior",
	}
	differentialInstanceTypes = []string{"m5.large", "t3.medium", "c6i.xlarge", "r6g.large"}
	// Tag keys and values include '[' (special to SQLite GLOB), non-ASCII
	// text (one '?' per character, not per byte) and case variants.
	differentialTagKeys   = []string{"Name", "Environment", "Team", "Owner", "cost-center", "name"}
	differentialTagValues = []string{"app-server", "production", "staging", "team[ops]", "café", "Ünïcode-ß", "batch_*job", "db-01", "DB-01"}
	differentialUsers     = []string{"alice", "bob", "carol", "root", "svc-deploy", "Alice", "josé", "björn", "zoë"}
	differentialAPIs      = []string{"ListBuckets", "GetObject", "DescribeInstances", "ConsoleLogin", "CreateUser", "PutBucketPolicy", "AssumeRole"}
	differentialServices  = []string{"s3.amazonaws.com", "ec2.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com", "signin.amazonaws.com"}
	differentialCountries = []string{"United States", "Germany", "Brazil", "Japan", "Côte d'Ivoire", "Türkiye", "Curaçao", "Viet Nam"}
	differentialProtocols = []string{"TCP", "UDP", "ICMP"}
	differentialPorts     = []int{22, 80, 443, 3389, 5432, 8080, 31337, 53}
	differentialTimeBase  = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// seedDifferentialFindings generates the findings, stores them directly
// (the API's only ingest, CreateSampleFindings, makes at most one per
// type) and returns the evaluator's view of them. The documents carry the
// Finding's required members and those the queries read, nothing else:
// the store writes a row per filterable value, and those rows are most of
// the test's cost.
func seedDifferentialFindings(t *testing.T, ts *testServer, det string, rng *rand.Rand, count int) []*oracleFinding {
	t.Helper()
	instanceIDs := make([]string, 40)
	for i := range instanceIDs {
		instanceIDs[i] = fmt.Sprintf("i-%017x", rng.Uint64()>>4)
	}
	accessKeys := make([]string, 12)
	for i := range accessKeys {
		accessKeys[i] = fmt.Sprintf("ASIA%016X", rng.Uint64()>>8)
	}
	buckets := make([]string, 10)
	for i := range buckets {
		buckets[i] = fmt.Sprintf("bucket-%d-%04x", i, rng.IntN(1<<16))
	}
	privateIPs := make([]string, 24)
	for i := range privateIPs {
		privateIPs[i] = fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), 1+rng.IntN(254))
	}
	remoteIPs := make([]string, 30)
	for i := range remoteIPs {
		remoteIPs[i] = fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(223), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	}
	securityGroups := make([]string, 8)
	for i := range securityGroups {
		securityGroups[i] = fmt.Sprintf("sg-%08x", rng.Uint32())
	}

	seenIDs := map[string]bool{}
	var updatedTimes []time.Time
	var out []*oracleFinding
	var batch []*guardpost.Finding
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// No finding has an aggregation key: each is written as it is.
		ts.writeFindings(t, det, batch)
		batch = batch[:0]
	}
	for len(out) < count {
		id := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		if seenIDs[id] {
			continue
		}
		seenIDs[id] = true
		typ := pick(rng, differentialTypes)
		severity := float64(10+rng.IntN(80)) / 10 // 1.0 … 8.9, one decimal
		created := differentialTimeBase.Add(time.Duration(rng.Int64N(30*24*3600*1000)) * time.Millisecond)
		updated := created.Add(time.Duration(rng.Int64N(5*24*3600*1000)) * time.Millisecond)
		if len(updatedTimes) > 0 && rng.IntN(10) == 0 {
			// Equal updatedAt values make ties for the sort and equals.
			updated = pick(rng, updatedTimes)
			if updated.Before(created) {
				created = updated
			}
		}
		updatedTimes = append(updatedTimes, updated)

		var resourceType, resourceID string
		resource := map[string]any{}
		switch r := rng.IntN(20); {
		case r < 10:
			resourceType = "Instance"
			details := map[string]any{"instanceType": pick(rng, differentialInstanceTypes)}
			if rng.IntN(20) > 0 {
				resourceID = pick(rng, instanceIDs)
				details["instanceId"] = resourceID
			}
			if n := rng.IntN(4); n > 0 || rng.IntN(2) == 0 {
				tags := []any{}
				for range n {
					tags = append(tags, map[string]any{"key": pick(rng, differentialTagKeys), "value": pick(rng, differentialTagValues)})
				}
				details["tags"] = tags
			}
			if n := rng.IntN(3); n > 0 || rng.IntN(2) == 0 {
				enis := []any{}
				for range n {
					eni := map[string]any{}
					if rng.IntN(10) > 0 {
						eni["privateIpAddress"] = pick(rng, privateIPs)
					}
					groups := []any{}
					for range rng.IntN(4) {
						groups = append(groups, map[string]any{"groupId": pick(rng, securityGroups)})
					}
					eni["securityGroups"] = groups
					enis = append(enis, eni)
				}
				details["networkInterfaces"] = enis
			}
			resource["instanceDetails"] = details
		case r < 16:
			resourceType = "AccessKey"
			details := map[string]any{}
			if rng.IntN(12) > 0 {
				resourceID = pick(rng, accessKeys)
				details["accessKeyId"] = resourceID
			}
			if rng.IntN(8) > 0 {
				details["userName"] = pick(rng, differentialUsers)
			}
			resource["accessKeyDetails"] = details
		default:
			resourceType = "S3Bucket"
			resourceID = pick(rng, buckets)
			list := []any{map[string]any{"name": resourceID}}
			if rng.IntN(4) == 0 {
				other := pick(rng, buckets)
				list = append(list, map[string]any{"name": other})
			}
			resource["s3BucketDetails"] = list
		}
		resource["resourceType"] = resourceType

		service := map[string]any{"detectorId": det}
		if rng.IntN(20) > 0 {
			service["archived"] = rng.IntN(4) == 0
		}
		if rng.IntN(10) > 0 {
			service["count"] = 1 + rng.IntN(20)
		}
		if rng.IntN(8) > 0 {
			service["eventFirstSeen"] = isoMillis(created.Add(-time.Duration(rng.Int64N(2*24*3600*1000)) * time.Millisecond))
		}
		if rng.IntN(8) > 0 {
			service["eventLastSeen"] = isoMillis(updated.Add(-time.Duration(rng.Int64N(3600*1000)) * time.Millisecond))
		}
		switch r := rng.IntN(20); {
		case r < 9:
			conn := map[string]any{}
			if rng.IntN(10) > 0 {
				conn["protocol"] = pick(rng, differentialProtocols)
			}
			if rng.IntN(10) > 0 {
				conn["blocked"] = rng.IntN(3) == 0
			}
			if rng.IntN(10) > 0 {
				conn["localPortDetails"] = map[string]any{"port": pick(rng, differentialPorts)}
			}
			if rng.IntN(10) > 0 {
				conn["remotePortDetails"] = map[string]any{"port": 1024 + rng.IntN(64000)}
			}
			remote := map[string]any{"ipAddressV4": pick(rng, remoteIPs)}
			if rng.IntN(6) > 0 {
				remote["country"] = map[string]any{"countryName": pick(rng, differentialCountries)}
			}
			conn["remoteIpDetails"] = remote
			service["action"] = map[string]any{"networkConnectionAction": conn}
		case r < 17:
			call := map[string]any{"api": pick(rng, differentialAPIs)}
			if rng.IntN(10) > 0 {
				call["serviceName"] = pick(rng, differentialServices)
			}
			service["action"] = map[string]any{"awsApiCallAction": call}
		}

		doc := map[string]any{
			"accountId":     accountA,
			"region":        "us-east-1",
			"arn":           fmt.Sprintf("arn:aws:guardduty:us-east-1:%s:detector/%s/finding/%s", accountA, det, id),
			"id":            id,
			"type":          typ,
			"severity":      severity,
			"schemaVersion": "2.0",
			"createdAt":     isoMillis(created),
			"updatedAt":     isoMillis(updated),
			"resource":      resource,
			"service":       service,
		}
		if rng.IntN(5) > 0 {
			doc["confidence"] = float64(rng.IntN(101)) / 10
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		f, err := guardpost.ParseFinding(raw)
		if err != nil {
			t.Fatalf("ParseFinding: %v", err)
		}
		batch = append(batch, f)
		if len(batch) == 500 {
			flush()
		}

		// The evaluator reads the same bytes back, as a client would.
		var decoded map[string]any
		if err := json.Unmarshal(raw, &decoded); err != nil {
			t.Fatal(err)
		}
		of := &oracleFinding{
			id: id, accountID: accountA, findingType: typ, severity: severity, updatedAt: updated,
			resourceType: resourceType, resourceID: resourceID, values: map[string][]any{},
		}
		for _, p := range differentialPaths {
			of.values[p.name] = jsonLeaves(decoded, strings.Split(p.name, "."))
		}
		out = append(out, of)
	}
	flush()
	return out
}

// --- the evaluator ---

// oracleSelect returns the findings that satisfy every criterion.
func oracleSelect(findings []*oracleFinding, criteria map[string]types.Condition) []*oracleFinding {
	var out []*oracleFinding
	for _, f := range findings {
		ok := true
		for name, cond := range criteria {
			if !conditionHolds(pathKind(name), cond, f.values[name]) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}

// conditionHolds evaluates one criterion over an attribute's values (none
// when the finding lacks it, several for a list-valued path). All the
// condition's operators must hold. The deprecated spellings mean what
// their current names do.
func conditionHolds(kind valueKind, c types.Condition, values []any) bool {
	equals := append(slices.Clone(c.Equals), c.Eq...)
	notEquals := append(slices.Clone(c.NotEquals), c.Neq...)
	some := func(pred func(v any) bool) bool { return slices.ContainsFunc(values, pred) }
	equalsAny := func(list []string) func(any) bool {
		return func(v any) bool {
			return slices.ContainsFunc(list, func(s string) bool { return sameValue(kind, v, s) })
		}
	}
	if len(equals) > 0 && !some(equalsAny(equals)) {
		return false
	}
	if len(notEquals) > 0 && some(equalsAny(notEquals)) {
		return false
	}

	widen := func(a *int64, b *int32) *int64 {
		if a != nil {
			return a
		}
		if b != nil {
			n := int64(*b)
			return &n
		}
		return nil
	}
	gt, gte := widen(c.GreaterThan, c.Gt), widen(c.GreaterThanOrEqual, c.Gte)
	lt, lte := widen(c.LessThan, c.Lt), widen(c.LessThanOrEqual, c.Lte)
	if gt != nil || gte != nil || lt != nil || lte != nil {
		// One value must lie within all the bounds at once.
		within := func(v any) bool {
			n, ok := numericValue(kind, v)
			return ok &&
				(gt == nil || n > float64(*gt)) && (gte == nil || n >= float64(*gte)) &&
				(lt == nil || n < float64(*lt)) && (lte == nil || n <= float64(*lte))
		}
		if !some(within) {
			return false
		}
	}

	matchesAny := func(patterns []string) func(any) bool {
		return func(v any) bool {
			s, ok := v.(string)
			return ok && slices.ContainsFunc(patterns, func(p string) bool { return wildcardMatches(p, s) })
		}
	}
	if len(c.Matches) > 0 && !some(matchesAny(c.Matches)) {
		return false
	}
	if len(c.NotMatches) > 0 && some(matchesAny(c.NotMatches)) {
		return false
	}
	return true
}

// sameValue reports whether a finding's value equals a criteria value:
// text exactly, numbers as numbers, times as epoch milliseconds, booleans
// as true/false.
func sameValue(kind valueKind, v any, s string) bool {
	switch kind {
	case kindString:
		text, ok := v.(string)
		return ok && text == s
	case kindBool:
		b, ok := v.(bool)
		return ok && (s == "true" || s == "false") && b == (s == "true")
	case kindNumber:
		want, err := strconv.ParseFloat(s, 64)
		n, ok := numericValue(kind, v)
		return err == nil && ok && n == want
	case kindTime:
		want, err := strconv.ParseInt(s, 10, 64)
		n, ok := numericValue(kind, v)
		return err == nil && ok && n == float64(want)
	}
	return false
}

// numericValue is a number's value or a time's epoch milliseconds.
func numericValue(kind valueKind, v any) (float64, bool) {
	switch kind {
	case kindNumber:
		n, ok := v.(float64)
		return n, ok
	case kindTime:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false
		}
		return float64(tm.UnixMilli()), true
	}
	return 0, false
}

// wildcardMatches reports whether the whole of s matches pattern, where
// '*' stands for any run of characters and '?' for exactly one character.
// It is the textbook dynamic programme over characters (runes), unlike the
// server's greedy scan, so the two can disagree only if one is wrong.
func wildcardMatches(pattern, s string) bool {
	p, r := []rune(pattern), []rune(s)
	// prev[j]: pattern[:i] matches r[:j].
	prev := make([]bool, len(r)+1)
	prev[0] = true
	for i := range p {
		cur := make([]bool, len(r)+1)
		if p[i] == '*' {
			cur[0] = prev[0]
		}
		for j := 1; j <= len(r); j++ {
			switch p[i] {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '?':
				cur[j] = prev[j-1]
			default:
				cur[j] = prev[j-1] && p[i] == r[j-1]
			}
		}
		prev = cur
	}
	return prev[len(r)]
}

// oracleSortValue is a finding's value of a sort attribute: float64 for
// numbers, times (epoch ms) and IPv4 addresses, string for text, nil when
// absent.
func oracleSortValue(f *oracleFinding, name string) any {
	values := f.values[name]
	if len(values) == 0 {
		return nil
	}
	if name == remoteIPv4Path {
		s, _ := values[0].(string)
		ip, err := netip.ParseAddr(s)
		if err != nil || !ip.Is4() {
			return nil
		}
		return float64(binary.BigEndian.Uint32(ip.AsSlice()))
	}
	kind := pathKind(name)
	if kind == kindString {
		s, _ := values[0].(string)
		return s
	}
	n, ok := numericValue(kind, values[0])
	if !ok {
		return nil
	}
	return n
}

// oracleOrder returns the ids of the matched findings in listing order.
func oracleOrder(matched []*oracleFinding, sortName string, descending bool) []string {
	sorted := slices.Clone(matched)
	slices.SortFunc(sorted, func(a, b *oracleFinding) int {
		if sortName != "" {
			va, vb := oracleSortValue(a, sortName), oracleSortValue(b, sortName)
			switch {
			case va == nil && vb != nil:
				return 1
			case va != nil && vb == nil:
				return -1
			case va != nil && vb != nil:
				var c int
				if sa, ok := va.(string); ok {
					c = strings.Compare(sa, vb.(string))
				} else {
					c = cmp.Compare(va.(float64), vb.(float64))
				}
				if descending {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
		}
		return strings.Compare(a.id, b.id)
	})
	ids := make([]string, len(sorted))
	for i, f := range sorted {
		ids[i] = f.id
	}
	return ids
}

// statRow is one statistics group in a form both the server's answer and
// the evaluator's can be reduced to and compared whole.
type statRow struct {
	Key          string // account id, UTC midnight (RFC 3339), type, resource id, severity text
	ResourceType string
	AccountID    string  // RESOURCE rows
	Severity     float64 // DATE: the group's highest; SEVERITY: the group's
	Count        int32
	LastMillis   int64 // lastGeneratedAt: the group's latest updatedAt
}

// noTime marks a missing timestamp in an answer.
const noTime = math.MinInt64

func millisOf(t *time.Time) int64 {
	if t == nil {
		return noTime
	}
	return t.UnixMilli()
}

func severityText(s float64) string { return strconv.FormatFloat(s, 'g', -1, 64) }

// oracleStatistics groups the matched findings as groupBy says, orders and
// truncates the groups as the contract says.
func oracleStatistics(matched []*oracleFinding, groupBy types.GroupByType, descending bool, maxResults int) []statRow {
	type groupKey struct{ key, resourceType string }
	groups := map[groupKey]*statRow{}
	var order []groupKey
	for _, f := range matched {
		var k groupKey
		row := statRow{}
		switch groupBy {
		case types.GroupByTypeAccount:
			k.key = f.accountID
		case types.GroupByTypeDate:
			y, m, d := f.updatedAt.UTC().Date()
			k.key = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
		case types.GroupByTypeFindingType:
			k.key = f.findingType
		case types.GroupByTypeResource:
			k = groupKey{f.resourceID, f.resourceType}
			row.AccountID = f.accountID
		case types.GroupByTypeSeverity:
			k.key = severityText(f.severity)
		}
		g, ok := groups[k]
		if !ok {
			row.Key, row.ResourceType, row.LastMillis = k.key, k.resourceType, noTime
			g = &row
			groups[k] = g
			order = append(order, k)
		}
		g.Count++
		g.LastMillis = max(g.LastMillis, f.updatedAt.UnixMilli())
		if groupBy == types.GroupByTypeDate || groupBy == types.GroupByTypeSeverity {
			g.Severity = max(g.Severity, f.severity)
		}
	}
	rows := make([]statRow, 0, len(order))
	for _, k := range order {
		rows = append(rows, *groups[k])
	}
	slices.SortFunc(rows, func(a, b statRow) int {
		c := cmp.Compare(a.Count, b.Count)
		if descending {
			c = -c
		}
		return cmp.Or(c, strings.Compare(a.Key, b.Key), strings.Compare(a.ResourceType, b.ResourceType))
	})
	if maxResults == 0 {
		maxResults = 100
	}
	return rows[:min(len(rows), maxResults)]
}

// serverStatRows reduces the server's groupBy answer to statRows.
func serverStatRows(stats *types.FindingStatistics, groupBy types.GroupByType) []statRow {
	var rows []statRow
	switch groupBy {
	case types.GroupByTypeAccount:
		for _, r := range stats.GroupedByAccount {
			rows = append(rows, statRow{Key: aws.ToString(r.AccountId), Count: aws.ToInt32(r.TotalFindings), LastMillis: millisOf(r.LastGeneratedAt)})
		}
	case types.GroupByTypeDate:
		for _, r := range stats.GroupedByDate {
			key := "<no date>"
			if r.Date != nil {
				key = r.Date.UTC().Format(time.RFC3339Nano)
			}
			rows = append(rows, statRow{Key: key, Severity: aws.ToFloat64(r.Severity), Count: aws.ToInt32(r.TotalFindings), LastMillis: millisOf(r.LastGeneratedAt)})
		}
	case types.GroupByTypeFindingType:
		for _, r := range stats.GroupedByFindingType {
			rows = append(rows, statRow{Key: aws.ToString(r.FindingType), Count: aws.ToInt32(r.TotalFindings), LastMillis: millisOf(r.LastGeneratedAt)})
		}
	case types.GroupByTypeResource:
		for _, r := range stats.GroupedByResource {
			rows = append(rows, statRow{Key: aws.ToString(r.ResourceId), ResourceType: aws.ToString(r.ResourceType), AccountID: aws.ToString(r.AccountId),
				Count: aws.ToInt32(r.TotalFindings), LastMillis: millisOf(r.LastGeneratedAt)})
		}
	case types.GroupByTypeSeverity:
		for _, r := range stats.GroupedBySeverity {
			sev := aws.ToFloat64(r.Severity)
			rows = append(rows, statRow{Key: severityText(sev), Severity: sev, Count: aws.ToInt32(r.TotalFindings), LastMillis: millisOf(r.LastGeneratedAt)})
		}
	}
	return rows
}

// compareStatistics checks every field of a GetFindingsStatistics answer
// against the evaluator's and describes the differences ("" when none).
func compareStatistics(in *guardduty.GetFindingsStatisticsInput, got *types.FindingStatistics, matched []*oracleFinding) string {
	if got == nil {
		return "no findingStatistics"
	}
	var b strings.Builder
	if len(in.FindingStatisticTypes) > 0 {
		want := map[string]int32{}
		for _, f := range matched {
			want[strconv.FormatFloat(f.severity, 'f', 1, 64)]++
		}
		// An empty map and an absent one are the same answer.
		if len(got.CountBySeverity) != len(want) || !mapsEqual(got.CountBySeverity, want) {
			fmt.Fprintf(&b, "countBySeverity %v\n           want %v\n", got.CountBySeverity, want)
		}
	} else if got.CountBySeverity != nil {
		fmt.Fprintf(&b, "countBySeverity %v not asked for\n", got.CountBySeverity)
	}
	groupLists := map[types.GroupByType]int{
		types.GroupByTypeAccount:     len(got.GroupedByAccount),
		types.GroupByTypeDate:        len(got.GroupedByDate),
		types.GroupByTypeFindingType: len(got.GroupedByFindingType),
		types.GroupByTypeResource:    len(got.GroupedByResource),
		types.GroupByTypeSeverity:    len(got.GroupedBySeverity),
	}
	for g, n := range groupLists {
		if g != in.GroupBy && n > 0 {
			fmt.Fprintf(&b, "%d rows grouped by %s, which was not asked for\n", n, g)
		}
	}
	if in.GroupBy != "" {
		want := oracleStatistics(matched, in.GroupBy, in.OrderBy != types.OrderByAsc, int(aws.ToInt32(in.MaxResults)))
		rows := serverStatRows(got, in.GroupBy)
		if !slices.Equal(rows, want) {
			fmt.Fprintf(&b, "%d rows, want %d\n", len(rows), len(want))
			for i := range max(len(rows), len(want)) {
				var g, w string
				if i < len(rows) {
					g = fmt.Sprintf("%+v", rows[i])
				}
				if i < len(want) {
					w = fmt.Sprintf("%+v", want[i])
				}
				mark := " "
				if g != w {
					mark = "!"
				}
				fmt.Fprintf(&b, "%s %3d got  %s\n      want %s\n", mark, i, g, w)
			}
		}
	}
	return b.String()
}

func mapsEqual(a, b map[string]int32) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// describeListDiff says where two id listings part.
func describeListDiff(got, want []string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	window := func(ids []string) []string { return ids[i:min(len(ids), i+5)] }
	return fmt.Sprintf("got %d ids, want %d; first difference at %d: got %v, want %v", len(got), len(want), i, window(got), window(want))
}

// criteriaJSON writes criteria as the API's findingCriteria.criterion
// member, naming only the operators set, so a failing query can be read
// and replayed.
func criteriaJSON(criteria map[string]types.Condition) string {
	wire := map[string]map[string]any{}
	for name, c := range criteria {
		ops := map[string]any{}
		for op, v := range map[string][]string{"equals": c.Equals, "notEquals": c.NotEquals, "matches": c.Matches,
			"notMatches": c.NotMatches, "eq": c.Eq, "neq": c.Neq} {
			if v != nil {
				ops[op] = v
			}
		}
		for op, v := range map[string]*int64{"greaterThan": c.GreaterThan, "greaterThanOrEqual": c.GreaterThanOrEqual,
			"lessThan": c.LessThan, "lessThanOrEqual": c.LessThanOrEqual} {
			if v != nil {
				ops[op] = *v
			}
		}
		for op, v := range map[string]*int32{"gt": c.Gt, "gte": c.Gte, "lt": c.Lt, "lte": c.Lte} {
			if v != nil {
				ops[op] = *v
			}
		}
		wire[name] = ops
	}
	b, err := json.Marshal(wire) // maps marshal with sorted keys
	if err != nil {
		return fmt.Sprint(criteria)
	}
	return string(b)
}

// --- random criteria ---

// criteriaGenerator draws criteria mostly from values the data has, so
// that most queries select something, and sometimes from values it lacks.
type criteriaGenerator struct {
	rng *rand.Rand
	// pool lists each path's distinct values in first-seen order, so that
	// one seed always draws the same criteria.
	pool map[string][]any
}

func newCriteriaGenerator(rng *rand.Rand, findings []*oracleFinding) *criteriaGenerator {
	g := &criteriaGenerator{rng: rng, pool: map[string][]any{}}
	for _, p := range differentialPaths {
		seen := map[any]bool{}
		for _, f := range findings {
			for _, v := range f.values[p.name] {
				if !seen[v] {
					seen[v] = true
					g.pool[p.name] = append(g.pool[p.name], v)
				}
			}
		}
	}
	return g
}

// chance reports true with probability percent/100.
func (g *criteriaGenerator) chance(percent int) bool { return g.rng.IntN(100) < percent }

// criteria draws 0–3 criteria. No criteria is drawn less often than the
// others: it lists every finding, the most pages a query can cost.
func (g *criteriaGenerator) criteria() map[string]types.Condition {
	n := 1 + g.rng.IntN(3)
	if g.chance(8) {
		n = 0
	}
	out := make(map[string]types.Condition, n)
	for len(out) < n {
		p := pick(g.rng, differentialPaths)
		if _, dup := out[p.name]; dup {
			continue
		}
		out[p.name] = g.condition(p)
	}
	return out
}

func (g *criteriaGenerator) condition(p queryPath) types.Condition {
	var c types.Condition
	switch p.kind {
	case kindString:
		switch r := g.rng.IntN(100); {
		case r < 30:
			c.Equals = g.strings(p.name, 1+g.rng.IntN(3))
		case r < 42:
			c.NotEquals = g.strings(p.name, 1+g.rng.IntN(2))
		case r < 62:
			c.Matches = g.patterns(p.name, 1+g.rng.IntN(2))
		case r < 74:
			c.NotMatches = g.patterns(p.name, 1+g.rng.IntN(2))
		case r < 82:
			c.Eq = g.strings(p.name, 1+g.rng.IntN(2)) // deprecated spelling
		case r < 86:
			c.Neq = g.strings(p.name, 1) // deprecated spelling
		case r < 93:
			c.Equals, c.NotEquals = g.strings(p.name, 2+g.rng.IntN(2)), g.strings(p.name, 1)
		default:
			c.Matches, c.NotMatches = g.patterns(p.name, 1), g.patterns(p.name, 1)
		}
	case kindNumber:
		switch r := g.rng.IntN(100); {
		case r < 20:
			c.Equals = g.numbers(p.name, 1+g.rng.IntN(3))
		case r < 30:
			c.NotEquals = g.numbers(p.name, 1+g.rng.IntN(2))
		case r < 38:
			c.GreaterThan = aws.Int64(g.numberBound(p.name))
		case r < 46:
			c.GreaterThanOrEqual = aws.Int64(g.numberBound(p.name))
		case r < 54:
			c.LessThan = aws.Int64(g.numberBound(p.name))
		case r < 62:
			c.LessThanOrEqual = aws.Int64(g.numberBound(p.name))
		case r < 76:
			lo, hi := g.numberBound(p.name), g.numberBound(p.name)
			c.GreaterThanOrEqual, c.LessThan = aws.Int64(min(lo, hi)), aws.Int64(max(lo, hi)+1)
		case r < 84:
			c.Gte = aws.Int32(int32(g.numberBound(p.name))) // deprecated spelling
		case r < 90:
			c.Lt = aws.Int32(int32(g.numberBound(p.name))) // deprecated spelling
		case r < 94:
			c.Eq = g.numbers(p.name, 1) // deprecated spelling
		default:
			c.NotEquals, c.GreaterThan = g.numbers(p.name, 1), aws.Int64(g.numberBound(p.name))
		}
	case kindTime:
		switch r := g.rng.IntN(100); {
		case r < 15:
			c.Equals = g.times(p.name, 1+g.rng.IntN(3))
		case r < 22:
			c.NotEquals = g.times(p.name, 1)
		case r < 34:
			c.GreaterThan = aws.Int64(g.timeBound(p.name))
		case r < 46:
			c.GreaterThanOrEqual = aws.Int64(g.timeBound(p.name))
		case r < 58:
			c.LessThan = aws.Int64(g.timeBound(p.name))
		case r < 70:
			c.LessThanOrEqual = aws.Int64(g.timeBound(p.name))
		default:
			lo, hi := g.timeBound(p.name), g.timeBound(p.name)
			c.GreaterThan, c.LessThanOrEqual = aws.Int64(min(lo, hi)), aws.Int64(max(lo, hi))
		}
	case kindBool:
		v := "true"
		if g.chance(50) {
			v = "false"
		}
		if g.chance(60) {
			c.Equals = []string{v}
		} else {
			c.NotEquals = []string{v}
		}
	}
	return c
}

// existing draws one of the path's values from the data, or nil (most of
// the time not) to ask for one it lacks.
func (g *criteriaGenerator) existing(path string) any {
	pool := g.pool[path]
	if len(pool) == 0 || g.chance(12) {
		return nil
	}
	return pick(g.rng, pool)
}

func (g *criteriaGenerator) strings(path string, n int) []string {
	out := make([]string, n)
	for i := range out {
		if s, ok := g.existing(path).(string); ok {
			out[i] = s
		} else {
			out[i] = fmt.Sprintf("absent-%d", g.rng.IntN(1000))
		}
	}
	return out
}

// patterns derives wildcard patterns from existing values: a prefix or
// suffix with '*', an infix between stars, characters replaced by '?', the
// value itself, or a pattern nothing has.
func (g *criteriaGenerator) patterns(path string, n int) []string {
	out := make([]string, n)
	for i := range out {
		s, ok := g.existing(path).(string)
		if !ok {
			out[i] = pick(g.rng, []string{"zz*q?", "absent*", "*nothing-here*"})
			continue
		}
		r := []rune(s)
		if strings.ContainsFunc(s, func(c rune) bool { return c > unicode.MaxASCII }) && g.chance(40) {
			// '?' stands for one character however many bytes it takes.
			out[i] = strings.Map(func(c rune) rune {
				if c > unicode.MaxASCII {
					return '?'
				}
				return c
			}, s)
			continue
		}
		a, b := g.rng.IntN(len(r)+1), g.rng.IntN(len(r)+1)
		a, b = min(a, b), max(a, b)
		switch g.rng.IntN(6) {
		case 0:
			out[i] = string(r[:a]) + "*"
		case 1:
			out[i] = "*" + string(r[a:])
		case 2:
			out[i] = "*" + string(r[a:b]) + "*"
		case 3:
			for range 1 + g.rng.IntN(2) {
				if len(r) > 0 {
					r[g.rng.IntN(len(r))] = '?'
				}
			}
			out[i] = string(r)
		case 4:
			out[i] = s
		default:
			// A '?' too many or too few must not match.
			out[i] = string(r[:a]) + "?" + string(r[a:])
		}
		if out[i] == "" {
			out[i] = "*"
		}
	}
	return out
}

func (g *criteriaGenerator) numbers(path string, n int) []string {
	out := make([]string, n)
	for i := range out {
		v, ok := g.existing(path).(float64)
		switch {
		case !ok:
			out[i] = "987.5"
		case g.chance(20):
			out[i] = strconv.FormatFloat(v, 'f', 2, 64) // "5.50" equals 5.5
		default:
			out[i] = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return out
}

// numberBound is an integer next to an existing value, so that bounds land
// on, just below and just above values the data has.
func (g *criteriaGenerator) numberBound(path string) int64 {
	v, ok := g.existing(path).(float64)
	if !ok {
		return pick(g.rng, []int64{-5, 0, 100000})
	}
	return int64(math.Floor(v)) + int64(g.rng.IntN(3)-1)
}

func (g *criteriaGenerator) existingMillis(path string) (int64, bool) {
	s, ok := g.existing(path).(string)
	if !ok {
		return 0, false
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm.UnixMilli(), true
}

func (g *criteriaGenerator) times(path string, n int) []string {
	out := make([]string, n)
	for i := range out {
		ms, ok := g.existingMillis(path)
		if !ok {
			ms = differentialTimeBase.UnixMilli() - 1
		}
		out[i] = strconv.FormatInt(ms, 10)
	}
	return out
}

// timeBound is an existing time to the millisecond, one off it, or a
// day or so away.
func (g *criteriaGenerator) timeBound(path string) int64 {
	ms, ok := g.existingMillis(path)
	if !ok {
		return differentialTimeBase.UnixMilli() + g.rng.Int64N(40*24*3600*1000)
	}
	if g.chance(20) {
		return ms + g.rng.Int64N(2*24*3600*1000) - 24*3600*1000
	}
	return ms + int64(g.rng.IntN(3)-1)
}

// statisticsInput draws a GetFindingsStatistics request: mostly a groupBy
// with a random orderBy and maxResults (each sometimes left out), else the
// deprecated COUNT_BY_SEVERITY, which the API takes without them.
func (g *criteriaGenerator) statisticsInput(det string, criteria map[string]types.Condition) (*guardduty.GetFindingsStatisticsInput, string) {
	in := &guardduty.GetFindingsStatisticsInput{DetectorId: &det}
	if len(criteria) > 0 {
		in.FindingCriteria = &types.FindingCriteria{Criterion: criteria}
	}
	if g.chance(15) {
		in.FindingStatisticTypes = []types.FindingStatisticType{types.FindingStatisticTypeCountBySeverity}
		return in, "findingStatisticTypes COUNT_BY_SEVERITY"
	}
	in.GroupBy = pick(g.rng, []types.GroupByType{
		types.GroupByTypeAccount, types.GroupByTypeDate, types.GroupByTypeFindingType,
		types.GroupByTypeResource, types.GroupByTypeSeverity,
	})
	if g.chance(75) {
		in.OrderBy = pick(g.rng, []types.OrderBy{types.OrderByAsc, types.OrderByDesc})
	}
	if g.chance(75) {
		in.MaxResults = aws.Int32(int32(1 + g.rng.IntN(100)))
	}
	return in, fmt.Sprintf("groupBy %s orderBy %q maxResults %d", in.GroupBy, in.OrderBy, aws.ToInt32(in.MaxResults))
}
