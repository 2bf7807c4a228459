// Package index answers finding queries from memory: criteria over every
// filterable attribute, sorted keyset pages and statistics, for one set of
// findings (a detector's, or several detectors' seen as one).
//
// Each finding gets a small doc number. Every value a finding has for a
// filter attribute is a posting: the attribute's dictionary (a sorted run
// of its distinct values, see postings) maps the value to the doc numbers
// that have it, one doc or a roaring bitmap. A criterion is then
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

// Index is the in-memory index of one set of findings. It is safe for
// concurrent use: queries share a read lock, writes take the write lock.
type Index struct {
	mu    sync.RWMutex
	ids   idTable
	free  []uint32
	alive *roaring.Bitmap
	attrs []postings // by guardpost.FilterAttributes index

	sorts []sortColumn // by guardpost.SortAttributes index
	// perms caches each listing order's permutation (slot 0: by id; then
	// two per sort attribute, ascending and descending), each as of a
	// generation; a write starts a new one, and a stale permutation is
	// the starting point of the next (see permutation).
	permMu    sync.Mutex
	perms     []perm
	permClock uint64
	gen       uint64
	// results keeps criteria bitmaps and statistics until a write.
	results results

	// Statistics columns, by doc number.
	account, typ, resource dict
	accountOf, typeOf      codeColumn
	resourceOf             codeColumn
	// A doc's severity and updatedAt are those of its sort columns,
	// which hold the same numbers, except for the docs in statsOdd (a
	// document whose own fields disagree with the record's).
	statsOdd map[uint32]statsPair
}

// New returns an empty index.
func New() *Index {
	x := &Index{alive: roaring.New(),
		attrs: make([]postings, len(guardpost.FilterAttributes)),
		sorts: make([]sortColumn, len(guardpost.SortAttributes))}
	for i, a := range guardpost.FilterAttributes {
		x.attrs[i] = newPostings(a.Kind)
		if a.Name == "id" || a.Name == "arn" {
			x.attrs[i].self = &selfValues{ids: &x.ids, docs: roaring.New()}
		}
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
	n, ok := x.ids.lookup(d.ID)
	if ok {
		x.unpost(n, previous)
	} else {
		n = x.number(d.ID)
	}
	for _, a := range d.Attrs {
		x.attrs[a.Attribute].add(value{a.Text, a.Num, a.IsNum}, n)
	}
	x.setColumns(n, &d)
	x.alive.Add(n)
	x.changed()
}

// PutNew adds findings the index does not hold yet (an import's batch),
// on every core: postings are per attribute, so the attributes are
// shared out among goroutines, and one more fills the sort and statistics
// columns. A doc whose id the index already holds is put as by Put with
// no previous values.
func (x *Index) PutNew(docs []Doc) { x.putNew(docs, false) }

// Load is PutNew for a build from the store, batch after batch, before
// any query sees the index: new values are gathered and sorted into the
// postings in a few large merges rather than many small ones. Loaded
// finishes the merges (a query would, in its stead).
func (x *Index) Load(docs []Doc) { x.putNew(docs, true) }

// Loaded merges what Load gathered, on every core, and trims what the
// load grew by appending: a slice grown one element at a time has up to a
// quarter unused, and a bitmap's containers up to half.
func (x *Index) Loaded() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.shard(func(w, shards int) {
		for a := range x.attrs {
			if a%shards == w {
				p := &x.attrs[a]
				if p.pending() > 0 {
					p.merge()
				}
				p.loadIdx = nil
				for i, b := range p.bitmaps {
					if b != nil {
						b.RunOptimize()
						p.bitmaps[i] = b.Clone() // containers of their size
					}
				}
				p.blocks = nil
				if p.self != nil {
					p.self.docs.RunOptimize()
				}
			}
		}
	}, func() {
		for i := range x.sorts {
			c := &x.sorts[i]
			c.codes.trim()
			c.small, c.nums = fit(c.small), fit(c.nums)
			c.lo, c.hi = fit(c.lo), fit(c.hi)
			c.strs.t.trim()
		}
		x.accountOf.trim()
		x.typeOf.trim()
		x.resourceOf.trim()
		x.ids.trim()
		x.account.t.trim()
		x.typ.t.trim()
		x.resource.t.trim()
	})
	x.changed()
}

// shard runs work(w, shards) for w in [0, shards) on every core, and
// other (if not nil) alongside.
func (x *Index) shard(work func(w, shards int), other func()) {
	shards := max(1, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range shards {
		wg.Go(func() { work(w, shards) })
	}
	if other != nil {
		wg.Go(other)
	}
	wg.Wait()
}

func (x *Index) putNew(docs []Doc, bulk bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ns := make([]uint32, len(docs))
	for i, d := range docs {
		if n, ok := x.ids.lookup(d.ID); ok {
			ns[i] = n
			continue
		}
		ns[i] = x.number(d.ID)
	}
	post := func(w, shards int) {
		for i, d := range docs {
			for _, a := range d.Attrs {
				if a.Attribute%shards == w {
					x.attrs[a.Attribute].load(value{a.Text, a.Num, a.IsNum}, ns[i], bulk)
				}
			}
		}
		for a := range x.attrs {
			if a%shards == w {
				x.attrs[a].settle(bulk)
			}
		}
	}
	if len(docs) < 64 { // not worth the goroutines
		post(0, 1)
		x.fillColumns(docs, ns)
	} else {
		x.shard(post, func() { x.fillColumns(docs, ns) })
	}
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
	x.accountOf.set(n, x.account.code(d.AccountID))
	x.typeOf.set(n, x.typ.code(d.Type))
	x.resourceOf.set(n, x.resource.code(d.ResourceType+"\x00"+d.ResourceID))
	sev, upd := x.sorts[sortSeverity].num(n), x.sorts[sortUpdatedAt].num(n)
	if math.Float64bits(sev) != math.Float64bits(d.Severity) || upd != float64(d.UpdatedAtMS) {
		if x.statsOdd == nil {
			x.statsOdd = map[uint32]statsPair{}
		}
		x.statsOdd[n] = statsPair{d.Severity, d.UpdatedAtMS}
	} else if x.statsOdd != nil {
		delete(x.statsOdd, n)
	}
}

// The sort columns that hold the statistics' severity and updatedAt.
var (
	sortSeverity  = guardpost.SortAttributeIndex("severity")
	sortUpdatedAt = guardpost.SortAttributeIndex("updatedAt")
)

// statsPair is a doc's severity and updatedAt when its sort columns do
// not hold them.
type statsPair struct {
	severity  float64
	updatedAt int64
}

// severityOf is doc d's severity.
func (x *Index) severityOf(d uint32) float64 {
	if len(x.statsOdd) > 0 {
		if o, ok := x.statsOdd[d]; ok {
			return o.severity
		}
	}
	return x.sorts[sortSeverity].num(d)
}

// updatedAtOf is doc d's updatedAt in epoch milliseconds.
func (x *Index) updatedAtOf(d uint32) int64 {
	if len(x.statsOdd) > 0 {
		if o, ok := x.statsOdd[d]; ok {
			return o.updatedAt
		}
	}
	return int64(x.sorts[sortUpdatedAt].num(d))
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
	n, ok := x.ids.lookup(id)
	if !ok {
		return
	}
	x.unpost(n, previous)
	for i := range x.sorts {
		x.sorts[i].set(n, nil)
	}
	delete(x.statsOdd, n)
	x.alive.Remove(n)
	x.changed()
	x.ids.remove(n)
	x.free = append(x.free, n)
}

// Forget removes the findings with the given ids (those it holds),
// whatever values they have in the index. A replay onto a snapshot knows
// which findings changed since it was written, not the values the
// snapshot has for them: Forget, then Put the findings as they are now.
// It visits every posting once, so it is for many ids at a time.
func (x *Index) Forget(ids []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	gone := roaring.New()
	for _, id := range ids {
		if n, ok := x.ids.lookup(id); ok {
			gone.Add(n)
		}
	}
	if gone.IsEmpty() {
		return
	}
	mark := make([]bool, x.ids.len())
	it := gone.Iterator()
	for it.HasNext() {
		mark[it.Next()] = true
	}
	x.shard(func(w, shards int) {
		for a := range x.attrs {
			if a%shards == w {
				x.attrs[a].forget(gone, mark)
			}
		}
	}, nil)
	it = gone.Iterator()
	for it.HasNext() {
		n := it.Next()
		for i := range x.sorts {
			x.sorts[i].set(n, nil)
		}
		delete(x.statsOdd, n)
		x.alive.Remove(n)
		x.ids.remove(n)
		x.free = append(x.free, n)
	}
	x.changed()
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
	} else {
		n = uint32(x.ids.len())
		if n > maxDoc {
			panic("index: too many findings")
		}
	}
	x.ids.set(n, id)
	return n
}

// unpost takes doc n out of the postings of its previous values.
func (x *Index) unpost(n uint32, previous []guardpost.AttributeValue) {
	for _, a := range previous {
		x.attrs[a.Attribute].remove(value{a.Text, a.Num, a.IsNum}, n)
	}
}

// dict gives strings small codes, for the statistics and sort columns.
// It is an idTable whose numbers are the codes: some of its columns
// (resources, instance ids) have hundreds of thousands of distinct
// strings, which a []string and a map would store at some 70 bytes each
// beside their text.
type dict struct{ t idTable }

func (d *dict) code(s string) uint32 {
	if c, ok := d.t.lookup(s); ok {
		return c
	}
	c := uint32(d.t.len())
	d.t.set(c, s) // a copy: see postings.add
	return c
}

// str returns the string of code c.
func (d *dict) str(c uint32) string { return d.t.id(c) }

// len is the number of codes.
func (d *dict) len() int { return d.t.len() }
