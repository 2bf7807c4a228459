package guardpost

import (
	"context"
	"encoding/json"
	"strings"
)

// Evidence is what GuardDuty does not give: the log records that made a
// detection finding, kept by the findings pipeline in the same transaction
// as the finding (Finding.Evidence), so that a responder sees exactly
// which events made it. It is bounded per finding: the first EvidenceKept
// and the latest EvidenceKept records across all its occurrences, each cut
// at MaxEvidenceRecordBytes, and the total count.

const (
	// EvidenceKept is how many of a finding's first records, and of its
	// latest, are kept.
	EvidenceKept = 5
	// MaxEvidenceRecordBytes bounds one kept record; a longer one is kept
	// cut (EvidenceRecord.Truncated).
	MaxEvidenceRecordBytes = 16 << 10
)

// EvidenceRecord is one kept record.
type EvidenceRecord struct {
	// Seq is the record's position among every record the finding was
	// made of, from 0 (oldest first): a gap between two kept records is
	// where records were left out.
	Seq int64
	// Size is the record's length as it was received.
	Size int
	// Data is the record as it was received, cut at MaxEvidenceRecordBytes.
	Data []byte
}

// Truncated reports whether Data holds only the beginning of the record.
func (r EvidenceRecord) Truncated() bool { return len(r.Data) < r.Size }

// Evidence is what is kept of a finding's records.
type Evidence struct {
	// Total is how many records made the finding across its occurrences.
	Total int64
	// Records are the kept ones, by Seq.
	Records []EvidenceRecord
}

// EvidenceStore reads what MergeFindings kept of findings' records: every
// MergeFindings (and MergeDetections) appends an incoming finding's
// Evidence to the finding it writes (by the written finding's id, so an
// occurrence aggregated into a stored finding adds to that finding's
// records), keeping what PlanEvidence says, in the same transaction. When
// merge gives the stored finding another id, its evidence moves to it.
// Deleting the detector deletes its findings' evidence.
type EvidenceStore interface {
	// Evidence returns the kept records of the scope's detector's finding
	// findingID, zero Evidence when there are none. The caller has checked
	// that the finding is visible.
	Evidence(ctx context.Context, scope Scope, detectorID, findingID string) (Evidence, error)
}

// EvidencePlan is how a store appends an occurrence's records to what a
// finding keeps: insert Insert, delete the kept records with Seq in
// [DropFrom, DropTo), and the finding's total becomes Total.
type EvidencePlan struct {
	Insert           []EvidenceRecord
	DropFrom, DropTo int64
	Total            int64
}

// PlanEvidence plans the append of records (an occurrence's Evidence, of
// which skipped more records were left out after the first EvidenceKept,
// see Finding.EvidenceSkipped) to a finding that holds total records so
// far. Every store keeps evidence by this plan.
func PlanEvidence(total int64, records [][]byte, skipped int) EvidencePlan {
	if skipped < 0 {
		skipped = 0
	}
	p := EvidencePlan{Total: total + int64(len(records)) + int64(skipped)}
	keep := func(seq int64) bool { return seq < EvidenceKept || seq >= p.Total-EvidenceKept }
	for i, r := range records {
		seq := total + int64(i)
		if i >= EvidenceKept {
			seq += int64(skipped)
		}
		if !keep(seq) {
			continue
		}
		rec := EvidenceRecord{Seq: seq, Size: len(r), Data: r}
		if len(r) > MaxEvidenceRecordBytes {
			rec.Data = r[:MaxEvidenceRecordBytes]
		}
		p.Insert = append(p.Insert, rec)
	}
	// The records kept before that are now neither among the first nor
	// among the latest.
	p.DropFrom, p.DropTo = EvidenceKept, min(total, p.Total-EvidenceKept)
	if p.DropTo < p.DropFrom {
		p.DropFrom, p.DropTo = 0, 0
	}
	return p
}

// msgFindingNotFound answers for a finding the caller does not see, the
// same whether it never existed or is another account's.
const msgFindingNotFound = "The request is rejected because the input findingId is not a finding of the detector or of the detectors of its monitored member accounts."

// FindingEvidence returns a finding the caller sees through its detector
// detectorID (its own, or a monitored member's for an administrator: the
// visibility of GetFindings) and the records kept as its evidence.
// EINVALID when the caller does not own the detector; ENOTFOUND when it
// sees no finding findingID.
func (s *Service) FindingEvidence(ctx context.Context, caller Scope, detectorID, findingID string) (*Finding, Evidence, error) {
	vis, err := s.visibility(ctx, caller, detectorID)
	if err != nil {
		return nil, Evidence{}, err
	}
	fs, err := s.Store.Findings(ctx, vis, []string{findingID})
	if err != nil {
		return nil, Evidence{}, err
	}
	if len(fs) == 0 {
		return nil, Evidence{}, Errorf(ENOTFOUND, msgFindingNotFound)
	}
	f := fs[0]
	ev, err := s.Store.Evidence(ctx, Scope{AccountID: f.AccountID, Region: f.Region}, f.DetectorID, f.ID)
	if err != nil {
		return nil, Evidence{}, err
	}
	return f, ev, nil
}

// EvidencePath is the path of a finding's evidence in guardpost's API.
func EvidencePath(detectorID, findingID string) string {
	return "/guardpost/v1/detector/" + detectorID + "/findings/" + findingID + "/evidence"
}

// The evidence summary a detection finding carries in
// service.additionalInfo (its value is JSON text): the producer writes
// {"evidence": {"records": N, "path": ...}, "firstEventID": ...,
// "eventID": ...} for its occurrence, and mergeOccurrence keeps it true
// across occurrences with mergeEvidenceSummary: the records add up, the
// first event id stays the stored one, the path names the stored
// finding, and the rest is the latest occurrence's.

// mergeEvidenceSummary folds the stored finding's additionalInfo summary
// into the incoming occurrence's (service objects of the decoded
// documents), for the finding that keeps id in detector detectorID. An
// additionalInfo that is not such a summary is left as it is.
func mergeEvidenceSummary(oldSvc, svc map[string]any, detectorID, id string) {
	newInfo, newSum := additionalInfoSummary(svc)
	if newSum == nil {
		return
	}
	ev, _ := newSum["evidence"].(map[string]any)
	if ev == nil {
		return
	}
	if _, oldSum := additionalInfoSummary(oldSvc); oldSum != nil {
		if first, ok := oldSum["firstEventID"]; ok {
			newSum["firstEventID"] = first
		}
		if oldEv, ok := oldSum["evidence"].(map[string]any); ok {
			ev["records"] = addNumbers(oldEv["records"], ev["records"])
		}
	}
	ev["path"] = EvidencePath(detectorID, id)
	b, err := json.Marshal(newSum)
	if err != nil {
		return
	}
	newInfo["value"] = string(b)
}

// additionalInfoSummary returns service.additionalInfo and its value
// decoded, when the value is a JSON object.
func additionalInfoSummary(svc map[string]any) (info, summary map[string]any) {
	if svc == nil {
		return nil, nil
	}
	info, _ = svc["additionalInfo"].(map[string]any)
	if info == nil {
		return nil, nil
	}
	text, _ := info["value"].(string)
	if !strings.HasPrefix(text, "{") {
		return info, nil
	}
	if err := decodeNumbers([]byte(text), &summary); err != nil {
		return info, nil
	}
	return info, summary
}

// addNumbers adds two JSON integers (json.Number), a missing one as 0.
func addNumbers(a, b any) any {
	n := func(v any) int64 {
		switch x := v.(type) {
		case json.Number:
			i, _ := x.Int64()
			return i
		case float64:
			return int64(x)
		case int64:
			return x
		case int:
			return int64(x)
		}
		return 0
	}
	return n(a) + n(b)
}
