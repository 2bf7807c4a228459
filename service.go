package guardpost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// Service carries out the GuardDuty operations over a Store. The business
// rules live here so every storage engine shares them.
type Service struct {
	Store   Store
	Samples SampleCatalog
	// Tokens signs and checks pagination tokens.
	Tokens *TokenSigner
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FindingsWritten, when set, is told what each committed write of the
	// findings pipeline did (metrics count it).
	FindingsWritten func(WriteReport)
	// FindingCacheBytes bounds the memory GetFindings keeps findings in
	// (see findingCache): 0 means DefaultFindingCacheBytes, less than 0 no
	// cache.
	FindingCacheBytes int
	// MaxMembers bounds the member accounts of one administrator in one
	// region: 0 means DefaultMaxMembers.
	MaxMembers int
	// FetchList reads the files of threat lists; nil: lists cannot be
	// activated (they end in ERROR).
	FetchList ListFetcher
	// ThreatListSync is how often the lists' in-memory view is checked
	// against the store (other nodes' changes); 0: DefaultThreatListSync.
	ThreatListSync time.Duration
	// Organizations is the directory of AWS Organizations (from the
	// credentials file); nil knows none. SetOrganizations replaces it
	// while the service runs.
	Organizations *Organizations

	findings   findingCache
	lists      threatLists
	listAdmins listAdmins
	orgs       atomic.Pointer[Organizations] // set by SetOrganizations; nil: Organizations
}

// SetOrganizations replaces the directory of organizations (the
// credentials file changed) while requests run; SyncOrganizations then
// brings the organizations' members up to date with it.
func (s *Service) SetOrganizations(o *Organizations) { s.orgs.Store(o) }

// organizations is the directory in use.
func (s *Service) organizations() *Organizations {
	if o := s.orgs.Load(); o != nil {
		return o
	}
	return s.Organizations
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// NewID returns a GuardDuty-style identifier: 32 lowercase hex characters.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("guardpost: crypto/rand failed: " + err.Error()) // never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Messages the real service uses for the commonest rejections.
const (
	msgDetectorNotOwned = "The request is rejected because the input detectorId is not owned by the current account."
	msgDetectorExists   = "The request is rejected because a detector already exists for the current account."
	msgInvalidInput     = "The request is rejected because an invalid or out-of-range value is specified as an input parameter."
	msgInvalidToken     = "The request is rejected because the input nextToken is invalid: it is malformed or belongs to another request."
)

// detector loads a detector of the scope, turning "not found" into the
// 400 the real service answers for a detector id the caller does not own.
func (s *Service) detector(ctx context.Context, scope Scope, id string) (*Detector, error) {
	d, err := s.Store.Detector(ctx, scope, id)
	if ErrorKind(err) == ENOTFOUND {
		return nil, Errorf(EINVALID, msgDetectorNotOwned)
	}
	return d, err
}
