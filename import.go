package guardpost

import (
	"context"
	"encoding/json"
	"iter"
	"strconv"
	"unicode/utf8"
)

// ImportReport says what one import did.
type ImportReport struct {
	Records int // findings read
	Created int // of which new findings
	Updated int // of which replaced a stored finding with the same id
}

// ImportFindings writes findings read from outside (another GuardDuty, an
// export, an earlier guardpost) into the caller's detector in the caller's
// region. docs yields canonical Finding documents, already validated
// against the model (see package ingest), and is read to its end before
// anything is written: an error it yields, or one found here, aborts the
// import with nothing written, and the write itself is one transaction.
//
// Each document is made the caller's, whatever it says (see
// FindingImport.Stamp). An id is kept when present, so importing a finding
// again replaces it, and assigned otherwise.
//
// Errors: EINVALID when the caller has no detector in its region or a
// document is not a finding; whatever docs yields; the kinds of
// WriteFindings.
func (s *Service) ImportFindings(ctx context.Context, caller Scope, docs iter.Seq2[map[string]any, error]) (ImportReport, error) {
	im, err := s.NewImport(ctx, caller)
	if err != nil {
		return ImportReport{}, err
	}
	var findings []*Finding
	n := 0
	for doc, err := range docs {
		if err != nil {
			return ImportReport{}, err
		}
		n++
		im.Stamp(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			return ImportReport{}, im.MarshalError(n, err)
		}
		f, err := im.Finding(n, doc, b)
		if err != nil {
			return ImportReport{}, err
		}
		findings = append(findings, f)
		if err := ctx.Err(); err != nil {
			return ImportReport{}, err
		}
	}
	return im.Write(ctx, findings)
}

// FindingImport is one import into the caller's detector, split so that
// documents can be made findings on several goroutines: NewImport finds
// the detector, Stamp and Finding (safe for concurrent use) turn each
// document into a stored finding, and Write writes them all at once.
type FindingImport struct {
	s          *Service
	caller     Scope
	detectorID string
	partition  string
	arnPrefix  string
}

// NewImport starts an import into the caller's detector. EINVALID when the
// caller has no detector in its region.
func (s *Service) NewImport(ctx context.Context, caller Scope) (*FindingImport, error) {
	ds, err := s.Store.Detectors(ctx, caller, "", 1)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, Errorf(EINVALID, "The request is rejected because account %s has no detector in %s. Create one (CreateDetector) before importing findings.", caller.AccountID, caller.Region)
	}
	detectorID := ds[0].ID
	partition := Partition(caller.Region)
	return &FindingImport{s: s, caller: caller, detectorID: detectorID, partition: partition,
		arnPrefix: "arn:" + partition + ":guardduty:" + caller.Region + ":" + caller.AccountID + ":detector/" + detectorID + "/finding/"}, nil
}

// Stamp makes a canonical document the caller's in place: accountId,
// region, partition, arn and service.detectorId are set from the caller
// and its detector, and id is assigned when absent or empty.
func (im *FindingImport) Stamp(doc map[string]any) {
	id, _ := doc["id"].(string)
	if id == "" {
		id = NewID()
		doc["id"] = id
	}
	doc["accountId"], doc["region"], doc["partition"], doc["arn"] = im.caller.AccountID, im.caller.Region, im.partition, im.arnPrefix+id
	svc, _ := doc["service"].(map[string]any)
	if svc == nil {
		svc = map[string]any{}
		doc["service"] = svc
	}
	svc["detectorId"] = im.detectorID
}

// StampValues returns what Stamp writes into every document of this
// import: accountId, region, partition, the arn without the finding's id
// (arnPrefix+id is the arn) and service.detectorId. A reader that writes
// stamped documents itself (ingest's fast path) writes exactly these.
func (im *FindingImport) StampValues() (accountID, region, partition, arnPrefix, detectorID string) {
	return im.caller.AccountID, im.caller.Region, im.partition, im.arnPrefix, im.detectorID
}

// MarshalError is the error of record n (1-based) whose stamped document
// could not be encoded.
func (im *FindingImport) MarshalError(n int, err error) error {
	return Errorf(EINVALID, "Record %d: %v", n, err)
}

// Finding returns the stored finding of record n (1-based): doc is its
// stamped document as decoded with json.Number for numbers, which this
// call may change (numbers become float64), and b is doc as json.Marshal
// encodes it, which becomes the finding's Document. The result is the
// finding ParseFinding(b) returns, without decoding b again. Errors name
// the record: "Record n: ...".
func (im *FindingImport) Finding(n int, doc map[string]any, b []byte) (*Finding, error) {
	var f *Finding
	var err error
	if floatNumbers(doc) {
		f, err = findingFromTree(doc, b)
	} else {
		// A number float64 cannot hold: ParseFinding says so in its words.
		f, err = ParseFinding(b)
	}
	if err != nil {
		return nil, Errorf(EINVALID, "Record %d: %s", n, ErrorMessage(err))
	}
	return f, nil
}

// Write writes the import's findings in one transaction (see
// WriteFindings); none is written on error.
func (im *FindingImport) Write(ctx context.Context, findings []*Finding) (ImportReport, error) {
	if len(findings) == 0 {
		return ImportReport{}, nil
	}
	report, err := im.s.WriteFindings(ctx, im.caller, im.detectorID, findings)
	if err != nil {
		return ImportReport{}, err
	}
	return ImportReport{Records: len(findings), Created: len(report.Created), Updated: len(report.Updated)}, nil
}

// plainValue reports whether a leaf reads back from its JSON encoding as
// itself: a valid UTF-8 string, a bool, a float64 or null.
func plainValue(v any) bool {
	switch x := v.(type) {
	case string:
		return utf8.ValidString(x)
	case bool, float64, nil:
		return true
	}
	return false
}

// floatNumbers replaces, in place, the json.Number values of a decoded
// tree with the float64 json.Unmarshal would have decoded them to. It
// reports false when one does not fit a float64 (the tree is then partly
// converted), or when another leaf would not read back from its encoding
// as it is (see plainValue).
func floatNumbers(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) {
				return false
			}
			f, ok := floatLeaf(e)
			if !ok {
				return false
			}
			if _, number := e.(json.Number); number {
				x[k] = f // only numbers change: a map write costs a hash
			}
		}
	case []any:
		for i, e := range x {
			f, ok := floatLeaf(e)
			if !ok {
				return false
			}
			x[i] = f
		}
	}
	return true
}

// floatLeaf is one member or element of floatNumbers' walk: a json.Number
// becomes its float64, a nested object or list is converted in place, and
// any other value must be plain.
func floatLeaf(e any) (any, bool) {
	switch e := e.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(e), 64)
		return f, err == nil
	case map[string]any, []any:
		return e, floatNumbers(e)
	}
	return e, plainValue(e)
}
