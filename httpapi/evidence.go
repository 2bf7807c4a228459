package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/guardpost/guardpost"
)

// EvidencePattern is guardpost's own endpoint for the log records that
// made a detection finding (guardpost.EvidencePath builds its paths).
const EvidencePattern = "/guardpost/v1/detector/{detectorId}/findings/{findingId}/evidence"

// evidenceAnswer is the answer of the evidence endpoint (see the README).
type evidenceAnswer struct {
	FindingID  string `json:"findingId"`
	DetectorID string `json:"detectorId"` // the finding's detector (a member's, for its administrator)
	AccountID  string `json:"accountId"`
	Region     string `json:"region"`
	Type       string `json:"type"`
	// Occurrences is the finding's service.count.
	Occurrences int64 `json:"occurrences"`
	// RecordCount is how many records made the finding; OmittedRecords
	// how many of them are not kept (between the first and the latest).
	RecordCount    int64            `json:"recordCount"`
	OmittedRecords int64            `json:"omittedRecords"`
	Records        []evidenceRecord `json:"records"`
}

// evidenceRecord is one kept record: a JSON record (CloudTrail, a DNS
// query log line) as its JSON value, anything else (a flow log line, a
// record cut at the bound) as a string.
type evidenceRecord struct {
	Index     int64           `json:"index"`
	Size      int             `json:"size"`
	Truncated bool            `json:"truncated,omitempty"`
	Record    json.RawMessage `json:"record"`
}

// maxPathID bounds the ids in the path, as the model bounds detectorId
// and findingId.
const maxPathID = 300

// getFindingEvidence answers the records kept for a finding the caller
// sees through its detector, with GetFindings' visibility: a finding of
// another account, or of another region, answers as one that never
// existed.
func (s *Server) getFindingEvidence(w http.ResponseWriter, r *http.Request) {
	_, id, admitted, err := s.authenticate(w, r, s.edge.limits.MaxBodyBytes, &s.edge.bodies, s.edge.limits.MaxBufferedBodyBytes, 0)
	defer admitted.release()
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if x, ok := w.(*exchange); ok {
		x.account = id.AccountID
	}
	detectorID, findingID := r.PathValue("detectorId"), r.PathValue("findingId")
	for _, p := range [...]struct{ name, v string }{{"detectorId", detectorID}, {"findingId", findingID}} {
		if len(p.v) > maxPathID {
			writeError(w, r, s.log, badRequest("The request is rejected because the input %s is longer than %d characters.", p.name, maxPathID))
			return
		}
	}
	scope := guardpost.Scope{AccountID: id.AccountID, Region: id.Region}
	f, ev, err := s.service.FindingEvidence(r.Context(), scope, detectorID, findingID)
	if err != nil {
		writeError(w, r, s.log, s.storageError(r, err))
		return
	}
	out := evidenceAnswer{FindingID: f.ID, DetectorID: f.DetectorID, AccountID: f.AccountID, Region: f.Region, Type: f.Type,
		Occurrences: occurrences(f.Document), RecordCount: ev.Total, OmittedRecords: ev.Total - int64(len(ev.Records)),
		Records: make([]evidenceRecord, len(ev.Records))}
	for i, rec := range ev.Records {
		out.Records[i] = evidenceRecord{Index: rec.Seq, Size: rec.Size, Truncated: rec.Truncated(), Record: recordValue(rec)}
	}
	s.writeResult(w, r, http.StatusOK, out)
}

// occurrences is a finding document's service.count (1 when absent).
func occurrences(doc []byte) int64 {
	var d struct {
		Service struct {
			Count *int64 `json:"count"`
		} `json:"service"`
	}
	if json.Unmarshal(doc, &d) != nil || d.Service.Count == nil {
		return 1
	}
	return *d.Service.Count
}

// recordValue is a kept record as a JSON value: itself when it is a whole
// JSON object, else a string of it.
func recordValue(rec guardpost.EvidenceRecord) json.RawMessage {
	data := bytes.TrimSpace(rec.Data)
	if !rec.Truncated() && len(data) > 0 && data[0] == '{' && json.Valid(data) {
		return data
	}
	b, _ := json.Marshal(string(rec.Data))
	return b
}
