package index

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/samples"
)

// corpus builds n findings from the sample catalogue, varied the way a
// detector's are: severities, times, instances, archived flags.
func corpus(t testing.TB, n int, rng *rand.Rand) []*guardpost.Finding {
	t.Helper()
	cat := samples.New()
	types := cat.Types()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*guardpost.Finding, 0, n)
	for i := range n {
		p := guardpost.SampleParams{AccountID: "111122223333", Region: "us-east-1", Partition: "aws",
			DetectorID: "det", FindingID: fmt.Sprintf("f%07d-%04x", i, rng.IntN(1<<16)), Now: base.Add(time.Duration(rng.IntN(90*24)) * time.Hour)}
		raw, _ := cat.Sample(types[rng.IntN(len(types))], p)
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		doc["severity"] = float64(1+rng.IntN(90)) / 10
		if svc, ok := doc["service"].(map[string]any); ok {
			svc["archived"] = rng.IntN(5) == 0
			svc["count"] = float64(1 + rng.IntN(20))
		}
		if res, ok := doc["resource"].(map[string]any); ok {
			if inst, ok := res["instanceDetails"].(map[string]any); ok {
				inst["instanceId"] = fmt.Sprintf("i-%08x", rng.IntN(n/5+1))
			}
		}
		b, _ := json.Marshal(doc)
		f, err := guardpost.ParseFinding(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// randomCriteria draws criteria from the values the findings really have,
// so that most select something.
func randomCriteria(rng *rand.Rand, fs []*guardpost.Finding) []guardpost.Criterion {
	var where []guardpost.Criterion
	for range 1 + rng.IntN(2) {
		f := fs[rng.IntN(len(fs))]
		a := f.Attributes[rng.IntN(len(f.Attributes))]
		c := guardpost.Criterion{Attribute: a.Attribute}
		numeric := c.Numeric()
		switch op := rng.IntN(6); {
		case op == 0 && numeric:
			c.EqualsNum = []float64{a.Num}
		case op == 0:
			c.EqualsText = []string{a.Text, "nothing-has-this"}
		case op == 1 && numeric:
			c.NotEqualsNum = []float64{a.Num}
		case op == 1:
			c.NotEqualsText = []string{a.Text}
		case op == 2 && numeric:
			lo, hi := a.Num, a.Num+float64(rng.IntN(1000))
			c.GreaterThanOrEqual, c.LessThan = &lo, &hi
		case op == 3 && len(a.Text) > 2:
			c.Matches = []string{a.Text[:len(a.Text)/2] + "*"}
		case op == 4 && len(a.Text) > 2:
			c.NotMatches = []string{"*" + a.Text[len(a.Text)/2:]}
		default:
			c.Matches = []string{"?" + a.Text[min(1, len(a.Text)):]}
		}
		where = append(where, c)
	}
	return where
}

// oracle lists what the index must: Match, then sorted as the store does.
func oracle(fs []*guardpost.Finding, q Query) []guardpost.FindingCursor {
	o := func(f *guardpost.Finding) guardpost.FindingCursor {
		c := guardpost.FindingCursor{ID: f.ID}
		if q.Sort != nil {
			c.SortKey = f.SortKeys[q.Sort.Attribute]
		}
		return c
	}
	less := func(a, b guardpost.FindingCursor) int {
		if q.Sort != nil {
			switch {
			case a.SortKey == nil && b.SortKey != nil:
				return 1
			case a.SortKey != nil && b.SortKey == nil:
				return -1
			case a.SortKey != nil:
				c := guardpost.CompareSortKeys(a.SortKey, b.SortKey)
				if q.Sort.Descending {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
		}
		return strings.Compare(a.ID, b.ID)
	}
	var out []guardpost.FindingCursor
	for _, f := range fs {
		if guardpost.Match(q.Where, f.Attributes) {
			c := o(f)
			if q.After == nil || less(c, *q.After) > 0 {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, less)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

// build indexes fs as the store does: the first half one by one (Put),
// the rest in batches (PutNew), so the oracle tests cover both.
func build(fs []*guardpost.Finding) *Index {
	x := New()
	half := len(fs) / 2
	for _, f := range fs[:half] {
		x.Put(DocOf(f), nil)
	}
	// Batches of 97 and of 13 (PutNew takes the small ones serially).
	for start, size := half, 97; start < len(fs); start, size = start+size, 110-size {
		var docs []Doc
		for _, f := range fs[start:min(start+size, len(fs))] {
			docs = append(docs, DocOf(f))
		}
		x.PutNew(docs)
	}
	return x
}

// TestListMatchesOracle compares every listing of random criteria, sort
// orders and page positions with Match and a sort.
func TestListMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fs := corpus(t, 3000, rng)
	x := build(fs)
	queries := 300
	if testing.Short() {
		queries = 60
	}
	for i := range queries {
		q := Query{Where: randomCriteria(rng, fs), Limit: []int{0, 1, 7, 50}[rng.IntN(4)]}
		if i%5 == 0 {
			q.Where = nil
		}
		if s := rng.IntN(len(guardpost.SortAttributes) + 1); s < len(guardpost.SortAttributes) {
			q.Sort = &guardpost.SortCriteria{Attribute: s, Descending: rng.IntN(2) == 0}
		}
		all := oracle(fs, Query{Where: q.Where, Sort: q.Sort})
		if len(all) > 0 && rng.IntN(2) == 0 {
			q.After = &all[rng.IntN(len(all))]
		}
		want := oracle(fs, q)
		got := x.List(q)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d %+v sort %+v after %+v limit %d:\n got %d: %.5v\nwant %d: %.5v", i, q.Where, q.Sort, q.After, q.Limit, len(got), got, len(want), want)
		}
	}
}

// TestListPagesThroughEverything follows cursors to the end, both on the
// sort path and on the permutation path.
func TestListPagesThroughEverything(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fs := corpus(t, 5000, rng)
	x := build(fs)
	sev := guardpost.SortAttributeIndex("severity")
	for _, s := range []*guardpost.SortCriteria{nil, {Attribute: sev}, {Attribute: sev, Descending: true}} {
		want := oracle(fs, Query{Sort: s})
		var got []guardpost.FindingCursor
		q := Query{Sort: s, Limit: 50}
		for {
			page := x.List(q)
			got = append(got, page...)
			if len(page) < 50 {
				break
			}
			q.After = &page[len(page)-1]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paged %+v: %d cursors, want %d", s, len(got), len(want))
		}
	}
}

// TestRewriteAndDelete: a replaced finding leaves its old values'
// postings, a deleted one leaves the index, and numbers are reused.
func TestRewriteAndDelete(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fs := corpus(t, 400, rng)
	x := build(fs)
	// Rewrite half with other findings' contents, keeping the ids.
	for i := 0; i < len(fs); i += 2 {
		src := fs[(i+1)%len(fs)]
		var doc map[string]any
		json.Unmarshal(src.Document, &doc)
		doc["id"] = fs[i].ID
		b, _ := json.Marshal(doc)
		nf, err := guardpost.ParseFinding(b)
		if err != nil {
			t.Fatal(err)
		}
		x.Put(DocOf(nf), fs[i].Attributes)
		fs[i] = nf
	}
	for i := 1; i < len(fs); i += 3 {
		x.Delete(fs[i].ID, fs[i].Attributes)
	}
	kept := slices.DeleteFunc(slices.Clone(fs), func(f *guardpost.Finding) bool {
		return slices.IndexFunc(fs, func(g *guardpost.Finding) bool { return g == f })%3 == 1
	})
	if x.Len() != len(kept) {
		t.Fatalf("Len %d, want %d", x.Len(), len(kept))
	}
	for range 100 {
		q := Query{Where: randomCriteria(rng, kept), Sort: &guardpost.SortCriteria{Attribute: rng.IntN(len(guardpost.SortAttributes))}}
		if got, want := x.List(q), oracle(kept, q); !slices.Equal(got, want) {
			t.Fatalf("after rewrites, %+v: got %d, want %d", q.Where, len(got), len(want))
		}
	}
	extra := corpus(t, 50, rng)
	for _, f := range extra {
		x.Put(DocOf(f), nil)
	}
	if got, want := x.List(Query{}), oracle(append(kept, extra...), Query{}); !slices.Equal(got, want) {
		t.Fatalf("after adding into freed numbers: %d, want %d", len(got), len(want))
	}
}

// TestStatisticsMatchOracle groups with criteria and compares with a
// count over Match.
func TestStatisticsMatchOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	fs := corpus(t, 2000, rng)
	x := build(fs)
	for i := range 60 {
		var where []guardpost.Criterion
		if i%3 != 0 {
			where = randomCriteria(rng, fs)
		}
		for _, g := range guardpost.StatGroups {
			want := map[[2]string]guardpost.StatRow{}
			for _, f := range fs {
				if !guardpost.Match(where, f.Attributes) {
					continue
				}
				k := [2]string{guardpost.StatKey(g, f), ""}
				if g == guardpost.StatByResource {
					k[1] = f.ResourceType
				}
				r := want[k]
				r.Key, r.ResourceType = k[0], k[1]
				r.Count++
				if f.UpdatedAt.After(r.LastGeneratedAt) {
					r.LastGeneratedAt = f.UpdatedAt
				}
				r.MaxSeverity = max(r.MaxSeverity, f.Severity)
				want[k] = r
			}
			got := x.Statistics(where, g)
			if len(got) != len(want) {
				t.Fatalf("%s %+v: %d groups, want %d", g, where, len(got), len(want))
			}
			for _, r := range got {
				w := want[[2]string{r.Key, r.ResourceType}]
				if r.Count != w.Count || !r.LastGeneratedAt.Equal(w.LastGeneratedAt) || r.MaxSeverity != w.MaxSeverity {
					t.Fatalf("%s %+v group %q: %+v, want %+v", g, where, r.Key, r, w)
				}
			}
		}
	}
}

// TestConcurrentQueries runs queries that build the lazy structures
// (sorted values, block unions, permutations) at once, beside a writer:
// run with -race.
func TestConcurrentQueries(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	fs := corpus(t, 1500, rng)
	x := build(fs[:1000])
	updatedAt := guardpost.FilterAttributeIndex("updatedAt")
	lo := 0.0
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 30 {
				q := Query{Where: []guardpost.Criterion{{Attribute: updatedAt, GreaterThanOrEqual: &lo}}, Limit: 10,
					Sort: &guardpost.SortCriteria{Attribute: (g + i) % len(guardpost.SortAttributes), Descending: i%2 == 0}}
				x.List(q)
				x.Statistics(q.Where, guardpost.StatByFindingType)
			}
		})
	}
	wg.Go(func() {
		for _, f := range fs[1000:] {
			x.Put(DocOf(f), nil)
		}
	})
	wg.Wait()
	if x.Len() != len(fs) {
		t.Fatalf("Len %d, want %d", x.Len(), len(fs))
	}
}

// TestStatisticsWhenSortKeysDisagree: statistics read a doc's severity
// and updatedAt from its sort columns, except for docs whose own fields
// differ from their sort keys (absent or other keys); those, rewritten
// back and forth and deleted, must still count by their fields.
func TestStatisticsWhenSortKeysDisagree(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	fs := corpus(t, 600, rng)
	sev, upd := guardpost.SortAttributeIndex("severity"), guardpost.SortAttributeIndex("updatedAt")
	odd := func(f *guardpost.Finding) Doc {
		d := DocOf(f)
		d.SortKeys = slices.Clone(d.SortKeys)
		switch rng.IntN(4) {
		case 0:
			d.SortKeys[sev] = nil
		case 1:
			d.SortKeys[upd] = nil
		case 2:
			d.SortKeys[sev] = d.Severity + 1
			d.SortKeys[upd] = float64(d.UpdatedAtMS - 86_400_000)
		default:
			d.SortKeys[upd] = float64(d.UpdatedAtMS) + 0.5
		}
		return d
	}
	x := New()
	live := map[string]*guardpost.Finding{}
	for i, f := range fs {
		d := DocOf(f)
		if i%3 == 0 {
			d = odd(f)
		}
		x.Put(d, nil)
		live[f.ID] = f
	}
	check := func(step string) {
		t.Helper()
		for _, g := range guardpost.StatGroups {
			want := map[[2]string]guardpost.StatRow{}
			for _, f := range live {
				k := [2]string{guardpost.StatKey(g, f), ""}
				if g == guardpost.StatByResource {
					k[1] = f.ResourceType
				}
				r := want[k]
				r.Key, r.ResourceType = k[0], k[1]
				r.Count++
				if f.UpdatedAt.After(r.LastGeneratedAt) {
					r.LastGeneratedAt = f.UpdatedAt
				}
				r.MaxSeverity = max(r.MaxSeverity, f.Severity)
				want[k] = r
			}
			got := x.Statistics(nil, g)
			if len(got) != len(want) {
				t.Fatalf("%s, %s: %d groups, want %d", step, g, len(got), len(want))
			}
			for _, r := range got {
				w := want[[2]string{r.Key, r.ResourceType}]
				if r.Count != w.Count || !r.LastGeneratedAt.Equal(w.LastGeneratedAt) || r.MaxSeverity != w.MaxSeverity {
					t.Fatalf("%s, %s group %q: %+v, want %+v", step, g, r.Key, r, w)
				}
			}
		}
	}
	check("built")
	for i, f := range fs {
		switch i % 4 {
		case 0:
			x.Put(DocOf(f), f.Attributes) // back to agreeing keys
		case 1:
			x.Put(odd(f), f.Attributes)
		case 2:
			x.Delete(f.ID, f.Attributes)
			delete(live, f.ID)
		}
	}
	check("rewritten")
	for i, f := range fs {
		if i%4 == 2 {
			d := DocOf(f)
			if i%8 == 2 {
				d = odd(f)
			}
			x.Put(d, nil) // numbers freed by the deletes, reused
			live[f.ID] = f
		}
	}
	check("refilled")
}
