package guardpost

import (
	"context"
	"fmt"
	"slices"
)

// Detection state is what an engine remembers between ingests (event-time
// windows, per-instance baselines), as named blobs per detector. It is
// written in the same store transaction as the findings it led to, so that
// after a crash or a restart the state and the findings agree: an ingest
// is either wholly applied (findings and state) or not at all, and a
// replay resumes exactly where the last answered ingest ended.

// Bounds of detection state. A blob beyond them is an engine's defect
// (engines bound their windows themselves), refused as an internal error
// rather than growing the database without limit.
const (
	// MaxDetectionStateBytes bounds one named blob.
	MaxDetectionStateBytes = 4 << 20
	// MaxDetectionStateName bounds a blob's name.
	MaxDetectionStateName = 200
)

// DetectionStateStore keeps detection state beside findings.
type DetectionStateStore interface {
	// MergeDetections is MergeFindings that also writes state, in the same
	// transaction: each named blob replaces the stored one of that name
	// (an empty, non-nil blob is stored as such; a nil blob deletes the
	// name). With no findings it still checks the detector (ENOTFOUND when
	// it does not exist) and writes the state.
	MergeDetections(ctx context.Context, scope Scope, detectorID string, findings []*Finding, state map[string][]byte, newMerge func(filters []*Filter) MergeFunc) ([]FindingChange, error)
	// DetectionState returns the blob named name of the scope's detector
	// detectorID, nil when there is none (also when the detector does not
	// exist). Deleting the detector deletes its state.
	DetectionState(ctx context.Context, scope Scope, detectorID, name string) ([]byte, error)
}

// DetectionState returns the detection state named name that the last
// write of the detector's findings stored (see WriteDetections), nil when
// there is none.
func (s *Service) DetectionState(ctx context.Context, scope Scope, detectorID, name string) ([]byte, error) {
	return s.Store.DetectionState(ctx, scope, detectorID, name)
}

// WriteDetections is WriteFindings for a detection engine: findings and
// the detector's detection state (named blobs, see DetectionStateStore)
// are written in one transaction. A write with state and no findings
// stores the state.
func (s *Service) WriteDetections(ctx context.Context, caller Scope, detectorID string, findings []*Finding, state map[string][]byte) (WriteReport, error) {
	if err := checkDetectionState(state); err != nil {
		return WriteReport{}, err
	}
	return s.writeFindings(ctx, caller, detectorID, findings, state)
}

// checkDetectionState refuses state beyond the bounds, naming the blob in
// the log (the client sees an internal error: its request was fine).
func checkDetectionState(state map[string][]byte) error {
	names := make([]string, 0, len(state))
	for name := range state {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case name == "" || len(name) > MaxDetectionStateName:
			return fmt.Errorf("detection state name %q: want 1 to %d bytes", name, MaxDetectionStateName)
		case len(state[name]) > MaxDetectionStateBytes:
			return fmt.Errorf("detection state %q is %d bytes, more than the %d a blob may hold", name, len(state[name]), MaxDetectionStateBytes)
		}
	}
	return nil
}
