package guardpost

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// attrNode is one step of the filter attribute paths, shared by every
// attribute whose path passes through it, so that a document is walked once
// and a missing object (no runtimeDetails, say) skips all its attributes.
type attrNode struct {
	key      string
	children []*attrNode
	attrs    []int // attributes whose path ends here
}

var attrTree = sync.OnceValue(func() *attrNode {
	root := &attrNode{}
	for i, a := range FilterAttributes {
		path := a.Path
		if path == "" {
			path = a.Name
		}
		n := root
		for part := range strings.SplitSeq(path, ".") {
			j := slices.IndexFunc(n.children, func(c *attrNode) bool { return c.key == part })
			if j < 0 {
				n.children = append(n.children, &attrNode{key: part})
				j = len(n.children) - 1
			}
			n = n.children[j]
		}
		n.attrs = append(n.attrs, i)
	}
	return root
})

// FindingAttributes returns every value the finding document has for every
// filter attribute, ordered by attribute and then by document order. Lists
// met on the way (or at the end) are walked element by element, so an
// attribute under networkInterfaces or tags has one value per element.
// Values of the wrong JSON type for the attribute's kind are left out.
func FindingAttributes(doc map[string]any) []AttributeValue {
	scratch := attributeScratch.Get().(*[]AttributeValue)
	out := (*scratch)[:0]
	for _, child := range attrTree().children {
		if v, ok := doc[child.key]; ok {
			out = collectAttributes(child, v, out)
		}
	}
	// Siblings are visited in table order, not attribute order; a stable
	// sort keeps each attribute's values in document order.
	values := OrderAttributes(out)
	clear(out) // the pool must not keep documents' strings alive
	*scratch = out[:0]
	attributeScratch.Put(scratch)
	return values
}

// attributeScratch holds the slices FindingAttributes collects into: a
// finding has some seventy values, and growing a fresh slice to them cost
// an import more allocation than any other step (and left each finding
// with up to twice the room it needs). The result is an exact-size copy.
var attributeScratch = sync.Pool{New: func() any { return new([]AttributeValue) }}

func collectAttributes(n *attrNode, v any, out []AttributeValue) []AttributeValue {
	if list, ok := v.([]any); ok {
		for _, e := range list {
			out = collectAttributes(n, e, out)
		}
		return out
	}
	for _, i := range n.attrs {
		if av, ok := attributeValue(FilterAttributes[i].Kind, v); ok {
			av.Attribute = i
			out = append(out, av)
		}
	}
	if m, ok := v.(map[string]any); ok {
		for _, child := range n.children {
			if cv, ok := m[child.key]; ok {
				out = collectAttributes(child, cv, out)
			}
		}
	}
	return out
}

// OrderAttributes returns, in a slice of its own (nil when empty), the
// values of a finding's filter attributes collected in document order, in
// FindingAttributes' order: by attribute, and in document order within
// one. values is sorted in place.
func OrderAttributes(values []AttributeValue) []AttributeValue {
	slices.SortStableFunc(values, func(a, b AttributeValue) int { return a.Attribute - b.Attribute })
	if len(values) == 0 {
		return nil
	}
	return slices.Clone(values)
}

// AttributeValueOf returns what FindingAttributes collects for filter
// attribute attr (an index into FilterAttributes) from v, a JSON leaf on
// its path (string, float64 or bool): ok false when v is not of the
// attribute's kind.
func AttributeValueOf(attr int, v any) (AttributeValue, bool) {
	av, ok := attributeValue(FilterAttributes[attr].Kind, v)
	av.Attribute = attr
	return av, ok
}

// attributeValue converts one JSON leaf into the attribute's compared form.
func attributeValue(kind ValueKind, v any) (AttributeValue, bool) {
	switch kind {
	case KindNumber:
		if n, ok := jsonNumber(v); ok {
			return AttributeValue{Text: formatNumber(n), Num: n, IsNum: true}, true
		}
	case KindTime:
		// String members hold ISO-8601 text; Smithy timestamp members are
		// epoch seconds on the restJson1 wire. Both compare as epoch ms.
		if s, ok := v.(string); ok {
			if t, err := parseISOTime(s); err == nil {
				return AttributeValue{Text: s, Num: float64(t.UnixMilli()), IsNum: true}, true
			}
			return AttributeValue{}, false
		}
		if n, ok := jsonNumber(v); ok {
			return AttributeValue{Text: formatNumber(n), Num: math.Round(n * 1000), IsNum: true}, true
		}
	case KindBool:
		if b, ok := v.(bool); ok {
			if b {
				return AttributeValue{Text: "true", Num: 1, IsNum: true}, true
			}
			return AttributeValue{Text: "false", Num: 0, IsNum: true}, true
		}
	default: // KindString, and KindIPv4, which filters as text
		if s, ok := v.(string); ok {
			return AttributeValue{Text: s}, true
		}
	}
	return AttributeValue{}, false
}

// jsonNumber accepts the number forms a decoded document can hold:
// float64 from json.Unmarshal, json.Number from a UseNumber decoder, and
// Go integers in documents built in code.
func jsonNumber(v any) (float64, bool) {
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, false
		}
		n = f
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	default:
		return 0, false
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

func formatNumber(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// Match reports whether a finding with the given attribute values satisfies
// every criterion (an empty list matches everything). Per criterion, all
// its operators must hold:
//   - equals: some value equals one of the listed values;
//   - notEquals: no value equals any listed value (so a finding without
//     the attribute matches);
//   - greaterThan…lessThanOrEqual: some single value satisfies all the
//     bounds together (a finding without the attribute does not match);
//   - matches: some value matches one of the patterns;
//   - notMatches: no value matches any pattern.
//
// Numbers, times and booleans compare numerically, strings exactly;
// patterns always compare with the value's text.
func Match(where []Criterion, attrs []AttributeValue) bool {
	for i := range where {
		if !matchCriterion(&where[i], attrs) {
			return false
		}
	}
	return true
}

func matchCriterion(c *Criterion, attrs []AttributeValue) bool {
	numeric := false
	if c.Attribute >= 0 && c.Attribute < len(FilterAttributes) {
		k := FilterAttributes[c.Attribute].Kind
		numeric = k == KindNumber || k == KindTime || k == KindBool
	}
	equal := func(v *AttributeValue, text []string, nums []float64) bool {
		if numeric {
			return v.IsNum && slices.Contains(nums, v.Num)
		}
		return slices.Contains(text, v.Text)
	}
	hasEquals := len(c.EqualsText) > 0 || len(c.EqualsNum) > 0
	hasRange := c.GreaterThan != nil || c.GreaterThanOrEqual != nil || c.LessThan != nil || c.LessThanOrEqual != nil
	equalsOK, rangeOK, matchesOK := !hasEquals, !hasRange, len(c.Matches) == 0
	for i := range attrs {
		v := &attrs[i]
		if v.Attribute != c.Attribute {
			continue
		}
		if equal(v, c.NotEqualsText, c.NotEqualsNum) || matchesAny(c.NotMatches, v.Text) {
			return false
		}
		if !equalsOK && equal(v, c.EqualsText, c.EqualsNum) {
			equalsOK = true
		}
		if !rangeOK && v.IsNum && inBounds(c, v.Num) {
			rangeOK = true
		}
		if !matchesOK && matchesAny(c.Matches, v.Text) {
			matchesOK = true
		}
	}
	return equalsOK && rangeOK && matchesOK
}

func inBounds(c *Criterion, n float64) bool {
	return (c.GreaterThan == nil || n > *c.GreaterThan) &&
		(c.GreaterThanOrEqual == nil || n >= *c.GreaterThanOrEqual) &&
		(c.LessThan == nil || n < *c.LessThan) &&
		(c.LessThanOrEqual == nil || n <= *c.LessThanOrEqual)
}

func matchesAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s as a whole matches pattern, where '*'
// matches any run of characters (including none), '?' exactly one
// character (rune), and everything else itself, case-sensitively. It is
// the usual greedy scan that, on a mismatch, retries from the last '*'
// with that star taking one more character, so it never backtracks
// further than one star and needs no allocation.
func wildcardMatch(pattern, s string) bool {
	// The literal text before the first wildcard must start s: most
	// subjects fail here, with a byte comparison (a pattern is tested
	// against every distinct value of an attribute, a million of them on
	// a large detector).
	lit := strings.IndexAny(pattern, "*?")
	if lit < 0 {
		return pattern == s
	}
	if !strings.HasPrefix(s, pattern[:lit]) {
		return false
	}
	px, sx := 0, 0
	// Where to resume after a mismatch: the last star and the subject
	// position just past what it has swallowed so far; -1 before any star.
	starPx, starSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			pc, pw := runeAt(pattern, px)
			switch {
			case pc == '*':
				starPx, starSx = px, sx
				px += pw
				continue
			case sx < len(s):
				sc, sw := runeAt(s, sx)
				if pc == '?' || pc == sc {
					px += pw
					sx += sw
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			_, sw := runeAt(s, starSx)
			starSx += sw
			px, sx = starPx+1, starSx // '*' is one byte
			continue
		}
		return false
	}
	return true
}

// runeAt decodes the rune at s[i:], ASCII without a call.
func runeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// Numeric reports whether the criterion's attribute compares by number
// (numbers, times and booleans) rather than by text.
func (c *Criterion) Numeric() bool {
	if c.Attribute < 0 || c.Attribute >= len(FilterAttributes) {
		return false
	}
	k := FilterAttributes[c.Attribute].Kind
	return k == KindNumber || k == KindTime || k == KindBool
}

// HasRange reports whether the criterion has a range bound.
func (c *Criterion) HasRange() bool {
	return c.GreaterThan != nil || c.GreaterThanOrEqual != nil || c.LessThan != nil || c.LessThanOrEqual != nil
}

// MatchesAnyPattern reports whether s matches one of the wildcard patterns
// of matches / notMatches (* any run, ? one character).
func MatchesAnyPattern(patterns []string, s string) bool { return matchesAny(patterns, s) }
