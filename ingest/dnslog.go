package ingest

import (
	"net/netip"
	"time"
)

// DNSQuery is one Route 53 Resolver query log record (the JSON object
// the Route 53 developer guide documents, "Values that appear in Resolver
// query logs").
type DNSQuery struct {
	Line int // 1-based line in the body
	Size int // bytes of the line, its newline included (usage statistics)

	Version   string // version
	AccountID string // account_id
	Region    string // region
	VPCID     string // vpc_id
	Time      time.Time
	// Name is query_name lower-cased without its trailing dot
	// ("example.com"); RawName is query_name as logged.
	Name      string
	RawName   string
	Type      string // query_type: A, AAAA, TXT, …
	Class     string // query_class
	RCode     string // rcode: NOERROR, NXDOMAIN, …
	Answers   []DNSAnswer
	SrcAddr   netip.Addr
	SrcPort   uint16
	Transport string // UDP or TCP

	InstanceID       string // srcids.instance
	ResolverEndpoint string // srcids.resolver_endpoint
	// FirewallAction is firewall_rule_action (BLOCK, ALERT, ALLOW), ""
	// when no DNS Firewall rule matched.
	FirewallAction string
}

// DNSAnswer is one element of a query log record's answers.
type DNSAnswer struct {
	Data  string // Rdata
	Type  string
	Class string
}
