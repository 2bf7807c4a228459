package guardpost

import (
	"encoding/json"
	"fmt"
	"testing"
)

func mustParse(t *testing.T, doc string) *Finding {
	t.Helper()
	f, err := ParseFinding([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const occurrenceDoc = `{"accountId":"111122223333","region":"us-east-1","id":"%s","arn":"arn:%s","type":"Recon:EC2/Portscan",
"severity":5,"createdAt":"%s","updatedAt":"%s","schemaVersion":"2.0",
"service":{"detectorId":"d1","count":%d,"eventFirstSeen":"%s","eventLastSeen":"%s"%s}}`

func occurrence(t *testing.T, id, at string, count int, extra string) *Finding {
	t.Helper()
	return mustParse(t, fmt.Sprintf(occurrenceDoc, id, id, at, at, count, at, at, extra))
}

// Everything that lives beside the document, and the user's marks inside
// it, must survive the rewrites the service makes: a new occurrence,
// suppression and archiving.
func TestRewritesKeepUserState(t *testing.T) {
	stored := occurrence(t, "f1", "2026-01-01T00:00:00.000Z", 3, `,"archived":true,"userFeedback":"USEFUL"`)
	stored.FeedbackComments = "seen before"
	stored.AggregationKey = "k"
	incoming := occurrence(t, "f2", "2026-02-01T00:00:00.000Z", 1, "")
	incoming.AggregationKey = "k"

	merged, err := mergeOccurrence(stored, incoming)
	if err != nil {
		t.Fatal(err)
	}
	if merged.ID != "f1" || !merged.Archived || merged.FeedbackComments != "seen before" || merged.AggregationKey != "k" {
		t.Fatalf("merged: id %s archived %t comments %q key %q; want f1, true, %q, k", merged.ID, merged.Archived, merged.FeedbackComments, merged.AggregationKey, "seen before")
	}
	var doc struct {
		CreatedAt string `json:"createdAt"`
		UpdatedAt string `json:"updatedAt"`
		Service   struct {
			Count          int    `json:"count"`
			EventFirstSeen string `json:"eventFirstSeen"`
			EventLastSeen  string `json:"eventLastSeen"`
			UserFeedback   string `json:"userFeedback"`
		} `json:"service"`
	}
	if err := json.Unmarshal(merged.Document, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Service.Count != 4 || doc.CreatedAt != "2026-01-01T00:00:00.000Z" || doc.UpdatedAt != "2026-02-01T00:00:00.000Z" ||
		doc.Service.EventFirstSeen != "2026-01-01T00:00:00.000Z" || doc.Service.EventLastSeen != "2026-02-01T00:00:00.000Z" ||
		doc.Service.UserFeedback != "USEFUL" {
		t.Fatalf("merged document: %+v", doc)
	}

	edited, err := editService(merged, func(svc map[string]any) { svc["archived"] = false })
	if err != nil {
		t.Fatal(err)
	}
	if edited.Archived || edited.FeedbackComments != "seen before" || edited.AggregationKey != "k" {
		t.Fatalf("edited: archived %t comments %q key %q", edited.Archived, edited.FeedbackComments, edited.AggregationKey)
	}
}
