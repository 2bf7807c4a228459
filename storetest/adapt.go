package storetest

import (
	"context"

	"github.com/guardpost/guardpost"
)

// visOf is the visibility of one detector of a scope, as the service
// resolves it for a caller naming its own detector.
func visOf(scope guardpost.Scope, detectorID string) guardpost.Visibility {
	return guardpost.NewVisibility(scope, guardpost.DetectorRef{AccountID: scope.AccountID, DetectorID: detectorID})
}

// mergeAll writes findings with MergeFindings, one call per run of
// consecutive findings of one scope and detector. onKey decides a finding
// that lands on a stored one by aggregation key (nil: the incoming finding
// wins); a finding without a key replaces the stored finding with its id,
// and a new one is written as it is.
func mergeAll(ctx context.Context, st guardpost.Store, findings []*guardpost.Finding, onKey func(stored, incoming *guardpost.Finding) (*guardpost.Finding, error)) error {
	newMerge := func([]*guardpost.Filter) guardpost.MergeFunc {
		return func(stored, in *guardpost.Finding) (*guardpost.Finding, error) {
			if stored == nil || in.AggregationKey == "" || onKey == nil {
				return in, nil
			}
			return onKey(stored, in)
		}
	}
	for start := 0; start < len(findings); {
		f := findings[start]
		end := start + 1
		for end < len(findings) && findings[end].AccountID == f.AccountID &&
			findings[end].Region == f.Region && findings[end].DetectorID == f.DetectorID {
			end++
		}
		scope := guardpost.Scope{AccountID: f.AccountID, Region: f.Region}
		if _, err := st.MergeFindings(ctx, scope, f.DetectorID, findings[start:end], newMerge); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// updateAll is UpdateFindings over one detector of a scope, keeping only
// the error.
func updateAll(ctx context.Context, st guardpost.Store, scope guardpost.Scope, detectorID string, ids []string, update func(*guardpost.Finding) (*guardpost.Finding, error)) error {
	_, err := st.UpdateFindings(ctx, visOf(scope, detectorID), ids, update)
	return err
}

// insertFilter stores f with CreateFilter, whatever filters exist.
func insertFilter(ctx context.Context, st guardpost.Store, f *guardpost.Filter) error {
	return st.CreateFilter(ctx, guardpost.Scope{AccountID: f.AccountID, Region: f.Region}, f.DetectorID,
		func([]*guardpost.Filter) (*guardpost.Filter, error) { return f, nil })
}

// replaceFilter sets every field of the stored filter named like f to f's
// with UpdateFilter.
func replaceFilter(ctx context.Context, st guardpost.Store, f *guardpost.Filter) error {
	return st.UpdateFilter(ctx, guardpost.Scope{AccountID: f.AccountID, Region: f.Region}, f.DetectorID, f.Name,
		func(stored *guardpost.Filter) error {
			tags := stored.Tags
			*stored = *f
			stored.Tags = tags
			return nil
		})
}

// replaceDetector sets every field of the stored detector with d's key to
// d's with UpdateDetector.
func replaceDetector(ctx context.Context, st guardpost.Store, d *guardpost.Detector) error {
	return st.UpdateDetector(ctx, guardpost.Scope{AccountID: d.AccountID, Region: d.Region}, d.ID,
		func(stored *guardpost.Detector) error {
			tags := stored.Tags
			*stored = *d
			stored.Tags = tags
			return nil
		})
}
