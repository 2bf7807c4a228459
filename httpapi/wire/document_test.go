package wire_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/guardpost/guardpost/httpapi/wire"
)

// TestFindingDocConstraints: the constraints FindingDoc carries are the
// ones Validate checks. Each structure's Required members are exactly
// those whose absence Validate reports, and each string member's Check
// accepts a value exactly when Validate does (tried with "", a long
// value and the enum's values).
func TestFindingDocConstraints(t *testing.T) {
	checked := 0
	for si, s := range wire.FindingDoc {
		if s.Kind != wire.DocStructure {
			continue
		}
		typ, ok := structType(s.Name)
		if !ok {
			continue // no Go type of that name (none in the Finding tree today)
		}
		// An empty structure: Validate reports every required member.
		v := reflect.New(typ).Interface().(interface{ Validate() error })
		var want []string
		count := 0
		if err := v.Validate(); err != nil {
			ve := err.(*wire.ValidationError)
			want, count = ve.Violations, max(ve.Count, len(ve.Violations))
		}
		var got []string
		for _, m := range s.Members {
			if m.Required {
				got = append(got, "Value null at '"+m.JSON+"' failed to satisfy constraint: Member must not be null")
			}
		}
		// Validate lists the first few of count violations.
		if count != len(got) || slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(got, w) }) {
			t.Errorf("%s (shape %d): Required says\n%q\nValidate says (%d)\n%q", s.Name, si, got, count, want)
		}
		// Each string member alone: Validate's verdict is Check's.
		for _, m := range s.Members {
			if wire.FindingDoc[m.Shape].Kind != wire.DocString {
				continue
			}
			values := []string{"", "x", strings.Repeat("x", 5000)}
			values = append(values, wire.EnumValues[wire.FindingDoc[m.Shape].Name]...)
			for _, x := range values {
				doc, _ := json.Marshal(map[string]string{m.JSON: x})
				p := reflect.New(typ)
				if err := json.Unmarshal(doc, p.Interface()); err != nil {
					t.Fatal(err)
				}
				valid := true
				if err := p.Interface().(interface{ Validate() error }).Validate(); err != nil {
					for _, msg := range err.(*wire.ValidationError).Violations {
						if strings.Contains(msg, "at '"+m.JSON+"'") && !strings.HasPrefix(msg, "Value null") {
							valid = false
						}
					}
				}
				if ok := m.Check == nil || m.Check.Text == nil || m.Check.Text(x); ok != valid {
					t.Errorf("%s.%s = %.20q: Check says %t, Validate %t", s.Name, m.JSON, x, ok, valid)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no member was checked")
	}
}

// structType finds the generated Go type of a structure by name, through
// the fields of Finding.
func structType(name string) (reflect.Type, bool) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type) (reflect.Type, bool)
	walk = func(t reflect.Type) (reflect.Type, bool) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return nil, false
		}
		seen[t] = true
		if t.Name() == name {
			return t, true
		}
		for i := range t.NumField() {
			if r, ok := walk(t.Field(i).Type); ok {
				return r, true
			}
		}
		return nil, false
	}
	return walk(reflect.TypeFor[wire.Finding]())
}
