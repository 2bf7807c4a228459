package main

import (
	"context"
	"errors"
	"fmt"
)

// group runs a process's long-lived components together: when one returns,
// the others are told to stop, so that a dead listener or a failed worker
// never leaves a half-working process behind.
type group struct {
	components []component
}

type component struct {
	name string
	run  func(ctx context.Context) error
}

// add registers a component. run must return soon after ctx ends, with nil
// when that was its only reason to stop.
func (g *group) add(name string, run func(ctx context.Context) error) {
	g.components = append(g.components, component{name, run})
}

// componentError is a component's failure, named.
type componentError struct {
	Component string
	Err       error
}

func (e *componentError) Error() string {
	return fmt.Sprintf("component %q failed: %v", e.Component, e.Err)
}

func (e *componentError) Unwrap() error { return e.Err }

// run starts every component and returns once all have returned. The first
// to return ends the ctx of the others. The result is nil after a stop asked
// for through ctx; otherwise it is a componentError for the first component
// that failed (returned an error, or returned at all before being stopped),
// joined with the errors of any others that failed while stopping.
func (g *group) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan *componentError, len(g.components))
	for _, c := range g.components {
		go func() {
			err := c.run(ctx)
			if err == nil && ctx.Err() == nil {
				err = errors.New("stopped unexpectedly")
			}
			if err != nil {
				results <- &componentError{c.name, err}
			} else {
				results <- nil
			}
		}()
	}
	var errs []error
	for range g.components {
		if e := <-results; e != nil {
			errs = append(errs, e)
		}
		cancel()
	}
	return errors.Join(errs...)
}
