// Package findingrec is how a store keeps a finding on disk: its document
// compressed, and a record of the values queries and the index need
// (severity, times, resource, sort keys and every filter attribute value)
// in a compact binary form, so that an index can be built without parsing
// JSON and a stored finding rewritten without re-reading its document.
//
// Records name attributes by the stable numbers of the registry
// (attributes.txt), never by their position in guardpost.FilterAttributes,
// which may grow anywhere: a record written today means the same to every
// later version, and a store can check at open that its database and its
// code agree on every number (see Codec.Check).
package findingrec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/guardpost/guardpost"
)

// Codec writes and reads records for one attribute table (the code's, in
// production; another in the tests that change it).
type Codec struct {
	filters  []guardpost.FilterAttribute
	sorts    []guardpost.SortAttribute
	filterID []uint32 // stable id by position in filters
	sortID   []uint32 // stable id by position in sorts
	// position of each id in filters (isSort false) or sorts; -1 when this
	// table has no such attribute.
	pos    []int32
	isSort []bool
}

// NewCodec maps the attribute tables to their registry numbers. Every
// attribute must have an entry with its name, kind and path.
func NewCodec(reg []Entry, filters []guardpost.FilterAttribute, sorts []guardpost.SortAttribute) (*Codec, error) {
	c := &Codec{filters: filters, sorts: sorts, filterID: make([]uint32, len(filters)), sortID: make([]uint32, len(sorts)),
		pos: make([]int32, len(reg)+1), isSort: make([]bool, len(reg)+1)}
	for i := range c.pos {
		c.pos[i] = -1
	}
	type key struct {
		space, name, path string
		kind              guardpost.ValueKind
	}
	ids := make(map[key]uint32, len(reg))
	for _, e := range reg {
		ids[key{e.Space, e.Name, e.Path, e.Kind}] = e.ID
	}
	var missing []string
	for i, a := range filters {
		id, ok := ids[key{"filter", a.Name, a.Path, a.Kind}]
		if !ok {
			missing = append(missing, Entry{ID: uint32(len(reg) + len(missing) + 1), Space: "filter", Kind: a.Kind, Name: a.Name, Path: a.Path}.String())
			continue
		}
		c.filterID[i], c.pos[id] = id, int32(i)
	}
	for i, a := range sorts {
		id, ok := ids[key{"sort", a.Name, "", a.Kind}]
		if !ok {
			missing = append(missing, Entry{ID: uint32(len(reg) + len(missing) + 1), Space: "sort", Kind: a.Kind, Name: a.Name}.String())
			continue
		}
		c.sortID[i], c.pos[id], c.isSort[id] = id, int32(i), true
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("findingrec: %d attributes have no registry number; append to findingrec/attributes.txt:\n%s",
			len(missing), joinLines(missing))
	}
	return c, nil
}

func joinLines(ls []string) string {
	var b []byte
	for _, l := range ls {
		b = append(append(b, l...), '\n')
	}
	return string(b)
}

var (
	defaultCodec    *Codec
	defaultCodecErr error
)

func init() {
	defaultCodec, defaultCodecErr = NewCodec(registry, guardpost.FilterAttributes, guardpost.SortAttributes)
}

// Default returns the codec of the code's attribute tables, or the error
// that says which attribute lacks a registry number (a build defect the
// tests catch; a store refuses to open with it).
func Default() (*Codec, error) { return defaultCodec, defaultCodecErr }

// The record format, version 1:
//
//	byte     format version (1)
//	byte     flags: 1 = archived
//	8 bytes  severity, IEEE 754 little endian
//	varint   createdAt, epoch ms
//	varint   updatedAt, epoch ms
//	string   resource type
//	string   resource id
//	uvarint  number of sort keys, then each: uvarint id, value
//	uvarint  number of attribute values, then each: uvarint id, value
//
// A string is a uvarint length and the bytes. A value is a tag byte then:
// tagText, a string; tagNum, 8 bytes of number (a sort key, or an attribute
// value whose text is the number's canonical form); tagNumText, the number
// and a string.
const (
	formatV1 = 1

	tagText    = 0
	tagNum     = 1
	tagNumText = 2

	flagArchived = 1
)

// Append appends f's record to dst.
func (c *Codec) Append(dst []byte, f *guardpost.Finding) ([]byte, error) {
	rec, _, err := c.AppendSplit(dst, f)
	return rec, err
}

// AppendSplit is Append that also says how long the record's head is (what
// HeadSize would read back from it), without reading the record again.
func (c *Codec) AppendSplit(dst []byte, f *guardpost.Finding) (rec []byte, head int, err error) {
	start := len(dst)
	if len(f.SortKeys) > len(c.sorts) {
		return nil, 0, fmt.Errorf("findingrec: finding %s has %d sort keys, want at most %d", f.ID, len(f.SortKeys), len(c.sorts))
	}
	var flags byte
	if f.Archived {
		flags |= flagArchived
	}
	dst = append(dst, formatV1, flags)
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f.Severity))
	dst = binary.AppendVarint(dst, f.CreatedAt.UnixMilli())
	dst = binary.AppendVarint(dst, f.UpdatedAt.UnixMilli())
	dst = appendString(dst, f.ResourceType)
	dst = appendString(dst, f.ResourceID)
	n := 0
	for _, k := range f.SortKeys {
		if k != nil {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for i, k := range f.SortKeys {
		switch k := k.(type) {
		case nil:
			continue
		case float64:
			dst = binary.AppendUvarint(dst, uint64(c.sortID[i]))
			dst = append(dst, tagNum)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(k))
		case string:
			dst = binary.AppendUvarint(dst, uint64(c.sortID[i]))
			dst = append(dst, tagText)
			dst = appendString(dst, k)
		default:
			return nil, 0, fmt.Errorf("findingrec: finding %s: sort key %d is a %T, want float64, string or nil", f.ID, i, k)
		}
	}
	head = len(dst) - start // the head ends where the attribute values begin
	dst = binary.AppendUvarint(dst, uint64(len(f.Attributes)))
	for _, v := range f.Attributes {
		if v.Attribute < 0 || v.Attribute >= len(c.filters) {
			return nil, 0, fmt.Errorf("findingrec: finding %s: attribute %d does not exist", f.ID, v.Attribute)
		}
		dst = binary.AppendUvarint(dst, uint64(c.filterID[v.Attribute]))
		switch {
		case !v.IsNum:
			dst = append(dst, tagText)
			dst = appendString(dst, v.Text)
		case isDerivedText(c.filters[v.Attribute].Kind, v.Num, v.Text):
			dst = append(dst, tagNum)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Num))
		default:
			dst = append(dst, tagNumText)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Num))
			dst = appendString(dst, v.Text)
		}
	}
	return dst, head, nil
}

// derivedText is the text a numeric value of the kind has when it was
// written in its canonical form (see guardpost.FindingAttributes), or ""
// when the kind's text cannot be derived from its number.
func derivedText(kind guardpost.ValueKind, n float64) string {
	switch kind {
	case guardpost.KindNumber:
		return strconv.FormatFloat(n, 'f', -1, 64)
	case guardpost.KindBool:
		if n != 0 {
			return "true"
		}
		return "false"
	}
	return "\x00" // never a value's text
}

// isDerivedText is derivedText(kind, n) == text, without making the
// number's text a string (Append asks it of every numeric value).
func isDerivedText(kind guardpost.ValueKind, n float64, text string) bool {
	if kind == guardpost.KindNumber {
		var buf [32]byte
		return string(strconv.AppendFloat(buf[:0], n, 'f', -1, 64)) == text
	}
	return derivedText(kind, n) == text
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// ErrCorrupt is returned for a record that cannot be read.
var ErrCorrupt = errors.New("findingrec: corrupt record")

// Decode fills f's Archived, Severity, CreatedAt, UpdatedAt, ResourceType,
// ResourceID, SortKeys and Attributes from rec. The strings it sets share
// one allocation, made from rec; whoever keeps a few of them for long
// (an index) should clone them. rec is not retained.
func (c *Codec) Decode(rec []byte, f *guardpost.Finding) error { return c.decode(rec, f, true) }

// DecodeHead is Decode without the attribute values (f.Attributes is left
// nil): what a reader that only returns or sorts findings needs, at a
// fraction of the cost.
func (c *Codec) DecodeHead(rec []byte, f *guardpost.Finding) error {
	_, err := c.decodeAt(rec, f, false)
	return err
}

// HeadSize returns the length of rec's head: the bytes DecodeHead reads,
// which are all it needs (see CompressSplit).
func (c *Codec) HeadSize(rec []byte) (int, error) {
	var f guardpost.Finding
	return c.decodeAt(rec, &f, false)
}

func (c *Codec) decode(rec []byte, f *guardpost.Finding, attributes bool) error {
	_, err := c.decodeAt(rec, f, attributes)
	return err
}

// decodeAt is decode, returning where in rec it stopped.
func (c *Codec) decodeAt(rec []byte, f *guardpost.Finding, attributes bool) (int, error) {
	r := reader{b: rec}
	if r.byte() != formatV1 {
		return 0, fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	// With the attribute values, strings are substrings of one copy of the
	// record: one allocation instead of dozens. The head alone has a few
	// strings, which get their own, so that a finding kept for its head (a
	// cache) does not keep the whole record alive.
	if attributes {
		r.s = string(rec)
	}
	flags := r.byte()
	f.Archived = flags&flagArchived != 0
	f.Severity = r.float()
	f.CreatedAt = time.UnixMilli(r.varint()).UTC()
	f.UpdatedAt = time.UnixMilli(r.varint()).UTC()
	f.ResourceType = r.string()
	f.ResourceID = r.string()
	f.SortKeys = make([]any, len(c.sorts))
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		pos, ok := c.position(&r, true)
		tag := r.byte()
		var k any
		switch tag {
		case tagNum:
			k = r.float()
		case tagText:
			k = r.string()
		default:
			r.fail("sort key tag")
		}
		if ok {
			f.SortKeys[pos] = k
		}
	}
	if !attributes {
		f.Attributes = nil
		return r.off, r.err
	}
	n := r.uvarint()
	if n > uint64(len(rec)) {
		r.fail("attribute count")
		n = 0
	}
	attrs := make([]guardpost.AttributeValue, 0, n)
	sorted := true
	for ; n > 0 && r.err == nil; n-- {
		pos, ok := c.position(&r, false)
		var v guardpost.AttributeValue
		switch r.byte() {
		case tagText:
			v.Text = r.string()
		case tagNum:
			v.Num, v.IsNum = r.float(), true
			if ok {
				v.Text = derivedText(c.filters[pos].Kind, v.Num)
			}
		case tagNumText:
			v.Num, v.IsNum = r.float(), true
			v.Text = r.string()
		default:
			r.fail("attribute tag")
		}
		if !ok {
			continue // an attribute this code has dropped: nothing can ask for it
		}
		v.Attribute = pos
		if len(attrs) > 0 && attrs[len(attrs)-1].Attribute > pos {
			sorted = false
		}
		attrs = append(attrs, v)
	}
	if r.err != nil {
		return 0, r.err
	}
	if r.off != len(rec) {
		return 0, fmt.Errorf("%w: %d bytes after the end", ErrCorrupt, len(rec)-r.off)
	}
	if !sorted {
		// Written under a table in another order: restore the order of
		// guardpost.FindingAttributes (by attribute, document order within).
		slices.SortStableFunc(attrs, func(a, b guardpost.AttributeValue) int { return a.Attribute - b.Attribute })
	}
	f.Attributes = attrs
	return r.off, nil
}

// position reads an attribute number and returns where that attribute
// sits in the codec's tables, or false when the code no longer has it. A
// number the registry does not know is corruption (a store checks at open
// that its database uses no number its code does not know), and so is a
// number of the other space.
func (c *Codec) position(r *reader, sort bool) (int, bool) {
	id := r.uvarint()
	if id == 0 || id >= uint64(len(c.pos)) {
		r.fail("attribute number")
		return 0, false
	}
	p := c.pos[id]
	if p >= 0 && c.isSort[id] != sort {
		r.fail("attribute number")
		return 0, false
	}
	return int(p), p >= 0
}

type reader struct {
	b   []byte
	s   string // string(b), for substrings
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s at byte %d", ErrCorrupt, what, r.off)
	}
	r.off = len(r.b)
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.fail("length")
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) float() float64 {
	if len(r.b)-r.off < 8 {
		r.fail("number")
		return 0
	}
	r.off += 8
	return math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off-8:]))
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("uvarint")
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.off += n
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.off) {
		r.fail("string length")
		return ""
	}
	var s string
	if r.s != "" {
		s = r.s[r.off : r.off+int(n)]
	} else {
		s = string(r.b[r.off : r.off+int(n)])
	}
	r.off += int(n)
	return s
}
