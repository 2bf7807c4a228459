// Package index answers finding queries from memory: criteria over every
// filterable attribute, sorted keyset pages and statistics, for one set of
// findings (a detector's, or several detectors' seen as one).
//
// Each finding gets a small doc number. Every value a finding has for a
// filter attribute is a posting: the attribute's dictionary maps the value
// to a roaring bitmap of the doc numbers that have it. A criterion is then
// set algebra on bitmaps (equals: the union of its values' postings;
// notEquals: all findings but that union; a range: the union of the
// postings of the distinct values in range; matches: the union of the
// postings of the distinct values the pattern matches), and criteria AND
// together by intersection. Its cost follows the number of distinct values
// and matching findings, not the number of findings.
//
// Sorting uses one typed column per sort attribute and, for long results,
// a permutation of the doc numbers in that attribute's order that is kept
// and, after writes, repaired rather than rebuilt; statistics read per-doc columns (account,
// type, resource, severity, updatedAt) over the matching bitmap.
//
// The index holds what queries need and nothing the store cannot rebuild:
// it is built from the store's findings at start-up and kept current by
// the writes that go through it.
package index

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/guardpost/guardpost"
)

// Doc is what the index keeps of one finding.
type Doc struct {
	ID       string
	Attrs    []guardpost.AttributeValue
	SortKeys []any // one per guardpost.SortAttributes: nil, float64 or string
	// The statistics columns.
	AccountID, Type, ResourceType, ResourceID string
	Severity                                  float64
	UpdatedAtMS                               int64
}

// DocOf takes what the index needs from a stored finding.
func DocOf(f *guardpost.Finding) Doc {
	return Doc{ID: f.ID, Attrs: f.Attributes, SortKeys: f.SortKeys, AccountID: f.AccountID, Type: f.Type,
		ResourceType: f.ResourceType, ResourceID: f.ResourceID, Severity: f.Severity, UpdatedAtMS: f.UpdatedAt.UnixMilli()}
}

// value is one distinct value of an attribute, as criteria compare it.
type value struct {
	text  string
	num   float64
	isNum bool
}

// postings is one attribute's dictionary. Most values of many attributes
// (ids, times, addresses) belong to one finding each, so a value held by
// one finding is kept as its doc number; a bitmap is made when a second
// finding shares it. That halves the index's memory and the cost of a write.
type postings struct {
	// lazy guards the builds of byNum and blocks, which queries make
	// under the index's read lock. (Writes, under the write lock, only
	// clear them.)
	lazy   sync.Mutex
	single map[value]uint32
	shared map[value]*roaring.Bitmap
	// byNum lists the numeric values in ascending order of num, for
	// ranges and numeric equality; nil when a write made it stale.
	byNum []value
	// blocks[i] is the union of the postings of byNum[i*blockSize :
	// (i+1)*blockSize], so that a range over many distinct values (times,
	// counts) is a union of a few blocks; nil when stale, built on demand.
	blocks []*roaring.Bitmap
}

// blockSize is how many consecutive numeric values one block unites.
const blockSize = 256

func (p *postings) add(v value, doc uint32) {
	if b, ok := p.shared[v]; ok {
		b.Add(doc)
		p.blocks = nil
		return
	}
	// A new key is a copy: the caller's text may share its memory with a
	// whole decoded record, which the index must not keep alive.
	v.text = strings.Clone(v.text)
	if other, ok := p.single[v]; ok {
		if other == doc {
			return
		}
		delete(p.single, v)
		p.shared[v] = roaring.BitmapOf(other, doc)
		p.blocks = nil
		return
	}
	p.single[v] = doc
	if v.isNum {
		p.byNum = nil
	}
	p.blocks = nil
}

func (p *postings) remove(v value, doc uint32) {
	p.blocks = nil
	if b, ok := p.shared[v]; ok {
		b.Remove(doc)
		switch b.GetCardinality() {
		case 0:
			delete(p.shared, v)
		case 1:
			delete(p.shared, v)
			p.single[v] = b.Minimum()
			return
		default:
			return
		}
	} else if other, ok := p.single[v]; ok && other == doc {
		delete(p.single, v)
	} else {
		return
	}
	if v.isNum {
		p.byNum = nil
	}
}

// values calls f with every distinct value.
func (p *postings) values(f func(value)) {
	for v := range p.single {
		f(v)
	}
	for v := range p.shared {
		f(v)
	}
}

// inRange returns the findings with a numeric value within c's bounds. The
// values in range are one run of the sorted values: whole blocks of it
// come from their precomputed unions, the ends value by value.
func (p *postings) inRange(c *guardpost.Criterion) *roaring.Bitmap {
	vs := p.numeric()
	lower := func(n float64) bool {
		return (c.GreaterThan == nil || n > *c.GreaterThan) && (c.GreaterThanOrEqual == nil || n >= *c.GreaterThanOrEqual)
	}
	upper := func(n float64) bool {
		return (c.LessThan == nil || n < *c.LessThan) && (c.LessThanOrEqual == nil || n <= *c.LessThanOrEqual)
	}
	i, _ := slices.BinarySearchFunc(vs, true, func(v value, _ bool) int {
		if lower(v.num) {
			return 1
		}
		return -1
	})
	j, _ := slices.BinarySearchFunc(vs[i:], true, func(v value, _ bool) int {
		if upper(v.num) {
			return -1
		}
		return 1
	})
	j += i
	var u union
	if j-i >= 2*blockSize {
		blocks := p.blockUnions()
		for k := i; k < j; {
			if k%blockSize == 0 && k+blockSize <= j {
				u.bitmaps = append(u.bitmaps, blocks[k/blockSize])
				k += blockSize
				continue
			}
			u.add(p, vs[k])
			k++
		}
		return u.bitmap()
	}
	for _, v := range vs[i:j] {
		u.add(p, v)
	}
	return u.bitmap()
}

// blockUnions returns the unions of each block of blockSize numeric values.
func (p *postings) blockUnions() []*roaring.Bitmap {
	p.lazy.Lock()
	defer p.lazy.Unlock()
	if p.blocks == nil {
		vs := p.numericLocked()
		for k := 0; k+blockSize <= len(vs); k += blockSize {
			var u union
			for _, v := range vs[k : k+blockSize] {
				u.add(p, v)
			}
			p.blocks = append(p.blocks, u.bitmap())
		}
		if p.blocks == nil {
			p.blocks = []*roaring.Bitmap{}
		}
	}
	return p.blocks
}

// union gathers postings and makes their union.
type union struct {
	bitmaps []*roaring.Bitmap
	docs    []uint32
}

// add adds the postings of v, if it has any.
func (u *union) add(p *postings, v value) {
	if b, ok := p.shared[v]; ok {
		u.bitmaps = append(u.bitmaps, b)
	} else if d, ok := p.single[v]; ok {
		u.docs = append(u.docs, d)
	}
}

func (u *union) bitmap() *roaring.Bitmap {
	out := roaring.FastOr(u.bitmaps...)
	if len(u.docs) > 0 {
		slices.Sort(u.docs)
		out.AddMany(u.docs)
	}
	return out
}

// numeric returns the numeric values in ascending order.
func (p *postings) numeric() []value {
	p.lazy.Lock()
	defer p.lazy.Unlock()
	return p.numericLocked()
}

func (p *postings) numericLocked() []value {
	if p.byNum == nil {
		p.values(func(v value) {
			if v.isNum {
				p.byNum = append(p.byNum, v)
			}
		})
		slices.SortFunc(p.byNum, func(a, b value) int {
			if a.num != b.num {
				if a.num < b.num {
					return -1
				}
				return 1
			}
			if a.text < b.text {
				return -1
			}
			if a.text > b.text {
				return 1
			}
			return 0
		})
		if p.byNum == nil {
			p.byNum = []value{}
		}
	}
	return p.byNum
}

// Index is the in-memory index of one set of findings. It is safe for
// concurrent use: queries share a read lock, writes take the write lock.
type Index struct {
	mu    sync.RWMutex
	ids   []string // by doc number; "" for a free number
	byID  map[string]uint32
	free  []uint32
	alive *roaring.Bitmap
	attrs []postings // by guardpost.FilterAttributes index

	sorts []sortColumn // by guardpost.SortAttributes index
	// perms caches each listing order's permutation (slot 0: by id; then
	// two per sort attribute, ascending and descending), each as of a
	// generation; a write starts a new one, and a stale permutation is
	// the starting point of the next (see permutation).
	permMu sync.Mutex
	perms  []perm
	gen    uint64
	// results keeps criteria bitmaps and statistics until a write.
	results results

	// Statistics columns, by doc number.
	account, typ, resource dict
	accountOf, typeOf      []uint32
	resourceOf             []uint32
	severity               []float64
	updatedAt              []int64
}

// New returns an empty index.
func New() *Index {
	x := &Index{byID: map[string]uint32{}, alive: roaring.New(),
		attrs: make([]postings, len(guardpost.FilterAttributes)),
		sorts: make([]sortColumn, len(guardpost.SortAttributes))}
	for i := range x.attrs {
		x.attrs[i].single = map[value]uint32{}
		x.attrs[i].shared = map[value]*roaring.Bitmap{}
	}
	for i, a := range guardpost.SortAttributes {
		x.sorts[i] = sortColumn{str: a.Kind == guardpost.KindString}
	}
	return x
}

// Len is the number of findings in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return int(x.alive.GetCardinality())
}

// Put adds d, or replaces the finding with its id, whose attribute values
// were previous. The index does not keep a copy of every finding's values
// (at a million findings that would be gigabytes); whoever rewrites a
// finding has the stored one in hand, and passes its values.
func (x *Index) Put(d Doc, previous []guardpost.AttributeValue) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n, ok := x.byID[d.ID]
	if ok {
		x.unpost(n, previous)
	} else {
		n = x.number(strings.Clone(d.ID))
	}
	for _, a := range d.Attrs {
		x.attrs[a.Attribute].add(value{a.Text, a.Num, a.IsNum}, n)
	}
	x.setColumns(n, &d)
	x.alive.Add(n)
	x.changed()
}

// PutNew adds findings the index does not hold yet (a build from the
// store), on every core: postings are per attribute, so the attributes are
// shared out among goroutines, and one more fills the sort and statistics
// columns. A doc whose id the index already holds is put as by Put with
// no previous values.
func (x *Index) PutNew(docs []Doc) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ns := make([]uint32, len(docs))
	for i, d := range docs {
		if n, ok := x.byID[d.ID]; ok {
			ns[i] = n
			continue
		}
		ns[i] = x.number(strings.Clone(d.ID))
	}
	shards := max(1, runtime.GOMAXPROCS(0))
	if len(docs) < 64 {
		shards = 1 // not worth the goroutines
	}
	if shards == 1 {
		for i, d := range docs {
			for _, a := range d.Attrs {
				x.attrs[a.Attribute].add(value{a.Text, a.Num, a.IsNum}, ns[i])
			}
		}
		x.fillColumns(docs, ns)
		x.settle(ns)
		return
	}
	var wg sync.WaitGroup
	for w := range shards {
		wg.Go(func() {
			for i, d := range docs {
				for _, a := range d.Attrs {
					if a.Attribute%shards == w {
						x.attrs[a.Attribute].add(value{a.Text, a.Num, a.IsNum}, ns[i])
					}
				}
			}
		})
	}
	wg.Go(func() { x.fillColumns(docs, ns) })
	wg.Wait()
	x.settle(ns)
}

// fillColumns sets the sort and statistics columns of docs, numbered ns.
func (x *Index) fillColumns(docs []Doc, ns []uint32) {
	for i := range docs {
		x.setColumns(ns[i], &docs[i])
	}
}

// setColumns sets doc n's sort and statistics columns from d.
func (x *Index) setColumns(n uint32, d *Doc) {
	for j := range x.sorts {
		var k any
		if j < len(d.SortKeys) {
			k = d.SortKeys[j]
		}
		x.sorts[j].set(n, k)
	}
	x.accountOf[n] = x.account.code(d.AccountID)
	x.typeOf[n] = x.typ.code(d.Type)
	x.resourceOf[n] = x.resource.code(d.ResourceType + "\x00" + d.ResourceID)
	x.severity[n] = d.Severity
	x.updatedAt[n] = d.UpdatedAtMS
}

// settle marks docs ns alive and drops what was computed without them.
func (x *Index) settle(ns []uint32) {
	for _, n := range ns {
		x.alive.Add(n)
	}
	x.changed()
}

// Delete removes the finding with the given id and attribute values, if
// present.
func (x *Index) Delete(id string, previous []guardpost.AttributeValue) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n, ok := x.byID[id]
	if !ok {
		return
	}
	x.unpost(n, previous)
	for i := range x.sorts {
		x.sorts[i].set(n, nil)
	}
	x.alive.Remove(n)
	x.changed()
	delete(x.byID, id)
	x.ids[n] = ""
	x.free = append(x.free, n)
}

// changed marks what was computed from the findings as they were as
// stale: the permutations (repaired on next use) and the query results
// (dropped). The caller holds the write lock.
func (x *Index) changed() {
	x.gen++
	x.results.clear()
}

// number gives id a doc number, reusing a freed one.
func (x *Index) number(id string) uint32 {
	var n uint32
	if k := len(x.free); k > 0 {
		n, x.free = x.free[k-1], x.free[:k-1]
		x.ids[n] = id
	} else {
		n = uint32(len(x.ids))
		x.ids = append(x.ids, id)
		x.accountOf = append(x.accountOf, 0)
		x.typeOf = append(x.typeOf, 0)
		x.resourceOf = append(x.resourceOf, 0)
		x.severity = append(x.severity, math.NaN())
		x.updatedAt = append(x.updatedAt, 0)
	}
	x.byID[id] = n
	return n
}

// unpost takes doc n out of the postings of its previous values.
func (x *Index) unpost(n uint32, previous []guardpost.AttributeValue) {
	for _, a := range previous {
		x.attrs[a.Attribute].remove(value{a.Text, a.Num, a.IsNum}, n)
	}
}

// dict gives strings small codes, for the statistics columns.
type dict struct {
	codes   map[string]uint32
	strings []string
}

func (d *dict) code(s string) uint32 {
	if c, ok := d.codes[s]; ok {
		return c
	}
	if d.codes == nil {
		d.codes = map[string]uint32{}
	}
	c := uint32(len(d.strings))
	s = strings.Clone(s) // see postings.add
	d.codes[s] = c
	d.strings = append(d.strings, s)
	return c
}
