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
	// InsertFilter stores a new filter. ECONFLICT when the detector already
	// has a filter with that name; ENOTFOUND when the detector does not exist
	// in the filter's scope.
	InsertFilter(ctx context.Context, f *Filter) error
	// Filter returns one filter. ENOTFOUND when the detector has none by that name.
	Filter(ctx context.Context, scope Scope, detectorID, name string) (*Filter, error)
	// Filters returns up to limit filters of the detector whose name sorts
	// after `after`, in name order. A limit of 0 or less means no limit.
	Filters(ctx context.Context, scope Scope, detectorID, after string, limit int) ([]*Filter, error)
	// UpdateFilter replaces the stored filter with f, all but its tags (see
	// TagStore). ENOTFOUND when it is gone.
	UpdateFilter(ctx context.Context, f *Filter) error
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

func msgFilterNotFound(name string) string {
	return "The request is rejected because the input filterName " + name + " is not found."
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
	if f.ClientToken != "" {
		existing, err := s.Store.Filters(ctx, scope, detectorID, "", 0)
		if err != nil {
			return "", err
		}
		for _, e := range existing {
			if e.ClientToken == f.ClientToken {
				return e.Name, nil
			}
		}
	}
	if f.Action == "" {
		f.Action = FilterNoop
	}
	if err := checkAction(f.Action); err != nil {
		return "", err
	}
	if err := checkCriteria(f.Criteria); err != nil {
		return "", err
	}
	existing, err := s.Store.Filters(ctx, scope, detectorID, "", 0)
	if err != nil {
		return "", err
	}
	if slices.ContainsFunc(existing, func(e *Filter) bool { return e.Name == f.Name }) {
		return "", Errorf(EINVALID, "%s", msgFilterExists(f.Name))
	}
	if len(existing) >= maxFilters {
		return "", Errorf(EINVALID, "The request is rejected because the detector already has the maximum of %d filters.", maxFilters)
	}
	if f.Rank < 0 {
		return "", Errorf(EINVALID, "%s The filter rank must be at least 1.", msgInvalidInput)
	}
	if f.Rank == 0 {
		f.Rank = len(existing) + 1
	}
	f.AccountID, f.Region, f.DetectorID, f.CreatedAt = scope.AccountID, scope.Region, detectorID, s.now()
	err = s.Store.InsertFilter(ctx, &f)
	switch ErrorKind(err) {
	case "":
		return f.Name, nil
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
	f, err := s.GetFilter(ctx, scope, detectorID, name)
	if err != nil {
		return "", err
	}
	if settings.Description != nil {
		f.Description = *settings.Description
	}
	if settings.Action != nil {
		if err := checkAction(*settings.Action); err != nil {
			return "", err
		}
		f.Action = *settings.Action
	}
	if settings.Rank != nil {
		if *settings.Rank < 1 {
			return "", Errorf(EINVALID, "%s The filter rank must be at least 1.", msgInvalidInput)
		}
		f.Rank = *settings.Rank
	}
	if settings.Criteria != nil {
		if err := checkCriteria(settings.Criteria); err != nil {
			return "", err
		}
		f.Criteria = settings.Criteria
	}
	err = s.Store.UpdateFilter(ctx, f)
	if ErrorKind(err) == ENOTFOUND {
		return "", Errorf(EINVALID, "%s", msgFilterNotFound(name))
	}
	if err != nil {
		return "", err
	}
	return f.Name, nil
}

// DeleteFilter deletes a filter of the detector.
func (s *Service) DeleteFilter(ctx context.Context, scope Scope, detectorID, name string) error {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return err
	}
	err := s.Store.DeleteFilter(ctx, scope, detectorID, name)
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

// archiveFilters returns the compiled criteria of the detector's ARCHIVE
// filters, by rank.
func (s *Service) archiveFilters(ctx context.Context, scope Scope, detectorID string) ([][]Criterion, error) {
	fs, err := s.Store.Filters(ctx, scope, detectorID, "", 0)
	if err != nil {
		return nil, err
	}
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
	return out, nil
}

// suppress marks f archived when any of the filters matches it. A finding
// no filter matches is returned unchanged.
func suppress(f *Finding, filters [][]Criterion) (*Finding, error) {
	if f.Archived || !slices.ContainsFunc(filters, func(where []Criterion) bool { return Match(where, f.Attributes) }) {
		return f, nil
	}
	return editService(f, func(svc map[string]any) { svc["archived"] = true })
}

// mergeFindings writes findings through the store, archiving those the
// detector's ARCHIVE filters match.
func (s *Service) mergeFindings(ctx context.Context, scope Scope, detectorID string, findings []*Finding, merge func(stored, incoming *Finding) (*Finding, error)) error {
	filters, err := s.archiveFilters(ctx, scope, detectorID)
	if err != nil {
		return err
	}
	if len(filters) == 0 {
		return s.Store.MergeFindings(ctx, findings, merge)
	}
	for i, f := range findings {
		if findings[i], err = suppress(f, filters); err != nil {
			return err
		}
	}
	return s.Store.MergeFindings(ctx, findings, func(stored, incoming *Finding) (*Finding, error) {
		m, err := merge(stored, incoming)
		if err != nil {
			return nil, err
		}
		return suppress(m, filters)
	})
}
