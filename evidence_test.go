package guardpost

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestPlanEvidence appends occurrences one by one to a simulated store
// and checks that it keeps exactly the first and the latest EvidenceKept
// records, by position, whatever the sizes of the occurrences.
func TestPlanEvidence(t *testing.T) {
	for _, sizes := range [][]int{{1}, {3, 4, 1, 6}, {12}, {5, 5, 5}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {20, 1}} {
		kept := map[int64]string{}
		var total int64
		for _, n := range sizes {
			recs := make([][]byte, n)
			for i := range recs {
				recs[i] = fmt.Appendf(nil, "r%d", total+int64(i))
			}
			p := PlanEvidence(total, recs, 0)
			for seq := range kept {
				if seq >= p.DropFrom && seq < p.DropTo {
					delete(kept, seq)
				}
			}
			for _, r := range p.Insert {
				kept[r.Seq] = string(r.Data)
			}
			total = p.Total
		}
		want := map[int64]string{}
		for seq := range total {
			if seq < EvidenceKept || seq >= total-EvidenceKept {
				want[seq] = fmt.Sprintf("r%d", seq)
			}
		}
		if fmt.Sprint(kept) != fmt.Sprint(want) {
			t.Errorf("occurrences %v: kept %v, want %v", sizes, kept, want)
		}
	}
}

// TestMergeEvidenceSummary: on aggregation, the summary's record count
// adds up, the first event id stays the stored one and the path names the
// stored finding; the latest event id is the incoming one.
func TestMergeEvidenceSummary(t *testing.T) {
	info := func(v string) map[string]any {
		return map[string]any{"additionalInfo": map[string]any{"type": "default", "value": v}}
	}
	old := info(`{"eventID":"e2","firstEventID":"e1","evidence":{"records":2,"path":"/guardpost/v1/detector/d/findings/stored/evidence"}}`)
	svc := info(`{"eventID":"e9","firstEventID":"e7","evidence":{"records":3,"path":"/guardpost/v1/detector/d/findings/incoming/evidence"}}`)
	mergeEvidenceSummary(old, svc, "d", "stored")
	var got map[string]any
	if err := json.Unmarshal([]byte(svc["additionalInfo"].(map[string]any)["value"].(string)), &got); err != nil {
		t.Fatal(err)
	}
	want := `map[eventID:e9 evidence:map[path:/guardpost/v1/detector/d/findings/stored/evidence records:5] firstEventID:e1]`
	if fmt.Sprint(got) != want {
		t.Fatalf("merged summary %v, want %s", got, want)
	}
	// Another producer's additionalInfo is left as it is.
	other := info(`{"note":"x"}`)
	mergeEvidenceSummary(old, other, "d", "stored")
	if v := other["additionalInfo"].(map[string]any)["value"]; v != `{"note":"x"}` {
		t.Fatalf("foreign additionalInfo changed to %v", v)
	}
}
