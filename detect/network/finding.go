package network

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
)

// Evidence bounds: an occurrence keeps the first records that made it and
// the latest ones.
const (
	evidenceFirst  = 2
	evidenceLatest = 3
	maxProbes      = 10 // portProbeDetails of one finding
)

// occKey is the aggregation key of a finding: occurrences with the same
// key within one ingest fold into one finding, and the store folds
// findings with the same type and AggregationKey across ingests.
type occKey struct {
	det      *detState
	rule     uint8
	instance string
	remote   netip.Addr
	port     uint16
	role     uint8
}

// occurrence is what one ingest adds to a finding.
type occurrence struct {
	key         occKey
	count       int64
	first, last int64 // eventFirstSeen, eventLastSeen (unix seconds)
	// latest is the connection the finding shows: the latest occurrence's.
	latest                    flowLite
	eni, account, vpc, subnet string
	local, remote             netip.Addr
	lport, rport              uint16
	outbound, blocked         bool
	list                      string
	probes                    []probe
	evidence                  []flowLite // the first records (at most evidenceFirst)
	recent                    []flowLite // the latest records (a ring of evidenceLatest)
	recentNext                int
}

type probe struct {
	lport  uint16
	local  netip.Addr
	remote netip.Addr
}

// hit records one occurrence of rule for the connection c, whose activity
// began at begin; first is the earliest record of a window (nil: c's own
// record is the whole occurrence).
func (a *Analysis) hit(d *detState, rule int, c *conn, role uint8, count int64, begin int64, first *flowLite, list string) {
	k := occKey{det: d, rule: uint8(rule), instance: c.instance, role: role}
	switch Rules[rule].Aggregate {
	case byInstanceRemote:
		k.remote = c.remote
	case byInstancePort:
		k.port = c.rport
	}
	if rule == rCustom {
		k.remote = c.remote
	}
	o := a.occs[k]
	if o == nil {
		o = &occurrence{key: k, first: begin, last: c.end}
		a.occs[k] = o
		a.order = append(a.order, o)
	}
	o.count += count
	o.first = min(o.first, begin)
	o.last = max(o.last, c.end)
	o.latest = c.lite
	o.eni, o.account, o.vpc, o.subnet = c.ifc.eni, c.ifc.account, c.ifc.vpc, c.ifc.subnet
	o.local, o.remote, o.lport, o.rport = c.local, c.remote, c.lport, c.rport
	o.outbound, o.blocked, o.list = c.outbound, c.blocked, list
	if Rules[rule].Probe {
		p := probe{c.lport, c.local, c.remote}
		found := false
		for _, q := range o.probes {
			found = found || q == p
		}
		if !found && len(o.probes) < maxProbes {
			o.probes = append(o.probes, p)
		}
	}
	if first != nil && *first != c.lite {
		o.addEvidence(*first)
	}
	o.addEvidence(c.lite)
}

func (o *occurrence) addEvidence(f flowLite) {
	if len(o.evidence) < evidenceFirst {
		o.evidence = append(o.evidence, f)
		return
	}
	if len(o.recent) < evidenceLatest {
		o.recent = append(o.recent, f)
		return
	}
	o.recent[o.recentNext] = f
	o.recentNext = (o.recentNext + 1) % evidenceLatest
}

type obj = map[string]any

// finding renders an occurrence as GuardDuty's Finding object and the
// stored finding around it.
func (a *Analysis) finding(o *occurrence) (*guardpost.Finding, error) {
	r := &Rules[o.key.rule]
	d := o.key.det
	account, region := d.scope.AccountID, d.scope.Region
	aggKey := o.aggregationKey()
	id := detect.FindingID(d.scope, r.Type, aggKey)

	role, severity := "TARGET", r.Severity
	if o.key.role == roleActor {
		role = "ACTOR"
		if r.ActorSeverity != 0 {
			severity = r.ActorSeverity
		}
	}
	if r.family == famProbe && (o.lport == 9200 || o.lport == 9300) {
		severity = high
	}
	var action obj
	if r.Probe {
		details := make([]any, 0, len(o.probes))
		for _, p := range o.probes {
			details = append(details, obj{"localPortDetails": portDetails(p.lport), "localIpDetails": ipDetails(p.local), "remoteIpDetails": ipDetails(p.remote)})
		}
		action = obj{"actionType": "PORT_PROBE", "portProbeAction": obj{"blocked": o.blocked, "portProbeDetails": details}}
	} else {
		direction := "INBOUND"
		if o.outbound {
			direction = "OUTBOUND"
		}
		action = obj{"actionType": "NETWORK_CONNECTION", "networkConnectionAction": obj{
			"connectionDirection":   direction,
			"protocol":              protocolName(o.latest.Proto),
			"blocked":               o.blocked,
			"localNetworkInterface": o.eni,
			"localIpDetails":        ipDetails(o.local),
			"localPortDetails":      portDetails(o.lport),
			"remoteIpDetails":       ipDetails(o.remote),
			"remotePortDetails":     portDetails(o.rport),
		}}
	}
	service := obj{
		"serviceName":    "guardduty",
		"detectorId":     d.detectorID,
		"archived":       false,
		"count":          o.count,
		"eventFirstSeen": guardpost.ISOTime(time.Unix(o.first, 0)),
		"eventLastSeen":  guardpost.ISOTime(time.Unix(o.last, 0)),
		"resourceRole":   role,
		"featureName":    "FlowLogs",
		"action":         action,
	}
	if r.ThreatList != "" {
		list := r.ThreatList
		if list == "{list}" {
			list = o.list
		}
		service["evidence"] = obj{"threatIntelligenceDetails": []any{obj{"threatListName": list}}}
	}
	nic := obj{"networkInterfaceId": o.eni, "ipv6Addresses": []any{}, "privateIpAddresses": []any{}}
	if o.local.Is6() && !o.local.Is4In6() {
		nic["ipv6Addresses"] = []any{o.local.String()}
	} else {
		nic["privateIpAddress"] = o.local.Unmap().String()
		nic["privateIpAddresses"] = []any{obj{"privateIpAddress": o.local.Unmap().String()}}
	}
	if o.vpc != "" {
		nic["vpcId"] = o.vpc
	}
	if o.subnet != "" {
		nic["subnetId"] = o.subnet
	}
	f, err := detect.NewFinding(detect.Doc{Account: account, Region: region, DetectorID: d.detectorID, ID: id, Type: r.Type, Severity: severity,
		Title: o.text(r.Title), Description: o.text(r.Description), Now: a.now,
		Resource: obj{"resourceType": "Instance", "instanceDetails": obj{"instanceId": o.key.instance, "networkInterfaces": []any{nic}}},
		Service:  service}, aggKey)
	if err != nil {
		return nil, err
	}
	for _, e := range o.evidence {
		f.Evidence = append(f.Evidence, o.line(e))
	}
	for n := range o.recent {
		f.Evidence = append(f.Evidence, o.line(o.recent[(o.recentNext+n)%len(o.recent)]))
	}
	return f, nil
}

// aggregationKey is the finding's key within its type: the instance, the
// remote party or port where the rule aggregates by them, and the role.
func (o *occurrence) aggregationKey() string {
	k := o.key.instance
	if o.key.remote.IsValid() {
		k += "|" + o.key.remote.String()
	}
	if o.key.port != 0 {
		k += "|" + strconv.Itoa(int(o.key.port))
	}
	if o.key.role == roleActor {
		return k + "|ACTOR"
	}
	return k + "|TARGET"
}

// line renders a record back as a flow log line in the default (v2)
// format: version account-id interface-id srcaddr dstaddr srcport dstport
// protocol packets bytes start end action log-status.
func (o *occurrence) line(f flowLite) []byte {
	action := "ACCEPT"
	if f.Action == 2 {
		action = "REJECT"
	}
	const version = 2 // the fields are the default format's, whatever the log's
	proto := "-"
	if f.Proto >= 0 {
		proto = strconv.Itoa(int(f.Proto))
	}
	var b []byte
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, ' ')
	b = append(b, o.account...)
	b = append(b, ' ')
	b = append(b, o.eni...)
	b = append(b, ' ')
	b = f.Src.addr().AppendTo(b)
	b = append(b, ' ')
	b = f.Dst.addr().AppendTo(b)
	for _, n := range [...]int64{int64(f.SrcPort), int64(f.DstPort)} {
		b = append(b, ' ')
		b = strconv.AppendInt(b, n, 10)
	}
	b = append(b, ' ')
	b = append(b, proto...)
	for _, n := range [...]int64{f.Packets, f.Bytes, f.Start, f.End} {
		b = append(b, ' ')
		b = strconv.AppendInt(b, n, 10)
	}
	b = append(b, ' ')
	b = append(b, action...)
	b = append(b, " OK"...)
	return b
}

// text fills a wording template's placeholders.
func (o *occurrence) text(template string) string {
	return strings.NewReplacer(
		"{instance}", o.key.instance, "{remote}", o.remote.Unmap().String(), "{rport}", strconv.Itoa(int(o.rport)),
		"{lport}", strconv.Itoa(int(o.lport)), "{protocol}", protocolName(o.latest.Proto), "{list}", o.list,
	).Replace(template)
}

func ipDetails(a netip.Addr) obj {
	a = a.Unmap()
	if a.Is4() {
		return obj{"ipAddressV4": a.String()}
	}
	return obj{"ipAddressV6": a.String()}
}

// portNames are the names GuardDuty gives well-known ports.
var portNames = map[uint16]string{
	21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 53: "DNS", 80: "HTTP", 123: "NTP", 443: "HTTPS", 445: "SMB", 853: "DNS over TLS",
	1433: "MSSQL", 3306: "MYSQL", 3389: "RDP", 5432: "POSTGRESQL", 5985: "WinRM", 5986: "WinRM",
	6443: "Kubernetes API", 8088: "YARN", 8332: "Bitcoin", 9001: "Tor", 9200: "Elasticsearch", 9300: "Elasticsearch",
}

func portDetails(port uint16) obj {
	name, ok := portNames[port]
	if !ok {
		name = "Unknown"
	}
	return obj{"port": int(port), "portName": name}
}

// protocolName is the protocol as GuardDuty writes it: its IANA keyword.
func protocolName(p int16) string {
	switch p {
	case 1:
		return "ICMP"
	case 2:
		return "IGMP"
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 41:
		return "IPv6"
	case 47:
		return "GRE"
	case 50:
		return "ESP"
	case 51:
		return "AH"
	case 58:
		return "ICMPv6"
	case 132:
		return "SCTP"
	case -1:
		return "Unknown"
	}
	return strconv.Itoa(int(p))
}
