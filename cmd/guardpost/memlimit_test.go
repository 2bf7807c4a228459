package main

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// TestFollowMemoryLimit: a fixed limit is set and given back at the end;
// the automatic one waits for ready, then follows the live heap.
func TestFollowMemoryLimit(t *testing.T) {
	current := func() int64 { return debug.SetMemoryLimit(-1) }
	before := current()
	waitFor := func(what string, ok func(int64) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(current()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the limit is %d", what, current())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- followMemoryLimit(ctx, 100, func() bool { return true }, func() bool { return false }) }()
	waitFor("fixed", func(l int64) bool { return l == 100<<20 })
	cancel()
	<-done
	if got := current(); got != before {
		t.Fatalf("after the end, the limit is %d, want %d back", got, before)
	}

	var ready atomic.Bool
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- followMemoryLimit(ctx, 0, ready.Load, func() bool { return false }) }()
	time.Sleep(1500 * time.Millisecond)
	if got := current(); got != math.MaxInt64 && got != before {
		t.Fatalf("before ready, the limit is %d, want none", got)
	}
	ready.Store(true)
	waitFor("automatic", func(l int64) bool { return l != math.MaxInt64 && l != before && l >= 16<<20 })
	cancel()
	<-done
}

// TestMemoryLimitRule: without collector pressure the limit is what the
// docs say, 1.125 × live + 32 MiB; under pressure the margin doubles each
// step up to its cap, holds between the two thresholds, and narrows back
// step by step, reporting the step where it is back at its base once.
func TestMemoryLimitRule(t *testing.T) {
	const live = 400 << 20
	documented := int64(live + live/8 + 32<<20)
	var r memoryLimitRule
	if got := r.limit(live); got != documented {
		t.Fatalf("zero rule: limit %d, want %d", got, documented)
	}
	for _, share := range []float64{0, 0.01, gcShareLow, gcShareHigh} {
		if r.widen(share, true) {
			t.Errorf("share %.2f without pressure before: settled", share)
		}
		if got := r.limit(live); got != documented {
			t.Errorf("share %.2f: limit %d, want %d", share, got, documented)
		}
	}
	writing := true
	step := func(share float64, wantMargin int64, wantSettled bool) {
		t.Helper()
		if settled := r.widen(share, writing); settled != wantSettled {
			t.Errorf("share %.2f: settled %v, want %v", share, settled, wantSettled)
		}
		if got := r.limit(live) - int64(live+live/8); got != wantMargin {
			t.Errorf("share %.2f: margin %d MiB, want %d MiB", share, got>>20, wantMargin>>20)
		}
	}
	step(0.3, 64<<20, false)
	step(0.11, 128<<20, false)
	step(0.5, 128<<20, false) // the cap
	step(0.07, 128<<20, false)
	step(0.01, 64<<20, false)
	step(0.08, 64<<20, false)
	step(0, 32<<20, true)
	step(0, 32<<20, false)
	// A read load alone never widens it, and ends a widening.
	writing = false
	step(0.5, 32<<20, false)
	step(0.5, 32<<20, false)
	writing = true
	step(0.5, 64<<20, false)
	writing = false
	step(0.5, 32<<20, true)
	if got := r.limit(live); got != documented {
		t.Fatalf("after the writes: limit %d, want %d", got, documented)
	}
	if got := r.limit(0); got != 32<<20 {
		t.Fatalf("empty heap: limit %d", got)
	}
}

// TestGCShare: the collector's share reads 0 the first time and stays
// within [0, 1] afterwards, rising when the process does nothing but
// collect.
func TestGCShare(t *testing.T) {
	var c gcCPU
	if s := c.share(); s != 0 {
		t.Fatalf("first share %v", s)
	}
	for range 20 {
		runtime.GC()
	}
	s := c.share()
	if s <= 0 || s > 1 {
		t.Fatalf("share after collecting only: %v", s)
	}
}
