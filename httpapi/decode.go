package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// decodeBody fills v from a JSON request body, turning every way a body can
// be wrong into a 400 that says what to fix. An empty body is an empty object.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	// encoding/json replaces invalid UTF-8 and binds keys ignoring case;
	// AWS's parsers refuse the first and ignore such keys.
	if !utf8.Valid(body) {
		return serializationError(body)
	}
	body, _ = exactKeys(body, v)
	// The common case, a valid body, in one pass without a Decoder's copy
	// of the body. Unmarshal accepts exactly what decodeStrict does (one
	// value, then only white space) and decodes it alike; a body it refuses
	// is decoded again by decodeStrict, for the message the client gets.
	if json.Unmarshal(body, v) == nil {
		return nil
	}
	return decodeStrict(body, v)
}

// decodeStrict is decodeBody for a non-empty body, with a Decoder that
// tells what is wrong with it.
func decodeStrict(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	err := d.Decode(v)
	if err == nil {
		if _, extra := d.Token(); extra != io.EOF {
			return badRequest("The request body is not valid JSON: unexpected data after the top-level value.")
		}
		return nil
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	if errors.As(err, &syn) {
		return badRequest("The request body is not valid JSON: %s (at byte %d).", syn.Error(), syn.Offset)
	}
	// Valid JSON with a value that does not fit its member: find which, with
	// its full path (see typeErrorMessage).
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		if msg, ok := typeErrorMessage(body, v); ok {
			return badRequest("%s", msg)
		}
	}
	switch {
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("The request body must be a JSON object, not a JSON %s.", typ.Value)
		}
		return badRequest("Value at '%s' failed to satisfy constraint: Member must be %s, not a JSON %s.", typ.Field, jsonKind(typ.Type.String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("The request body is not valid JSON: it ends too early.")
	}
	// Custom unmarshalers (timestamps) report their own text.
	return badRequest("The request body could not be read: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names, in JSON terms, what a Go destination type expects.
func jsonKind(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "an object"
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "wire.Timestamp":
		return "a timestamp in epoch seconds"
	}
	return "an object"
}

// serializationError is AWS's answer to a body its JSON parser cannot read
// as text: invalid UTF-8.
func serializationError(body []byte) *apiError {
	i := 0
	for i < len(body) {
		r, n := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	b := byte(0)
	if i < len(body) {
		b = body[i]
	}
	return &apiError{Status: http.StatusBadRequest, Type: "SerializationException",
		Message: sprintf("Invalid UTF-8 byte 0x%02x at byte %d of the request body.", b, i)}
}

// exactKeys makes decoding as exact as AWS's parsers: encoding/json binds
// an object key to a member whose name differs only in case
// ("FindingIds" to findingIds), where AWS ignores such a key as unknown.
// It returns body unchanged when no key of it could be bound that way
// (foldable tells, from a quick scan of the keys against the names of
// v's members), else body without the keys that name no member exactly.
func exactKeys(body []byte, v any) ([]byte, error) {
	t := reflect.TypeOf(v)
	names := memberNames(t)
	if !foldable(body, names) {
		return body, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var out bytes.Buffer
	if err := copyExact(d, t, &out); err != nil {
		return body, nil // not valid JSON: decodeStrict says why
	}
	return out.Bytes(), nil
}

// memberNames caches, per Go type, the exact JSON names of every struct
// member reachable from it, and their lowercase forms.
var memberNamesCache sync.Map // reflect.Type → *nameSet

type nameSet struct{ exact, lower map[string]bool }

func memberNames(t reflect.Type) *nameSet {
	if ns, ok := memberNamesCache.Load(t); ok {
		return ns.(*nameSet)
	}
	ns := &nameSet{exact: map[string]bool{}, lower: map[string]bool{}}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			name, ok := jsonName(f)
			if !ok {
				continue
			}
			ns.exact[name] = true
			ns.lower[strings.ToLower(name)] = true
			walk(f.Type)
		}
	}
	walk(t)
	memberNamesCache.Store(t, ns)
	return ns
}

// jsonName is the name encoding/json gives a struct field; ok is false for
// fields it skips.
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}

// foldable scans body's object keys (strings followed by ':') and tells
// whether one of them could be bound to a member by case folding: it is
// not a member's exact name but its lowercase form is a member's, or it is
// not plain ASCII (encoding/json also folds 'ſ' and the Kelvin sign).
func foldable(body []byte, names *nameSet) bool {
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		start, escaped, plain := i+1, false, true
		j := start
		for ; j < len(body) && body[j] != '"'; j++ {
			switch c := body[j]; {
			case c == '\\':
				escaped = true
				j++
			case c >= utf8.RuneSelf:
				plain = false
			}
		}
		key := body[start:min(j, len(body))]
		i = j
		k := j + 1
		for k < len(body) && (body[k] == ' ' || body[k] == '\t' || body[k] == '\n' || body[k] == '\r') {
			k++
		}
		if k >= len(body) || body[k] != ':' || names.exact[string(key)] {
			continue
		}
		if escaped || !plain || names.lower[strings.ToLower(string(key))] {
			return true
		}
	}
	return false
}

// copyExact copies one JSON value meant for Go type t from d to out,
// leaving out the members of objects bound to structs whose keys name no
// member exactly.
func copyExact(d *json.Decoder, t reflect.Type, out *bytes.Buffer) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := d.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		b, err := json.Marshal(tok)
		if err != nil {
			return err
		}
		out.Write(b)
		return nil
	}
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) {
		elem = t.Elem()
	}
	if delim == '[' {
		out.WriteByte('[')
		for n := 0; d.More(); n++ {
			if n > 0 {
				out.WriteByte(',')
			}
			if err := copyExact(d, elem, out); err != nil {
				return err
			}
		}
		out.WriteByte(']')
		_, err := d.Token()
		return err
	}
	out.WriteByte('{')
	n := 0
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return err
		}
		key, _ := k.(string)
		vt := elem
		if t != nil && t.Kind() == reflect.Struct {
			ft, ok := exactField(t, key)
			if !ok {
				var skip json.RawMessage
				if err := d.Decode(&skip); err != nil {
					return err
				}
				continue
			}
			vt = ft
		}
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(key)
		out.Write(kb)
		out.WriteByte(':')
		if err := copyExact(d, vt, out); err != nil {
			return err
		}
	}
	out.WriteByte('}')
	_, err = d.Token()
	return err
}

// exactField is the type of t's member named exactly key.
func exactField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, ok := jsonName(f); ok && name == key {
			return f.Type, true
		}
	}
	return nil, false
}
