package guardpost

import (
	"math"
	"net/netip"
	"strings"
)

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

// SortKeyOf returns the sort key of SortAttributes[i] for v, the value
// at its path (as the stored finding's SortKeys[i] holds it).
func SortKeyOf(i int, v any) any { return SortAttributes[i].key(v) }

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
