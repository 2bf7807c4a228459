package guardpost

import (
	"context"
	"maps"
	"slices"
	"strings"
)

// MaxTagsPerResource is how many tags one detector or filter may hold. It is
// GuardDuty's documented limit ("a limit of 50 tags per resource", API
// reference of ListTagsForResource), not the 200 entries the model lets one
// request carry.
const MaxTagsPerResource = 50

// Resource names a taggable resource within a scope: a detector, or a
// filter of one.
type Resource struct {
	DetectorID string
	FilterName string // "" names the detector itself
	// ListKind and ListID name a threat list of the detector instead.
	ListKind ThreatListKind
	ListID   string
}

// ResourceARN is a parsed GuardDuty resource ARN:
//
//	arn:{partition}:guardduty:{region}:{account}:detector/{detectorId}
//	arn:{partition}:guardduty:{region}:{account}:detector/{detectorId}/filter/{filterName}
type ResourceARN struct {
	Partition string
	Region    string
	AccountID string
	Resource
}

// String returns the ARN in its canonical text form.
func (a ResourceARN) String() string {
	s := "arn:" + a.Partition + ":guardduty:" + a.Region + ":" + a.AccountID + ":detector/" + a.DetectorID
	if a.FilterName != "" {
		s += "/filter/" + a.FilterName
	}
	if a.ListID != "" {
		s += "/" + string(a.ListKind) + "/" + a.ListID
	}
	return s
}

// ThreatListARN returns the ARN of a threat list of a detector of the scope.
func ThreatListARN(scope Scope, detectorID string, kind ThreatListKind, id string) string {
	return ResourceARN{Partition: Partition(scope.Region), Region: scope.Region, AccountID: scope.AccountID,
		Resource: Resource{DetectorID: detectorID, ListKind: kind, ListID: id}}.String()
}

// DetectorARN returns the ARN of a detector of the scope.
func DetectorARN(scope Scope, detectorID string) string {
	return ResourceARN{Partition: Partition(scope.Region), Region: scope.Region, AccountID: scope.AccountID,
		Resource: Resource{DetectorID: detectorID}}.String()
}

// FilterARN returns the ARN of a filter of a detector of the scope.
func FilterARN(scope Scope, detectorID, name string) string {
	return ResourceARN{Partition: Partition(scope.Region), Region: scope.Region, AccountID: scope.AccountID,
		Resource: Resource{DetectorID: detectorID, FilterName: name}}.String()
}

// ParseResourceARN parses the ARN of a detector, a filter or a threat list. It checks only
// the shape; whose resource it names is the service's business. EINVALID
// when s is not such an ARN.
func ParseResourceARN(s string) (ResourceARN, error) {
	bad := func() error {
		return Errorf(EINVALID, "%s The resourceArn '%s' is not the ARN of a GuardDuty detector, filter or list: "+
			"use arn:PARTITION:guardduty:REGION:ACCOUNT_ID:detector/DETECTOR_ID, or that followed by "+
			"/filter/FILTER_NAME, /ipset/ID, /threatintelset/ID, /trustedentityset/ID or /threatentityset/ID.", msgInvalidInput, s)
	}
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "guardduty" {
		return ResourceARN{}, bad()
	}
	a := ResourceARN{Partition: parts[1], Region: parts[3], AccountID: parts[4]}
	if a.Partition == "" || a.Region == "" || !allDigits(a.AccountID) {
		return ResourceARN{}, bad()
	}
	path := strings.Split(parts[5], "/")
	switch {
	case len(path) == 2 && path[0] == "detector":
		a.DetectorID = path[1]
	case len(path) == 4 && path[0] == "detector" && path[2] == "filter":
		a.DetectorID, a.FilterName = path[1], path[3]
		if a.FilterName == "" {
			return ResourceARN{}, bad()
		}
	case len(path) == 4 && path[0] == "detector" && slices.Contains(ThreatListKinds, ThreatListKind(path[2])):
		a.DetectorID, a.ListKind, a.ListID = path[1], ThreatListKind(path[2]), path[3]
		if a.ListID == "" {
			return ResourceARN{}, bad()
		}
	default:
		return ResourceARN{}, bad()
	}
	if a.DetectorID == "" {
		return ResourceARN{}, bad()
	}
	return a, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// TagStore keeps the tags of detectors and filters. (Reading them needs no
// method of its own: Detector and Filter return them.)
type TagStore interface {
	// UpdateTags passes the resource's current tags (nil when it has none)
	// to update and stores the map update returns, in one transaction, so
	// that concurrent changes to one resource's tags are never lost. A nil
	// or empty result leaves the resource without tags. ENOTFOUND when the
	// resource does not exist in the scope; an error from update is returned
	// as it is (errors.Is finds it) and nothing is written.
	UpdateTags(ctx context.Context, scope Scope, r Resource, update func(tags map[string]string) (map[string]string, error)) error
}

// resolveARN parses arn and checks that it names a resource of the caller's
// scope. The checks look at the ARN's text only, never at the store, so the
// answer for someone else's resource is the same whether it exists or not.
func resolveARN(scope Scope, operation, arn string) (Resource, error) {
	a, err := ParseResourceARN(arn)
	if err != nil {
		return Resource{}, err
	}
	// Another account's resource: IAM, which runs before GuardDuty sees the
	// request, denies it (GuardDuty has no resource policies to grant
	// cross-account access), and the model declares AccessDeniedException
	// on all three tag operations. Real IAM names the calling principal
	// ("User: arn:... is not authorized to perform: guardduty:TagResource on
	// resource: arn:..."); guardpost knows only the account.
	if a.AccountID != scope.AccountID {
		return Resource{}, Errorf(EDENIED, "Account %s is not authorized to perform: guardduty:%s on resource: %s. "+
			"A GuardDuty resource can be used only by the account that owns it.", scope.AccountID, operation, arn)
	}
	// Same account, wrong partition or region: the resource cannot be in
	// the region the request was sent to. No AWS text for this is published;
	// the wording follows GuardDuty's "The request is rejected because ...".
	if want := Partition(scope.Region); a.Partition != want {
		return Resource{}, Errorf(EINVALID, "%s The resourceArn is in partition %s, but the request was sent to region %s of partition %s.",
			msgInvalidInput, a.Partition, scope.Region, want)
	}
	if a.Region != scope.Region {
		return Resource{}, Errorf(EINVALID, "%s The resourceArn is for region %s, but the request was sent to region %s; send it to the resource's region.",
			msgInvalidInput, a.Region, scope.Region)
	}
	return a.Resource, nil
}

// notFound turns the store's ENOTFOUND into the message GetDetector and
// GetFilter give for the same resource, so that every operation describes a
// missing (or foreign) detector or filter alike.
func (s *Service) notFound(ctx context.Context, scope Scope, r Resource, err error) error {
	if ErrorKind(err) != ENOTFOUND {
		return err
	}
	if r.ListID != "" {
		if _, derr := s.detector(ctx, scope, r.DetectorID); derr != nil {
			return derr
		}
		return Errorf(EINVALID, msgThreatListNotFound)
	}
	if r.FilterName != "" {
		// A filter is missing either because its detector is; say which,
		// as GetFilter does. Both lookups stay inside the caller's scope.
		if _, derr := s.detector(ctx, scope, r.DetectorID); derr != nil {
			return derr
		}
		return Errorf(EINVALID, "%s", msgFilterNotFound(r.FilterName))
	}
	return Errorf(EINVALID, msgDetectorNotOwned)
}

// TagResource adds tags to a detector or filter of the scope; a key it
// already has takes the new value. The resource may hold at most
// MaxTagsPerResource tags afterwards; a request that would exceed that
// changes nothing. EINVALID for a bad ARN, a reserved key or too many tags;
// EDENIED for another account's ARN.
func (s *Service) TagResource(ctx context.Context, scope Scope, arn string, tags map[string]string) error {
	r, err := resolveARN(scope, "TagResource", arn)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return Errorf(EINVALID, "%s The tags to add must hold at least one tag.", msgInvalidInput)
	}
	for k := range tags {
		if err := checkTagKey(k); err != nil {
			return err
		}
	}
	err = s.Store.UpdateTags(ctx, scope, r, func(current map[string]string) (map[string]string, error) {
		out := maps.Clone(current)
		if out == nil {
			out = make(map[string]string, len(tags))
		}
		maps.Copy(out, tags)
		if len(out) > MaxTagsPerResource {
			return nil, tooManyTags(len(out))
		}
		return out, nil
	})
	return s.notFound(ctx, scope, r, err)
}

// tooManyTags is the answer when a resource would hold more than
// MaxTagsPerResource tags. GuardDuty declares no TooManyTagsException, so
// this is a BadRequestException; the wording follows the
// TooManyTagsException text of other AWS services, which counts existing
// and new tags together.
func tooManyTags(n int) error {
	return Errorf(EINVALID, "The request is rejected because the resource would have %d tags, more than the limit of %d tags per resource. "+
		"The limit counts the resource's existing tags together with the new ones; remove tags with UntagResource first.",
		n, MaxTagsPerResource)
}

// checkNewTags checks the tags a resource is created with.
func checkNewTags(tags map[string]string) error {
	for k := range tags {
		if err := checkTagKey(k); err != nil {
			return err
		}
	}
	if len(tags) > MaxTagsPerResource {
		return tooManyTags(len(tags))
	}
	return nil
}

// checkTagKey enforces the model's TagKey rules the domain relies on: the
// transport validates them too, but the domain must not trust it to.
func checkTagKey(k string) error {
	if k == "" {
		return Errorf(EINVALID, "%s A tag key must not be empty.", msgInvalidInput)
	}
	if strings.HasPrefix(k, "aws:") {
		return Errorf(EINVALID, "%s The tag key '%s' starts with aws:, which is reserved for AWS use.", msgInvalidInput, k)
	}
	return nil
}

// UntagResource removes the tags with the given keys from a detector or
// filter of the scope. Keys the resource does not have are ignored.
// EINVALID for a bad ARN; EDENIED for another account's ARN.
func (s *Service) UntagResource(ctx context.Context, scope Scope, arn string, keys []string) error {
	r, err := resolveARN(scope, "UntagResource", arn)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return Errorf(EINVALID, "%s The tagKeys to remove must name at least one key.", msgInvalidInput)
	}
	err = s.Store.UpdateTags(ctx, scope, r, func(current map[string]string) (map[string]string, error) {
		out := maps.Clone(current)
		for _, k := range keys {
			delete(out, k)
		}
		if len(out) == 0 {
			return nil, nil // untagged, as if it never had tags
		}
		return out, nil
	})
	return s.notFound(ctx, scope, r, err)
}

// ListTagsForResource returns the tags of a detector or filter of the
// scope, never nil. EINVALID for a bad ARN; EDENIED for another account's ARN.
func (s *Service) ListTagsForResource(ctx context.Context, scope Scope, arn string) (map[string]string, error) {
	r, err := resolveARN(scope, "ListTagsForResource", arn)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	switch {
	case r.ListID != "":
		l, err := s.Store.ThreatList(ctx, scope, r.DetectorID, r.ListKind, r.ListID)
		if err == nil && l.Status == ListDeleted {
			err = Errorf(ENOTFOUND, "deleted")
		}
		if err != nil {
			return nil, s.notFound(ctx, scope, r, err)
		}
		tags = l.Tags
	case r.FilterName == "":
		d, err := s.Store.Detector(ctx, scope, r.DetectorID)
		if err != nil {
			return nil, s.notFound(ctx, scope, r, err)
		}
		tags = d.Tags
	default:
		f, err := s.Store.Filter(ctx, scope, r.DetectorID, r.FilterName)
		if err != nil {
			return nil, s.notFound(ctx, scope, r, err)
		}
		tags = f.Tags
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return tags, nil
}
