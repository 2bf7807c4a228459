package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
)

func TestValidationErrors(t *testing.T) {
	s := startServer(t)
	det := createDetector(t, s.clientA())
	ids := func(n int) string { return `["` + strings.TrimSuffix(strings.Repeat(`x","`, n), `","`) + `"]` }
	long := func(n int) string { return strings.Repeat("a", n) }
	d := "/detector/" + det
	cases := []struct {
		name, method, path, body string
		status                   int
		msg                      string // exact message; "~" prefix: must contain
	}{
		{"51 finding ids", "POST", d + "/findings/get", `{"findingIds":` + ids(51) + `}`, 400,
			"1 validation error detected: Value at 'findingIds' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"findingIds missing", "POST", d + "/findings/get", `{}`, 400,
			"1 validation error detected: Value null at 'findingIds' failed to satisfy constraint: Member must not be null"},
		{"empty finding id", "POST", d + "/findings/get", `{"findingIds":[""]}`, 400, "~Member must have length greater than or equal to 1"},
		{"301-char finding id", "POST", d + "/findings/get", `{"findingIds":["` + long(301) + `"]}`, 400, "~Member must have length less than or equal to 300"},
		{"orderBy not in enum", "POST", d + "/findings/get", `{"findingIds":[],"sortCriteria":{"attributeName":"severity","orderBy":"UP"}}`, 400,
			"~Member must satisfy enum value set: [ASC, DESC]"},
		{"sort attribute not sortable", "POST", d + "/findings/get", `{"findingIds":[],"sortCriteria":{"attributeName":"title"}}`, 400, "~'title'"},
		{"body not JSON", "POST", d + "/findings/get", `{"findingIds":`, 400, "~not valid JSON"},
		{"body a list", "POST", d + "/findings/get", `[1,2]`, 400, "~must be a JSON object"},
		{"trailing data", "POST", d + "/findings/get", `{"findingIds":[]} {}`, 400, "~unexpected data"},
		{"findingIds a string", "POST", d + "/findings/get", `{"findingIds":"abc"}`, 400, "~'findingIds'"},
		{"finding id a number", "POST", d + "/findings/get", `{"findingIds":[1]}`, 400, "~findingIds"},
		{"maxResults 0", "POST", d + "/findings", `{"maxResults":0}`, 400, "~Member must have value greater than or equal to 1"},
		{"maxResults 51", "POST", d + "/findings", `{"maxResults":51}`, 400, "~Member must have value less than or equal to 50"},
		{"maxResults fractional", "POST", d + "/findings", `{"maxResults":1.5}`, 400, "~maxResults"},
		{"maxResults too big for int32", "POST", d + "/findings", `{"maxResults":99999999999}`, 400, "~maxResults"},
		{"list maxResults query 0", "GET", "/detector?maxResults=0", ``, 400, "~'maxResults'"},
		{"list maxResults query not a number", "GET", "/detector?maxResults=ten", ``, 400, "~'maxResults'"},
		{"enable missing", "POST", "/detector", `{}`, 400, "~Value null at 'enable'"},
		{"clientToken too long", "POST", "/detector", `{"enable":true,"clientToken":"` + long(65) + `"}`, 400, "~'clientToken'"},
		{"frequency not in enum", "POST", "/detector", `{"enable":true,"findingPublishingFrequency":"HOURLY"}`, 400, "~FIFTEEN_MINUTES"},
		{"tag key aws:", "POST", "/detector", `{"enable":true,"tags":{"aws:x":"y"}}`, 400, "~regular expression pattern"},
		{"tag value too long", "POST", "/detector", `{"enable":true,"tags":{"k":"` + long(257) + `"}}`, 400, "~length less than or equal to 256"},
		{"feature not in enum", "POST", "/detector", `{"enable":true,"features":[{"name":"CLOUD_TRAIL","status":"ENABLED"}]}`, 400, "~enum value set"},
		{"two violations", "POST", "/detector", `{"enable":"yes"}`, 400, "~'enable'"},
		{"update frequency", "POST", d, `{"findingPublishingFrequency":"SOMETIMES"}`, 400, "~enum value set"},
		{"51 sample types", "POST", d + "/findings/create", `{"findingTypes":` + ids(51) + `}`, 400, "~length less than or equal to 50"},
		{"101-char sample type", "POST", d + "/findings/create", `{"findingTypes":["` + long(101) + `"]}`, 400, "~length less than or equal to 100"},
		{"unknown sample type", "POST", d + "/findings/create", `{"findingTypes":["Made:Up/Type"]}`, 400, "~Made:Up/Type"},
		{"detector id too long", "GET", "/detector/" + long(301), ``, 400, "~'detectorId'"},
		{"unknown detector", "GET", "/detector/" + strings.Repeat("0", 32), ``, 400, msgNotOwned},
		{"unknown operation", "POST", "/nothing/here", `{}`, 404, "~No GuardDuty operation"},
		{"not implemented", "GET", d + "/malware-scan-settings", ``, 501, "~GetMalwareScanSettings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(tc.method, tc.path, tc.body)
			typ, msg := resp.errorBody(t)
			if resp.Status != tc.status {
				t.Fatalf("status %d (%s %q), want %d", resp.Status, typ, msg, tc.status)
			}
			wantType := map[int]string{400: "BadRequestException", 404: "UnknownOperationException", 501: "NotImplementedException"}[tc.status]
			if typ != wantType {
				t.Fatalf("type %s, want %s", typ, wantType)
			}
			if want, ok := strings.CutPrefix(tc.msg, "~"); ok {
				if !strings.Contains(msg, want) {
					t.Fatalf("message %q does not contain %q", msg, want)
				}
			} else if msg != tc.msg {
				t.Fatalf("message %q, want %q", msg, tc.msg)
			}
		})
	}
	t.Run("oversize body", func(t *testing.T) {
		resp := s.do("POST", d+"/findings/get", `{"findingIds":["`+long(5<<20)+`"]}`)
		if resp.Status != http.StatusRequestEntityTooLarge && resp.Status != 400 {
			t.Fatalf("status %d", resp.Status)
		}
		resp.errorBody(t)
	})
	t.Run("SDK sees the typed error", func(t *testing.T) {
		ids := make([]string, 51)
		for i := range ids {
			ids[i] = "x"
		}
		_, err := s.clientA().GetFindings(context.Background(), &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: ids})
		wantAPIError(t, err, "BadRequestException", "1 validation error detected: Value at 'findingIds' failed to satisfy constraint: Member must have length less than or equal to 50")
	})
	t.Run("SDK sees not implemented", func(t *testing.T) {
		_, err := s.clientA().GetMalwareScanSettings(context.Background(), &guardduty.GetMalwareScanSettingsInput{DetectorId: &det})
		code, msg := apiError(t, err)
		if code != "NotImplementedException" || !strings.Contains(msg, "GetMalwareScanSettings") {
			t.Fatalf("got %s %q", code, msg)
		}
	})
}

func TestAuthenticationErrors(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	const badSignature = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

	t.Run("unknown access key", func(t *testing.T) {
		_, err := s.client("AKIAUNKNOWNUNKNOWN00", secretA, "us-east-1").ListDetectors(ctx, &guardduty.ListDetectorsInput{})
		wantAPIError(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := s.client(keyA, secretB, "us-east-1").ListDetectors(ctx, &guardduty.ListDetectorsInput{})
		wantAPIError(t, err, "InvalidSignatureException", badSignature)
	})
	t.Run("wrong secret with a body", func(t *testing.T) {
		_, err := s.client(keyA, secretB, "us-east-1").CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
		wantAPIError(t, err, "InvalidSignatureException", badSignature)
	})
	t.Run("other service", func(t *testing.T) {
		resp := s.doAs(keyA, secretA, "us-east-1", "s3", "GET", "/detector", "")
		typ, msg := resp.errorBody(t)
		if resp.Status != 403 || typ != "InvalidSignatureException" || !strings.Contains(msg, "guardduty") {
			t.Fatalf("%d %s %q", resp.Status, typ, msg)
		}
	})
	t.Run("no signature", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.endpoint()+"/detector", nil)
		resp := s.send(req)
		typ, _ := resp.errorBody(t)
		if resp.Status != 403 || typ != "MissingAuthenticationTokenException" {
			t.Fatalf("%d %s", resp.Status, typ)
		}
	})
	t.Run("tampered body", func(t *testing.T) {
		req := s.signed(keyA, secretA, "us-east-1", "guardduty", "POST", "/detector", `{"enable":true}`, time.Now())
		req.Body = io.NopCloser(strings.NewReader(`{"enable":null}`)) // same length, other content
		resp := s.send(req)
		typ, msg := resp.errorBody(t)
		if resp.Status != 403 || typ != "InvalidSignatureException" || msg != badSignature {
			t.Fatalf("%d %s %q", resp.Status, typ, msg)
		}
	})
	t.Run("expired signature", func(t *testing.T) {
		resp := s.send(s.signed(keyA, secretA, "us-east-1", "guardduty", "GET", "/detector", "", time.Now().Add(-20*time.Minute)))
		typ, msg := resp.errorBody(t)
		if resp.Status != 403 || typ != "InvalidSignatureException" || !strings.HasPrefix(msg, "Signature expired") {
			t.Fatalf("%d %s %q", resp.Status, typ, msg)
		}
	})
	t.Run("health needs no signature", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.endpoint()+"/healthz", nil)
		if resp := s.send(req); resp.Status != 200 {
			t.Fatalf("healthz %d", resp.Status)
		}
	})
	t.Run("readiness needs no signature and turns 200 once indexes are loaded", func(t *testing.T) {
		deadline := time.Now().Add(time.Minute)
		for {
			req, _ := http.NewRequest("GET", s.endpoint()+"/readyz", nil)
			resp := s.send(req)
			if resp.Status == 200 {
				break
			}
			if resp.Status != 503 || time.Now().After(deadline) {
				t.Fatalf("readyz %d", resp.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
