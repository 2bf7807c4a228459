package main

import (
	"fmt"
	"sort"
	"strings"
)

// findingShape is the root of the documents that finding imports read.
const findingShape = "com.amazonaws.guardduty#Finding"

// emitFindingDoc renders finding_gen.go, what a reader of whole Finding
// documents (an import) needs beyond the API's input side:
//
//   - validation methods for the structures reachable from Finding that no
//     operation input reaches (validate_gen.go covers inputs only; Finding
//     is an output), with the check functions and patterns they need and
//     validate_gen.go does not already declare;
//   - FindingDoc, the shape tree of Finding with every member's wire name
//     and Smithy member name, so that a document written with either (the
//     wire's camelCase or the PascalCase that the CLI and boto3 print) can be
//     read: the two differ beyond case for productCodeId, lat, lon,
//     sourceIPs and more, which encoding/json's case folding cannot match.
func (g *gen) emitFindingDoc(w *fileWriter) error {
	if _, ok := g.m.Shapes[findingShape]; !ok {
		w.p("// The model has no %s shape.", ShortName(findingShape))
		return nil
	}
	base, err := g.inputValidation()
	if err != nil {
		return err
	}
	inputs, err := g.reachableStructs()
	if err != nil {
		return err
	}
	covered := map[string]bool{}
	for _, s := range inputs {
		covered[s.ID] = true
	}

	t := &docTable{g: g, index: map[string]int{}}
	if _, err := t.add(findingShape); err != nil {
		return err
	}

	// Validation of the structures the API's input side leaves out.
	v := &validation{g: g, w: w, funcs: map[string]string{}, patterns: map[string]string{}}
	for n := range base.funcs {
		v.funcs[n] = "" // declared in validate_gen.go
	}
	var methods strings.Builder
	for _, id := range t.structIDs() {
		if covered[id] {
			continue
		}
		s, err := g.m.Lookup(id)
		if err != nil {
			return err
		}
		src, err := v.structMethods(s)
		if err != nil {
			return err
		}
		methods.WriteString(src)
	}
	if err := v.drainPending(); err != nil {
		return err
	}
	for _, n := range sortedKeys(v.patterns) {
		if _, declared := base.patterns[n]; !declared {
			w.p("%s", v.patterns[n])
		}
	}
	w.body.WriteString(methods.String())
	for _, n := range sortedKeys(v.funcs) {
		w.body.WriteString(v.funcs[n]) // "" for those of validate_gen.go
	}

	// The shape table.
	w.p("// FindingDoc is the shape tree of a Finding document: FindingDoc[0] is")
	w.p("// Finding, and every Shape index points into FindingDoc.")
	w.p("var FindingDoc = []DocShape{")
	for _, e := range t.shapes {
		w.p("\t{Name: %q, Kind: %s%s},", e.name, e.kind, e.extra)
	}
	w.p("}")
	return nil
}

// inputValidation runs validate_gen.go's emitter on a scratch writer to
// learn which check functions and patterns it declares. Its warnings were
// already recorded by the real run and are dropped here.
func (g *gen) inputValidation() (*validation, error) {
	warnings := g.warnings
	defer func() { g.warnings = warnings }()
	structs, err := g.reachableStructs()
	if err != nil {
		return nil, err
	}
	v := &validation{g: g, w: newFileWriter("scratch"), funcs: map[string]string{}, patterns: map[string]string{}}
	for _, s := range structs {
		if _, err := v.structMethods(s); err != nil {
			return nil, err
		}
	}
	for len(v.pending) > 0 {
		r := v.pending[0]
		v.pending = v.pending[1:]
		if _, done := v.funcs[r.fn]; done {
			continue
		}
		src, err := v.checkFunc(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.target, err)
		}
		v.funcs[r.fn] = src
	}
	return v, nil
}

// docIntegerBits is the width of each Smithy integer type.
var docIntegerBits = map[string]int{"byte": 8, "short": 16, "integer": 32, "intEnum": 32, "long": 64}

// docTable numbers the shapes of the Finding tree in depth-first order of
// the model's members, so the table is the same on every run.
type docTable struct {
	g      *gen
	index  map[string]int // shape id -> position
	shapes []docEntry
}

type docEntry struct {
	id, name, kind, extra string
}

func (t *docTable) structIDs() []string {
	var ids []string
	for _, e := range t.shapes {
		if e.kind == "DocStructure" {
			ids = append(ids, e.id)
		}
	}
	sort.Strings(ids)
	return ids
}

// add numbers shape id and everything it reaches, and returns its index.
func (t *docTable) add(id string) (int, error) {
	if i, ok := t.index[id]; ok {
		return i, nil
	}
	s, err := t.g.m.Lookup(id)
	if err != nil {
		return 0, err
	}
	i := len(t.shapes)
	t.index[id] = i
	t.shapes = append(t.shapes, docEntry{id: id, name: ShortName(id)})
	e := docEntry{id: id, name: ShortName(id)}
	switch s.Type {
	case "structure":
		e.kind = "DocStructure"
		var ms []string
		for _, m := range s.Members {
			b, err := memberBinding(s, m)
			if err != nil {
				return 0, err
			}
			if b.kind != bindBody {
				return 0, fmt.Errorf("%s$%s: a finding member must travel in the body", id, m.Name)
			}
			n, err := wireName(m)
			if err != nil {
				return 0, err
			}
			j, err := t.add(m.Target)
			if err != nil {
				return 0, fmt.Errorf("%s$%s: %w", id, m.Name, err)
			}
			extra, err := t.memberChecks(s, m)
			if err != nil {
				return 0, fmt.Errorf("%s$%s: %w", id, m.Name, err)
			}
			ms = append(ms, fmt.Sprintf("{JSON: %q, Name: %q, Shape: %d%s}", n, m.Name, j, extra))
		}
		if err := docNamesUnique(s); err != nil {
			return 0, err
		}
		e.extra = ", Members: []DocMember{\n\t\t" + strings.Join(ms, ",\n\t\t") + ",\n\t}"
		if len(ms) == 0 {
			e.extra = ""
		}
	case "list", "set":
		if hasTrait(s.Traits, traitSparse) {
			return 0, fmt.Errorf("%s: sparse lists are not supported", id)
		}
		j, err := t.add(s.Member.Target)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", id, err)
		}
		e.kind, e.extra = "DocList", fmt.Sprintf(", Elem: %d", j)
	case "map":
		if hasTrait(s.Traits, traitSparse) {
			return 0, fmt.Errorf("%s: sparse maps are not supported", id)
		}
		if k, err := t.g.m.Lookup(s.Key.Target); err != nil || (k.Type != "string" && k.Type != "enum") {
			return 0, fmt.Errorf("%s: map keys must be strings", id)
		}
		j, err := t.add(s.Value.Target)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", id, err)
		}
		e.kind, e.extra = "DocMap", fmt.Sprintf(", Elem: %d", j)
	case "string", "enum":
		e.kind = "DocString"
	case "boolean":
		e.kind = "DocBoolean"
	case "byte", "short", "integer", "intEnum", "long":
		e.kind, e.extra = "DocInteger", fmt.Sprintf(", Bits: %d", docIntegerBits[s.Type])
	case "float", "double":
		e.kind = "DocNumber"
	case "timestamp":
		e.kind = "DocTimestamp"
	case "blob":
		e.kind = "DocBlob"
	default:
		// Unions, documents and big numbers would need rules of their own;
		// the Finding tree has none today, so fail loudly if one appears.
		return 0, fmt.Errorf("%s: shape type %s is not supported in a finding document", id, s.Type)
	}
	t.shapes[i] = e
	return i, nil
}

// docNamesUnique checks that a reader can tell the members of a structure
// apart by any of the names it accepts for them (wire name, member name,
// member name with a lowercase first letter), compared without case.
func docNamesUnique(s *Shape) error {
	owner := map[string]string{}
	for _, m := range s.Members {
		n, err := wireName(m)
		if err != nil {
			return err
		}
		for _, alias := range []string{n, m.Name, lowerFirst(m.Name)} {
			k := strings.ToLower(alias)
			if o, ok := owner[k]; ok && o != m.Name {
				return fmt.Errorf("%s: members %s and %s both answer to %q", s.ID, o, m.Name, alias)
			}
			owner[k] = m.Name
		}
	}
	return nil
}

// memberChecks renders the fields of a DocMember that carry the model's
// constraints on member m of structure s: Required, and Check for a value
// that is not a structure (a structure's own members carry its checks).
// Each check calls the very function the member's generated validate
// method calls, so a reader that checks a document against the table
// accepts exactly what Validate accepts.
func (t *docTable) memberChecks(s *Shape, m *Member) (string, error) {
	var out string
	if hasTrait(m.Traits, traitRequired) {
		out += ", Required: true"
	}
	r, err := t.g.ref(s, m)
	if err != nil {
		return "", err
	}
	c, err := t.docCheck(r)
	if err != nil {
		return "", err
	}
	if c != "" {
		out += ", Check: " + c
	}
	return out, nil
}

// docCheck renders the *DocCheck of a value, or "" when nothing about the
// value itself can fail (a structure, or a value without constraints).
func (t *docTable) docCheck(r valueRef) (string, error) {
	needs, err := t.g.needs(r)
	if err != nil || !needs {
		return "", err
	}
	// call wraps the value's check function into a predicate.
	call := func(field, param, arg string) string {
		return fmt.Sprintf("%s: func(x %s) bool { var v violations; %s(&v, \"\", %s); return v.count == 0 }", field, param, r.fn, arg)
	}
	length := func() (string, error) {
		l, err := boundsTrait(r.traits, traitLength)
		if err != nil {
			return "", err
		}
		min, max := "0", "-1"
		if l != nil && l.Min != nil {
			min = l.Min.String()
		}
		if l != nil && l.Max != nil {
			max = l.Max.String()
		}
		return fmt.Sprintf("MinLen: %s, MaxLen: %s", min, max), nil
	}
	switch r.shape.Type {
	case "structure", "union":
		return "", nil
	case "string", "enum":
		return "&DocCheck{" + call("Text", "string", "x") + "}", nil
	case "blob":
		return "&DocCheck{" + call("Blob", "[]byte", "x") + "}", nil
	case "byte", "short", "integer", "intEnum", "long":
		gt, err := t.g.goType(r.target)
		if err != nil {
			return "", err
		}
		return "&DocCheck{" + call("Integer", "int64", gt+"(x)") + "}", nil
	case "float", "double":
		return "&DocCheck{" + call("Number", "float64", "x") + "}", nil
	case "list", "set":
		lens, err := length()
		if err != nil {
			return "", err
		}
		e, err := t.g.ref(r.shape, r.shape.Member)
		if err != nil {
			return "", err
		}
		elem, err := t.docCheck(e)
		if err != nil {
			return "", err
		}
		if elem != "" {
			lens += ", Elem: " + elem
		}
		return "&DocCheck{" + lens + "}", nil
	case "map":
		lens, err := length()
		if err != nil {
			return "", err
		}
		k, err := t.g.ref(r.shape, r.shape.Key)
		if err != nil {
			return "", err
		}
		key, err := t.docCheck(k)
		if err != nil {
			return "", err
		}
		if key != "" {
			lens += ", Key: " + key
		}
		val, err := t.g.ref(r.shape, r.shape.Value)
		if err != nil {
			return "", err
		}
		elem, err := t.docCheck(val)
		if err != nil {
			return "", err
		}
		if elem != "" {
			lens += ", Elem: " + elem
		}
		return "&DocCheck{" + lens + "}", nil
	}
	return "", fmt.Errorf("no document checks for shape type %s", r.shape.Type)
}
