package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi"
)

// Addresses of the CloudTrail fixtures: on the managed Tor exit and
// malicious lists, on the detector's custom threat list, on its trusted
// IP set, and on none.
const (
	torIP       = "198.51.100.66"
	maliciousIP = "203.0.113.9"
	customIP    = "192.0.2.50"
	trustedIP   = "192.0.2.77"
	plainIP     = "198.51.100.1"
	awsRange    = "52.94.0.0/16" // stands for AWS's ip-ranges
	awsIP       = "52.94.1.1"
)

// instanceRole makes a record a call with the role credentials EC2 gives
// instance i-0abcd1234ef567890 (session named after the instance).
var instanceRole = map[string]any{
	"userIdentity.type": "AssumedRole", "userIdentity.userName": nil,
	"userIdentity.principalId":    "AROAIOSFODNN7EXAMPLE:i-0abcd1234ef567890",
	"userIdentity.arn":            "arn:aws:sts::" + accountA + ":assumed-role/app-server-role/i-0abcd1234ef567890",
	"userIdentity.accessKeyId":    "ASIAIOSFODNN7EXAMPLE",
	"userIdentity.sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "userName": "app-server-role", "arn": "arn:aws:iam::" + accountA + ":role/app-server-role"}},
}

func with(base map[string]any, more map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// ctTime is the fixtures' first event time.
var ctTime = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// ctRecord is a CloudTrail management event (the record format of the
// CloudTrail user guide) by IAM user user of accountA in us-east-1;
// set overrides members ("userIdentity.type" reaches into userIdentity).
func ctRecord(source, name, user string, at time.Duration, set map[string]any) map[string]any {
	rec := map[string]any{
		"eventVersion": "1.08",
		"userIdentity": map[string]any{
			"type": "IAMUser", "principalId": "AIDA" + strings.ToUpper(user), "arn": "arn:aws:iam::" + accountA + ":user/" + user,
			"accountId": accountA, "accessKeyId": "AKIA" + strings.ToUpper(user), "userName": user,
		},
		"eventTime":          ctTime.Add(at).Format(time.RFC3339),
		"eventSource":        source,
		"eventName":          name,
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    plainIP,
		"userAgent":          "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
		"requestParameters":  nil,
		"responseElements":   nil,
		"requestID":          "c7b4b5a0-1c1e-4d1b-9f5e-3f1e2d3c4b5a",
		"eventID":            "e1f2a3b4-0000-4000-8000-" + strings.Repeat("0", 12),
		"readOnly":           strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "Get"),
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": accountA,
		"eventCategory":      "Management",
	}
	for k, v := range set {
		if sub, ok := strings.CutPrefix(k, "userIdentity."); ok {
			rec["userIdentity"].(map[string]any)[sub] = v
			continue
		}
		if v == nil {
			delete(rec, k)
			continue
		}
		rec[k] = v
	}
	return rec
}

// logFile is a CloudTrail log file holding records.
func logFile(t *testing.T, records ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type ctResult struct {
	Records, Accepted, Rejected, Skipped, FindingsCreated, FindingsUpdated int
}

// ingestCloudTrail posts body as key's account in region and returns the
// answer, failing unless it is 200.
func (s *testServer) ingestCloudTrail(t *testing.T, key, secret, region string, body []byte) ctResult {
	t.Helper()
	r := s.postSigned(httpapi.IngestCloudTrailPath, key, secret, region, body, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("ingest cloudtrail: %d %s", r.Status, r.Body)
	}
	var out ctResult
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// findingsOfType reads a detector's findings of one type.
func detectedOfType(t *testing.T, c *guardduty.Client, det, findingType string) []types.Finding {
	t.Helper()
	out, err := c.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det,
		FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"type": {Equals: []string{findingType}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.FindingIds) == 0 {
		return nil
	}
	return getAll(t, c, det, out.FindingIds)
}

// detectionServer is a server with managed intelligence (a Tor exit and
// a malicious address) and a detector of accountA with an ACTIVE threat
// intel set (customIP) and trusted IP set (trustedIP).
func detectionServer(t *testing.T) (*testServer, string) {
	t.Helper()
	intelDir := t.TempDir()
	for name, content := range map[string]string{"tor-exit.txt": torIP + "\n", "malicious-ip.txt": maliciousIP + "/32\n", "aws-ip-ranges.txt": awsRange + "\n"} {
		if err := os.WriteFile(filepath.Join(intelDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, "--intel-dir", intelDir)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	files := listServer(t, map[string]string{"/threats.txt": customIP + "\n", "/trusted.txt": trustedIP + "\n"})
	ts, err := a.CreateThreatIntelSet(ctx, &guardduty.CreateThreatIntelSetInput{DetectorId: &det, Name: aws.String("incident-42"),
		Format: types.ThreatIntelSetFormatTxt, Location: aws.String(files.URL + "/threats.txt"), Activate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := a.CreateIPSet(ctx, &guardduty.CreateIPSetInput{DetectorId: &det, Name: aws.String("office"),
		Format: types.IpSetFormatTxt, Location: aws.String(files.URL + "/trusted.txt"), Activate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, func() (string, error) {
		g, err := a.GetThreatIntelSet(ctx, &guardduty.GetThreatIntelSetInput{DetectorId: &det, ThreatIntelSetId: ts.ThreatIntelSetId})
		if err != nil {
			return "", err
		}
		return string(g.Status), nil
	}, "ACTIVATING")
	waitStatus(t, func() (string, error) {
		g, err := a.GetIPSet(ctx, &guardduty.GetIPSetInput{DetectorId: &det, IpSetId: ip.IpSetId})
		if err != nil {
			return "", err
		}
		return string(g.Status), nil
	}, "ACTIVATING")
	// ACTIVE means in use (Service.finishListWork applies before it stores).
	scope := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	if _, listed := s.service.ThreatListIP(scope, det, netip.MustParseAddr(customIP)); !listed || !s.service.TrustedIP(scope, det, netip.MustParseAddr(trustedIP)) {
		t.Fatal("the lists are ACTIVE but detection does not match their entries")
	}
	return s, det
}

// TestCloudTrailDetections ingests, for each finding type, records built
// from the user guide's trigger and checks the finding through the SDK.
func TestCloudTrailDetections(t *testing.T) {
	s, det := detectionServer(t)
	a := s.clientA()
	kali := "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 distrib/kali.2024.1"
	cases := []struct {
		findingType string
		severity    float64
		records     []map[string]any
		api, source string
		userType    string
		ip          string
		errorCode   string
		threatList  string
		count       int32
		bucket      string // the S3Bucket resource's bucket; "" for AccessKey
	}{
		{"Policy:IAMUser/RootCredentialUsage", 2, []map[string]any{
			ctRecord("s3.amazonaws.com", "ListBuckets", "root", 0, map[string]any{"userIdentity.type": "Root", "userIdentity.userName": nil, "userIdentity.arn": "arn:aws:iam::" + accountA + ":root"}),
			ctRecord("s3.amazonaws.com", "CreateBucket", "root", time.Hour, map[string]any{"userIdentity.type": "Root", "userIdentity.arn": "arn:aws:iam::" + accountA + ":root"}),
		}, "CreateBucket", "s3.amazonaws.com", "Root", plainIP, "", "", 2, ""},
		{"Stealth:IAMUser/CloudTrailLoggingDisabled", 2, []map[string]any{
			ctRecord("cloudtrail.amazonaws.com", "StopLogging", "mallory", 0, map[string]any{"requestParameters": map[string]any{"name": "arn:aws:cloudtrail:us-east-1:" + accountA + ":trail/main"}}),
		}, "StopLogging", "cloudtrail.amazonaws.com", "IAMUser", plainIP, "", "", 1, ""},
		{"Stealth:IAMUser/PasswordPolicyChange", 2, []map[string]any{
			ctRecord("iam.amazonaws.com", "DeleteAccountPasswordPolicy", "mallory", 0, nil),
		}, "DeleteAccountPasswordPolicy", "iam.amazonaws.com", "IAMUser", plainIP, "", "", 1, ""},
		{"PenTest:IAMUser/KaliLinux", 5, []map[string]any{
			ctRecord("iam.amazonaws.com", "ListUsers", "pentester", 0, map[string]any{"userAgent": kali, "errorCode": "AccessDenied"}),
		}, "ListUsers", "iam.amazonaws.com", "IAMUser", plainIP, "AccessDenied", "", 1, ""},
		{"PenTest:IAMUser/ParrotLinux", 5, []map[string]any{
			ctRecord("ec2.amazonaws.com", "DescribeInstances", "parrotuser", 0, map[string]any{"userAgent": "aws-cli/2.17.40 os/linux#6.5.0-13parrot1-amd64 md/distrib#parrot.6"}),
		}, "DescribeInstances", "ec2.amazonaws.com", "IAMUser", plainIP, "", "", 1, ""},
		{"PenTest:IAMUser/PentooLinux", 5, []map[string]any{
			ctRecord("iam.amazonaws.com", "ListRoles", "pentoouser", 0, map[string]any{"userAgent": "aws-cli/2.17.40 os/linux#6.6.52-pentoo md/distrib#pentoo"}),
		}, "ListRoles", "iam.amazonaws.com", "IAMUser", plainIP, "", "", 1, ""},
		{"Recon:IAMUser/TorIPCaller", 5, []map[string]any{
			ctRecord("iam.amazonaws.com", "ListUsers", "torrecon", 0, map[string]any{"sourceIPAddress": torIP}),
		}, "ListUsers", "iam.amazonaws.com", "IAMUser", torIP, "", "", 1, ""},
		{"UnauthorizedAccess:IAMUser/TorIPCaller", 5, []map[string]any{
			ctRecord("iam.amazonaws.com", "CreateUser", "torwrite", 0, map[string]any{"sourceIPAddress": torIP}),
		}, "CreateUser", "iam.amazonaws.com", "IAMUser", torIP, "", "", 1, ""},
		{"Recon:IAMUser/MaliciousIPCaller", 5, []map[string]any{
			ctRecord("ec2.amazonaws.com", "DescribeSecurityGroups", "badrecon", 0, map[string]any{"sourceIPAddress": maliciousIP}),
		}, "DescribeSecurityGroups", "ec2.amazonaws.com", "IAMUser", maliciousIP, "", "GuardDutyThreatIntel", 1, ""},
		{"UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, []map[string]any{
			ctRecord("ec2.amazonaws.com", "RunInstances", "badwrite", 0, map[string]any{"sourceIPAddress": maliciousIP}),
		}, "RunInstances", "ec2.amazonaws.com", "IAMUser", maliciousIP, "", "GuardDutyThreatIntel", 1, ""},
		{"Recon:IAMUser/MaliciousIPCaller.Custom", 5, []map[string]any{
			// No readOnly member (older records): the verb decides.
			ctRecord("ec2.amazonaws.com", "DescribeInstances", "customrecon", 0, map[string]any{"sourceIPAddress": customIP, "readOnly": nil}),
		}, "DescribeInstances", "ec2.amazonaws.com", "IAMUser", customIP, "", "incident-42", 1, ""},
		{"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", 5, []map[string]any{
			ctRecord("iam.amazonaws.com", "CreateAccessKey", "customwrite", 0, map[string]any{"sourceIPAddress": customIP}),
			ctRecord("iam.amazonaws.com", "AttachUserPolicy", "customwrite", 2*time.Minute, map[string]any{"sourceIPAddress": customIP}),
			ctRecord("iam.amazonaws.com", "CreateLoginProfile", "customwrite", time.Minute, map[string]any{"sourceIPAddress": customIP}),
		}, "AttachUserPolicy", "iam.amazonaws.com", "IAMUser", customIP, "", "incident-42", 3, ""},
		{"Policy:S3/AccountBlockPublicAccessDisabled", 2, []map[string]any{
			ctRecord("s3.amazonaws.com", "PutAccountPublicAccessBlock", "s3admin", 0, map[string]any{"requestParameters": map[string]any{
				"PublicAccessBlockConfiguration": map[string]any{"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "RestrictPublicBuckets": false, "BlockPublicPolicy": false, "BlockPublicAcls": false, "IgnorePublicAcls": false}}}),
		}, "PutAccountPublicAccessBlock", "s3.amazonaws.com", "IAMUser", plainIP, "", "", 1, "-"},
		{"Policy:S3/BucketBlockPublicAccessDisabled", 2, []map[string]any{
			ctRecord("s3.amazonaws.com", "PutBucketPublicAccessBlock", "s3admin", 0, map[string]any{"requestParameters": map[string]any{
				"bucketName": "data-lake-raw", "Host": "data-lake-raw.s3.us-east-1.amazonaws.com", "publicAccessBlock": "",
				"PublicAccessBlockConfiguration": map[string]any{"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "RestrictPublicBuckets": true, "BlockPublicPolicy": false, "BlockPublicAcls": true, "IgnorePublicAcls": true}}}),
		}, "PutBucketPublicAccessBlock", "s3.amazonaws.com", "IAMUser", plainIP, "", "", 1, "data-lake-raw"},
		{"Policy:S3/BucketAnonymousAccessGranted", 8, []map[string]any{
			ctRecord("s3.amazonaws.com", "PutBucketAcl", "webdev", 0, map[string]any{"requestParameters": map[string]any{
				"bucketName": "web-assets", "Host": "web-assets.s3.amazonaws.com", "acl": "",
				"AccessControlPolicy": map[string]any{"AccessControlList": map[string]any{"Grant": []any{
					map[string]any{"Grantee": map[string]any{"xsi:type": "CanonicalUser", "ID": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, "Permission": "FULL_CONTROL"},
					map[string]any{"Grantee": map[string]any{"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"},
				}}, "Owner": map[string]any{"ID": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}}}}),
			ctRecord("s3.amazonaws.com", "PutBucketPolicy", "webdev", time.Minute, map[string]any{"requestParameters": map[string]any{
				"bucketName": "web-assets", "policy": "", "bucketPolicy": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Sid": "PublicRead", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::web-assets/*"}}}}}),
		}, "PutBucketPolicy", "s3.amazonaws.com", "IAMUser", plainIP, "", "", 2, "web-assets"},
		{"Policy:S3/BucketPublicAccessGranted", 8, []map[string]any{
			ctRecord("s3.amazonaws.com", "PutBucketAcl", "webdev", 0, map[string]any{"requestParameters": map[string]any{
				"bucketName": "shared-reports", "acl": "", "x-amz-acl": []any{"authenticated-read"}}}),
		}, "PutBucketAcl", "s3.amazonaws.com", "IAMUser", plainIP, "", "", 1, "shared-reports"},
		{"Stealth:S3/ServerAccessLoggingDisabled", 2, []map[string]any{
			ctRecord("s3.amazonaws.com", "PutBucketLogging", "mallory", 0, map[string]any{"requestParameters": map[string]any{
				"bucketName": "audit-src", "logging": "", "BucketLoggingStatus": map[string]any{"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}}),
		}, "PutBucketLogging", "s3.amazonaws.com", "IAMUser", plainIP, "", "", 1, "audit-src"},
		{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", 8, []map[string]any{
			ctRecord("s3.amazonaws.com", "ListBuckets", "", 0, instanceRole),
		}, "ListBuckets", "s3.amazonaws.com", "AssumedRole", plainIP, "", "", 1, ""},
		{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", 8, []map[string]any{
			ctRecord("s3.amazonaws.com", "ListBuckets", "", 0, with(instanceRole, map[string]any{"sourceIPAddress": "10.8.3.17",
				"vpcEndpointId": "vpce-0f1e2d3c4b5a69788", "vpcEndpointAccountId": "444455556666"})),
			ctRecord("ec2.amazonaws.com", "DescribeInstances", "", time.Second, with(instanceRole, map[string]any{"sourceIPAddress": "10.8.3.17",
				"vpcEndpointId": "vpce-0f1e2d3c4b5a69788", "vpcEndpointAccountId": "444455556666"})),
		}, "DescribeInstances", "ec2.amazonaws.com", "AssumedRole", "10.8.3.17", "", "", 2, ""},
		{"Discovery:S3/TorIPCaller", 5, []map[string]any{s3DataEvent("ListObjects", "data-lake-raw", torIP, 0)},
			"ListObjects", "s3.amazonaws.com", "IAMUser", torIP, "", "", 1, "data-lake-raw"},
		{"Discovery:S3/MaliciousIPCaller", 8, []map[string]any{s3DataEvent("GetObjectAcl", "data-lake-raw", maliciousIP, 0)},
			"GetObjectAcl", "s3.amazonaws.com", "IAMUser", maliciousIP, "", "GuardDutyThreatIntel", 1, "data-lake-raw"},
		{"Discovery:S3/MaliciousIPCaller.Custom", 8, []map[string]any{
			s3DataEvent("ListObjects", "finance", customIP, 0), s3DataEvent("GetBucketAcl", "finance", customIP, time.Second)},
			"GetBucketAcl", "s3.amazonaws.com", "IAMUser", customIP, "", "incident-42", 2, "finance"},
	}
	for _, c := range cases {
		t.Run(c.findingType, func(t *testing.T) {
			got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, c.records...))
			if got.Records != len(c.records) || got.Accepted != len(c.records) || got.FindingsCreated != 1 || got.FindingsUpdated != 0 {
				t.Fatalf("answer %+v, want %d records accepted and 1 finding created", got, len(c.records))
			}
			fs := detectedOfType(t, a, det, c.findingType)
			if len(fs) != 1 {
				t.Fatalf("%d findings of the type, want 1", len(fs))
			}
			f := fs[0]
			if aws.ToFloat64(f.Severity) != c.severity || aws.ToString(f.Title) == "" || !strings.Contains(aws.ToString(f.Description), c.ip) && c.findingType[:6] != "Stealt" {
				t.Errorf("severity %v title %q description %q", aws.ToFloat64(f.Severity), aws.ToString(f.Title), aws.ToString(f.Description))
			}
			if c.findingType == "Policy:IAMUser/RootCredentialUsage" && (aws.ToString(f.Title) != "The API CreateBucket was invoked using root credentials." ||
				aws.ToString(f.Description) != "The API CreateBucket was invoked using root credentials from IP address "+plainIP+".") {
				t.Errorf("title %q description %q", aws.ToString(f.Title), aws.ToString(f.Description))
			}
			if c.findingType == "Stealth:IAMUser/CloudTrailLoggingDisabled" && aws.ToString(f.Title) != "The AWS CloudTrail trail arn:aws:cloudtrail:us-east-1:"+accountA+":trail/main was disabled." {
				t.Errorf("title %q", aws.ToString(f.Title))
			}
			wantResource := "AccessKey"
			if c.bucket != "" {
				wantResource = "S3Bucket"
			}
			wantTitle := "Credentials for instance role app-server-role used from external IP address."
			if strings.HasSuffix(c.findingType, ".InsideAWS") {
				wantTitle = "Credentials for instance role app-server-role used from a different AWS account."
				if r := call(f).RemoteAccountDetails; r == nil || aws.ToString(r.AccountId) != "444455556666" || aws.ToBool(r.Affiliated) ||
					!strings.Contains(aws.ToString(f.Description), "AWS account 444455556666, through its VPC endpoint vpce-0f1e2d3c4b5a69788") {
					t.Errorf("remote account %+v, description %q", r, aws.ToString(f.Description))
				}
			}
			if c.userType == "AssumedRole" && (f.Resource.InstanceDetails == nil || aws.ToString(f.Resource.InstanceDetails.InstanceId) != "i-0abcd1234ef567890" ||
				aws.ToString(f.Resource.AccessKeyDetails.UserName) != "app-server-role" || aws.ToString(f.Title) != wantTitle) {
				t.Errorf("instance %+v, user %q, title %q", f.Resource.InstanceDetails, aws.ToString(f.Resource.AccessKeyDetails.UserName), aws.ToString(f.Title))
			}
			if aws.ToString(f.Resource.ResourceType) != wantResource || f.Resource.AccessKeyDetails == nil || aws.ToString(f.Resource.AccessKeyDetails.UserType) != c.userType {
				t.Errorf("resource %+v", f.Resource)
			}
			if c.bucket != "" && c.bucket != "-" && (len(f.Resource.S3BucketDetails) != 1 || aws.ToString(f.Resource.S3BucketDetails[0].Name) != c.bucket ||
				aws.ToString(f.Resource.S3BucketDetails[0].Arn) != "arn:aws:s3:::"+c.bucket || call(f).AffectedResources["AWS::S3::Bucket"] != c.bucket) {
				t.Errorf("bucket %+v, want %s", f.Resource.S3BucketDetails, c.bucket)
			}
			svc := f.Service
			wantFeature := "CloudTrail"
			if strings.HasPrefix(c.findingType, "Discovery:S3/") {
				wantFeature = "S3DataEvents"
			}
			if aws.ToString(svc.ResourceRole) != "TARGET" || aws.ToInt32(svc.Count) != c.count || aws.ToString(svc.FeatureName) != wantFeature {
				t.Errorf("resourceRole %q count %d featureName %q", aws.ToString(svc.ResourceRole), aws.ToInt32(svc.Count), aws.ToString(svc.FeatureName))
			}
			first, last := ctTime, ctTime
			for _, r := range c.records {
				at, _ := time.Parse(time.RFC3339, r["eventTime"].(string))
				if at.After(last) {
					last = at
				}
			}
			if aws.ToString(svc.EventFirstSeen) != first.Format("2006-01-02T15:04:05.000Z") || aws.ToString(svc.EventLastSeen) != last.Format("2006-01-02T15:04:05.000Z") {
				t.Errorf("seen %s .. %s, want %s .. %s", aws.ToString(svc.EventFirstSeen), aws.ToString(svc.EventLastSeen), first, last)
			}
			call := svc.Action.AwsApiCallAction
			if aws.ToString(svc.Action.ActionType) != "AWS_API_CALL" || call == nil {
				t.Fatalf("action %+v", svc.Action)
			}
			if aws.ToString(call.Api) != c.api || aws.ToString(call.ServiceName) != c.source || aws.ToString(call.CallerType) != "Remote IP" ||
				call.RemoteIpDetails == nil || aws.ToString(call.RemoteIpDetails.IpAddressV4) != c.ip || aws.ToString(call.ErrorCode) != c.errorCode ||
				aws.ToString(call.UserAgent) != c.records[0]["userAgent"] {
				t.Errorf("awsApiCallAction: api %q service %q caller %q ip %+v error %q agent %q", aws.ToString(call.Api), aws.ToString(call.ServiceName),
					aws.ToString(call.CallerType), call.RemoteIpDetails, aws.ToString(call.ErrorCode), aws.ToString(call.UserAgent))
			}
			if c.threatList != "" {
				if svc.Evidence == nil || len(svc.Evidence.ThreatIntelligenceDetails) != 1 || aws.ToString(svc.Evidence.ThreatIntelligenceDetails[0].ThreatListName) != c.threatList {
					t.Errorf("evidence %+v, want threat list %s", svc.Evidence, c.threatList)
				}
			}
		})
	}
}

// s3DataEvent is an S3 object-level call (a CloudTrail data event) by
// IAM user reader on bucket from ip.
func s3DataEvent(name, bucket, ip string, at time.Duration) map[string]any {
	return ctRecord("s3.amazonaws.com", name, "reader", at, map[string]any{
		"sourceIPAddress": ip, "eventCategory": "Data", "managementEvent": false, "readOnly": true,
		"userAgent":         "[aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0]",
		"requestParameters": map[string]any{"bucketName": bucket, "Host": bucket + ".s3.us-east-1.amazonaws.com", "list-type": "2", "prefix": ""},
		"resources":         []any{map[string]any{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + bucket, "accountId": accountA}},
	})
}

func call(f types.Finding) *types.AwsApiCallAction {
	if f.Service == nil || f.Service.Action == nil || f.Service.Action.AwsApiCallAction == nil {
		return &types.AwsApiCallAction{}
	}
	return f.Service.Action.AwsApiCallAction
}

// TestCloudTrailNearMisses: records close to a trigger make nothing.
func TestCloudTrailNearMisses(t *testing.T) {
	s, det := detectionServer(t)
	kali := "aws-cli/2.15.30 distrib/kali.2024.1"
	misses := map[string]map[string]any{
		"UpdateTrail leaves logging on": ctRecord("cloudtrail.amazonaws.com", "UpdateTrail", "admin", 0, map[string]any{"requestParameters": map[string]any{"name": "main"}}),
		"StopLogging that failed":       ctRecord("cloudtrail.amazonaws.com", "StopLogging", "intern", 0, map[string]any{"errorCode": "AccessDenied"}),
		"a call by an AWS service": ctRecord("sts.amazonaws.com", "AssumeRole", "svc", 0, map[string]any{
			"userIdentity.type": "AWSService", "userIdentity.invokedBy": "cloudtrail.amazonaws.com", "sourceIPAddress": "cloudtrail.amazonaws.com", "userAgent": "cloudtrail.amazonaws.com"}),
		"root session used by a service": ctRecord("s3.amazonaws.com", "GetBucketAcl", "root", 0, map[string]any{
			"userIdentity.type": "Root", "userIdentity.invokedBy": "config.amazonaws.com", "sourceIPAddress": "config.amazonaws.com"}),
		"Kali from the trusted IP set": ctRecord("iam.amazonaws.com", "ListUsers", "pentester", 0, map[string]any{"userAgent": kali, "sourceIPAddress": trustedIP}),
		"an AWS service event about root": ctRecord("health.amazonaws.com", "AWSHealthEvent", "root", 0, map[string]any{
			"userIdentity.type": "Root", "eventType": "AwsServiceEvent", "sourceIPAddress": "health.amazonaws.com"}),
		"root from the trusted IP set":           ctRecord("s3.amazonaws.com", "ListBuckets", "root", 0, map[string]any{"userIdentity.type": "Root", "sourceIPAddress": trustedIP}),
		"an ordinary call":                       ctRecord("ec2.amazonaws.com", "DescribeInstances", "alice", 0, nil),
		"instance credentials used inside AWS":   ctRecord("s3.amazonaws.com", "ListBuckets", "", 0, with(instanceRole, map[string]any{"sourceIPAddress": awsIP})),
		"instance credentials used from the VPC": ctRecord("s3.amazonaws.com", "ListBuckets", "", 0, with(instanceRole, map[string]any{"sourceIPAddress": "10.0.3.17"})),
		"instance credentials through the account's own VPC endpoint": ctRecord("s3.amazonaws.com", "ListBuckets", "", 0, with(instanceRole, map[string]any{
			"sourceIPAddress": "10.0.3.17", "vpcEndpointId": "vpce-0a1b2c3d4e5f60718", "vpcEndpointAccountId": accountA})),
		"Block Public Access turned on": ctRecord("s3.amazonaws.com", "PutBucketPublicAccessBlock", "s3admin", 0, map[string]any{"requestParameters": map[string]any{"bucketName": "b1",
			"PublicAccessBlockConfiguration": map[string]any{"RestrictPublicBuckets": true, "BlockPublicPolicy": true, "BlockPublicAcls": true, "IgnorePublicAcls": true}}}),
		"a public policy limited by a condition": ctRecord("s3.amazonaws.com", "PutBucketPolicy", "webdev", 0, map[string]any{"requestParameters": map[string]any{"bucketName": "b2",
			"bucketPolicy": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b2/*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceVpce": "vpce-1a2b3c4d"}}}}}}}),
		"server access logging turned on": ctRecord("s3.amazonaws.com", "PutBucketLogging", "admin", 0, map[string]any{"requestParameters": map[string]any{"bucketName": "b3",
			"BucketLoggingStatus": map[string]any{"LoggingEnabled": map[string]any{"TargetBucket": "logs", "TargetPrefix": "b3/"}}}}),
	}
	for name, rec := range misses {
		t.Run(name, func(t *testing.T) {
			got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, rec))
			if got.Accepted != 1 || got.FindingsCreated != 0 || got.FindingsUpdated != 0 {
				t.Fatalf("answer %+v, want the record accepted and nothing found", got)
			}
		})
	}
	// S3 data events are not analysed while S3 protection is off.
	if _, err := s.clientA().UpdateDetector(context.Background(), &guardduty.UpdateDetectorInput{DetectorId: &det,
		Features: []types.DetectorFeatureConfiguration{{Name: types.DetectorFeatureS3DataEvents, Status: types.FeatureStatusDisabled}}}); err != nil {
		t.Fatal(err)
	}
	if got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, s3DataEvent("ListObjects", "b4", torIP, 0))); got.Accepted != 1 || got.FindingsCreated != 0 {
		t.Fatalf("S3 data event with S3 protection off: %+v", got)
	}
	out, err := s.clientA().ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det})
	if err != nil || len(out.FindingIds) != 0 {
		t.Fatalf("findings %v, %v: want none", out, err)
	}
}

// TestCloudTrailScope: another account's records are rejected and make
// nothing anywhere; another region's are skipped, global-service events
// analysed in every region; repeats aggregate across requests; JSON lines
// and gzip are read; a malformed file is a 400 naming the record with
// nothing applied; a disabled detector analyses nothing.
func TestCloudTrailScope(t *testing.T) {
	s, det := detectionServer(t)
	ctx := context.Background()
	a, b := s.clientA(), s.clientB()
	detB := createDetector(t, b)
	root := map[string]any{"userIdentity.type": "Root", "userIdentity.arn": "arn:aws:iam::" + accountA + ":root"}
	ofB := ctRecord("cloudtrail.amazonaws.com", "StopLogging", "mallory", 0, map[string]any{"recipientAccountId": accountB})
	inEU := ctRecord("cloudtrail.amazonaws.com", "StopLogging", "mallory", 0, map[string]any{"awsRegion": "eu-west-1"})
	got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, ofB, inEU, ctRecord("s3.amazonaws.com", "ListBuckets", "root", 0, root)))
	if got != (ctResult{Records: 3, Accepted: 1, Rejected: 1, Skipped: 1, FindingsCreated: 1}) {
		t.Fatalf("answer %+v", got)
	}
	for _, c := range []struct {
		c   *guardduty.Client
		det string
	}{{a, det}, {b, detB}} {
		if fs := detectedOfType(t, c.c, c.det, "Stealth:IAMUser/CloudTrailLoggingDisabled"); len(fs) != 0 {
			t.Fatalf("a rejected or skipped record made %d findings", len(fs))
		}
	}

	// The same root use again, as JSON lines, gzip: the finding grows.
	var lines []byte
	for i := 1; i <= 2; i++ {
		line, _ := json.Marshal(ctRecord("s3.amazonaws.com", "ListBuckets", "root", time.Duration(i)*time.Hour, root))
		lines = append(append(lines, line...), '\n')
	}
	r := s.postSigned(httpapi.IngestCloudTrailPath, keyA, secretA, "us-east-1", gzipped(t, lines), map[string]string{"Content-Encoding": "gzip"})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"findingsUpdated":1`) {
		t.Fatalf("gzip JSON lines: %d %s", r.Status, r.Body)
	}
	fs := detectedOfType(t, a, det, "Policy:IAMUser/RootCredentialUsage")
	if len(fs) != 1 || aws.ToInt32(fs[0].Service.Count) != 3 || aws.ToString(fs[0].Service.EventLastSeen) != ctTime.Add(2*time.Hour).Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("aggregated root finding: %d findings, %+v", len(fs), fs)
	}

	// A global-service event is analysed by the detector of any region.
	euA := s.client(keyA, secretA, "eu-west-1")
	detEU := createDetector(t, euA)
	got = s.ingestCloudTrail(t, keyA, secretA, "eu-west-1", logFile(t,
		ctRecord("iam.amazonaws.com", "DeleteAccountPasswordPolicy", "mallory", 0, nil),
		ctRecord("cloudtrail.amazonaws.com", "StopLogging", "mallory", 0, nil)))
	if got.Accepted != 1 || got.Skipped != 1 || got.FindingsCreated != 1 || len(detectedOfType(t, euA, detEU, "Stealth:IAMUser/PasswordPolicyChange")) != 1 {
		t.Fatalf("global event in eu-west-1: %+v", got)
	}

	// Malformed: the second record lacks eventTime; nothing is applied.
	bad := ctRecord("cloudtrail.amazonaws.com", "StopLogging", "mallory", 0, map[string]any{"eventTime": nil})
	r = s.postSigned(httpapi.IngestCloudTrailPath, keyA, secretA, "us-east-1", logFile(t, ctRecord("cloudtrail.amazonaws.com", "DeleteTrail", "eve", 0, nil), bad), nil)
	if typ, msg := r.errorBody(t); r.Status != http.StatusBadRequest || typ != "BadRequestException" || !strings.Contains(msg, "Record 2") {
		t.Fatalf("malformed: %d %s %s", r.Status, typ, msg)
	}
	r = s.postSigned(httpapi.IngestCloudTrailPath, keyA, secretA, "us-east-1", []byte(`{"Records": [{"eventTime": 5}]}`), nil)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "Record 1") {
		t.Fatalf("not JSON of a record: %d %s", r.Status, r.Body)
	}
	if fs := detectedOfType(t, a, det, "Stealth:IAMUser/CloudTrailLoggingDisabled"); len(fs) != 0 {
		t.Fatalf("a rejected file made %d findings", len(fs))
	}

	// A disabled detector analyses nothing.
	if _, err := a.UpdateDetector(ctx, &guardduty.UpdateDetectorInput{DetectorId: &det, Enable: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	got = s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, ctRecord("cloudtrail.amazonaws.com", "DeleteTrail", "eve", 0, nil)))
	if got.FindingsCreated != 0 || got.FindingsUpdated != 0 {
		t.Fatalf("disabled detector: %+v", got)
	}

	// Unsigned: the AWS answer of every operation.
	r = s.send(mustRequest(t, http.MethodPost, s.endpoint()+httpapi.IngestCloudTrailPath))
	if r.Status != http.StatusForbidden {
		t.Fatalf("unsigned: %d %s", r.Status, r.Body)
	}
}

// invictusDir is the public dataset of real CloudTrail from Stratus Red
// Team detonations (see its README); the test skips when it is absent.
const invictusDir = "../../../shared/datasets/invictus-aws/CloudTrail"

// TestCloudTrailInvictusDataset ingests the dataset's 55 log files as
// CloudTrail delivers them (gzip) and checks what the triggers must find:
// of its trail tampering only the two DeleteTrail calls that succeeded
// (every StopLogging and one DeleteTrail failed with
// TrailNotFoundException), folded into one finding; nothing fires on the
// rest (its addresses are private, so no intel type can).
func TestCloudTrailInvictusDataset(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(invictusDir, "*.json.gz"))
	if len(files) == 0 {
		t.Skip("dataset not present at " + invictusDir)
	}
	const account, key, secret = "123837392027", "AKIAINVICTUSEXAMPLE1", "invictusinvictusinvictusinvictusinvictus"
	dir := t.TempDir()
	cred := filepath.Join(dir, "credentials")
	if err := os.WriteFile(cred, []byte("[i]\naws_access_key_id = "+key+"\naws_secret_access_key = "+secret+"\naws_account_id = "+account+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServerWith(t, dir, cred)
	c := s.client(key, secret, "us-east-1")
	det := createDetector(t, c)
	var total ctResult
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := s.postSigned(httpapi.IngestCloudTrailPath, key, secret, "us-east-1", body, map[string]string{"Content-Encoding": "gzip"})
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", filepath.Base(f), r.Status, r.Body)
		}
		var got ctResult
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		total.Records += got.Records
		total.Accepted += got.Accepted
		total.FindingsCreated += got.FindingsCreated
		total.FindingsUpdated += got.FindingsUpdated
	}
	if total.Records != 2900 || total.Accepted != 2900 || total.FindingsCreated != 1 {
		t.Fatalf("totals %+v", total)
	}
	out, err := c.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det})
	if err != nil || len(out.FindingIds) != 1 {
		t.Fatalf("findings %v %v, want exactly one", out, err)
	}
	f := getAll(t, c, det, out.FindingIds)[0]
	call := f.Service.Action.AwsApiCallAction
	if aws.ToString(f.Type) != "Stealth:IAMUser/CloudTrailLoggingDisabled" || aws.ToInt32(f.Service.Count) != 2 ||
		aws.ToString(f.Resource.AccessKeyDetails.UserName) != "bert-jan" || aws.ToString(call.Api) != "DeleteTrail" ||
		aws.ToString(f.Service.EventFirstSeen) != "2023-07-10T12:08:04.000Z" || aws.ToString(f.Service.EventLastSeen) != "2023-07-10T12:08:04.000Z" {
		t.Fatalf("finding %s count %d user %s api %s seen %s..%s", aws.ToString(f.Type), aws.ToInt32(f.Service.Count),
			aws.ToString(f.Resource.AccessKeyDetails.UserName), aws.ToString(call.Api), aws.ToString(f.Service.EventFirstSeen), aws.ToString(f.Service.EventLastSeen))
	}
}

// TestCloudTrailAdministeredAccount: an administrator's file holding its
// member's records has them analysed by the member's detector (the
// finding is the member's, and the administrator sees it as it sees all
// its monitored members' findings); once disassociated, they are rejected.
func TestCloudTrailAdministeredAccount(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a, b := s.clientA(), s.clientB()
	detA, detB := createDetector(t, a), createDetector(t, b)
	associate(t, a, detA, accountA, b, detB, accountB)
	ofB := ctRecord("iam.amazonaws.com", "DeleteAccountPasswordPolicy", "mallory", 0, map[string]any{
		"recipientAccountId": accountB, "userIdentity.accountId": accountB, "userIdentity.arn": "arn:aws:iam::" + accountB + ":user/mallory"})
	got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, ofB))
	if got != (ctResult{Records: 1, Accepted: 1, FindingsCreated: 1}) {
		t.Fatalf("answer %+v", got)
	}
	fs := detectedOfType(t, b, detB, "Stealth:IAMUser/PasswordPolicyChange")
	if len(fs) != 1 || aws.ToString(fs[0].AccountId) != accountB {
		t.Fatalf("member's findings: %+v", fs)
	}
	// The member cannot send its administrator's records.
	ofA := ctRecord("iam.amazonaws.com", "DeleteAccountPasswordPolicy", "mallory", 0, nil)
	if got := s.ingestCloudTrail(t, keyB, secretB, "us-east-1", logFile(t, ofA)); got.Rejected != 1 || got.FindingsCreated != 0 {
		t.Fatalf("member sending its administrator's records: %+v", got)
	}
	if _, err := a.DisassociateMembers(ctx, &guardduty.DisassociateMembersInput{DetectorId: &detA, AccountIds: []string{accountB}}); err != nil {
		t.Fatal(err)
	}
	if got := s.ingestCloudTrail(t, keyA, secretA, "us-east-1", logFile(t, ofB)); got.Rejected != 1 || got.FindingsUpdated != 0 {
		t.Fatalf("after disassociation: %+v", got)
	}
}

// TestCloudTrailIngestCommand: guardpost ingest --source cloudtrail sends
// a directory in CloudTrail's S3 layout (.json.gz) and plain files, one
// file per request, and sums the answers; a malformed file is named.
func TestCloudTrailIngestCommand(t *testing.T) {
	s := startServer(t)
	a := s.clientA()
	det := createDetector(t, a)
	s.useOnlyCredentialsFile(t)
	dir := t.TempDir()
	write := fileWriter(t, dir)
	root := map[string]any{"userIdentity.type": "Root", "userIdentity.arn": "arn:aws:iam::" + accountA + ":root"}
	day := "AWSLogs/" + accountA + "/CloudTrail/us-east-1/2026/03/14/"
	write(day+accountA+"_CloudTrail_us-east-1_20260314T0925Z_a.json.gz", gzipped(t, logFile(t,
		ctRecord("s3.amazonaws.com", "ListBuckets", "root", 0, root), ctRecord("ec2.amazonaws.com", "DescribeInstances", "alice", 0, nil))))
	write(day+accountA+"_CloudTrail_us-east-1_20260314T0930Z_b.json.gz", gzipped(t, logFile(t,
		ctRecord("s3.amazonaws.com", "ListBuckets", "root", time.Minute, root),
		ctRecord("cloudtrail.amazonaws.com", "StopLogging", "mallory", 0, map[string]any{"awsRegion": "eu-west-1"}))))
	extra := write("extra.json", logFile(t, ctRecord("cloudtrail.amazonaws.com", "DeleteTrail", "mallory", 0, map[string]any{"recipientAccountId": accountB})))

	var stdout, stderr bytes.Buffer
	code := runIngest(context.Background(), []string{"--endpoint", s.endpoint(), "--profile", "a", "--region", "us-east-1",
		"--source", "cloudtrail", filepath.Join(dir, "AWSLogs"), extra}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
	}
	if !strings.HasPrefix(stdout.String(), "3 files, 5 records: 3 accepted, 1 rejected, 1 skipped; findings: 1 created, 1 updated in ") {
		t.Fatalf("summary %q", &stdout)
	}
	fs := detectedOfType(t, a, det, "Policy:IAMUser/RootCredentialUsage")
	if len(fs) != 1 || aws.ToInt32(fs[0].Service.Count) != 2 {
		t.Fatalf("root findings %+v", fs)
	}

	bad := write("bad.json", []byte(`{"Records": [{"eventTime": "2026-03-14T09:26:53Z"}]}`))
	stdout.Reset()
	stderr.Reset()
	code = runIngest(context.Background(), []string{"--endpoint", s.endpoint(), "--profile", "a", "--region", "us-east-1",
		"--source", "cloudtrail", bad}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), bad+": Record 1: the CloudTrail record lacks eventSource.") {
		t.Fatalf("exit %d, stderr %q", code, &stderr)
	}
}
