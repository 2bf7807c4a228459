package main

import (
	"context"
	"math"
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
	go func() { done <- followMemoryLimit(ctx, 100, func() bool { return true }) }()
	waitFor("fixed", func(l int64) bool { return l == 100<<20 })
	cancel()
	<-done
	if got := current(); got != before {
		t.Fatalf("after the end, the limit is %d, want %d back", got, before)
	}

	var ready atomic.Bool
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- followMemoryLimit(ctx, 0, ready.Load) }()
	time.Sleep(1500 * time.Millisecond)
	if got := current(); got != math.MaxInt64 && got != before {
		t.Fatalf("before ready, the limit is %d, want none", got)
	}
	ready.Store(true)
	waitFor("automatic", func(l int64) bool { return l != math.MaxInt64 && l != before && l >= 16<<20 })
	cancel()
	<-done
}
