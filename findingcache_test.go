package guardpost

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func cacheFinding(id string) *Finding {
	return &Finding{AccountID: "111122223333", Region: "us-east-1", DetectorID: "d1", ID: id,
		SortKeys: []any{5.0}, Document: []byte(`{"id":"` + id + `","pad":"` + strings.Repeat("x", 900) + `"}`)}
}

var cacheDet = cacheDetector{"111122223333", "us-east-1", "d1"}

// lookup returns the ids of ids that c holds at version.
func lookup(c *findingCache, version int64, ids ...string) []string {
	got := make([]cachedFinding, len(ids))
	c.lookup(version, cacheDet, ids, got)
	var held []string
	for i, f := range got {
		if f.document != nil || f.packed.Bytes != nil {
			held = append(held, ids[i])
		}
	}
	return held
}

// TestFindingCacheVersions checks the rules that keep the cache exact: an
// entry is served only at the version it was read at, a newer version
// drops everything, and a read made at an older version is neither served
// from the cache nor added to it.
func TestFindingCacheVersions(t *testing.T) {
	var c findingCache
	const limit = 1 << 20
	if held := lookup(&c, 1, "a", "b"); len(held) != 0 {
		t.Fatalf("empty cache holds %v", held)
	}
	c.add(1, limit, cacheDet, []*Finding{cacheFinding("a")})
	if held := lookup(&c, 1, "a", "b"); !slices.Equal(held, []string{"a"}) {
		t.Fatalf("after adding a at version 1 the cache holds %v", held)
	}
	// A request whose mark is older than the cache's gets no hit, and what
	// it read cannot enter the cache.
	lookup(&c, 2)
	if held := lookup(&c, 1, "a", "b"); len(held) != 0 {
		t.Fatalf("lookup at version 1 in a cache at version 2: %v", held)
	}
	c.add(1, limit, cacheDet, []*Finding{cacheFinding("b")})
	if held := lookup(&c, 2, "a", "b"); len(held) != 0 {
		t.Fatalf("a finding read at version 1 was served at version 2: %v", held)
	}
	c.add(2, limit, cacheDet, []*Finding{cacheFinding("a")})
	if held := lookup(&c, 2, "a", "b"); !slices.Equal(held, []string{"a"}) {
		t.Fatalf("after adding a at version 2 the cache holds %v", held)
	}
	other := cacheDetector{"111122223333", "us-east-1", "d2"}
	if n := c.lookup(2, other, []string{"a"}, make([]cachedFinding, 1)); n != 0 {
		t.Fatalf("detector d2 was served d1's finding")
	}
	if held := lookup(&c, 3, "a", "b"); len(held) != 0 {
		t.Fatalf("version 3 served entries read at version 2: %v", held)
	}
}

// TestFindingCacheBound checks that the cache stays within its limit and
// keeps its byte count right as entries are evicted and replaced.
func TestFindingCacheBound(t *testing.T) {
	var c findingCache
	const limit = 64 << 10
	lookup(&c, 7) // the cache moves to version 7, as GetFindings's lookup makes it
	for i := range 1000 {
		f := cacheFinding(fmt.Sprint(i % 300))
		c.add(7, limit, cacheDet, []*Finding{f})
		if c.bytes > limit {
			t.Fatalf("after %d adds the cache holds %d bytes, over its limit %d", i+1, c.bytes, limit)
		}
	}
	sum, n := 0, 0
	for _, held := range c.entries {
		for id, e := range held {
			sum += entrySize(id, e)
			n++
		}
	}
	if sum != c.bytes {
		t.Fatalf("the cache counts %d bytes, its entries take %d", c.bytes, sum)
	}
	if n < 30 {
		t.Fatalf("the cache holds %d entries of about 1 KB in %d bytes", n, limit)
	}
}

// TestFindingCachePacked checks that a finding read with a packed document
// is held packed only, counted at its packed size, and unpacked to the
// same bytes, in the asked order, beside entries held as documents.
func TestFindingCachePacked(t *testing.T) {
	var c findingCache
	const limit = 1 << 20
	lookup(&c, 1)
	// The "packing" here is a 4-byte header before the document.
	unpack := func(dst, packed []byte) ([]byte, error) {
		if !strings.HasPrefix(string(packed), "PACK") {
			return nil, fmt.Errorf("not packed: %q", packed)
		}
		return append(dst, packed[4:]...), nil
	}
	a, b, plain := cacheFinding("a"), cacheFinding("b"), cacheFinding("c")
	for _, f := range []*Finding{a, b} {
		f.Packed = PackedDocument{Bytes: append([]byte("PACK"), f.Document...), Unpack: unpack}
	}
	c.add(1, limit, cacheDet, []*Finding{a, b, plain})
	if e := c.entries[cacheDet]["a"]; e.document != nil || e.packed.Bytes == nil {
		t.Fatalf("a packed finding is held with its document (%d bytes) or without its packed form", len(e.document))
	}
	if want := entrySize("a", cachedFinding{sortKeys: a.SortKeys, packed: a.Packed})*2 +
		entrySize("c", cachedFinding{sortKeys: plain.SortKeys, document: plain.Document}); c.bytes != want {
		t.Errorf("the cache counts %d bytes, want %d", c.bytes, want)
	}
	ids := []string{"b", "c", "x", "a"}
	got := make([]cachedFinding, len(ids))
	if n := c.lookup(1, cacheDet, ids, got); n != 3 {
		t.Fatalf("%d of b, c, x, a held, want 3", n)
	}
	if err := unpackAll(got); err != nil {
		t.Fatal(err)
	}
	for i, want := range []*Finding{b, plain, nil, a} {
		if want == nil {
			if got[i].document != nil {
				t.Errorf("%s: unknown id got document %s", ids[i], got[i].document)
			}
			continue
		}
		if string(got[i].document) != string(want.Document) {
			t.Errorf("%s: document %.40s..., want %.40s...", ids[i], got[i].document, want.Document)
		}
	}
	got[0].packed.Bytes = []byte("garbage")
	got[0].document = nil
	if err := unpackAll(got); err == nil {
		t.Error("a document that does not unpack was served")
	}
}
