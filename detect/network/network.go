// Package network turns VPC Flow Logs records into GuardDuty's EC2
// network findings.
//
// Every decision is made in event time, from the records' own start and
// end, and record by record in the order they came: an ingest split into
// any number of batches or requests, or across a restart, reaches the
// same findings as one request holding them all. The per-detector state
// (interfaces, windows, baselines) is bounded, expires with event time and
// is written with the findings (detect.Findings.State["network"]), so a
// new engine resumes where the last finished ingest ended.
package network

import (
	"context"
	"sync"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/intel"
)

// StateName is the name of the detection state network detection keeps
// (Service.DetectionState).
const StateName = "network"

// Options tune an engine; the zero value is the documented defaults.
type Options struct {
	// Thresholds are the per-type thresholds (nil: DefaultThresholds).
	Thresholds *Thresholds
	// InstanceOf maps a network interface to the instance it is attached
	// to, for records without instance-id (formats before v3); "" when
	// unknown, and then the finding names the interface. nil: no mapping.
	InstanceOf func(account, eni string) string
	// LoadState reads a detector's stored state (nil:
	// Service.DetectionState). Tests replace it with a fake store.
	LoadState func(ctx context.Context, scope guardpost.Scope, detectorID string) ([]byte, error)
	// Write writes the findings and state of an ingest (nil: detect.Write).
	Write func(ctx context.Context, svc *guardpost.Service, out []detect.Findings, rep *detect.Report) error
	// MaxTrackers bounds the windows one detector keeps at once (0:
	// 1,000,000); past it, new windows are not opened until old ones
	// expire.
	MaxTrackers int
}

// Engine analyses flow records, keeping the per-instance windows and
// baselines that outlive one ingest.
type Engine struct {
	svc     *guardpost.Service
	managed *intel.Managed
	opts    Options
	th      Thresholds

	// mu serialises analyses: one holds it from its first Add to Finish
	// or Abort, so that the windows see one ingest's records after
	// another's, never interleaved.
	mu   sync.Mutex
	dets map[detKey]*detState
	gen  uint64 // analyses begun, to invalidate per-analysis caches
}

type detKey struct {
	scope      guardpost.Scope
	detectorID string
}

// New returns an engine writing through svc; managed is the managed threat
// intelligence (nil: none).
func New(svc *guardpost.Service, managed *intel.Managed) *Engine {
	return NewEngine(svc, managed, Options{})
}

// NewEngine is New with options.
func NewEngine(svc *guardpost.Service, managed *intel.Managed, opts Options) *Engine {
	e := &Engine{svc: svc, managed: managed, opts: opts, th: DefaultThresholds(), dets: map[detKey]*detState{}}
	if opts.Thresholds != nil {
		e.th = *opts.Thresholds
	}
	if e.opts.MaxTrackers <= 0 {
		e.opts.MaxTrackers = 1_000_000
	}
	if e.opts.LoadState == nil {
		e.opts.LoadState = func(ctx context.Context, scope guardpost.Scope, detectorID string) ([]byte, error) {
			return svc.DetectionState(ctx, scope, detectorID, StateName)
		}
	}
	if e.opts.Write == nil {
		e.opts.Write = detect.Write
	}
	return e
}

// Analysis is one ingest: the caller adds the body's records in batches
// as it reads them, then Finish writes what they made, or Abort drops it
// (a malformed body writes nothing).
type Analysis struct {
	e      *Engine
	router *detect.Router[ingest.FlowRecord]
	now    time.Time
	gen    uint64
	locked bool
	// touched are the detectors this analysis changed, in the order first
	// seen.
	touched []*detState
	occs    map[occKey]*occurrence
	order   []*occurrence
	done    bool
	usage   detect.Usage
}

// Begin starts an ingest on behalf of caller, analysed by the detectors
// that analyse FLOW_LOGS (see detect.Router). now is the time findings are
// created at; the activity's times come from the records.
func (e *Engine) Begin(caller guardpost.Scope, now time.Time) *Analysis {
	origin := func(r *ingest.FlowRecord) detect.Origin {
		return detect.Origin{Account: r.AccountID, Region: r.Region, Size: r.Size}
	}
	return &Analysis{e: e, router: detect.NewRouter(e.svc, caller, "FLOW_LOGS", origin), now: now, occs: map[occKey]*occurrence{},
		usage: detect.Usage{Feature: "FLOW_LOGS"}}
}

// Add analyses one batch of flow records. The caller may reuse records once
// Add returns.
func (a *Analysis) Add(ctx context.Context, records []ingest.FlowRecord) error {
	batches, err := a.router.Route(ctx, records)
	if err != nil {
		return err
	}
	if len(batches) == 0 {
		return nil
	}
	a.lock()
	for _, b := range batches {
		d, err := a.detector(ctx, b.Scope, b.Detector.ID)
		if err != nil {
			return err
		}
		for _, r := range b.Records {
			a.usage.Add(b.Scope, b.Detector.ID, a.record(d, r), r.Size, time.Unix(r.End, 0))
		}
	}
	return ctx.Err()
}

func (a *Analysis) lock() {
	if !a.locked {
		a.e.mu.Lock()
		a.e.gen++
		a.gen = a.e.gen
		a.locked = true
	}
}

func (a *Analysis) unlock() {
	if a.locked {
		a.locked = false
		a.e.mu.Unlock()
	}
}

// detector returns the state of a detector, loading it from the store the
// first time the engine sees the detector.
func (a *Analysis) detector(ctx context.Context, scope guardpost.Scope, detectorID string) (*detState, error) {
	k := detKey{scope, detectorID}
	d := a.e.dets[k]
	if d == nil {
		b, err := a.e.opts.LoadState(ctx, scope, detectorID)
		if err != nil {
			return nil, err
		}
		d = newDetState(scope, detectorID)
		if err := d.decode(b); err != nil {
			// A state this version cannot read is dropped: detection
			// restarts its windows rather than refusing every ingest.
			d = newDetState(scope, detectorID)
			b = nil
		}
		d.durable = b
		a.e.dets[k] = d
	}
	if d.gen != a.gen {
		d.gen = a.gen
		d.resetCaches()
		a.touched = append(a.touched, d)
	}
	return d, nil
}

// Finish writes the findings and detection state of every batch added,
// one transaction per detector: once it returns, they are durable.
func (a *Analysis) Finish(ctx context.Context) (detect.Report, error) {
	rep := a.router.Report()
	if a.done {
		return rep, nil
	}
	a.done = true
	defer a.unlock()
	if err := ctx.Err(); err != nil {
		a.restore()
		return detect.Report{}, err
	}
	out := make([]detect.Findings, 0, len(a.touched))
	states := make([][]byte, len(a.touched))
	for i, d := range a.touched {
		d.expire(a.e.th)
		st, err := d.encode()
		if err != nil {
			a.restore()
			return detect.Report{}, err
		}
		states[i] = st
		w := detect.Findings{Scope: d.scope, DetectorID: d.detectorID, State: map[string][]byte{StateName: st}}
		for _, o := range a.order {
			if o.key.det != d {
				continue
			}
			f, err := a.finding(o)
			if err != nil {
				a.restore()
				return detect.Report{}, err
			}
			w.Findings = append(w.Findings, f)
		}
		out = append(out, w)
	}
	if err := a.e.opts.Write(ctx, a.e.svc, out, &rep); err != nil {
		a.restore()
		return detect.Report{}, err
	}
	for i, d := range a.touched {
		d.durable = states[i]
	}
	rep.Usage = &a.usage
	return rep, nil
}

// Abort drops the analysis: nothing is written, and the engine's state
// is what the last finished ingest left.
func (a *Analysis) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.restore()
	a.unlock()
}

// restore puts every detector this analysis changed back to its last
// durable state.
func (a *Analysis) restore() {
	for _, d := range a.touched {
		fresh := newDetState(d.scope, d.detectorID)
		if err := fresh.decode(d.durable); err != nil {
			fresh = newDetState(d.scope, d.detectorID)
		}
		fresh.durable = d.durable
		a.e.dets[detKey{d.scope, d.detectorID}] = fresh
	}
	a.touched = nil
}
