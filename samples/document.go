package samples

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/guardpost/guardpost"
)

// obj and arr are JSON objects and arrays. encoding/json writes map keys in
// sorted order, so a document is byte-for-byte reproducible.
type (
	obj = map[string]any
	arr = []any
)

// Default severities of the GuardDuty user guide's levels.
const (
	low      = 2.0
	medium   = 5.0
	high     = 8.0
	critical = 9.0
)

// spec is one row of the type table: a finding type and how to build its
// sample.
type spec struct {
	Type        string
	Severity    float64
	Resource    resourceFunc // builds Finding.resource
	Title       string
	Description string
	Details     []detail // fill Finding.service: action, runtime, scans, detection
}

// row builds a table entry; the details come last so that a row reads as
// "type, severity, resource, text, then what happened".
func row(findingType string, severity float64, res resourceFunc, title, description string, details ...detail) spec {
	return spec{Type: findingType, Severity: severity, Resource: res, Title: title, Description: description, Details: details}
}

type (
	// resourceFunc builds the resource object of a finding.
	resourceFunc func(b *build) obj
	// detail adds one part of the service object (or, rarely, of the
	// resource) to a finding under construction.
	detail func(b *build)
)

// build is a finding under construction.
type build struct {
	p    guardpost.SampleParams
	spec *spec
	// seed varies values (remote address, ports, ids) from one finding type
	// to another so that sorting samples by those attributes is meaningful.
	seed uint32

	resource obj
	service  obj
	feature  string // service.featureName unless runtimeDetails decide it
	role     string // service.resourceRole
}

// render assembles the finding document of s for p.
func (s *spec) render(p guardpost.SampleParams) []byte {
	if p.Partition == "" {
		p.Partition = guardpost.Partition(p.Region)
	}
	p.Now = p.Now.UTC()
	h := fnv.New32a()
	h.Write([]byte(s.Type))
	b := &build{p: p, spec: s, seed: h.Sum32(), role: "TARGET"}
	b.service = obj{
		"serviceName":    "guardduty",
		"detectorId":     p.DetectorID,
		"archived":       false,
		"count":          1,
		"eventFirstSeen": guardpost.ISOTime(b.ago(3 * time.Hour)),
		"eventLastSeen":  guardpost.ISOTime(b.ago(time.Duration(5+b.seed%50) * time.Minute)),
		"additionalInfo": obj{"value": `{"sample":true}`, "type": "default"},
	}
	b.resource = s.Resource(b)
	for _, d := range s.Details {
		d(b)
	}
	b.service["resourceRole"] = b.role
	if _, ok := b.service["runtimeDetails"]; ok {
		b.feature = "RuntimeMonitoring"
	}
	if b.feature != "" {
		b.service["featureName"] = b.feature
	}
	doc := obj{
		"schemaVersion": "2.0",
		"accountId":     p.AccountID,
		"region":        p.Region,
		"partition":     p.Partition,
		"id":            p.FindingID,
		"arn":           b.arn("guardduty", "detector/"+p.DetectorID+"/finding/"+p.FindingID),
		"type":          s.Type,
		"severity":      s.Severity,
		"title":         s.Title,
		"description":   s.Description,
		"createdAt":     guardpost.ISOTime(p.Now),
		"updatedAt":     guardpost.ISOTime(p.Now),
		"resource":      b.resource,
		"service":       b.service,
	}
	out, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("samples: %s: %v", s.Type, err)) // only plain values go in
	}
	return out
}

// ago is a moment before the sample's creation.
func (b *build) ago(d time.Duration) time.Time { return b.p.Now.Add(-d) }

// epoch writes t as a Smithy timestamp: epoch seconds, a JSON number.
func epoch(t time.Time) int64 { return t.Unix() }

// arn builds a regional ARN in the finding's partition, region and account.
func (b *build) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", b.p.Partition, service, b.p.Region, b.p.AccountID, resource)
}

// globalARN builds an ARN without a region (IAM, S3).
func (b *build) globalARN(service, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s::%s:%s", b.p.Partition, service, account, resource)
}

// pick chooses one of n variants for this finding type; salt separates
// independent choices.
func (b *build) pick(n int, salt uint32) int {
	x := b.seed ^ (salt * 0x9e3779b9)
	x ^= x >> 16
	x *= 0x85ebca6b
	x ^= x >> 13
	return int(x % uint32(n))
}

// hexID is a hexadecimal identifier of up to 16 digits derived from the
// finding type; salt separates identifiers of different things.
func (b *build) hexID(salt uint32, digits int) string {
	x := uint64(b.seed^salt*0x01000193) * 0x9e3779b97f4a7c15 // Fibonacci hashing: the top bits mix best
	return fmt.Sprintf("%0*x", digits, x>>(64-4*digits))
}

// setAction stores the action of the finding under its member name.
func (b *build) setAction(member, actionType string, v obj) {
	b.service["action"] = obj{"actionType": actionType, member: v}
}

// action returns the action object, creating an empty one when needed.
func (b *build) action() obj {
	a, ok := b.service["action"].(obj)
	if !ok {
		a = obj{}
		b.service["action"] = a
	}
	return a
}

// isoTime writes t the way GuardDuty writes string-typed times.
func isoTime(t time.Time) string { return guardpost.ISOTime(t) }
