package index

import (
	"math"
	"slices"
	"strings"

	"github.com/guardpost/guardpost"
)

// sortColumn holds one sort attribute's key for every doc: a number (NaN
// when absent) or, for string attributes, a dictionary code and whether it
// is present. (Codes: most string sort keys, such as type or account, repeat
// across findings, and a code is 4 bytes where a string header is 16.)
type sortColumn struct {
	str     bool
	nums    []float64
	codes   []uint32
	strs    dict
	present []bool
}

func (c *sortColumn) set(n uint32, k any) {
	if c.str {
		for uint32(len(c.codes)) <= n {
			c.codes = append(c.codes, 0)
			c.present = append(c.present, false)
		}
		s, ok := k.(string)
		c.codes[n], c.present[n] = 0, ok
		if ok {
			c.codes[n] = c.strs.code(s)
		}
		return
	}
	for uint32(len(c.nums)) <= n {
		c.nums = append(c.nums, math.NaN())
	}
	f, ok := k.(float64)
	if !ok {
		f = math.NaN()
	}
	c.nums[n] = f
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
		if int(d) < len(o.col.present) && o.col.present[d] {
			return o.col.strs.strings[o.col.codes[d]]
		}
	default:
		if int(d) < len(o.col.nums) && !math.IsNaN(o.col.nums[d]) {
			return o.col.nums[d]
		}
	}
	return nil
}

// compareKeys orders two keys as a listing does: absent last in either
// direction, present ones by the direction.
func (o ordering) compareKeys(a, b any) int { return guardpost.CompareDirected(a, b, o.desc) }

// compare orders two docs: by key, then by id.
func (o ordering) compare(a, b uint32) int {
	if c := o.compareKeys(o.key(a), o.key(b)); c != 0 {
		return c
	}
	return strings.Compare(o.x.ids[a], o.x.ids[b])
}

// compareCursor orders doc d against a cursor's position.
func (o ordering) compareCursor(d uint32, c *guardpost.FindingCursor) int {
	if o.col != nil {
		if r := o.compareKeys(o.key(d), c.SortKey); r != 0 {
			return r
		}
	}
	return strings.Compare(o.x.ids[d], c.ID)
}

// permutation returns every live doc in o's order. It is kept until a
// write makes it stale, so long listings walk it instead of sorting. The
// caller holds the read lock; builds are serialised by permMu.
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
		x.perms = make([][]uint32, 1+2*len(x.sorts))
	}
	if p := x.perms[slot]; p != nil {
		return p
	}
	p := x.alive.ToArray()
	slices.SortFunc(p, o.compare)
	x.perms[slot] = p
	return p
}
