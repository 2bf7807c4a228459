package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The Go runtime collects when the heap has grown by GOGC percent (100)
// over what the last collection left live: a server whose index holds
// 300 MB may reach 600 MB before it collects. The soft memory limit
// (debug.SetMemoryLimit) makes it collect sooner. serve keeps the limit
// at the live heap plus a margin (--memory-limit 0, the default): the
// heap then peaks at about 1.125 × live + 32 MiB instead of 2 × live, at
// the cost of a collection after every eighth of the live heap (+ 32 MiB)
// allocated. The index is mostly pointer-free slices, which the
// collector does not scan, so a collection costs little (docs/storage.md
// has the measured cost).
//
// Bulk writes are the exception: an import of 2,000 findings allocates
// hundreds of MB in a second, whatever the size of the index, and a
// 32 MiB margin then makes the runtime collect several times per request
// (367–424 collections to import 100,000 findings into an empty detector,
// a fifth of the server's CPU, against 85 with GOGC alone and 137–155
// with the rule below). So the margin widens while an ingest is under way
// and the collector takes more than gcShareHigh of the process's CPU,
// doubling each second up to maxMemoryMargin, and narrows back, halving
// each second, once no ingest is under way or the collector takes less
// than gcShareLow. A read load alone never widens it: at 1,000,000
// findings the ops load makes the collector take ~17% of the CPU, and a
// margin widened for it held RSS at 548 MiB instead of 502-508 MiB,
// over the 512 MiB the index is kept within. When the writes stop, the
// limit is 1.125 × live + 32 MiB again within seconds, after one
// collection that returns the rest to the operating system.
const (
	baseMemoryMargin = 32 << 20
	maxMemoryMargin  = 128 << 20
	gcShareHigh      = 0.10
	gcShareLow       = 0.05
)

// memoryLimitRule is the automatic limit: the live heap plus an eighth,
// plus a margin that follows the collector's cost.
type memoryLimitRule struct {
	margin uint64
}

// widen takes the share of the process's CPU the collector took since the
// last call, and whether an ingest is under way, and adjusts the margin;
// settled is true when the margin has just come back to its base after
// being wider: the writes are over.
func (r *memoryLimitRule) widen(gcShare float64, writing bool) (settled bool) {
	was := max(r.margin, baseMemoryMargin)
	r.margin = was
	switch {
	case writing && gcShare > gcShareHigh:
		r.margin = min(2*r.margin, maxMemoryMargin)
	case !writing || gcShare < gcShareLow:
		r.margin = max(r.margin/2, baseMemoryMargin)
	}
	return was > baseMemoryMargin && r.margin == baseMemoryMargin
}

// limit is the soft limit for a live heap of live bytes.
func (r *memoryLimitRule) limit(live uint64) int64 {
	return int64(live + live/8 + max(r.margin, baseMemoryMargin))
}

// followMemoryLimit sets the runtime's soft memory limit until ctx ends:
// mib MiB when positive; none when negative; with 0, once ready reports
// the indexes built (before, the heap grows fast and a limit that trails
// it would make the build collect continually), the live heap plus a
// margin (memoryLimitRule), re-read every second; writing reports whether
// an ingest is under way.
func followMemoryLimit(ctx context.Context, mib int, ready, writing func() bool) error {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	switch {
	case mib > 0:
		debug.SetMemoryLimit(int64(mib) << 20)
		<-ctx.Done()
		return nil
	case mib < 0:
		<-ctx.Done()
		return nil
	}
	var (
		rule   memoryLimitRule
		cpu    gcCPU
		sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		share := cpu.share() // since the last tick, ready or not
		if !ready() {
			continue
		}
		if rule.widen(share, writing()) {
			// The heap still holds the writes' garbage, and the live heap
			// last measured counts what they held then: without
			// allocations nothing would collect it (nor give its pages
			// back) for minutes. One collection now, and the pages go
			// back; then the limit follows the live heap.
			debug.FreeOSMemory()
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(rule.limit(sample[0].Value.Uint64()))
		}
	}
}

// gcCPU reads the collector's share of the process's CPU from the
// runtime's estimates: the time its Ps spent collecting, of the time they
// spent not idle (both include time the operating system gave to other
// processes, so the ratio, not either figure, is what means something).
type gcCPU struct {
	sample   []metrics.Sample
	gc, busy float64 // at the last call
}

// share is the collector's share since the last call (0 the first time,
// and when the process did nothing).
func (c *gcCPU) share() float64 {
	first := c.sample == nil
	if first {
		c.sample = []metrics.Sample{
			{Name: "/cpu/classes/gc/total:cpu-seconds"},
			{Name: "/cpu/classes/total:cpu-seconds"},
			{Name: "/cpu/classes/idle:cpu-seconds"},
		}
	}
	metrics.Read(c.sample)
	for _, s := range c.sample {
		if s.Value.Kind() != metrics.KindFloat64 {
			return 0
		}
	}
	gc := c.sample[0].Value.Float64()
	busy := c.sample[1].Value.Float64() - c.sample[2].Value.Float64()
	dgc, dbusy := gc-c.gc, busy-c.busy
	c.gc, c.busy = gc, busy
	if first || dbusy <= 0 || dgc < 0 {
		return 0
	}
	return dgc / dbusy
}
