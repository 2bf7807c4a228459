package guardpost

import (
	"fmt"
	"strings"
	"testing"
)

func cacheFinding(id string) *Finding {
	return &Finding{AccountID: "111122223333", Region: "us-east-1", DetectorID: "d1", ID: id,
		SortKeys: []any{5.0}, Document: []byte(`{"id":"` + id + `","pad":"` + strings.Repeat("x", 900) + `"}`)}
}

func cacheKey(id string) findingKey { return findingKey{"111122223333", "us-east-1", "d1", id} }

// TestFindingCacheVersions checks the rules that keep the cache exact: an
// entry is served only at the version it was read at, a newer version
// drops everything, and a read made at an older version is neither served
// from the cache nor added to it.
func TestFindingCacheVersions(t *testing.T) {
	var c findingCache
	const limit = 1 << 20
	keys := []findingKey{cacheKey("a"), cacheKey("b")}
	if hits, misses := c.lookup(1, keys); len(hits) != 0 || len(misses) != 2 {
		t.Fatalf("empty cache: %d hits, %d misses", len(hits), len(misses))
	}
	c.add(1, limit, []*Finding{cacheFinding("a")})
	if hits, misses := c.lookup(1, keys); len(hits) != 1 || len(misses) != 1 || misses[0].id != "b" {
		t.Fatalf("after adding a at version 1: hits %v, misses %v", hits, misses)
	}
	// A request whose mark is older than the cache's gets no hit, and what
	// it read cannot enter the cache.
	c.lookup(2, keys)
	if hits, _ := c.lookup(1, keys); len(hits) != 0 {
		t.Fatalf("lookup at version 1 in a cache at version 2: %d hits", len(hits))
	}
	c.add(1, limit, []*Finding{cacheFinding("b")})
	if hits, _ := c.lookup(2, keys); len(hits) != 0 {
		t.Fatalf("a finding read at version 1 was served at version 2: %v", hits)
	}
	c.add(2, limit, []*Finding{cacheFinding("a")})
	if hits, _ := c.lookup(2, keys); len(hits) != 1 {
		t.Fatalf("after adding a at version 2: %d hits", len(hits))
	}
	if hits, _ := c.lookup(3, keys); len(hits) != 0 {
		t.Fatalf("version 3 served %d entries read at version 2", len(hits))
	}
}

// TestFindingCacheBound checks that the cache stays within its limit and
// keeps its byte count right as entries are evicted and replaced.
func TestFindingCacheBound(t *testing.T) {
	var c findingCache
	const limit = 64 << 10
	c.lookup(7, nil) // the cache moves to version 7, as GetFindings's lookup makes it
	for i := range 1000 {
		f := cacheFinding(fmt.Sprint(i % 300))
		c.add(7, limit, []*Finding{f})
		if c.bytes > limit {
			t.Fatalf("after %d adds the cache holds %d bytes, over its limit %d", i+1, c.bytes, limit)
		}
	}
	sum := 0
	for k, e := range c.entries {
		sum += k.size(e)
	}
	if sum != c.bytes {
		t.Fatalf("the cache counts %d bytes, its entries take %d", c.bytes, sum)
	}
	if len(c.entries) < 30 {
		t.Fatalf("the cache holds %d entries of about 1 KB in %d bytes", len(c.entries), limit)
	}
}
