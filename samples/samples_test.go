package samples

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

// The catalogue holds 197 types, taken from the GuardDuty User Guide's
// finding-type pages (see the comment on table in types.go).
const wantTypes = 197

func params(region string) guardpost.SampleParams {
	return guardpost.SampleParams{
		AccountID:  "111122223333",
		Region:     region,
		Partition:  guardpost.Partition(region),
		DetectorID: "12abc34d567e8fa901bc2d34e56789f0",
		FindingID:  "a1b2c3d4e5f60718293a4b5c6d7e8f90",
		Now:        time.Date(2026, 5, 14, 9, 30, 15, 123_000_000, time.UTC),
	}
}

var regions = []string{"us-east-1", "cn-north-1", "us-gov-west-1"}

func TestTypes(t *testing.T) {
	types := New().Types()
	if !slices.IsSorted(types) {
		t.Error("Types() is not sorted")
	}
	if len(slices.Compact(slices.Clone(types))) != len(types) {
		t.Error("Types() has duplicates")
	}
	if len(types) < 180 || len(types) != wantTypes {
		t.Errorf("Types() has %d types, want %d (and at least 180)", len(types), wantTypes)
	}
	types[0] = "mutated"
	if New().Types()[0] == "mutated" {
		t.Error("Types() shares its slice with the catalogue")
	}
}

func TestUnknownType(t *testing.T) {
	c := New()
	for _, ty := range []string{"", "Recon:EC2/NoSuchThing", "recon:ec2/portscan", "Recon:IAMUser/NetworkPermissions"} {
		if doc, ok := c.Sample(ty, params("us-east-1")); ok || doc != nil {
			t.Errorf("Sample(%q) = %s, %v; want nil, false", ty, doc, ok)
		}
		if _, ok := c.Severity(ty); ok {
			t.Errorf("Severity(%q) reports a known type", ty)
		}
	}
}

// expectedResourceTypes gives the resourceType values a finding type may
// have, from its ResourceTypeAffected part and artifact.
func expectedResourceTypes(findingType string) []string {
	_, rest, _ := strings.Cut(findingType, ":")
	affected, name, _ := strings.Cut(rest, "/")
	switch {
	case strings.HasSuffix(name, "!Snapshot"):
		return []string{"EBSSnapshot"}
	case strings.HasSuffix(name, "!AMI"):
		return []string{"EC2Image"}
	case strings.HasSuffix(name, "!RecoveryPoint"):
		return []string{"RecoveryPoint"}
	case strings.HasPrefix(findingType, "Object:S3/"):
		return []string{"S3Object"}
	}
	switch affected {
	case "EC2":
		return []string{"Instance"}
	case "IAMUser", "IAM":
		return []string{"AccessKey"}
	case "S3":
		return []string{"S3Bucket"}
	case "Kubernetes", "EKS":
		return []string{"EKSCluster"}
	case "ECS":
		return []string{"ECSCluster"}
	case "Container":
		return []string{"Container"}
	case "Runtime":
		return []string{"Instance", "EKSCluster", "ECSCluster"}
	case "Lambda":
		return []string{"Lambda"}
	case "RDS":
		return []string{"RDSDBInstance"}
	}
	return nil
}

// The detail object each resourceType must carry.
var resourceDetail = map[string]string{
	"Instance": "instanceDetails", "AccessKey": "accessKeyDetails", "S3Bucket": "s3BucketDetails",
	"S3Object": "s3BucketDetails", "EKSCluster": "eksClusterDetails", "ECSCluster": "ecsClusterDetails",
	"Container": "containerDetails", "Lambda": "lambdaDetails", "RDSDBInstance": "rdsDbInstanceDetails",
	"EBSSnapshot": "ebsSnapshotDetails", "EC2Image": "ec2ImageDetails", "RecoveryPoint": "recoveryPointDetails",
}

func TestSamples(t *testing.T) {
	c := New()
	for _, ty := range c.Types() {
		for _, region := range regions {
			p := params(region)
			doc, ok := c.Sample(ty, p)
			if !ok {
				t.Fatalf("Sample(%q) unknown", ty)
			}
			if !json.Valid(doc) {
				t.Fatalf("%s: invalid JSON", ty)
			}
			f, err := guardpost.ParseFinding(doc)
			if err != nil {
				t.Fatalf("%s: ParseFinding: %v", ty, err)
			}
			sev, _ := c.Severity(ty)
			if f.Type != ty || f.Severity != sev || f.ID != p.FindingID || f.AccountID != p.AccountID ||
				f.Region != region || f.DetectorID != p.DetectorID || f.Archived {
				t.Errorf("%s/%s: parsed %+v", ty, region, f)
			}
			if !f.CreatedAt.Equal(p.Now.Truncate(time.Millisecond)) || !f.UpdatedAt.Equal(f.CreatedAt) {
				t.Errorf("%s: createdAt %v updatedAt %v, want %v", ty, f.CreatedAt, f.UpdatedAt, p.Now)
			}
			if sev < 1 || sev > 10 {
				t.Errorf("%s: severity %v out of range", ty, sev)
			}

			var tree struct {
				SchemaVersion string         `json:"schemaVersion"`
				Arn           string         `json:"arn"`
				Partition     string         `json:"partition"`
				CreatedAt     string         `json:"createdAt"`
				Title         string         `json:"title"`
				Description   string         `json:"description"`
				Resource      map[string]any `json:"resource"`
				Service       struct {
					ServiceName    string `json:"serviceName"`
					Count          int    `json:"count"`
					EventFirstSeen string `json:"eventFirstSeen"`
					EventLastSeen  string `json:"eventLastSeen"`
					ResourceRole   string `json:"resourceRole"`
					AdditionalInfo struct {
						Value string `json:"value"`
						Type  string `json:"type"`
					} `json:"additionalInfo"`
					Action         map[string]any `json:"action"`
					RuntimeDetails map[string]any `json:"runtimeDetails"`
				} `json:"service"`
			}
			if err := json.Unmarshal(doc, &tree); err != nil {
				t.Fatalf("%s: %v", ty, err)
			}
			partition := guardpost.Partition(region)
			wantARN := "arn:" + partition + ":guardduty:" + region + ":" + p.AccountID + ":detector/" + p.DetectorID + "/finding/" + p.FindingID
			if tree.Arn != wantARN || tree.Partition != partition {
				t.Errorf("%s: arn %q partition %q, want %q %q", ty, tree.Arn, tree.Partition, wantARN, partition)
			}
			if tree.SchemaVersion != "2.0" || tree.CreatedAt != "2026-05-14T09:30:15.123Z" || tree.Title == "" || tree.Description == "" {
				t.Errorf("%s: schemaVersion %q createdAt %q title %q", ty, tree.SchemaVersion, tree.CreatedAt, tree.Title)
			}
			s := tree.Service
			if s.ServiceName != "guardduty" || s.Count != 1 || s.ResourceRole == "" {
				t.Errorf("%s: service %+v", ty, s)
			}
			if s.AdditionalInfo.Value != `{"sample":true}` || s.AdditionalInfo.Type != "default" {
				t.Errorf("%s: additionalInfo %+v does not mark a sample", ty, s.AdditionalInfo)
			}
			first, err1 := time.Parse(time.RFC3339, s.EventFirstSeen)
			last, err2 := time.Parse(time.RFC3339, s.EventLastSeen)
			if err1 != nil || err2 != nil || last.Before(first) || last.After(p.Now) {
				t.Errorf("%s: event seen %q .. %q", ty, s.EventFirstSeen, s.EventLastSeen)
			}
			rt, _ := tree.Resource["resourceType"].(string)
			if want := expectedResourceTypes(ty); !slices.Contains(want, rt) {
				t.Errorf("%s: resourceType %q, want one of %v", ty, rt, want)
			}
			if tree.Resource[resourceDetail[rt]] == nil {
				t.Errorf("%s: resourceType %s without %s", ty, rt, resourceDetail[rt])
			}
			if strings.Contains(ty, ":Runtime/") == (s.RuntimeDetails == nil) {
				t.Errorf("%s: runtimeDetails present = %v", ty, s.RuntimeDetails != nil)
			}
			if strings.HasSuffix(ty, "!DNS") && s.Action["dnsRequestAction"] == nil {
				t.Errorf("%s: a !DNS finding without dnsRequestAction", ty)
			}
			for _, arn := range arns(doc) {
				if !strings.HasPrefix(arn, "arn:"+partition+":") {
					t.Errorf("%s/%s: ARN %q outside partition %s", ty, region, arn, partition)
				}
			}
		}
	}
}

// arns finds every ARN string in a document.
func arns(doc []byte) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			if strings.HasPrefix(x, "arn:") {
				out = append(out, x)
			}
		}
	}
	var v any
	json.Unmarshal(doc, &v)
	walk(v)
	return out
}

// TestWireSchema decodes every sample into the generated wire type with
// unknown members refused, so every member name and JSON type must be the
// model's (epoch-number timestamps, integer counts, PascalCase
// IamInstanceProfile and LoginAttributes).
func TestWireSchema(t *testing.T) {
	c := New()
	for _, ty := range c.Types() {
		doc, _ := c.Sample(ty, params("us-east-1"))
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.DisallowUnknownFields()
		var f wire.Finding
		if err := dec.Decode(&f); err != nil {
			t.Errorf("%s: %v", ty, err)
			continue
		}
		if dec.More() {
			t.Errorf("%s: trailing data", ty)
		}
		if f.Type == nil || *f.Type != ty || f.Resource == nil || f.Service == nil {
			t.Errorf("%s: decoded without type, resource or service", ty)
		}
		// Round trip: what the wire type writes back decodes to the same tree.
		again, err := json.Marshal(&f)
		if err != nil {
			t.Fatalf("%s: %v", ty, err)
		}
		var a, b any
		json.Unmarshal(doc, &a)
		json.Unmarshal(again, &b)
		if !jsonEqual(a, b) {
			t.Errorf("%s: wire round trip changed the document:\n%s\n%s", ty, doc, again)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestDeterministic(t *testing.T) {
	c := New()
	for _, ty := range c.Types() {
		p := params("eu-west-1")
		one, _ := c.Sample(ty, p)
		two, _ := New().Sample(ty, p)
		if !bytes.Equal(one, two) {
			t.Fatalf("%s: two renders differ", ty)
		}
		later := p
		later.Now = p.Now.Add(time.Hour)
		three, _ := c.Sample(ty, later)
		if bytes.Equal(one, three) {
			t.Errorf("%s: the sample ignores p.Now", ty)
		}
	}
}

// TestVariety checks that samples differ in the attributes findings are
// sorted by, so that sorting them is meaningful.
func TestVariety(t *testing.T) {
	c := New()
	seen := map[string]map[any]bool{}
	for _, ty := range c.Types() {
		doc, _ := c.Sample(ty, params("us-east-1"))
		f, err := guardpost.ParseFinding(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range guardpost.SortAttributes {
			if f.SortKeys[i] == nil {
				continue
			}
			if seen[a.Name] == nil {
				seen[a.Name] = map[any]bool{}
			}
			seen[a.Name][f.SortKeys[i]] = true
		}
	}
	for _, name := range []string{
		"severity", "type",
		"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
		"service.action.networkConnectionAction.remoteIpDetails.country.countryName",
		"service.action.networkConnectionAction.localPortDetails.port",
		"service.action.networkConnectionAction.remotePortDetails.port",
		"service.action.networkConnectionAction.protocol",
		"service.action.awsApiCallAction.api",
		"service.action.awsApiCallAction.serviceName",
		"resource.instanceDetails.instanceId",
		"service.eventLastSeen",
	} {
		if len(seen[name]) < 3 {
			t.Errorf("%s takes only %d distinct values across the samples", name, len(seen[name]))
		}
	}
}
