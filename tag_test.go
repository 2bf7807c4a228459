package guardpost

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"testing"
)

// tagFake is the part of a Store the tag operations use, kept in memory.
// Every other Store method panics (the embedded interface is nil), so a
// test fails loudly if the tag operations reach for anything else.
type tagFake struct {
	Store
	detectors map[Scope]map[string]*Detector
	filters   map[Scope]map[[2]string]*Filter
	updates   int // UpdateTags calls that reached the store
}

func newTagFake() *tagFake {
	return &tagFake{detectors: map[Scope]map[string]*Detector{}, filters: map[Scope]map[[2]string]*Filter{}}
}

func (f *tagFake) addDetector(scope Scope, id string, tags map[string]string) {
	if f.detectors[scope] == nil {
		f.detectors[scope] = map[string]*Detector{}
	}
	f.detectors[scope][id] = &Detector{ID: id, AccountID: scope.AccountID, Region: scope.Region, Tags: tags}
}

func (f *tagFake) addFilter(scope Scope, det, name string, tags map[string]string) {
	if f.filters[scope] == nil {
		f.filters[scope] = map[[2]string]*Filter{}
	}
	f.filters[scope][[2]string{det, name}] = &Filter{AccountID: scope.AccountID, Region: scope.Region, DetectorID: det, Name: name, Tags: tags}
}

func (f *tagFake) Detector(_ context.Context, scope Scope, id string) (*Detector, error) {
	d, ok := f.detectors[scope][id]
	if !ok {
		return nil, Errorf(ENOTFOUND, "detector %s not found", id)
	}
	c := *d
	c.Tags = maps.Clone(d.Tags)
	return &c, nil
}

func (f *tagFake) Filter(_ context.Context, scope Scope, det, name string) (*Filter, error) {
	x, ok := f.filters[scope][[2]string{det, name}]
	if !ok {
		return nil, Errorf(ENOTFOUND, "filter %s not found", name)
	}
	c := *x
	c.Tags = maps.Clone(x.Tags)
	return &c, nil
}

func (f *tagFake) UpdateTags(_ context.Context, scope Scope, r Resource, update func(map[string]string) (map[string]string, error)) error {
	f.updates++
	var tags *map[string]string
	if r.FilterName == "" {
		d, ok := f.detectors[scope][r.DetectorID]
		if !ok {
			return Errorf(ENOTFOUND, "detector %s not found", r.DetectorID)
		}
		tags = &d.Tags
	} else {
		x, ok := f.filters[scope][[2]string{r.DetectorID, r.FilterName}]
		if !ok {
			return Errorf(ENOTFOUND, "filter %s not found", r.FilterName)
		}
		tags = &x.Tags
	}
	out, err := update(maps.Clone(*tags))
	if err != nil {
		return err
	}
	*tags = out
	return nil
}

var (
	tagScope  = Scope{AccountID: "111122223333", Region: "us-east-1"}
	tagOther  = Scope{AccountID: "444455556666", Region: "us-east-1"}
	tagDet    = "12abc34d567e8fa901bc2d34e56789f0"
	tagDetARN = "arn:aws:guardduty:us-east-1:111122223333:detector/" + tagDet
	tagFltARN = tagDetARN + "/filter/my-filter"
)

func wantErr(t *testing.T, err error, kind, msg, what string) {
	t.Helper()
	if ErrorKind(err) != kind || (msg != "" && ErrorMessage(err) != msg) {
		t.Fatalf("%s: got %s %q (%v), want %s %q", what, ErrorKind(err), ErrorMessage(err), err, kind, msg)
	}
}

func TestParseResourceARN(t *testing.T) {
	good := []struct {
		arn  string
		want ResourceARN
	}{
		{tagDetARN, ResourceARN{"aws", "us-east-1", "111122223333", Resource{DetectorID: tagDet}}},
		{tagFltARN, ResourceARN{"aws", "us-east-1", "111122223333", Resource{DetectorID: tagDet, FilterName: "my-filter"}}},
		{"arn:aws-cn:guardduty:cn-north-1:123456789012:detector/d1/filter/a.b_c",
			ResourceARN{"aws-cn", "cn-north-1", "123456789012", Resource{DetectorID: "d1", FilterName: "a.b_c"}}},
	}
	for _, c := range good {
		got, err := ParseResourceARN(c.arn)
		if err != nil {
			t.Fatalf("ParseResourceARN(%q): %v", c.arn, err)
		}
		if got != c.want {
			t.Errorf("ParseResourceARN(%q) = %+v, want %+v", c.arn, got, c.want)
		}
		if got.String() != c.arn {
			t.Errorf("String() = %q, want %q", got.String(), c.arn)
		}
	}
	for _, arn := range []string{
		"",
		"not-an-arn",
		"arn:aws:guardduty:us-east-1:111122223333",
		"arn:aws:s3:us-east-1:111122223333:detector/" + tagDet,              // another service
		"arm:aws:guardduty:us-east-1:111122223333:detector/" + tagDet,       // not "arn"
		"arn::guardduty:us-east-1:111122223333:detector/" + tagDet,          // no partition
		"arn:aws:guardduty::111122223333:detector/" + tagDet,                // no region
		"arn:aws:guardduty:us-east-1::detector/" + tagDet,                   // no account
		"arn:aws:guardduty:us-east-1:1111x2223333:detector/" + tagDet,       // account not digits
		"arn:aws:guardduty:us-east-1:111122223333:detector/",                // no detector id
		"arn:aws:guardduty:us-east-1:111122223333:detector",                 // no detector id
		"arn:aws:guardduty:us-east-1:111122223333:detector/" + tagDet + "/", // trailing slash
		"arn:aws:guardduty:us-east-1:111122223333:detector/" + tagDet + "/filter/",
		"arn:aws:guardduty:us-east-1:111122223333:detector/" + tagDet + "/ipsets/abc", // not a kind guardpost tags
		"arn:aws:guardduty:us-east-1:111122223333:detector/" + tagDet + "/filter/a/b",
		"arn:aws:guardduty:us-east-1:111122223333:detector/" + tagDet + ":extra",
		"arn:aws:guardduty:us-east-1:111122223333:filter/" + tagDet,
	} {
		_, err := ParseResourceARN(arn)
		wantErr(t, err, EINVALID, "", fmt.Sprintf("ParseResourceARN(%q)", arn))
	}
	_, err := ParseResourceARN("not-an-arn")
	want := msgInvalidInput + " The resourceArn 'not-an-arn' is not the ARN of a GuardDuty detector, filter or list: " +
		"use arn:PARTITION:guardduty:REGION:ACCOUNT_ID:detector/DETECTOR_ID, or that followed by " +
		"/filter/FILTER_NAME, /ipset/ID, /threatintelset/ID, /trustedentityset/ID or /threatentityset/ID."
	wantErr(t, err, EINVALID, want, "message")
	if got := DetectorARN(Scope{AccountID: "1", Region: "cn-north-1"}, "d"); got != "arn:aws-cn:guardduty:cn-north-1:1:detector/d" {
		t.Errorf("DetectorARN = %q", got)
	}
	if got := FilterARN(tagScope, tagDet, "my-filter"); got != tagFltARN {
		t.Errorf("FilterARN = %q", got)
	}
}

// The ARN must be the caller's own; the answer for another account's
// resource does not depend on whether it exists, and the store is never
// touched for it.
func TestTagsOtherScopes(t *testing.T) {
	st := newTagFake()
	st.addDetector(tagOther, tagDet, map[string]string{"owner": "b"})
	st.addFilter(tagOther, tagDet, "my-filter", map[string]string{"owner": "b"})
	s := &Service{Store: st}
	ctx := context.Background()
	otherDet := DetectorARN(tagOther, tagDet)
	for _, arn := range []string{otherDet, otherDet + "/filter/my-filter", DetectorARN(tagOther, "ffffffffffffffffffffffffffffffff")} {
		denied := "Account 111122223333 is not authorized to perform: guardduty:%s on resource: " + arn +
			". A GuardDuty resource can be used only by the account that owns it."
		wantErr(t, s.TagResource(ctx, tagScope, arn, map[string]string{"k": "v"}), EDENIED, fmt.Sprintf(denied, "TagResource"), "TagResource "+arn)
		wantErr(t, s.UntagResource(ctx, tagScope, arn, []string{"owner"}), EDENIED, fmt.Sprintf(denied, "UntagResource"), "UntagResource "+arn)
		_, err := s.ListTagsForResource(ctx, tagScope, arn)
		wantErr(t, err, EDENIED, fmt.Sprintf(denied, "ListTagsForResource"), "ListTagsForResource "+arn)
	}
	if st.updates != 0 {
		t.Fatalf("%d UpdateTags calls reached the store for foreign ARNs", st.updates)
	}
	if !reflect.DeepEqual(st.detectors[tagOther][tagDet].Tags, map[string]string{"owner": "b"}) {
		t.Fatalf("other account's tags changed: %v", st.detectors[tagOther][tagDet].Tags)
	}

	// Same account, another region or partition: the resource cannot be
	// reached from here, and the message says where to send the request.
	st.addDetector(Scope{AccountID: tagScope.AccountID, Region: "eu-west-1"}, tagDet, nil)
	euARN := "arn:aws:guardduty:eu-west-1:111122223333:detector/" + tagDet
	wantErr(t, s.TagResource(ctx, tagScope, euARN, map[string]string{"k": "v"}), EINVALID,
		msgInvalidInput+" The resourceArn is for region eu-west-1, but the request was sent to region us-east-1; send it to the resource's region.", "other region")
	cnARN := "arn:aws-cn:guardduty:us-east-1:111122223333:detector/" + tagDet
	_, err := s.ListTagsForResource(ctx, tagScope, cnARN)
	wantErr(t, err, EINVALID,
		msgInvalidInput+" The resourceArn is in partition aws-cn, but the request was sent to region us-east-1 of partition aws.", "other partition")
	if st.updates != 0 {
		t.Fatalf("%d UpdateTags calls reached the store for foreign ARNs", st.updates)
	}
}

func TestTagResource(t *testing.T) {
	ctx := context.Background()
	setup := func() (*tagFake, *Service) {
		st := newTagFake()
		st.addDetector(tagScope, tagDet, map[string]string{"team": "sec"})
		st.addFilter(tagScope, tagDet, "my-filter", nil)
		return st, &Service{Store: st}
	}
	list := func(t *testing.T, s *Service, arn string) map[string]string {
		t.Helper()
		tags, err := s.ListTagsForResource(ctx, tagScope, arn)
		if err != nil {
			t.Fatalf("ListTagsForResource: %v", err)
		}
		if tags == nil {
			t.Fatal("ListTagsForResource returned nil, want a map")
		}
		return tags
	}
	t.Run("MergeAndOverwrite", func(t *testing.T) {
		_, s := setup()
		if err := s.TagResource(ctx, tagScope, tagDetARN, map[string]string{"team": "ops", "env": "prod"}); err != nil {
			t.Fatal(err)
		}
		if got := list(t, s, tagDetARN); !reflect.DeepEqual(got, map[string]string{"team": "ops", "env": "prod"}) {
			t.Fatalf("detector tags %v", got)
		}
		if got := list(t, s, tagFltARN); len(got) != 0 {
			t.Fatalf("filter tags %v, want none", got)
		}
		if err := s.TagResource(ctx, tagScope, tagFltARN, map[string]string{"a": ""}); err != nil {
			t.Fatal(err)
		}
		if got := list(t, s, tagFltARN); !reflect.DeepEqual(got, map[string]string{"a": ""}) {
			t.Fatalf("filter tags %v", got)
		}
	})
	t.Run("Limit", func(t *testing.T) {
		_, s := setup()
		tags := map[string]string{}
		for i := range MaxTagsPerResource - 1 { // with "team": exactly the limit
			tags[fmt.Sprintf("k%02d", i)] = "v"
		}
		if err := s.TagResource(ctx, tagScope, tagDetARN, tags); err != nil {
			t.Fatalf("tagging up to the limit: %v", err)
		}
		before := list(t, s, tagDetARN)
		if len(before) != MaxTagsPerResource {
			t.Fatalf("%d tags, want %d", len(before), MaxTagsPerResource)
		}
		// Overwriting at the limit is fine; one more key is not, and
		// nothing of that request is written.
		if err := s.TagResource(ctx, tagScope, tagDetARN, map[string]string{"team": "ops"}); err != nil {
			t.Fatalf("overwriting at the limit: %v", err)
		}
		err := s.TagResource(ctx, tagScope, tagDetARN, map[string]string{"team": "changed", "one-more": "v"})
		wantErr(t, err, EINVALID, "The request is rejected because the resource would have 51 tags, more than the limit of 50 tags per resource. "+
			"The limit counts the resource's existing tags together with the new ones; remove tags with UntagResource first.", "51st tag")
		after := list(t, s, tagDetARN)
		if after["team"] != "ops" || len(after) != MaxTagsPerResource {
			t.Fatalf("after the refused request: team=%q, %d tags", after["team"], len(after))
		}
	})
	t.Run("BadKeys", func(t *testing.T) {
		st, s := setup()
		wantErr(t, s.TagResource(ctx, tagScope, tagDetARN, map[string]string{"ok": "1", "aws:owner": "me"}), EINVALID,
			msgInvalidInput+" The tag key 'aws:owner' starts with aws:, which is reserved for AWS use.", "aws: key")
		wantErr(t, s.TagResource(ctx, tagScope, tagDetARN, map[string]string{"": "v"}), EINVALID, "", "empty key")
		wantErr(t, s.TagResource(ctx, tagScope, tagDetARN, nil), EINVALID, "", "no tags")
		if st.updates != 0 {
			t.Fatalf("%d UpdateTags calls for refused requests", st.updates)
		}
		if got := list(t, s, tagDetARN); !reflect.DeepEqual(got, map[string]string{"team": "sec"}) {
			t.Fatalf("tags after refused requests: %v", got)
		}
	})
	t.Run("Untag", func(t *testing.T) {
		st, s := setup()
		if err := s.TagResource(ctx, tagScope, tagDetARN, map[string]string{"a": "1", "b": "2"}); err != nil {
			t.Fatal(err)
		}
		if err := s.UntagResource(ctx, tagScope, tagDetARN, []string{"a", "never-there"}); err != nil {
			t.Fatal(err)
		}
		if got := list(t, s, tagDetARN); !reflect.DeepEqual(got, map[string]string{"team": "sec", "b": "2"}) {
			t.Fatalf("after untag: %v", got)
		}
		if err := s.UntagResource(ctx, tagScope, tagDetARN, []string{"team", "b"}); err != nil {
			t.Fatal(err)
		}
		// No tags left: stored as none, as if it had never been tagged.
		if tags := st.detectors[tagScope][tagDet].Tags; tags != nil {
			t.Fatalf("stored tags after removing all: %#v, want nil", tags)
		}
		if got := list(t, s, tagDetARN); len(got) != 0 {
			t.Fatalf("listed tags after removing all: %v", got)
		}
		wantErr(t, s.UntagResource(ctx, tagScope, tagDetARN, nil), EINVALID, "", "no keys")
	})
	t.Run("NotFound", func(t *testing.T) {
		_, s := setup()
		missingDet := DetectorARN(tagScope, "ffffffffffffffffffffffffffffffff")
		for _, c := range []struct{ arn, msg string }{
			{missingDet, msgDetectorNotOwned},
			{missingDet + "/filter/my-filter", msgDetectorNotOwned},
			{tagDetARN + "/filter/nope", msgFilterNotFound("nope")},
		} {
			wantErr(t, s.TagResource(ctx, tagScope, c.arn, map[string]string{"k": "v"}), EINVALID, c.msg, "TagResource "+c.arn)
			wantErr(t, s.UntagResource(ctx, tagScope, c.arn, []string{"k"}), EINVALID, c.msg, "UntagResource "+c.arn)
			_, err := s.ListTagsForResource(ctx, tagScope, c.arn)
			wantErr(t, err, EINVALID, c.msg, "ListTagsForResource "+c.arn)
		}
	})
}
