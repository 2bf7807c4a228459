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

// autoMemoryLimit is the soft limit for a live heap of live bytes.
func autoMemoryLimit(live uint64) int64 { return int64(live + live/8 + 32<<20) }

// followMemoryLimit sets the runtime's soft memory limit until ctx ends:
// mib MiB when positive; none when negative; with 0, once ready reports
// the indexes built (before, the heap grows fast and a limit that trails
// it would make the build collect continually), the live heap plus a
// margin, re-read every second.
func followMemoryLimit(ctx context.Context, mib int, ready func() bool) error {
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
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !ready() {
			continue
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(autoMemoryLimit(sample[0].Value.Uint64()))
		}
	}
}
