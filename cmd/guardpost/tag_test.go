package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

const (
	// msgBadARNPattern is the generated model check's answer for an ARN
	// that does not match GuardDutyArn's pattern.
	msgBadARNPattern = "Member must satisfy regular expression pattern: ^arn:[A-Za-z_.-]{1,20}:guardduty:[A-Za-z0-9_/.-]{0,63}:\\d+:detector/[A-Za-z0-9_/.-]{32,264}$"
	msgInvalidInput  = "The request is rejected because an invalid or out-of-range value is specified as an input parameter."
)

func detectorARN(account, det string) string {
	return "arn:aws:guardduty:us-east-1:" + account + ":detector/" + det
}

// tagsPath is the request path of the tag operations for an ARN. The ARN
// is one path segment, its "/" percent-encoded, as the SDKs send it.
func tagsPath(arn string) string { return "/tags/" + url.PathEscape(arn) }

func listTags(t *testing.T, c *guardduty.Client, arn string) map[string]string {
	t.Helper()
	out, err := c.ListTagsForResource(context.Background(), &guardduty.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil {
		t.Fatalf("ListTagsForResource %s: %v", arn, err)
	}
	return out.Tags
}

func wantTags(t *testing.T, got, want map[string]string, what string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: tags %v, want %v", what, got, want)
	}
}

func TestTags(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.clientA()

	created, err := c.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true),
		Tags: map[string]string{"team": "sec", "env": "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	det := aws.ToString(created.DetectorId)
	if _, err := c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("noisy"),
		FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {LessThan: aws.Int64(4)}}},
		Tags:            map[string]string{"owner": "alice"}}); err != nil {
		t.Fatal(err)
	}
	detARN := detectorARN(accountA, det)
	fltARN := detARN + "/filter/noisy"

	detectorTags := func(t *testing.T) map[string]string {
		t.Helper()
		got, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: &det})
		if err != nil {
			t.Fatal(err)
		}
		return got.Tags
	}
	filterTags := func(t *testing.T) map[string]string {
		t.Helper()
		got, err := c.GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &det, FilterName: aws.String("noisy")})
		if err != nil {
			t.Fatal(err)
		}
		return got.Tags
	}

	// The steps build on each other: each leaves the tags the next expects.
	t.Run("TagsFromCreate", func(t *testing.T) {
		wantTags(t, listTags(t, c, detARN), map[string]string{"team": "sec", "env": "dev"}, "detector")
		wantTags(t, listTags(t, c, fltARN), map[string]string{"owner": "alice"}, "filter")
	})
	t.Run("TagResourceAddsAndOverwrites", func(t *testing.T) {
		if _, err := c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &detARN,
			Tags: map[string]string{"env": "prod", "cost-centre": "42"}}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"team": "sec", "env": "prod", "cost-centre": "42"}
		wantTags(t, listTags(t, c, detARN), want, "ListTagsForResource detector")
		wantTags(t, detectorTags(t), want, "GetDetector")

		if _, err := c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &fltARN,
			Tags: map[string]string{"owner": "bob", "tier": ""}}); err != nil {
			t.Fatal(err)
		}
		wantF := map[string]string{"owner": "bob", "tier": ""}
		wantTags(t, listTags(t, c, fltARN), wantF, "ListTagsForResource filter")
		wantTags(t, filterTags(t), wantF, "GetFilter")
		wantTags(t, detectorTags(t), want, "detector after tagging its filter")
	})
	t.Run("UntagResource", func(t *testing.T) {
		if _, err := c.UntagResource(ctx, &guardduty.UntagResourceInput{ResourceArn: &detARN,
			TagKeys: []string{"cost-centre", "never-there"}}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"team": "sec", "env": "prod"}
		wantTags(t, listTags(t, c, detARN), want, "ListTagsForResource detector")
		wantTags(t, detectorTags(t), want, "GetDetector")

		if _, err := c.UntagResource(ctx, &guardduty.UntagResourceInput{ResourceArn: &fltARN,
			TagKeys: []string{"owner", "tier"}}); err != nil {
			t.Fatal(err)
		}
		out, err := c.ListTagsForResource(ctx, &guardduty.ListTagsForResourceInput{ResourceArn: &fltARN})
		if err != nil {
			t.Fatal(err)
		}
		if out.Tags == nil || len(out.Tags) != 0 {
			t.Fatalf("filter tags after removing all: %#v, want an empty map", out.Tags)
		}
		if got := filterTags(t); len(got) != 0 {
			t.Fatalf("GetFilter tags after removing all: %v", got)
		}
	})
	t.Run("RawWire", func(t *testing.T) {
		// TagResource and UntagResource answer 204 with no body at all.
		resp := s.do("POST", tagsPath(detARN), `{"tags":{"raw":"1"}}`)
		if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
			t.Fatalf("TagResource: status %d body %q, want 204 and no body", resp.Status, resp.Body)
		}
		resp = s.do("GET", tagsPath(detARN), "")
		if resp.Status != http.StatusOK || string(resp.Body) != `{"tags":{"env":"prod","raw":"1","team":"sec"}}` {
			t.Fatalf("ListTagsForResource: status %d body %s", resp.Status, resp.Body)
		}
		resp = s.do("DELETE", tagsPath(detARN)+"?tagKeys=raw&tagKeys=env", "")
		if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
			t.Fatalf("UntagResource: status %d body %q, want 204 and no body", resp.Status, resp.Body)
		}
		wantTags(t, listTags(t, c, detARN), map[string]string{"team": "sec"}, "after raw untag")
		// An untagged resource still names the member.
		resp = s.do("GET", tagsPath(fltARN), "")
		if resp.Status != http.StatusOK || string(resp.Body) != `{"tags":{}}` {
			t.Fatalf("ListTagsForResource untagged: status %d body %s", resp.Status, resp.Body)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		missingDet := detectorARN(accountA, strings.Repeat("f", 32))
		cases := []struct {
			name, method, path, body string
			status                   int
			typ, msg                 string
		}{
			{"malformed ARN", "GET", tagsPath("not-an-arn"), "", 400, "BadRequestException",
				"1 validation error detected: Value 'not-an-arn' at 'resourceArn' failed to satisfy constraint: " + msgBadARNPattern},
			{"ARN of a resource kind guardpost does not tag", "GET", tagsPath(detARN + "/publishingDestination/" + strings.Repeat("a", 32)), "", 400, "BadRequestException",
				msgInvalidInput + " The resourceArn '" + detARN + "/publishingDestination/" + strings.Repeat("a", 32) + "' is not the ARN of a GuardDuty detector, filter or list: " +
					"use arn:PARTITION:guardduty:REGION:ACCOUNT_ID:detector/DETECTOR_ID, or that followed by " +
					"/filter/FILTER_NAME, /ipset/ID, /threatintelset/ID, /trustedentityset/ID or /threatentityset/ID."},
			{"ARN of another region", "POST", tagsPath("arn:aws:guardduty:eu-west-1:" + accountA + ":detector/" + det), `{"tags":{"k":"v"}}`, 400, "BadRequestException",
				msgInvalidInput + " The resourceArn is for region eu-west-1, but the request was sent to region us-east-1; send it to the resource's region."},
			{"nonexistent detector", "POST", tagsPath(missingDet), `{"tags":{"k":"v"}}`, 400, "BadRequestException", msgNotOwned},
			{"filter of a nonexistent detector", "GET", tagsPath(missingDet + "/filter/noisy"), "", 400, "BadRequestException", msgNotOwned},
			{"nonexistent filter", "POST", tagsPath(detARN + "/filter/nope"), `{"tags":{"k":"v"}}`, 400, "BadRequestException",
				msgNoSuchResource},
			{"untag nonexistent filter", "DELETE", tagsPath(detARN+"/filter/nope") + "?tagKeys=k", "", 400, "BadRequestException",
				msgNoSuchResource},
			{"aws: key", "POST", tagsPath(detARN), `{"tags":{"aws:owner":"me"}}`, 400, "BadRequestException",
				"1 validation error detected: Value 'aws:owner' at 'tags.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$"},
			{"untag aws: key", "DELETE", tagsPath(detARN) + "?tagKeys=aws:owner", "", 400, "BadRequestException",
				"1 validation error detected: Value 'aws:owner' at 'tagKeys.1.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$"},
			{"no tags", "POST", tagsPath(detARN), `{"tags":{}}`, 400, "BadRequestException",
				"1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
			{"untag without tagKeys", "DELETE", tagsPath(detARN), "", 400, "BadRequestException",
				"1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp := s.do(tc.method, tc.path, tc.body)
				typ, msg := resp.errorBody(t)
				if resp.Status != tc.status || typ != tc.typ || msg != tc.msg {
					t.Fatalf("got %d %s %q\nwant %d %s %q", resp.Status, typ, msg, tc.status, tc.typ, tc.msg)
				}
			})
		}
		// The SDK sees the same errors as typed API errors.
		_, err := c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: aws.String("not-an-arn"), Tags: map[string]string{"k": "v"}})
		wantAPIError(t, err, "BadRequestException", "1 validation error detected: Value 'not-an-arn' at 'resourceArn' failed to satisfy constraint: "+msgBadARNPattern)
		_, err = c.UntagResource(ctx, &guardduty.UntagResourceInput{ResourceArn: &missingDet, TagKeys: []string{"k"}})
		wantAPIError(t, err, "BadRequestException", msgNotOwned)
		_, err = c.ListTagsForResource(ctx, &guardduty.ListTagsForResourceInput{ResourceArn: aws.String(detARN + "/filter/nope")})
		wantAPIError(t, err, "BadRequestException", msgNoSuchResource)
		_, err = c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &detARN, Tags: map[string]string{"aws:owner": "me"}})
		wantAPIError(t, err, "BadRequestException", "1 validation error detected: Value 'aws:owner' at 'tags.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$")
		// None of the refused requests changed anything.
		wantTags(t, listTags(t, c, detARN), map[string]string{"team": "sec"}, "detector after refused requests")
	})

	t.Run("OtherAccount", func(t *testing.T) {
		cb := s.clientB()
		detB := createDetector(t, cb)
		arnB := detectorARN(accountB, detB)
		if _, err := cb.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &arnB, Tags: map[string]string{"owner": "b"}}); err != nil {
			t.Fatal(err)
		}
		denied := func(op, arn string) string {
			return "Account " + accountA + " is not authorized to perform: guardduty:" + op + " on resource: " + arn +
				". A GuardDuty resource can be used only by the account that owns it."
		}
		_, err := c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &arnB, Tags: map[string]string{"owner": "a"}})
		wantAPIError(t, err, "AccessDeniedException", denied("TagResource", arnB))
		var ade *types.AccessDeniedException
		if !errors.As(err, &ade) {
			t.Fatalf("TagResource error %T is not a *types.AccessDeniedException", err)
		}
		_, err = c.UntagResource(ctx, &guardduty.UntagResourceInput{ResourceArn: &arnB, TagKeys: []string{"owner"}})
		wantAPIError(t, err, "AccessDeniedException", denied("UntagResource", arnB))
		_, err = c.ListTagsForResource(ctx, &guardduty.ListTagsForResourceInput{ResourceArn: &arnB})
		wantAPIError(t, err, "AccessDeniedException", denied("ListTagsForResource", arnB))

		// Whether B's resource exists makes no difference to the answer.
		for _, arn := range []string{arnB, detectorARN(accountB, strings.Repeat("e", 32)), arnB + "/filter/anything"} {
			resp := s.do("POST", tagsPath(arn), `{"tags":{"owner":"a"}}`)
			typ, msg := resp.errorBody(t)
			if resp.Status != http.StatusForbidden || typ != "AccessDeniedException" || msg != denied("TagResource", arn) {
				t.Fatalf("%s: got %d %s %q", arn, resp.Status, typ, msg)
			}
		}
		// B's tags are untouched, and B's detector does not show A's.
		wantTags(t, listTags(t, cb, arnB), map[string]string{"owner": "b"}, "B's detector after A's attempts")
		wantTags(t, listTags(t, c, detARN), map[string]string{"team": "sec"}, "A's detector")
	})

	t.Run("AtMost50Tags", func(t *testing.T) {
		before := listTags(t, c, detARN) // {"team": "sec"}
		tags := func(n int, prefix string) map[string]string {
			m := map[string]string{}
			for i := range n {
				m[fmt.Sprintf("%s%02d", prefix, i)] = "v"
			}
			return m
		}
		// 1 + 50 = 51: refused, and none of the 50 is written.
		over := tags(50, "k")
		_, err := c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &detARN, Tags: over})
		wantAPIError(t, err, "BadRequestException", "The request is rejected because the resource would have 51 tags, more than the limit of 50 tags per resource. "+
			"The limit counts the resource's existing tags together with the new ones; remove tags with UntagResource first.")
		wantTags(t, listTags(t, c, detARN), before, "after the refused request")
		wantTags(t, detectorTags(t), before, "GetDetector after the refused request")

		// 1 + 49 = 50: accepted; overwriting at the limit too; one more is not.
		fill := tags(49, "k")
		if _, err := c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &detARN, Tags: fill}); err != nil {
			t.Fatalf("tagging up to 50: %v", err)
		}
		want := maps.Clone(fill)
		maps.Copy(want, before)
		wantTags(t, listTags(t, c, detARN), want, "at the limit")
		if _, err := c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &detARN, Tags: map[string]string{"k00": "changed"}}); err != nil {
			t.Fatalf("overwriting at the limit: %v", err)
		}
		want["k00"] = "changed"
		resp := s.do("POST", tagsPath(detARN), `{"tags":{"k01":"x","one-more":"v"}}`)
		typ, msg := resp.errorBody(t)
		if resp.Status != http.StatusBadRequest || typ != "BadRequestException" || !strings.Contains(msg, "would have 51 tags") {
			t.Fatalf("51st tag: got %d %s %q", resp.Status, typ, msg)
		}
		wantTags(t, listTags(t, c, detARN), want, "after the refused 51st tag")

		// The limit holds from creation on: a filter (or a detector, in
		// another region) created with 51 tags is refused, and not created.
		_, err = c.CreateFilter(ctx, &guardduty.CreateFilterInput{DetectorId: &det, Name: aws.String("many-tags"), Tags: tags(51, "k"),
			FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}}})
		wantAPIError(t, err, "BadRequestException", "")
		if _, msg := apiError(t, err); !strings.Contains(msg, "would have 51 tags") {
			t.Fatalf("CreateFilter with 51 tags: %q", msg)
		}
		if _, err := c.GetFilter(ctx, &guardduty.GetFilterInput{DetectorId: &det, FilterName: aws.String("many-tags")}); err == nil {
			t.Fatal("the refused filter was created")
		}
		west := s.client(keyA, secretA, "us-west-2")
		_, err = west.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true), Tags: tags(51, "k")})
		if _, msg := apiError(t, err); !strings.Contains(msg, "would have 51 tags") {
			t.Fatalf("CreateDetector with 51 tags: %q", msg)
		}
		if list, err := west.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil || len(list.DetectorIds) != 0 {
			t.Fatalf("after the refused CreateDetector: %v, %v", list, err)
		}
	})
}

func TestAWSCLITags(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the CLI tag round trip")
	}
	s := startServer(t)
	var created struct{ DetectorId string }
	s.cli(t, &created, "create-detector", "--enable")
	arn := detectorARN(accountA, created.DetectorId)
	s.cli(t, nil, "tag-resource", "--resource-arn", arn, "--tags", "team=sec,env=prod")
	var listed struct{ Tags map[string]string }
	s.cli(t, &listed, "list-tags-for-resource", "--resource-arn", arn)
	wantTags(t, listed.Tags, map[string]string{"team": "sec", "env": "prod"}, "aws guardduty list-tags-for-resource")
	s.cli(t, nil, "untag-resource", "--resource-arn", arn, "--tag-keys", "env")
	listed.Tags = nil
	s.cli(t, &listed, "list-tags-for-resource", "--resource-arn", arn)
	wantTags(t, listed.Tags, map[string]string{"team": "sec"}, "after aws guardduty untag-resource")
}
