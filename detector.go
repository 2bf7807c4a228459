package guardpost

import (
	"context"
	"slices"
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
	// FindingsMark reports, as of one read, whether the scope has a
	// detector with that id and the store's findings version. Every read of
	// a detector's findings asks it (see Service.visibility), so it must be
	// as cheap as the store can make it, and it must never answer from a
	// copy that another node's write could have made stale.
	FindingsMark(ctx context.Context, scope Scope, id string) (FindingsMark, error)
	// Detectors returns up to limit detectors of the scope whose id sorts
	// after `after`, in id order.
	Detectors(ctx context.Context, scope Scope, after string, limit int) ([]*Detector, error)
	// UpdateDetector reads the detector, passes it to update and stores the
	// result (all but its tags, see TagStore), in one transaction, so that
	// concurrent updates never undo each other. ENOTFOUND when the scope
	// has no detector with that id; an error from update is returned as it is.
	UpdateDetector(ctx context.Context, scope Scope, id string, update func(*Detector) error) error
	// DeleteDetector removes a detector and, in the same transaction, all its
	// findings and every membership the scope's account administers in the
	// region. ENOTFOUND when it does not exist in the scope; ECONFLICT, and
	// nothing deleted, when one of those memberships is invited (status
	// Invited) or associated (invitation accepted). One transaction, so an
	// invitation sent while the detector goes either stops the deletion or
	// is deleted with it.
	DeleteDetector(ctx context.Context, scope Scope, id string) error
}

// Feature names. The first three are GuardDuty's foundational sources,
// always on and not configurable through the API.
var (
	foundationalFeatures = []string{"CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS"}
	// optionalFeatures maps each configurable feature to the additional
	// configurations it accepts and whether a new detector enables it by
	// default (as new GuardDuty accounts do for all but runtime monitoring).
	optionalFeatures = []struct {
		Name       string
		Additional []string
		Default    string
	}{
		{"S3_DATA_EVENTS", nil, DetectorEnabled},
		{"EKS_AUDIT_LOGS", nil, DetectorEnabled},
		{"EBS_MALWARE_PROTECTION", nil, DetectorEnabled},
		{"RDS_LOGIN_EVENTS", nil, DetectorEnabled},
		{"EKS_RUNTIME_MONITORING", []string{"EKS_ADDON_MANAGEMENT"}, DetectorDisabled},
		{"LAMBDA_NETWORK_LOGS", nil, DetectorEnabled},
		{"RUNTIME_MONITORING", []string{"EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT"}, DetectorDisabled},
	}
)

// DetectorSettings are the configurable parts of a detector, as
// CreateDetector and UpdateDetector take them. Nil or empty means "leave as
// is" (on create: the default).
type DetectorSettings struct {
	Enable                     *bool
	FindingPublishingFrequency string
	// Features requested by name; additional configurations by name inside.
	Features []DetectorFeature
}

// CreateDetector creates the scope's detector and returns its id. A repeat
// with the same client token returns the existing detector's id; any other
// second detector in the scope is rejected.
func (s *Service) CreateDetector(ctx context.Context, scope Scope, clientToken string, settings DetectorSettings, tags map[string]string) (string, error) {
	if err := checkNewTags(tags); err != nil {
		return "", err
	}
	now := s.now()
	d := newDetector(scope, now)
	d.ClientToken, d.Tags = clientToken, tags
	if err := applySettings(d, settings, now); err != nil {
		return "", err
	}
	err := s.Store.InsertDetector(ctx, d)
	if ErrorKind(err) != ECONFLICT {
		if err != nil {
			return "", err
		}
		return d.ID, nil
	}
	existing, lerr := s.Store.Detectors(ctx, scope, "", 1)
	if lerr != nil {
		return "", lerr
	}
	if len(existing) == 1 && clientToken != "" && existing[0].ClientToken == clientToken {
		return existing[0].ID, nil
	}
	return "", Errorf(EINVALID, msgDetectorExists)
}

// newDetector returns the scope's detector as CreateDetector makes it
// before settings: enabled, every foundational feature on, the optional
// ones at their defaults.
func newDetector(scope Scope, now time.Time) *Detector {
	d := &Detector{
		ID: NewID(), AccountID: scope.AccountID, Region: scope.Region,
		Status:                     DetectorEnabled,
		FindingPublishingFrequency: "SIX_HOURS",
		CreatedAt:                  now, UpdatedAt: now,
	}
	for _, name := range foundationalFeatures {
		d.Features = append(d.Features, DetectorFeature{Name: name, Status: DetectorEnabled, UpdatedAt: now})
	}
	for _, of := range optionalFeatures {
		f := DetectorFeature{Name: of.Name, Status: of.Default, UpdatedAt: now}
		for _, a := range of.Additional {
			f.AdditionalConfiguration = append(f.AdditionalConfiguration, FeatureConfiguration{Name: a, Status: DetectorDisabled, UpdatedAt: now})
		}
		d.Features = append(d.Features, f)
	}
	return d
}

// applySettings changes d as settings ask, stamping what changed with now.
func applySettings(d *Detector, s DetectorSettings, now time.Time) error {
	if s.Enable != nil {
		d.Status = DetectorDisabled
		if *s.Enable {
			d.Status = DetectorEnabled
		}
	}
	if s.FindingPublishingFrequency != "" {
		d.FindingPublishingFrequency = s.FindingPublishingFrequency
	}
	seen := map[string]bool{}
	for _, req := range s.Features {
		if seen[req.Name] {
			return Errorf(EINVALID, "%s The feature %s is listed more than once.", msgInvalidInput, req.Name)
		}
		seen[req.Name] = true
		i := slices.IndexFunc(d.Features, func(f DetectorFeature) bool { return f.Name == req.Name })
		if i < 0 || slices.Contains(foundationalFeatures, req.Name) {
			return Errorf(EINVALID, "%s The feature %s cannot be configured.", msgInvalidInput, req.Name)
		}
		f := &d.Features[i]
		if req.Status != "" && req.Status != f.Status {
			f.Status, f.UpdatedAt = req.Status, now
		}
		for _, ra := range req.AdditionalConfiguration {
			j := slices.IndexFunc(f.AdditionalConfiguration, func(a FeatureConfiguration) bool { return a.Name == ra.Name })
			if j < 0 {
				return Errorf(EINVALID, "%s The additional configuration %s does not apply to the feature %s.", msgInvalidInput, ra.Name, req.Name)
			}
			a := &f.AdditionalConfiguration[j]
			if ra.Status != "" && ra.Status != a.Status {
				a.Status, a.UpdatedAt = ra.Status, now
			}
		}
	}
	d.UpdatedAt = now
	return nil
}

// GetDetector returns a detector of the scope.
func (s *Service) GetDetector(ctx context.Context, scope Scope, id string) (*Detector, error) {
	return s.detector(ctx, scope, id)
}

// ListDetectors returns a page of the scope's detector ids and the token of
// the next page ("" on the last).
func (s *Service) ListDetectors(ctx context.Context, scope Scope, maxResults int, nextToken string) ([]string, string, error) {
	return s.pageOfNames("detectors|"+scope.AccountID+"|"+scope.Region, maxResults, nextToken,
		func(after string, limit int) ([]string, error) {
			ds, err := s.Store.Detectors(ctx, scope, after, limit)
			ids := make([]string, len(ds))
			for i, d := range ds {
				ids[i] = d.ID
			}
			return ids, err
		})
}

// UpdateDetector changes a detector's settings.
func (s *Service) UpdateDetector(ctx context.Context, scope Scope, id string, settings DetectorSettings) error {
	now := s.now()
	err := s.Store.UpdateDetector(ctx, scope, id, func(d *Detector) error { return applySettings(d, settings, now) })
	if ErrorKind(err) == ENOTFOUND {
		return Errorf(EINVALID, msgDetectorNotOwned)
	}
	return err
}

// DeleteDetector deletes a detector and its findings. A detector with
// invited or associated members cannot be deleted (the real service's
// rule, which Terraform retries on); its other members go with it, in the
// store's one transaction.
func (s *Service) DeleteDetector(ctx context.Context, scope Scope, id string) error {
	err := s.Store.DeleteDetector(ctx, scope, id)
	switch ErrorKind(err) {
	case ENOTFOUND:
		return Errorf(EINVALID, msgDetectorNotOwned)
	case ECONFLICT:
		return Errorf(EINVALID, msgDeleteDetectorMembers)
	}
	if err == nil {
		s.dropDetectorLists(scope, id) // the store deleted them with the detector
	}
	return err
}
