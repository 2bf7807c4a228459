package guardpost

import (
	"encoding/json"
	"sync"
)

// DefaultFindingCacheBytes bounds the documents GetFindings keeps in
// memory when Service.FindingCacheBytes is 0: about 20,000 findings of
// the usual 2.9 KB.
const DefaultFindingCacheBytes = 64 << 20

// findingCache keeps what GetFindings needs of the findings it read (sort
// keys and document), so that asking again for the same findings costs a
// map lookup instead of a store read. It is exact, not a TTL cache: each
// entry belongs to the store's findings version it was read at
// (FindingsMark), and the whole cache is dropped the moment a request
// sees a newer version, which any finding write by any node makes.
// GetFindings asks the store for the mark on every request anyway, to
// confirm the detector.
//
// The cache holds every visible detector's findings alike, keyed by
// account, region, detector and id; a deleted detector's findings are
// never served because the mark says first that it is gone.
type findingCache struct {
	mu sync.RWMutex
	// version is the store's findings version every entry was read at.
	version int64
	entries map[findingKey]cachedFinding
	bytes   int
}

type findingKey struct{ account, region, detector, id string }

// cachedFinding is what GetFindings answers and sorts with.
type cachedFinding struct {
	sortKeys []any
	document json.RawMessage
}

// size approximates an entry's memory: the document, the key, the sort
// keys and the map's own overhead.
func (k findingKey) size(f cachedFinding) int {
	return len(f.document) + len(k.account) + len(k.region) + len(k.detector) + len(k.id) + 40*len(f.sortKeys) + 128
}

// lookup returns the entries cached for keys, as of the store's findings
// version (from a FindingsMark read before this call), and the keys it does
// not hold. A version newer than the cache's drops the cache first; an
// older one (a request whose mark was read before another's) is not
// served from it.
func (c *findingCache) lookup(version int64, keys []findingKey) (hits map[findingKey]cachedFinding, misses []findingKey) {
	c.mu.RLock()
	if version > c.version {
		c.mu.RUnlock()
		c.mu.Lock()
		if version > c.version {
			c.version, c.entries, c.bytes = version, nil, 0
		}
		c.mu.Unlock()
		c.mu.RLock()
	}
	defer c.mu.RUnlock()
	if version != c.version || len(c.entries) == 0 {
		return nil, keys
	}
	hits = make(map[findingKey]cachedFinding, len(keys))
	for _, k := range keys {
		if f, ok := c.entries[k]; ok {
			hits[k] = f
		} else {
			misses = append(misses, k)
		}
	}
	return hits, misses
}

// add caches findings read from the store after a FindingsMark that gave
// version, unless the cache has moved to another version since: entries
// read before a write must not outlive it. Random entries make room when
// the cache would exceed limit bytes.
func (c *findingCache) add(version int64, limit int, found []*Finding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version {
		return
	}
	if c.entries == nil {
		c.entries = make(map[findingKey]cachedFinding)
	}
	for _, f := range found {
		k := findingKey{f.AccountID, f.Region, f.DetectorID, f.ID}
		e := cachedFinding{sortKeys: f.SortKeys, document: f.Document}
		n := k.size(e)
		if n > limit/16 {
			continue // one huge document must not empty the cache
		}
		if old, ok := c.entries[k]; ok {
			delete(c.entries, k)
			c.bytes -= k.size(old)
		}
		for k2, old := range c.entries { // map order is random: evict a random few
			if c.bytes+n <= limit {
				break
			}
			delete(c.entries, k2)
			c.bytes -= k2.size(old)
		}
		c.entries[k] = e
		c.bytes += n
	}
}
