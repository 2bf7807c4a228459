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
	// placeholders {api}, {ip}, {principal}, {user}, {trail} and {list}.
	Title, Description string
	// Aggregate names the key occurrences fold on: byPrincipal or
	// byPrincipalAndIP.
	Aggregate string
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
}

// Rules is the table: one row per finding type, in no particular order.
// Triggers and severities follow the GuardDuty user guide's IAM finding
// types page; callers made by AWS services on the account's behalf and
// addresses on a trusted IP set never reach a trigger (see Analyse).
var Rules = []Rule{
	{
		// Root credentials used for an API call (console or programmatic).
		Type: "Policy:IAMUser/RootCredentialUsage", Severity: low, Aggregate: byPrincipal,
		Trigger: func(_ *Lookups, rec *Record) (bool, string) {
			return rec.UserIdentity.Type == "Root" && rec.UserIdentity.InvokedBy == "", ""
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
			if !rec.ip.IsValid() || rec.readOnly() != recon {
				return false, ""
			}
			return match(l, rec.ip)
		},
		Title: title, Description: description,
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
