package dnsquery

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/ingest"
)

type obj = map[string]any

// finding renders the occurrence as GuardDuty's Finding object, with the
// query log records that made it as evidence.
func (o *occurrence) finding(scope guardpost.Scope, detectorID string, now time.Time) (*guardpost.Finding, error) {
	id := detect.FindingID(scope, o.rule.Type, o.key)
	f, err := detect.NewFinding(o.document(scope.AccountID, scope.Region, detectorID, id, now), o.key)
	if err != nil {
		return nil, err
	}
	for _, r := range o.evidence() {
		line, err := json.Marshal(queryLogRecord(&r))
		if err != nil {
			return nil, err
		}
		f.Evidence = append(f.Evidence, line)
	}
	return f, nil
}

// document is the Finding object: the shape of GuardDuty's DNS findings
// (resource.instanceDetails, service.action.dnsRequestAction, the
// instance as ACTOR, featureName DnsLogs).
func (o *occurrence) document(account, region, detectorID, id string, now time.Time) detect.Doc {
	r := &o.latest
	instance := r.InstanceID
	if instance == "" && r.SrcAddr.IsValid() {
		instance = r.SrcAddr.String()
	}
	protocol := r.Transport
	if protocol == "" {
		protocol = "UDP"
	}
	action := obj{
		"domain":           r.Name,
		"protocol":         protocol,
		"blocked":          r.FirewallAction == "BLOCK",
		"domainWithSuffix": o.domain,
	}
	if r.AccountID != "" {
		action["vpcOwnerAccountId"] = r.AccountID
	}
	details := obj{}
	if r.InstanceID != "" {
		details["instanceId"] = r.InstanceID
	}
	if r.SrcAddr.IsValid() || r.VPCID != "" {
		nic := obj{}
		if r.SrcAddr.IsValid() {
			ip := r.SrcAddr.Unmap().String()
			if r.SrcAddr.Unmap().Is4() {
				nic["privateIpAddress"] = ip
				nic["privateIpAddresses"] = []any{obj{"privateIpAddress": ip}}
			} else {
				nic["ipv6Addresses"] = []any{ip}
			}
		}
		if r.VPCID != "" {
			nic["vpcId"] = r.VPCID
		}
		details["networkInterfaces"] = []any{nic}
	}
	service := obj{
		"serviceName":    "guardduty",
		"detectorId":     detectorID,
		"archived":       false,
		"count":          o.count,
		"eventFirstSeen": guardpost.ISOTime(time.Unix(0, o.first)),
		"eventLastSeen":  guardpost.ISOTime(time.Unix(0, o.last)),
		"resourceRole":   "ACTOR",
		"featureName":    "DnsLogs",
		"action":         obj{"actionType": "DNS_REQUEST", "dnsRequestAction": action},
		"additionalInfo": obj{"type": "default", "value": "{}"},
	}
	if o.rule.ThreatList != "" {
		list := o.rule.ThreatList
		if list == "{list}" {
			list = o.list
		}
		service["evidence"] = obj{"threatIntelligenceDetails": []any{obj{"threatListName": list}}}
	}
	text := strings.NewReplacer("{instance}", instance, "{domain}", r.Name, "{parent}", o.domain, "{list}", o.list)
	return detect.Doc{Account: account, Region: region, DetectorID: detectorID, ID: id, Type: o.rule.Type, Severity: o.rule.Severity,
		Title: text.Replace(o.rule.Title), Description: text.Replace(o.rule.Description), Now: now,
		Resource: obj{"resourceType": "Instance", "instanceDetails": details}, Service: service}
}

// queryLog is a Route 53 Resolver query log record as the service writes
// it (Route 53 developer guide, "Values that appear in Resolver query
// logs"): what Finding.Evidence holds, re-encoded from the parsed record.
type queryLog struct {
	Version        string         `json:"version,omitempty"`
	AccountID      string         `json:"account_id"`
	Region         string         `json:"region"`
	VPCID          string         `json:"vpc_id,omitempty"`
	QueryTimestamp string         `json:"query_timestamp"`
	QueryName      string         `json:"query_name"`
	QueryType      string         `json:"query_type,omitempty"`
	QueryClass     string         `json:"query_class,omitempty"`
	RCode          string         `json:"rcode,omitempty"`
	Answers        []queryAnswer  `json:"answers"`
	SrcAddr        string         `json:"srcaddr,omitempty"`
	SrcPort        string         `json:"srcport,omitempty"`
	Transport      string         `json:"transport,omitempty"`
	SrcIDs         map[string]any `json:"srcids,omitempty"`
	FirewallAction string         `json:"firewall_rule_action,omitempty"`
}

type queryAnswer struct {
	Rdata string `json:"Rdata"`
	Type  string `json:"Type"`
	Class string `json:"Class"`
}

func queryLogRecord(r *ingest.DNSQuery) queryLog {
	q := queryLog{
		Version: r.Version, AccountID: r.AccountID, Region: r.Region, VPCID: r.VPCID,
		QueryTimestamp: r.Time.UTC().Format(time.RFC3339Nano), QueryName: r.RawName,
		QueryType: r.Type, QueryClass: r.Class, RCode: r.RCode, Transport: r.Transport,
		FirewallAction: r.FirewallAction, Answers: []queryAnswer{},
	}
	if q.QueryName == "" {
		q.QueryName = r.Name + "."
	}
	if r.SrcAddr.IsValid() {
		q.SrcAddr = r.SrcAddr.String()
	}
	if r.SrcPort != 0 {
		q.SrcPort = strconv.Itoa(int(r.SrcPort))
	}
	for _, a := range r.Answers {
		q.Answers = append(q.Answers, queryAnswer{Rdata: a.Data, Type: a.Type, Class: a.Class})
	}
	if r.InstanceID != "" || r.ResolverEndpoint != "" {
		q.SrcIDs = map[string]any{}
		if r.InstanceID != "" {
			q.SrcIDs["instance"] = r.InstanceID
		}
		if r.ResolverEndpoint != "" {
			q.SrcIDs["resolver_endpoint"] = r.ResolverEndpoint
		}
	}
	return q
}
