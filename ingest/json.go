package ingest

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/guardpost/guardpost/httpapi/wire"
)

// A record is decoded once and its document encoded once, which with
// encoding/json's reflection costs about half of an import's time before
// the store. decodeValue and appendValue do the same for the plain JSON
// trees of findings, byte for byte and value for value, and give up
// (ok false) on anything unusual — an error, an escape sequence, a number
// the encoder would reject — so that the caller falls back to
// encoding/json, which then answers exactly as before.

// decodeValue decodes the first JSON value of data as a json.Decoder with
// UseNumber decodes it into an any: objects as map[string]any, arrays as
// []any, numbers as json.Number. ok is false when data is not plain
// enough for it (see above).
func decodeValue(data []byte) (v any, ok bool) {
	d := decoders.Get().(*fastDecoder)
	d.data, d.i, d.keys = data, 0, memberNames()
	v, ok = d.value(0)
	clear(d.members)
	clear(d.elems)
	d.data, d.members, d.elems = nil, d.members[:0], d.elems[:0]
	decoders.Put(d)
	return v, ok
}

var decoders = sync.Pool{New: func() any { return new(fastDecoder) }}

type fastDecoder struct {
	data []byte
	i    int
	keys map[string]string
	// Stacks of the members and elements of the objects and arrays being
	// read, so that each is made at its size, without growing.
	members []member
	elems   []any
}

type member struct {
	key   string
	value any
}

// maxFastDepth is far below encoding/json's nesting limit, so that the
// limit's error is always encoding/json's own.
const maxFastDepth = 200

func (d *fastDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) value(depth int) (any, bool) {
	d.space()
	if d.i >= len(d.data) || depth > maxFastDepth {
		return nil, false
	}
	switch c := d.data[d.i]; {
	case c == '{':
		d.i++
		d.space()
		if d.i < len(d.data) && d.data[d.i] == '}' {
			d.i++
			return make(map[string]any), true
		}
		start := len(d.members)
		for {
			d.space()
			if d.i >= len(d.data) || d.data[d.i] != '"' {
				return nil, false
			}
			raw, plain, ok := d.stringBytes()
			if !ok {
				return nil, false
			}
			key, known := "", false
			if plain {
				key, known = d.keys[string(raw)] // no allocation for a known name
			}
			if !known {
				key = string(raw)
			}
			d.space()
			if d.i >= len(d.data) || d.data[d.i] != ':' {
				return nil, false
			}
			d.i++
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			d.members = append(d.members, member{key, v})
			d.space()
			if d.i >= len(d.data) {
				return nil, false
			}
			switch d.data[d.i] {
			case ',':
				d.i++
			case '}':
				d.i++
				m := make(map[string]any, len(d.members)-start)
				for _, kv := range d.members[start:] {
					m[kv.key] = kv.value // in order: the last of a repeated key wins
				}
				clear(d.members[start:])
				d.members = d.members[:start]
				return m, true
			default:
				return nil, false
			}
		}
	case c == '[':
		d.i++
		d.space()
		if d.i < len(d.data) && d.data[d.i] == ']' {
			d.i++
			return []any{}, true
		}
		start := len(d.elems)
		for {
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			d.elems = append(d.elems, v)
			d.space()
			if d.i >= len(d.data) {
				return nil, false
			}
			switch d.data[d.i] {
			case ',':
				d.i++
			case ']':
				d.i++
				list := slices.Clone(d.elems[start:])
				clear(d.elems[start:])
				d.elems = d.elems[:start]
				return list, true
			default:
				return nil, false
			}
		}
	case c == '"':
		raw, _, ok := d.stringBytes()
		if !ok {
			return nil, false
		}
		return string(raw), true
	case c == '-' || c >= '0' && c <= '9':
		start := d.i
		if !d.number() {
			return nil, false
		}
		return json.Number(d.data[start:d.i]), true
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *fastDecoder) literal(word string) bool {
	if len(d.data)-d.i < len(word) || string(d.data[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

// stringBytes reads the string literal at d.i and returns its content.
// plain says the literal was its own content (no escape, valid UTF-8);
// any other literal is unquoted by encoding/json itself. ok is false for
// a literal encoding/json would refuse.
func (d *fastDecoder) stringBytes() (s []byte, plain, ok bool) {
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.data); j++ {
		c := d.data[j]
		switch {
		case c == '"':
			s := d.data[start:j]
			if !ascii && !utf8.Valid(s) {
				return d.unquote(j)
			}
			d.i = j + 1
			return s, true, true
		case c == '\\':
			return d.unquote(j)
		case c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

// unquote reads the string literal at d.i, whose first escape or invalid
// byte is at j or later, with encoding/json's own unquoting (escapes,
// surrogate pairs, invalid UTF-8 replaced): rare enough in findings
// (additionalInfo holds JSON text) not to be worth a copy of that logic.
func (d *fastDecoder) unquote(j int) ([]byte, bool, bool) {
	for ; j < len(d.data); j++ {
		switch c := d.data[j]; {
		case c == '"':
			var s string
			if json.Unmarshal(d.data[d.i:j+1], &s) != nil {
				return nil, false, false
			}
			d.i = j + 1
			return []byte(s), false, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			j++
			if j >= len(d.data) {
				return nil, false, false
			}
			switch d.data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(d.data)-j < 5 {
					return nil, false, false
				}
				for _, h := range d.data[j+1 : j+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false, false
					}
				}
				j += 4
			default:
				return nil, false, false
			}
		}
	}
	return nil, false, false
}

// number reads a number literal of JSON's grammar at d.i.
func (d *fastDecoder) number() bool {
	b := d.data
	i, ok := numberEnd(b, d.i)
	if !ok {
		return false
	}
	// What follows a number must end it, as encoding/json's scanner wants:
	// 01 or 1x are errors there.
	if i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r', ',', '}', ']':
		default:
			return false
		}
	}
	d.i = i
	return true
}

// memberNames holds every member name of the Finding document's shapes,
// so that decoded keys share one string each instead of one per record.
var memberNames = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, s := range wire.FindingDoc {
		for _, mem := range s.Members {
			for _, name := range []string{mem.JSON, mem.Name, strings.ToLower(mem.Name[:1]) + mem.Name[1:]} {
				m[name] = name
			}
		}
	}
	return m
})

// marshalDoc is json.Marshal for a decoded document tree.
func marshalDoc(doc map[string]any) ([]byte, error) {
	scratch := docScratch.Get().(*[]byte)
	b, ok := appendValue((*scratch)[:0], doc)
	var out []byte
	if ok {
		out = slices.Clone(b)
	}
	*scratch = b[:0]
	docScratch.Put(scratch)
	if ok {
		return out, nil
	}
	return json.Marshal(doc)
}

// docScratch holds the buffers marshalDoc encodes into. The encoding
// becomes the finding's document, held until the import is written:
// growing a fresh buffer to it left most findings with twice the room
// they need (the generated ones are 2–6 KB), and an exact copy costs less
// than the growth did.
var docScratch = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// appendValue appends v as json.Marshal encodes it; ok is false for a
// value it does not handle (a float64 or any other Go type, an invalid
// json.Number), which json.Marshal must then encode.
func appendValue(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), true
		}
		var buf [32]string
		keys := buf[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendValue(dst, x[k]); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	case []any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendValue(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case string:
		return appendString(dst, x), true
	case json.Number:
		// "" (json.Marshal writes 0) and invalid literals are left to it.
		d := fastDecoder{data: []byte(x)}
		if x == "" || !d.number() || d.i != len(x) {
			return dst, false
		}
		return append(dst, x...), true
	case bool:
		if x {
			return append(dst, "true"...), true
		}
		return append(dst, "false"...), true
	case nil:
		return append(dst, "null"...), true
	}
	return dst, false
}

const hexDigits = "0123456789abcdef"

// appendString is encoding/json's string encoding with HTML escaping, as
// json.Marshal writes strings.
func appendString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		// At most one rune's bytes: a copy on the stack for []byte.
		c, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// numberEnd returns where the number literal of JSON's grammar that starts
// at b[i] ends, or false when none starts there. What follows it is left
// to the caller.
func numberEnd(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return i, false
		}
	}
	return i, true
}
