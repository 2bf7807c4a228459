package index

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/guardpost/guardpost"
)

// match returns the doc numbers of the findings that satisfy every
// criterion, with guardpost.Match's semantics. The result may be the
// index's own bitmap of live findings: callers must not change it.
func (x *Index) match(where []guardpost.Criterion) *roaring.Bitmap {
	switch len(where) {
	case 0:
		return x.alive
	case 1:
		return x.criterion(&where[0])
	}
	out := roaring.And(x.criterion(&where[0]), x.criterion(&where[1]))
	for i := 2; i < len(where) && !out.IsEmpty(); i++ {
		out.And(x.criterion(&where[i]))
	}
	return out
}

// criterion returns the findings satisfying c. The bitmap is kept until
// the next write (see results): callers must not change it.
func (x *Index) criterion(c *guardpost.Criterion) *roaring.Bitmap {
	key := criterionKey(c)
	if b := x.results.criterion(key); b != nil {
		return b
	}
	b := x.computeCriterion(c)
	b.RunOptimize()
	x.results.keepCriterion(key, b)
	return b
}

// computeCriterion returns, as a new bitmap, the findings satisfying c.
func (x *Index) computeCriterion(c *guardpost.Criterion) *roaring.Bitmap {
	if c.Attribute < 0 || c.Attribute >= len(x.attrs) {
		return roaring.New()
	}
	p := &x.attrs[c.Attribute]
	numeric := c.Numeric()
	out := x.alive.Clone()
	if len(c.EqualsText) > 0 || len(c.EqualsNum) > 0 {
		out.And(x.equal(p, numeric, c.EqualsText, c.EqualsNum))
	}
	if len(c.NotEqualsText) > 0 || len(c.NotEqualsNum) > 0 {
		out.AndNot(x.equal(p, numeric, c.NotEqualsText, c.NotEqualsNum))
	}
	if c.HasRange() {
		out.And(p.inRange(c))
	}
	if len(c.Matches) > 0 {
		out.And(p.matching(c.Matches))
	}
	if len(c.NotMatches) > 0 {
		out.AndNot(p.matching(c.NotMatches))
	}
	return out
}

// equal returns the findings with a value equal to one of the given ones:
// by number for numeric attributes, by text for the others.
func (x *Index) equal(p *postings, numeric bool, texts []string, nums []float64) *roaring.Bitmap {
	if numeric {
		return p.equalNum(nums)
	}
	return p.equalText(texts)
}

// Query selects a page of findings, as guardpost.FindingQuery does.
type Query = guardpost.FindingQuery

// List returns the cursors of the findings that match q.Where, in q's
// order (by the sort attribute, absent values last in either direction,
// then by id), starting strictly after q.After, at most q.Limit of them
// (all when 0).
func (x *Index) List(q Query) []guardpost.FindingCursor {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m := x.match(q.Where)
	n := int(m.GetCardinality())
	if n == 0 {
		return nil
	}
	limit := q.Limit
	if limit <= 0 || limit > n {
		limit = n
	}
	o := x.order(q.Sort)
	// Few matches: sort them. Many: walk the attribute's order and keep
	// those that match, which reads about limit/selectivity docs.
	if n <= 4*limit+1024 {
		docs := m.ToArray()
		if q.After != nil {
			docs = slices.DeleteFunc(docs, func(d uint32) bool { return o.compareCursor(d, q.After) <= 0 })
		}
		slices.SortFunc(docs, o.sorter(false).compare)
		return x.cursors(o, docs[:min(limit, len(docs))])
	}
	perm := x.permutation(o)
	start := 0
	if q.After != nil {
		start, _ = slices.BinarySearchFunc(perm, q.After, func(d uint32, c *guardpost.FindingCursor) int {
			if o.compareCursor(d, c) <= 0 {
				return -1
			}
			return 1
		})
	}
	out := make([]uint32, 0, limit)
	for _, d := range perm[start:] {
		if m.Contains(d) {
			out = append(out, d)
			if len(out) == limit {
				break
			}
		}
	}
	return x.cursors(o, out)
}

func (x *Index) cursors(o ordering, docs []uint32) []guardpost.FindingCursor {
	out := make([]guardpost.FindingCursor, len(docs))
	for i, d := range docs {
		out[i] = guardpost.FindingCursor{ID: x.ids.id(d), SortKey: o.key(d)}
	}
	return out
}

// Statistics groups the findings that match where, as
// guardpost.FindingStore.FindingStatistics does.
func (x *Index) Statistics(where []guardpost.Criterion, group guardpost.StatGroup) []guardpost.StatRow {
	x.mu.RLock()
	defer x.mu.RUnlock()
	key := statisticsKey(where, group)
	if rows, ok := x.results.statistics(key); ok {
		return rows
	}
	rows := x.statistics(where, group)
	x.results.keepStatistics(key, rows)
	return rows
}

func (x *Index) statistics(where []guardpost.Criterion, group guardpost.StatGroup) []guardpost.StatRow {
	m := x.match(where)
	type acc struct {
		count    int
		updated  int64
		severity float64
		sample   uint32 // a doc of the group, to name it
	}
	groups := map[uint64]*acc{}
	key := func(d uint32, updated int64, severity float64) uint64 {
		switch group {
		case guardpost.StatByAccount:
			return uint64(x.accountOf.at(d))
		case guardpost.StatByDate:
			return uint64(floorDay(updated))
		case guardpost.StatByFindingType:
			return uint64(x.typeOf.at(d))
		case guardpost.StatByResource:
			return uint64(x.resourceOf.at(d))
		}
		// SEVERITY and COUNT_BY_SEVERITY: the key is the formatted
		// severity, merged below; group by the exact value here.
		return math.Float64bits(severity)
	}
	// Most docs read severity and updatedAt straight off their sort
	// columns (see statsPair).
	odd := len(x.statsOdd) > 0
	sevCol, updCol := &x.sorts[sortSeverity], &x.sorts[sortUpdatedAt]
	var last *acc
	var lastKey uint64
	it := m.Iterator()
	for it.HasNext() {
		d := it.Next()
		var updated int64
		var severity float64
		if odd {
			updated, severity = x.updatedAtOf(d), x.severityOf(d)
		} else {
			updated, severity = int64(updCol.num(d)), sevCol.num(d)
		}
		k := key(d, updated, severity)
		a := last
		if a == nil || k != lastKey {
			// Neighbouring docs often share a group: skip the map then.
			a = groups[k]
			if a == nil {
				a = &acc{sample: d, updated: updated, severity: severity}
				groups[k] = a
			}
			last, lastKey = a, k
		}
		a.count++
		a.updated = max(a.updated, updated)
		a.severity = max(a.severity, severity)
	}
	rows := map[[2]string]*guardpost.StatRow{}
	var order [][2]string
	for _, a := range groups {
		d := a.sample
		f := &guardpost.Finding{AccountID: x.account.str(x.accountOf.at(d)), Type: x.typ.str(x.typeOf.at(d)),
			Severity: x.severityOf(d), UpdatedAt: time.UnixMilli(x.updatedAtOf(d)).UTC()}
		rk := [2]string{guardpost.StatKey(group, f), ""}
		if group == guardpost.StatByResource {
			rt, id, _ := strings.Cut(x.resource.str(x.resourceOf.at(d)), "\x00")
			rk = [2]string{id, rt}
		}
		r := rows[rk]
		if r == nil {
			r = &guardpost.StatRow{Key: rk[0], ResourceType: rk[1]}
			rows[rk] = r
			order = append(order, rk)
		}
		r.Count += a.count
		if t := time.UnixMilli(a.updated).UTC(); t.After(r.LastGeneratedAt) {
			r.LastGeneratedAt = t
		}
		r.MaxSeverity = max(r.MaxSeverity, a.severity)
	}
	out := make([]guardpost.StatRow, len(order))
	for i, k := range order {
		out[i] = *rows[k]
	}
	return out
}

const msPerDay = 24 * 60 * 60 * 1000

// floorDay is the day number (UTC) of an epoch-millisecond time.
func floorDay(ms int64) int64 {
	d := ms / msPerDay
	if ms%msPerDay < 0 {
		d--
	}
	return d
}
