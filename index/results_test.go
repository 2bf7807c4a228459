package index

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/guardpost/guardpost"
)

// TestResultsFollowWrites asks the same listings and statistics before and
// after each of a run of writes: the kept results must never outlive the
// findings they were computed from.
func TestResultsFollowWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	fs := corpus(t, 600, rng)
	x := build(fs[:300])
	live := slices.Clone(fs[:300])
	var queries [][]guardpost.Criterion
	for range 12 {
		queries = append(queries, randomCriteria(rng, fs))
	}
	check := func(when string) {
		t.Helper()
		for _, where := range queries {
			q := Query{Where: where}
			if got, want := x.List(q), oracle(live, q); !slices.Equal(got, want) {
				t.Fatalf("%s: listing %d findings, want %d", when, len(got), len(want))
			}
			got := x.Statistics(where, guardpost.StatByFindingType)
			total, want := 0, 0
			for _, r := range got {
				total += r.Count
			}
			for _, f := range live {
				if guardpost.Match(where, f.Attributes) {
					want++
				}
			}
			if total != want {
				t.Fatalf("%s: statistics count %d findings, want %d", when, total, want)
			}
		}
	}
	check("built")
	for i, f := range fs[300:400] {
		x.Put(DocOf(f), nil)
		live = append(live, f)
		if i%10 == 0 {
			check("after a put")
		}
	}
	for i := 0; i < 60; i++ {
		victim := live[0]
		x.Delete(victim.ID, victim.Attributes)
		live = live[1:]
		if i%10 == 0 {
			check("after a delete")
		}
	}
	var docs []Doc
	for _, f := range fs[400:] {
		docs = append(docs, DocOf(f))
	}
	x.PutNew(docs)
	live = append(live, fs[400:]...)
	check("after a batch")
}

// TestCriterionKeyCoversEveryField fails when Criterion gains a field the
// results key does not include (two different criteria would then share
// kept results).
func TestCriterionKeyCoversEveryField(t *testing.T) {
	if n := reflect.TypeFor[guardpost.Criterion]().NumField(); n != 11 {
		t.Fatalf("Criterion has %d fields; criterionKey knows 11: add the new one to it and to this count", n)
	}
	f := func(v float64) *float64 { return &v }
	distinct := []guardpost.Criterion{
		{Attribute: 1},
		{Attribute: 2},
		{Attribute: 1, EqualsText: []string{"a"}},
		{Attribute: 1, NotEqualsText: []string{"a"}},
		{Attribute: 1, EqualsNum: []float64{1}},
		{Attribute: 1, NotEqualsNum: []float64{1}},
		{Attribute: 1, GreaterThan: f(1)},
		{Attribute: 1, GreaterThanOrEqual: f(1)},
		{Attribute: 1, LessThan: f(1)},
		{Attribute: 1, LessThanOrEqual: f(1)},
		{Attribute: 1, Matches: []string{"a"}},
		{Attribute: 1, NotMatches: []string{"a"}},
		{Attribute: 1, EqualsText: []string{"a", "b"}},
		{Attribute: 1, EqualsText: []string{"ab"}},
	}
	seen := map[string]int{}
	for i := range distinct {
		k := criterionKey(&distinct[i])
		if j, dup := seen[k]; dup {
			t.Fatalf("criteria %d and %d share the key %q", j, i, k)
		}
		seen[k] = i
	}
}

// TestPermutationsFollowWrites pages through long listings (which walk the
// kept permutations) between writes of every kind: new findings, rewrites
// that move a finding in the order, deletes and reused doc numbers.
func TestPermutationsFollowWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	fs := corpus(t, 3600, rng)
	x := build(fs[:3000])
	live := slices.Clone(fs[:3000])
	check := func(when string) {
		t.Helper()
		for _, attr := range []string{"updatedAt", "severity", "type", "resource.instanceDetails.instanceId"} {
			for _, desc := range []bool{false, true} {
				q := Query{Sort: &guardpost.SortCriteria{Attribute: guardpost.SortAttributeIndex(attr), Descending: desc}, Limit: 10}
				want := oracle(live, Query{Sort: q.Sort})
				var got []guardpost.FindingCursor
				for page := 0; len(got) < len(want) && page < 20; page++ {
					part := x.List(q)
					if len(part) == 0 {
						break
					}
					got = append(got, part...)
					q.After = &part[len(part)-1]
				}
				if !slices.Equal(got, want[:len(got)]) || len(got) == 0 {
					t.Fatalf("%s: listing by %s desc=%t differs from the oracle in its first %d", when, attr, desc, len(got))
				}
			}
		}
	}
	check("built")
	// New findings.
	var docs []Doc
	for _, f := range fs[3000:3300] {
		docs = append(docs, DocOf(f))
	}
	x.PutNew(docs)
	live = append(live, fs[3000:3300]...)
	check("after new findings")
	// Rewrites: a finding takes another's values (so its keys move).
	for i := 0; i < 40; i++ {
		j := rng.IntN(len(live))
		src := fs[3300+i]
		moved := *src
		moved.ID = live[j].ID
		d := DocOf(&moved)
		x.Put(d, live[j].Attributes)
		live[j] = &moved
	}
	check("after rewrites")
	// Deletes, then new findings that reuse the freed numbers.
	for i := 0; i < 50; i++ {
		j := rng.IntN(len(live))
		x.Delete(live[j].ID, live[j].Attributes)
		live = slices.Delete(live, j, j+1)
	}
	check("after deletes")
	docs = docs[:0]
	for _, f := range fs[3340:3600] {
		docs = append(docs, DocOf(f))
	}
	x.PutNew(docs)
	live = append(live, fs[3340:3600]...)
	check("after reusing numbers")
}
