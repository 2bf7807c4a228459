package httpapi

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// countingRead is a reader of n records numbered 0..n-1, in batches, as
// ingest.ReadFlowLogs hands them: one slice reused.
func countingRead(n int, failAt int) func(io.Reader, int, func([]int) error) error {
	return func(_ io.Reader, batch int, fn func([]int) error) error {
		recs := make([]int, 0, batch)
		for i := range n {
			if i == failAt {
				return errors.New("Line 7: bad")
			}
			recs = append(recs, i)
			if len(recs) == batch {
				if err := fn(recs); err != nil {
					return err
				}
				recs = recs[:0]
			}
		}
		if len(recs) > 0 {
			return fn(recs)
		}
		return nil
	}
}

// TestPipeline: every record reaches add once, in order, though the
// reader reuses its slice; an error of add stops the reader and is the
// one returned; a read error comes back after the batches before it.
func TestPipeline(t *testing.T) {
	const n = 10*logBatch + 17
	next := 0
	addErr, readErr := pipeline(context.Background(), strings.NewReader(""), countingRead(n, -1), func(recs []int) error {
		for _, r := range recs {
			if r != next {
				t.Fatalf("record %d, want %d", r, next)
			}
			next++
		}
		return nil
	})
	if addErr != nil || readErr != nil || next != n {
		t.Fatalf("%v %v, %d records", addErr, readErr, next)
	}

	stop := errors.New("stop")
	batches := 0
	addErr, readErr = pipeline(context.Background(), strings.NewReader(""), countingRead(1000*logBatch, -1), func([]int) error {
		batches++
		if batches == 3 {
			return stop
		}
		return nil
	})
	if addErr != stop || readErr != nil || batches != 3 {
		t.Fatalf("add failing: %v %v after %d batches", addErr, readErr, batches)
	}

	next = 0
	addErr, readErr = pipeline(context.Background(), strings.NewReader(""), countingRead(n, 3*logBatch+5), func(recs []int) error {
		next += len(recs)
		return nil
	})
	if addErr != nil || readErr == nil || readErr.Error() != "Line 7: bad" || next != 3*logBatch {
		t.Fatalf("read failing: %v %v after %d records", addErr, readErr, next)
	}
}
