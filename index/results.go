package index

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/guardpost/guardpost"
)

// results keeps what queries computed (each criterion's bitmap, each
// statistics answer) until the next write, so that a dashboard asking the
// same thing again reads a map instead of uniting postings over a million
// findings. It is exact: every write clears it (see Index.changed).
type results struct {
	mu    sync.Mutex
	crits map[string]*roaring.Bitmap
	stats map[string][]guardpost.StatRow
}

// maxResults bounds each map; past it the map starts over. (A criterion
// bitmap over a million findings is up to 128 KB.)
const maxResults = 64

func (r *results) clear() {
	r.mu.Lock()
	r.crits, r.stats = nil, nil
	r.mu.Unlock()
}

func (r *results) criterion(key string) *roaring.Bitmap {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.crits[key]
}

func (r *results) keepCriterion(key string, b *roaring.Bitmap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.crits == nil || len(r.crits) >= maxResults {
		r.crits = map[string]*roaring.Bitmap{}
	}
	r.crits[key] = b
}

func (r *results) statistics(key string) ([]guardpost.StatRow, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows, ok := r.stats[key]
	return slices.Clone(rows), ok
}

func (r *results) keepStatistics(key string, rows []guardpost.StatRow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stats == nil || len(r.stats) >= maxResults {
		r.stats = map[string][]guardpost.StatRow{}
	}
	r.stats[key] = slices.Clone(rows)
}

// criterionKey is c in a canonical text: two criteria with the same key
// select the same findings.
func criterionKey(c *guardpost.Criterion) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Attribute))
	texts := func(tag byte, ss []string) {
		b.WriteByte(tag)
		for _, s := range ss {
			b.WriteString(strconv.Quote(s))
		}
	}
	nums := func(tag byte, ns []float64) {
		b.WriteByte(tag)
		for _, n := range ns {
			b.WriteString(strconv.FormatUint(math.Float64bits(n), 16))
			b.WriteByte(',')
		}
	}
	bound := func(tag byte, n *float64) {
		if n != nil {
			nums(tag, []float64{*n})
		}
	}
	texts('e', c.EqualsText)
	texts('n', c.NotEqualsText)
	nums('E', c.EqualsNum)
	nums('N', c.NotEqualsNum)
	bound('>', c.GreaterThan)
	bound('g', c.GreaterThanOrEqual)
	bound('<', c.LessThan)
	bound('l', c.LessThanOrEqual)
	texts('m', c.Matches)
	texts('M', c.NotMatches)
	return b.String()
}

// statisticsKey names a statistics query.
func statisticsKey(where []guardpost.Criterion, group guardpost.StatGroup) string {
	var b strings.Builder
	b.WriteString(string(group))
	for i := range where {
		b.WriteByte(0)
		b.WriteString(criterionKey(&where[i]))
	}
	return b.String()
}
