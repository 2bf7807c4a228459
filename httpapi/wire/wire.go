// Package wire holds the GuardDuty restJson1 wire types: one struct per
// Smithy structure shape, their validation against the model's
// constraints, the HTTP bindings of each operation input and the route
// table. The *_gen.go files are generated from the Smithy model by
// internal/codegen; run "go generate" here after changing the generator.
//
// JSON: body members use the model's jsonName, or the member name verbatim
// when there is none (Ec2Instance.IamInstanceProfile and
// RdsLoginAttemptAction.LoginAttributes go out in PascalCase). Members
// bound to the URI, query string or headers are `json:"-"` and filled by
// BindHTTP. Absent values are nil and left out of the JSON; a non-nil empty
// slice or map is sent as [] or {} (omitzero), as AWS sends empty lists.
//
// Validation messages follow the AWS (Coral) format. Member paths join wire
// names with '.': body members by jsonName, URI labels by label name with a
// lowercase first letter (detectorId), query parameters by their name
// (maxResults). List elements are "<list>.<n>.member" with n from 1. Map
// keys are "<map>.key" (the offending key is the echoed value) and map
// values "<map>.<key>.value", visited in sorted key order.
package wire

//go:generate go run ../../internal/codegen -model ../../../shared/spec/guardduty-2017-11-28.smithy.json -out .

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Timestamp is a Smithy timestamp. restJson1 without a timestampFormat trait
// sends it as epoch seconds in a JSON number, with an optional fraction.
type Timestamp struct{ time.Time }

// MarshalJSON writes epoch seconds, with up to three fraction digits when
// there are milliseconds (finer parts are dropped): 1700000000 or
// 1700000000.123.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	// Whole milliseconds since the epoch, truncated toward zero, so negative
	// times with a fraction print correctly.
	ms := t.Unix()*1000 + int64(t.Nanosecond()/1e6)
	neg := ms < 0
	if neg {
		ms = -ms
	}
	b := make([]byte, 0, 24)
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s := strconv.FormatInt(frac+1000, 10)[1:] // zero-padded to 3 digits
		b = append(b, '.')
		b = append(b, strings.TrimRight(s, "0")...)
	}
	return b, nil
}

// UnmarshalJSON accepts only a JSON number of epoch seconds. Anything else,
// an ISO-8601 string included, is an error, so the request is answered 400
// like AWS does. null leaves the value unchanged.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) || !json.Valid(b) {
		return errors.New("timestamp must be a JSON number of epoch seconds")
	}
	tm, err := parseEpoch(string(b))
	if err != nil {
		return err
	}
	t.Time = tm
	return nil
}

// parseEpoch converts epoch-seconds number text exactly when it is plain
// decimal (float64 would round 1700000000.123), and through float64 for
// exponent forms.
func parseEpoch(s string) (time.Time, error) {
	if !strings.ContainsAny(s, "eE") {
		neg := strings.HasPrefix(s, "-")
		intPart, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
		sec, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil {
			return time.Time{}, errors.New("timestamp out of range")
		}
		if len(frac) > 9 {
			frac = frac[:9]
		}
		var nsec int64
		if frac != "" {
			nsec, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		}
		if neg {
			sec, nsec = -sec, -nsec
		}
		return time.Unix(sec, nsec).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}, errors.New("timestamp out of range")
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64(math.Round((f-sec)*1e3))*1e6).UTC(), nil
}

// ValidationError lists the constraint violations of a request; the HTTP
// layer answers it with a 400 whose message is Error().
type ValidationError struct {
	// Violations are the first MaxListedViolations violations found;
	// Count is how many there are (0: len(Violations)).
	Violations []string
	Count      int
}

// MaxListedViolations bounds the violations a message lists, and
// MaxMessageBytes the message itself: a request of a million bad list
// elements must not make a message of a million parts, and a value too
// long is echoed only in part.
const (
	MaxListedViolations = 10
	MaxMessageBytes     = 4096
)

// Error is the complete AWS message, e.g. "1 validation error detected: ...".
func (e *ValidationError) Error() string {
	n := max(e.Count, len(e.Violations))
	noun := "errors"
	if n == 1 {
		noun = "error"
	}
	msg := strconv.Itoa(n) + " validation " + noun + " detected: " + strings.Join(e.Violations, "; ")
	if len(msg) > MaxMessageBytes {
		cut := MaxMessageBytes - len("...")
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return msg
}

// Input is implemented by every operation input.
type Input interface {
	// BindHTTP fills members bound to the URI labels (through pathValue,
	// e.g. http.Request.PathValue), query string and headers. It leaves
	// body members alone and returns a *ValidationError for values that do
	// not parse.
	BindHTTP(pathValue func(string) string, query url.Values, header http.Header) error
	// Validate checks the whole input, body and bound members, and returns
	// nil or a *ValidationError.
	Validate() error
}

// Operation is one route of the service.
type Operation struct {
	Name     string       // e.g. "GetFindings"
	Method   string       // HTTP method
	Path     string       // net/http.ServeMux path pattern, e.g. "/detector/{DetectorId}"
	Code     int          // HTTP status of a success
	NewInput func() Input // a new, empty input value to decode the request into
}

// NoInput is the input of operations whose model input is smithy.api#Unit.
type NoInput struct{}

// BindHTTP does nothing: there is nothing to bind.
func (*NoInput) BindHTTP(func(string) string, url.Values, http.Header) error { return nil }

// Validate always succeeds.
func (*NoInput) Validate() error { return nil }

// violations collects constraint violations in the order they are found.
type violations struct {
	list  []string
	count int
}

// full counts one more violation and tells whether the list already holds
// as many as a message lists.
func (v *violations) full() bool {
	v.count++
	return len(v.list) >= MaxListedViolations
}

func (v *violations) null(path string) {
	if v.full() {
		return
	}
	v.list = append(v.list, "Value null at '"+path+"' failed to satisfy constraint: Member must not be null")
}

// add records a violation, echoing value unless echo is false (lists, maps,
// structures and sensitive values are never echoed).
func (v *violations) add(path, value string, echo bool, constraint string) {
	if v.full() {
		return
	}
	if len(value) > MaxMessageBytes {
		value = value[:MaxMessageBytes] // Error cuts the message anyway
	}
	if echo {
		v.list = append(v.list, "Value '"+value+"' at '"+path+"' failed to satisfy constraint: "+constraint)
		return
	}
	v.list = append(v.list, "Value at '"+path+"' failed to satisfy constraint: "+constraint)
}

func (v *violations) err() error {
	if len(v.list) == 0 {
		return nil
	}
	return &ValidationError{Violations: v.list, Count: v.count}
}

func vjoin(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func velem(path string, i int) string { return path + "." + strconv.Itoa(i+1) + ".member" }

func vkey(path string) string { return path + ".key" }

func vvalue(path, key string) string { return path + "." + key + ".value" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
