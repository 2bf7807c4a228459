package guardpost

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const smithyModelPath = "../shared/spec/guardduty-2017-11-28.smithy.json"

// criteriaNotFilterable are the names the API reference lists as
// filterable that FilterAttributes leaves out, because a finding document
// cannot carry them as plain values.
var criteriaNotFilterable = map[string]string{
	// additionalInfo is {value: "<JSON text>", type}; these live in the text.
	"service.additionalInfo.agentDetails.agentId":                                                 "inside additionalInfo.value",
	"service.additionalInfo.agentDetails.agentVersion":                                            "inside additionalInfo.value",
	"service.additionalInfo.anomalies.anomalousAPIs":                                              "inside additionalInfo.value",
	"service.additionalInfo.authenticationMethod":                                                 "inside additionalInfo.value",
	"service.additionalInfo.averagePacketSizeIn":                                                  "inside additionalInfo.value",
	"service.additionalInfo.averagePacketSizeOut":                                                 "inside additionalInfo.value",
	"service.additionalInfo.context":                                                              "inside additionalInfo.value",
	"service.additionalInfo.domain":                                                               "inside additionalInfo.value",
	"service.additionalInfo.inBytes":                                                              "inside additionalInfo.value",
	"service.additionalInfo.localNetworkInterfaceOwner":                                           "inside additionalInfo.value",
	"service.additionalInfo.localPort":                                                            "inside additionalInfo.value",
	"service.additionalInfo.outBytes":                                                             "inside additionalInfo.value",
	"service.additionalInfo.packetsIn":                                                            "inside additionalInfo.value",
	"service.additionalInfo.packetsOut":                                                           "inside additionalInfo.value",
	"service.additionalInfo.policyArn":                                                            "inside additionalInfo.value",
	"service.additionalInfo.policyName":                                                           "inside additionalInfo.value",
	"service.additionalInfo.remotePort":                                                           "inside additionalInfo.value",
	"service.additionalInfo.sample":                                                               "inside additionalInfo.value",
	"service.additionalInfo.scannedPort":                                                          "inside additionalInfo.value",
	"service.additionalInfo.threatFileSha256":                                                     "inside additionalInfo.value",
	"service.additionalInfo.threatListName":                                                       "inside additionalInfo.value",
	"service.additionalInfo.threatName":                                                           "inside additionalInfo.value",
	"service.additionalInfo.totalBytesIn":                                                         "inside additionalInfo.value",
	"service.additionalInfo.totalBytesOut":                                                        "inside additionalInfo.value",
	"service.additionalInfo.unusual.asnOrg":                                                       "inside additionalInfo.value",
	"service.additionalInfo.unusual.port":                                                         "inside additionalInfo.value",
	"service.additionalInfo.unusualProtocol":                                                      "inside additionalInfo.value",
	"service.additionalInfo.userAgent.fullUserAgent":                                              "inside additionalInfo.value",
	"service.additionalInfo.userAgent.userAgentCategory":                                          "inside additionalInfo.value",
	"service.additionalInfo.vpcOwnerAccountId":                                                    "inside additionalInfo.value",
	"service.action.awsApiCallAction.affectedResources":                                           "map",
	"service.detection.anomaly.profiles":                                                          "map",
	"service.detection.anomaly.unusual.behavior":                                                  "map",
	"resource.bedrockGuardrailDetails.guardrailArn":                                               "not in the model",
	"resource.bedrockGuardrailDetails.guardrailVersion":                                           "not in the model",
	"resource.rdsDbInstanceDetails.dbSecurityGroups.name":                                         "not in the model",
	"resource.rdsDbInstanceDetails.dbSecurityGroups.status":                                       "not in the model",
	"resource.rdsDbInstanceDetails.iamDatabaseAuthenticationEnabled":                              "not in the model",
	"resource.rdsDbInstanceDetails.publiclyAccessible":                                            "not in the model",
	"resource.rdsDbInstanceDetails.vpcId":                                                         "not in the model",
	"resource.rdsDbInstanceDetails.vpcSecurityGroups.status":                                      "not in the model",
	"resource.rdsDbInstanceDetails.vpcSecurityGroups.vpcSecurityGroupId":                          "not in the model",
	"service.action.awsApiCallAction.remoteAccountDetails.awsServiceName":                         "not in the model",
	"service.detection.sequence.resources.data.iamInstanceProfile.id":                             "not in the model",
	"service.runtimeDetails.context.fileOperation":                                                "not in the model",
	"service.runtimeDetails.context.filePath":                                                     "not in the model",
	"service.runtimeDetails.context.relatedFilePaths":                                             "not in the model",
	"resource.accessKeyDetails.userIdentity.accessKeyId":                                          "not in the model",
	"resource.accessKeyDetails.userIdentity.accountId":                                            "not in the model",
	"resource.accessKeyDetails.userIdentity.arn":                                                  "not in the model",
	"resource.accessKeyDetails.userIdentity.principalId":                                          "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.attributes.mfaAuthenticated":           "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.ec2RoleDelivery":                       "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.invokedBy":                             "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.sessionIssuer.accountId":               "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.sessionIssuer.arn":                     "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.sessionIssuer.principalId":             "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.sessionIssuer.type":                    "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.sessionIssuer.userName":                "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.sourceIdentity":                        "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.webIdFederationData.attributes":        "not in the model",
	"resource.accessKeyDetails.userIdentity.sessionContext.webIdFederationData.federatedProvider": "not in the model",
	"resource.accessKeyDetails.userIdentity.type":                                                 "not in the model",
	"resource.accessKeyDetails.userIdentity.userName":                                             "not in the model",
}

// criteriaGuideAliases are user-guide spellings kept beside the API names.
var criteriaGuideAliases = map[string]string{
	"resource.instanceDetails.outpostARN":                        "resource.instanceDetails.outpostArn",
	"resource.s3BucketDetails.publicAccess.effectivePermissions": "resource.s3BucketDetails.publicAccess.effectivePermission",
}

type smithyShape struct {
	Type   string `json:"type"`
	Member *struct {
		Target string `json:"target"`
	} `json:"member"`
	Members map[string]struct {
		Target string                     `json:"target"`
		Traits map[string]json.RawMessage `json:"traits"`
	} `json:"members"`
}

// resolveModelPath follows a dotted document path from Finding through the
// model's JSON member names, walking lists transparently, and returns the
// leaf shape type ("" when the path does not resolve).
func resolveModelPath(shapes map[string]smithyShape, path string) string {
	const ns = "com.amazonaws.guardduty#"
	cur := ns + "Finding"
	unlist := func() {
		for shapes[cur].Type == "list" || shapes[cur].Type == "set" {
			cur = shapes[cur].Member.Target
		}
	}
	for part := range strings.SplitSeq(path, ".") {
		unlist()
		sh := shapes[cur]
		if sh.Type != "structure" {
			return ""
		}
		next := ""
		for name, m := range sh.Members {
			key := name // restJson1 uses the member name unless jsonName says otherwise
			if raw, ok := m.Traits["smithy.api#jsonName"]; ok {
				_ = json.Unmarshal(raw, &key)
			}
			if key == part {
				next = m.Target
			}
		}
		if next == "" {
			return ""
		}
		cur = next
	}
	unlist()
	if sh, ok := shapes[cur]; ok {
		return sh.Type
	}
	// Prelude shapes (smithy.api#String and the like) are not in the file.
	return strings.ToLower(strings.TrimPrefix(cur, "smithy.api#"))
}

func TestFilterAttributesAgainstModel(t *testing.T) {
	raw, err := os.ReadFile(smithyModelPath)
	if errors.Is(err, os.ErrNotExist) {
		// The model is not in the repository; CI has it, so there its
		// absence fails instead of silently testing nothing.
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("CI is set but %s is not present", smithyModelPath)
		}
		t.Skipf("%s not present", smithyModelPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Shapes map[string]smithyShape `json:"shapes"`
	}
	if err := json.Unmarshal(raw, &model); err != nil {
		t.Fatal(err)
	}
	kindOK := map[ValueKind][]string{
		KindString: {"string", "enum"},
		KindNumber: {"integer", "long", "double", "float", "short", "byte"},
		KindBool:   {"boolean"},
		KindTime:   {"timestamp", "string"}, // string members hold ISO-8601 text
	}
	seen := map[string]bool{}
	for i, a := range FilterAttributes {
		if seen[a.Name] {
			t.Errorf("%s is listed twice", a.Name)
		}
		seen[a.Name] = true
		if got := FilterAttributeIndex(a.Name); got != i {
			t.Errorf("FilterAttributeIndex(%q) = %d, want %d", a.Name, got, i)
		}
		if a.Path == a.Name {
			t.Errorf("%s: Path repeats the name; leave it empty", a.Name)
		}
		path := a.Path
		if path == "" {
			path = a.Name
		}
		typ := resolveModelPath(model.Shapes, path)
		if typ == "" {
			t.Errorf("%s: path %s is not a Finding member", a.Name, path)
		} else if !slices.Contains(kindOK[a.Kind], typ) {
			t.Errorf("%s: model type %s does not fit a %s attribute", a.Name, typ, kindName(a.Kind))
		}
	}

	// The table is the API reference's list, less what a finding cannot
	// carry, plus the user guide's aliases.
	var input smithyShape
	input = model.Shapes["com.amazonaws.guardduty#CreateFilterRequest"]
	var doc string
	if err := json.Unmarshal(input.Members["FindingCriteria"].Traits["smithy.api#documentation"], &doc); err != nil {
		t.Fatal(err)
	}
	items := regexp.MustCompile(`<li>\s*<p>([^<]+)</p>`).FindAllStringSubmatchIndex(doc, -1)
	documented := map[string]bool{}
	for j, m := range items {
		name := doc[m[2]:m[3]]
		end := len(doc)
		if j+1 < len(items) {
			end = items[j+1][0]
		}
		isTime := strings.Contains(doc[m[1]:end], "Unix Epoch millisecond")
		documented[name] = true
		if reason, ok := criteriaNotFilterable[name]; ok {
			typ := resolveModelPath(model.Shapes, name)
			if typ != "" && typ != "map" {
				t.Errorf("%s is left out (%s) but resolves to %s; add it to FilterAttributes", name, reason, typ)
			}
			continue
		}
		i := FilterAttributeIndex(name)
		if i < 0 {
			t.Errorf("the API reference lists %s as filterable; FilterAttributes lacks it", name)
			continue
		}
		if got := FilterAttributes[i].Kind == KindTime; got != isTime {
			t.Errorf("%s: KindTime is %t, the API reference says epoch-millisecond timestamp is %t", name, got, isTime)
		}
	}
	for _, a := range FilterAttributes {
		if target, ok := criteriaGuideAliases[a.Name]; ok {
			if a.Path != target {
				t.Errorf("alias %s: Path %q, want %q", a.Name, a.Path, target)
			}
			continue
		}
		if !documented[a.Name] {
			t.Errorf("%s is not in the API reference's list", a.Name)
		}
	}
	// Keep the counts in the FilterAttributes comment true.
	if len(documented) != 629 || len(criteriaNotFilterable) != 64 || len(FilterAttributes) != 567 {
		t.Errorf("API names %d, left out %d, table %d: update the FilterAttributes comment",
			len(documented), len(criteriaNotFilterable), len(FilterAttributes))
	}
}

func TestFilterAttributeIndex(t *testing.T) {
	if FilterAttributeIndex("severity") < 0 || FilterAttributeIndex("service.archived") < 0 {
		t.Error("severity or service.archived missing")
	}
	for _, name := range []string{"", "foo.bar", "Severity", "service", "resource.instanceDetails"} {
		if got := FilterAttributeIndex(name); got != -1 {
			t.Errorf("FilterAttributeIndex(%q) = %d, want -1", name, got)
		}
	}
}

func decodeDoc(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test document: %v", err)
	}
	return m
}

func values(attrs []AttributeValue, name string) []AttributeValue {
	i := FilterAttributeIndex(name)
	var out []AttributeValue
	for _, a := range attrs {
		if a.Attribute == i {
			out = append(out, a)
		}
	}
	return out
}

func TestFindingAttributes(t *testing.T) {
	doc := decodeDoc(t, `{
		"accountId": "111122223333", "severity": 8, "confidence": "high",
		"createdAt": "2024-05-01T10:00:00.123Z", "updatedAt": 12,
		"resource": {
			"instanceDetails": {
				"launchTime": "2024-04-30T00:00:00Z",
				"networkInterfaces": [
					{"publicIp": "198.51.100.1", "ipv6Addresses": ["2001:db8::1", "2001:db8::2"],
					 "securityGroups": [{"groupId": "sg-1"}, {"groupId": "sg-2"}]},
					{"publicIp": "198.51.100.2", "securityGroups": [{"groupId": "sg-3"}]}
				],
				"tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": 7}]
			},
			"eksClusterDetails": {"createdAt": 1714557600.5},
			"kubernetesDetails": {"kubernetesWorkloadDetails": {"hostPID": true, "hostIPC": "yes"}}
		},
		"service": {"archived": false, "count": 3, "action": {"rdsLoginAttemptAction": {"LoginAttributes": [{"user": "admin"}]}}}
	}`)
	attrs := FindingAttributes(doc)
	if !slices.IsSortedFunc(attrs, func(a, b AttributeValue) int { return a.Attribute - b.Attribute }) {
		t.Error("values are not ordered by attribute")
	}
	type want struct {
		text  string
		num   float64
		isNum bool
	}
	cases := []struct {
		name string
		want []want
	}{
		{"accountId", []want{{"111122223333", 0, false}}},
		{"severity", []want{{"8", 8, true}}},
		{"confidence", nil}, // a string where a number belongs is skipped
		{"createdAt", []want{{"2024-05-01T10:00:00.123Z", 1714557600123, true}}},
		{"updatedAt", []want{{"12", 12000, true}}}, // epoch seconds
		{"resource.instanceDetails.launchTime", []want{{"2024-04-30T00:00:00Z", 1714435200000, true}}},
		{"resource.instanceDetails.networkInterfaces.publicIp", []want{{"198.51.100.1", 0, false}, {"198.51.100.2", 0, false}}},
		{"resource.instanceDetails.networkInterfaces.ipv6Addresses", []want{{"2001:db8::1", 0, false}, {"2001:db8::2", 0, false}}},
		{"resource.instanceDetails.networkInterfaces.securityGroups.groupId", []want{{"sg-1", 0, false}, {"sg-2", 0, false}, {"sg-3", 0, false}}},
		{"resource.instanceDetails.tags.key", []want{{"env", 0, false}, {"team", 0, false}}},
		{"resource.instanceDetails.tags.value", []want{{"prod", 0, false}}},
		{"resource.eksClusterDetails.createdAt", []want{{"1714557600.5", 1714557600500, true}}},
		{"resource.kubernetesDetails.kubernetesWorkloadDetails.hostPid", []want{{"true", 1, true}}},
		{"resource.kubernetesDetails.kubernetesWorkloadDetails.hostIpc", nil},
		{"service.archived", []want{{"false", 0, true}}},
		{"service.count", []want{{"3", 3, true}}},
		{"service.action.rdsLoginAttemptAction.loginAttributes.user", []want{{"admin", 0, false}}},
		{"region", nil},
	}
	total := 0
	for _, c := range cases {
		got := values(attrs, c.name)
		total += len(got)
		var gotW []want
		for _, g := range got {
			gotW = append(gotW, want{g.Text, g.Num, g.IsNum})
		}
		if !slices.Equal(gotW, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, gotW, c.want)
		}
	}
	if total != len(attrs) {
		t.Errorf("%d values, %d expected: %+v", len(attrs), total, attrs)
	}
	if got := FindingAttributes(map[string]any{}); len(got) != 0 {
		t.Errorf("empty document: %+v", got)
	}
}

func ptr(n int64) *int64 { return &n }

func TestCompileCriteriaErrors(t *testing.T) {
	cases := []struct {
		name     string
		criteria Criteria
		want     string
	}{
		{"unknown attribute", Criteria{"foo.bar": {Equals: []string{"x"}}},
			"The request is rejected because the findingCriteria attribute 'foo.bar' is not supported."},
		{"no operator", Criteria{"type": {}},
			"The request is rejected because the findingCriteria condition for 'type' has no operator."},
		{"empty lists are no operator", Criteria{"type": {Equals: []string{}, Matches: []string{}}},
			"The request is rejected because the findingCriteria condition for 'type' has no operator."},
		{"number", Criteria{"severity": {Equals: []string{"abc"}}},
			"The request is rejected because the findingCriteria value 'abc' for 'severity' in equals is not a number."},
		{"number NaN", Criteria{"severity": {NotEquals: []string{"NaN"}}},
			"The request is rejected because the findingCriteria value 'NaN' for 'severity' in notEquals is not a number."},
		{"time", Criteria{"updatedAt": {Equals: []string{"yesterday"}}},
			"The request is rejected because the findingCriteria value 'yesterday' for 'updatedAt' in equals is not a time in epoch milliseconds."},
		{"boolean", Criteria{"service.archived": {Equals: []string{"True"}}},
			"The request is rejected because the findingCriteria value 'True' for 'service.archived' in equals is not true or false."},
		{"range on string", Criteria{"type": {GreaterThan: ptr(1)}},
			"The request is rejected because the findingCriteria attribute 'type' is a string attribute and does not support greaterThan; use equals, notEquals, matches or notMatches."},
		{"range on boolean", Criteria{"service.archived": {LessThanOrEqual: ptr(1)}},
			"The request is rejected because the findingCriteria attribute 'service.archived' is a boolean attribute and does not support lessThanOrEqual; use equals, notEquals, matches or notMatches."},
		{"first fault by name", Criteria{"zzz": {Equals: []string{"x"}}, "aaa": {Equals: []string{"x"}}},
			"The request is rejected because the findingCriteria attribute 'aaa' is not supported."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := CompileCriteria(c.criteria)
			if err == nil {
				t.Fatalf("no error; compiled %+v", got)
			}
			if ErrorKind(err) != EINVALID || ErrorMessage(err) != c.want {
				t.Errorf("got %s %q\nwant %q", ErrorKind(err), ErrorMessage(err), c.want)
			}
		})
	}
}

func TestCompileCriteria(t *testing.T) {
	got, err := CompileCriteria(Criteria{
		"updatedAt":        {GreaterThanOrEqual: ptr(1714557600000), Equals: []string{"1714557600123", "2024-05-01T10:00:00Z"}},
		"type":             {Equals: []string{"Recon:EC2/PortProbeUnprotectedPort"}, NotMatches: []string{"*Sample*"}},
		"severity":         {Equals: []string{"8", "7.5"}, LessThan: ptr(9)},
		"service.archived": {NotEquals: []string{"true"}},
		"accountId":        {Matches: []string{"1111*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"accountId", "severity", "type", "updatedAt", "service.archived"}
	slices.SortFunc(order, func(a, b string) int { return FilterAttributeIndex(a) - FilterAttributeIndex(b) })
	for i, c := range got {
		if FilterAttributes[c.Attribute].Name != order[i] {
			t.Fatalf("criterion %d is %s, want %s", i, FilterAttributes[c.Attribute].Name, order[i])
		}
	}
	by := map[string]Criterion{}
	for _, c := range got {
		by[FilterAttributes[c.Attribute].Name] = c
	}
	if c := by["severity"]; !slices.Equal(c.EqualsNum, []float64{8, 7.5}) || c.EqualsText != nil || c.LessThan == nil || *c.LessThan != 9 {
		t.Errorf("severity: %+v", c)
	}
	if c := by["updatedAt"]; !slices.Equal(c.EqualsNum, []float64{1714557600123, 1714557600000}) || *c.GreaterThanOrEqual != 1714557600000 {
		t.Errorf("updatedAt: %+v", c)
	}
	if c := by["type"]; !slices.Equal(c.EqualsText, []string{"Recon:EC2/PortProbeUnprotectedPort"}) || !slices.Equal(c.NotMatches, []string{"*Sample*"}) {
		t.Errorf("type: %+v", c)
	}
	if c := by["service.archived"]; !slices.Equal(c.NotEqualsNum, []float64{1}) {
		t.Errorf("service.archived: %+v", c)
	}
	if got, err := CompileCriteria(nil); err != nil || len(got) != 0 {
		t.Errorf("empty criteria: %v, %v", got, err)
	}
}

const matchDoc = `{
	"accountId": "111122223333", "region": "us-east-1", "type": "Recon:EC2/PortProbeUnprotectedPort",
	"severity": 8, "createdAt": "2024-05-01T10:00:00.000Z", "updatedAt": "2024-05-02T10:00:00.000Z",
	"resource": {
		"resourceType": "Instance",
		"instanceDetails": {
			"instanceId": "i-0123456789abcdef0",
			"networkInterfaces": [
				{"vpcId": "vpc-1", "publicIp": "198.51.100.1"},
				{"vpcId": "vpc-2", "publicIp": "203.0.113.9"}
			],
			"tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "blue"}]
		}
	},
	"service": {"archived": false, "count": 2, "resourceRole": "TARGET",
		"action": {"networkConnectionAction": {"localPortDetails": {"port": 22}}}}
}`

func TestMatch(t *testing.T) {
	// Epoch milliseconds of createdAt and updatedAt.
	const created, updated = "1714557600000", "1714644000000"
	cases := []struct {
		name     string
		criteria Criteria
		want     bool
	}{
		{"no criteria", nil, true},
		{"equals", Criteria{"accountId": {Equals: []string{"111122223333"}}}, true},
		{"equals is exact", Criteria{"accountId": {Equals: []string{"11112222333"}}}, false},
		{"equals values are ORed", Criteria{"region": {Equals: []string{"eu-west-1", "us-east-1"}}}, true},
		{"criteria are ANDed", Criteria{"region": {Equals: []string{"us-east-1"}}, "type": {Equals: []string{"Backdoor:EC2/C&CActivity.B"}}}, false},
		{"criteria are ANDed, all hold", Criteria{"region": {Equals: []string{"us-east-1"}}, "resource.resourceType": {Equals: []string{"Instance"}}}, true},
		{"operators of one condition are ANDed", Criteria{"severity": {Equals: []string{"8"}, LessThan: ptr(8)}}, false},
		{"notEquals", Criteria{"region": {NotEquals: []string{"eu-west-1"}}}, true},
		{"notEquals hit", Criteria{"region": {NotEquals: []string{"eu-west-1", "us-east-1"}}}, false},

		{"number equals as number", Criteria{"severity": {Equals: []string{"8"}}}, true},
		{"number equals 8.0", Criteria{"severity": {Equals: []string{"8.0"}}}, true},
		{"number equals other", Criteria{"severity": {Equals: []string{"7", "9"}}}, false},
		{"number gte", Criteria{"severity": {GreaterThanOrEqual: ptr(7)}}, true},
		{"number gt boundary", Criteria{"severity": {GreaterThan: ptr(8)}}, false},
		{"number lte boundary", Criteria{"severity": {LessThanOrEqual: ptr(8)}}, true},
		{"number range", Criteria{"severity": {GreaterThanOrEqual: ptr(7), LessThan: ptr(9)}}, true},
		{"number range misses", Criteria{"severity": {GreaterThan: ptr(3), LessThan: ptr(7)}}, false},
		{"number notEquals", Criteria{"severity": {NotEquals: []string{"8"}}}, false},
		{"port", Criteria{"service.action.networkConnectionAction.localPortDetails.port": {Equals: []string{"22"}}}, true},

		{"time equals epoch ms", Criteria{"createdAt": {Equals: []string{created}}}, true},
		{"time equals ISO", Criteria{"createdAt": {Equals: []string{"2024-05-01T10:00:00Z"}}}, true},
		{"time equals off by 1 ms", Criteria{"createdAt": {Equals: []string{"1714557600001"}}}, false},
		{"time gt", Criteria{"updatedAt": {GreaterThan: ptr(1714557600000)}}, true},
		{"time lt", Criteria{"updatedAt": {LessThan: ptr(1714644000000)}}, false},
		{"time window", Criteria{"updatedAt": {GreaterThanOrEqual: ptr(1714644000000), LessThanOrEqual: ptr(1714644000000)}}, true},
		{"time notEquals", Criteria{"updatedAt": {NotEquals: []string{updated}}}, false},

		{"bool false", Criteria{"service.archived": {Equals: []string{"false"}}}, true},
		{"bool true", Criteria{"service.archived": {Equals: []string{"true"}}}, false},
		{"bool notEquals true", Criteria{"service.archived": {NotEquals: []string{"true"}}}, true},

		{"star", Criteria{"type": {Matches: []string{"Recon:*"}}}, true},
		{"star in the middle", Criteria{"type": {Matches: []string{"Recon:*Unprotected*"}}}, true},
		{"star alone", Criteria{"type": {Matches: []string{"*"}}}, true},
		{"no partial match", Criteria{"type": {Matches: []string{"Recon"}}}, false},
		{"no partial match at the end", Criteria{"type": {Matches: []string{"*EC2"}}}, false},
		{"question mark", Criteria{"region": {Matches: []string{"us-east-?"}}}, true},
		{"question mark needs one character", Criteria{"region": {Matches: []string{"us-east-1?"}}}, false},
		{"dot is literal", Criteria{"resource.instanceDetails.networkInterfaces.publicIp": {Matches: []string{"198.51.100.?"}}}, true},
		{"dot is not any character", Criteria{"resource.instanceDetails.networkInterfaces.publicIp": {Matches: []string{"198x51*"}}}, false},
		{"case-sensitive", Criteria{"type": {Matches: []string{"recon:*"}}}, false},
		{"matches ORed", Criteria{"region": {Matches: []string{"eu-*", "us-*"}}}, true},
		{"notMatches", Criteria{"type": {NotMatches: []string{"*Sample*"}}}, true},
		{"notMatches hit", Criteria{"type": {NotMatches: []string{"*Sample*", "Recon:*"}}}, false},
		{"matches on a number's text", Criteria{"severity": {Matches: []string{"8"}}}, true},

		{"list: either interface", Criteria{"resource.instanceDetails.networkInterfaces.vpcId": {Equals: []string{"vpc-2"}}}, true},
		{"list: neither interface", Criteria{"resource.instanceDetails.networkInterfaces.vpcId": {Equals: []string{"vpc-3"}}}, false},
		{"list: notEquals fails if any", Criteria{"resource.instanceDetails.networkInterfaces.vpcId": {NotEquals: []string{"vpc-1"}}}, false},
		{"list: notEquals holds if none", Criteria{"resource.instanceDetails.networkInterfaces.vpcId": {NotEquals: []string{"vpc-3"}}}, true},
		{"list: either tag", Criteria{"resource.instanceDetails.tags.value": {Equals: []string{"blue"}}}, true},
		{"list: notMatches fails if any", Criteria{"resource.instanceDetails.tags.key": {NotMatches: []string{"t*"}}}, false},
		{"list: matches any", Criteria{"resource.instanceDetails.networkInterfaces.publicIp": {Matches: []string{"203.*"}}}, true},
		// Tags are matched one by one: no link between a key and a value.
		{"list: tag key and value", Criteria{"resource.instanceDetails.tags.key": {Equals: []string{"env"}}, "resource.instanceDetails.tags.value": {Equals: []string{"blue"}}}, true},

		{"missing: equals", Criteria{"resource.accessKeyDetails.userName": {Equals: []string{"alice"}}}, false},
		{"missing: notEquals", Criteria{"resource.accessKeyDetails.userName": {NotEquals: []string{"alice"}}}, true},
		{"missing: range", Criteria{"confidence": {GreaterThan: ptr(0)}}, false},
		{"missing: matches", Criteria{"resource.accessKeyDetails.userName": {Matches: []string{"*"}}}, false},
		{"missing: notMatches", Criteria{"resource.accessKeyDetails.userName": {NotMatches: []string{"*"}}}, true},
		{"missing: bool notEquals", Criteria{"service.action.networkConnectionAction.blocked": {NotEquals: []string{"true"}}}, true},
	}
	attrs := FindingAttributes(decodeDoc(t, matchDoc))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			where, err := CompileCriteria(c.criteria)
			if err != nil {
				t.Fatal(err)
			}
			if got := Match(where, attrs); got != c.want {
				t.Errorf("Match = %t, want %t", got, c.want)
			}
		})
	}
}

// TestMatchRangeOneValue checks that the bounds of one criterion must hold
// for one value, not be spread over several.
func TestMatchRangeOneValue(t *testing.T) {
	attrs := FindingAttributes(decodeDoc(t, `{"service": {"runtimeDetails": {"process": {"lineage": [{"pid": 5}, {"pid": 50}]}}}}`))
	for _, c := range []struct {
		lo, hi int64
		want   bool
	}{{10, 20, false}, {1, 10, true}, {40, 60, true}, {4, 51, true}} {
		where, err := CompileCriteria(Criteria{"service.runtimeDetails.process.lineage.pid": {GreaterThan: ptr(c.lo), LessThan: ptr(c.hi)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := Match(where, attrs); got != c.want {
			t.Errorf("pid in (%d, %d): %t, want %t", c.lo, c.hi, got, c.want)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"**", "", true},
		{"?", "", false},
		{"?", "é", true}, // one rune, two bytes
		{"??", "é", false},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYcZ", false},
		{"*abc", "ababc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a.c", "abc", false},
		{"[ab]", "a", false},
		{"[ab]", "[ab]", true},
		{"*.example.com", "evil.example.com", true},
		{"*.example.com", "example.com", false},
		{"日本*", "日本語", true},
		{"*?", "x", true},
		{"*x*x*x*x*y", strings.Repeat("x", 200), false},
		{"abc*", "abd", false},
		{"abc*", "ab", false},
		{"ab?d", "abcd", true},
		{"ab", "ab", true},
		{"ab", "abc", false},
		{"日?語", "日本語", true},
	}
	for _, c := range cases {
		if got := wildcardMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %t, want %t", c.pattern, c.s, got, c.want)
		}
	}
	// Against regular expressions, over random patterns and subjects of a
	// small alphabet (with a two-byte rune).
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "é", "*", "?"}
	word := func(n int, wild bool) string {
		var b strings.Builder
		for range rng.IntN(n) {
			k := len(alphabet)
			if !wild {
				k -= 2
			}
			b.WriteString(alphabet[rng.IntN(k)])
		}
		return b.String()
	}
	for range 20000 {
		pattern, subject := word(6, true), word(7, false)
		expr := "^"
		for _, r := range pattern {
			switch r {
			case '*':
				expr += ".*"
			case '?':
				expr += "."
			default:
				expr += regexp.QuoteMeta(string(r))
			}
		}
		expr += "$"
		want := regexp.MustCompile("(?s)" + expr).MatchString(subject)
		if got := wildcardMatch(pattern, subject); got != want {
			t.Fatalf("wildcardMatch(%q, %q) = %t, want %t (%s)", pattern, subject, got, want, expr)
		}
	}
}
