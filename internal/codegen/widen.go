package main

import (
	"fmt"
	"sort"
	"strings"
)

// Widened lists the structure members whose Go type is wider than the
// model's, keyed by "shape id$member name", with the Go type they get.
// Every entry is a deliberate departure from the model, so each says why.
var Widened = map[string]string{
	// The deprecated range operators of FindingCriteria are Integer in the
	// model, while their replacements (greaterThan, ...) are Long. Clients
	// send epoch milliseconds in them all the same: Cortex XSOAR filters
	// updatedAt with Gte, and GuardDuty accepts it. As int32 such a request
	// would be refused as malformed, so they decode as their replacements do.
	"com.amazonaws.guardduty#Condition$Gt":  "int64",
	"com.amazonaws.guardduty#Condition$Gte": "int64",
	"com.amazonaws.guardduty#Condition$Lt":  "int64",
	"com.amazonaws.guardduty#Condition$Lte": "int64",
}

// integerBits is the width of each Smithy integer shape type, and of the Go
// types a member may be widened to.
var integerBits = map[string]int{
	"byte": 8, "short": 16, "integer": 32, "long": 64,
	"int8": 8, "int16": 16, "int32": 32, "int64": 64,
}

// checkWidened verifies every override against the model, so that a model
// change cannot leave an override silently pointing at nothing or at a
// member it no longer fits: the member must exist, travel in the body,
// target an integer shape narrower than the new type, and carry no range
// constraint (its check functions are typed by the model's shape).
func (g *gen) checkWidened(widen map[string]string) error {
	keys := make([]string, 0, len(widen))
	for k := range widen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		shapeID, name, ok := strings.Cut(key, "$")
		if !ok {
			return fmt.Errorf("widened member %q: want \"shape id$member\"", key)
		}
		s, err := g.m.Lookup(shapeID)
		if err != nil {
			return fmt.Errorf("widened member %s: %w", key, err)
		}
		var m *Member
		for _, c := range s.Members {
			if c.Name == name {
				m = c
			}
		}
		if s.Type != "structure" || m == nil {
			return fmt.Errorf("widened member %s: no such structure member in the model", key)
		}
		b, err := memberBinding(s, m)
		if err != nil {
			return err
		}
		if b.kind != bindBody {
			return fmt.Errorf("widened member %s: only body members can be widened, this one is bound to the %s", key, b.kind)
		}
		target, err := g.m.Lookup(m.Target)
		if err != nil {
			return fmt.Errorf("widened member %s: %w", key, err)
		}
		from, to := integerBits[target.Type], integerBits[widen[key]]
		if from == 0 || to == 0 || to <= from {
			return fmt.Errorf("widened member %s: cannot widen a member of type %s to %s", key, target.Type, widen[key])
		}
		if hasTrait(target.Traits, traitRange) || hasTrait(m.Traits, traitRange) {
			return fmt.Errorf("widened member %s: has a range constraint, which widening does not support", key)
		}
	}
	return nil
}

// memberFieldType is fieldType for a member, with its override if it has one.
func (g *gen) memberFieldType(owner *Shape, m *Member) (string, bool, error) {
	if t, ok := g.widen[owner.ID+"$"+m.Name]; ok {
		return "*" + t, true, nil
	}
	t, err := g.fieldType(m.Target)
	return t, false, err
}
