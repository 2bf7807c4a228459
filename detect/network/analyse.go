package network

import (
	"net/netip"
	"time"

	"github.com/guardpost/guardpost/ingest"
)

// IANA protocol numbers the rules name.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// TCP flags as flow logs report them (tcp-flags, v3): SYN alone opens a
// connection, SYN-ACK (18) answers one.
const (
	flagSYN    = 2
	flagSYNACK = 18
	// awsTCPFlags are the bits flow logs may report: FIN, SYN, RST and
	// SYN-ACK's ACK.
	awsTCPFlags = 1 | 2 | 4 | 16
)

// Roles of the instance in a finding (service.resourceRole).
const (
	roleTarget uint8 = iota
	roleActor
)

// conn is one record seen from the instance: which side is its own, and
// who opened the connection.
type conn struct {
	ifc           *iface
	r             *ingest.FlowRecord
	lite          flowLite
	instance      string
	local, remote netip.Addr
	l4, r4        ip4
	lport, rport  uint16
	outbound      bool // the instance opened the connection
	egress        bool // the record's packets were sent by the instance
	blocked       bool // the record's action is REJECT
	start, end    int64
}

// record analyses one flow record for detector d.
func (a *Analysis) record(d *detState, r *ingest.FlowRecord) (instance string) {
	if r.LogStatus != ingest.FlowOK || r.Action == ingest.FlowActionNone || !r.SrcAddr.IsValid() || !r.DstAddr.IsValid() {
		return // NODATA and SKIPDATA records carry no flow
	}
	if !r.SrcAddr.Unmap().Is4() || !r.DstAddr.Unmap().Is4() {
		// GuardDuty's EC2 findings from flow logs do not cover IPv6
		// traffic (the user guide's finding types table says so).
		return
	}
	src4, dst4 := toIP4(r.SrcAddr), toIP4(r.DstAddr)
	ifc := d.iface(r)
	c := conn{ifc: ifc, r: r, start: r.Start, end: max(r.End, r.Start), blocked: r.Action == ingest.FlowActionReject}
	c.lite = flowLite{Version: int8(r.Version), Src: src4, Dst: dst4, SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Protocol,
		Action: uint8(r.Action), Packets: r.Packets, Bytes: r.Bytes, Start: r.Start, End: r.End}
	if c.start > d.watermark {
		d.watermark = c.start
	}
	if ifc.firstSeen == 0 || c.start < ifc.firstSeen {
		ifc.firstSeen = c.start
	}
	ifc.lastSeen = max(ifc.lastSeen, c.end)
	if r.VPCID != "" {
		ifc.vpc, ifc.subnet = r.VPCID, r.SubnetID
	}
	c.instance = a.instance(ifc, r)
	instance = c.instance

	c.egress = localIsSource(ifc, r, src4, dst4)
	if c.egress {
		c.local, c.remote, c.lport, c.rport, c.l4, c.r4 = r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, src4, dst4
	} else {
		c.local, c.remote, c.lport, c.rport, c.l4, c.r4 = r.DstAddr, r.SrcAddr, r.DstPort, r.SrcPort, dst4, src4
	}
	c.outbound = senderOpened(r) == c.egress

	cl := a.classify(d, c.r4, c.remote)
	if cl.bits&cTrusted != 0 {
		return // trusted IP sets suppress every finding about the address
	}
	th := &a.e.th
	opener := c.egress == c.outbound // the record carries the opener's packets
	tcpOrUDP := r.Protocol == protoTCP || r.Protocol == protoUDP

	// Intelligence: one occurrence per record of the side that opened.
	if opener && cl.bits != cKnown {
		if c.outbound {
			for _, m := range [...]struct {
				bit  uint16
				rule int
			}{{cC2, rCC}, {cCrypto, rBitcoin}, {cBlackhole, rBlackhole}, {cDropPoint, rDropPoint}, {cTorRelay | cTorExit, rTorClient}} {
				if cl.bits&m.bit != 0 {
					a.hit(d, m.rule, &c, roleActor, 1, c.start, nil, "")
				}
			}
		} else {
			if cl.bits&cTorRelay != 0 && cl.bits&cTorExit == 0 {
				a.hit(d, rTorRelay, &c, roleTarget, 1, c.start, nil, "")
			}
			if cl.bits&(cScanner|cMalicious) != 0 && !c.blocked && tcpOrUDP {
				rule := rProbe
				if emrPorts[c.lport] {
					rule = rProbeEMR
				}
				a.hit(d, rule, &c, roleTarget, 1, c.start, nil, "")
			}
		}
		if cl.bits&cCustom != 0 {
			role := roleTarget
			if c.outbound {
				role = roleActor
			}
			a.hit(d, rCustom, &c, role, 1, c.start, nil, cl.list)
		}
	}

	if c.outbound && tcpOrUDP {
		// Baseline of the remote ports the instance uses, and the first
		// use of an unusual one.
		pp := portProto{c.rport, r.Protocol}
		if _, known := ifc.ports[pp]; !known {
			learned := c.start-ifc.firstSeen >= int64(th.Learning/time.Second)
			if ifc.ports == nil {
				ifc.ports = map[portProto]int64{}
			}
			if len(ifc.ports) < maxPorts || c.rport == portSMTP {
				ifc.ports[pp] = c.start
				if learned && public(c.r4) && !commonPorts[c.rport] {
					a.hit(d, rPortUnusual, &c, roleActor, 1, c.start, nil, "")
				}
			}
		}
		// Scans and sweeps are TCP's: UDP fan-out is mostly benign (a
		// traceroute walks 33434 and up, a recursive resolver asks many
		// servers on 53).
		if r.Protocol == protoTCP {
			a.track(d, rPortscan, wkey(rPortscan, c.r4, 0, 0, false), item{p: c.rport}, &c, roleActor)
		}
		if r.Protocol == protoTCP && (c.blocked || r.Packets <= th.ProbePackets) {
			a.track(d, rPortSweep, wkey(rPortSweep, 0, c.rport, r.Protocol, false), item{a: c.r4}, &c, roleActor)
		}
		if c.rport == portSMTP && r.Protocol == protoTCP {
			a.track(d, rSpambot, wkey(rSpambot, 0, 0, 0, false), item{a: c.r4}, &c, roleActor)
		}
	}

	// Brute force: many short sessions, each from its own client port,
	// between one remote host and one login port.
	if r.Protocol == protoTCP && r.Bytes <= th.SessionBytes {
		service, client := c.lport, c.rport
		if c.outbound {
			service, client = c.rport, c.lport
		}
		rule := -1
		switch service {
		case portSSH:
			rule = rSSH
		case portRDP:
			rule = rRDP
		case portWinRM, portWinRMS:
			rule = rWinRM
		}
		if rule >= 0 {
			role := roleTarget
			if c.outbound {
				role = roleActor
			}
			a.track(d, rule, wkey(rule, c.r4, 0, 0, c.outbound), item{p: client}, &c, role)
		}
	}

	if c.egress && c.outbound && public(c.r4) {
		a.flood(d, &c)
	}
	if c.egress {
		a.volume(d, &c)
	}
	return instance
}

// iface returns the state of the record's interface, creating it.
func (d *detState) iface(r *ingest.FlowRecord) *iface {
	if l := d.last; l != nil && l.eni == r.InterfaceID && l.account == r.AccountID {
		return l
	}
	k := ifaceKey{r.AccountID, r.InterfaceID}
	i := d.ifaces[k]
	if i == nil {
		i = &iface{eni: r.InterfaceID, account: r.AccountID}
		d.ifaces[k] = i
	}
	d.last = i
	return i
}

// instance names the instance a record belongs to: its instance-id, else
// the interface's mapping (Options.InstanceOf), else the interface.
func (a *Analysis) instance(ifc *iface, r *ingest.FlowRecord) string {
	if r.InstanceID != "" {
		if !ifc.resolved || ifc.instance != r.InstanceID {
			ifc.instance, ifc.resolved = r.InstanceID, true
		}
		return r.InstanceID
	}
	if !ifc.resolved {
		ifc.resolved = true
		ifc.instance = ""
		if a.e.opts.InstanceOf != nil {
			ifc.instance = a.e.opts.InstanceOf(ifc.account, ifc.eni)
		}
		if ifc.instance == "" {
			ifc.instance = ifc.eni
		}
	}
	return ifc.instance
}

// localIsSource reports whether the record's source is the interface's own
// address (the record is egress). flow-direction (v5) says so; without
// it, the addresses the interface has shown decide: every record of an
// interface carries one of its own addresses, so the address two records
// share is the interface's. Until one is known, a private address facing
// a public one is the interface's, and otherwise the sender is taken to
// be.
func localIsSource(i *iface, r *ingest.FlowRecord, src, dst ip4) bool {
	switch r.FlowDirection {
	case ingest.FlowEgress:
		i.learn(src)
		return true
	case ingest.FlowIngress:
		i.learn(dst)
		return false
	}
	if i.owns(src) {
		return true
	}
	if i.owns(dst) {
		return false
	}
	if i.hasPending {
		p := i.pending
		inSrc := p[0] == src || p[1] == src
		inDst := p[0] == dst || p[1] == dst
		switch {
		case inSrc && !inDst:
			i.learn(src)
			i.hasPending = false
			return true
		case inDst && !inSrc:
			i.learn(dst)
			i.hasPending = false
			return false
		}
	}
	i.pending, i.hasPending = [2]ip4{src, dst}, true
	if sp, dp := private(src), private(dst); sp != dp {
		return sp
	}
	return true
}

// senderOpened reports whether the record's sender opened the connection:
// TCP flags say so when the record has them (SYN from the opener, SYN-ACK
// from the answerer); otherwise the opener is the side with the higher
// (ephemeral) port, and for protocols without ports, the sender.
func senderOpened(r *ingest.FlowRecord) bool {
	// Flow logs report only FIN, SYN, RST and SYN-ACK (OR'd over the
	// capture window); flags with other bits (PSH, a lone ACK) did not
	// come from AWS, and then say nothing about who opened.
	if r.Protocol == protoTCP && r.TCPFlags != 0 && r.TCPFlags&^awsTCPFlags == 0 && (r.TCPFlags&16 == 0 || r.TCPFlags&flagSYN != 0) {
		if r.TCPFlags&flagSYNACK == flagSYNACK {
			return false
		}
		if r.TCPFlags&flagSYN != 0 {
			return true
		}
	}
	return r.SrcPort >= r.DstPort
}

// private reports whether a is an address of a private network (RFC
// 1918, RFC 6598 shared space, link-local, loopback).
func private(a ip4) bool {
	return a>>24 == 10 || a>>20 == 172<<4|1 || a>>16 == 192<<8|168 || a>>22 == 100<<2|1 ||
		a>>16 == 169<<8|254 || a>>24 == 127
}

// public reports whether a is a routable unicast address outside private
// networks.
func public(a ip4) bool {
	return !private(a) && a>>24 != 0 && a>>28 < 14 && a != 1<<32-1
}

// classify returns what the intelligence in force for d says of a, once
// per address per analysis.
func (a *Analysis) classify(d *detState, k ip4, addr netip.Addr) class {
	if c, ok := d.class[k]; ok {
		return c
	}
	c := class{bits: cKnown}
	svc := a.e.svc
	if svc.TrustedIP(d.scope, d.detectorID, addr) {
		c.bits |= cTrusted
	}
	if m, ok := svc.ThreatListIP(d.scope, d.detectorID, addr); ok {
		c.bits |= cCustom
		c.list = m.ListName
	}
	if mg := a.e.managed; mg != nil {
		for _, m := range [...]struct {
			cat string
			bit uint16
		}{{"tor-exit", cTorExit}, {"tor-relay", cTorRelay}, {"cryptocurrency", cCrypto}, {"command-and-control", cC2},
			{"blackhole", cBlackhole}, {"drop-point", cDropPoint}, {"malicious-ip", cMalicious}, {"scanner", cScanner}} {
			if mg.InCategory(m.cat, addr) {
				c.bits |= m.bit
			}
		}
	}
	if len(d.class) >= classCacheCap {
		clear(d.class)
	}
	d.class[k] = c
	return c
}

// track counts an item in a rule's window and records an occurrence when
// the window reaches the rule's threshold.
func (a *Analysis) track(d *detState, rule int, k uint64, it item, c *conn, role uint8) {
	i := c.ifc
	t := i.tracks[k]
	if t == nil {
		if !d.open(a.e, i) {
			return
		}
		if i.tracks == nil {
			i.tracks = map[uint64]*tracker{}
		}
		t = &tracker{}
		i.tracks[k] = t
	}
	fired, begin := t.add(it, c.start, &c.lite, Rules[rule].Threshold(&a.e.th))
	if !fired {
		return
	}
	first := t.first // reset keeps it: the evidence of the window that fired
	if rule == rSpambot {
		// A mail server has port-25 history from before this window: only
		// an instance new to port 25 is a spam bot.
		if used, ok := c.ifc.ports[portProto{portSMTP, protoTCP}]; ok && used < first.Start {
			return
		}
	}
	a.hit(d, rule, c, role, 1, begin, &first, "")
}

// open makes room for a new window of interface i: false when the
// detector's or the interface's cap is reached even after expiry. Expiry
// runs whenever the windows have doubled since the last one.
func (d *detState) open(e *Engine, i *iface) bool {
	if d.nwin > 2*d.sizeAtExpire && d.nwin > 4096 {
		d.expire(e.th)
	}
	if d.nwin >= e.opts.MaxTrackers || i.ntracks >= maxIfaceTracks {
		return false
	}
	i.ntracks++
	d.nwin++
	return true
}

// flood sums the packets the instance sends to one public host, by kind
// of flood, and records an occurrence when a window reaches the kind's
// threshold.
func (a *Analysis) flood(d *detState, c *conn) {
	r := c.r
	rule := -1
	switch {
	case c.rport == portDNS && (r.Protocol == protoTCP || r.Protocol == protoUDP):
		rule = rDoSDns
	case r.Protocol == protoTCP:
		rule = rDoSTcp
	case r.Protocol == protoUDP && tcpOnlyPorts[c.rport]:
		rule = rDoSUdpOnTcp
	case r.Protocol == protoUDP && c.rport != 443:
		rule = rDoSUdp
	case r.Protocol != protoUDP && r.Protocol != protoICMP && r.Protocol != protoICMPv6 && r.Protocol >= 0:
		rule = rDoSUnusual
	}
	if rule < 0 {
		return
	}
	th := Rules[rule].Threshold(&a.e.th)
	window := int64(th.Window / time.Second)
	k := wkey(rule, c.r4, 0, r.Protocol, false)
	i := c.ifc
	f := i.floods[k]
	if f == nil {
		if !d.open(a.e, i) {
			return
		}
		if i.floods == nil {
			i.floods = map[uint64]*flood{}
		}
		f = &flood{}
		i.floods[k] = f
	}
	if f.Packets == 0 || c.start >= f.Start+window || c.start < f.Start-lateness {
		*f = flood{Start: c.start, First: c.lite}
	}
	f.Max = max(f.Max, c.start)
	f.Packets += r.Packets
	f.Bytes += r.Bytes
	if f.Packets < th.Count {
		return
	}
	if rule == rDoSTcp && f.Bytes > f.Packets*a.e.th.FloodPacketBytes {
		return // full frames: a bulk transfer, not a flood
	}
	first := f.First
	begin := f.Start
	*f = flood{Start: c.start, Max: c.start}
	a.hit(d, rule, c, roleActor, 1, begin, &first, "")
}

// volume sums the bytes the instance sends to each remote host in one
// window and compares them with the baseline once it has learned. Only
// records of at least VolumeRecordBytes count: a gigabyte an hour to one
// host does not come in small records, and the small ones are most.
func (a *Analysis) volume(d *detState, c *conn) {
	th := &a.e.th
	if c.r.Bytes < th.VolumeRecordBytes {
		return
	}
	window := int64(th.Volume.Window / time.Second)
	i := c.ifc
	w := c.start / window
	if w > i.volWindow {
		// The window ends: its volumes that made no finding join the
		// baseline.
		for _, v := range i.vol {
			if !v.Fired && v.Bytes > i.volMax {
				i.volMax = v.Bytes
			}
		}
		clear(i.vol)
		i.volWindow = w
	}
	v, ok := i.vol[c.r4]
	if !ok && len(i.vol) >= maxVolume {
		return
	}
	if i.vol == nil {
		i.vol = map[ip4]volume{}
	}
	v.Bytes += c.r.Bytes
	fire := !v.Fired && v.Bytes > th.Volume.Count && float64(v.Bytes) > th.VolumeFactor*float64(i.volMax) &&
		c.start-i.firstSeen >= int64(th.Learning/time.Second)
	v.Fired = v.Fired || fire
	i.vol[c.r4] = v
	if fire {
		a.hit(d, rVolumeUnusual, c, roleActor, 1, c.start, nil, "")
	}
}
