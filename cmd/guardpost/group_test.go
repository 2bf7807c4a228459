package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestGroupStopsEveryComponentWhenOneFails(t *testing.T) {
	boom := errors.New("boom")
	stopped := make(chan struct{})
	var g group
	g.add("http", func(ctx context.Context) error {
		<-ctx.Done()
		close(stopped)
		return nil
	})
	g.add("worker", func(ctx context.Context) error { return boom })
	err := runWithin(t, &g, context.Background())
	var ce *componentError
	if !errors.As(err, &ce) || ce.Component != "worker" || !errors.Is(err, boom) {
		t.Fatalf("group returned %v, want worker's boom", err)
	}
	if err.Error() != `component "worker" failed: boom` {
		t.Errorf("message %q", err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("the http component was not stopped")
	}
}

func TestGroupComponentReturningEarlyIsAFailure(t *testing.T) {
	var g group
	g.add("http", func(ctx context.Context) error { <-ctx.Done(); return nil })
	g.add("loader", func(ctx context.Context) error { return nil })
	err := runWithin(t, &g, context.Background())
	var ce *componentError
	if !errors.As(err, &ce) || ce.Component != "loader" {
		t.Fatalf("group returned %v, want loader stopped unexpectedly", err)
	}
}

func TestGroupStopAskedThroughContextIsClean(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var g group
	for _, name := range []string{"http", "worker"} {
		g.add(name, func(ctx context.Context) error { <-ctx.Done(); return nil })
	}
	time.AfterFunc(10*time.Millisecond, cancel)
	if err := runWithin(t, &g, ctx); err != nil {
		t.Fatalf("group returned %v after a stop asked for", err)
	}
}

func TestGroupReportsFailuresWhileStopping(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	drain := errors.New("drain timed out")
	var g group
	g.add("http", func(ctx context.Context) error { <-ctx.Done(); return drain })
	time.AfterFunc(10*time.Millisecond, cancel)
	if err := runWithin(t, &g, ctx); !errors.Is(err, drain) {
		t.Fatalf("group returned %v, want the http component's error in stopping", err)
	}
}

func runWithin(t *testing.T, g *group, ctx context.Context) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("group did not return")
		return nil
	}
}
