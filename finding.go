package guardpost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Finding is a stored GuardDuty finding: its canonical wire JSON (Document)
// beside the few fields the service indexes, filters and sorts on. The
// document is what GetFindings returns, byte for byte.
type Finding struct {
	AccountID  string
	Region     string
	DetectorID string
	ID         string
	Type       string
	Severity   float64
	Archived   bool
	// ResourceType and ResourceID name the finding's resource:
	// resource.resourceType and the id of the resource it names ("" when
	// absent).
	ResourceType string
	ResourceID   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// AggregationKey identifies "the same finding" across occurrences: a new
	// occurrence with the same scope, detector, type and key updates the
	// stored finding instead of adding one.
	AggregationKey string
	// SortKeys holds one value per entry of SortAttributes, in that order:
	// nil when the finding lacks the attribute, else float64 or string.
	SortKeys []any
	// Attributes are the finding's values for the filter attributes, as
	// FindingAttributes returns them; stores index them for criteria.
	Attributes []AttributeValue
	// Evidence holds the log records that made this occurrence of a
	// detection finding, each as it was received (a CloudTrail record's
	// JSON, a flow log line, a query log line), oldest first. The
	// pipeline keeps the first and the latest few across occurrences (see
	// the evidence endpoint); other producers leave it nil.
	Evidence [][]byte
	// EvidenceSkipped is how many more records made this occurrence than
	// Evidence holds: a producer that folded many hits into one occurrence
	// keeps only the first EvidenceKept of Evidence and its latest, and
	// the skipped records lie between them (see PlanEvidence).
	EvidenceSkipped int
	// FeedbackComments are the comments of the last UpdateFindingsFeedback.
	// The Finding object has no member for them, so they live beside the
	// document and survive every rewrite of it.
	FeedbackComments string
	// Document is the finding as GuardDuty's JSON Finding object.
	Document json.RawMessage
	// Packed is Document in the store's compressed form, when a read
	// returns one: GetFindings' cache keeps it, several times smaller.
	Packed PackedDocument
}

// PackedDocument is a finding document in a store's compressed form, with
// the function that reads it back (it appends the document to dst). The
// zero value holds nothing.
type PackedDocument struct {
	Bytes  []byte
	Unpack func(dst, packed []byte) ([]byte, error)
}

// ParseFinding reads a canonical finding document and fills the indexed
// fields from it. The document must carry the required Finding members.
func ParseFinding(doc []byte) (*Finding, error) {
	var tree map[string]any
	if err := json.Unmarshal(doc, &tree); err != nil {
		return nil, Errorf(EINVALID, "finding document is not a JSON object: %v", err)
	}
	return findingFromTree(tree, doc)
}

// findingFromTree is ParseFinding once doc is decoded: tree is what
// json.Unmarshal decodes doc to.
func findingFromTree(tree map[string]any, doc []byte) (*Finding, error) {
	f := &Finding{Document: json.RawMessage(doc)}
	str := func(k string) string { s, _ := tree[k].(string); return s }
	f.AccountID, f.Region, f.ID, f.Type = str("accountId"), str("region"), str("id"), str("type")
	for k, v := range map[string]string{"accountId": f.AccountID, "region": f.Region, "id": f.ID, "type": f.Type} {
		if v == "" {
			return nil, Errorf(EINVALID, "finding document lacks %s", k)
		}
	}
	sev, ok := tree["severity"].(float64)
	if !ok {
		return nil, Errorf(EINVALID, "finding document lacks a numeric severity")
	}
	f.Severity = sev
	var err error
	if f.CreatedAt, err = parseISOTime(str("createdAt")); err != nil {
		return nil, Errorf(EINVALID, "finding createdAt: %v", err)
	}
	if f.UpdatedAt, err = parseISOTime(str("updatedAt")); err != nil {
		return nil, Errorf(EINVALID, "finding updatedAt: %v", err)
	}
	if svc, ok := tree["service"].(map[string]any); ok {
		f.DetectorID, _ = svc["detectorId"].(string)
		f.Archived, _ = svc["archived"].(bool)
	}
	f.SortKeys = make([]any, len(SortAttributes))
	for i, a := range SortAttributes {
		f.SortKeys[i] = a.key(lookupPath(tree, a.Name))
	}
	f.Attributes = FindingAttributes(tree)
	f.ResourceType, f.ResourceID = resourceIdentity(tree)
	return f, nil
}

// lookupPath follows a dotted attribute path through nested JSON objects.
func lookupPath(tree map[string]any, path string) any {
	var cur any = tree
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// ISOTime formats t the way GuardDuty writes finding timestamps.
func ISOTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func parseISOTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an ISO-8601 time", s)
	}
	return t.UTC(), nil
}

// FindingQuery selects a page of a detector's findings.
type FindingQuery struct {
	Sort  *SortCriteria // nil: by id
	Limit int
	// After, when set, resumes a listing after the finding it names.
	After *FindingCursor
	// Where keeps only the findings that satisfy every criterion, with the
	// semantics of Match.
	Where []Criterion
}

// FindingCursor is a position in a listing: the sort key and id of the last
// finding returned.
type FindingCursor struct {
	SortKey any
	ID      string
}

// MergeFunc decides what a finding write stores for one incoming finding:
// stored is the finding it lands on (the one with its aggregation key, or
// without a key the one with its id), nil when there is none. The result
// must keep stored's account, region and detector.
type MergeFunc func(stored, incoming *Finding) (*Finding, error)

// FindingStore keeps findings.
//
// Concurrency contract: every method that writes runs as one transaction in
// which it reads what it rewrites, so concurrent writers never lose an
// update; MergeFindings and UpdateFindings of one detector are serialised
// (a store on a shared database locks the detector's row first), which is
// what makes concurrent writers of one aggregation key produce one finding.
// Each write appends its changes to the outbox (OutboxStore) in the same
// transaction. Callbacks run inside the transaction: they must be quick
// and must not call the store.
type FindingStore interface {
	// MergeFindings writes findings into the scope's detector detectorID in
	// one transaction, which first reads the detector's filters and passes
	// them to newMerge. For each finding in order, the stored finding it
	// lands on is looked up (by type and AggregationKey when it has one,
	// else by id; findings earlier in the batch count) and merge(stored,
	// incoming) is written (replacing stored, whose id the result may change).
	// It returns the outbox entries written (Seq set), one per finding.
	// ENOTFOUND when the detector does not exist; an error from merge
	// aborts the whole write and is returned as it is.
	MergeFindings(ctx context.Context, scope Scope, detectorID string, findings []*Finding, newMerge func(filters []*Filter) MergeFunc) ([]FindingChange, error)
	// Findings returns the visible findings with the given ids; unknown
	// ids are left out and the order is unspecified. Their Attributes may
	// be nil: only writes need them.
	Findings(ctx context.Context, vis Visibility, ids []string) ([]*Finding, error)
	// ListFindings returns the cursors (sort key and id) of the visible
	// findings that match q, in q's order: by the sort attribute (absent
	// values last in either direction) and then by id ascending, as one
	// order across every visible detector.
	ListFindings(ctx context.Context, vis Visibility, q FindingQuery) ([]FindingCursor, error)
	// UpdateFindings rewrites, in one transaction, the visible findings with
	// the given ids: each is replaced by update's result, which must keep its
	// account, region, detector and id. Unknown ids are skipped. It returns
	// the outbox entries written. An error from update aborts the write and
	// is returned as it is.
	UpdateFindings(ctx context.Context, vis Visibility, ids []string, update func(*Finding) (*Finding, error)) ([]FindingChange, error)
	// FindingStatistics groups the visible findings that satisfy where
	// (with Match's semantics) as group says (see StatKey), one row per
	// group (per resource id and type for StatByResource), in no
	// particular order.
	FindingStatistics(ctx context.Context, vis Visibility, where []Criterion, group StatGroup) ([]StatRow, error)
}

// Store is everything the service keeps.
type Store interface {
	DetectorStore
	FindingStore
	DetectionStateStore
	EvidenceStore
	FilterStore
	TagStore
	ThreatListStore
	OutboxStore
	MemberStore
	OrganizationStore
	UsageStore
	CoverageStore
	// TokenKey returns the key that signs page tokens, created with the
	// database: every node on one database signs and checks alike.
	TokenKey(ctx context.Context) ([]byte, error)
	Close() error
}

// CreateSampleFindings writes one sample finding of each given type (every
// type the catalogue knows when types is empty). A repeat of a type updates
// the existing sample, as a new occurrence of the same finding would.
func (s *Service) CreateSampleFindings(ctx context.Context, scope Scope, detectorID string, types []string) error {
	if _, err := s.detector(ctx, scope, detectorID); err != nil {
		return err
	}
	if len(types) == 0 {
		types = s.Samples.Types()
	}
	now := s.now()
	p := SampleParams{AccountID: scope.AccountID, Region: scope.Region, Partition: Partition(scope.Region), DetectorID: detectorID, Now: now}
	var findings []*Finding
	seen := map[string]bool{}
	for _, t := range types {
		if seen[t] {
			continue
		}
		seen[t] = true
		p.FindingID = NewID()
		doc, ok := s.Samples.Sample(t, p)
		if !ok {
			return Errorf(EINVALID, "%s The finding type '%s' is not a GuardDuty finding type.", msgInvalidInput, t)
		}
		f, err := ParseFinding(doc)
		if err != nil {
			return fmt.Errorf("sample %s: %w", t, err) // a catalogue defect, not the caller's
		}
		f.AggregationKey = "sample"
		findings = append(findings, f)
	}
	_, err := s.WriteFindings(ctx, scope, detectorID, findings)
	return err
}

// mergeOccurrence folds a new occurrence into the stored finding: the
// stored identity, creation time and first sighting are kept, the count
// grows by the occurrence's count, and everything else is the latest occurrence's.
func mergeOccurrence(stored, incoming *Finding) (*Finding, error) {
	var old, doc map[string]any
	if err := decodeNumbers(stored.Document, &old); err != nil {
		return nil, err
	}
	if err := decodeNumbers(incoming.Document, &doc); err != nil {
		return nil, err
	}
	doc["id"], doc["arn"], doc["createdAt"] = old["id"], old["arn"], old["createdAt"]
	oldSvc, _ := old["service"].(map[string]any)
	svc, _ := doc["service"].(map[string]any)
	if svc == nil {
		svc = map[string]any{}
		doc["service"] = svc
	}
	// The new occurrence may stand for several (a producer that folded
	// the repeats of one batch, see package detect): its count adds up.
	count := int64(1)
	if n, ok := svc["count"].(json.Number); ok {
		if c, err := n.Int64(); err == nil && c > 1 {
			count = c
		}
	}
	if oldSvc != nil {
		if n, ok := oldSvc["count"].(json.Number); ok {
			if c, err := n.Int64(); err == nil {
				count += c
			}
		}
		if v, ok := oldSvc["eventFirstSeen"]; ok {
			svc["eventFirstSeen"] = v
		}
		for _, k := range []string{"archived", "userFeedback"} {
			if v, ok := oldSvc[k]; ok {
				svc[k] = v
			} else {
				delete(svc, k)
			}
		}
	}
	svc["count"] = count
	if id, ok := doc["id"].(string); ok {
		mergeEvidenceSummary(oldSvc, svc, stored.DetectorID, id)
	}
	merged, err := reencode(doc, incoming.AggregationKey)
	if err != nil {
		return nil, err
	}
	merged.FeedbackComments = stored.FeedbackComments
	return merged, nil
}

// reencode turns an edited finding document back into a stored Finding.
func reencode(doc map[string]any, aggregationKey string) (*Finding, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	f, err := ParseFinding(b)
	if err != nil {
		return nil, err
	}
	f.AggregationKey = aggregationKey
	return f, nil
}

// decodeNumbers decodes JSON keeping numbers exact.
func decodeNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// GetFindings returns the documents of the detector's findings with the
// given ids. Unknown ids are left out and repeated ids give one finding.
// Without sort the findings come in the order asked; with it, absent
// values sort last. The documents are shared: callers must not modify
// them.
//
// Findings read before are answered from memory (see findingCache) as
// long as the store's findings mark, read first on every call, says that
// no finding has been written since.
func (s *Service) GetFindings(ctx context.Context, scope Scope, detectorID string, ids []string, sort *SortCriteria) ([]json.RawMessage, error) {
	answers, err := s.findingAnswers(ctx, scope, detectorID, ids, sort)
	if err != nil {
		return nil, err
	}
	if err := unpackAll(answers); err != nil {
		return nil, err
	}
	docs := make([]json.RawMessage, len(answers))
	for i, a := range answers {
		docs[i] = a.document
	}
	return docs, nil
}

// AppendFindings appends to dst what GetFindings returns, as the elements
// of a JSON array: the documents separated by commas, without brackets.
// Documents the cache holds packed are unpacked straight into dst, so an
// answer allocates nothing of its size when dst has room (a pooled
// response buffer): at a million findings, the garbage collector's cost
// of every allocated byte is what a GetFindings costs most.
func (s *Service) AppendFindings(dst []byte, ctx context.Context, scope Scope, detectorID string, ids []string, sort *SortCriteria) ([]byte, error) {
	answers, err := s.findingAnswers(ctx, scope, detectorID, ids, sort)
	if err != nil {
		return nil, err
	}
	for i, a := range answers {
		if i > 0 {
			dst = append(dst, ',')
		}
		if a.document != nil {
			dst = append(dst, a.document...)
		} else if dst, err = a.packed.Unpack(dst, a.packed.Bytes); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// findingAnswers returns what GetFindings answers, in its order: each
// finding's document, or the packed form the cache holds.
func (s *Service) findingAnswers(ctx context.Context, scope Scope, detectorID string, ids []string, sort *SortCriteria) ([]cachedFinding, error) {
	vis, err := s.visibility(ctx, scope, detectorID)
	if err != nil {
		return nil, err
	}
	mark := FindingsMark{Exists: true, Version: vis.Version}
	// unique holds the ids asked, without repeats, in the order asked.
	unique := make([]string, 0, len(ids))
	position := make(map[string]int, len(ids))
	for _, id := range ids {
		if _, ok := position[id]; !ok {
			position[id] = len(unique)
			unique = append(unique, id)
		}
	}
	limit := s.FindingCacheBytes
	if limit == 0 {
		limit = DefaultFindingCacheBytes
	}
	// The cache is keyed by detector: an administrator's ids may lie in
	// any visible detector, each looked up in turn (up to
	// maxCachedDetectors of them; beyond, every id is read from the store).
	dets := make([]cacheDetector, len(vis.Detectors))
	for i, d := range vis.Detectors {
		dets[i] = cacheDetector{d.AccountID, scope.Region, d.DetectorID}
	}
	if len(dets) > maxCachedDetectors {
		limit = -1
	}
	got := make([]cachedFinding, len(unique))
	held := 0
	for _, d := range dets {
		if limit <= 0 || held == len(unique) {
			break
		}
		held += s.findings.lookup(mark.Version, d, unique, got)
	}
	if held < len(unique) {
		missing := make([]string, 0, len(unique)-held)
		for i, f := range got {
			if !f.held() {
				missing = append(missing, unique[i])
			}
		}
		read, err := s.Store.Findings(ctx, vis, missing)
		if err != nil {
			return nil, err
		}
		for _, f := range read {
			if i, ok := position[f.ID]; ok {
				got[i] = cachedFinding{sortKeys: f.SortKeys, document: f.Document}
			}
		}
		if limit > 0 && len(dets) == 1 {
			s.findings.add(mark.Version, limit, dets[0], read)
		} else if limit > 0 {
			byDetector := map[cacheDetector][]*Finding{}
			for _, f := range read {
				d := cacheDetector{f.AccountID, scope.Region, f.DetectorID}
				byDetector[d] = append(byDetector[d], f)
			}
			for d, fs := range byDetector {
				s.findings.add(mark.Version, limit, d, fs)
			}
		}
	}
	// Drop unknown ids, keeping the order asked.
	answers := got[:0]
	for _, f := range got {
		if f.held() {
			answers = append(answers, f)
		}
	}
	if sort == nil {
		return answers, nil
	}
	// Sorted by key, then in the order asked: small (key, position) pairs
	// sort faster than the entries themselves.
	type keyed struct {
		key      any
		position int
	}
	keys := make([]keyed, len(answers))
	for i, f := range answers {
		keys[i] = keyed{f.sortKeys[sort.Attribute], i}
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if c := CompareDirected(a.key, b.key, sort.Descending); c != 0 {
			return c
		}
		return a.position - b.position
	})
	sorted := make([]cachedFinding, len(answers))
	for i, k := range keys {
		sorted[i] = answers[k.position]
	}
	return sorted, nil
}

// CompareDirected orders two sort keys of one attribute in a direction:
// the direction applies to present values only, so that absent values
// stay last in both directions.
func CompareDirected(a, b any, descending bool) int {
	if descending && a != nil && b != nil {
		return CompareSortKeys(b, a)
	}
	return CompareSortKeys(a, b)
}

// ListFindingsInput selects a page of finding ids.
type ListFindingsInput struct {
	Sort       *SortCriteria
	MaxResults int // 0: 50
	NextToken  string
	// Where is the compiled findingCriteria (see CompileCriteria).
	Where []Criterion
}

// ListFindings returns a page of the detector's finding ids and the token
// of the next page ("" on the last).
func (s *Service) ListFindings(ctx context.Context, scope Scope, detectorID string, in ListFindingsInput) ([]string, string, error) {
	vis, err := s.visibility(ctx, scope, detectorID)
	if err != nil {
		return nil, "", err
	}
	limit := in.MaxResults
	if limit <= 0 {
		limit = 50
	}
	// A token is a position in one order of one detector's listing, so it
	// is bound to the caller, the detector and the sort, and not to the
	// criteria: a client that changes its criteria between pages (XSOAR
	// does, as its exclusion list changes) resumes after that position
	// under the new criteria. What is visible is resolved anew on every
	// page, so a token never reaches findings the caller may no longer see.
	binding := fmt.Sprintf("findings|%s|%s|%s", scope.AccountID, scope.Region, detectorID)
	if in.Sort != nil {
		binding += fmt.Sprintf("|%d|%t", in.Sort.Attribute, in.Sort.Descending)
	}
	q := FindingQuery{Sort: in.Sort, Limit: limit + 1, Where: in.Where}
	if in.NextToken != "" {
		cur, err := s.Tokens.decode(binding, in.NextToken)
		if err != nil {
			return nil, "", err
		}
		q.After = cur
	}
	curs, err := s.Store.ListFindings(ctx, vis, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(curs) > limit {
		curs = curs[:limit]
		next = s.Tokens.encode(binding, curs[limit-1])
	}
	ids := make([]string, len(curs))
	for i, c := range curs {
		ids[i] = c.ID
	}
	return ids, next, nil
}

// SortBy resolves an API sort attribute name, rejecting any the API does not allow.
func SortBy(attribute string, descending bool) (*SortCriteria, error) {
	i := SortAttributeIndex(attribute)
	if i < 0 {
		names := make([]string, len(SortAttributes))
		for j, a := range SortAttributes {
			names[j] = a.Name
		}
		return nil, Errorf(EINVALID, "The request is rejected because sortCriteria.attributeName '%s' is not a sortable attribute. Use one of: %s.", attribute, strings.Join(names, ", "))
	}
	return &SortCriteria{Attribute: i, Descending: descending}, nil
}

// ArchiveFindings marks the detector's findings with the given ids as
// archived. Unknown ids are ignored. The findings' updatedAt is left as it
// is, so listings keep their order across the change.
func (s *Service) ArchiveFindings(ctx context.Context, scope Scope, detectorID string, ids []string) error {
	return s.updateFindingService(ctx, scope, detectorID, ids, func(svc map[string]any) { svc["archived"] = true }, nil)
}

// UnarchiveFindings clears the archived mark of the detector's findings
// with the given ids. Unknown ids are ignored.
func (s *Service) UnarchiveFindings(ctx context.Context, scope Scope, detectorID string, ids []string) error {
	return s.updateFindingService(ctx, scope, detectorID, ids, func(svc map[string]any) { svc["archived"] = false }, nil)
}

// UpdateFindingsFeedback records feedback (USEFUL or NOT_USEFUL) and its
// comments on the detector's findings with the given ids. Unknown ids are
// ignored. Each call replaces the previous feedback, comments included.
func (s *Service) UpdateFindingsFeedback(ctx context.Context, scope Scope, detectorID string, ids []string, feedback, comments string) error {
	return s.updateFindingService(ctx, scope, detectorID, ids, func(svc map[string]any) { svc["userFeedback"] = feedback }, &comments)
}

// updateFindingService applies change to the service object of each of the
// detector's findings with the given ids, and sets their feedback comments
// when comments is not nil.
func (s *Service) updateFindingService(ctx context.Context, scope Scope, detectorID string, ids []string, change func(svc map[string]any), comments *string) error {
	vis, err := s.visibility(ctx, scope, detectorID)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = s.Store.UpdateFindings(ctx, vis, ids, func(stored *Finding) (*Finding, error) {
		f, err := editService(stored, change)
		if err != nil {
			return nil, err
		}
		if comments != nil {
			f.FeedbackComments = *comments
		}
		return f, nil
	})
	return err
}

// editService returns f with change applied to its service object (created
// when absent), keeping what lives beside the document.
func editService(f *Finding, change func(svc map[string]any)) (*Finding, error) {
	var doc map[string]any
	if err := decodeNumbers(f.Document, &doc); err != nil {
		return nil, err
	}
	svc, _ := doc["service"].(map[string]any)
	if svc == nil {
		svc = map[string]any{}
		doc["service"] = svc
	}
	change(svc)
	edited, err := reencode(doc, f.AggregationKey)
	if err != nil {
		return nil, err
	}
	edited.FeedbackComments = f.FeedbackComments
	return edited, nil
}
