package detect

import (
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
