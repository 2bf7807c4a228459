package sts

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost/sigv4"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func sessionHandler(t *testing.T) *Handler {
	t.Helper()
	keys, err := sigv4.NewSessionKeys(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	h := testHandler()
	h.Sessions = keys
	h.Verifier.Sessions = keys
	h.Now = func() time.Time { return testNow }
	return h
}

// call serves a form-encoded STS call signed by the test key (now).
func call(t *testing.T, h *Handler, params url.Values) *httptest.ResponseRecorder {
	t.Helper()
	params.Set("Version", Version)
	w := httptest.NewRecorder()
	w.Header().Set("X-Amzn-RequestId", "req-1")
	h.ServeHTTP(w, signed(t, "POST", "", params.Encode(), testKey, testSecret, "sts", "us-east-1"))
	return w
}

func stsError(t *testing.T, w *httptest.ResponseRecorder) (int, string, string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	return w.Code, e.Error.Code, e.Error.Message
}

func TestAssumeRoleXML(t *testing.T) {
	h := sessionHandler(t)
	w := call(t, h, url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::111122223333:role/ops/Auditor"},
		"RoleSessionName": {"night-run"}, "DurationSeconds": {"1800"}, "ExternalId": {"ext-123"},
		"Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"sec"}})
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/xml" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var resp struct {
		Result struct {
			User  struct{ Arn, AssumedRoleId string } `xml:"AssumedRoleUser"`
			Creds struct {
				AccessKeyId, SecretAccessKey, SessionToken, Expiration string
			} `xml:"Credentials"`
		} `xml:"AssumeRoleResult"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	// STS's element order: AssumedRoleUser (Arn, AssumedRoleId) then
	// Credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration).
	for _, prefix := range []string{
		`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/Auditor/night-run</Arn><AssumedRoleId>AROA`,
	} {
		if !strings.HasPrefix(body, prefix) {
			t.Fatalf("body %s\nwant prefix %s", body, prefix)
		}
	}
	if !strings.Contains(body, `:night-run</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>ASIA`) ||
		!strings.HasSuffix(body, `</Expiration></Credentials><PackedPolicySize>1</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></AssumeRoleResponse>`) {
		t.Fatalf("body %s", body)
	}
	if !strings.Contains(body, "</Credentials><PackedPolicySize>1</PackedPolicySize></AssumeRoleResult>") {
		t.Fatalf("PackedPolicySize with a session tag: %s", body)
	}
	if resp.Result.Creds.Expiration != "2026-03-04T05:36:07Z" {
		t.Fatalf("Expiration %s", resp.Result.Creds.Expiration)
	}
	s, err := h.Sessions.Open(resp.Result.Creds.SessionToken)
	if err != nil || s.AccessKeyID != resp.Result.Creds.AccessKeyId || s.AccountID != "111122223333" || !s.AssumedRole ||
		s.Profile != "alice" || s.SourceAccount != testAccount {
		t.Fatalf("session %+v %v", s, err)
	}
	// The role id is stable (every node, every call) and per role.
	w2 := call(t, h, url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::111122223333:role/ops/Auditor"}, "RoleSessionName": {"x2"}})
	if id := resp.Result.User.AssumedRoleId; !strings.Contains(w2.Body.String(), "<AssumedRoleId>"+strings.TrimSuffix(id, "night-run")+"x2<") {
		t.Fatalf("role id changed: %s vs %s", id, w2.Body)
	}
}

func TestAssumeRoleRefusals(t *testing.T) {
	h := sessionHandler(t)
	own := "arn:aws:iam::111122223333:role/r"
	long := strings.Repeat("a", 65)
	tags := url.Values{"Action": {"AssumeRole"}, "RoleArn": {own}, "RoleSessionName": {"s1"}}
	for i := 1; i <= 51; i++ {
		tags.Set("Tags.member."+strconv.Itoa(i)+".Key", "k"+strconv.Itoa(i))
	}
	for _, tc := range []struct {
		name   string
		params url.Values
		status int
		code   string
		msg    string
	}{
		{"nothing", url.Values{"Action": {"AssumeRole"}}, 400, "ValidationError",
			"2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"},
		{"long session name", url.Values{"Action": {"AssumeRole"}, "RoleArn": {own}, "RoleSessionName": {long}}, 400, "ValidationError",
			"1 validation error detected: Value '" + long + "' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"duration not a number", url.Values{"Action": {"AssumeRole"}, "RoleArn": {own}, "RoleSessionName": {"s1"}, "DurationSeconds": {"1h"}}, 400, "ValidationError",
			"1 validation error detected: Value '1h' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"},
		{"external id pattern", url.Values{"Action": {"AssumeRole"}, "RoleArn": {own}, "RoleSessionName": {"s1"}, "ExternalId": {"a b"}}, 400, "ValidationError",
			"1 validation error detected: Value 'a b' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*"},
		{"token code", url.Values{"Action": {"AssumeRole"}, "RoleArn": {own}, "RoleSessionName": {"s1"}, "SerialNumber": {"arn:aws:iam::111122223333:mfa/a"}, "TokenCode": {"12345a"}},
			400, "ValidationError", "1 validation error detected: Value '12345a' at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*"},
		{"51 tags", tags, 400, "ValidationError",
			"1 validation error detected: Value '[...]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"tag without a value", url.Values{"Action": {"AssumeRole"}, "RoleArn": {own}, "RoleSessionName": {"s1"}, "Tags.member.1.Key": {"k"}}, 400, "ValidationError",
			"1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null"},
		{"session policy", url.Values{"Action": {"AssumeRole"}, "RoleArn": {own}, "RoleSessionName": {"s1"}, "Policy": {`{"Version":"2012-10-17"}`}}, 400, "ValidationError",
			"guardpost does not evaluate IAM policies, so it cannot narrow a session with a session policy: call AssumeRole without Policy and PolicyArns."},
		{"managed session policy", url.Values{"Action": {"AssumeRole"}, "RoleArn": {own}, "RoleSessionName": {"s1"},
			"PolicyArns.member.1.arn": {"arn:aws:iam::aws:policy/ReadOnlyAccess"}}, 400, "ValidationError",
			"guardpost does not evaluate IAM policies, so it cannot narrow a session with a session policy: call AssumeRole without Policy and PolicyArns."},
		{"user ARN", url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::111122223333:user/bob"}, "RoleSessionName": {"s1"}}, 400, "ValidationError", "Request ARN is invalid"},
		{"bad account", url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::11112222333:role/r"}, "RoleSessionName": {"s1"}}, 400, "ValidationError", "Request ARN is invalid"},
		{"unknown partition", url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws-mars:iam::111122223333:role/r"}, "RoleSessionName": {"s1"}}, 400, "ValidationError", "Request ARN is invalid"},
		{"empty role name", url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::111122223333:role/path/"}, "RoleSessionName": {"s1"}}, 400, "ValidationError", "Request ARN is invalid"},
		{"other partition", url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws-cn:iam::111122223333:role/r"}, "RoleSessionName": {"s1"}}, 403, "AccessDenied",
			"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws-cn:iam::111122223333:role/r"},
		{"other account", url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::444455556666:role/r"}, "RoleSessionName": {"s1"}}, 403, "AccessDenied",
			"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/r"},
		{"GetSessionToken MFA serial", url.Values{"Action": {"GetSessionToken"}, "SerialNumber": {"short"}}, 400, "ValidationError",
			"1 validation error detected: Value 'short' at 'serialNumber' failed to satisfy constraint: Member must have length greater than or equal to 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := stsError(t, call(t, h, tc.params))
			if status != tc.status || code != tc.code || msg != tc.msg {
				t.Fatalf("%d %s %q\nwant %d %s %q", status, code, msg, tc.status, tc.code, tc.msg)
			}
		})
	}
}

func TestAssumeRolePolicy(t *testing.T) {
	h := sessionHandler(t)
	var asked []string
	h.MayAssume = func(_ context.Context, caller sigv4.Identity, account string) (bool, error) {
		asked = append(asked, caller.AccountID+">"+account)
		switch account {
		case "444455556666":
			return true, nil
		case "999999999999":
			return false, errors.New("store down")
		}
		return false, nil
	}
	role := func(account string) url.Values {
		return url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::" + account + ":role/r"}, "RoleSessionName": {"s1"}}
	}
	if w := call(t, h, role("444455556666")); w.Code != 200 || !strings.Contains(w.Body.String(), "arn:aws:sts::444455556666:assumed-role/r/s1") {
		t.Fatalf("allowed account: %d %s", w.Code, w.Body)
	}
	if status, code, _ := stsError(t, call(t, h, role("777788889999"))); status != 403 || code != "AccessDenied" {
		t.Fatalf("refused account: %d %s", status, code)
	}
	if status, code, _ := stsError(t, call(t, h, role("999999999999"))); status != 500 || code != "InternalFailure" {
		t.Fatalf("policy error: %d %s", status, code)
	}
	// Own account: never asked.
	if w := call(t, h, role(testAccount)); w.Code != 200 {
		t.Fatalf("own account: %d %s", w.Code, w.Body)
	}
	if strings.Join(asked, ",") != "111122223333>444455556666,111122223333>777788889999,111122223333>999999999999" {
		t.Fatalf("asked %v", asked)
	}
}

func TestGetSessionTokenXML(t *testing.T) {
	h := sessionHandler(t)
	w := call(t, h, url.Values{"Action": {"GetSessionToken"}, "DurationSeconds": {"900"}})
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(body, `<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetSessionTokenResult><Credentials><AccessKeyId>ASIA`) ||
		!strings.Contains(body, "<Expiration>2026-03-04T05:21:07Z</Expiration></Credentials></GetSessionTokenResult><ResponseMetadata><RequestId>req-1</RequestId>") {
		t.Fatalf("%d %s", w.Code, body)
	}
}

func TestNoSessionsNoTemporaryCredentials(t *testing.T) {
	h := testHandler() // no session keys
	status, code, _ := stsError(t, call(t, h, url.Values{"Action": {"GetSessionToken"}}))
	if status != 501 || code != "NotImplemented" {
		t.Fatalf("%d %s", status, code)
	}
}
