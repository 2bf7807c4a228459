package guardpost

import "context"

// DetectionState returns the detection state named name that the last
// write of the detector's findings stored (see detect.Findings.State),
// nil when there is none.
//
// TODO(evidence helper): read it from the store; writes do not keep it yet.
func (s *Service) DetectionState(ctx context.Context, scope Scope, detectorID, name string) ([]byte, error) {
	return nil, nil
}
