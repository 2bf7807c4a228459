package main

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Binding kinds of a structure member.
const (
	bindBody         = "body"
	bindLabel        = "label"
	bindQuery        = "query"
	bindHeader       = "header"
	bindQueryParams  = "queryParams"
	bindPrefixHeader = "prefixHeaders"
	bindResponseCode = "responseCode"
)

// binding says where a member travels in an HTTP message.
type binding struct {
	kind string
	name string // label, query parameter or header name
}

func memberBinding(owner *Shape, m *Member) (binding, error) {
	if hasTrait(m.Traits, traitHTTPPayload) {
		// The HTTP layer decodes the whole body into the input structure,
		// which cannot express "the body is this one member". The model
		// has none; fail loudly if one appears.
		return binding{}, fmt.Errorf("%s$%s: smithy.api#httpPayload is not supported", owner.ID, m.Name)
	}
	switch {
	case hasTrait(m.Traits, traitHTTPLabel):
		return binding{kind: bindLabel, name: m.Name}, nil
	case hasTrait(m.Traits, traitHTTPQuery):
		n, _, err := stringTrait(m.Traits, traitHTTPQuery)
		return binding{kind: bindQuery, name: n}, err
	case hasTrait(m.Traits, traitHTTPHeader):
		n, _, err := stringTrait(m.Traits, traitHTTPHeader)
		return binding{kind: bindHeader, name: n}, err
	case hasTrait(m.Traits, traitHTTPParams):
		return binding{kind: bindQueryParams}, nil
	case hasTrait(m.Traits, traitHTTPPrefix):
		n, _, err := stringTrait(m.Traits, traitHTTPPrefix)
		return binding{kind: bindPrefixHeader, name: n}, err
	case hasTrait(m.Traits, traitHTTPCode):
		return binding{kind: bindResponseCode}, nil
	}
	return binding{kind: bindBody}, nil
}

// wireName is the JSON name of a body member: its jsonName, else the member
// name verbatim (restJson1 does not change case).
func wireName(m *Member) (string, error) {
	n, ok, err := stringTrait(m.Traits, traitJSONName)
	if err != nil || ok {
		return n, err
	}
	return m.Name, nil
}

// pathName names a member in validation messages: body members by wire name,
// labels by their name with a lowercase first letter, query parameters and
// headers by their own names.
func pathName(owner *Shape, m *Member) (string, error) {
	b, err := memberBinding(owner, m)
	if err != nil {
		return "", err
	}
	switch b.kind {
	case bindLabel, bindQueryParams, bindPrefixHeader, bindResponseCode:
		return lowerFirst(m.Name), nil
	case bindQuery, bindHeader:
		return b.name, nil
	}
	return wireName(m)
}

func fieldName(owner *Shape, m *Member) (string, error) {
	if m.Name == "" || !unicode.IsLetter(rune(m.Name[0])) {
		return "", fmt.Errorf("%s: member name %q cannot become an exported Go field", owner.ID, m.Name)
	}
	return upperFirst(m.Name), nil
}

// goType is the Go type of a value of shape id: plain for list elements and
// map values, which is also the pointee of an optional member.
func (g *gen) goType(id string) (string, error) {
	s, err := g.m.Lookup(id)
	if err != nil {
		return "", err
	}
	switch s.Type {
	case "string", "enum":
		return "string", nil
	case "integer", "intEnum":
		return "int32", nil
	case "short":
		return "int16", nil
	case "byte":
		return "int8", nil
	case "long":
		return "int64", nil
	case "float", "double":
		return "float64", nil
	case "boolean":
		return "bool", nil
	case "timestamp":
		return "Timestamp", nil
	case "blob":
		return "[]byte", nil
	case "structure", "union":
		if id == unitShape {
			return "", fmt.Errorf("smithy.api#Unit cannot be a member target here")
		}
		return ShortName(id), nil
	case "list", "set":
		if s.Member == nil {
			return "", fmt.Errorf("%s: list without member", id)
		}
		if hasTrait(s.Traits, traitSparse) {
			return "", fmt.Errorf("%s: sparse lists are not supported", id)
		}
		e, err := g.goType(s.Member.Target)
		if err != nil {
			return "", fmt.Errorf("%s: %w", id, err)
		}
		return "[]" + e, nil
	case "map":
		if s.Key == nil || s.Value == nil {
			return "", fmt.Errorf("%s: map without key or value", id)
		}
		if hasTrait(s.Traits, traitSparse) {
			return "", fmt.Errorf("%s: sparse maps are not supported", id)
		}
		if k, err := g.goType(s.Key.Target); err != nil || k != "string" {
			return "", fmt.Errorf("%s: map keys must be strings", id)
		}
		v, err := g.goType(s.Value.Target)
		if err != nil {
			return "", fmt.Errorf("%s: %w", id, err)
		}
		return "map[string]" + v, nil
	}
	return "", fmt.Errorf("%s: shape type %q is not supported", id, s.Type)
}

// fieldType is the Go type of a structure member: slices, maps and blobs are
// nil when absent, everything else is a pointer.
func (g *gen) fieldType(id string) (string, error) {
	t, err := g.goType(id)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(t, "[]") || strings.HasPrefix(t, "map[") {
		return t, nil
	}
	return "*" + t, nil
}

func (g *gen) emitShapes(w *fileWriter) error {
	roles := g.structRoles()
	for _, s := range g.structs {
		name := ShortName(s.ID)
		if r := roles[s.ID]; r != "" {
			w.p("// %s is %s.", name, r)
		}
		w.p("type %s struct {", name)
		seen := map[string]bool{}
		for _, m := range s.Members {
			f, err := fieldName(s, m)
			if err != nil {
				return err
			}
			if seen[f] {
				return fmt.Errorf("%s: two members become field %s", s.ID, f)
			}
			seen[f] = true
			t, widened, err := g.memberFieldType(s, m)
			if err != nil {
				return fmt.Errorf("%s$%s: %w", s.ID, m.Name, err)
			}
			b, err := memberBinding(s, m)
			if err != nil {
				return err
			}
			tag := "-"
			if b.kind == bindBody {
				n, err := wireName(m)
				if err != nil {
					return fmt.Errorf("%s$%s: %w", s.ID, m.Name, err)
				}
				// omitzero on slices and maps keeps a non-nil empty list on
				// the wire ("findingIds":[]) as AWS sends it, while nil is
				// still left out; for pointers it equals omitempty.
				opt := "omitempty"
				if !strings.HasPrefix(t, "*") {
					opt = "omitzero"
				}
				tag = n + "," + opt
			}
			if widened {
				w.p("\t%s %s `json:%q` // wider than the model: see internal/codegen/widen.go", f, t, tag)
				continue
			}
			w.p("\t%s %s `json:%q`", f, t, tag)
		}
		w.p("}\n")
	}
	return nil
}

// structRoles describes structures that operations or errors use, for the
// one-line comment on each generated type.
func (g *gen) structRoles() map[string]string {
	roles := map[string][]string{}
	for _, op := range g.ops {
		if op.input != unitShape {
			roles[op.input] = append(roles[op.input], "the input of "+op.name)
		}
		if op.output != unitShape {
			roles[op.output] = append(roles[op.output], "the output of "+op.name)
		}
	}
	out := map[string]string{}
	for id, r := range roles {
		out[id] = strings.Join(r, " and ")
	}
	for _, s := range g.structs {
		if kind, ok, _ := stringTrait(s.Traits, traitError); ok {
			r := "a " + kind + " error"
			if raw, ok := s.Traits[traitHTTPError]; ok {
				r += " (HTTP " + string(raw) + ")"
			}
			out[s.ID] = r
		}
	}
	return out
}

func (g *gen) emitEnums(w *fileWriter) error {
	w.p("// EnumValues holds the value set of every enum shape, keyed by shape")
	w.p("// name, in model order.")
	w.p("var EnumValues = map[string][]string{")
	var shapes []*Shape
	shapes = append(shapes, g.m.ShapesOfType("enum")...)
	shapes = append(shapes, g.m.ShapesOfType("string")...)
	byName := map[string][]string{}
	var names []string
	for _, s := range shapes {
		vals, ok, err := EnumValues(s)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		n := ShortName(s.ID)
		if _, dup := byName[n]; dup {
			return fmt.Errorf("two enums are named %s", n)
		}
		byName[n] = vals
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		q := make([]string, len(byName[n]))
		for i, v := range byName[n] {
			q[i] = fmt.Sprintf("%q", v)
		}
		w.p("\t%q: {%s},", n, strings.Join(q, ", "))
	}
	w.p("}")
	return nil
}
