package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/guardpost/guardpost"
)

// Doc is what every detection finding is made of: the members of
// GuardDuty's Finding object that a rule decides. NewDocument renders it
// with the members every finding has.
type Doc struct {
	Account, Region, DetectorID, ID string
	Type                            string
	Severity                        float64
	Title, Description              string
	Now                             time.Time // createdAt and updatedAt
	Resource, Service               map[string]any
}

// NewDocument renders d as GuardDuty's Finding object (schema 2.0), with
// the partition and ARN its region and ids imply.
func NewDocument(d Doc) map[string]any {
	partition := guardpost.Partition(d.Region)
	return map[string]any{
		"schemaVersion": "2.0",
		"accountId":     d.Account,
		"region":        d.Region,
		"partition":     partition,
		"id":            d.ID,
		"arn":           "arn:" + partition + ":guardduty:" + d.Region + ":" + d.Account + ":detector/" + d.DetectorID + "/finding/" + d.ID,
		"type":          d.Type,
		"severity":      d.Severity,
		"title":         d.Title,
		"description":   d.Description,
		"createdAt":     guardpost.ISOTime(d.Now),
		"updatedAt":     guardpost.ISOTime(d.Now),
		"resource":      d.Resource,
		"service":       d.Service,
	}
}

// FindingID is the id of the detection finding an aggregation key makes
// in a scope: a digest of where it belongs, its type and its key, so that
// the same logs make the same ids however they are sent, and replayed
// into another store. (A scope holds one detector at a time; a deleted
// detector's findings go with it.)
func FindingID(scope guardpost.Scope, findingType, key string) string {
	sum := sha256.Sum256([]byte(scope.AccountID + "\x00" + scope.Region + "\x00" + findingType + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// NewFinding renders d (see NewDocument) as the pipeline's Finding,
// aggregating on key.
func NewFinding(d Doc, key string) (*guardpost.Finding, error) {
	b, err := json.Marshal(NewDocument(d))
	if err != nil {
		return nil, err
	}
	f, err := guardpost.ParseFinding(b)
	if err != nil {
		return nil, err
	}
	f.AggregationKey = key
	return f, nil
}
