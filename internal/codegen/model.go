package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Trait ids the generator reads. Everything else (documentation included) is
// ignored on purpose: the model's prose must not end up in the project.
const (
	traitRequired    = "smithy.api#required"
	traitLength      = "smithy.api#length"
	traitRange       = "smithy.api#range"
	traitPattern     = "smithy.api#pattern"
	traitEnum        = "smithy.api#enum"
	traitEnumValue   = "smithy.api#enumValue"
	traitSensitive   = "smithy.api#sensitive"
	traitSparse      = "smithy.api#sparse"
	traitJSONName    = "smithy.api#jsonName"
	traitHTTP        = "smithy.api#http"
	traitHTTPLabel   = "smithy.api#httpLabel"
	traitHTTPQuery   = "smithy.api#httpQuery"
	traitHTTPHeader  = "smithy.api#httpHeader"
	traitHTTPParams  = "smithy.api#httpQueryParams"
	traitHTTPPrefix  = "smithy.api#httpPrefixHeaders"
	traitHTTPCode    = "smithy.api#httpResponseCode"
	traitHTTPPayload = "smithy.api#httpPayload"
	traitError       = "smithy.api#error"
	traitHTTPError   = "smithy.api#httpError"
	unitShape        = "smithy.api#Unit"
)

// Model is the part of a Smithy 2.0 JSON AST the generator uses.
type Model struct {
	Shapes map[string]*Shape // by absolute shape id
}

// Shape is one entry of the AST "shapes" object.
type Shape struct {
	ID      string                     `json:"-"`
	Type    string                     `json:"type"`
	Members Members                    `json:"members"` // structure, union, enum
	Member  *Member                    `json:"member"`  // list, set
	Key     *Member                    `json:"key"`     // map
	Value   *Member                    `json:"value"`   // map
	Input   *Ref                       `json:"input"`   // operation
	Output  *Ref                       `json:"output"`  // operation
	Traits  map[string]json.RawMessage `json:"traits"`
}

// Ref is a {"target": "..."} reference.
type Ref struct {
	Target string `json:"target"`
}

// Member is a structure, union, enum, list or map member.
type Member struct {
	Name   string                     `json:"-"`
	Target string                     `json:"target"`
	Traits map[string]json.RawMessage `json:"traits"`
}

// Members keeps the order of the JSON object: validation messages follow the
// model's member order, and encoding/json maps would lose it.
type Members []*Member

func (ms *Members) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // "members": null
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("members: want an object, got %v", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		m := &Member{Name: tok.(string)}
		if err := dec.Decode(m); err != nil {
			return fmt.Errorf("member %s: %w", m.Name, err)
		}
		*ms = append(*ms, m)
	}
	_, err = dec.Token()
	return err
}

// LoadModel reads and decodes a Smithy JSON AST file.
func LoadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading Smithy model: %w (pass -model with the path of the Smithy JSON AST)", err)
	}
	return ParseModel(b)
}

// ParseModel decodes a Smithy JSON AST document.
func ParseModel(b []byte) (*Model, error) {
	var doc struct {
		Smithy string            `json:"smithy"`
		Shapes map[string]*Shape `json:"shapes"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("decoding Smithy model: %w", err)
	}
	if !strings.HasPrefix(doc.Smithy, "2") {
		return nil, fmt.Errorf("unsupported Smithy AST version %q (want 2.x)", doc.Smithy)
	}
	if len(doc.Shapes) == 0 {
		return nil, fmt.Errorf("Smithy model has no shapes")
	}
	for id, s := range doc.Shapes {
		if s == nil {
			return nil, fmt.Errorf("shape %s is null", id)
		}
		s.ID = id
	}
	return &Model{Shapes: doc.Shapes}, nil
}

// preludeTypes maps the prelude shapes a model may target to their type.
var preludeTypes = map[string]string{
	"smithy.api#String":           "string",
	"smithy.api#Integer":          "integer",
	"smithy.api#PrimitiveInteger": "integer",
	"smithy.api#Long":             "long",
	"smithy.api#PrimitiveLong":    "long",
	"smithy.api#Short":            "short",
	"smithy.api#PrimitiveShort":   "short",
	"smithy.api#Byte":             "byte",
	"smithy.api#PrimitiveByte":    "byte",
	"smithy.api#Double":           "double",
	"smithy.api#PrimitiveDouble":  "double",
	"smithy.api#Float":            "float",
	"smithy.api#PrimitiveFloat":   "float",
	"smithy.api#Boolean":          "boolean",
	"smithy.api#PrimitiveBoolean": "boolean",
	"smithy.api#Timestamp":        "timestamp",
	"smithy.api#Blob":             "blob",
	"smithy.api#Document":         "document",
	"smithy.api#BigInteger":       "bigInteger",
	"smithy.api#BigDecimal":       "bigDecimal",
	unitShape:                     "structure",
}

// Lookup resolves a shape id, including prelude shapes (returned as bare
// shapes without traits).
func (m *Model) Lookup(id string) (*Shape, error) {
	if s, ok := m.Shapes[id]; ok {
		return s, nil
	}
	if t, ok := preludeTypes[id]; ok {
		return &Shape{ID: id, Type: t}, nil
	}
	return nil, fmt.Errorf("shape %s is not in the model", id)
}

// ShapesOfType returns the model's shapes of one type, sorted by id.
func (m *Model) ShapesOfType(typ string) []*Shape {
	var out []*Shape
	for _, s := range m.Shapes {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ShortName is the part of a shape id after '#'.
func ShortName(id string) string {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		return id[i+1:]
	}
	return id
}

func hasTrait(traits map[string]json.RawMessage, id string) bool {
	_, ok := traits[id]
	return ok
}

// stringTrait decodes a trait whose value is a JSON string.
func stringTrait(traits map[string]json.RawMessage, id string) (string, bool, error) {
	raw, ok := traits[id]
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fmt.Errorf("trait %s: %w", id, err)
	}
	return s, true, nil
}

// Bounds is a length or range trait. Bounds are kept as JSON number text so
// range limits on doubles survive unchanged.
type Bounds struct {
	Min, Max *json.Number
}

func boundsTrait(traits map[string]json.RawMessage, id string) (*Bounds, error) {
	raw, ok := traits[id]
	if !ok {
		return nil, nil
	}
	var b struct {
		Min *json.Number `json:"min"`
		Max *json.Number `json:"max"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("trait %s: %w", id, err)
	}
	if b.Min == nil && b.Max == nil {
		return nil, nil
	}
	return &Bounds{Min: b.Min, Max: b.Max}, nil
}

// EnumValues returns the value set of an enum shape, or of a string shape
// with the Smithy 1 enum trait, in model order. ok is false for other shapes.
func EnumValues(s *Shape) (vals []string, ok bool, err error) {
	switch {
	case s.Type == "enum":
		for _, m := range s.Members {
			v, has, err := stringTrait(m.Traits, traitEnumValue)
			if err != nil {
				return nil, true, fmt.Errorf("%s$%s: %w", s.ID, m.Name, err)
			}
			if !has {
				v = m.Name
			}
			vals = append(vals, v)
		}
		return vals, true, nil
	case s.Type == "string" && hasTrait(s.Traits, traitEnum):
		var defs []struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(s.Traits[traitEnum], &defs); err != nil {
			return nil, true, fmt.Errorf("%s: trait %s: %w", s.ID, traitEnum, err)
		}
		for _, d := range defs {
			vals = append(vals, d.Value)
		}
		return vals, true, nil
	}
	return nil, false, nil
}

// HTTPTrait is the smithy.api#http trait of an operation.
type HTTPTrait struct {
	Method string `json:"method"`
	URI    string `json:"uri"`
	Code   int    `json:"code"`
}

func httpTrait(op *Shape) (HTTPTrait, error) {
	raw, ok := op.Traits[traitHTTP]
	if !ok {
		return HTTPTrait{}, fmt.Errorf("operation %s has no %s trait", op.ID, traitHTTP)
	}
	var h HTTPTrait
	if err := json.Unmarshal(raw, &h); err != nil {
		return HTTPTrait{}, fmt.Errorf("operation %s: %w", op.ID, err)
	}
	if h.Code == 0 {
		h.Code = 200
	}
	if h.Method == "" || !strings.HasPrefix(h.URI, "/") {
		return HTTPTrait{}, fmt.Errorf("operation %s: bad http trait %+v", op.ID, h)
	}
	return h, nil
}

// inputOf returns an operation's input shape id, smithy.api#Unit when absent.
func inputOf(op *Shape) string {
	if op.Input == nil || op.Input.Target == "" {
		return unitShape
	}
	return op.Input.Target
}
