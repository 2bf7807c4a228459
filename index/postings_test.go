package index

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/guardpost/guardpost"
)

// TestPostingsFollowAModel writes random values (adds, removals, bulk
// loads of every size, merges) into postings of every kind and compares
// each lookup (equality by text and by number, ranges, patterns) with a
// map from values to doc sets.
func TestPostingsFollowAModel(t *testing.T) {
	for _, kind := range []guardpost.ValueKind{guardpost.KindString, guardpost.KindNumber, guardpost.KindTime, guardpost.KindBool} {
		// Spreads: many values (long runs, most held by one finding),
		// few (shared values, bitmaps), and enough for runs past 4,096
		// values, whose batches go into delta without a look in the run
		// (so one value is often in both).
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("%v,%d", kind, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(kind)))
				checkPostingsModel(t, rng, kind, []int{1500, 40, 6000}[seed])
			})
		}
	}
}

// randomValue makes values of the kind as guardpost.FindingAttributes
// does, with now and then a value of another form (odd texts, text on a
// numeric attribute, numbers on a text one).
func randomValue(rng *rand.Rand, kind guardpost.ValueKind, spread int) value {
	odd := rng.IntN(20) == 0
	switch kind {
	case guardpost.KindString:
		if odd {
			n := float64(rng.IntN(10))
			return value{text: strconv.Itoa(int(n)), num: n, isNum: true}
		}
		prefixes := []string{"arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/", "i-0", "", "10.0.", "x"}
		return value{text: prefixes[rng.IntN(len(prefixes))] + strconv.Itoa(rng.IntN(spread))}
	case guardpost.KindNumber:
		n := float64(rng.IntN(spread)) / 4
		if odd {
			return value{text: fmt.Sprintf("%.3f", n), num: n, isNum: true}
		}
		return value{text: strconv.FormatFloat(n, 'f', -1, 64), num: n, isNum: true}
	case guardpost.KindBool:
		b := rng.IntN(2) == 0
		if odd {
			return value{text: "yes"}
		}
		if b {
			return value{text: "true", num: 1, isNum: true}
		}
		return value{text: "false", num: 0, isNum: true}
	}
	ms := int64(1767225600000) + int64(rng.IntN(spread))*1000*int64(1+rng.IntN(2))
	switch rng.IntN(8) {
	case 0:
		return value{text: strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64), num: float64(ms), isNum: true}
	case 1:
		return value{text: time.UnixMilli(ms).UTC().Format(time.RFC3339), num: float64(ms), isNum: true}
	case 2:
		if odd {
			return value{text: "not a time"}
		}
	}
	return value{text: guardpost.ISOTime(time.UnixMilli(ms)), num: float64(ms), isNum: true}
}

// spread is how many distinct values the attribute draws from: many (long
// runs, most values held by one finding) or few (shared values, bitmaps).
func checkPostingsModel(t *testing.T, rng *rand.Rand, kind guardpost.ValueKind, spread int) {
	p := newPostings(kind)
	model := map[value]map[uint32]bool{}
	var held []struct {
		v   value
		doc uint32
	}
	addModel := func(v value, doc uint32) {
		if model[v] == nil {
			model[v] = map[uint32]bool{}
		}
		if !model[v][doc] {
			held = append(held, struct {
				v   value
				doc uint32
			}{v, doc})
		}
		model[v][doc] = true
	}
	docs := uint32(0)
	for step := range 100 {
		switch r := rng.IntN(10); {
		case r < 4:
			for range 1 + rng.IntN(50) {
				v, doc := randomValue(rng, kind, spread), uint32(rng.IntN(int(docs)+1))
				docs = max(docs, doc+1)
				p.add(v, doc)
				addModel(v, doc)
			}
		case r < 6 && len(held) > 0:
			for range 1 + rng.IntN(30) {
				if len(held) == 0 {
					break
				}
				k := rng.IntN(len(held))
				h := held[k]
				held = slices.Delete(held, k, k+1)
				p.remove(h.v, h.doc)
				delete(model[h.v], h.doc)
				if len(model[h.v]) == 0 {
					delete(model, h.v)
				}
			}
		case r < 8:
			bulk := rng.IntN(2) == 0
			for range rng.IntN(1500) {
				v := randomValue(rng, kind, spread)
				p.load(v, docs, bulk)
				addModel(v, docs)
				docs++
			}
			p.settle(bulk)
		case r < 9:
			p.ready()
		default:
			p.merge()
		}
		if step%25 == 0 {
			checkLookups(t, rng, &p, model, kind, spread)
		}
	}
	checkLookups(t, rng, &p, model, kind, spread)
}

func checkLookups(t *testing.T, rng *rand.Rand, p *postings, model map[value]map[uint32]bool, kind guardpost.ValueKind, spread int) {
	t.Helper()
	want := func(keep func(v value) bool) []uint32 {
		var out []uint32
		for v, ds := range model {
			if keep(v) {
				for d := range ds {
					out = append(out, d)
				}
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	check := func(what string, got *roaring.Bitmap, w []uint32) {
		t.Helper()
		if g := got.ToArray(); !slices.Equal(g, w) && !(len(g) == 0 && len(w) == 0) {
			t.Fatalf("%s: got %d docs %v, want %d %v", what, len(g), head(g), len(w), head(w))
		}
	}
	for range 5 {
		v := randomValue(rng, kind, spread)
		if p.numeric {
			check(fmt.Sprintf("equal number %v", v.num), p.equalNum([]float64{v.num}), want(func(m value) bool { return m.isNum && m.num == v.num }))
		} else {
			check(fmt.Sprintf("equal text %q", v.text), p.equalText([]string{v.text}), want(func(m value) bool { return !m.isNum && m.text == v.text }))
		}
		lo, hi := randomValue(rng, kind, spread).num, randomValue(rng, kind, spread).num
		c := guardpost.Criterion{GreaterThanOrEqual: &lo, LessThan: &hi}
		check(fmt.Sprintf("range [%v, %v)", lo, hi), p.inRange(&c), want(func(m value) bool { return m.isNum && m.num >= lo && m.num < hi }))
		pats := [][]string{{"*"}, {v.text}, {v.text[:len(v.text)/2] + "*"}, {"i-0*1", "10.?.*"}, {"*1*"}, {"2026-01-01T0*"}, {"17*"}, {"t*", "arn:*finding/2*"}}[rng.IntN(8)]
		check(fmt.Sprintf("matches %q", pats), p.matching(pats), want(func(m value) bool { return guardpost.MatchesAnyPattern(pats, m.text) }))
	}
}

func head(s []uint32) []uint32 { return s[:min(len(s), 10)] }

// TestStrRun checks the front-coded run's lookups against a sorted slice.
func TestStrRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 15, 16, 17, 100, shortRun, 5000} {
		set := map[string]bool{}
		for len(set) < n {
			set[fmt.Sprintf("%s%d", []string{"arn:aws:x/", "arn:aws:y/", "b", ""}[rng.IntN(4)], rng.IntN(10*n))] = true
		}
		var sorted []string
		for s := range set {
			sorted = append(sorted, s)
		}
		slices.Sort(sorted)
		var b strBuilder
		for i, s := range sorted {
			b.add(s, posting(i))
		}
		r := b.done()
		s := r.scanFrom(0)
		for i := 0; s.next(); i++ {
			if s.text() != sorted[i] {
				t.Fatalf("n=%d: string %d is %q, want %q", n, i, s.text(), sorted[i])
			}
		}
		for range 200 {
			q := fmt.Sprintf("%s%d", []string{"arn:aws:x/", "arn:aws:y/", "b", "", "c"}[rng.IntN(5)], rng.IntN(10*n+1))
			want, found := slices.BinarySearch(sorted, q)
			if got := r.lowerBound(q); got != want {
				t.Fatalf("n=%d: lowerBound(%q) = %d, want %d", n, q, got, want)
			}
			if !found {
				want = -1
			}
			if got := r.find(q); got != want {
				t.Fatalf("n=%d: find(%q) = %d, want %d", n, q, got, want)
			}
			if n <= shortRun {
				if got := newRunHash(&r).find(&r, q); got != want {
					t.Fatalf("n=%d: the hash finds %q at %d, want %d", n, q, got, want)
				}
			}
		}
		if n <= shortRun {
			h := newRunHash(&r)
			for i, q := range sorted {
				if got := h.find(&r, q); got != i {
					t.Fatalf("n=%d: the hash finds %q at %d, want %d", n, q, got, i)
				}
			}
		}
	}
}

// TestISOTime checks the hand-written formatter against time.Format
// over the years it formats.
func TestISOTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 20000 {
		ms := minISO + rng.Int64N(maxISO-minISO+1)
		if i < 10 {
			ms = []int64{minISO, maxISO, 0, -1, 1, 86400000, -86400000, 951782400000, 1767225600000, 4107542400000}[i]
		}
		if got, want := string(appendISOTime(nil, ms)), guardpost.ISOTime(time.UnixMilli(ms)); got != want {
			t.Fatalf("appendISOTime(%d) = %s, want %s", ms, got, want)
		}
	}
}

// TestIDTableFollowsAMap numbers, looks up and frees random ids against a
// map, through growth, tombstones and compaction.
func TestIDTableFollowsAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var tab idTable
	model := map[string]uint32{}
	var freeNums []uint32
	for step := range 200000 {
		if rng.IntN(3) > 0 || len(model) == 0 {
			id := fmt.Sprintf("f%x", rng.IntN(50000))
			if _, ok := model[id]; ok {
				continue
			}
			var n uint32
			if k := len(freeNums); k > 0 && rng.IntN(2) == 0 {
				n, freeNums = freeNums[k-1], freeNums[:k-1]
			} else {
				n = uint32(tab.len())
			}
			tab.set(n, id)
			model[id] = n
		} else {
			for id, n := range model {
				got := tab.id(n)
				tab.remove(n)
				if got != id {
					t.Fatalf("step %d: id(%d) = %q, want %q", step, n, got, id)
				}
				delete(model, id)
				freeNums = append(freeNums, n)
				break
			}
		}
		if step%1000 == 0 {
			for id, n := range model {
				if got, ok := tab.lookup(id); !ok || got != n || tab.id(n) != id {
					t.Fatalf("step %d: lookup(%q) = %d, %v; id = %q; want %d", step, id, got, ok, tab.id(n), n)
				}
			}
			for range 100 {
				id := fmt.Sprintf("f%x", rng.IntN(50000))
				if _, want := model[id]; !want {
					if n, ok := tab.lookup(id); ok {
						t.Fatalf("step %d: lookup(%q) = %d, want none", step, id, n)
					}
				}
			}
		}
	}
}

// TestSortColumnOutgrowsCodes fills a numeric sort column past the
// distinct values its 2-byte codes hold, rewriting keys on the way.
func TestSortColumnOutgrowsCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var c sortColumn
	model := map[uint32]any{}
	for i := range 200000 {
		n := uint32(rng.IntN(120000))
		var k any
		if i%7 != 0 {
			k = float64(rng.IntN(1 + i))
		}
		c.set(n, k)
		model[n] = k
	}
	if !c.big {
		t.Fatal("the column kept 2-byte codes for more distinct values than they hold")
	}
	for n := range uint32(130000) {
		got, want := c.num(n), model[n]
		if w, ok := want.(float64); ok && got != w || !ok && !math.IsNaN(got) {
			t.Fatalf("num(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestOwnValues queries the attributes whose values name their own
// finding (id, arn: kept as a bitmap over the id table) with every
// operator, through loads, rewrites (one to an ARN of another form) and
// deletes, against the oracle.
func TestOwnValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	fs := corpus(t, 400, rng)
	x := New()
	var batch []Doc
	for _, f := range fs[:200] {
		batch = append(batch, DocOf(f))
	}
	x.Load(batch)
	x.Loaded()
	for _, f := range fs[200:] {
		x.Put(DocOf(f), nil)
	}
	arn := guardpost.FilterAttributeIndex("arn")
	// A finding whose arn is not its own (another detector's form).
	odd := *fs[5]
	odd.Attributes = slices.Clone(odd.Attributes)
	for i := range odd.Attributes {
		if odd.Attributes[i].Attribute == arn {
			odd.Attributes[i].Text = "arn:aws:guardduty:eu-west-1:999999999999:detector/other/finding/" + odd.ID
		}
	}
	x.Put(DocOf(&odd), fs[5].Attributes)
	fs[5] = &odd
	for _, f := range fs[300:320] {
		x.Delete(f.ID, f.Attributes)
	}
	live := append(slices.Clone(fs[:300]), fs[320:]...)
	for _, name := range []string{"id", "arn"} {
		a := guardpost.FilterAttributeIndex(name)
		for i := range 40 {
			f := live[rng.IntN(len(live))]
			if i < 3 {
				f = fs[5]
			}
			var text string
			for _, v := range f.Attributes {
				if v.Attribute == a {
					text = v.Text
				}
			}
			for _, c := range []guardpost.Criterion{
				{Attribute: a, EqualsText: []string{text, fs[310].ID}},
				{Attribute: a, NotEqualsText: []string{text}},
				{Attribute: a, Matches: []string{text[:len(text)-3] + "*"}},
				{Attribute: a, Matches: []string{"*" + text[len(text)-4:]}},
				{Attribute: a, NotMatches: []string{"*" + text[len(text)-2:]}},
				{Attribute: a, Matches: []string{"arn:aws:guardduty:eu-west-1:*"}},
			} {
				q := Query{Where: []guardpost.Criterion{c}}
				if got, want := x.List(q), oracle(live, q); !slices.EqualFunc(got, want, func(a, b guardpost.FindingCursor) bool { return a.ID == b.ID }) {
					t.Fatalf("%s %+v: got %d findings, want %d", name, c, len(got), len(want))
				}
			}
		}
	}
}

// TestQueriesFinishALoad: queries that find a load not merged (Load
// without Loaded) merge it, once, concurrently (run with -race).
func TestQueriesFinishALoad(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	fs := corpus(t, 300, rng)
	x := New()
	var docs []Doc
	for _, f := range fs {
		docs = append(docs, DocOf(f))
	}
	x.Load(docs)
	queries := make([]Query, 40)
	for i := range queries {
		queries[i] = Query{Where: randomCriteria(rng, fs), Limit: 20}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(queries); i += 4 {
				if got, want := x.List(queries[i]), oracle(fs, queries[i]); !slices.EqualFunc(got, want, func(a, b guardpost.FindingCursor) bool { return a.ID == b.ID }) {
					t.Errorf("query %d: got %d findings, want %d", i, len(got), len(want))
				}
			}
		})
	}
	wg.Wait()
}

// TestDeltaDoesNotGrowWithChurn rewrites one finding's value many times:
// the delta's slots must not pile up between merges.
func TestDeltaDoesNotGrowWithChurn(t *testing.T) {
	p := newPostings(guardpost.KindTime)
	prev := value{}
	for i := range 100000 {
		ms := int64(1767225600000 + i)
		v := value{text: guardpost.ISOTime(time.UnixMilli(ms)), num: float64(ms), isNum: true}
		if i > 0 {
			p.remove(prev, 7)
		}
		p.add(v, 7)
		prev = v
	}
	if n := len(p.delta.ents); n > 2*mergeThreshold(p.runLen()) {
		t.Fatalf("%d delta entries for %d live values", n, p.delta.live)
	}
	if got := p.equalNum([]float64{prev.num}).ToArray(); !slices.Equal(got, []uint32{7}) {
		t.Fatalf("the last value holds %v, want [7]", got)
	}
}

// TestNumRunFollowsASlice builds numeric runs of random sorted numbers
// (times in milliseconds, small integers, fractions, values far apart,
// negatives, infinities, -0, in blocks narrow and wide) and compares every
// number, form, text and search with the plain slices they came from.
func TestNumRunFollowsASlice(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := rng.IntN(600)
		nums := make([]float64, n)
		for i := range nums {
			switch rng.IntN(8) {
			case 0:
				nums[i] = float64(rng.IntN(10)) / 4
			case 1:
				nums[i] = float64(rng.Int64N(1<<52)) - 1<<51
			case 2:
				nums[i] = []float64{math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1e300, -1e300}[rng.IntN(6)]
			case 3:
				nums[i] = float64(rng.IntN(100))
			default:
				nums[i] = float64(1_700_000_000_000 + rng.Int64N(int64(seed+1)*90*86_400_000))
			}
		}
		slices.SortStableFunc(nums, cmp.Compare[float64])
		forms := make([]uint8, n)
		var b numBuilder
		for i, v := range nums {
			forms[i] = formDefault
			if seed%3 == 0 && rng.IntN(30) == 0 {
				forms[i] = formOdd
			} else if seed%3 == 1 && rng.IntN(30) == 0 {
				forms[i] = formSeconds
			}
			b.add(v, forms[i], "odd"+strconv.Itoa(i), posting(i))
		}
		r := b.done()
		if r.len() != n || len(r.post) != n {
			t.Fatalf("seed %d: len %d, %d posts, want %d", seed, r.len(), len(r.post), n)
		}
		for i, v := range nums {
			if got := r.num(i); math.Float64bits(got) != math.Float64bits(v) {
				t.Fatalf("seed %d: num(%d) = %v, want %v", seed, i, got, v)
			}
			if r.formAt(i) != forms[i] || r.post[i] != posting(i) {
				t.Fatalf("seed %d: value %d: form %d post %d, want %d %d", seed, i, r.formAt(i), r.post[i], forms[i], i)
			}
			want := derive(guardpost.KindTime, v, forms[i])
			if forms[i] == formOdd {
				want = "odd" + strconv.Itoa(i)
			}
			if got := string(r.appendText(nil, guardpost.KindTime, i)); got != want {
				t.Fatalf("seed %d: text(%d) = %q, want %q", seed, i, got, want)
			}
			if got := r.find(guardpost.KindTime, v, want); got < 0 || r.num(got) != v || string(r.appendText(nil, guardpost.KindTime, got)) != want {
				t.Fatalf("seed %d: find(%v, %q) = %d", seed, v, want, got)
			}
		}
		for range 50 {
			var q float64
			if n > 0 && rng.IntN(2) == 0 {
				q = nums[rng.IntN(n)] + float64(rng.IntN(3)-1)
			} else {
				q = float64(rng.Int64N(1<<53)) - 1<<52
			}
			want, _ := slices.BinarySearch(nums, q)
			if got := r.lowerBound(q); got != want {
				t.Fatalf("seed %d: lowerBound(%v) = %d, want %d", seed, q, got, want)
			}
			from := rng.IntN(n + 1)
			want = from + slices.IndexFunc(nums[from:], func(v float64) bool { return v > q })
			if want < from {
				want = n
			}
			if got := r.search(from, func(v float64) bool { return v > q }); got != want {
				t.Fatalf("seed %d: search(%d, > %v) = %d, want %d", seed, from, q, got, want)
			}
		}
	}
}

// TestSortColumnFollowsAMap sets random keys (absent ones, times, and
// now and then a number the packed distances cannot hold: a fraction, one
// far out of their span, an infinity) through every form of a numeric
// sort column, and compares every doc's key with a map after each step.
func TestSortColumnFollowsAMap(t *testing.T) {
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 21))
		var c sortColumn
		model := map[uint32]float64{}
		docs := 70000 + rng.IntN(5000)
		oddAfter := 80000 + rng.IntN(2*docs) // when numbers the distances cannot hold may start
		if seed%4 == 0 {
			oddAfter = 0 // from the 2-byte codes straight to numbers, now and then
		}
		wasPacked := false
		for i := range 2 * docs {
			n := uint32(rng.IntN(docs))
			f := float64(1_700_000_000_000 + rng.Int64N(90*86_400_000))
			switch {
			case rng.IntN(9) == 0:
				f = math.NaN()
			case i > oddAfter && rng.IntN(2000) == 0:
				f = []float64{0.5, 1e300, -1e300, math.Inf(1), 1_700_000_000_000 + 1<<41}[rng.IntN(5)]
			}
			var k any
			if !math.IsNaN(f) {
				k = f
			}
			c.set(n, k)
			model[n] = f
			wasPacked = wasPacked || c.packed
			if i%20000 == 0 || i == 2*docs-1 {
				for d := range uint32(docs + 10) {
					got, want := c.num(d), model[d]
					if _, ok := model[d]; !ok {
						want = math.NaN()
					}
					if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
						t.Fatalf("seed %d step %d: num(%d) = %v, want %v (packed %v)", seed, i, d, got, want, c.packed)
					}
				}
			}
		}
		if !wasPacked && seed%4 != 0 {
			t.Fatalf("seed %d: times never packed", seed)
		}
	}
}

// TestBatchValuesAlsoInTheRun puts batches into a run past 4,096 values,
// whose values go into delta without a look in the run: values the run
// has already, for new docs and for docs that hold them there already
// (PutNew of a finding the index holds), then takes them out one by one
// and by Forget. A value left in delta or in the run fails a lookup.
func TestBatchValuesAlsoInTheRun(t *testing.T) {
	for _, kind := range []guardpost.ValueKind{guardpost.KindString, guardpost.KindTime} {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(kind)))
			val := func(i int) value {
				if kind == guardpost.KindString {
					return value{text: fmt.Sprintf("i-%08d", i)}
				}
				ms := int64(1767225600000 + i*1000)
				return value{text: guardpost.ISOTime(time.UnixMilli(ms)), num: float64(ms), isNum: true}
			}
			p := newPostings(kind)
			model := map[value]map[uint32]bool{}
			put := func(v value, doc uint32) {
				if model[v] == nil {
					model[v] = map[uint32]bool{}
				}
				model[v][doc] = true
			}
			for d := range uint32(6000) {
				p.load(val(int(d)), d, true)
				put(val(int(d)), d)
			}
			p.merge()
			if p.runLen() <= 4096 {
				t.Fatalf("run of %d values", p.runLen())
			}
			// Batches: a third new values, a third the run's for new
			// docs, a third the run's for the docs that have them.
			next := uint32(6000)
			for range 4 { // 1,200 values: under the merge threshold
				for range 300 {
					switch rng.IntN(3) {
					case 0:
						v := val(10000 + int(next))
						p.load(v, next, false)
						put(v, next)
						next++
					case 1:
						v := val(rng.IntN(6000))
						p.load(v, next, false)
						put(v, next)
						next++
					default:
						d := uint32(rng.IntN(6000))
						p.load(val(int(d)), d, false)
						put(val(int(d)), d)
					}
				}
				p.settle(false)
			}
			check := func(step string) {
				t.Helper()
				for v, docs := range model {
					var got []uint32
					if kind == guardpost.KindString {
						got = p.equalText([]string{v.text}).ToArray()
					} else {
						got = p.equalNum([]float64{v.num}).ToArray()
					}
					want := slices.Sorted(maps.Keys(docs))
					if !slices.Equal(got, want) && len(got)+len(want) > 0 {
						t.Fatalf("%s: %q holds %v, want %v", step, v.text, got, want)
					}
				}
				pat := "*"
				var all []uint32
				for _, docs := range model {
					all = append(all, slices.Collect(maps.Keys(docs))...)
				}
				slices.Sort(all)
				if got := p.matching([]string{pat}).ToArray(); !slices.Equal(got, slices.Compact(all)) && len(got)+len(all) > 0 {
					t.Fatalf("%s: every value holds %d docs, want %d", step, len(got), len(slices.Compact(all)))
				}
			}
			check("after the batches")
			// Remove half of what each value holds, one by one.
			for v, docs := range model {
				for d := range docs {
					if rng.IntN(2) == 0 {
						p.remove(v, d)
						delete(docs, d)
					}
				}
				if len(docs) == 0 {
					delete(model, v)
				}
			}
			check("after removals")
			// Forget a tenth of the docs, then merge.
			gone := roaring.New()
			mark := make([]bool, next)
			for d := range next {
				if rng.IntN(10) == 0 {
					gone.Add(d)
					mark[d] = true
				}
			}
			p.forget(gone, mark)
			for v, docs := range model {
				for d := range docs {
					if mark[d] {
						delete(docs, d)
					}
				}
				if len(docs) == 0 {
					delete(model, v)
				}
			}
			check("after forget")
			p.merge()
			check("after a merge")
		})
	}
}
