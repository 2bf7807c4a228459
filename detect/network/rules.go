package network

import "time"

// Severities of the GuardDuty user guide's levels.
const (
	low    = 2.0
	medium = 5.0
	high   = 8.0
)

// family is how a rule is triggered: the per-record analysis (analyse.go)
// has one code path per family, the table below says which types each
// family feeds and with what wording.
type family uint8

const (
	famIntel         family = iota // a flow with an address on a managed list (Rule.Category)
	famCustom                      // a flow with an address on the detector's ACTIVE threat lists
	famTorRelay                    // inbound flows from Tor relays that are not exits
	famProbe                       // a known scanner reaches an open (accepted) port
	famPortscan                    // many remote ports of one host, outbound, in a window
	famPortSweep                   // one remote port on many hosts, outbound probes, in a window
	famBruteForce                  // many short sessions to one login port of one host, in a window
	famSpambot                     // port 25 to many hosts, without port-25 history
	famDoS                         // a flood of packets to one remote host, in a window
	famPortUnusual                 // a remote port the learned baseline has never used
	famVolumeUnusual               // bytes to one host far above the learned baseline
)

// Aggregation: what makes two occurrences of a type "the same finding".
type aggregation uint8

const (
	// byInstance: fan-out behaviour (a sweep, a spam run, probes from
	// many scanners) is one finding per instance whose count grows.
	byInstance aggregation = iota
	// byInstanceRemote: the remote party is the point (a C&C server, a
	// brute-forcing address): one finding per instance and remote IP.
	byInstanceRemote
	// byInstancePort: one finding per instance and remote port.
	byInstancePort
)

// Rule is one finding type network detection produces.
type Rule struct {
	Type string
	// Severity is the finding's severity when the instance is the target;
	// ActorSeverity when it is the actor (0: the same). GuardDuty's
	// brute-force types are Low as TARGET and High as ACTOR.
	Severity, ActorSeverity float64
	family                  family
	// Category is the managed intel category (famIntel).
	Category string
	// Outbound: the instance must have opened the connection; Inbound: a
	// remote host must have. Neither: any direction.
	Outbound, Inbound bool
	// Trigger says, for the README and reviewers, what makes an
	// occurrence (the user guide's description made concrete).
	Trigger string
	// Threshold picks the type's threshold and window from Thresholds
	// (nil: one record is an occurrence).
	Threshold func(*Thresholds) *Threshold
	Aggregate aggregation
	// Probe: the finding reports service.action.portProbeAction instead of
	// networkConnectionAction.
	Probe bool
	// ThreatList names the list a hit cites in service.evidence ("" for
	// none; "{list}" for the matching custom list).
	ThreatList         string
	Title, Description string
}

// Threshold is a count within a window of event time.
type Threshold struct {
	Count  int64
	Window time.Duration
}

// Thresholds are the per-type thresholds. The defaults (DefaultThresholds)
// are chosen so that ordinary traffic stays silent: a web server with
// thousands of clients, a few failed SSH logins, CDN traffic, a nightly
// backup (see docs/network-detection.md).
type Thresholds struct {
	// Portscan: distinct remote ports of one remote host the instance
	// opened connections to.
	Portscan Threshold
	// PortSweep: distinct remote hosts probed on one remote port (probe:
	// a record of at most ProbePackets packets, or rejected).
	PortSweep    Threshold
	ProbePackets int64
	// Brute force: distinct client ports (connections) of short sessions
	// (records of at most SessionBytes bytes) between one remote host and
	// one login port.
	SSHBruteForce, RDPBruteForce, WinRMBruteForce Threshold
	SessionBytes                                  int64
	// Spambot: distinct remote mail servers (port 25) reached.
	Spambot Threshold
	// Denial of service: packets to one remote host (tumbling windows
	// from the first record). A TCP flood also has an average packet
	// size of at most FloodPacketBytes (bulk transfers have full frames).
	DoSTcp, DoSUdp, DoSUdpOnTcpPorts, DoSUnusualProtocol, DoSDns Threshold
	FloodPacketBytes                                             int64
	// Learning is how long an interface's baseline learns (from its first
	// record) before NetworkPortUnusual and TrafficVolumeUnusual judge
	// against it.
	Learning time.Duration
	// TrafficVolumeUnusual: bytes sent to one remote host in one Volume
	// window above VolumeFactor times the largest such volume the
	// baseline has seen, and above Volume.Count.
	Volume       Threshold
	VolumeFactor float64
	// VolumeRecordBytes: smaller records do not count towards volumes.
	VolumeRecordBytes int64
}

// DefaultThresholds returns the documented defaults.
func DefaultThresholds() Thresholds {
	return Thresholds{
		Portscan:           Threshold{Count: 50, Window: 10 * time.Minute},
		PortSweep:          Threshold{Count: 100, Window: 10 * time.Minute},
		ProbePackets:       3,
		SSHBruteForce:      Threshold{Count: 25, Window: 10 * time.Minute},
		RDPBruteForce:      Threshold{Count: 25, Window: 10 * time.Minute},
		WinRMBruteForce:    Threshold{Count: 25, Window: 10 * time.Minute},
		SessionBytes:       10_000,
		Spambot:            Threshold{Count: 20, Window: time.Hour},
		DoSTcp:             Threshold{Count: 1_000_000, Window: 10 * time.Minute},
		DoSUdp:             Threshold{Count: 1_000_000, Window: 10 * time.Minute},
		DoSUdpOnTcpPorts:   Threshold{Count: 500_000, Window: 10 * time.Minute},
		DoSUnusualProtocol: Threshold{Count: 500_000, Window: 10 * time.Minute},
		DoSDns:             Threshold{Count: 500_000, Window: 10 * time.Minute},
		FloodPacketBytes:   200,
		Learning:           24 * time.Hour,
		Volume:             Threshold{Count: 1 << 30, Window: time.Hour},
		VolumeFactor:       5,
		VolumeRecordBytes:  64 << 10,
	}
}

// Ports of the login services brute-force rules watch.
const (
	portSSH    = 22
	portRDP    = 3389
	portWinRM  = 5985
	portWinRMS = 5986
	portSMTP   = 25
	portDNS    = 53
)

// emrPorts are the EMR-related ports whose probe is
// PortProbeEMRUnprotectedPort (the user guide names 8088, YARN's web UI);
// the others are the cluster's web UIs and APIs that EMR opens.
var emrPorts = map[uint16]bool{8088: true, 8890: true, 8998: true, 18080: true, 20888: true, 9870: true, 50070: true, 16010: true, 8888: true}

// tcpOnlyPorts are services that speak TCP only: UDP at them is a flood
// (DenialOfService.UdpOnTcpPorts). 443 is left out: QUIC is UDP on 443.
var tcpOnlyPorts = map[uint16]bool{21: true, 22: true, 23: true, 25: true, 80: true, 110: true, 143: true, 445: true, 1433: true, 3306: true, 3389: true, 5432: true, 8080: true}

// commonPorts never make NetworkPortUnusual: every instance may use them
// for the first time at any moment.
var commonPorts = map[uint16]bool{53: true, 80: true, 123: true, 443: true}

// Rule indexes into Rules (the per-record code refers to them by name).
const (
	rCC = iota
	rBitcoin
	rBlackhole
	rDropPoint
	rTorClient
	rTorRelay
	rCustom
	rProbe
	rProbeEMR
	rPortscan
	rPortSweep
	rSSH
	rRDP
	rWinRM
	rSpambot
	rDoSTcp
	rDoSUdp
	rDoSUdpOnTcp
	rDoSUnusual
	rDoSDns
	rPortUnusual
	rVolumeUnusual
	nRules
)

// Rules is the table: one row per finding type, in the order of the
// constants above. Triggers and severities follow the GuardDuty user
// guide's EC2 finding types page; the thresholds are guardpost's own
// (GuardDuty publishes none).
var Rules = [nRules]Rule{
	rCC: {Type: "Backdoor:EC2/C&CActivity.B", Severity: high, family: famIntel, Category: "command-and-control", Outbound: true,
		Trigger:   "the instance opens a connection to an address on the command-and-control list",
		Aggregate: byInstanceRemote, ThreatList: "GuardDutyThreatIntel",
		Title:       "EC2 instance {instance} is communicating with a command and control server.",
		Description: "EC2 instance {instance} is querying IP address {remote}, which is associated with a known command and control server."},
	rBitcoin: {Type: "CryptoCurrency:EC2/BitcoinTool.B", Severity: high, family: famIntel, Category: "cryptocurrency", Outbound: true,
		Trigger:   "the instance opens a connection to an address on the cryptocurrency list (mining pools, trading nodes)",
		Aggregate: byInstanceRemote, ThreatList: "GuardDutyThreatIntel",
		Title:       "EC2 instance {instance} is communicating with a Bitcoin-related IP address.",
		Description: "EC2 instance {instance} is querying IP address {remote}, which is associated with cryptocurrency-related activity."},
	rBlackhole: {Type: "Trojan:EC2/BlackholeTraffic", Severity: medium, family: famIntel, Category: "blackhole", Outbound: true,
		Trigger:   "the instance tries to reach an address on the black-hole list (even when the flow is rejected)",
		Aggregate: byInstanceRemote, ThreatList: "GuardDutyThreatIntel",
		Title:       "EC2 instance {instance} is attempting to communicate with a black hole IP address.",
		Description: "EC2 instance {instance} is attempting to communicate with IP address {remote} of a remote host that is a known black hole."},
	rDropPoint: {Type: "Trojan:EC2/DropPoint", Severity: medium, family: famIntel, Category: "drop-point", Outbound: true,
		Trigger:   "the instance opens a connection to an address on the drop-point list",
		Aggregate: byInstanceRemote, ThreatList: "GuardDutyThreatIntel",
		Title:       "EC2 instance {instance} is communicating with a drop point.",
		Description: "EC2 instance {instance} is attempting to communicate with IP address {remote}, which is known to hold credentials and other stolen data captured by malware."},
	rTorClient: {Type: "UnauthorizedAccess:EC2/TorClient", Severity: high, family: famIntel, Category: "tor-relay", Outbound: true,
		Trigger:   "the instance opens a connection to a Tor relay (guard or directory authority)",
		Aggregate: byInstanceRemote, ThreatList: "GuardDutyThreatIntel",
		Title:       "EC2 instance {instance} is communicating with a Tor entry node.",
		Description: "EC2 instance {instance} is making connections to Tor node {remote}, which indicates that it may be a Tor client."},
	rTorRelay: {Type: "UnauthorizedAccess:EC2/TorRelay", Severity: high, family: famTorRelay, Inbound: true,
		Trigger:   "a Tor relay that is not an exit node opens a connection to the instance (only relays connect to relays; Tor users reach a website through exits)",
		Aggregate: byInstanceRemote, ThreatList: "GuardDutyThreatIntel",
		Title:       "EC2 instance {instance} is communicating with Tor relays as a Tor relay.",
		Description: "EC2 instance {instance} is accepting connections from Tor relay {remote} in a manner that suggests it is acting as a Tor relay."},
	rCustom: {Type: "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", Severity: medium, family: famCustom,
		Trigger:   "a flow in either direction with an address on one of the detector's ACTIVE threat lists",
		Aggregate: byInstanceRemote, ThreatList: "{list}",
		Title:       "EC2 instance {instance} is communicating with IP address {remote} on a custom threat list.",
		Description: "EC2 instance {instance} is communicating with IP address {remote}, which is on the custom threat list {list}."},
	rProbe: {Type: "Recon:EC2/PortProbeUnprotectedPort", Severity: low, family: famProbe, Inbound: true, Probe: true,
		Trigger:   "an address on the scanner or malicious-ip list reaches a port of the instance and the flow is accepted (the port is open to the internet); High for Elasticsearch's 9200 and 9300",
		Aggregate: byInstance, ThreatList: "GuardDutyThreatIntel",
		Title:       "Unprotected port on EC2 instance {instance} is being probed.",
		Description: "EC2 instance {instance} has an unprotected port {lport} which is being probed by a known malicious host."},
	rProbeEMR: {Type: "Recon:EC2/PortProbeEMRUnprotectedPort", Severity: high, family: famProbe, Inbound: true, Probe: true,
		Trigger:   "as PortProbeUnprotectedPort, on an EMR-related port (8088 YARN, 8890, 8998, 18080, 20888, 9870, 50070, 16010, 8888)",
		Aggregate: byInstance, ThreatList: "GuardDutyThreatIntel",
		Title:       "Unprotected EMR-related port on EC2 instance {instance} is being probed.",
		Description: "EC2 instance {instance} has an unprotected EMR-related port {lport} which is being probed by a known malicious host."},
	rPortscan: {Type: "Recon:EC2/Portscan", Severity: medium, family: famPortscan, Outbound: true,
		Trigger:   "the instance opens TCP connections to many distinct ports of one remote host within the window",
		Threshold: func(t *Thresholds) *Threshold { return &t.Portscan }, Aggregate: byInstanceRemote,
		Title:       "EC2 instance {instance} is performing outbound port scans against remote host {remote}.",
		Description: "EC2 instance {instance} is performing outbound port scans against remote host {remote}."},
	rPortSweep: {Type: "Impact:EC2/PortSweep", Severity: high, family: famPortSweep, Outbound: true,
		Trigger:   "the instance probes one TCP port (records of at most ProbePackets packets, or rejected) on many distinct remote hosts within the window",
		Threshold: func(t *Thresholds) *Threshold { return &t.PortSweep }, Aggregate: byInstance,
		Title:       "EC2 instance {instance} is performing a port sweep on port {rport}.",
		Description: "EC2 instance {instance} is probing port {rport} on a large number of IP addresses."},
	rSSH: {Type: "UnauthorizedAccess:EC2/SSHBruteForce", Severity: low, ActorSeverity: high, family: famBruteForce,
		Trigger:   "many short sessions (distinct client ports) between one remote host and port 22 within the window; the instance is TARGET when the remote host opened them, ACTOR when it did",
		Threshold: func(t *Thresholds) *Threshold { return &t.SSHBruteForce }, Aggregate: byInstanceRemote,
		Title:       "{remote} is performing SSH brute force attacks against {instance}.",
		Description: "{remote} is performing SSH brute force attacks against {instance}. Brute force attacks are used to gain unauthorized access to your instance by guessing the SSH password."},
	rRDP: {Type: "UnauthorizedAccess:EC2/RDPBruteForce", Severity: low, ActorSeverity: high, family: famBruteForce,
		Trigger:   "as SSHBruteForce, on port 3389",
		Threshold: func(t *Thresholds) *Threshold { return &t.RDPBruteForce }, Aggregate: byInstanceRemote,
		Title:       "{remote} is performing RDP brute force attacks against {instance}.",
		Description: "{remote} is performing RDP brute force attacks against {instance}. Brute force attacks are used to gain unauthorized access to your instance by guessing the RDP password."},
	rWinRM: {Type: "Impact:EC2/WinRMBruteForce", Severity: low, ActorSeverity: high, family: famBruteForce,
		Trigger:   "as SSHBruteForce, on ports 5985 and 5986",
		Threshold: func(t *Thresholds) *Threshold { return &t.WinRMBruteForce }, Aggregate: byInstanceRemote,
		Title:       "{remote} is performing WinRM brute force attacks against {instance}.",
		Description: "{remote} is performing Windows Remote Management brute force attacks against {instance}."},
	rSpambot: {Type: "Backdoor:EC2/Spambot", Severity: medium, family: famSpambot, Outbound: true,
		Trigger:   "the instance connects to port 25 of many distinct remote hosts within the window, and had never used port 25 before the window",
		Threshold: func(t *Thresholds) *Threshold { return &t.Spambot }, Aggregate: byInstance,
		Title:       "EC2 instance {instance} is exhibiting unusual behavior by communicating on port 25.",
		Description: "EC2 instance {instance} is communicating with remote hosts on port 25 although it has no prior history of communications on port 25."},
	rDoSTcp: {Type: "Backdoor:EC2/DenialOfService.Tcp", Severity: high, family: famDoS, Outbound: true,
		Trigger:   "TCP packets to one public remote host reach the count within the window, with an average packet of at most FloodPacketBytes",
		Threshold: func(t *Thresholds) *Threshold { return &t.DoSTcp }, Aggregate: byInstanceRemote,
		Title:       "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using the TCP protocol.",
		Description: "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack against {remote} using the TCP protocol."},
	rDoSUdp: {Type: "Backdoor:EC2/DenialOfService.Udp", Severity: high, family: famDoS, Outbound: true,
		Trigger:   "UDP packets to one public remote host (not to DNS, not to a TCP-only port, not to 443: QUIC) reach the count within the window",
		Threshold: func(t *Thresholds) *Threshold { return &t.DoSUdp }, Aggregate: byInstanceRemote,
		Title:       "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using the UDP protocol.",
		Description: "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack against {remote} using the UDP protocol."},
	rDoSUdpOnTcp: {Type: "Backdoor:EC2/DenialOfService.UdpOnTcpPorts", Severity: high, family: famDoS, Outbound: true,
		Trigger:   "UDP packets to a TCP-only port of one public remote host reach the count within the window",
		Threshold: func(t *Thresholds) *Threshold { return &t.DoSUdpOnTcpPorts }, Aggregate: byInstanceRemote,
		Title:       "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using the UDP protocol on a TCP port.",
		Description: "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack against {remote} using the UDP protocol on TCP port {rport}."},
	rDoSUnusual: {Type: "Backdoor:EC2/DenialOfService.UnusualProtocol", Severity: high, family: famDoS, Outbound: true,
		Trigger:   "packets of a protocol other than TCP, UDP, ICMP and ICMPv6 to one public remote host reach the count within the window",
		Threshold: func(t *Thresholds) *Threshold { return &t.DoSUnusualProtocol }, Aggregate: byInstanceRemote,
		Title:       "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using an unusual protocol.",
		Description: "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack against {remote} using protocol {protocol}."},
	rDoSDns: {Type: "Backdoor:EC2/DenialOfService.Dns", Severity: high, family: famDoS, Outbound: true,
		Trigger:   "packets to port 53 of one public remote host reach the count within the window",
		Threshold: func(t *Thresholds) *Threshold { return &t.DoSDns }, Aggregate: byInstanceRemote,
		Title:       "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack using the DNS protocol.",
		Description: "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a Denial of Service (DoS) attack against {remote} using the DNS protocol."},
	rPortUnusual: {Type: "Behavior:EC2/NetworkPortUnusual", Severity: medium, family: famPortUnusual, Outbound: true,
		Trigger:     "once the interface's baseline has learned (Learning), the instance opens a connection to a public host on a remote port it never used (53, 80, 123, 443 excepted)",
		Aggregate:   byInstancePort,
		Title:       "EC2 instance {instance} is communicating on an unusual server port {rport}.",
		Description: "EC2 instance {instance} is communicating with remote host {remote} on an unusual server port {rport}."},
	rVolumeUnusual: {Type: "Behavior:EC2/TrafficVolumeUnusual", Severity: medium, family: famVolumeUnusual,
		Trigger:     "once the baseline has learned, the bytes the instance sends to one remote host within one window exceed VolumeFactor times the largest such volume of the baseline, and Volume.Count",
		Aggregate:   byInstanceRemote,
		Title:       "EC2 instance {instance} is generating unusually large amounts of network traffic to remote host {remote}.",
		Description: "EC2 instance {instance} is generating unusually large amounts of network traffic to remote host {remote}."},
}
