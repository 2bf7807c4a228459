package guardpost

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Filter actions.
const (
	FilterNoop    = "NOOP"
	FilterArchive = "ARCHIVE"
)

// maxFilters is how many filters one detector may hold.
const maxFilters = 100

// Filter is a saved set of finding criteria with an action: ARCHIVE
// filters archive the new findings they match as they are written.
type Filter struct {
	AccountID   string
	Region      string
	DetectorID  string
	Name        string
	Description string
	Action      string // FilterNoop or FilterArchive
	Rank        int
	Criteria    Criteria
	Tags        map[string]string
	// ClientToken is the idempotency token of the CreateFilter call that made it.
	ClientToken string
	CreatedAt   time.Time
}

// FilterStore keeps filters.
type FilterStore interface {
	// CreateFilter reads the detector's filters and passes them to decide,
	// then stores the filter decide returns (none when it returns nil), in
	// one transaction, so that the filter limit and client-token repeats
	// hold under concurrent creates. ECONFLICT when the detector already
	// has a filter with that name; ENOTFOUND when the detector does not
	// exist in the scope; an error from decide is returned as it is.
	CreateFilter(ctx context.Context, scope Scope, detectorID string, decide func(existing []*Filter) (*Filter, error)) error
	// Filter returns one filter. ENOTFOUND when the detector has none by that name.
	Filter(ctx context.Context, scope Scope, detectorID, name string) (*Filter, error)
	// Filters returns up to limit filters of the detector whose name sorts
	// after `after`, in name order. A limit of 0 or less means no limit.
	Filters(ctx context.Context, scope Scope, detectorID, after string, limit int) ([]*Filter, error)
	// UpdateFilter reads the filter, passes it to update and stores the
	// result (all but its tags, see TagStore), in one transaction.
	// ENOTFOUND when the detector has no filter by that name; an error from
	// update is returned as it is.
	UpdateFilter(ctx context.Context, scope Scope, detectorID, name string, update func(*Filter) error) error
	// DeleteFilter removes a filter. ENOTFOUND when it does not exist.
	DeleteFilter(ctx context.Context, scope Scope, detectorID, name string) error
}

// FilterSettings are the changeable parts of a filter as UpdateFilter takes
// them; nil leaves a field as it is.
type FilterSettings struct {
	Description *string
	Action      *string
	Rank        *int
	Criteria    Criteria // nil: unchanged
}

func msgFilterExists(name string) string {
	return "The request is rejected because a filter with the name " + name + " already exists."
}

// msgFilterNotFound is GuardDuty's text for a filter that does not exist.
// It names no filter, and clients match it verbatim: Terraform's AWS
// provider takes it as "already gone" on read and delete (see
// docs/aws-messages.md).
func msgFilterNotFound(string) string {
	return "The request is rejected since no such resource found."
}

// checkFilterName enforces the documented name alphabet: letters, digits,
// period, underscore and dash. It matters beyond taste: the name is a URL
// path segment and the last part of the filter's ARN.
func checkFilterName(name string) error {
	if name == "" {
		return Errorf(EINVALID, "%s The filter name is required.", msgInvalidInput)
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-') {
			return Errorf(EINVALID, "%s The filter name %q contains %q: use only letters, digits, period (.), underscore (_) and dash (-).", msgInvalidInput, name, r)
		}
	}
	return nil
}

func checkAction(action string) error {
	if action != FilterNoop && action != FilterArchive {
		return Errorf(EINVALID, "%s The filter action must be NOOP or ARCHIVE.", msgInvalidInput)
	}
	return nil
}

func checkCriteria(c Criteria) error {
	if len(c) == 0 {
		return Errorf(EINVALID, "%s The findingCriteria of a filter must name at least one attribute.", msgInvalidInput)
	}
	_, err := CompileCriteria(c)
	return err
}

// CreateFilter creates a filter on the detector and returns its name. A
// repeat with the same client token returns the same name.
func (s *Service) CreateFilter(ctx context.Context, scope Scope, detectorID string, f Filter) (string, error) {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return "", err
	}
	if err := checkFilterName(f.Name); err != nil {
		return "", err
	}
	if err := checkNewTags(f.Tags); err != nil {
		return "", err
	}
	if f.Action == "" {
		f.Action = FilterNoop
	}
	if f.Action == FilterArchive {
		if err := s.refuseMember(ctx, scope, msgMemberManagesSuppression); err != nil {
			return "", err
		}
	}
	if f.Rank < 0 {
		return "", Errorf(EINVALID, "%s The filter rank must be at least 1.", msgInvalidInput)
	}
	f.AccountID, f.Region, f.DetectorID, f.CreatedAt = scope.AccountID, scope.Region, detectorID, s.now()
	name := f.Name
	err := s.Store.CreateFilter(ctx, scope, detectorID, func(existing []*Filter) (*Filter, error) {
		if f.ClientToken != "" {
			if i := slices.IndexFunc(existing, func(e *Filter) bool { return e.ClientToken == f.ClientToken }); i >= 0 {
				name = existing[i].Name
				return nil, nil
			}
		}
		if err := checkAction(f.Action); err != nil {
			return nil, err
		}
		if err := checkCriteria(f.Criteria); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(existing, func(e *Filter) bool { return e.Name == f.Name }) {
			return nil, Errorf(EINVALID, "%s", msgFilterExists(f.Name))
		}
		if len(existing) >= maxFilters {
			return nil, Errorf(EINVALID, "The request is rejected because the detector already has the maximum of %d filters.", maxFilters)
		}
		created := f
		if created.Rank == 0 {
			created.Rank = len(existing) + 1
		}
		return &created, nil
	})
	switch ErrorKind(err) {
	case "":
		return name, nil
	case ECONFLICT:
		return "", Errorf(EINVALID, "%s", msgFilterExists(f.Name))
	case ENOTFOUND:
		return "", Errorf(EINVALID, msgDetectorNotOwned)
	}
	return "", err
}

// GetFilter returns a filter of the detector.
func (s *Service) GetFilter(ctx context.Context, scope Scope, detectorID, name string) (*Filter, error) {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return nil, err
	}
	f, err := s.Store.Filter(ctx, scope, detectorID, name)
	if ErrorKind(err) == ENOTFOUND {
		return nil, Errorf(EINVALID, "%s", msgFilterNotFound(name))
	}
	return f, err
}

// UpdateFilter changes the fields settings gives and keeps the rest.
func (s *Service) UpdateFilter(ctx context.Context, scope Scope, detectorID, name string, settings FilterSettings) (string, error) {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return "", err
	}
	if settings.Action != nil {
		if err := checkAction(*settings.Action); err != nil {
			return "", err
		}
	}
	if settings.Rank != nil && *settings.Rank < 1 {
		return "", Errorf(EINVALID, "%s The filter rank must be at least 1.", msgInvalidInput)
	}
	if settings.Criteria != nil {
		if err := checkCriteria(settings.Criteria); err != nil {
			return "", err
		}
	}
	// A member may keep its saved filters, not touch a suppression rule.
	member, err := s.associatedWith(ctx, scope)
	if err != nil {
		return "", err
	}
	err = s.Store.UpdateFilter(ctx, scope, detectorID, name, func(f *Filter) error {
		if member != nil && (f.Action == FilterArchive || settings.Action != nil && *settings.Action == FilterArchive) {
			return Errorf(EINVALID, "%s", msgMemberManagesSuppression)
		}
		if settings.Description != nil {
			f.Description = *settings.Description
		}
		if settings.Action != nil {
			f.Action = *settings.Action
		}
		if settings.Rank != nil {
			f.Rank = *settings.Rank
		}
		if settings.Criteria != nil {
			f.Criteria = settings.Criteria
		}
		return nil
	})
	if ErrorKind(err) == ENOTFOUND {
		return "", Errorf(EINVALID, "%s", msgFilterNotFound(name))
	}
	if err != nil {
		return "", err
	}
	return name, nil
}

// DeleteFilter deletes a filter of the detector.
func (s *Service) DeleteFilter(ctx context.Context, scope Scope, detectorID, name string) error {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return err
	}
	f, err := s.Store.Filter(ctx, scope, detectorID, name)
	if ErrorKind(err) == ENOTFOUND {
		return Errorf(EINVALID, "%s", msgFilterNotFound(name))
	}
	if err != nil {
		return err
	}
	if f.Action == FilterArchive {
		if err := s.refuseMember(ctx, scope, msgMemberManagesSuppression); err != nil {
			return err
		}
	}
	err = s.Store.DeleteFilter(ctx, scope, detectorID, name)
	if ErrorKind(err) == ENOTFOUND {
		return Errorf(EINVALID, "%s", msgFilterNotFound(name))
	}
	return err
}

// ListFilters returns a page of the detector's filter names, in name order,
// and the token of the next page ("" on the last).
func (s *Service) ListFilters(ctx context.Context, scope Scope, detectorID string, maxResults int, nextToken string) ([]string, string, error) {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return nil, "", err
	}
	return s.pageOfNames("filters|"+scope.AccountID+"|"+scope.Region+"|"+detectorID, maxResults, nextToken,
		func(after string, limit int) ([]string, error) {
			fs, err := s.Store.Filters(ctx, scope, detectorID, after, limit)
			names := make([]string, len(fs))
			for i, f := range fs {
				names[i] = f.Name
			}
			return names, err
		})
}

// archiveCriteria returns the compiled criteria of the ARCHIVE filters
// among filters, by rank.
func archiveCriteria(filters []*Filter) [][]Criterion {
	fs := slices.Clone(filters)
	slices.SortStableFunc(fs, func(a, b *Filter) int { return cmp.Compare(a.Rank, b.Rank) })
	var out [][]Criterion
	for _, f := range fs {
		if f.Action != FilterArchive {
			continue
		}
		where, err := CompileCriteria(f.Criteria)
		if err != nil {
			continue // stored filters were valid when saved; skip one that no longer compiles
		}
		out = append(out, where)
	}
	return out
}

// suppress marks f archived when any of the filters matches it. A finding
// no filter matches is returned unchanged.
func suppress(f *Finding, filters [][]Criterion) (*Finding, error) {
	if f.Archived || !slices.ContainsFunc(filters, func(where []Criterion) bool { return Match(where, f.Attributes) }) {
		return f, nil
	}
	return editService(f, func(svc map[string]any) { svc["archived"] = true })
}
