package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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
