package guardpost

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// Finding is a stored GuardDuty finding: its canonical wire JSON (Document)
// beside the few fields the service indexes, filters and sorts on. The
// document is what GetFindings returns, byte for byte.
type Finding struct {
	AccountID  string
	Region     string
	DetectorID string
	ID         string
	Type       string
	Severity   float64
	Archived   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// AggregationKey identifies "the same finding" across occurrences: a new
	// occurrence with the same scope, detector, type and key updates the
	// stored finding instead of adding one.
	AggregationKey string
	// SortKeys holds one value per entry of SortAttributes, in that order:
	// nil when the finding lacks the attribute, else float64 or string.
	SortKeys []any
	// Document is the finding as GuardDuty's JSON Finding object.
	Document json.RawMessage
}

// ParseFinding reads a canonical finding document and fills the indexed
// fields from it. The document must carry the required Finding members.
func ParseFinding(doc []byte) (*Finding, error) {
	var tree map[string]any
	if err := json.Unmarshal(doc, &tree); err != nil {
		return nil, Errorf(EINVALID, "finding document is not a JSON object: %v", err)
	}
	f := &Finding{Document: json.RawMessage(doc)}
	str := func(k string) string { s, _ := tree[k].(string); return s }
	f.AccountID, f.Region, f.ID, f.Type = str("accountId"), str("region"), str("id"), str("type")
	for k, v := range map[string]string{"accountId": f.AccountID, "region": f.Region, "id": f.ID, "type": f.Type} {
		if v == "" {
			return nil, Errorf(EINVALID, "finding document lacks %s", k)
		}
	}
	sev, ok := tree["severity"].(float64)
	if !ok {
		return nil, Errorf(EINVALID, "finding document lacks a numeric severity")
	}
	f.Severity = sev
	var err error
	if f.CreatedAt, err = parseISOTime(str("createdAt")); err != nil {
		return nil, Errorf(EINVALID, "finding createdAt: %v", err)
	}
	if f.UpdatedAt, err = parseISOTime(str("updatedAt")); err != nil {
		return nil, Errorf(EINVALID, "finding updatedAt: %v", err)
	}
	if svc, ok := tree["service"].(map[string]any); ok {
		f.DetectorID, _ = svc["detectorId"].(string)
		f.Archived, _ = svc["archived"].(bool)
	}
	f.SortKeys = make([]any, len(SortAttributes))
	for i, a := range SortAttributes {
		f.SortKeys[i] = a.key(lookupPath(tree, a.Name))
	}
	return f, nil
}

// lookupPath follows a dotted attribute path through nested JSON objects.
func lookupPath(tree map[string]any, path string) any {
	var cur any = tree
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// ISOTime formats t the way GuardDuty writes finding timestamps.
func ISOTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func parseISOTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an ISO-8601 time", s)
	}
	return t.UTC(), nil
}

// ValueKind says how an attribute's values compare.
type ValueKind int

const (
	KindString ValueKind = iota // byte order
	KindNumber                  // numeric
	KindTime                    // ISO-8601 text compared as instants (epoch milliseconds)
	KindIPv4                    // dotted quad compared as a 32-bit number
	KindBool                    // false < true
)

// SortAttribute is a finding attribute GetFindings and ListFindings can sort by.
type SortAttribute struct {
	Name string
	Kind ValueKind
}

// SortAttributes are the attributes the API reference allows in
// sortCriteria.attributeName, in its order.
var SortAttributes = []SortAttribute{
	{"accountId", KindString},
	{"severity", KindNumber},
	{"confidence", KindNumber},
	{"type", KindString},
	{"service.eventFirstSeen", KindTime},
	{"service.eventLastSeen", KindTime},
	{"createdAt", KindTime},
	{"updatedAt", KindTime},
	{"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", KindIPv4},
	{"resource.instanceDetails.instanceId", KindString},
	{"service.action.networkConnectionAction.localPortDetails.port", KindNumber},
	{"service.action.networkConnectionAction.remotePortDetails.port", KindNumber},
	{"service.action.networkConnectionAction.remoteIpDetails.country.countryName", KindString},
	{"service.action.networkConnectionAction.protocol", KindString},
	{"service.action.awsApiCallAction.api", KindString},
	{"service.action.awsApiCallAction.serviceName", KindString},
	{"service.action.networkConnectionAction.blocked", KindBool},
	{"service.count", KindNumber},
}

// SortAttributeIndex returns the position of name in SortAttributes, or -1.
func SortAttributeIndex(name string) int {
	for i, a := range SortAttributes {
		if a.Name == name {
			return i
		}
	}
	return -1
}

// key turns a JSON value into the comparable sort key of the attribute's
// kind: float64 for numbers, times, addresses and booleans, string for text,
// nil when the value is absent or not of the kind.
func (a SortAttribute) key(v any) any {
	switch a.Kind {
	case KindString:
		if s, ok := v.(string); ok {
			return s
		}
	case KindNumber:
		if n, ok := v.(float64); ok && !math.IsNaN(n) {
			return n
		}
	case KindTime:
		if s, ok := v.(string); ok {
			if t, err := parseISOTime(s); err == nil {
				return float64(t.UnixMilli())
			}
		}
	case KindIPv4:
		if s, ok := v.(string); ok {
			if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
				b := ip.As4()
				return float64(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
			}
		}
	case KindBool:
		if b, ok := v.(bool); ok {
			if b {
				return 1.0
			}
			return 0.0
		}
	}
	return nil
}

// CompareSortKeys orders two sort keys of one attribute; nil (absent)
// compares greater than any value so that, with the direction applied by
// the caller only to present values, absent values sort last either way.
func CompareSortKeys(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case float64:
		y, _ := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	}
	return 0
}

// SortCriteria orders findings by one attribute.
type SortCriteria struct {
	Attribute  int // index into SortAttributes
	Descending bool
}

// FindingQuery selects a page of a detector's findings.
type FindingQuery struct {
	Sort  *SortCriteria // nil: by id
	Limit int
	// After, when set, resumes a listing after the finding it names.
	After *FindingCursor
}

// FindingCursor is a position in a listing: the sort key and id of the last
// finding returned.
type FindingCursor struct {
	SortKey any
	ID      string
}

// FindingStore keeps findings.
type FindingStore interface {
	// MergeFindings writes findings in one transaction. For each one, when a
	// stored finding of the same scope, detector, type and aggregation key
	// exists, merge(stored, incoming) decides what is written in its place;
	// otherwise incoming is inserted. An error from merge aborts the whole write.
	MergeFindings(ctx context.Context, findings []*Finding, merge func(stored, incoming *Finding) (*Finding, error)) error
	// Findings returns the stored findings of the detector with the given ids;
	// unknown ids are left out and the order is unspecified.
	Findings(ctx context.Context, scope Scope, detectorID string, ids []string) ([]*Finding, error)
	// ListFindings returns the cursors (sort key and id) of the findings that
	// match q, in q's order: by the sort attribute (absent values last in
	// either direction) and then by id ascending.
	ListFindings(ctx context.Context, scope Scope, detectorID string, q FindingQuery) ([]FindingCursor, error)
}

// Store is everything the service keeps.
type Store interface {
	DetectorStore
	FindingStore
	Close() error
}
