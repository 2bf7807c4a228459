package guardpost

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/guardpost/guardpost/intel"
)

// ThreatListKind is one of the four list resources of the API. Its value
// is the resource's segment in ARNs and URLs (detector/ID/ipset/ID).
type ThreatListKind string

const (
	KindIPSet            ThreatListKind = "ipset"            // trusted IP list (legacy)
	KindThreatIntelSet   ThreatListKind = "threatintelset"   // threat IP list (legacy)
	KindTrustedEntitySet ThreatListKind = "trustedentityset" // trusted IPs and domains
	KindThreatEntitySet  ThreatListKind = "threatentityset"  // threat IPs and domains
)

// ThreatListKinds lists every kind.
var ThreatListKinds = []ThreatListKind{KindIPSet, KindThreatIntelSet, KindTrustedEntitySet, KindThreatEntitySet}

// threatListRules are what the user guide says of each kind: trusted lists
// suppress findings, threat lists make them; a detector holds one trusted
// list of up to 2,000 entries and up to six threat lists of up to 250,000;
// only entity lists may hold domains.
type threatListRules struct {
	noun        string // as in the API's operation names
	trusted     bool
	domains     bool
	perDetector int
	maxEntries  int
}

var listRules = map[ThreatListKind]threatListRules{
	KindIPSet:            {"IPSet", true, false, 1, 2000},
	KindThreatIntelSet:   {"ThreatIntelSet", false, false, 6, 250000},
	KindTrustedEntitySet: {"TrustedEntitySet", true, true, 1, 2000},
	KindThreatEntitySet:  {"ThreatEntitySet", false, true, 6, 250000},
}

// Trusted reports whether lists of kind k suppress findings (rather than
// make them).
func (k ThreatListKind) Trusted() bool { return listRules[k].trusted }

// Noun is the kind's name in the API ("IPSet", "ThreatEntitySet", ...).
func (k ThreatListKind) Noun() string { return listRules[k].noun }

// The list statuses of the API.
const (
	ListInactive      = "INACTIVE"
	ListActivating    = "ACTIVATING"
	ListActive        = "ACTIVE"
	ListDeactivating  = "DEACTIVATING"
	ListError         = "ERROR"
	ListDeletePending = "DELETE_PENDING"
	ListDeleted       = "DELETED"
)

// MaxThreatListBytes is the largest list file GuardDuty reads (35 MB).
const MaxThreatListBytes = 35 << 20

// ThreatList is an IP set, threat intel set or entity set of a detector.
// Status moves as the real service's does: ACTIVATING while the file is
// fetched and read in the background, then ACTIVE or ERROR (ErrorDetails
// says why); DEACTIVATING then INACTIVE; DELETE_PENDING then DELETED. A
// deleted list stays readable with status DELETED, which is how
// Terraform's AWS provider learns that a delete finished.
type ThreatList struct {
	AccountID, Region, DetectorID string
	Kind                          ThreatListKind
	ID                            string
	Name                          string
	Format                        string
	Location                      string
	ExpectedBucketOwner           string
	Status                        string
	ErrorDetails                  string
	// Generation counts the status changes asked for; the background work
	// of an older generation finds it changed and leaves the list alone.
	Generation  int64
	Entries     int // entries read at the last activation
	Tags        map[string]string
	ClientToken string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ThreatListStore keeps threat lists and the entries read from them.
type ThreatListStore interface {
	// CreateThreatList reads the detector's lists of kind (deleted ones
	// too) and stores the list decide returns (none when nil), in one
	// transaction. ENOTFOUND when the detector does not exist in scope.
	CreateThreatList(ctx context.Context, scope Scope, detectorID string, kind ThreatListKind, decide func(existing []*ThreatList) (*ThreatList, error)) error
	// ThreatList returns one list, deleted ones included. ENOTFOUND when
	// the detector has no such list.
	ThreatList(ctx context.Context, scope Scope, detectorID string, kind ThreatListKind, id string) (*ThreatList, error)
	// ThreatLists returns up to limit lists of kind that are not DELETED,
	// with ids after `after`, in id order; limit 0 or less: no limit.
	ThreatLists(ctx context.Context, scope Scope, detectorID string, kind ThreatListKind, after string, limit int) ([]*ThreatList, error)
	// UpdateThreatList reads the list, passes it to update and stores the
	// result (all but tags and entries), in one transaction. ENOTFOUND
	// when there is no such list.
	UpdateThreatList(ctx context.Context, scope Scope, detectorID string, kind ThreatListKind, id string, update func(*ThreatList) error) error
	// FinishThreatList stores l's Status, ErrorDetails and Entries with
	// entries (nil: none) if the stored list is still at l.Generation,
	// and reports whether it was.
	FinishThreatList(ctx context.Context, l *ThreatList, entries []string) (bool, error)
	// ThreatListEntries returns the entries stored with l.
	ThreatListEntries(ctx context.Context, l *ThreatList) ([]string, error)
	// UnsettledThreatLists returns the lists of every scope that are
	// ACTIVE (to load their entries) or on their way to another status
	// (to finish the way).
	UnsettledThreatLists(ctx context.Context) ([]*ThreatList, error)
}

// ListFetcher reads the file at a list's location, at most maxBytes of it
// (more is an error). The intel/fetch package provides one for http(s),
// file and s3 locations.
type ListFetcher func(ctx context.Context, location, expectedBucketOwner string, maxBytes int64) ([]byte, error)

// msgThreatListNotFound is GuardDuty's text for an IP set or threat intel
// set that does not exist; Terraform's provider matches it on delete (see
// docs/aws-messages.md).
const msgThreatListNotFound = "The request is rejected since no such resource found."

// checkListName enforces the documented name alphabet: letters, digits,
// whitespace, dash and underscore (the model allows 1 to 300 characters).
func checkListName(name string) error {
	if name == "" || len(name) > 300 {
		return Errorf(EINVALID, "%s The name must be 1 to 300 characters long.", msgInvalidInput)
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == ' ' || r == '\t' || r == '-' || r == '_') {
			return Errorf(EINVALID, "%s The name %q contains %q: use only letters, digits, whitespace, dash (-) and underscore (_).", msgInvalidInput, name, r)
		}
	}
	return nil
}

// checkLocation accepts the location forms the user guide lists (S3 URIs
// and S3 HTTPS URLs) and, since guardpost runs outside AWS, any http(s)
// URL and file:// paths.
func checkLocation(loc string) error {
	for _, p := range []string{"https://", "http://", "s3://", "file://"} {
		if strings.HasPrefix(strings.ToLower(loc), p) && len(loc) > len(p) {
			return nil
		}
	}
	return Errorf(EINVALID, "%s The location %q is not a URL: use s3://bucket/key, https://..., http://... or file:///path.", msgInvalidInput, loc)
}

func checkFormat(format string) error {
	switch format {
	case intel.FormatTXT, intel.FormatSTIX, intel.FormatOTXCSV, intel.FormatAlienVault, intel.FormatProofPoint, intel.FormatFireEye:
		return nil
	}
	return Errorf(EINVALID, "%s The format must be one of TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE.", msgInvalidInput)
}

// ThreatListSettings are the changeable parts of a list as the Update
// operations take them; nil leaves a field as it is.
type ThreatListSettings struct {
	Name, Location, ExpectedBucketOwner *string
	Activate                            *bool
}

// CreateThreatList creates a list of the detector and returns its id; with
// activate it starts reading the file in the background (ACTIVATING). A
// repeat with the same client token returns the same id.
func (s *Service) CreateThreatList(ctx context.Context, scope Scope, detectorID string, l ThreatList, activate bool) (string, error) {
	rules, ok := listRules[l.Kind]
	if !ok {
		return "", fmt.Errorf("guardpost: unknown threat list kind %q", l.Kind)
	}
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return "", err
	}
	if err := s.refuseMemberLists(ctx, scope, l.Kind); err != nil {
		return "", err
	}
	if err := checkListName(l.Name); err != nil {
		return "", err
	}
	if err := checkFormat(l.Format); err != nil {
		return "", err
	}
	if err := checkLocation(l.Location); err != nil {
		return "", err
	}
	if err := checkNewTags(l.Tags); err != nil {
		return "", err
	}
	now := s.now()
	l.AccountID, l.Region, l.DetectorID, l.ID = scope.AccountID, scope.Region, detectorID, NewID()
	l.CreatedAt, l.UpdatedAt, l.Generation, l.Status = now, now, 1, ListInactive
	if activate {
		l.Status = ListActivating
	}
	id := l.ID
	var created *ThreatList
	err := s.Store.CreateThreatList(ctx, scope, detectorID, l.Kind, func(existing []*ThreatList) (*ThreatList, error) {
		if l.ClientToken != "" {
			if i := slices.IndexFunc(existing, func(e *ThreatList) bool { return e.ClientToken == l.ClientToken }); i >= 0 {
				id = existing[i].ID
				return nil, nil
			}
		}
		live := 0
		for _, e := range existing {
			if e.Status != ListDeleted && e.Status != ListDeletePending {
				live++
			}
		}
		if live >= rules.perDetector {
			return nil, Errorf(EINVALID, "The request is rejected because the detector already has the maximum of %d %s resources.", rules.perDetector, rules.noun)
		}
		c := l
		created = &c
		return created, nil
	})
	if ErrorKind(err) == ENOTFOUND {
		return "", Errorf(EINVALID, msgDetectorNotOwned)
	}
	if err != nil {
		return "", err
	}
	if created != nil && created.Status == ListActivating {
		s.startListWork(created)
	}
	return id, nil
}

// GetThreatList returns a list of the detector, DELETED ones included.
func (s *Service) GetThreatList(ctx context.Context, scope Scope, detectorID string, kind ThreatListKind, id string) (*ThreatList, error) {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return nil, err
	}
	l, err := s.Store.ThreatList(ctx, scope, detectorID, kind, id)
	if ErrorKind(err) == ENOTFOUND {
		return nil, Errorf(EINVALID, msgThreatListNotFound)
	}
	return l, err
}

// UpdateThreatList renames, relocates, activates or deactivates a list.
// Activating (again) rereads the file, as does a new location of a list
// in use; deactivating drops the entries.
func (s *Service) UpdateThreatList(ctx context.Context, scope Scope, detectorID string, kind ThreatListKind, id string, set ThreatListSettings) error {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return err
	}
	if err := s.refuseMemberLists(ctx, scope, kind); err != nil {
		return err
	}
	if set.Name != nil {
		if err := checkListName(*set.Name); err != nil {
			return err
		}
	}
	if set.Location != nil {
		if err := checkLocation(*set.Location); err != nil {
			return err
		}
	}
	var work *ThreatList
	err := s.Store.UpdateThreatList(ctx, scope, detectorID, kind, id, func(l *ThreatList) error {
		if l.Status == ListDeleted || l.Status == ListDeletePending {
			return Errorf(ENOTFOUND, "deleted")
		}
		moved := set.Location != nil && *set.Location != l.Location
		if set.Name != nil {
			l.Name = *set.Name
		}
		if set.Location != nil {
			l.Location = *set.Location
		}
		if set.ExpectedBucketOwner != nil {
			l.ExpectedBucketOwner = *set.ExpectedBucketOwner
		}
		inUse := l.Status == ListActive || l.Status == ListActivating
		switch {
		case set.Activate != nil && *set.Activate, set.Activate == nil && moved && inUse:
			l.Status, l.ErrorDetails = ListActivating, ""
			l.Generation++
		case set.Activate != nil && !*set.Activate && l.Status != ListInactive:
			l.Status, l.ErrorDetails = ListDeactivating, ""
			l.Generation++
		}
		l.UpdatedAt = s.now()
		if l.Status == ListActivating || l.Status == ListDeactivating {
			c := *l
			work = &c
		}
		return nil
	})
	if ErrorKind(err) == ENOTFOUND {
		return Errorf(EINVALID, msgThreatListNotFound)
	}
	if err != nil {
		return err
	}
	if work != nil {
		s.startListWork(work)
	}
	return nil
}

// DeleteThreatList deletes a list: DELETE_PENDING, then DELETED once its
// entries are gone from detection.
func (s *Service) DeleteThreatList(ctx context.Context, scope Scope, detectorID string, kind ThreatListKind, id string) error {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return err
	}
	if err := s.refuseMemberLists(ctx, scope, kind); err != nil {
		return err
	}
	var work *ThreatList
	err := s.Store.UpdateThreatList(ctx, scope, detectorID, kind, id, func(l *ThreatList) error {
		if l.Status == ListDeleted || l.Status == ListDeletePending {
			return Errorf(ENOTFOUND, "deleted")
		}
		l.Status, l.ErrorDetails, l.UpdatedAt = ListDeletePending, "", s.now()
		l.Generation++
		c := *l
		work = &c
		return nil
	})
	if ErrorKind(err) == ENOTFOUND {
		return Errorf(EINVALID, msgThreatListNotFound)
	}
	if err != nil {
		return err
	}
	s.startListWork(work)
	return nil
}

// ListThreatLists returns a page of the detector's list ids of kind (not
// the deleted ones) and the next page's token.
func (s *Service) ListThreatLists(ctx context.Context, scope Scope, detectorID string, kind ThreatListKind, maxResults int, nextToken string) ([]string, string, error) {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return nil, "", err
	}
	return s.pageOfNames(string(kind)+"|"+scope.AccountID+"|"+scope.Region+"|"+detectorID, maxResults, nextToken,
		func(after string, limit int) ([]string, error) {
			ls, err := s.Store.ThreatLists(ctx, scope, detectorID, kind, after, limit)
			ids := make([]string, len(ls))
			for i, l := range ls {
				ids[i] = l.ID
			}
			return ids, err
		})
}

// threatLists is the in-memory side of the lists: the entries of every
// ACTIVE list, compiled for lookup by detection, and the background work
// that moves lists between statuses.
type threatLists struct {
	mu     sync.RWMutex
	active map[listOwner]map[string]*activeList // by list id
	// applied is the generation of each list whose outcome setActive last
	// applied: an outcome of an older generation that arrives late (its
	// goroutine was slow between the store and here) is ignored.
	applied map[string]int64
	ctx     context.Context // of RunThreatLists; nil: not running
	stopped bool            // RunThreatLists has ended: start no more work
	work    sync.WaitGroup
}

type listOwner struct{ account, region, detector string }

type activeList struct {
	kind    ThreatListKind
	name    string
	matcher *intel.Matcher
}

func ownerOf(l *ThreatList) listOwner { return listOwner{l.AccountID, l.Region, l.DetectorID} }

// startListWork carries l to its next status in the background.
func (s *Service) startListWork(l *ThreatList) {
	s.lists.mu.Lock()
	if s.lists.stopped {
		// Shutting down: the list keeps its status in the store and the
		// next start finishes the change.
		s.lists.mu.Unlock()
		return
	}
	ctx := s.lists.ctx
	s.lists.work.Add(1)
	s.lists.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	go func() {
		defer s.lists.work.Done()
		s.finishListWork(ctx, l)
	}()
}

func (s *Service) finishListWork(ctx context.Context, l *ThreatList) {
	var entries []string
	next := *l
	switch l.Status {
	case ListActivating:
		var err error
		entries, err = s.readList(ctx, l)
		if ctx.Err() != nil {
			return // stopping: the list stays ACTIVATING and is resumed at the next start
		}
		if err != nil {
			next.Status, next.ErrorDetails, entries = ListError, err.Error(), nil
		} else {
			next.Status, next.ErrorDetails = ListActive, ""
		}
	case ListDeactivating:
		next.Status = ListInactive
	case ListDeletePending:
		next.Status = ListDeleted
	default:
		return
	}
	next.Entries = len(entries)
	// An activated list is matched before the store says ACTIVE: a client
	// that polls until ACTIVE (Terraform does) must find it in use. An
	// outcome a newer change superseded is dropped by its generation.
	if next.Status == ListActive {
		s.setActive(&next, entries)
	}
	ok, err := s.Store.FinishThreatList(ctx, &next, entries)
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			slog.Default().Error("threat list: storing the outcome failed", "list", l.ID, "err", err)
		}
		return
	}
	if next.Status != ListActive {
		s.setActive(&next, entries)
	}
}

// readList fetches and parses a list, within the kind's limits.
func (s *Service) readList(ctx context.Context, l *ThreatList) ([]string, error) {
	if s.FetchList == nil {
		return nil, fmt.Errorf("the list at %s cannot be read: this server reads no list locations", l.Location)
	}
	data, err := s.FetchList(ctx, l.Location, l.ExpectedBucketOwner, MaxThreatListBytes)
	if err != nil {
		return nil, fmt.Errorf("the list at %s could not be read: %v", l.Location, err)
	}
	rules := listRules[l.Kind]
	entries, err := intel.ParseList(l.Format, data, rules.domains)
	if err != nil {
		return nil, fmt.Errorf("the list at %s is not valid %s: %v", l.Location, l.Format, err)
	}
	if len(entries) > rules.maxEntries {
		return nil, fmt.Errorf("the list at %s has %d entries, more than the %d a %s may have", l.Location, len(entries), rules.maxEntries, rules.noun)
	}
	return entries, nil
}

// setActive puts an ACTIVE list's entries into detection's view, or takes
// out a list of any other status.
func (s *Service) setActive(l *ThreatList, entries []string) {
	var a *activeList
	if l.Status == ListActive {
		a = &activeList{kind: l.Kind, name: l.Name, matcher: intel.Compile(entries)}
	}
	s.lists.mu.Lock()
	defer s.lists.mu.Unlock()
	if s.lists.applied == nil {
		s.lists.applied = map[string]int64{}
	}
	if s.lists.applied[l.ID] > l.Generation {
		return
	}
	s.lists.applied[l.ID] = l.Generation
	o := ownerOf(l)
	if s.lists.active == nil {
		s.lists.active = map[listOwner]map[string]*activeList{}
	}
	if a == nil {
		delete(s.lists.active[o], l.ID)
		return
	}
	if s.lists.active[o] == nil {
		s.lists.active[o] = map[string]*activeList{}
	}
	s.lists.active[o][l.ID] = a
}

// dropDetectorLists forgets the lists of a deleted detector.
func (s *Service) dropDetectorLists(scope Scope, detectorID string) {
	s.lists.mu.Lock()
	defer s.lists.mu.Unlock()
	o := listOwner{scope.AccountID, scope.Region, detectorID}
	for id := range s.lists.active[o] {
		delete(s.lists.applied, id)
	}
	delete(s.lists.active, o)
}

// RunThreatLists loads the entries of the ACTIVE lists into memory,
// finishes the status changes an earlier run left unfinished, and then
// runs the background work of list changes until ctx ends; it returns
// once that work has stopped.
func (s *Service) RunThreatLists(ctx context.Context) error {
	s.lists.mu.Lock()
	s.lists.ctx = ctx
	s.lists.mu.Unlock()
	ls, err := s.Store.UnsettledThreatLists(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while loading: the next start loads them
		}
		return err
	}
	for _, l := range ls {
		if l.Status != ListActive {
			s.startListWork(l)
			continue
		}
		entries, err := s.Store.ThreatListEntries(ctx, l)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		s.setActive(l, entries)
	}
	interval := s.ThreatListSync
	if interval <= 0 {
		interval = DefaultThreatListSync
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			if err := s.syncThreatLists(ctx); err != nil && ctx.Err() == nil {
				slog.Default().Warn("threat lists: syncing with the store failed; retrying at the next tick", "err", err)
			}
		}
	}
	s.lists.mu.Lock()
	s.lists.stopped = true // no Add may race the Wait below
	s.lists.mu.Unlock()
	s.lists.work.Wait()
	return nil
}

// ListMatcher is what detection asks of a detector's ACTIVE lists: trusted
// entries suppress findings, threat list entries make the .Custom finding
// types naming the list. *Service answers from memory, without the store.
type ListMatcher interface {
	TrustedIP(scope Scope, detectorID string, ip netip.Addr) bool
	TrustedDomain(scope Scope, detectorID, name string) bool
	ThreatListIP(scope Scope, detectorID string, ip netip.Addr) (ThreatListMatch, bool)
	ThreatListDomain(scope Scope, detectorID, name string) (ThreatListMatch, bool)
}

var _ ListMatcher = (*Service)(nil)

// DefaultThreatListSync is how often RunThreatLists reads the store for
// list changes made by other nodes on the same database.
const DefaultThreatListSync = 30 * time.Second

// syncThreatLists brings detection's view up to the store: lists another
// node activated come in, lists it deactivated or deleted go. A list this
// node changed while the store was being read is left to that change:
// its applied generation moved.
func (s *Service) syncThreatLists(ctx context.Context) error {
	s.lists.mu.RLock()
	before := make(map[string]int64, len(s.lists.applied))
	inView := map[string]listOwner{}
	for id, g := range s.lists.applied {
		before[id] = g
	}
	for o, ls := range s.lists.active {
		for id := range ls {
			inView[id] = o
		}
	}
	s.lists.mu.RUnlock()
	ls, err := s.Store.UnsettledThreatLists(ctx)
	if err != nil {
		return err
	}
	inStore := make(map[string]bool, len(ls))
	for _, l := range ls {
		inStore[l.ID] = true
		if l.Status != ListActive || l.Generation <= before[l.ID] {
			continue
		}
		entries, err := s.Store.ThreatListEntries(ctx, l)
		if err != nil {
			return err
		}
		s.setActive(l, entries)
	}
	s.lists.mu.Lock()
	defer s.lists.mu.Unlock()
	for id, o := range inView {
		if inStore[id] || s.lists.applied[id] != before[id] {
			continue
		}
		delete(s.lists.active[o], id)
	}
	return nil
}

// ThreatListMatch is a hit on a detector's threat list.
type ThreatListMatch struct {
	ListID, ListName string
	Kind             ThreatListKind
}

// lookup runs match over the detector's ACTIVE lists whose kind trusted
// or not as asked, and returns the first hit (by list name, for a stable
// answer).
//
// An associated member's findings meet its administrator's lists instead
// of its own (see listOwnerOf).
func (s *Service) lookup(scope Scope, detectorID string, trusted bool, match func(*intel.Matcher) bool) (ThreatListMatch, bool) {
	owner := s.listOwnerOf(scope, detectorID)
	s.lists.mu.RLock()
	defer s.lists.mu.RUnlock()
	var best ThreatListMatch
	found := false
	for id, a := range s.lists.active[owner] {
		if a.kind.Trusted() != trusted || !match(a.matcher) {
			continue
		}
		if !found || a.name < best.ListName || a.name == best.ListName && id < best.ListID {
			best, found = ThreatListMatch{ListID: id, ListName: a.name, Kind: a.kind}, true
		}
	}
	return best, found
}

// TrustedIP reports whether ip is on an ACTIVE trusted list (IP set or
// trusted entity set) of the detector: detection makes no finding for it.
func (s *Service) TrustedIP(scope Scope, detectorID string, ip netip.Addr) bool {
	_, ok := s.lookup(scope, detectorID, true, func(m *intel.Matcher) bool { return m.MatchIP(ip) })
	return ok
}

// TrustedDomain reports whether name is, or is under, a domain on an
// ACTIVE trusted entity set of the detector.
func (s *Service) TrustedDomain(scope Scope, detectorID, name string) bool {
	_, ok := s.lookup(scope, detectorID, true, func(m *intel.Matcher) bool { return m.MatchDomain(name) })
	return ok
}

// ThreatListIP returns the ACTIVE threat list (threat intel set or threat
// entity set) of the detector that holds ip: the .Custom finding types
// name it.
func (s *Service) ThreatListIP(scope Scope, detectorID string, ip netip.Addr) (ThreatListMatch, bool) {
	return s.lookup(scope, detectorID, false, func(m *intel.Matcher) bool { return m.MatchIP(ip) })
}

// ThreatListDomain returns the ACTIVE threat entity set of the detector
// that holds name or a domain it is under.
func (s *Service) ThreatListDomain(scope Scope, detectorID, name string) (ThreatListMatch, bool) {
	return s.lookup(scope, detectorID, false, func(m *intel.Matcher) bool { return m.MatchDomain(name) })
}

// listAdmins remembers, for detection, whose lists apply to each scope's
// findings, so that the store is not read for every record: an entry
// lives listAdminTTL (long enough for a batch of records, short enough
// that another node's membership change reaches detection soon), and this
// node's own membership changes clear every entry at once.
type listAdmins struct {
	mu sync.Mutex
	m  map[Scope]listAdmin
}

type listAdmin struct {
	owner listOwner // the administrator's detector; zero: the scope's own lists
	at    time.Time
}

const (
	listAdminTTL = 10 * time.Second
	// listAdminMax bounds the entries: past it the map starts over.
	listAdminMax = 100_000
)

func (s *Service) forgetListAdmins() {
	s.listAdmins.mu.Lock()
	s.listAdmins.m = nil
	s.listAdmins.mu.Unlock()
}

// listOwnerOf returns whose ACTIVE lists apply to the findings of the
// detector: while its account is an associated member, its
// administrator's detector's. The user guide: the administrator's trusted
// IP lists and threat lists are imposed on its members' findings, and a
// member's own lists are disabled until it leaves. A store error leaves
// the detector with its own lists (and is not remembered).
func (s *Service) listOwnerOf(scope Scope, detectorID string) listOwner {
	own := listOwner{scope.AccountID, scope.Region, detectorID}
	if s.Store == nil { // a Service for detection alone knows no members
		return own
	}
	now := time.Now()
	s.listAdmins.mu.Lock()
	e, ok := s.listAdmins.m[scope]
	s.listAdmins.mu.Unlock()
	if !ok || now.Sub(e.at) > listAdminTTL {
		admin, err := s.listAdministrator(scope)
		if err != nil {
			slog.Default().Warn("threat lists: reading the membership of a detection scope failed; its own lists apply",
				"account", scope.AccountID, "region", scope.Region, "err", err)
			return own
		}
		e = listAdmin{owner: admin, at: now}
		s.listAdmins.mu.Lock()
		if s.listAdmins.m == nil || len(s.listAdmins.m) >= listAdminMax {
			s.listAdmins.m = map[Scope]listAdmin{}
		}
		s.listAdmins.m[scope] = e
		s.listAdmins.mu.Unlock()
	}
	if e.owner == (listOwner{}) {
		return own
	}
	return e.owner
}

// listAdministrator returns the detector of the scope's administrator,
// zero when the scope's account is no associated member or its
// administrator has no detector.
func (s *Service) listAdministrator(scope Scope) (listOwner, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := s.associatedWith(ctx, scope)
	if err != nil || m == nil {
		return listOwner{}, err
	}
	ds, err := s.Store.Detectors(ctx, Scope{AccountID: m.AdministratorID, Region: scope.Region}, "", 1)
	if err != nil || len(ds) == 0 {
		return listOwner{}, err
	}
	return listOwner{ds[0].AccountID, ds[0].Region, ds[0].ID}, nil
}
