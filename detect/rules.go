package detect

import (
	"net/netip"
	"strings"
)

// Severities of the GuardDuty user guide's levels.
const (
	low    = 2.0
	medium = 5.0
	high   = 8.0
)

// Aggregation keys: what makes two occurrences of a type "the same
// finding" (see Rule.Aggregate and the README).
const (
	// byPrincipal: the same caller (userIdentity type and principal).
	byPrincipal = "principal"
	// byPrincipalAndIP: the same caller from the same remote address.
	byPrincipalAndIP = "principal+ip"
	// byPrincipalAndBucket: the same caller on the same bucket.
	byPrincipalAndBucket = "principal+bucket"
	// byPrincipalAndRemoteAccount: the same caller from the same other
	// AWS account.
	byPrincipalAndRemoteAccount = "principal+remote-account"
)

// Resource types a finding names.
const (
	accessKey = ""         // AccessKey: the caller's credentials
	s3Bucket  = "S3Bucket" // the bucket the call changed, and the caller's credentials
)

// Rule is one finding type detection produces from CloudTrail.
type Rule struct {
	Type     string
	Severity float64
	// Trigger reports whether rec is an occurrence, with what the wording
	// needs beyond the record (the threat list's name).
	Trigger func(l *Lookups, rec *Record) (hit bool, listName string)
	// Title and Description follow the real service's wording (the user
	// guide's heading of the type, made specific as GuardDuty's findings
	// are: "The API X was invoked using root credentials." then "... from
	// IP address Y."), with
	// placeholders {api}, {ip}, {principal} (or {user}), {trail}, {list}, {bucket}
	// and {account}.
	Title, Description string
	// Aggregate names the key occurrences fold on: byPrincipal,
	// byPrincipalAndIP or byPrincipalAndBucket.
	Aggregate string
	// Resource is the finding's resource type: accessKey or s3Bucket.
	Resource string
	// Feature is the finding's service.featureName: the data source that
	// saw the activity ("" for CloudTrail management events).
	Feature string
	// ThreatList names the list a hit cites in service.evidence ("" for
	// none; "{list}" for the matching custom list).
	ThreatList string
}

// Lookups is what rules ask of the threat intelligence in force for the
// detector under analysis.
type Lookups struct {
	// TorExit reports whether ip is a Tor exit node (managed intel).
	TorExit func(ip netip.Addr) bool
	// Malicious reports whether ip is on GuardDuty's own (managed) lists
	// of malicious addresses.
	Malicious func(ip netip.Addr) bool
	// CustomList returns the name of the detector's ACTIVE threat list
	// holding ip.
	CustomList func(ip netip.Addr) (string, bool)
	// InAWS reports whether ip is one of AWS's addresses (ip-ranges.json);
	// nil when those ranges are not loaded, and then nothing is decided
	// by it.
	InAWS func(ip netip.Addr) bool
}

// Rules is the table: one row per finding type, in no particular order.
// Triggers and severities follow the GuardDuty user guide's IAM finding
// types page; callers made by AWS services on the account's behalf and
// addresses on a trusted IP set never reach a trigger (see Analyse).
var Rules = []Rule{
	{
		// Root credentials used for an API call (console or programmatic);
		// not an event AWS itself records about the account
		// (AwsServiceEvent), which no one's credentials made.
		Type: "Policy:IAMUser/RootCredentialUsage", Severity: low, Aggregate: byPrincipal,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return rec.UserIdentity.Type == "Root" && rec.UserIdentity.InvokedBy == "" && rec.EventType != "AwsServiceEvent", ""
		},
		Title:       "The API {api} was invoked using root credentials.",
		Description: "The API {api} was invoked using root credentials from IP address {ip}.",
	},
	{
		// A trail stopped (StopLogging) or deleted (DeleteTrail); an
		// UpdateTrail leaves logging on and is no finding.
		Type: "Stealth:IAMUser/CloudTrailLoggingDisabled", Severity: low, Aggregate: byPrincipal,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return rec.EventSource == "cloudtrail.amazonaws.com" && rec.ErrorCode == "" &&
				(rec.EventName == "StopLogging" || rec.EventName == "DeleteTrail"), ""
		},
		Title:       "The AWS CloudTrail trail {trail} was disabled.",
		Description: "The AWS CloudTrail trail {trail} was disabled by {principal} calling {api} from IP address {ip}.",
	},
	{
		// The account password policy was changed or deleted.
		Type: "Stealth:IAMUser/PasswordPolicyChange", Severity: low, Aggregate: byPrincipal,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return rec.EventSource == "iam.amazonaws.com" && rec.ErrorCode == "" &&
				(rec.EventName == "UpdateAccountPasswordPolicy" || rec.EventName == "DeleteAccountPasswordPolicy"), ""
		},
		Title:       "Account password policy was weakened.",
		Description: "The account password policy was weakened by {principal} calling {api} from IP address {ip}.",
	},
	{
		// Block Public Access turned off (a setting false, or deleted) for
		// the whole account.
		Type: "Policy:S3/AccountBlockPublicAccessDisabled", Severity: low, Aggregate: byPrincipal, Resource: s3Bucket,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return s3Call(rec, "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock") && blockOff(rec), ""
		},
		Title:       "Amazon S3 Block Public Access was disabled for account {account}.",
		Description: "Amazon S3 Block Public Access was disabled for account {account} by {principal} calling {api} from IP address {ip}.",
	},
	{
		// Block Public Access turned off for one bucket.
		Type: "Policy:S3/BucketBlockPublicAccessDisabled", Severity: low, Aggregate: byPrincipalAndBucket, Resource: s3Bucket,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return s3Call(rec, "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock") && blockOff(rec), ""
		},
		Title:       "Amazon S3 Block Public Access was disabled for S3 bucket {bucket}.",
		Description: "Amazon S3 Block Public Access was disabled for S3 bucket {bucket} by {principal} calling {api} from IP address {ip}.",
	},
	{
		// A policy or ACL now lets anyone on the internet in: a grant to
		// AllUsers (or a canned public-read ACL), or a policy allowing the
		// principal "*" without a condition.
		Type: "Policy:S3/BucketAnonymousAccessGranted", Severity: high, Aggregate: byPrincipalAndBucket, Resource: s3Bucket,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return s3Call(rec, "PutBucketAcl", "PutBucketPolicy") && grants(rec, "AllUsers"), ""
		},
		Title:       "Amazon S3 bucket {bucket} was granted anonymous access.",
		Description: "Amazon S3 bucket {bucket} was granted access to anonymous users by {principal} calling {api} from IP address {ip}.",
	},
	{
		// A policy or ACL now lets every authenticated AWS user in.
		Type: "Policy:S3/BucketPublicAccessGranted", Severity: high, Aggregate: byPrincipalAndBucket, Resource: s3Bucket,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return s3Call(rec, "PutBucketAcl") && grants(rec, "AuthenticatedUsers"), ""
		},
		Title:       "Amazon S3 bucket {bucket} was granted public access.",
		Description: "Amazon S3 bucket {bucket} was granted access to all authenticated AWS users by {principal} calling {api} from IP address {ip}.",
	},
	{
		// Server access logging turned off: a BucketLoggingStatus without
		// LoggingEnabled.
		Type: "Stealth:S3/ServerAccessLoggingDisabled", Severity: low, Aggregate: byPrincipalAndBucket, Resource: s3Bucket,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			if !s3Call(rec, "PutBucketLogging") {
				return false, ""
			}
			status, ok := rec.params()["BucketLoggingStatus"].(map[string]any)
			return ok && status["LoggingEnabled"] == nil, ""
		},
		Title:       "Server access logging was disabled for S3 bucket {bucket}.",
		Description: "Server access logging was disabled for S3 bucket {bucket} by {principal} calling {api} from IP address {ip}.",
	},
	penTest("PenTest:IAMUser/KaliLinux", "kali", "Kali Linux"),
	penTest("PenTest:IAMUser/ParrotLinux", "parrot", "Parrot Security Linux"),
	penTest("PenTest:IAMUser/PentooLinux", "pentoo", "Pentoo Linux"),
	intelCaller("Recon:IAMUser/TorIPCaller", true, torExit, "",
		"The API {api} was invoked from a Tor exit node IP address.",
		"The API {api} was invoked from Tor exit node IP address {ip}."),
	intelCaller("UnauthorizedAccess:IAMUser/TorIPCaller", false, torExit, "",
		"The API {api} was invoked from a Tor exit node IP address.",
		"The API {api} was invoked from Tor exit node IP address {ip}."),
	intelCaller("Recon:IAMUser/MaliciousIPCaller", true, malicious, "GuardDutyThreatIntel",
		"The API {api} was invoked from a known malicious IP address.",
		"The API {api} was invoked from IP address {ip} on a threat list."),
	intelCaller("UnauthorizedAccess:IAMUser/MaliciousIPCaller", false, malicious, "GuardDutyThreatIntel",
		"The API {api} was invoked from a known malicious IP address.",
		"The API {api} was invoked from IP address {ip} on a threat list."),
	intelCaller("Recon:IAMUser/MaliciousIPCaller.Custom", true, customList, "{list}",
		"The API {api} was invoked from an IP address on a custom threat list.",
		"The API {api} was invoked from IP address {ip} on the custom threat list {list}."),
	intelCaller("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", false, customList, "{list}",
		"The API {api} was invoked from an IP address on a custom threat list.",
		"The API {api} was invoked from IP address {ip} on the custom threat list {list}."),
	{
		// Temporary credentials of an EC2 instance's role (a session named
		// after the instance) used from an address outside AWS.
		Type: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", Severity: high, Aggregate: byPrincipalAndIP,
		Trigger: func(l *Lookups, rec *Record) (bool, string) {
			return l.InAWS != nil && instanceID(rec) != "" && rec.ip.IsValid() && !rec.ip.IsPrivate() && !rec.ip.IsLoopback() && !l.InAWS(rec.ip), ""
		},
		Title:       "Credentials for instance role {user} used from external IP address.",
		Description: "Credentials created exclusively for an EC2 instance using instance role {user} have been used from external IP address {ip}.",
	},
	{
		// Temporary credentials of an EC2 instance's role used from another
		// AWS account: through a VPC endpoint that account owns.
		Type: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", Severity: high, Aggregate: byPrincipalAndRemoteAccount,
		Trigger: func(l *Lookups, rec *Record) (bool, string) {
			return instanceID(rec) != "" && rec.remoteAccount() != "", ""
		},
		Title:       "Credentials for instance role {user} used from a different AWS account.",
		Description: "Credentials created exclusively for an EC2 instance using instance role {user} have been used from AWS account {remoteAccount}, through its VPC endpoint {vpcEndpoint} from IP address {ip}.",
	},
	s3Discovery("Discovery:S3/TorIPCaller", medium, torExit, "",
		"The S3 API {api} was invoked from a Tor exit node IP address.",
		"The S3 API {api} was invoked on bucket {bucket} from Tor exit node IP address {ip}."),
	s3Discovery("Discovery:S3/MaliciousIPCaller", high, malicious, "GuardDutyThreatIntel",
		"The S3 API {api} was invoked from a known malicious IP address.",
		"The S3 API {api} was invoked on bucket {bucket} from IP address {ip} on a threat list."),
	s3Discovery("Discovery:S3/MaliciousIPCaller.Custom", high, customList, "{list}",
		"The S3 API {api} was invoked from an IP address on a custom threat list.",
		"The S3 API {api} was invoked on bucket {bucket} from IP address {ip} on the custom threat list {list}."),
}

// s3Discovery: an S3 data event that discovers a bucket's contents or
// settings (list, describe, get an ACL or setting, but not GetObject,
// which reads data) from an address on a list.
func s3Discovery(findingType string, severity float64, match addressMatch, list, title, description string) Rule {
	return Rule{
		Type: findingType, Severity: severity, Aggregate: byPrincipalAndIP, ThreatList: list, Resource: s3Bucket, Feature: "S3DataEvents",
		Trigger: func(l *Lookups, rec *Record) (bool, string) {
			if !rec.ip.IsValid() || !rec.dataEvent() || rec.EventSource != "s3.amazonaws.com" || !rec.readOnly() || rec.EventName == "GetObject" {
				return false, ""
			}
			return match(l, rec.ip)
		},
		Title: title, Description: description,
	}
}

// penTest: the user agent names a penetration-testing distribution.
func penTest(findingType, marker, distribution string) Rule {
	return Rule{
		Type: findingType, Severity: medium, Aggregate: byPrincipal,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return containsFold(rec.UserAgent, marker), ""
		},
		Title:       "The API {api} was invoked from a " + distribution + " computer.",
		Description: "The API {api} was invoked from a " + distribution + " computer with IP address {ip}.",
	}
}

// addressMatch looks the record's remote address up in one kind of
// intelligence, returning the matching list's name.
type addressMatch func(l *Lookups, ip netip.Addr) (bool, string)

func torExit(l *Lookups, ip netip.Addr) (bool, string) {
	return l.TorExit != nil && l.TorExit(ip), ""
}

func malicious(l *Lookups, ip netip.Addr) (bool, string) {
	return l.Malicious != nil && l.Malicious(ip), ""
}

func customList(l *Lookups, ip netip.Addr) (bool, string) {
	if l.CustomList == nil {
		return false, ""
	}
	name, ok := l.CustomList(ip)
	return ok, name
}

// intelCaller: a call from an address on a list. The user guide splits
// each family into Recon (calls that only read: list, describe, get) and
// UnauthorizedAccess (every other call).
func intelCaller(findingType string, recon bool, match addressMatch, list, title, description string) Rule {
	return Rule{
		Type: findingType, Severity: medium, Aggregate: byPrincipalAndIP, ThreatList: list,
		Trigger: func(l *Lookups, rec *Record) (bool, string) {
			if !rec.ip.IsValid() || rec.dataEvent() || rec.readOnly() != recon {
				return false, ""
			}
			return match(l, rec.ip)
		},
		Title: title, Description: description,
	}
}

// instanceID is the EC2 instance whose role credentials made the call
// (see SessionInstance).
func instanceID(rec *Record) string { return rec.UserIdentity.SessionInstance() }

// SessionInstance is the EC2 instance whose role credentials these are:
// the session name of an assumed role's ARN when it is an instance id (as
// EC2 names the sessions of instance profiles), else "".
func (u *UserIdentity) SessionInstance() string {
	if u.Type != "AssumedRole" {
		return ""
	}
	i := strings.LastIndexByte(u.ARN, '/')
	if i < 0 {
		return ""
	}
	id := u.ARN[i+1:]
	if !strings.HasPrefix(id, "i-") || len(id) < 10 {
		return ""
	}
	for _, c := range id[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ""
		}
	}
	return id
}

// s3Call reports whether rec is a successful S3 call of one of names.
func s3Call(rec *Record, names ...string) bool {
	if rec.EventSource != "s3.amazonaws.com" || rec.ErrorCode != "" {
		return false
	}
	for _, n := range names {
		if rec.EventName == n {
			return true
		}
	}
	return false
}

// blockOff reports whether a Block Public Access call deletes the
// settings or sets any of them false.
func blockOff(rec *Record) bool {
	if strings.HasPrefix(rec.EventName, "Delete") {
		return true
	}
	conf, ok := rec.params()["PublicAccessBlockConfiguration"].(map[string]any)
	if !ok {
		return false
	}
	for _, k := range [...]string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
		if v, ok := conf[k].(bool); ok && !v {
			return true
		}
	}
	return false
}

// cannedACLs are the canned ACLs that grant a group.
var cannedACLs = map[string]string{"public-read": "AllUsers", "public-read-write": "AllUsers", "authenticated-read": "AuthenticatedUsers"}

// grants reports whether a PutBucketAcl or PutBucketPolicy call grants
// access to the global group (AllUsers or AuthenticatedUsers): in the
// ACL's grants or canned ACL, or, for AllUsers, a policy statement that
// allows the principal "*" without a condition.
func grants(rec *Record, group string) bool {
	p := rec.params()
	switch rec.EventName {
	case "PutBucketAcl":
		for _, v := range asList(p["x-amz-acl"]) {
			if s, _ := v.(string); cannedACLs[s] == group {
				return true
			}
		}
		acp, _ := p["AccessControlPolicy"].(map[string]any)
		acl, _ := acp["AccessControlList"].(map[string]any)
		for _, g := range asList(acl["Grant"]) {
			grant, _ := g.(map[string]any)
			grantee, _ := grant["Grantee"].(map[string]any)
			if uri, _ := grantee["URI"].(string); uri == "http://acs.amazonaws.com/groups/global/"+group {
				return true
			}
		}
		for _, h := range [...]string{"x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control"} {
			for _, v := range asList(p[h]) {
				if s, _ := v.(string); strings.Contains(s, "groups/global/"+group) {
					return true
				}
			}
		}
	case "PutBucketPolicy":
		if group != "AllUsers" {
			return false
		}
		policy, _ := p["bucketPolicy"].(map[string]any)
		for _, st := range asList(policy["Statement"]) {
			stmt, _ := st.(map[string]any)
			if stmt["Effect"] != "Allow" || stmt["Condition"] != nil {
				continue
			}
			switch pr := stmt["Principal"].(type) {
			case string:
				if pr == "*" {
					return true
				}
			case map[string]any:
				for _, v := range asList(pr["AWS"]) {
					if v == "*" {
						return true
					}
				}
			}
		}
	}
	return false
}

// asList reads a JSON member that may be one value or a list of them (as
// CloudTrail writes XML-born elements).
func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// containsFold reports whether s contains the lower-case ASCII substr,
// ignoring case, without allocating.
func containsFold(s, substr string) bool {
	n := len(substr)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], substr) {
			return true
		}
	}
	return false
}
