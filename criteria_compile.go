package guardpost

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const msgCriteriaRejected = "The request is rejected because the findingCriteria"

// The user guide's limits on finding criteria ("Filtering findings"): at
// most 50 attributes, and at most 50 values for an equals or notEquals
// condition. MaxCriterionValueLength bounds each value, which the model
// leaves unbounded: the longest value an attribute holds (an ARN, a
// user agent) is far shorter.
const (
	MaxCriteriaAttributes   = 50
	MaxCriterionValues      = 50
	MaxCriterionValueLength = 2048
)

// CompileCriteria validates FindingCriteria and turns it into criteria
// Match can evaluate, ordered by attribute index so that equal criteria
// compile alike. Size limits (values per list, pattern lengths) are the
// transport's to check; this checks what needs the attribute's kind:
//   - at most MaxCriteriaAttributes attributes, at most MaxCriterionValues
//     values in equals and in notEquals, each at most
//     MaxCriterionValueLength characters;
//   - the attribute must be one of FilterAttributes;
//   - a condition must have at least one operator (an empty list counts as
//     none);
//   - equals/notEquals values must be numbers for number attributes,
//     epoch milliseconds (or ISO-8601 text) for time attributes and
//     "true"/"false" for boolean attributes;
//   - range operators apply to number and time attributes only; their
//     bounds are epoch milliseconds for times.
//
// matches/notMatches take wildcard patterns on any attribute and compare
// them with the value's text.
func CompileCriteria(c Criteria) ([]Criterion, error) {
	if len(c) > MaxCriteriaAttributes {
		return nil, Errorf(EINVALID, "%s names %d attributes; at most %d are allowed.", msgCriteriaRejected, len(c), MaxCriteriaAttributes)
	}
	// Visit names in order so that, of several faults, the same one is
	// always reported.
	names := make([]string, 0, len(c))
	for name := range c {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]Criterion, 0, len(c))
	for _, name := range names {
		cr, err := compileCondition(name, c[name])
		if err != nil {
			return nil, err
		}
		out = append(out, cr)
	}
	slices.SortFunc(out, func(a, b Criterion) int { return a.Attribute - b.Attribute })
	return out, nil
}

func compileCondition(name string, cond Condition) (Criterion, error) {
	i := FilterAttributeIndex(name)
	if i < 0 {
		return Criterion{}, Errorf(EINVALID, "%s attribute '%s' is not supported.", msgCriteriaRejected, name)
	}
	for _, list := range []struct {
		op     string
		values []string
	}{{"equals", cond.Equals}, {"notEquals", cond.NotEquals}} {
		if len(list.values) > MaxCriterionValues {
			return Criterion{}, Errorf(EINVALID, "%s condition for '%s' has %d values in %s; at most %d are allowed.",
				msgCriteriaRejected, name, len(list.values), list.op, MaxCriterionValues)
		}
		for _, v := range list.values {
			if utf8.RuneCountInString(v) > MaxCriterionValueLength {
				return Criterion{}, Errorf(EINVALID, "%s condition for '%s' has a value in %s longer than %d characters.",
					msgCriteriaRejected, name, list.op, MaxCriterionValueLength)
			}
		}
	}
	kind := FilterAttributes[i].Kind
	cr := Criterion{Attribute: i}
	bounds := []struct {
		op  string
		in  *int64
		out **float64
	}{
		{"greaterThan", cond.GreaterThan, &cr.GreaterThan},
		{"greaterThanOrEqual", cond.GreaterThanOrEqual, &cr.GreaterThanOrEqual},
		{"lessThan", cond.LessThan, &cr.LessThan},
		{"lessThanOrEqual", cond.LessThanOrEqual, &cr.LessThanOrEqual},
	}
	hasOp := len(cond.Equals) > 0 || len(cond.NotEquals) > 0 || len(cond.Matches) > 0 || len(cond.NotMatches) > 0
	for _, b := range bounds {
		if b.in == nil {
			continue
		}
		hasOp = true
		if kind != KindNumber && kind != KindTime {
			return Criterion{}, Errorf(EINVALID, "%s attribute '%s' is a %s attribute and does not support %s; use %s.",
				msgCriteriaRejected, name, kindName(kind), b.op, supportedOps(kind))
		}
		f := float64(*b.in)
		*b.out = &f
	}
	if !hasOp {
		return Criterion{}, Errorf(EINVALID, "%s condition for '%s' has no operator.", msgCriteriaRejected, name)
	}
	var err error
	if kind == KindString || kind == KindIPv4 {
		cr.EqualsText = slices.Clone(cond.Equals)
		cr.NotEqualsText = slices.Clone(cond.NotEquals)
	} else {
		if cr.EqualsNum, err = compileValues(name, "equals", kind, cond.Equals); err != nil {
			return Criterion{}, err
		}
		if cr.NotEqualsNum, err = compileValues(name, "notEquals", kind, cond.NotEquals); err != nil {
			return Criterion{}, err
		}
	}
	cr.Matches = slices.Clone(cond.Matches)
	cr.NotMatches = slices.Clone(cond.NotMatches)
	return cr, nil
}

// compileValues parses equals/notEquals values of a number, time or
// boolean attribute into the numbers FindingAttributes produces.
func compileValues(name, op string, kind ValueKind, values []string) ([]float64, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := make([]float64, len(values))
	for j, s := range values {
		n, ok := parseValue(kind, s)
		if !ok {
			return nil, Errorf(EINVALID, "%s value '%s' for '%s' in %s is not %s.", msgCriteriaRejected, s, name, op, valueWanted(kind))
		}
		out[j] = n
	}
	return out, nil
}

func parseValue(kind ValueKind, s string) (float64, bool) {
	switch kind {
	case KindNumber:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, false
		}
		return n, true
	case KindTime:
		// GuardDuty takes epoch milliseconds; ISO-8601 text is accepted too
		// because CloudFormation's documentation of the same criteria uses it.
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return float64(ms), true
		}
		if t, err := parseISOTime(s); err == nil {
			return float64(t.UnixMilli()), true
		}
	case KindBool:
		switch s {
		case "true":
			return 1, true
		case "false":
			return 0, true
		}
	}
	return 0, false
}

func kindName(k ValueKind) string {
	switch k {
	case KindNumber:
		return "number"
	case KindTime:
		return "time"
	case KindBool:
		return "boolean"
	}
	return "string"
}

func valueWanted(k ValueKind) string {
	switch k {
	case KindNumber:
		return "a number"
	case KindTime:
		return "a time in epoch milliseconds"
	case KindBool:
		return "true or false"
	}
	return "a string"
}

func supportedOps(k ValueKind) string {
	ops := []string{"equals", "notEquals", "matches", "notMatches"}
	if k == KindNumber || k == KindTime {
		ops = append(ops, "greaterThan", "greaterThanOrEqual", "lessThan", "lessThanOrEqual")
	}
	return strings.Join(ops[:len(ops)-1], ", ") + " or " + ops[len(ops)-1]
}
