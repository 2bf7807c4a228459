package guardpost

import (
	"context"
	"time"
)

// Detector statuses.
const (
	DetectorEnabled  = "ENABLED"
	DetectorDisabled = "DISABLED"
)

// Detector is the per-account, per-region GuardDuty resource that owns findings.
type Detector struct {
	ID        string
	AccountID string
	Region    string
	// ClientToken is the idempotency token of the CreateDetector call that made it.
	ClientToken                string
	Status                     string // DetectorEnabled or DetectorDisabled
	FindingPublishingFrequency string // FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS
	Features                   []DetectorFeature
	Tags                       map[string]string
	CreatedAt                  time.Time
	UpdatedAt                  time.Time
}

// DetectorFeature is one protection plan's state on a detector.
type DetectorFeature struct {
	Name                    string
	Status                  string
	UpdatedAt               time.Time
	AdditionalConfiguration []FeatureConfiguration
}

// FeatureConfiguration is one additional setting of a feature.
type FeatureConfiguration struct {
	Name      string
	Status    string
	UpdatedAt time.Time
}

// Feature returns the named feature, or false when the detector has none by that name.
func (d *Detector) Feature(name string) (DetectorFeature, bool) {
	for _, f := range d.Features {
		if f.Name == name {
			return f, true
		}
	}
	return DetectorFeature{}, false
}

// DetectorStore keeps detectors.
type DetectorStore interface {
	// InsertDetector stores a new detector. ECONFLICT when the scope already
	// has a detector (a scope holds at most one).
	InsertDetector(ctx context.Context, d *Detector) error
	// Detector returns one detector. ENOTFOUND when no detector with that id
	// exists in the scope.
	Detector(ctx context.Context, scope Scope, id string) (*Detector, error)
	// Detectors returns up to limit detectors of the scope whose id sorts
	// after `after`, in id order.
	Detectors(ctx context.Context, scope Scope, after string, limit int) ([]*Detector, error)
	// UpdateDetector replaces the stored detector with d. ENOTFOUND when it is gone.
	UpdateDetector(ctx context.Context, d *Detector) error
	// DeleteDetector removes a detector and, in the same transaction, all its
	// findings. ENOTFOUND when it does not exist in the scope.
	DeleteDetector(ctx context.Context, scope Scope, id string) error
}
