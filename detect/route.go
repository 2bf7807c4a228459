package detect

import (
	"context"
	"slices"

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

// Route decides which detector analyses each record, on behalf of caller,
// whose detector in caller.Region analyses that region's records (and
// global events). Records of another account go to that account's
// detector when the caller administers the account and are rejected
// otherwise; records of another region are skipped. Only detectors that
// are enabled with the data source feature on get a batch; the others'
// records are accepted and analysed by nothing, as GuardDuty drops logs
// of a disabled source. The caller's own account must have a detector
// (EINVALID otherwise); a member without one has its records rejected.
// Batches come in account order.
func Route[R any](ctx context.Context, svc *guardpost.Service, caller guardpost.Scope, feature string, records []R, origin func(*R) Origin) ([]Batch[R], Report, error) {
	rep := Report{Records: len(records)}
	byAccount := map[string][]*R{}
	bytes := map[string]int64{}
	may := map[string]bool{caller.AccountID: true}
	for i := range records {
		rec := &records[i]
		o := origin(rec)
		ok, known := may[o.Account]
		if !known {
			var err error
			if ok, err = svc.Administers(ctx, caller, o.Account); err != nil {
				return nil, Report{}, err
			}
			may[o.Account] = ok
		}
		switch {
		case !ok:
			rep.Rejected++
		case o.Region != "" && o.Region != caller.Region && !o.Global:
			rep.Skipped++
		default:
			rep.Accepted++
			byAccount[o.Account] = append(byAccount[o.Account], rec)
			bytes[o.Account] += int64(o.Size)
		}
	}
	accounts := make([]string, 0, len(byAccount))
	for a := range byAccount {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)

	var batches []Batch[R]
	for _, account := range accounts {
		scope := guardpost.Scope{AccountID: account, Region: caller.Region}
		ds, err := svc.Store.Detectors(ctx, scope, "", 1)
		if err != nil {
			return nil, Report{}, err
		}
		if len(ds) == 0 {
			if account == caller.AccountID {
				return nil, Report{}, guardpost.Errorf(guardpost.EINVALID, "The request is rejected because account %s has no detector in %s. Create one (CreateDetector) before ingesting logs.", account, caller.Region)
			}
			// A member without a detector here: nothing analyses its records.
			rep.Accepted -= len(byAccount[account])
			rep.Rejected += len(byAccount[account])
			continue
		}
		d := ds[0]
		if d.Status != guardpost.DetectorEnabled || !FeatureEnabled(d, feature) {
			continue
		}
		batches = append(batches, Batch[R]{Scope: scope, Detector: d, Records: byAccount[account]})
		rep.Analysed = append(rep.Analysed, Analysed{Scope: scope, DetectorID: d.ID, DataSource: feature,
			Records: int64(len(byAccount[account])), Bytes: bytes[account]})
	}
	return batches, rep, ctx.Err()
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

// Write writes each detector's findings through the service's one
// findings pipeline (one transaction per detector) and counts them in rep.
// Callers analyse everything before writing anything, so that a malformed
// or refused body writes nothing.
func Write(ctx context.Context, svc *guardpost.Service, out []Findings, rep *Report) error {
	for _, w := range out {
		if len(w.Findings) == 0 {
			continue
		}
		wr, err := svc.WriteFindings(ctx, w.Scope, w.DetectorID, w.Findings)
		if err != nil {
			return err
		}
		rep.Created += len(wr.Created)
		rep.Updated += len(wr.Updated)
	}
	return nil
}
