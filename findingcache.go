package guardpost

import (
	"encoding/json"
	"sync"
)

// DefaultFindingCacheBytes bounds the documents GetFindings keeps in
// memory when Service.FindingCacheBytes is 0: about 5,000 findings of
// the usual 2.9 KB. (64 MiB took a server holding 10,000 findings from
// about 120 to 240 MiB of RSS with the garbage collector's headroom.)
const DefaultFindingCacheBytes = 16 << 20

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
	// entries holds each detector's findings by id: one lookup of the
	// detector, then one string key per finding.
	entries map[cacheDetector]map[string]cachedFinding
	bytes   int
}

// cacheDetector names a detector: account, region and id.
type cacheDetector struct{ account, region, detector string }

// cachedFinding is what GetFindings answers and sorts with: the document,
// or, when the store gave one, its packed form only (a generated finding's
// 2.9 KB document packs into about 600 bytes, so the cache holds about
// four times more findings; unpacking one costs about 2 µs). The zero
// value (neither) stands for a finding not held.
type cachedFinding struct {
	sortKeys []any
	document json.RawMessage
	packed   PackedDocument
}

// held reports whether f holds a finding.
func (f cachedFinding) held() bool { return f.document != nil || f.packed.Bytes != nil }

// entrySize approximates an entry's memory: the document or its packed
// form, the id, the sort keys and the map's own overhead.
func entrySize(id string, f cachedFinding) int {
	return len(f.document) + len(f.packed.Bytes) + len(id) + 40*len(f.sortKeys) + 128
}

// unpackAll reads the packed documents of got (as lookup set them) into
// one buffer.
func unpackAll(got []cachedFinding) error {
	// Documents pack to a fifth or less: one allocation, most often.
	packed := 0
	for _, f := range got {
		if f.document == nil {
			packed += len(f.packed.Bytes)
		}
	}
	buf := make([]byte, 0, 6*packed)
	ends := make([]int, len(got))
	for i, f := range got {
		if f.document == nil && f.packed.Bytes != nil {
			var err error
			if buf, err = f.packed.Unpack(buf, f.packed.Bytes); err != nil {
				return err
			}
		}
		ends[i] = len(buf)
	}
	start := 0
	for i := range got {
		if f := &got[i]; f.document == nil && f.packed.Bytes != nil {
			f.document = json.RawMessage(buf[start:ends[i]:ends[i]])
		}
		start = ends[i]
	}
	return nil
}

// maxCachedDetectors is how many visible detectors GetFindings looks ids
// up in (one lookup each); an administrator of more members reads from
// the store.
const maxCachedDetectors = 16

// lookup sets got[i] to the entry for ids[i] when it holds one and got[i]
// is not set yet (an earlier detector's lookup may have set it), as of the
// store's findings version (from a FindingsMark read before this call),
// and returns how many it set. A version newer than the cache's drops the
// cache first; a request with an older one (its mark was read before
// another request's) is not served from it.
func (c *findingCache) lookup(version int64, d cacheDetector, ids []string, got []cachedFinding) int {
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
	if version != c.version {
		return 0
	}
	held := c.entries[d]
	if len(held) == 0 {
		return 0
	}
	n := 0
	for i, id := range ids {
		if got[i].held() {
			continue
		}
		if f, ok := held[id]; ok {
			got[i] = f
			n++
		}
	}
	return n
}

// add caches findings of detector d read from the store after a
// FindingsMark that gave version, unless the cache has moved to another
// version since: entries read before a write must not outlive it. Random
// entries make room when the cache would exceed limit bytes.
func (c *findingCache) add(version int64, limit int, d cacheDetector, found []*Finding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version {
		return
	}
	if c.entries == nil {
		c.entries = make(map[cacheDetector]map[string]cachedFinding)
	}
	held := c.entries[d]
	if held == nil {
		held = make(map[string]cachedFinding)
		c.entries[d] = held
	}
	for _, f := range found {
		e := cachedFinding{sortKeys: f.SortKeys, document: f.Document}
		if f.Packed.Bytes != nil && f.Packed.Unpack != nil {
			e.document, e.packed = nil, f.Packed
		}
		n := entrySize(f.ID, e)
		if n > limit/16 {
			continue // one huge document must not empty the cache
		}
		if old, ok := held[f.ID]; ok {
			delete(held, f.ID)
			c.bytes -= entrySize(f.ID, old)
		}
		c.evict(limit - n)
		held[f.ID] = e
		c.bytes += n
	}
}

// evict drops random entries until the cache holds at most limit bytes.
// Map order is random, so the first entries met are a random few.
func (c *findingCache) evict(limit int) {
	for _, held := range c.entries {
		for id, e := range held {
			if c.bytes <= limit {
				return
			}
			delete(held, id)
			c.bytes -= entrySize(id, e)
		}
	}
}
