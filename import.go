package guardpost

import (
	"context"
	"encoding/json"
	"iter"
)

// ImportReport says what one import did.
type ImportReport struct {
	Records int // findings read
	Created int // of which new findings
	Updated int // of which replaced a stored finding with the same id
}

// ImportFindings writes findings read from outside (another GuardDuty, an
// export, an earlier guardpost) into the caller's detector in the caller's
// region. docs yields canonical Finding documents, already validated
// against the model (see package ingest), and is read to its end before
// anything is written: an error it yields, or one found here, aborts the
// import with nothing written, and the write itself is one transaction.
//
// Each document is made the caller's, whatever it says: accountId, region,
// partition, arn and service.detectorId are set from the caller and its
// detector. An id is kept when present, so importing a finding again
// replaces it, and assigned otherwise.
//
// Errors: EINVALID when the caller has no detector in its region or a
// document is not a finding; whatever docs yields; the kinds of
// WriteFindings.
func (s *Service) ImportFindings(ctx context.Context, caller Scope, docs iter.Seq2[map[string]any, error]) (ImportReport, error) {
	ds, err := s.Store.Detectors(ctx, caller, "", 1)
	if err != nil {
		return ImportReport{}, err
	}
	if len(ds) == 0 {
		return ImportReport{}, Errorf(EINVALID, "The request is rejected because account %s has no detector in %s. Create one (CreateDetector) before importing findings.", caller.AccountID, caller.Region)
	}
	detectorID := ds[0].ID
	partition := Partition(caller.Region)
	arnPrefix := "arn:" + partition + ":guardduty:" + caller.Region + ":" + caller.AccountID + ":detector/" + detectorID + "/finding/"
	var findings []*Finding
	n := 0
	for doc, err := range docs {
		if err != nil {
			return ImportReport{}, err
		}
		n++
		id, _ := doc["id"].(string)
		if id == "" {
			id = NewID()
			doc["id"] = id
		}
		doc["accountId"], doc["region"], doc["partition"], doc["arn"] = caller.AccountID, caller.Region, partition, arnPrefix+id
		svc, _ := doc["service"].(map[string]any)
		if svc == nil {
			svc = map[string]any{}
			doc["service"] = svc
		}
		svc["detectorId"] = detectorID
		b, err := json.Marshal(doc)
		if err != nil {
			return ImportReport{}, Errorf(EINVALID, "Record %d: %v", n, err)
		}
		f, err := ParseFinding(b)
		if err != nil {
			return ImportReport{}, Errorf(EINVALID, "Record %d: %s", n, ErrorMessage(err))
		}
		findings = append(findings, f)
		if err := ctx.Err(); err != nil {
			return ImportReport{}, err
		}
	}
	if len(findings) == 0 {
		return ImportReport{}, nil
	}
	report, err := s.WriteFindings(ctx, caller, detectorID, findings)
	if err != nil {
		return ImportReport{}, err
	}
	return ImportReport{Records: n, Created: len(report.Created), Updated: len(report.Updated)}, nil
}
