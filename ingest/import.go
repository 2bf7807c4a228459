package ingest

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/guardpost/guardpost"
)

// chunkRecords is how many records a worker takes at a time: enough that
// handing them over costs little next to reading them (~100 µs each).
const chunkRecords = 16

// Import reads the finding records of a body (see Records and Finding)
// and writes them into the caller's detector, all or nothing, as
// svc.ImportFindings(ctx, caller, Findings(r)) does, with the same answer
// and the same errors: the first record in body order that fails decides
// the error, and nothing is written. Records are decoded, checked and
// made stored findings on every core while the body is read; the body is
// read by one goroutine, a few chunks ahead of the slowest worker, and
// every goroutine has ended when Import returns.
func Import(ctx context.Context, svc *guardpost.Service, caller guardpost.Scope, r io.Reader) (guardpost.ImportReport, error) {
	im, err := svc.NewImport(ctx, caller)
	if err != nil {
		return guardpost.ImportReport{}, err
	}
	findings, err := prepareAll(ctx, im, r, runtime.GOMAXPROCS(0))
	if err != nil {
		return guardpost.ImportReport{}, err
	}
	return im.Write(ctx, findings)
}

// chunk is a run of consecutive records and, once done is closed, their
// findings, or the error of the first that failed (then findings holds the
// ones before it).
type chunk struct {
	recs     []Record
	readErr  error // the body's error right after recs
	findings []*guardpost.Finding
	err      error
	done     chan struct{}
}

// prepareAll turns every record of r into a stored finding, in body
// order, with workers goroutines.
func prepareAll(ctx context.Context, im *guardpost.FindingImport, r io.Reader, workers int) ([]*guardpost.Finding, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers = max(workers, 1)
	jobs := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers) // bounds how far the reader runs ahead
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reader
		defer wg.Done()
		defer close(jobs)
		defer close(order)
		c := &chunk{done: make(chan struct{})}
		send := func() bool {
			select {
			case order <- c:
			case <-ctx.Done():
				return false
			}
			jobs <- c // workers drain jobs until it is closed
			c = &chunk{done: make(chan struct{})}
			return true
		}
		for rec, err := range Records(r) {
			if err != nil {
				c.readErr = err
				break
			}
			c.recs = append(c.recs, rec)
			if len(c.recs) == chunkRecords && !send() {
				return
			}
		}
		if len(c.recs) > 0 || c.readErr != nil {
			send()
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				if ctx.Err() == nil {
					c.prepare(im)
				}
				close(c.done)
			}
		}()
	}
	defer func() {
		cancel() // a reader blocked on a full queue returns
		wg.Wait()
	}()

	var findings []*guardpost.Finding
	for c := range order {
		<-c.done
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		findings = append(findings, c.findings...)
		if c.err != nil {
			return nil, c.err
		}
	}
	if err := ctx.Err(); err != nil { // the reader stopped early
		return nil, err
	}
	return findings, nil
}

// prepare turns c's records into findings and, when they all are, reports
// the read error that followed them, as Findings words it.
func (c *chunk) prepare(im *guardpost.FindingImport) {
	c.findings = make([]*guardpost.Finding, 0, len(c.recs))
	for _, rec := range c.recs {
		f, err := prepare(im, rec)
		if err != nil {
			c.err = err
			return
		}
		c.findings = append(c.findings, f)
	}
	if c.readErr != nil {
		if errors.Is(c.readErr, ErrTooLarge) {
			c.err = c.readErr
		} else {
			c.err = guardpost.Errorf(guardpost.EINVALID, "%s", c.readErr.Error())
		}
	}
}

// prepare is what Findings and then ImportFindings do with one record,
// encoding the document once: decoded and normalized, made the caller's,
// encoded, checked against the model as it was before it was made the
// caller's, and read into a stored finding from the decoded tree.
func prepare(im *guardpost.FindingImport, rec Record) (*guardpost.Finding, error) {
	if f, ok := fastPrepare(im, rec); ok {
		return f, nil
	}
	return slowPrepare(im, rec)
}

// slowPrepare is prepare for any record: the general path, which gives
// every error its words (see fastPrepare).
func slowPrepare(im *guardpost.FindingImport, rec Record) (*guardpost.Finding, error) {
	doc, err := normalized(rec.JSON)
	if err != nil {
		return nil, guardpost.Errorf(guardpost.EINVALID, "Record %d: %s", rec.N, err.Error())
	}
	id, hasService := doc["id"], doc["service"] != nil
	im.Stamp(doc)
	b, err := marshalDoc(doc)
	if err != nil {
		return nil, im.MarshalError(rec.N, err)
	}
	if err := validateEncoded(doc, b, id, hasService); err != nil {
		return nil, guardpost.Errorf(guardpost.EINVALID, "Record %d: %s", rec.N, err.Error())
	}
	return im.Finding(rec.N, doc, b)
}
