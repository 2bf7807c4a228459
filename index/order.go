package index

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/guardpost/guardpost"
)

// sortColumn holds one sort attribute's key for every doc: a number (NaN
// when absent) or, for string attributes, 1 + a dictionary code (0 when
// absent). (Codes: most string sort keys, such as type or account, repeat
// across findings, and a code is 2 or 4 bytes (see codeColumn) where a
// string header is 16.)
//
// Most numeric sort keys (severity, confidence, ports, counts) take few
// distinct values: such a column keeps 1 + the index of the value in vals
// (0 when absent) in 2 bytes a doc. When it meets a 65,536th distinct
// value (times do at once) it keeps each doc's number as its distance
// from a base in 5 bytes (40 bits: 17 years of milliseconds either side of
// the first time seen), as long as every number is an integer within
// that span, and else becomes a column of numbers (8 bytes a doc).
type sortColumn struct {
	str   bool
	codes codeColumn // 1 + the code, 0 when absent
	strs  dict

	small   []uint16
	vals    []float64
	valCode map[uint64]uint16 // by math.Float64bits
	big     bool              // past 2-byte codes: packed, or nums
	packed  bool
	base    float64
	lo      []uint32 // packed: the distance's low 32 bits
	hi      []uint8  // and its high 8; packedAbsent when absent
	nums    []float64
}

// packedAbsent is the distance that marks an absent key.
const packedAbsent = 1<<40 - 1

// packable reports whether f can be kept as a distance from base.
func packable(base, f float64) bool {
	d := f - base
	return d >= 0 && d < packedAbsent && math.Float64bits(base+float64(uint64(d))) == math.Float64bits(f)
}

func (c *sortColumn) set(n uint32, k any) {
	if c.str {
		code := uint32(0)
		if s, ok := k.(string); ok {
			code = 1 + c.strs.code(s)
		}
		c.codes.set(n, code)
		return
	}
	f, ok := k.(float64)
	if !ok {
		f = math.NaN()
	}
	if !c.big {
		c.small = extend(c.small, int(n)+1, 0)
		if math.IsNaN(f) {
			c.small[n] = 0
			return
		}
		code, ok := c.valCode[math.Float64bits(f)]
		if !ok && len(c.vals) < math.MaxUint16 {
			if c.valCode == nil {
				c.valCode = map[uint64]uint16{}
			}
			c.vals = append(c.vals, f)
			code, ok = uint16(len(c.vals)), true
			c.valCode[math.Float64bits(f)] = code
		}
		if ok {
			c.small[n] = code
			return
		}
		// Too many distinct values: packed distances if every value
		// fits, else a column of numbers.
		c.packed, c.base = true, math.Trunc(f)-1<<39
		for _, v := range append(c.vals, f) {
			c.packed = c.packed && packable(c.base, v)
		}
		if c.packed {
			c.lo, c.hi = make([]uint32, len(c.small), cap(c.small)), make([]uint8, len(c.small), cap(c.small))
		} else {
			c.nums = make([]float64, len(c.small), cap(c.small))
		}
		for i := range c.small {
			c.put(uint32(i), c.vals, c.small[i])
		}
		c.big, c.small, c.vals, c.valCode = true, nil, nil, nil
	}
	if c.packed && !math.IsNaN(f) && !packable(c.base, f) {
		// A number out of the span: a column of numbers.
		c.nums = make([]float64, len(c.lo), cap(c.lo))
		for i := range c.lo {
			c.nums[i] = c.num(uint32(i))
		}
		c.packed, c.lo, c.hi = false, nil, nil
	}
	if c.packed {
		c.lo, c.hi = extend(c.lo, int(n)+1, packedAbsent&math.MaxUint32), extend(c.hi, int(n)+1, packedAbsent>>32)
		d := uint64(packedAbsent)
		if !math.IsNaN(f) {
			d = uint64(f - c.base)
		}
		c.lo[n], c.hi[n] = uint32(d), uint8(d>>32)
		return
	}
	c.nums = extend(c.nums, int(n)+1, math.NaN())
	c.nums[n] = f
}

// put sets doc i's key from a 2-byte code while leaving codes.
func (c *sortColumn) put(i uint32, vals []float64, code uint16) {
	f := math.NaN()
	if code != 0 {
		f = vals[code-1]
	}
	if !c.packed {
		c.nums[i] = f
		return
	}
	d := uint64(packedAbsent)
	if code != 0 {
		d = uint64(f - c.base)
	}
	c.lo[i], c.hi[i] = uint32(d), uint8(d>>32)
}

// num is doc n's number, NaN when absent.
func (c *sortColumn) num(n uint32) float64 {
	switch {
	case c.packed:
		if int(n) < len(c.lo) {
			if d := uint64(c.hi[n])<<32 | uint64(c.lo[n]); d != packedAbsent {
				return c.base + float64(d)
			}
		}
	case c.big:
		if int(n) < len(c.nums) {
			return c.nums[n]
		}
	case int(n) < len(c.small) && c.small[n] != 0:
		return c.vals[c.small[n]-1]
	}
	return math.NaN()
}

// ordering is one listing order: a sort column (nil: by id alone) and a
// direction.
type ordering struct {
	x    *Index
	col  *sortColumn
	attr int // -1 with col nil
	desc bool
}

func (x *Index) order(s *guardpost.SortCriteria) ordering {
	if s == nil || s.Attribute < 0 || s.Attribute >= len(x.sorts) {
		return ordering{x: x, attr: -1}
	}
	return ordering{x: x, col: &x.sorts[s.Attribute], attr: s.Attribute, desc: s.Descending}
}

// key is doc d's sort key as a cursor carries it: nil, float64 or string.
func (o ordering) key(d uint32) any {
	switch {
	case o.col == nil:
		return nil
	case o.col.str:
		if code := o.col.codes.at(d); code != 0 {
			return o.col.strs.str(code - 1)
		}
	default:
		if n := o.col.num(d); !math.IsNaN(n) {
			return n
		}
	}
	return nil
}

// compareKeys orders two keys as a listing does: absent last in either
// direction, present ones by the direction.
func (o ordering) compareKeys(a, b any) int { return guardpost.CompareDirected(a, b, o.desc) }

// sorter orders docs as a listing does (by key, absent keys last, then by
// id), without putting keys in interfaces
// (which allocates for numbers): a permutation of a million findings is
// some twenty million comparisons. With ranked, string keys compare by the
// rank of their dictionary code, computed once for the sort (worth it for
// a whole permutation, not for a few hundred docs).
type sorter struct {
	o     ordering
	ranks []uint32 // rank of each string code, for string columns; nil: compare the strings
}

func (o ordering) sorter(ranked bool) sorter {
	s := sorter{o: o}
	if ranked && o.col != nil && o.col.str {
		strs := &o.col.strs
		byText := make([]uint32, strs.len())
		for i := range byText {
			byText[i] = uint32(i)
		}
		slices.SortFunc(byText, func(a, b uint32) int { return strings.Compare(strs.str(a), strs.str(b)) })
		s.ranks = make([]uint32, strs.len())
		for rank, code := range byText {
			s.ranks[code] = uint32(rank)
		}
	}
	return s
}

func (s sorter) compare(a, b uint32) int {
	if c := s.o.col; c != nil {
		var r int
		if c.str {
			ca, cb := c.codes.at(a), c.codes.at(b) // 1 + code; 0: absent
			pa, pb := ca != 0, cb != 0
			switch {
			case !pa && !pb:
			case !pa:
				return 1 // absent last in either direction
			case !pb:
				return -1
			case s.ranks != nil:
				r = cmp.Compare(s.ranks[ca-1], s.ranks[cb-1])
			default:
				r = strings.Compare(c.strs.str(ca-1), c.strs.str(cb-1))
			}
		} else {
			na, nb := c.num(a), c.num(b)
			switch {
			case math.IsNaN(na) && math.IsNaN(nb):
			case math.IsNaN(na):
				return 1
			case math.IsNaN(nb):
				return -1
			default:
				r = cmp.Compare(na, nb)
			}
		}
		if s.o.desc {
			r = -r
		}
		if r != 0 {
			return r
		}
	}
	return strings.Compare(s.o.x.ids.id(a), s.o.x.ids.id(b))
}

// compareCursor orders doc d against a cursor's position.
func (o ordering) compareCursor(d uint32, c *guardpost.FindingCursor) int {
	if o.col != nil {
		if r := o.compareKeys(o.key(d), c.SortKey); r != 0 {
			return r
		}
	}
	return strings.Compare(o.x.ids.id(d), c.ID)
}

// perm is one order's permutation of the live docs as of generation gen.
type perm struct {
	docs []uint32
	gen  uint64
	used uint64 // when last asked for, in permutation calls
}

// maxPerms bounds the permutations kept (4 MB each at a million
// findings; 37 orders): the least recently used one goes.
const maxPerms = 6

// permutation returns every live doc in o's order. It is kept until a
// write makes it stale, so long listings walk it instead of sorting. The
// caller holds the read lock; builds are serialised by permMu.
//
// After writes, the stale permutation is the start: its live docs keep
// their order, the docs it lacks are appended, and the result is sorted
// again. That input is nearly sorted (only the written findings are out of
// place), which pattern-defeating quicksort sorts in close to linear time,
// instead of sorting every finding from scratch.
func (x *Index) permutation(o ordering) []uint32 {
	slot := 0
	if o.col != nil {
		slot = 1 + 2*o.attr
		if o.desc {
			slot++
		}
	}
	x.permMu.Lock()
	defer x.permMu.Unlock()
	if x.perms == nil {
		x.perms = make([]perm, 1+2*len(x.sorts))
	}
	x.permClock++
	old := x.perms[slot]
	if old.docs != nil && old.gen == x.gen {
		x.perms[slot].used = x.permClock
		return old.docs
	}
	compare := o.sorter(true).compare
	var p []uint32
	if old.docs == nil {
		p = x.alive.ToArray()
		slices.SortFunc(p, compare)
	} else {
		kept := make([]uint32, 0, x.alive.GetCardinality())
		had := make([]bool, x.ids.len())
		for _, d := range old.docs {
			if int(d) < len(had) && x.alive.Contains(d) {
				kept = append(kept, d)
				had[d] = true
			}
		}
		var added []uint32
		it := x.alive.Iterator()
		for it.HasNext() {
			if d := it.Next(); !had[d] {
				added = append(added, d)
			}
		}
		slices.SortFunc(added, compare)
		if slices.IsSortedFunc(kept, compare) {
			// Only new findings: merge them in.
			p = mergeSorted(kept, added, compare)
		} else {
			// Rewritten findings moved: nearly sorted, sort again.
			p = append(kept, added...)
			slices.SortFunc(p, compare)
		}
	}
	x.perms[slot] = perm{docs: p, gen: x.gen, used: x.permClock}
	kept, oldest := 0, -1
	for i, q := range x.perms {
		if q.docs != nil {
			kept++
			if i != slot && (oldest < 0 || q.used < x.perms[oldest].used) {
				oldest = i
			}
		}
	}
	if kept > maxPerms {
		x.perms[oldest] = perm{}
	}
	return p
}

// mergeSorted merges two sorted lists into a new one.
func mergeSorted(a, b []uint32, compare func(a, b uint32) int) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if compare(b[j], a[i]) < 0 {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
