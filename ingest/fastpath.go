package ingest

import (
	"bytes"
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

// The fast path. prepare's general path decodes a record into a tree,
// normalizes it, stamps it, encodes it, fills a wire.Finding from it to
// run the model's validation and walks the tree again for the indexed
// fields: most of an import's CPU and garbage. fastPrepare reads a record
// in the common form (exact wire names, epoch-second timestamps, no null,
// no unknown member: the form GetFindings returns and exports hold) in one
// pass over its bytes, checking each value against wire.FindingDoc (its
// kind, and the model's constraints through the generated checks),
// writing the stamped canonical document (json.Marshal's bytes: keys
// sorted, strings escaped its way) and collecting on the way the values
// the stored finding is made of: its filter attribute values and sort
// keys (through guardpost.AttributeValueOf and SortKeyOf), its identity,
// times and resource. A record it does not handle, or one that fails any
// check, goes to the general path, which then answers as it always did:
// the fast path has no error of its own.

// pathNode is one step of the paths of the values a stored finding is
// made of.
type pathNode struct {
	children map[string]*pathNode
	// members are the children by member of the structure found here
	// (see wire.FindingDoc), nil where no path goes on.
	members []*pathNode
	attrs   []int // the filter attributes (guardpost.FilterAttributes) whose path ends here
	sorts   []int // the sort attributes (guardpost.SortAttributes) whose path ends here
	// keep: on the way to what guardpost.ResourceIdentity reads, so the
	// value is kept in the resource's tree.
	keep bool
	// found: a value of the Finding object or its service that the
	// stored finding or validateEncoded reads (see fastDoc.found).
	found bool
}

var indexedPaths = sync.OnceValue(func() *pathNode {
	root := &pathNode{}
	add := func(path string) *pathNode {
		n := root
		for part := range strings.SplitSeq(path, ".") {
			if n.children == nil {
				n.children = map[string]*pathNode{}
			}
			c := n.children[part]
			if c == nil {
				c = &pathNode{}
				n.children[part] = c
			}
			n = c
		}
		return n
	}
	for i, a := range guardpost.FilterAttributes {
		path := a.Path
		if path == "" {
			path = a.Name
		}
		n := add(path)
		n.attrs = append(n.attrs, i)
	}
	for i, a := range guardpost.SortAttributes {
		n := add(a.Name)
		n.sorts = append(n.sorts, i)
	}
	// What the finding itself is made of, and validateEncoded checks.
	for _, p := range []string{"id", "type", "severity", "createdAt", "updatedAt", "service.archived",
		"service.eventFirstSeen", "service.eventLastSeen", "service.detectorId",
		"accountId", "region", "partition", "arn"} {
		add(p).found = true
	}
	res := add("resource")
	res.keep, res.found = true, true
	for _, p := range guardpost.ResourceIdentityPaths() {
		path := "resource"
		for part := range strings.SplitSeq(p, ".") {
			path += "." + part
			add(path).keep = true
		}
	}
	root.index(0)
	return root
})

// index sets the members of n and of the nodes below it, n being where
// a value of shape si is.
func (n *pathNode) index(si int) {
	s := &wire.FindingDoc[si]
	switch s.Kind {
	case wire.DocList:
		n.index(s.Elem) // lists are not steps of a path
	case wire.DocMap:
		for _, c := range n.children {
			c.index(s.Elem)
		}
	case wire.DocStructure:
		n.members = make([]*pathNode, len(s.Members))
		for j, m := range s.Members {
			if c := n.children[m.JSON]; c != nil {
				n.members[j] = c
				c.index(m.Shape)
			}
		}
	}
}

// shapeInfo is what the fast path needs of each wire.FindingDoc shape.
type shapeInfo struct {
	members map[string]int // structures: exact wire name -> member
	// sorted are the members in the order of their wire names (a
	// canonical document's), with their names and places: the member
	// after the one read last is tried before the map.
	sorted []int
	names  []string // of sorted
	place  []int    // by member: its index in sorted
	enum   bool     // strings: an enum
}

// member returns the member that key names; next is the place (in
// sorted) after the previous member's.
func (info *shapeInfo) member(key []byte, next int) (int, bool) {
	if next < len(info.names) && string(key) == info.names[next] {
		return info.sorted[next], true
	}
	j, ok := info.members[string(key)]
	return j, ok
}

var shapeInfos = sync.OnceValue(func() []shapeInfo {
	infos := make([]shapeInfo, len(wire.FindingDoc))
	for i, s := range wire.FindingDoc {
		if s.Kind == wire.DocString {
			_, infos[i].enum = wire.EnumValues[s.Name]
		}
		if s.Kind == wire.DocStructure && len(s.Members) <= 64 { // seen is a uint64
			info := &infos[i]
			info.members = map[string]int{}
			info.place = make([]int, len(s.Members))
			for j, m := range s.Members {
				info.members[m.JSON] = j
				info.sorted = append(info.sorted, j)
			}
			slices.SortFunc(info.sorted, func(a, b int) int { return strings.Compare(s.Members[a].JSON, s.Members[b].JSON) })
			for k, j := range info.sorted {
				info.names = append(info.names, s.Members[j].JSON)
				info.place[j] = k
			}
		}
	}
	return infos
})

// fastDoc is the state of one record's fast reading; pooled.
type fastDoc struct {
	data  []byte
	i     int
	out   []byte // the stamped document being written
	spans []span // stack of the members written of the objects being read
	tmp   []byte // unescaped strings; reordered members
	infos []shapeInfo
	stamp stampValues

	// What the stored finding is made of, collected on the way.
	attrs    []guardpost.AttributeValue // in document order
	order    []uint32                   // see orderedAttributes
	sortKeys []any
	arena    []byte // the bytes of the strings kept (see keep)
	finding  foundValues
	last     scalar // the last scalar read at a node
	verbatim bool   // see stringLit
}

// scalar is a scalar value of a document: kind is its shape's kind
// (DocString and DocBlob: str, DocBoolean: b, the numbers: num).
type scalar struct {
	kind wire.DocKind
	str  string
	num  float64
	b    bool
}

type stampValues struct {
	accountID, region, partition, arnPrefix, detectorID string
}

// foundValues are the Finding object's own values the stored finding and
// validateEncoded's checks need.
type foundValues struct {
	id, typ, createdAt, updatedAt, eventFirstSeen, eventLastSeen string
	severity                                                     float64
	hasSeverity, archived                                        bool
	resource                                                     map[string]any
}

// span is one member written to out: out[start:end] is "key":value.
type span struct {
	key        []byte
	start, end int
}

var fastDocs = sync.Pool{New: func() any { return &fastDoc{out: make([]byte, 0, 16<<10)} }}

// fastPrepare is prepare for a record the fast path handles; ok false
// sends the record to the general path.
func fastPrepare(im *guardpost.FindingImport, rec Record) (*guardpost.Finding, bool) {
	d := fastDocs.Get().(*fastDoc)
	d.data, d.i, d.out, d.spans, d.infos = rec.JSON, 0, d.out[:0], d.spans[:0], shapeInfos()
	d.stamp.accountID, d.stamp.region, d.stamp.partition, d.stamp.arnPrefix, d.stamp.detectorID = im.StampValues()
	d.attrs, d.finding, d.arena = d.attrs[:0], foundValues{}, nil
	d.sortKeys = make([]any, len(guardpost.SortAttributes))
	f, ok := d.read()
	clear(d.spans[:cap(d.spans)])
	clear(d.attrs[:cap(d.attrs)])
	d.data, d.sortKeys, d.arena, d.finding, d.last = nil, nil, nil, foundValues{}, scalar{} // the pool keeps no record's values
	fastDocs.Put(d)
	return f, ok
}

// maxFastNesting bounds the recursion well below encoding/json's limit.
const maxFastNesting = 100

func (d *fastDoc) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end.
func (d *fastDoc) peek() byte {
	d.space()
	if d.i >= len(d.data) {
		return 0
	}
	return d.data[d.i]
}

// read reads the record, a Finding object and nothing after it, and makes
// the stored finding findingFromTree makes of it.
func (d *fastDoc) read() (*guardpost.Finding, bool) {
	if d.peek() != '{' {
		return nil, false
	}
	if d.envelope() {
		if !d.event() {
			return nil, false
		}
	} else if _, ok := d.object(0, indexedPaths(), 1, stampRoot, false); !ok {
		return nil, false
	}
	if d.peek() != 0 {
		return nil, false
	}
	v := &d.finding
	// validateEncoded's checks beyond the model's.
	if v.hasSeverity && (v.severity < 1 || v.severity > 10) {
		return nil, false
	}
	for _, t := range []string{v.eventFirstSeen, v.eventLastSeen} {
		if t != "" && !isISOTime(t) {
			return nil, false
		}
	}
	// findingFromTree's.
	if d.stamp.accountID == "" || d.stamp.region == "" || v.id == "" || v.typ == "" || !v.hasSeverity {
		return nil, false
	}
	created, err := time.Parse(time.RFC3339Nano, v.createdAt)
	if err != nil {
		return nil, false
	}
	updated, err := time.Parse(time.RFC3339Nano, v.updatedAt)
	if err != nil {
		return nil, false
	}
	f := &guardpost.Finding{
		AccountID: d.stamp.accountID, Region: d.stamp.region, DetectorID: d.stamp.detectorID,
		ID: v.id, Type: v.typ, Severity: v.severity, Archived: v.archived,
		CreatedAt: created.UTC(), UpdatedAt: updated.UTC(),
		SortKeys:   d.sortKeys,
		Attributes: d.orderedAttributes(),
		Document:   slices.Clone(d.out), // exact size: kept until written
	}
	if v.resource != nil {
		f.ResourceType, f.ResourceID = guardpost.ResourceIdentity(v.resource)
	}
	return f, true
}

// orderedAttributes returns the attribute values collected, in a slice of
// their own, in guardpost.OrderAttributes' order (by attribute, document
// order within one). It sorts their positions rather than the values:
// moving a value (it holds a string) costs a write barrier each time
// while the collector runs, which made a stable sort of the values a
// quarter of the fast path's time.
func (d *fastDoc) orderedAttributes() []guardpost.AttributeValue {
	if len(d.attrs) == 0 || len(d.attrs) >= 1<<20 || len(guardpost.FilterAttributes) >= 1<<11 {
		return guardpost.OrderAttributes(d.attrs)
	}
	d.order = d.order[:0]
	for i, av := range d.attrs {
		d.order = append(d.order, uint32(av.Attribute)<<20|uint32(i)) // unique: a sort by attribute, then position
	}
	slices.Sort(d.order)
	out := make([]guardpost.AttributeValue, len(d.attrs))
	for i, k := range d.order {
		out[i] = d.attrs[k&(1<<20-1)]
	}
	return out
}

// keep returns b as a string the finding may keep. The strings of one
// record share a few allocations: the record's values are kept as long as
// its finding, no longer (the index copies what it keeps).
func (d *fastDoc) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(d.arena)-len(d.arena) < len(b) {
		d.arena = make([]byte, 0, max(len(b), 2048))
	}
	start := len(d.arena)
	d.arena = append(d.arena, b...) // within capacity: earlier strings stay put
	return unsafe.String(&d.arena[start], len(b))
}

// leaf records a scalar value met at node: its filter attribute values
// and, outside lists, its sort keys.
func (d *fastDoc) leaf(node *pathNode, v any, inList bool) {
	for _, a := range node.attrs {
		if av, ok := guardpost.AttributeValueOf(a, v); ok {
			d.attrs = append(d.attrs, av)
		}
	}
	if !inList {
		for _, i := range node.sorts {
			d.sortKeys[i] = guardpost.SortKeyOf(i, v)
		}
	}
}

// Stamped members of the Finding object (see FindingImport.Stamp).
var (
	keyAccountID  = []byte("accountId")
	keyArn        = []byte("arn")
	keyID         = []byte("id")
	keyPartition  = []byte("partition")
	keyRegion     = []byte("region")
	keyService    = []byte("service")
	keyDetectorID = []byte("detectorId")
)

// stampMode says which members of an object the importer sets.
type stampMode uint8

const (
	stampNone    stampMode = iota
	stampRoot              // the Finding: accountId, arn, partition, region, id when absent
	stampService           // its service: detectorId
)

// stamped reports whether member name of an object read in mode is set by
// the importer: such a member is read for its kind only (validateEncoded
// checks the caller's values, not these) and written with the caller's.
func (mode stampMode) stamped(name string) bool {
	switch mode {
	case stampRoot:
		return name == "accountId" || name == "arn" || name == "partition" || name == "region"
	case stampService:
		return name == "detectorId"
	}
	return false
}

// object reads the structure of shape si at d.i ('{') and writes it. It
// returns the structure's kept values when node.keep (see pathNode).
func (d *fastDoc) object(si int, node *pathNode, depth int, mode stampMode, inList bool) (map[string]any, bool) {
	s, info := &wire.FindingDoc[si], &d.infos[si]
	if info.members == nil || depth > maxFastNesting {
		return nil, false
	}
	var tree map[string]any
	if node != nil && node.keep {
		tree = make(map[string]any)
	}
	d.i++ // '{'
	objStart := len(d.out)
	d.out = append(d.out, '{')
	firstSpan := len(d.spans)
	var seen uint64
	next := 0 // see shapeInfo.member
	arnAt := -1
	if d.peek() == '}' {
		d.i++
	} else {
		for {
			if d.peek() != '"' {
				return nil, false
			}
			raw, plain, ok := d.stringLit()
			if !ok || !plain {
				return nil, false
			}
			j, known := info.member(raw, next)
			if !known || seen&(1<<j) != 0 {
				return nil, false // unknown, PascalCase or repeated: the general path's
			}
			seen |= 1 << j
			next = info.place[j] + 1
			if d.peek() != ':' {
				return nil, false
			}
			d.i++
			m := &s.Members[j]
			var child *pathNode
			if node != nil {
				child = node.members[j]
			}
			check := m.Check
			stamped := mode.stamped(m.JSON)
			if stamped {
				check, child = nil, nil
			}
			childMode := stampNone
			if mode == stampRoot && m.JSON == "service" {
				childMode = stampService
			}
			if len(d.spans) > firstSpan {
				d.out = append(d.out, ',')
			}
			start := len(d.out)
			d.out = append(d.out, '"')
			d.out = append(d.out, m.JSON...)
			d.out = append(d.out, '"', ':')
			valueAt := len(d.out)
			v, ok := d.value(m.Shape, child, check, depth+1, childMode, inList)
			if !ok {
				return nil, false
			}
			if stamped {
				// The caller's value, in the same place; the arn ends
				// with the id, which may come later: it is written then.
				d.out = d.out[:valueAt]
				switch m.JSON {
				case "accountId":
					d.out = appendString(d.out, d.stamp.accountID)
				case "partition":
					d.out = appendString(d.out, d.stamp.partition)
				case "region":
					d.out = appendString(d.out, d.stamp.region)
				case "detectorId":
					d.out = appendString(d.out, d.stamp.detectorID)
				case "arn":
					arnAt = valueAt
				}
			} else if child != nil && child.found && !d.found(mode, m.JSON, v) {
				return nil, false
			}
			d.spans = append(d.spans, span{key: raw, start: start, end: len(d.out)})
			if tree != nil && child != nil && child.keep {
				tree[m.JSON] = v
			}
			switch d.peek() {
			case ',':
				d.i++
				continue
			case '}':
				d.i++
			default:
				return nil, false
			}
			break
		}
	}
	for j := range s.Members {
		m := &s.Members[j]
		if m.Required && seen&(1<<j) == 0 && !(mode == stampRoot && (m.JSON == "id" || mode.stamped(m.JSON))) {
			return nil, false // validateEncoded checks placeholders for the importer's
		}
	}
	member := func(name string) bool { return seen&(1<<info.members[name]) != 0 }
	stampLeaf := func(name, v string) {
		if c := node.children[name]; c != nil {
			d.leaf(c, v, inList)
		}
	}
	switch mode {
	case stampRoot:
		id := d.finding.id
		if id == "" {
			id = guardpost.NewID()
			d.finding.id = id
			d.stampMember(firstSpan, keyID, id)
			stampLeaf("id", id)
		}
		arn := d.stamp.arnPrefix + id
		if arnAt >= 0 {
			d.insertString(arnAt, arn, firstSpan)
		} else {
			d.stampMember(firstSpan, keyArn, arn)
		}
		if !member("accountId") {
			d.stampMember(firstSpan, keyAccountID, d.stamp.accountID)
		}
		if !member("partition") {
			d.stampMember(firstSpan, keyPartition, d.stamp.partition)
		}
		if !member("region") {
			d.stampMember(firstSpan, keyRegion, d.stamp.region)
		}
		stampLeaf("accountId", d.stamp.accountID)
		stampLeaf("region", d.stamp.region)
		stampLeaf("partition", d.stamp.partition)
		stampLeaf("arn", arn)
		if !member("service") {
			if len(d.spans) > firstSpan {
				d.out = append(d.out, ',')
			}
			start := len(d.out)
			d.out = append(d.out, `"service":{"detectorId":`...)
			d.out = appendString(d.out, d.stamp.detectorID)
			d.out = append(d.out, '}')
			d.spans = append(d.spans, span{key: keyService, start: start, end: len(d.out)})
			if c := node.children["service"]; c != nil {
				if dc := c.children["detectorId"]; dc != nil {
					d.leaf(dc, d.stamp.detectorID, inList)
				}
			}
		}
	case stampService:
		if !member("detectorId") {
			d.stampMember(firstSpan, keyDetectorID, d.stamp.detectorID)
		}
		if node != nil {
			stampLeaf("detectorId", d.stamp.detectorID)
		}
	}
	if !d.closeObject(objStart, firstSpan) {
		return nil, false
	}
	return tree, true
}

// found notes the values of the Finding object and of its service that
// make the stored finding or that validateEncoded checks. false for an id
// GetFindings could not name.
//
// v is the value read when it is a structure or a list; a scalar is
// d.last (not boxed into v: that would cost an allocation each).
func (d *fastDoc) found(mode stampMode, name string, v any) bool {
	f, last := &d.finding, &d.last
	str := func() string {
		if last.kind == wire.DocString {
			return last.str
		}
		return ""
	}
	switch mode {
	case stampRoot:
		switch name {
		case "id":
			f.id = str()
			if n := utf8.RuneCountInString(f.id); n < 1 || n > 300 {
				return false
			}
		case "type":
			f.typ = str()
		case "severity":
			f.severity, f.hasSeverity = last.num, last.kind == wire.DocNumber
		case "createdAt":
			f.createdAt = str()
		case "updatedAt":
			f.updatedAt = str()
		case "resource":
			f.resource, _ = v.(map[string]any)
		}
	case stampService:
		switch name {
		case "archived":
			f.archived = last.kind == wire.DocBoolean && last.b
		case "eventFirstSeen":
			f.eventFirstSeen = str()
		case "eventLastSeen":
			f.eventLastSeen = str()
		}
	}
	return true
}

// insertString inserts value, encoded, at out[at], moving what follows
// and the spans of the object's members (spans[firstSpan:]) after it.
func (d *fastDoc) insertString(at int, value string, firstSpan int) {
	d.tmp = appendString(d.tmp[:0], value)
	n := len(d.tmp)
	d.out = append(d.out, d.tmp...) // room
	copy(d.out[at+n:], d.out[at:len(d.out)-n])
	copy(d.out[at:], d.tmp)
	for k := firstSpan; k < len(d.spans); k++ {
		sp := &d.spans[k]
		if sp.start >= at {
			sp.start += n
		}
		if sp.end >= at {
			sp.end += n
		}
	}
}

// stampMember appends a string member to the object whose members'
// spans begin at firstSpan.
func (d *fastDoc) stampMember(firstSpan int, key []byte, value string) {
	if len(d.spans) > firstSpan {
		d.out = append(d.out, ',')
	}
	start := len(d.out)
	d.out = append(d.out, '"')
	d.out = append(d.out, key...)
	d.out = append(d.out, '"', ':')
	d.out = appendString(d.out, value)
	d.spans = append(d.spans, span{key: key, start: start, end: len(d.out)})
}

// closeObject ends the object begun at out[objStart] whose members are
// spans[firstSpan:], putting its members in json.Marshal's order (sorted
// by key) when they are not already. false for a repeated key.
func (d *fastDoc) closeObject(objStart, firstSpan int) bool {
	spans := d.spans[firstSpan:]
	sorted := true
	for k := 1; k < len(spans); k++ {
		c := bytes.Compare(spans[k-1].key, spans[k].key)
		if c == 0 {
			return false
		}
		if c > 0 {
			sorted = false
		}
	}
	if !sorted {
		slices.SortFunc(spans, func(a, b span) int { return bytes.Compare(a.key, b.key) })
		for k := 1; k < len(spans); k++ {
			if bytes.Equal(spans[k-1].key, spans[k].key) {
				return false
			}
		}
		d.tmp = append(d.tmp[:0], d.out[objStart:]...)
		d.out = d.out[:objStart+1]
		for k, sp := range spans {
			if k > 0 {
				d.out = append(d.out, ',')
			}
			d.out = append(d.out, d.tmp[sp.start-objStart:sp.end-objStart]...)
		}
	}
	d.out = append(d.out, '}')
	clear(spans)
	d.spans = d.spans[:firstSpan]
	return true
}

// value reads and writes one value of shape si whose constraints are
// check. For a node (a path to the stored finding's values goes here) it
// returns the value: scalars as the general path's tree holds them
// (string, float64, bool), and structures and lists when node.keep.
func (d *fastDoc) value(si int, node *pathNode, check *wire.DocCheck, depth int, mode stampMode, inList bool) (any, bool) {
	c := d.peek()
	if c == 'n' || c == 0 {
		return nil, false // null is absent to the general path; its business
	}
	s := &wire.FindingDoc[si]
	switch s.Kind {
	case wire.DocStructure:
		if c != '{' {
			return nil, false
		}
		tree, ok := d.object(si, node, depth, mode, inList)
		if !ok || tree == nil {
			return nil, ok
		}
		return tree, true
	case wire.DocList:
		if c != '[' || depth > maxFastNesting {
			return nil, false
		}
		return d.list(s.Elem, node, check, depth)
	case wire.DocMap:
		if c != '{' || depth > maxFastNesting {
			return nil, false
		}
		return d.mapValue(s.Elem, node, check, depth, inList)
	case wire.DocString, wire.DocBlob:
		if c != '"' {
			return nil, false
		}
		str, ok := d.stringValue()
		if !ok {
			return nil, false
		}
		if s.Kind == wire.DocString {
			if len(str) == 0 && d.infos[si].enum {
				return nil, false // an enum's "" is absent to the general path
			}
			if check != nil && check.Text != nil && !check.Text(checkedString(str)) {
				return nil, false
			}
		} else {
			b, err := base64.StdEncoding.DecodeString(string(str))
			if err != nil || check != nil && check.Blob != nil && !check.Blob(b) {
				return nil, false
			}
		}
		if node == nil {
			return nil, true
		}
		kept := d.keep(str)
		d.last = scalar{kind: s.Kind, str: kept}
		d.leaf(node, kept, inList)
		if !node.keep {
			return nil, true // boxing the string would cost an allocation
		}
		return kept, true
	case wire.DocBoolean:
		switch {
		case d.literal("true"):
			d.last = scalar{kind: s.Kind, b: true}
		case d.literal("false"):
			d.last = scalar{kind: s.Kind}
		default:
			return nil, false
		}
	case wire.DocInteger:
		lit, f, ok := d.number()
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseInt(string(lit), 10, s.Bits)
		if err != nil || check != nil && check.Integer != nil && !check.Integer(n) {
			return nil, false // 5.0, say, is the general path's to rewrite
		}
		d.last = scalar{kind: s.Kind, num: f}
	case wire.DocNumber:
		_, f, ok := d.number()
		if !ok || check != nil && check.Number != nil && !check.Number(f) {
			return nil, false
		}
		d.last = scalar{kind: s.Kind, num: f}
	case wire.DocTimestamp:
		lit, f, ok := d.number() // ISO text is the general path's
		if !ok {
			return nil, false
		}
		var t wire.Timestamp
		if t.UnmarshalJSON(lit) != nil {
			return nil, false
		}
		d.last = scalar{kind: s.Kind, num: f}
	default:
		return nil, false
	}
	if node == nil {
		return nil, true
	}
	// Boxed only where kept: a float64 in an interface is an allocation.
	if d.last.kind == wire.DocBoolean {
		d.leaf(node, d.last.b, inList)
		if node.keep {
			return d.last.b, true
		}
		return nil, true
	}
	d.leaf(node, d.last.num, inList)
	if node.keep {
		return d.last.num, true
	}
	return nil, true
}

// list reads a list of elements of shape ei.
func (d *fastDoc) list(ei int, node *pathNode, check *wire.DocCheck, depth int) (any, bool) {
	d.i++ // '['
	d.out = append(d.out, '[')
	var elemCheck *wire.DocCheck
	if check != nil {
		elemCheck = check.Elem
	}
	var tree []any
	n := 0
	if d.peek() == ']' {
		d.i++
	} else {
		for {
			if n > 0 {
				d.out = append(d.out, ',')
			}
			v, ok := d.value(ei, node, elemCheck, depth+1, stampNone, true)
			if !ok {
				return nil, false
			}
			n++
			if node != nil && node.keep {
				tree = append(tree, v)
			}
			switch d.peek() {
			case ',':
				d.i++
				continue
			case ']':
				d.i++
			default:
				return nil, false
			}
			break
		}
	}
	d.out = append(d.out, ']')
	if check != nil && (n < check.MinLen || check.MaxLen >= 0 && n > check.MaxLen) {
		return nil, false
	}
	if node == nil || !node.keep {
		return nil, true
	}
	if tree == nil {
		tree = []any{}
	}
	return tree, true
}

// mapValue reads a map of values of shape ei.
func (d *fastDoc) mapValue(ei int, node *pathNode, check *wire.DocCheck, depth int, inList bool) (any, bool) {
	d.i++ // '{'
	objStart := len(d.out)
	d.out = append(d.out, '{')
	firstSpan := len(d.spans)
	var elemCheck, keyCheck *wire.DocCheck
	if check != nil {
		elemCheck, keyCheck = check.Elem, check.Key
	}
	var tree map[string]any
	if node != nil && node.keep {
		tree = map[string]any{}
	}
	if d.peek() == '}' {
		d.i++
	} else {
		for {
			if d.peek() != '"' {
				return nil, false
			}
			raw, plain, ok := d.stringLit()
			if !ok || !plain {
				return nil, false
			}
			if keyCheck != nil && keyCheck.Text != nil && !keyCheck.Text(checkedString(raw)) {
				return nil, false
			}
			if d.peek() != ':' {
				return nil, false
			}
			d.i++
			var child *pathNode
			if node != nil {
				child = node.children[string(raw)]
			}
			if len(d.spans) > firstSpan {
				d.out = append(d.out, ',')
			}
			start := len(d.out)
			d.out = appendString(d.out, raw)
			d.out = append(d.out, ':')
			v, ok := d.value(ei, child, elemCheck, depth+1, stampNone, inList)
			if !ok {
				return nil, false
			}
			d.spans = append(d.spans, span{key: raw, start: start, end: len(d.out)})
			if tree != nil && child != nil && child.keep {
				tree[d.keep(raw)] = v
			}
			switch d.peek() {
			case ',':
				d.i++
				continue
			case '}':
				d.i++
			default:
				return nil, false
			}
			break
		}
	}
	n := len(d.spans) - firstSpan
	if !d.closeObject(objStart, firstSpan) {
		return nil, false // a repeated key
	}
	if check != nil && (n < check.MinLen || check.MaxLen >= 0 && n > check.MaxLen) {
		return nil, false
	}
	if tree == nil {
		return nil, true
	}
	return tree, true
}

func (d *fastDoc) literal(word string) bool {
	if len(d.data)-d.i < len(word) || string(d.data[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	d.out = append(d.out, word...)
	return d.terminated()
}

// terminated reports whether what follows a literal or number ends it,
// as encoding/json's scanner wants (1x or truex are errors there).
func (d *fastDoc) terminated() bool {
	if d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r', ',', '}', ']':
		default:
			return false
		}
	}
	return true
}

// number reads and writes a number literal of JSON's grammar, which must
// be a finite float64 (as the general path's tree holds it).
func (d *fastDoc) number() ([]byte, float64, bool) {
	b, start := d.data, d.i
	i, ok := numberEnd(b, start)
	if !ok {
		return nil, 0, false
	}
	d.i = i
	if !d.terminated() {
		return nil, 0, false
	}
	lit := b[start:i]
	f, err := strconv.ParseFloat(string(lit), 64) // no allocation: the string does not escape
	if err != nil || math.IsInf(f, 0) {
		return nil, 0, false
	}
	d.out = append(d.out, lit...)
	return lit, f, true
}

// stringLit reads the string literal at d.i without writing it: its
// content, and plain when that is its value (no escape, valid UTF-8).
// ok is false for what the fast path does not read (a control byte, an
// unfinished literal).
//
// d.verbatim says whether the literal is also json.Marshal's encoding of
// its value, so that it can be copied as it is.
func (d *fastDoc) stringLit() (raw []byte, plain, ok bool) {
	start := d.i + 1
	var seen byte // the classes met (see byteClass)
	for j := start; j < len(d.data); j++ {
		c := byteClass[d.data[j]]
		if c == 0 {
			continue
		}
		seen |= c
		switch c {
		case classQuote:
			d.i = j + 1
			raw = d.data[start:j]
			if seen&(classUTF8|classLineSep) != 0 && !utf8.Valid(raw) {
				return nil, false, false // replaced by U+FFFD: the general path's
			}
			d.verbatim = seen&^classQuote == 0 || seen&^(classQuote|classUTF8) == 0
			return raw, seen&classEscape == 0, true
		case classEscape:
			j++ // the escaped byte, checked by unescape
		case classControl:
			return nil, false, false
		}
	}
	return nil, false, false
}

// The classes of a string literal's bytes, as stringLit tells them apart.
const (
	classQuote   = 1 << iota // the end
	classEscape              // '\\'
	classControl             // below 0x20: not allowed
	classHTML                // '<', '>', '&': json.Marshal escapes them
	classUTF8                // beyond ASCII
	classLineSep             // 0xE2, which begins U+2028 and U+2029 (escaped by json.Marshal) among others
)

var byteClass = func() (t [256]byte) {
	for c := range 0x20 {
		t[c] = classControl
	}
	t['"'], t['\\'] = classQuote, classEscape
	t['<'], t['>'], t['&'] = classHTML, classHTML, classHTML
	for c := 0x80; c < 0x100; c++ {
		t[c] = classUTF8
	}
	t[0xE2] = classLineSep
	return t
}()

// stringValue reads a string value, writes it as json.Marshal writes it,
// and returns it (sharing the record's bytes or d.tmp: valid until the
// next string; callers that keep it copy it).
func (d *fastDoc) stringValue() ([]byte, bool) {
	raw, plain, ok := d.stringLit()
	if !ok {
		return nil, false
	}
	if d.verbatim {
		d.out = append(d.out, '"')
		d.out = append(d.out, raw...)
		d.out = append(d.out, '"')
		return raw, true
	}
	if !plain {
		if raw, ok = d.unescape(raw); !ok {
			return nil, false
		}
	}
	d.out = appendString(d.out, raw)
	return raw, true
}

// unescape returns the value of a literal's content with escapes, in
// d.tmp. Surrogate escapes are left to the general path (encoding/json
// pairs or replaces them).
func (d *fastDoc) unescape(raw []byte) ([]byte, bool) {
	out := d.tmp[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if len(raw)-i < 5 {
				return nil, false
			}
			r := rune(0)
			for _, h := range raw[i+1 : i+5] {
				switch {
				case '0' <= h && h <= '9':
					r = r<<4 | rune(h-'0')
				case 'a' <= h && h <= 'f':
					r = r<<4 | rune(h-'a'+10)
				case 'A' <= h && h <= 'F':
					r = r<<4 | rune(h-'A'+10)
				default:
					return nil, false
				}
			}
			if utf16IsSurrogate(r) {
				return nil, false
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return nil, false
		}
	}
	d.tmp = out
	return out, true
}

func utf16IsSurrogate(r rune) bool { return 0xd800 <= r && r < 0xe000 }

// checkedString is the string whose bytes are b, without a copy, for the
// generated checks (wire.DocCheck.Text), which read their argument and
// keep nothing of it; the bytes are the record's or d.tmp, reused later.
func checkedString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// envelope reports whether the object at d.i begins as an EventBridge
// event does (its first member is none of the Finding's), without
// reading it.
func (d *fastDoc) envelope() bool {
	i := d.i
	defer func() { d.i = i }()
	d.i++
	if d.peek() != '"' {
		return false
	}
	raw, plain, ok := d.stringLit()
	if !ok || !plain {
		return false
	}
	_, finding := d.infos[0].members[string(raw)]
	return !finding
}

// event reads an EventBridge event whose detail-type is "GuardDuty
// Finding" and whose detail is the finding: the finding is read (and
// written) as a record of its own, the event's other members only
// checked to be JSON. Any other event is the general path's.
func (d *fastDoc) event() bool {
	d.i++ // '{'
	var detail, detailType bool
	if d.peek() == '}' {
		return false
	}
	for {
		if d.peek() != '"' {
			return false
		}
		raw, plain, ok := d.stringLit()
		if !ok || !plain || d.peek() != ':' {
			return false
		}
		d.i++
		switch string(raw) {
		case "detail":
			if detail || d.peek() != '{' {
				return false
			}
			detail = true
			if _, ok := d.object(0, indexedPaths(), 1, stampRoot, false); !ok {
				return false
			}
		case "detail-type":
			if detailType || d.peek() != '"' {
				return false
			}
			detailType = true
			dt, plain, ok := d.stringLit()
			if !ok || !plain || string(dt) != "GuardDuty Finding" {
				return false
			}
		default:
			if !d.skip(0) {
				return false
			}
		}
		switch d.peek() {
		case ',':
			d.i++
			continue
		case '}':
			d.i++
			return detail && detailType
		}
		return false
	}
}

// skip reads a JSON value that is not written: an EventBridge event's
// members besides its detail. false for what encoding/json would refuse,
// or would read with a repeated key (the last wins there).
func (d *fastDoc) skip(depth int) bool {
	if depth > maxFastNesting {
		return false
	}
	switch c := d.peek(); {
	case c == '{' || c == '[':
		d.i++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if d.peek() == end {
			d.i++
			return true
		}
		var keys [][]byte
		for {
			if c == '{' {
				if d.peek() != '"' {
					return false
				}
				key, plain, ok := d.stringLit()
				if !ok || !plain || d.peek() != ':' || slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, key) }) {
					return false
				}
				keys = append(keys, key)
				d.i++
			}
			if !d.skip(depth + 1) {
				return false
			}
			switch d.peek() {
			case ',':
				d.i++
				continue
			case end:
				d.i++
				return true
			}
			return false
		}
	case c == '"':
		raw, plain, ok := d.stringLit()
		if ok && !plain {
			_, ok = d.unescape(raw)
		}
		return ok
	case c == '-' || c >= '0' && c <= '9':
		mark := len(d.out)
		_, _, ok := d.number()
		d.out = d.out[:mark]
		return ok
	case c == 't' || c == 'f' || c == 'n':
		mark := len(d.out)
		ok := d.literal("true") || d.literal("false") || d.literal("null")
		d.out = d.out[:mark]
		return ok
	}
	return false
}
