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

// filler is how a value of one type is filled, compiled once per type of
// wire.Finding's tree, so that filling looks nothing up by type.
type filler struct {
	typ         reflect.Type
	unmarshaler bool             // *typ is a json.Unmarshaler
	elem        *filler          // pointer, slice and map elements
	fields      map[string]field // struct fields by JSON name
	names       []string         // the same names, for case-insensitive keys
}

type field struct {
	index int
	f     *filler
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	numberType      = reflect.TypeFor[json.Number]()
	fillers         sync.Map // reflect.Type -> *filler, per root type
)

// fillerOf compiles the filler of t; seen holds those being compiled, for
// recursive types.
func fillerOf(t reflect.Type, seen map[reflect.Type]*filler) *filler {
	if f, ok := seen[t]; ok {
		return f
	}
	f := &filler{typ: t, unmarshaler: reflect.PointerTo(t).Implements(unmarshalerType)}
	seen[t] = f
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		f.elem = fillerOf(t.Elem(), seen)
	case reflect.Struct:
		f.fields = map[string]field{}
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() || sf.Anonymous {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			f.fields[name] = field{i, fillerOf(sf.Type, seen)}
			f.names = append(f.names, name)
		}
	}
	return f
}

// fillWire sets v (a pointer to a zero struct) from tree.
func fillWire(v any, tree map[string]any) bool {
	rv := reflect.ValueOf(v).Elem()
	f, ok := fillers.Load(rv.Type())
	if !ok {
		f, _ = fillers.LoadOrStore(rv.Type(), fillerOf(rv.Type(), map[reflect.Type]*filler{}))
	}
	return f.(*filler).fill(rv, tree)
}

func (f *filler) fill(rv reflect.Value, v any) bool {
	if v == nil {
		return false // null: absent in a normalized document; left to encoding/json
	}
	if f.unmarshaler && rv.CanAddr() {
		num, ok := v.(json.Number)
		if !ok {
			return false
		}
		return rv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON([]byte(num)) == nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		p := reflect.New(f.elem.typ)
		if !f.elem.fill(p.Elem(), v) {
			return false
		}
		rv.Set(p)
		return true
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, e := range obj {
			fi, ok := f.fields[k]
			if !ok {
				// json.Unmarshal fills a field from a key equal to its name
				// but for case, with a Unicode folding of its own: such a
				// key, or one that is not ASCII, is left to it.
				for j := range len(k) {
					if k[j] >= utf8.RuneSelf {
						return false
					}
				}
				for _, name := range f.names {
					if strings.EqualFold(name, k) {
						return false
					}
				}
				continue // an unknown member
			}
			if !fi.f.fill(rv.Field(fi.index), e) {
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
			if !f.elem.fill(s.Index(i), e) {
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
			ev := reflect.New(f.elem.typ).Elem()
			if !f.elem.fill(ev, e) {
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
