package dnsquery

// Severities of the GuardDuty user guide's levels.
const (
	low    = 2.0
	medium = 5.0
	high   = 8.0
)

// Aggregation: what makes two hits of a type "the same finding".
const (
	// byInstanceDomain: the same querying instance and registered domain
	// (the intelligence types: each bad domain is its own finding).
	byInstanceDomain = "instance+domain"
	// byInstance: the same querying instance (a DGA burst: the names
	// change by design, the behaviour is the finding).
	byInstance = "instance"
	// byInstanceParent: the same instance tunnelling to the same
	// registered domain (DNS exfiltration).
	byInstanceParent = "instance+parent"
)

// Window names: the burst detections keep a window per key in event time.
const (
	noWindow    = ""
	dgaWindow   = "dga"
	exfilWindow = "exfil"
)

// rule is one finding type detection makes from query logs.
type rule struct {
	Type     string
	Severity float64
	// Trigger reports whether the query (its facts) is a hit. For a
	// windowed rule it says the query qualifies; the window decides.
	Trigger func(f *facts) bool
	// Window names the burst window of a windowed rule (noWindow: every
	// qualifying query is a hit).
	Window    string
	Aggregate string
	// ThreatList is the list a hit cites in service.evidence ("" for
	// none; "{list}" for the matching custom list).
	ThreatList string
	// Title and Description, with {instance} (the instance id, or the
	// source address when the record has none) and {domain} (the queried
	// name).
	Title, Description string
}

// managedList is what GuardDuty's managed findings cite.
const managedList = "GuardDutyThreatIntel"

// rules is the table: one row per finding type. Severities are the user
// guide's defaults (EC2 finding types page; the samples catalogue holds
// the same, and a test checks the two agree). How each trigger is decided,
// and which intelligence category feeds it, is in docs/dns-detection.md.
var rules = []rule{
	{
		Type: "Backdoor:EC2/C&CActivity.B!DNS", Severity: high, Aggregate: byInstanceDomain, ThreatList: managedList,
		Trigger: func(f *facts) bool { return f.test == "" && f.has(catC2) },
		Title:   "Command and Control server domain name queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a domain name associated with a known Command & Control server. " +
			"Domain: {domain}.",
	},
	{
		Type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", Severity: high, Aggregate: byInstanceDomain, ThreatList: managedList,
		Trigger:     func(f *facts) bool { return f.has(catCrypto) },
		Title:       "Bitcoin-related domain name queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a domain name that is associated with Bitcoin-related activity. Domain: {domain}.",
	},
	{
		Type: "Trojan:EC2/BlackholeTraffic!DNS", Severity: medium, Aggregate: byInstanceDomain, ThreatList: managedList,
		Trigger:     func(f *facts) bool { return f.has(catBlackhole) || f.answerBlackhole },
		Title:       "Black hole domain name queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a domain name that is being redirected to a black hole IP address. Domain: {domain}.",
	},
	{
		Type: "Trojan:EC2/DropPoint!DNS", Severity: high, Aggregate: byInstanceDomain, ThreatList: managedList,
		Trigger: func(f *facts) bool { return f.has(catDropPoint) },
		Title:   "Drop point domain name queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a domain name of a remote host that is known to hold credentials and other " +
			"stolen data captured by malware. Domain: {domain}.",
	},
	{
		Type: "Trojan:EC2/PhishingDomainRequest!DNS", Severity: high, Aggregate: byInstanceDomain, ThreatList: managedList,
		Trigger:     func(f *facts) bool { return f.has(catPhishing) },
		Title:       "Phishing domain name queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a domain involved in phishing attacks. Domain: {domain}.",
	},
	{
		Type: "Trojan:EC2/DGADomainRequest.C!DNS", Severity: high, Aggregate: byInstanceDomain, ThreatList: managedList,
		Trigger: func(f *facts) bool { return f.has(catDGA) },
		Title:   "Known DGA domain name queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a domain name produced by a known domain generation algorithm. " +
			"Domain: {domain}.",
	},
	{
		// Many distinct generated-looking registered domains from one
		// instance in a short time: one name can be an odd brand, a burst
		// is a bot looking for its controller.
		Type: "Trojan:EC2/DGADomainRequest.B", Severity: high, Aggregate: byInstance, Window: dgaWindow,
		Trigger: func(f *facts) bool { return f.generated },
		Title:   "Algorithmically generated domain names queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying algorithmically generated domains. Such domains are commonly used by " +
			"malware and could be an indication of a compromised EC2 instance. Latest domain: {domain}.",
	},
	{
		// Many distinct encoded-looking names under one registered domain.
		Type: "Trojan:EC2/DNSDataExfiltration", Severity: high, Aggregate: byInstanceParent, Window: exfilWindow,
		Trigger: func(f *facts) bool { return f.encoded },
		Title:   "Data exfiltration through DNS queries from EC2 instance {instance}.",
		Description: "EC2 instance {instance} is attempting to query domain names that resemble exfiltrated data, " +
			"under {parent}. Latest query: {domain}.",
	},
	{
		Type: "UnauthorizedAccess:EC2/MetadataDNSRebind", Severity: high, Aggregate: byInstanceDomain,
		Trigger: func(f *facts) bool { return f.metadata },
		Title:   "EC2 instance {instance} is performing DNS lookups that resolve to the instance metadata service.",
		Description: "EC2 instance {instance} is querying a domain that resolves to the EC2 metadata IP address " +
			"(169.254.169.254). Domain: {domain}.",
	},
	{
		// A listed name on a zone that gives subdomains away.
		Type: "Impact:EC2/AbusedDomainRequest.Reputation", Severity: medium, Aggregate: byInstanceDomain,
		Trigger: func(f *facts) bool {
			return f.test == testAbused || f.test == "" && f.has(catMalicious) && f.freeZone
		},
		Title: "Low reputation domain associated with abused domains queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a low reputation domain name that is associated with known abused domains. " +
			"Domain: {domain}.",
	},
	{
		// Not itself a listed cryptocurrency domain, but resolving to a
		// listed cryptocurrency address.
		Type: "Impact:EC2/BitcoinDomainRequest.Reputation", Severity: high, Aggregate: byInstanceDomain,
		Trigger: func(f *facts) bool {
			return f.test == testBitcoin || f.test == "" && f.answerCrypto && !f.has(catCrypto)
		},
		Title: "Low reputation domain associated with cryptocurrency queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a low reputation domain name that is associated with cryptocurrency-related " +
			"activity. Domain: {domain}.",
	},
	{
		// A listed malicious name (not on a give-away zone), or a name
		// resolving to a listed malicious address.
		Type: "Impact:EC2/MaliciousDomainRequest.Reputation", Severity: high, Aggregate: byInstanceDomain,
		Trigger: func(f *facts) bool {
			return f.test == testMalicious || f.test == "" && (f.has(catMalicious) && !f.freeZone || f.answerMalicious)
		},
		Title: "Low reputation domain associated with malicious activity queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a low reputation domain name that is associated with known malicious " +
			"domains. Domain: {domain}.",
	},
	{
		// An unlisted, generated-looking name on a zone that gives
		// subdomains away.
		Type: "Impact:EC2/SuspiciousDomainRequest.Reputation", Severity: low, Aggregate: byInstanceDomain,
		Trigger: func(f *facts) bool {
			return f.test == testSuspicious || f.test == "" && f.freeZone && f.generated && f.cats == 0
		},
		Title: "Suspicious low reputation domain queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a low reputation domain name that is suspicious in nature due to its age, " +
			"low popularity, or similarity to other known malicious domains. Domain: {domain}.",
	},
	{
		Type: "Impact:EC2/MaliciousDomainRequest.Custom", Severity: medium, Aggregate: byInstanceDomain, ThreatList: "{list}",
		Trigger: func(f *facts) bool { return f.customList != "" },
		Title:   "Domain on a custom threat list queried by EC2 instance {instance}.",
		Description: "EC2 instance {instance} is querying a domain name on the threat list {list}. " +
			"Domain: {domain}.",
	},
}

// Names amazon-guardduty-tester (github.com/awslabs/amazon-guardduty-
// tester, lib/common/testResources/definitions.json) queries to make the
// reputation findings, which no category of intel stands for: each makes
// its type, and not the C&C finding of the test domain it is under.
const (
	testAbused     = "abused-rep.guarddutyc2activityb.com"
	testBitcoin    = "crypto-rep.guarddutyc2activityb.com"
	testMalicious  = "malicious-rep.guarddutyc2activityb.com"
	testSuspicious = "suspicious-rep.guarddutyc2activityb.com"
)

// testName returns the reputation test name name is, or is under.
func testName(name string) string {
	if len(name) < len(testAbused) || name[len(name)-len("guarddutyc2activityb.com"):] != "guarddutyc2activityb.com" {
		return ""
	}
	for _, t := range [...]string{testAbused, testBitcoin, testMalicious, testSuspicious} {
		if name == t || len(name) > len(t) && name[len(name)-len(t)-1] == '.' && name[len(name)-len(t):] == t {
			return t
		}
	}
	return ""
}
