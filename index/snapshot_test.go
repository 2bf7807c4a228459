package index

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/guardpost/guardpost"
)

// snapshotOf writes x to bytes.
func snapshotOf(t testing.TB, x *Index, stamp string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSnapshot(&b, x, []byte(stamp)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readSnapshot(b []byte) (*Index, string, error) {
	var stamp string
	x, err := ReadSnapshot(bytes.NewReader(b), int64(len(b)), func(s []byte) error { stamp = string(s); return nil })
	return x, stamp, err
}

// rewritten is src's contents under id.
func rewritten(t testing.TB, src *guardpost.Finding, id string) *guardpost.Finding {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(src.Document, &doc); err != nil {
		t.Fatal(err)
	}
	doc["id"] = id
	b, _ := json.Marshal(doc)
	f, err := guardpost.ParseFinding(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sameAnswers compares got with want on listings (criteria drawn from
// fs, every sort order, pages) and statistics of every group.
func sameAnswers(t *testing.T, step string, got, want *Index, fs []*guardpost.Finding, rng *rand.Rand) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%s: Len %d, want %d", step, got.Len(), want.Len())
	}
	var wheres [][]guardpost.Criterion
	wheres = append(wheres, nil)
	for range 40 {
		wheres = append(wheres, randomCriteria(rng, fs))
	}
	for i, where := range wheres {
		for s := -1; s < len(guardpost.SortAttributes); s++ {
			if i > 0 && rng.IntN(4) != 0 {
				continue // every order without criteria; a sample with
			}
			q := Query{Where: where, Limit: []int{0, 1, 50}[rng.IntN(3)]}
			if s >= 0 {
				q.Sort = &guardpost.SortCriteria{Attribute: s, Descending: rng.IntN(2) == 0}
			}
			w := want.List(q)
			if g := got.List(q); !slices.Equal(g, w) {
				t.Fatalf("%s: list %+v sort %+v limit %d: got %d %.3v, want %d %.3v", step, q.Where, q.Sort, q.Limit, len(g), g, len(w), w)
			}
			if len(w) > 0 && q.Limit > 0 {
				q.After = &w[len(w)-1]
				if g, w := got.List(q), want.List(q); !slices.Equal(g, w) {
					t.Fatalf("%s: next page %+v sort %+v: got %d, want %d", step, q.Where, q.Sort, len(g), len(w))
				}
			}
		}
		if i%4 != 0 {
			continue
		}
		for _, g := range guardpost.StatGroups {
			rows := func(x *Index) map[[2]string]guardpost.StatRow {
				m := map[[2]string]guardpost.StatRow{}
				for _, r := range x.Statistics(where, g) {
					m[[2]string{r.Key, r.ResourceType}] = r
				}
				return m
			}
			if a, b := rows(got), rows(want); !maps.EqualFunc(a, b, func(x, y guardpost.StatRow) bool {
				return x.Count == y.Count && x.MaxSeverity == y.MaxSeverity && x.LastGeneratedAt.Equal(y.LastGeneratedAt)
			}) {
				t.Fatalf("%s: statistics %s %+v: got %d groups, want %d", step, g, where, len(a), len(b))
			}
		}
	}
}

// churn rewrites, deletes and adds findings through x, keeping live (by
// id) current, and returns the ids it touched.
func churn(t *testing.T, x *Index, live map[string]*guardpost.Finding, rng *rand.Rand, extra []*guardpost.Finding) []string {
	t.Helper()
	ids := slices.Sorted(maps.Keys(live))
	srcs := values(live)
	var touched []string
	for i, id := range ids {
		f := live[id]
		switch {
		case i%7 == 0: // rewritten with another finding's values
			nf := rewritten(t, srcs[rng.IntN(len(srcs))], id)
			x.Put(DocOf(nf), f.Attributes)
			live[id] = nf
		case i%11 == 0:
			x.Delete(id, f.Attributes)
			delete(live, id)
		default:
			continue
		}
		touched = append(touched, id)
	}
	var docs []Doc
	for _, f := range extra {
		docs = append(docs, DocOf(f))
		live[f.ID] = f
		touched = append(touched, f.ID)
	}
	x.PutNew(docs)
	return touched
}

func values(m map[string]*guardpost.Finding) []*guardpost.Finding {
	return slices.SortedFunc(maps.Values(m), func(a, b *guardpost.Finding) int { return cmpString(a.ID, b.ID) })
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestSnapshotRoundTrip: an index read back from its snapshot answers as
// the index it was written from, and as one built afresh; and it goes on
// doing so through further writes.
func TestSnapshotRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	fs := corpus(t, 3000, rng)
	x := build(fs) // runs, deltas, bitmaps, freed numbers below
	live := map[string]*guardpost.Finding{}
	for _, f := range fs {
		live[f.ID] = f
	}
	churn(t, x, live, rng, corpus(t, 200, rng))
	// A finding whose fields disagree with its sort keys (statsOdd).
	odd := DocOf(fs[5])
	odd.SortKeys = slices.Clone(odd.SortKeys)
	odd.SortKeys[guardpost.SortAttributeIndex("severity")] = nil
	x.Put(odd, live[fs[5].ID].Attributes)

	b := snapshotOf(t, x, "stamp 1")
	y, stamp, err := readSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	if stamp != "stamp 1" {
		t.Fatalf("stamp %q", stamp)
	}
	sameAnswers(t, "read back", y, x, values(live), rng)
	fresh := New()
	for _, f := range values(live) {
		d := DocOf(f)
		if f.ID == odd.ID {
			d = odd
		}
		fresh.Put(d, nil)
	}
	sameAnswers(t, "read back, against a build", y, fresh, values(live), rng)
	if again := snapshotOf(t, y, "stamp 1"); len(again) != len(b) {
		t.Errorf("rewritten snapshot: %d bytes, first %d", len(again), len(b))
	}

	// Writes past the snapshot go to both alike.
	liveY := maps.Clone(live)
	extra := corpus(t, 300, rand.New(rand.NewPCG(99, 1)))
	rx, ry := rand.New(rand.NewPCG(5, 5)), rand.New(rand.NewPCG(5, 5))
	churn(t, x, live, rx, extra)
	churn(t, y, liveY, ry, extra)
	sameAnswers(t, "written after", y, x, values(live), rng)
}

// TestSnapshotReplay: a snapshot, then findings changed after it
// forgotten and put as they are now, answers as the index that saw every
// write and as a build of the findings as they are.
func TestSnapshotReplay(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	fs := corpus(t, 2500, rng)
	x := build(fs)
	live := map[string]*guardpost.Finding{}
	for _, f := range fs {
		live[f.ID] = f
	}
	b := snapshotOf(t, x, "")
	changed := churn(t, x, live, rng, corpus(t, 150, rng))
	changed = append(changed, "not-a-finding-of-this-index")

	y, _, err := readSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	y.Forget(changed)
	var docs []Doc
	for _, id := range changed {
		if f, ok := live[id]; ok {
			docs = append(docs, DocOf(f))
		}
	}
	y.PutNew(docs)
	sameAnswers(t, "replayed", y, x, values(live), rng)
	fresh := New()
	for _, f := range values(live) {
		fresh.Put(DocOf(f), nil)
	}
	sameAnswers(t, "replayed, against a build", y, fresh, values(live), rng)

	// Forget of every finding leaves an empty index that still takes
	// findings.
	all := slices.Collect(maps.Keys(live))
	y.Forget(all)
	if y.Len() != 0 || len(y.List(Query{})) != 0 {
		t.Fatalf("after forgetting all: Len %d", y.Len())
	}
	for _, f := range values(live) {
		y.Put(DocOf(f), nil)
	}
	sameAnswers(t, "forgotten and put back", y, fresh, values(live), rng)
}

// TestSnapshotFaults: a snapshot cut short, with a byte changed, with
// bytes added or of another layout is refused, never read as an index.
func TestSnapshotFaults(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	fs := corpus(t, 500, rng)
	x := build(fs)
	b := snapshotOf(t, x, "s")
	if _, _, err := readSnapshot(b); err != nil {
		t.Fatal(err)
	}
	cuts := []int{0, 1, 7, 8, 9, 40, 42, len(b) / 3, len(b) / 2, len(b) - 5, len(b) - 4, len(b) - 1}
	for _, n := range cuts {
		if y, _, err := readSnapshot(b[:n]); err == nil || y != nil {
			t.Errorf("truncated to %d of %d bytes: read", n, len(b))
		}
	}
	for range 200 {
		c := bytes.Clone(b)
		i := rng.IntN(len(c))
		c[i] ^= byte(1 + rng.IntN(255))
		if y, _, err := readSnapshot(c); err == nil || y != nil {
			t.Fatalf("byte %d of %d changed: read", i, len(b))
		}
	}
	if _, _, err := readSnapshot(append(bytes.Clone(b), 0)); err == nil {
		t.Error("a byte appended: read")
	}
	// Another fingerprint: the layout's field, after magic and format.
	c := bytes.Clone(b)
	c[len(snapshotMagic)+1] ^= 1
	if _, _, err := readSnapshot(c); !errors.Is(err, ErrSnapshotMismatch) {
		t.Errorf("another fingerprint: %v, want ErrSnapshotMismatch", err)
	}
	// The stamp's check refuses.
	refuse := errors.New("not mine")
	if _, err := ReadSnapshot(bytes.NewReader(b), int64(len(b)), func([]byte) error { return refuse }); !errors.Is(err, refuse) {
		t.Errorf("refused stamp: %v", err)
	}
}

// TestSnapshotFollowsAttributeTable: renaming, re-kinding or adding an
// attribute changes the fingerprint, so a snapshot of the old table is
// refused.
func TestSnapshotFollowsAttributeTable(t *testing.T) {
	x := build(corpus(t, 50, rand.New(rand.NewPCG(1, 1))))
	b := snapshotOf(t, x, "")
	saved := guardpost.FilterAttributes[3]
	defer func() { guardpost.FilterAttributes[3] = saved }()
	guardpost.FilterAttributes[3].Name += "-renamed"
	if _, _, err := readSnapshot(b); !errors.Is(err, ErrSnapshotMismatch) {
		t.Errorf("renamed attribute: %v, want ErrSnapshotMismatch", err)
	}
	guardpost.FilterAttributes[3] = saved
	guardpost.FilterAttributes[3].Kind++
	if _, _, err := readSnapshot(b); !errors.Is(err, ErrSnapshotMismatch) {
		t.Errorf("re-kinded attribute: %v, want ErrSnapshotMismatch", err)
	}
	guardpost.FilterAttributes[3] = saved
	if _, _, err := readSnapshot(b); err != nil {
		t.Errorf("table restored: %v", err)
	}
}
