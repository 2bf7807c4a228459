package guardpost

import (
	"context"
	"slices"
	"strings"
)

// DetectorRef names one detector of an account, in the region of the
// Visibility that holds it.
type DetectorRef struct {
	AccountID  string
	DetectorID string
}

// Visibility is what one request may see among findings: the verified
// caller and the (account, detector) pairs whose findings it may read and
// act on, all in the caller's region. The service resolves it once per
// request and passes it to every finding read and write, so a store never
// decides tenancy from a document. An administrator sees its own detector
// and its monitored members' (see Service.visibility); a store serves any
// number of pairs, listing them as one keyset order.
type Visibility struct {
	Caller Scope
	// Detectors holds at least one pair, no pair twice, sorted by account
	// then detector (see NewVisibility).
	Detectors []DetectorRef
	// Version is the findings version (FindingsMark) the store reported
	// when the visibility was confirmed, 0 when unknown. A store may answer
	// from state at least that recent without asking again.
	Version int64
}

// NewVisibility returns the visibility of caller over the given detectors
// (a copy, sorted and without repeats).
func NewVisibility(caller Scope, detectors ...DetectorRef) Visibility {
	ds := slices.Clone(detectors)
	slices.SortFunc(ds, compareDetectorRefs)
	return Visibility{Caller: caller, Detectors: slices.Compact(ds)}
}

func compareDetectorRefs(a, b DetectorRef) int {
	if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
		return c
	}
	return strings.Compare(a.DetectorID, b.DetectorID)
}

// Region is the region every visible detector is in.
func (v Visibility) Region() string { return v.Caller.Region }

// visibility resolves what the caller may see through its detector
// detectorID: the 400 the real service answers when the caller does not
// own that detector, else its own detector and those of its monitored
// members (relationship Enabled) in the region. It is resolved anew for
// every request, so that StopMonitoringMembers, a disassociation or a
// deletion ends the administrator's view at once, also for the next page
// of a listing already under way.
func (s *Service) visibility(ctx context.Context, caller Scope, detectorID string) (Visibility, error) {
	vis := ownVisibility(caller, detectorID)
	m, err := s.confirmVisibility(ctx, vis)
	if err != nil {
		return Visibility{}, err
	}
	if m.Monitors {
		monitored, err := s.monitoredMembers(ctx, caller)
		if err != nil {
			return Visibility{}, err
		}
		if len(monitored) > 0 {
			vis = NewVisibility(caller, append(monitored, vis.Detectors...)...)
		}
	}
	vis.Version = m.Version
	return vis, nil
}

// monitoredMembers returns the detectors of the caller's members whose
// findings it sees: associated, monitored (Enabled) and with a detector in
// the caller's region.
func (s *Service) monitoredMembers(ctx context.Context, caller Scope) ([]DetectorRef, error) {
	ms, err := s.Store.Memberships(ctx, caller, "", 0, true)
	if err != nil {
		return nil, err
	}
	var refs []DetectorRef
	for _, m := range ms {
		if m.Status == RelationshipEnabled && m.DetectorID != "" {
			refs = append(refs, DetectorRef{AccountID: m.AccountID, DetectorID: m.DetectorID})
		}
	}
	return refs, nil
}

// ownVisibility is the visibility the caller claims through detectorID
// before the store confirms it: its own detector of that id.
func ownVisibility(caller Scope, detectorID string) Visibility {
	return Visibility{Caller: caller, Detectors: []DetectorRef{{AccountID: caller.AccountID, DetectorID: detectorID}}}
}

// FindingsMark is what a store reports before a read of a detector's
// findings (DetectorStore.FindingsMark): whether the detector exists, and
// the version of the store's findings at that moment.
type FindingsMark struct {
	Exists bool
	// Version is the findings version: once a finding write by any node
	// has committed, Version is greater than every value it had before
	// that write. A finding read while the version was v is therefore
	// unchanged for as long as the version is v (and the detector exists).
	// A store whose write numbers may commit out of order (PostgreSQL
	// sequences) must not use them as the version.
	Version int64
	// Monitors reports whether the scope's account has monitored members
	// in the region (MemberStore.Memberships, associated and Enabled):
	// only then does the service read which detectors they are, so that a
	// request of an account without members costs no second read.
	Monitors bool
}

// confirmVisibility checks that the detector vis was claimed through
// exists (see ownVisibility), answering the real service's 400 when it
// does not, and returns the store's findings mark. It asks the store each
// time: a detector another node deletes must be gone at once, and a store
// can tell that no cheaper than by looking.
func (s *Service) confirmVisibility(ctx context.Context, vis Visibility) (FindingsMark, error) {
	m, err := s.Store.FindingsMark(ctx, vis.Caller, vis.Detectors[0].DetectorID)
	if err != nil {
		return FindingsMark{}, err
	}
	if !m.Exists {
		return FindingsMark{}, Errorf(EINVALID, msgDetectorNotOwned)
	}
	return m, nil
}

// WriteReport says what one pipeline write did: the ids of the findings it
// created and of those it updated (a new occurrence aggregated into a
// stored finding, or a finding replaced by id), in the order written.
type WriteReport struct {
	Created []string
	Updated []string
}

// WriteFindings is the one entry point through which every producer
// (samples, imports, detection) writes findings. caller is the verified
// identity of the writer and detectorID its detector: a finding whose
// account, region or detector lies outside them is refused (EDENIED) and
// nothing is written. In one store transaction each finding is then
// aggregated (one with an AggregationKey folds into the stored finding of
// the same type and key, see mergeOccurrence; one without replaces the
// stored finding with its id, keeping its feedback comments) and archived
// when one of the detector's ARCHIVE filters matches it. A finding's
// Evidence is appended, in the same transaction, to what the finding it
// lands on keeps (see EvidenceStore).
func (s *Service) WriteFindings(ctx context.Context, caller Scope, detectorID string, findings []*Finding) (WriteReport, error) {
	return s.writeFindings(ctx, caller, detectorID, findings, nil)
}

// writeFindings is WriteFindings, writing the detection state too when
// state is not empty (see WriteDetections).
func (s *Service) writeFindings(ctx context.Context, caller Scope, detectorID string, findings []*Finding, state map[string][]byte) (WriteReport, error) {
	if len(findings) == 0 && len(state) == 0 {
		_, err := s.detector(ctx, caller, detectorID)
		return WriteReport{}, err
	}
	for _, f := range findings {
		if f == nil {
			return WriteReport{}, Errorf(EINVALID, "nil finding")
		}
		if f.AccountID != caller.AccountID || f.Region != caller.Region || f.DetectorID != detectorID {
			return WriteReport{}, Errorf(EDENIED, "The finding %s belongs to account %s, region %s, detector %s: the caller may write findings only to its own detector %s in account %s, region %s.",
				f.ID, f.AccountID, f.Region, f.DetectorID, detectorID, caller.AccountID, caller.Region)
		}
	}
	// An associated member's new findings also meet its administrator's
	// suppression rules (read before the write: a rule the administrator
	// changes meanwhile applies from the next write).
	adminFilters, err := s.administratorFilters(ctx, caller)
	if err != nil {
		return WriteReport{}, err
	}
	newMerge := newFindingMerge
	if len(adminFilters) > 0 {
		newMerge = func(own []*Filter) MergeFunc { return newFindingMerge(append(slices.Clone(adminFilters), own...)) }
	}
	// The store checks that the detector exists inside its transaction;
	// no separate read is needed for the real service's answer.
	var changes []FindingChange
	if len(state) == 0 {
		changes, err = s.Store.MergeFindings(ctx, caller, detectorID, findings, newMerge)
	} else {
		changes, err = s.Store.MergeDetections(ctx, caller, detectorID, findings, state, newMerge)
	}
	if ErrorKind(err) == ENOTFOUND {
		return WriteReport{}, Errorf(EINVALID, msgDetectorNotOwned)
	}
	if err != nil {
		return WriteReport{}, err
	}
	var report WriteReport
	for _, c := range changes {
		if c.Change == ChangeCreated {
			report.Created = append(report.Created, c.FindingID)
		} else {
			report.Updated = append(report.Updated, c.FindingID)
		}
	}
	if s.FindingsWritten != nil {
		s.FindingsWritten(report)
	}
	return report, nil
}

// newFindingMerge is the pipeline's rule for one transaction, given the
// detector's filters as that transaction reads them: aggregate or replace,
// then apply the ARCHIVE filters in rank order.
func newFindingMerge(filters []*Filter) MergeFunc {
	suppression := archiveCriteria(filters)
	return func(stored, incoming *Finding) (*Finding, error) {
		out := incoming
		switch {
		case stored == nil:
		case incoming.AggregationKey != "":
			var err error
			if out, err = mergeOccurrence(stored, incoming); err != nil {
				return nil, err
			}
		default:
			out.FeedbackComments = stored.FeedbackComments
		}
		return suppress(out, suppression)
	}
}
