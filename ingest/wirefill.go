package ingest

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The model's constraints are checked on wire.Finding (generated), which
// json.Unmarshal of the encoded document used to fill: a third pass over
// the JSON and a third of an import's time before the store. fillWire
// fills it from the decoded tree instead, as json.Unmarshal would from the
// tree's encoding, and gives up (false) on whatever it is not sure of: a
// key that matches a field only ignoring case, a value of the wrong kind,
// a number out of range. The caller then runs json.Unmarshal.

// wireFields is, per struct type, its fields by JSON name.
var wireFields sync.Map // reflect.Type -> map[string]int

func fieldsOf(t reflect.Type) map[string]int {
	if m, ok := wireFields.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = i
	}
	wireFields.Store(t, m)
	return m
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	numberType      = reflect.TypeFor[json.Number]()
)

// unmarshalers says, per type, whether its pointer is a json.Unmarshaler.
var unmarshalers sync.Map // reflect.Type -> bool

func isUnmarshaler(t reflect.Type) bool {
	if b, ok := unmarshalers.Load(t); ok {
		return b.(bool)
	}
	b := reflect.PointerTo(t).Implements(unmarshalerType)
	unmarshalers.Store(t, b)
	return b
}

// fillWire sets v (a pointer to a zero struct) from tree.
func fillWire(v any, tree map[string]any) bool {
	return fill(reflect.ValueOf(v).Elem(), tree)
}

func fill(rv reflect.Value, v any) bool {
	if v == nil {
		return false // null: absent in a normalized document; left to encoding/json
	}
	if rv.CanAddr() && isUnmarshaler(rv.Type()) {
		num, ok := v.(json.Number)
		if !ok {
			return false
		}
		return rv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON([]byte(num)) == nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		p := reflect.New(rv.Type().Elem())
		if !fill(p.Elem(), v) {
			return false
		}
		rv.Set(p)
		return true
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return false
		}
		fields := fieldsOf(rv.Type())
		for k, e := range obj {
			i, ok := fields[k]
			if !ok {
				// json.Unmarshal fills a field from a key equal to its name
				// but for case, with a Unicode folding of its own: such a
				// key, or one that is not ASCII, is left to it.
				for j := range len(k) {
					if k[j] >= utf8.RuneSelf {
						return false
					}
				}
				for name := range fields {
					if strings.EqualFold(name, k) {
						return false
					}
				}
				continue // an unknown member
			}
			if !fill(rv.Field(i), e) {
				return false
			}
		}
		return true
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return false
		}
		s := reflect.MakeSlice(rv.Type(), len(list), len(list))
		for i, e := range list {
			if !fill(s.Index(i), e) {
				return false
			}
		}
		rv.Set(s)
		return true
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok || rv.Type().Key() != reflect.TypeFor[string]() {
			return false
		}
		m := reflect.MakeMapWithSize(rv.Type(), len(obj))
		for k, e := range obj {
			if !utf8.ValidString(k) {
				return false
			}
			ev := reflect.New(rv.Type().Elem()).Elem()
			if !fill(ev, e) {
				return false
			}
			m.SetMapIndex(reflect.ValueOf(k), ev)
		}
		rv.Set(m)
		return true
	case reflect.String:
		s, ok := v.(string)
		if !ok || rv.Type() == numberType || !utf8.ValidString(s) {
			return false
		}
		rv.SetString(s)
		return true
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		rv.SetBool(b)
		return true
	case reflect.Float64, reflect.Float32:
		num, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(string(num), rv.Type().Bits())
		if err != nil || rv.OverflowFloat(f) {
			return false
		}
		rv.SetFloat(f)
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		num, ok := v.(json.Number)
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil || rv.OverflowInt(n) {
			return false
		}
		rv.SetInt(n)
		return true
	}
	return false
}
