package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

// Findings reads the finding records of a body (see Records) and yields
// each as a validated canonical document: the JSON object GetFindings
// returns, decoded with json.Number for numbers. The sequence stops after
// the first error: a guardpost EINVALID error whose message names the
// record ("Record 3: 1 validation error detected: ...") and the member
// path, or a *RecordError wrapping ErrTooLarge.
func Findings(r io.Reader) iter.Seq2[map[string]any, error] {
	return func(yield func(map[string]any, error) bool) {
		for rec, err := range Records(r) {
			if err != nil {
				if errors.Is(err, ErrTooLarge) {
					yield(nil, err)
				} else {
					yield(nil, guardpost.Errorf(guardpost.EINVALID, "%s", err.Error()))
				}
				return
			}
			doc, err := Finding(rec.JSON)
			if err != nil {
				yield(nil, guardpost.Errorf(guardpost.EINVALID, "Record %d: %s", rec.N, err.Error()))
				return
			}
			if !yield(doc, nil) {
				return
			}
		}
	}
}

// Finding reads one record: a GuardDuty Finding object, or an EventBridge
// event whose detail is one. It accepts every member under its wire name
// (camelCase: the API, EventBridge, the S3 export) or its Smithy member
// name (PascalCase: the AWS CLI, boto3), timestamps as epoch seconds or
// ISO-8601 text, and returns the canonical document: wire names, epoch
// seconds, integers without a fraction. The error is a
// *wire.ValidationError listing what is wrong, member by member, or a plain
// error when the record is not a JSON object.
//
// The members a writer takes from its own identity (accountId, region,
// partition, arn, service.detectorId) are not required and not checked:
// the importer replaces them. id is checked only when present (the
// importer assigns one otherwise).
//
// Members the model does not know are kept as they are, at every depth.
// A finding with one is most likely from a GuardDuty newer than guardpost's
// model (the Finding shape grows several members a year), and dropping it
// would lose data an export holds on purpose; refusing it would make every
// such export unreadable. Kept members cost nothing to clients: the AWS
// SDKs and the CLI skip members they do not know. The price is that a
// misspelt optional member is kept rather than reported; a misspelt
// required one is still reported as missing.
func Finding(rec []byte) (map[string]any, error) {
	doc, err := normalized(rec)
	if err != nil {
		return nil, err
	}
	if err := validate(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// normalized is Finding without the check against the model's
// constraints: the record decoded, unwrapped from its EventBridge event
// and normalized, or the normalizer's violations.
func normalized(rec []byte) (map[string]any, error) {
	v, ok := decodeValue(rec)
	if !ok {
		d := json.NewDecoder(bytes.NewReader(rec))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, errors.New("not valid JSON: " + strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("a record must be a JSON object")
	}
	if detail, ok := doc["detail"].(map[string]any); ok && (doc["detail-type"] != nil || doc["source"] != nil) {
		if dt, ok := doc["detail-type"].(string); ok && dt != "GuardDuty Finding" {
			return nil, errors.New("an EventBridge event of detail-type '" + dt + "' is not a GuardDuty finding")
		}
		doc = detail
	}
	n := &normalizer{}
	n.object(doc, 0, 0)
	if len(n.violations) > 0 {
		return nil, n.err()
	}
	return doc, nil
}

// docIndex answers, for each structure of wire.FindingDoc, which member a
// key names: exactly its wire name, its member name or the member name
// with a lowercase first letter (EventBridge writes iamInstanceProfile
// where the API writes IamInstanceProfile), else any of these ignoring
// case. internal/codegen checks that no two members share a name.
var docIndex = sync.OnceValue(func() []docLookup {
	idx := make([]docLookup, len(wire.FindingDoc))
	for i, s := range wire.FindingDoc {
		if s.Kind == wire.DocString {
			_, idx[i].enum = wire.EnumValues[s.Name]
		}
		if s.Kind != wire.DocStructure {
			continue
		}
		l := docLookup{exact: map[string]int{}, fold: map[string]int{}}
		for j, m := range s.Members {
			for _, name := range []string{m.JSON, m.Name, strings.ToLower(m.Name[:1]) + m.Name[1:]} {
				l.exact[name] = j
				l.fold[strings.ToLower(name)] = j
			}
		}
		idx[i] = l
	}
	return idx
})

type docLookup struct {
	exact, fold map[string]int // structures: key -> member
	enum        bool           // strings: the shape is an enum
}

func (l docLookup) member(key string) (int, bool) {
	if j, ok := l.exact[key]; ok {
		return j, true
	}
	j, ok := l.fold[strings.ToLower(key)]
	return j, ok
}

// normalizer rewrites a decoded record in place into the canonical form
// and collects what does not fit the model's types.
type normalizer struct {
	violations []violation
	stack      []docPath // see docPath
}

type violation struct {
	path, msg string
}

func (n *normalizer) add(path, msg string) {
	n.violations = append(n.violations, violation{path, msg})
}

// typeError records a value of the wrong JSON kind, in the words the API's
// own decoder uses.
func (n *normalizer) typeError(path, want string, got any) {
	n.add(path, "Value at '"+path+"' failed to satisfy constraint: Member must be "+want+", not "+jsonKind(got)+".")
}

// err lists the violations by path, so the message does not depend on the
// order of a map's keys.
func (n *normalizer) err() error {
	slices.SortStableFunc(n.violations, func(a, b violation) int { return strings.Compare(a.path, b.path) })
	msgs := make([]string, len(n.violations))
	for i, v := range n.violations {
		msgs[i] = v.msg
	}
	return &wire.ValidationError{Violations: msgs}
}

// object normalizes a structure in place: keys become wire names, values
// their canonical form, nulls are dropped (the SDKs read null as absent)
// and unknown members stay as they are.
func (n *normalizer) object(obj map[string]any, si int, at int) {
	s, lookup := &wire.FindingDoc[si], docIndex()[si]
	var renames []string // pairs: old key, new key
	for k, v := range obj {
		j, known := lookup.member(k)
		if !known {
			continue
		}
		m := &s.Members[j]
		// null is absent, as the SDKs read it; so is an enum member's "",
		// which no enum allows and which is what the Go SDK's structures
		// hold for an absent enum (a JSON dump of them writes it).
		if v == nil || v == "" && docIndex()[m.Shape].enum {
			delete(obj, k) // deleting during range is allowed
			continue
		}
		seg := n.seg(at, docPath{name: m.JSON})
		if k != m.JSON {
			if _, dup := obj[m.JSON]; dup {
				p := n.pathAt(seg)
				n.add(p, "Value at '"+p+"' failed to satisfy constraint: Member is given twice, as '"+m.JSON+"' and as '"+k+"'.")
				continue
			}
			renames = append(renames, k, m.JSON)
		}
		if nv, ok := n.value(v, m.Shape, seg); ok && rewrites(m.Shape) {
			obj[k] = nv
		}
	}
	for i := 0; i < len(renames); i += 2 {
		old, key := renames[i], renames[i+1]
		if _, dup := obj[key]; dup {
			p := n.pathAt(n.seg(at, docPath{name: key}))
			n.add(p, "Value at '"+p+"' failed to satisfy constraint: Member is given twice, as '"+key+"' and as '"+old+"'.")
			continue
		}
		obj[key] = obj[old]
		delete(obj, old)
	}
}

// rewrites reports whether value may return another value than it was
// given for shape si (integers and timestamps are canonicalized; the other
// kinds are checked, and structures, lists and maps changed in place), so
// that a map member is written back only then: a map write costs a hash.
func rewrites(si int) bool {
	k := wire.FindingDoc[si].Kind
	return k == wire.DocInteger || k == wire.DocTimestamp
}

// value checks and canonicalizes one value of shape s; ok is false when it
// does not fit (the violation is recorded).
// element normalizes one list element or map value at seg, refusing a
// null as the model's constraint does.
func (n *normalizer) element(e any, si int, seg int) (any, bool) {
	if e == nil {
		p := n.pathAt(seg)
		n.add(p, "Value null at '"+p+"' failed to satisfy constraint: Member must not be null")
		return nil, false
	}
	return n.value(e, si, seg)
}

func (n *normalizer) value(v any, si int, at int) (any, bool) {
	s := &wire.FindingDoc[si]
	switch s.Kind {
	case wire.DocStructure:
		obj, ok := v.(map[string]any)
		if !ok {
			n.typeError(n.pathAt(at), "an object", v)
			return nil, false
		}
		n.object(obj, si, at)
		return obj, true
	case wire.DocList:
		list, ok := v.([]any)
		if !ok {
			n.typeError(n.pathAt(at), "a list", v)
			return nil, false
		}
		for i, e := range list {
			if ne, ok := n.element(e, s.Elem, n.seg(at, docPath{index: i + 1})); ok {
				list[i] = ne
			}
		}
		return list, true
	case wire.DocMap:
		obj, ok := v.(map[string]any)
		if !ok {
			n.typeError(n.pathAt(at), "an object", v)
			return nil, false
		}
		for k, e := range obj {
			if ne, ok := n.element(e, s.Elem, n.seg(at, docPath{key: k})); ok && rewrites(s.Elem) {
				obj[k] = ne
			}
		}
		return obj, true
	case wire.DocString:
		if _, ok := v.(string); !ok {
			n.typeError(n.pathAt(at), "a string", v)
			return nil, false
		}
		return v, true
	case wire.DocBoolean:
		if _, ok := v.(bool); !ok {
			n.typeError(n.pathAt(at), "a boolean", v)
			return nil, false
		}
		return v, true
	case wire.DocInteger:
		num, ok := v.(json.Number)
		if !ok {
			n.typeError(n.pathAt(at), "an integer", v)
			return nil, false
		}
		if _, err := strconv.ParseInt(string(num), 10, s.Bits); err == nil {
			return v, true
		}
		// 5.0 or 5e0 is the integer 5 (a JSON writer may print any
		// number with a fraction); the SDKs refuse the fraction, so it is
		// dropped.
		f, err := num.Float64()
		if err == nil && f == math.Trunc(f) && f >= -math.Ldexp(1, s.Bits-1) && f < math.Ldexp(1, s.Bits-1) {
			return json.Number(strconv.FormatInt(int64(f), 10)), true
		}
		n.add(n.pathAt(at), "Value '"+string(num)+"' at '"+n.pathAt(at)+"' failed to satisfy constraint: Member must be an integer of "+strconv.Itoa(s.Bits)+" bits")
		return nil, false
	case wire.DocNumber:
		num, ok := v.(json.Number)
		if !ok {
			n.typeError(n.pathAt(at), "a number", v)
			return nil, false
		}
		if f, err := num.Float64(); err != nil || math.IsInf(f, 0) {
			n.add(n.pathAt(at), "Value '"+string(num)+"' at '"+n.pathAt(at)+"' failed to satisfy constraint: Member must be a finite number")
			return nil, false
		}
		return v, true
	case wire.DocTimestamp:
		return n.timestamp(v, at)
	case wire.DocBlob:
		str, ok := v.(string)
		if !ok {
			n.typeError(n.pathAt(at), "base64 text", v)
			return nil, false
		}
		if _, err := base64.StdEncoding.DecodeString(str); err != nil {
			n.add(n.pathAt(at), "Value at '"+n.pathAt(at)+"' failed to satisfy constraint: Member must be base64 text")
			return nil, false
		}
		return v, true
	}
	n.add(n.pathAt(at), "Value at '"+n.pathAt(at)+"' has a shape guardpost cannot read")
	return nil, false
}

// timestamp accepts epoch seconds (the wire form) or ISO-8601 text (what
// the AWS CLI prints with cli_timestamp_format=iso8601, and what boto3's
// datetimes become in a JSON dump) and returns epoch seconds, with the
// millisecond fraction the wire keeps.
func (n *normalizer) timestamp(v any, at int) (any, bool) {
	var t wire.Timestamp
	switch x := v.(type) {
	case json.Number:
		if err := t.UnmarshalJSON([]byte(x)); err != nil {
			n.add(n.pathAt(at), "Value '"+string(x)+"' at '"+n.pathAt(at)+"' failed to satisfy constraint: Member must be a timestamp: "+err.Error())
			return nil, false
		}
		return v, true
	case string:
		if err := t.UnmarshalJSON([]byte(x)); err == nil && x != "" {
			break // epoch seconds in a string
		}
		tm, ok := parseTime(x)
		if !ok {
			n.add(n.pathAt(at), "Value '"+x+"' at '"+n.pathAt(at)+"' failed to satisfy constraint: Member must be a timestamp: epoch seconds or ISO-8601 text such as 2024-01-01T00:00:00.000Z")
			return nil, false
		}
		t.Time = tm
	default:
		n.typeError(n.pathAt(at), "a timestamp (epoch seconds or ISO-8601 text)", v)
		return nil, false
	}
	b, err := t.MarshalJSON()
	if err != nil {
		n.add(n.pathAt(at), "Value '"+t.String()+"' at '"+n.pathAt(at)+"' failed to satisfy constraint: Member must be a timestamp")
		return nil, false
	}
	return json.Number(b), true
}

// timeLayouts are the ISO-8601 forms accepted: RFC 3339 (the AWS CLI),
// with a space for the T (Python's str of a datetime), and without a zone
// (read as UTC, as GuardDuty's times are).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// docPath is one step of the path of a value in a record. The normalizer
// keeps the steps to the value at hand on a stack, rendered (as the API's
// validation messages write paths) only for a violation.
type docPath struct {
	name  string // a member
	index int    // a list element, from 1
	key   string // a map value
}

// seg sets the step below depth at and returns the depth of its value.
func (n *normalizer) seg(at int, p docPath) int {
	n.stack = append(n.stack[:at], p)
	return at + 1
}

// pathAt renders the path of the value at depth at.
func (n *normalizer) pathAt(at int) string {
	path := ""
	for _, p := range n.stack[:at] {
		switch {
		case p.index > 0:
			path += "." + strconv.Itoa(p.index) + ".member"
		case p.name == "":
			path += "." + p.key + ".value"
		default:
			path = join(path, p.name)
		}
	}
	return path
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonKind names the JSON kind of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a JSON string"
	case json.Number:
		return "a JSON number"
	case bool:
		return "a JSON boolean"
	case []any:
		return "a JSON list"
	case map[string]any:
		return "a JSON object"
	}
	return "JSON null"
}

// Placeholders stand in, during validation only, for the required members
// the importer fills from the caller's identity.
var (
	placeholderAccount = "000000000000"
	placeholderText    = "placeholder"
)

// validate checks a normalized document against the model's constraints
// (required members, lengths, ranges, enums) with the generated validation
// of wire.Finding, plus the rules the model leaves to documentation.
func validate(doc map[string]any) error {
	b, err := marshalDoc(doc)
	if err != nil {
		return err
	}
	return validateEncoded(doc, b, doc["id"], doc["service"] != nil)
}

// validateEncoded is validate given a normalized document and b, its
// encoding; doc may have been stamped by the importer since (see
// guardpost.FindingImport.Stamp): id is the unstamped document's id (nil
// when absent) and hasService whether it had a service object, so that
// the answer is the unstamped document's.
func validateEncoded(doc map[string]any, b []byte, id any, hasService bool) error {
	var f wire.Finding
	if !fillWire(&f, doc) {
		f = wire.Finding{}
		if err := json.Unmarshal(b, &f); err != nil {
			// normalize checked every kind, so this is a guardpost defect.
			return errors.New("could not be read after normalization: " + err.Error())
		}
	}
	f.AccountId, f.Region, f.Arn, f.Partition = &placeholderAccount, &placeholderText, &placeholderText, nil
	if !hasService {
		f.Service = nil
	}
	if f.Service != nil {
		f.Service.DetectorId = nil
	}
	var extra []string
	if idText, ok := id.(string); !ok {
		f.Id = &placeholderText
	} else {
		f.Id = &idText
		if n := utf8.RuneCountInString(idText); n < 1 || n > 300 {
			// GetFindings can name only ids of 1 to 300 characters.
			extra = append(extra, "Value '"+idText+"' at 'id' failed to satisfy constraint: Member must have length between 1 and 300")
		}
	}
	// GuardDuty's severities run from 1.0 (low) to 10.0 (critical).
	if f.Severity != nil && (*f.Severity < 1 || *f.Severity > 10) {
		extra = append(extra, "Value '"+strconv.FormatFloat(*f.Severity, 'g', -1, 64)+"' at 'severity' failed to satisfy constraint: Member must have value between 1.0 and 10.0")
	}
	// These dates are strings in the model, but GuardDuty sorts and filters
	// on them as times, so they must read as ISO-8601.
	for _, d := range []struct {
		path string
		v    *string
	}{{"createdAt", f.CreatedAt}, {"updatedAt", f.UpdatedAt}} {
		if d.v != nil && !isISOTime(*d.v) {
			extra = append(extra, "Value '"+*d.v+"' at '"+d.path+"' failed to satisfy constraint: Member must be an ISO-8601 date and time such as 2024-01-01T00:00:00.000Z")
		}
	}
	if f.Service != nil {
		for _, d := range []struct {
			path string
			v    *string
		}{{"service.eventFirstSeen", f.Service.EventFirstSeen}, {"service.eventLastSeen", f.Service.EventLastSeen}} {
			if d.v != nil && !isISOTime(*d.v) {
				extra = append(extra, "Value '"+*d.v+"' at '"+d.path+"' failed to satisfy constraint: Member must be an ISO-8601 date and time such as 2024-01-01T00:00:00.000Z")
			}
		}
	}
	err := f.Validate()
	if len(extra) == 0 {
		return err
	}
	var ve *wire.ValidationError
	if errors.As(err, &ve) {
		extra = append(extra, ve.Violations...)
	}
	return &wire.ValidationError{Violations: extra}
}

// isISOTime reports whether s is a time the domain can sort on (RFC 3339).
func isISOTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
