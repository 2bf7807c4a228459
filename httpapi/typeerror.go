package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// typeErrorMessage re-reads a body that encoding/json refused although it is
// valid JSON, alongside the Go type of v, and returns the 400 message for
// the first value, in document order, that does not fit its member. It
// exists because encoding/json's own errors cannot name the member:
// UnmarshalTypeError.Field leaves out map keys (a string under
// findingCriteria.criterion.updatedAt.gte is reported at
// findingCriteria.criterion.gte), and errors of custom unmarshalers
// (timestamps) and of base64 blobs carry no path at all.
//
// Paths join wire names with '.', as validation messages do; a map value is
// named by its key (findingCriteria.criterion.updatedAt.gte) and a list
// element by "<list>.<n>.member" with n from 1. ok is false when nothing
// that does not fit was found, which should not happen.
func typeErrorMessage(body []byte, v any) (msg string, ok bool) {
	t := reflect.TypeOf(v)
	if t == nil {
		return "", false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	w := typeWalker{dec: d}
	msg, err := w.value(t, "")
	if err != nil || msg == "" {
		return "", false
	}
	return msg, true
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// typeWalker follows a JSON token stream and a Go type together.
type typeWalker struct {
	dec *json.Decoder
}

// value reads one JSON value meant for Go type t at path and returns the
// message for the first part of it that does not fit, or "".
func (w *typeWalker) value(t reflect.Type, path string) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(unmarshalerType) {
		var raw json.RawMessage
		if err := w.dec.Decode(&raw); err != nil {
			return "", err
		}
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return unmarshalerMessage(t, raw, path), nil
		}
		return "", nil
	}
	tok, err := w.dec.Token()
	if err != nil {
		return "", err
	}
	if t.Kind() == reflect.Interface { // anything goes
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			return "", w.skipRest()
		}
		return "", nil
	}
	switch tok := tok.(type) {
	case nil: // null fits everything: the member stays unset
		return "", nil
	case json.Delim:
		switch {
		case tok == '{' && t.Kind() == reflect.Struct:
			return w.object(t, path)
		case tok == '{' && t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
			return w.mapValues(t, path)
		case tok == '[' && t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
			return w.list(t, path)
		case tok == '{':
			return mismatch(t, "object", path), nil
		}
		return mismatch(t, "array", path), nil
	case string:
		switch {
		case t.Kind() == reflect.String:
			return "", nil
		case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
			if _, err := base64.StdEncoding.DecodeString(tok); err != nil {
				return fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must be base64-encoded.", path), nil
			}
			return "", nil
		}
		return mismatch(t, "string", path), nil
	case bool:
		if t.Kind() == reflect.Bool {
			return "", nil
		}
		return mismatch(t, "boolean", path), nil
	case json.Number:
		return numberMessage(t, string(tok), path), nil
	}
	return "", fmt.Errorf("unexpected JSON token %v", tok)
}

// object reads the members of a JSON object into struct type t, matching
// keys to json tags exactly, as decodeBody does (exactKeys); unknown keys
// are skipped.
func (w *typeWalker) object(t reflect.Type, path string) (string, error) {
	for w.dec.More() {
		k, err := w.dec.Token()
		if err != nil {
			return "", err
		}
		key, _ := k.(string)
		ft, name, ok := structField(t, key)
		if !ok {
			var skip json.RawMessage
			if err := w.dec.Decode(&skip); err != nil {
				return "", err
			}
			continue
		}
		if msg, err := w.value(ft, joinPath(path, name)); msg != "" || err != nil {
			return msg, err
		}
	}
	_, err := w.dec.Token() // '}'
	return "", err
}

func (w *typeWalker) mapValues(t reflect.Type, path string) (string, error) {
	for w.dec.More() {
		k, err := w.dec.Token()
		if err != nil {
			return "", err
		}
		key, _ := k.(string)
		if msg, err := w.value(t.Elem(), joinPath(path, key)); msg != "" || err != nil {
			return msg, err
		}
	}
	_, err := w.dec.Token()
	return "", err
}

func (w *typeWalker) list(t reflect.Type, path string) (string, error) {
	for i := 1; w.dec.More(); i++ {
		if msg, err := w.value(t.Elem(), path+"."+strconv.Itoa(i)+".member"); msg != "" || err != nil {
			return msg, err
		}
	}
	_, err := w.dec.Token()
	return "", err
}

// skipRest consumes the rest of an object or array whose opening delimiter
// has been read.
func (w *typeWalker) skipRest() error {
	for depth := 1; depth > 0; {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// structField finds the field of struct type t that JSON key decodes into
// and returns its type and wire name.
func structField(t reflect.Type, key string) (reflect.Type, string, bool) {
	ft, ok := exactField(t, key)
	return ft, key, ok
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// mismatch is the message for a JSON value of the wrong kind.
func mismatch(t reflect.Type, got, path string) string {
	if path == "" {
		return "The request body must be a JSON object, not a JSON " + got + "."
	}
	return fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must be %s, not a JSON %s.", path, jsonKind(t.String()), got)
}

// numberMessage checks a JSON number literal against numeric type t and
// says what is wrong with it, or "" when it fits.
func numberMessage(t reflect.Type, lit, path string) string {
	echo := echoValue(lit)
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		if _, err := strconv.ParseInt(lit, 10, bits); err == nil {
			return ""
		}
		hi := int64(math.MaxInt64)
		if bits < 64 {
			hi = int64(1)<<(bits-1) - 1
		}
		lo := -hi - 1
		var tooLarge, tooSmall bool
		if !strings.ContainsAny(lit, ".eE") { // an integer ParseInt refused: out of range
			tooSmall = strings.HasPrefix(lit, "-")
			tooLarge = !tooSmall
		} else {
			f, _ := strconv.ParseFloat(lit, 64) // ±Inf beyond float64
			tooLarge, tooSmall = f > float64(hi), f < float64(lo)
		}
		switch {
		case tooLarge:
			return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be a %d-bit integer; the number is too large (the largest is %d).", echo, path, bits, hi)
		case tooSmall:
			return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be a %d-bit integer; the number is too small (the smallest is %d).", echo, path, bits, lo)
		}
		return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be an integer, written without a fraction or exponent.", echo, path)
	case reflect.Float32, reflect.Float64:
		if _, err := strconv.ParseFloat(lit, t.Bits()); err == nil {
			return ""
		}
		return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be a number; the number is too large for a %d-bit float.", echo, path, t.Bits())
	}
	return mismatch(t, "number", path)
}

// unmarshalerMessage is the message for a value a custom unmarshaler (a
// timestamp) refused.
func unmarshalerMessage(t reflect.Type, raw json.RawMessage, path string) string {
	want := jsonKind(t.String())
	switch c := bytes.TrimSpace(raw); {
	case len(c) > 0 && (c[0] == '-' || c[0] >= '0' && c[0] <= '9'):
		return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be %s; the number is out of range.", echoValue(string(c)), path, want)
	case len(c) > 0:
		return mismatch(t, jsonValueKind(c[0]), path)
	}
	return fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must be %s.", path, want)
}

// jsonValueKind names the kind of JSON value that starts with byte c.
func jsonValueKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// echoValue shortens a number literal echoed in a message: a client can
// send a megabyte of digits.
func echoValue(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
