package detect

import (
	"context"
	"slices"
	"strings"

	"github.com/guardpost/guardpost"
)

// Report says what one ingest did.
type Report struct {
	Records  int // records read
	Accepted int // records of the caller's account, or an account it administers, for this region
	Rejected int // records of an account the caller may not analyse
	Skipped  int // records of another region (not global-service events)
	Created  int // findings created
	Updated  int // findings an occurrence was folded into
	// Analysed is, per detector that analysed records, what it analysed:
	// the volumes usage statistics report.
	Analysed []Analysed
	// Usage is, for engines that know which resource each record is
	// about, the same volumes by resource, and the resources seen (nil:
	// only Analysed).
	Usage *Usage
}

// Analysed is what one detector analysed of one ingest.
type Analysed struct {
	Scope      guardpost.Scope
	DetectorID string
	// DataSource is the detector feature that gated the analysis:
	// "CLOUD_TRAIL", "FLOW_LOGS" or "DNS_LOGS".
	DataSource string
	Records    int64
	Bytes      int64 // the records' sizes as they were received (decoded)
}

// Origin is where a record comes from, as Route reads it.
type Origin struct {
	// Account is the account the record belongs to (CloudTrail's
	// recipientAccountId, a flow log's account-id, a query log's
	// account_id).
	Account string
	// Region is the record's region; "" when the log format does not say
	// (then the record is taken to be of the signing region).
	Region string
	// Global marks events every region's detector analyses (CloudTrail's
	// IAM, STS and sign-in events).
	Global bool
	// Size is the record's size in bytes as received, for usage.
	Size int
}

// Batch is what one detector analyses of an ingest: the records of one
// account, in the order they came.
type Batch[R any] struct {
	Scope    guardpost.Scope
	Detector *guardpost.Detector
	Records  []*R
}

// Router decides which detector analyses each record of one ingest, on
// behalf of caller, whose detector in caller.Region analyses that
// region's records (and global events). Records of another account go to
// that account's detector when the caller administers the account and are
// rejected otherwise; records of another region are skipped. Only
// detectors that are enabled with the data source feature on get
// records; the others' records are accepted and analysed by nothing, as
// GuardDuty drops logs of a disabled source. The caller's own account
// must have a detector (EINVALID otherwise); a member without one has its
// records rejected. A Router takes a body in batches (Route), so a
// stream of any length is analysed in bounded memory.
type Router[R any] struct {
	svc     *guardpost.Service
	caller  guardpost.Scope
	feature string
	origin  func(*R) Origin
	rep     Report
	targets map[string]*target[R] // by account; nil: may not analyse
	// last is the target of the previous record's account: records of one
	// account come in runs, and most bodies hold one account.
	last        *target[R]
	lastAccount string
	// filled are the targets the current batch gave records to, and
	// batches the slice Route answers: both reused from batch to batch, so
	// that routing a stream allocates nothing once warm.
	filled  []*target[R]
	batches []Batch[R]
}

// target is an account whose records the caller may send.
type target[R any] struct {
	account  string
	detector *guardpost.Detector // nil: no detector analyses the records
	analysed int                 // index in rep.Analysed, -1 for none
	records  []*R                // the current batch's, reused
}

// NewRouter returns a router for one ingest of the data source feature
// ("CLOUD_TRAIL", "FLOW_LOGS", "DNS_LOGS"); origin says where a record
// comes from.
func NewRouter[R any](svc *guardpost.Service, caller guardpost.Scope, feature string, origin func(*R) Origin) *Router[R] {
	return &Router[R]{svc: svc, caller: caller, feature: feature, origin: origin, targets: map[string]*target[R]{}}
}

// Route sorts one batch of records into the batches each detector
// analyses, in account order, and counts them in the report. The batches
// point into records, and are valid until the next Route.
func (rt *Router[R]) Route(ctx context.Context, records []R) ([]Batch[R], error) {
	rt.rep.Records += len(records)
	for _, t := range rt.filled {
		t.records = t.records[:0]
	}
	rt.filled = rt.filled[:0]
	for i := range records {
		rec := &records[i]
		o := rt.origin(rec)
		t := rt.last
		if t == nil || o.Account != rt.lastAccount {
			var known bool
			if t, known = rt.targets[o.Account]; !known {
				var err error
				if t, err = rt.resolve(ctx, o.Account); err != nil {
					return nil, err
				}
				rt.targets[o.Account] = t
			}
			rt.last, rt.lastAccount = t, o.Account
		}
		switch {
		case t == nil:
			rt.rep.Rejected++
		case o.Region != "" && o.Region != rt.caller.Region && !o.Global:
			rt.rep.Skipped++
		default:
			rt.rep.Accepted++
			if t.analysed < 0 {
				continue
			}
			a := &rt.rep.Analysed[t.analysed]
			a.Records++
			a.Bytes += int64(o.Size)
			if len(t.records) == 0 {
				rt.filled = append(rt.filled, t)
			}
			t.records = append(t.records, rec)
		}
	}
	slices.SortFunc(rt.filled, func(a, b *target[R]) int { return strings.Compare(a.account, b.account) })
	rt.batches = rt.batches[:0]
	for _, t := range rt.filled {
		rt.batches = append(rt.batches, Batch[R]{Scope: rt.rep.Analysed[t.analysed].Scope, Detector: t.detector, Records: t.records})
	}
	return rt.batches, ctx.Err()
}

// resolve decides what becomes of an account's records: nil when the
// caller may not send them.
func (rt *Router[R]) resolve(ctx context.Context, account string) (*target[R], error) {
	if account != rt.caller.AccountID {
		ok, err := rt.svc.Administers(ctx, rt.caller, account)
		if err != nil || !ok {
			return nil, err
		}
	}
	scope := guardpost.Scope{AccountID: account, Region: rt.caller.Region}
	ds, err := rt.svc.Store.Detectors(ctx, scope, "", 1)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		if account == rt.caller.AccountID {
			return nil, guardpost.Errorf(guardpost.EINVALID, "The request is rejected because account %s has no detector in %s. Create one (CreateDetector) before ingesting logs.", account, rt.caller.Region)
		}
		// A member without a detector here: nothing analyses its records.
		return nil, nil
	}
	d := ds[0]
	if d.Status != guardpost.DetectorEnabled || !FeatureEnabled(d, rt.feature) {
		return &target[R]{account: account, analysed: -1}, nil
	}
	rt.rep.Analysed = append(rt.rep.Analysed, Analysed{Scope: scope, DetectorID: d.ID, DataSource: rt.feature})
	return &target[R]{account: account, detector: d, analysed: len(rt.rep.Analysed) - 1}, nil
}

// Report returns the counts so far (Created and Updated are the writer's).
func (rt *Router[R]) Report() Report { return rt.rep }

// Route routes a whole body at once (see Router).
func Route[R any](ctx context.Context, svc *guardpost.Service, caller guardpost.Scope, feature string, records []R, origin func(*R) Origin) ([]Batch[R], Report, error) {
	rt := NewRouter(svc, caller, feature, origin)
	batches, err := rt.Route(ctx, records)
	if err != nil {
		return nil, Report{}, err
	}
	return batches, rt.Report(), nil
}

// FeatureEnabled reports whether the detector's feature (data source) is
// on; a detector without the feature listed has it on.
func FeatureEnabled(d *guardpost.Detector, name string) bool {
	f, ok := d.Feature(name)
	return !ok || f.Status == guardpost.DetectorEnabled
}

// Findings is what analysis made for one detector.
type Findings struct {
	Scope      guardpost.Scope
	DetectorID string
	Findings   []*guardpost.Finding
	// State is the detector's detection state after this analysis, by
	// name (windows, baselines), written in the same transaction as the
	// findings, so that a restart resumes exactly where the last answered
	// ingest ended. Read it back with Service.DetectionState.
	State map[string][]byte
}

// Write writes each detector's findings and detection state through the
// service's one findings pipeline (one transaction per detector, see
// Service.WriteDetections) and counts them in rep. Callers analyse
// everything before writing anything, so that a malformed or refused body
// writes nothing.
func Write(ctx context.Context, svc *guardpost.Service, out []Findings, rep *Report) error {
	for _, w := range out {
		if len(w.Findings) == 0 && len(w.State) == 0 {
			continue
		}
		wr, err := svc.WriteDetections(ctx, w.Scope, w.DetectorID, w.Findings, w.State)
		if err != nil {
			return err
		}
		rep.Created += len(wr.Created)
		rep.Updated += len(wr.Updated)
	}
	return nil
}
