package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/intel"
)

// IngestCloudTrailPath is guardpost's own endpoint for analysing
// CloudTrail logs.
const IngestCloudTrailPath = "/guardpost/v1/ingest/cloudtrail"

// SetIntel gives CloudTrail analysis the managed threat intelligence
// (Tor exit nodes, malicious addresses). Call before serving.
func (s *Server) SetIntel(m *intel.Managed) { s.intel = m }

// cloudTrailResult is the answer of a CloudTrail ingest.
type cloudTrailResult struct {
	Records         int `json:"records"`
	Accepted        int `json:"accepted"`
	Rejected        int `json:"rejected"`
	Skipped         int `json:"skipped"`
	FindingsCreated int `json:"findingsCreated"`
	FindingsUpdated int `json:"findingsUpdated"`
}

// ingestCloudTrail analyses a body of CloudTrail logs (log files as
// CloudTrail writes them, or JSON lines of records, optionally gzip) with
// the caller's detector and answers what it found (see detect.Ingest).
// Authentication, limits and encodings are those of ingestFindings.
func (s *Server) ingestCloudTrail(w http.ResponseWriter, r *http.Request) {
	content, id, admitted, ok := s.openIngestBody(w, r)
	defer admitted.release()
	if !ok {
		return
	}
	records, err := detect.Parse(content)
	if errors.Is(err, ingest.ErrTooLarge) {
		writeError(w, r, s.log, &apiError{Status: http.StatusRequestEntityTooLarge, Type: "BadRequestException",
			Message: sprintf("The decoded request body is larger than %d bytes: send fewer records per request.", ingestDecodedLimit)})
		return
	}
	if err != nil {
		writeError(w, r, s.log, badRequest("%s", err.Error()))
		return
	}
	scope := guardpost.Scope{AccountID: id.AccountID, Region: id.Region}
	now := time.Now()
	report, err := detect.Ingest(r.Context(), s.service, s.intel, scope, records, now)
	if err = s.storageError(r, err); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if s.enis != nil {
		s.keepENIs(r, report, s.enis.Learn(records, s.mayAnalyse(r.Context(), scope)))
	}
	s.recordUsage(r, report, now)
	s.observeCloudTrail(r, scope, records, report)
	out, _ := json.Marshal(cloudTrailResult{Records: report.Records, Accepted: report.Accepted, Rejected: report.Rejected,
		Skipped: report.Skipped, FindingsCreated: report.Created, FindingsUpdated: report.Updated})
	s.writeResult(w, r, http.StatusOK, rawJSON(out))
}

// keepENIs stores the interface pairs an ingest taught, by account, in
// the detection state of the account's detector that analysed its
// records, for the network engine to find after a restart. A failure is
// logged, as usage's is: the findings are durable, and the pairs are
// still known in memory.
func (s *Server) keepENIs(r *http.Request, report detect.Report, learned map[string]map[string]string) {
	for _, a := range report.Analysed {
		pairs := learned[a.Scope.AccountID]
		if len(pairs) == 0 {
			continue
		}
		stored, err := s.service.DetectionState(r.Context(), a.Scope, a.DetectorID, detect.ENIStateName)
		if err == nil {
			var state []byte
			if state, err = detect.MergePairs(stored, pairs); err == nil {
				_, err = s.service.WriteDetections(r.Context(), a.Scope, a.DetectorID, nil, map[string][]byte{detect.ENIStateName: state})
			}
		}
		if err != nil && guardpost.ErrorKind(err) != guardpost.ENOTFOUND {
			s.log.ErrorContext(r.Context(), "learned interfaces not stored", "account", a.Scope.AccountID, "pairs", len(pairs), "err", err)
		}
	}
}

// mayAnalyse returns whether the caller may send an account's records:
// its own, or a member's it administers (answers cached for one request).
func (s *Server) mayAnalyse(ctx context.Context, caller guardpost.Scope) func(account string) bool {
	known := map[string]bool{caller.AccountID: true}
	return func(account string) bool {
		ok, seen := known[account]
		if !seen {
			ok, _ = s.service.Administers(ctx, caller, account)
			known[account] = ok
		}
		return ok
	}
}
