package network_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost/detect/network"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/samples"
)

// want is what the finding of a fixture must say.
type want struct {
	typ       string
	severity  float64
	role      string
	count     int64
	remote    string
	lport     int32
	rport     int32
	protocol  string
	direction string // "" for a port probe
	blocked   bool
	first     int64 // eventFirstSeen, unix seconds
	last      int64
	list      string // service.evidence threatListName ("" for none)
}

// typeCase is one finding type: records the user guide's trigger makes
// and the finding they must produce, and a near miss that stays silent.
type typeCase struct {
	name     string
	records  func() []ingest.FlowRecord
	want     want
	nearMiss func() []ingest.FlowRecord
}

func cat(parts ...[]ingest.FlowRecord) []ingest.FlowRecord {
	var out []ingest.FlowRecord
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// scan: the instance opens a connection to each port of remote, one a
// second, each a lone SYN (one packet, 44 bytes).
func scan(remote string, ports []uint16, start int64) []ingest.FlowRecord {
	var out []ingest.FlowRecord
	for i, p := range ports {
		out = append(out, flow(localIP, 41000, remote, p, 6, 1, 44, start+int64(i)))
	}
	return out
}

func portRange(from, n int) []uint16 {
	var ps []uint16
	for p := from; p < from+n; p++ {
		ps = append(ps, uint16(p))
	}
	return ps
}

// sweep: the instance probes port on n hosts of 198.51.100.0/24 and
// 192.0.2.0/24 with lone SYNs (or full sessions of packets each).
func sweep(port uint16, n int, packets int64, start int64) []ingest.FlowRecord {
	var out []ingest.FlowRecord
	for i := 0; i < n; i++ {
		host := fmt.Sprintf("198.51.100.%d", 100+i%150)
		if i >= 150 {
			host = fmt.Sprintf("192.0.2.%d", i-150)
		}
		out = append(out, flow(localIP, uint16(42000+i), host, port, 6, packets, packets*60, start+int64(i)))
	}
	return out
}

// logins: n short sessions (3 KB each) between remote and a login port;
// inbound when remote opens them.
func logins(remote string, port uint16, n int, inbound bool, start int64) []ingest.FlowRecord {
	var out []ingest.FlowRecord
	for i := 0; i < n; i++ {
		client := uint16(50000 + i)
		at := start + int64(i*10)
		if inbound {
			out = append(out, connIn(remote, client, port, 6, 25, 3000, at)...)
		} else {
			out = append(out, flow(localIP, client, remote, port, 6, 25, 3000, at), flow(remote, port, localIP, client, 6, 25, 3000, at))
		}
	}
	return out
}

func mailRun(n int, start int64) []ingest.FlowRecord {
	var out []ingest.FlowRecord
	for i := 0; i < n; i++ {
		out = append(out, connOut(fmt.Sprintf("203.0.113.%d", 100+i), 25, 6, 12, 2400, start+int64(i*30))...)
	}
	return out
}

var typeCases = []typeCase{
	{
		name:     "C&C",
		records:  func() []ingest.FlowRecord { return connOut(c2IP, 443, 6, 10, 1500, t0) },
		want:     want{typ: "Backdoor:EC2/C&CActivity.B", severity: 8, role: "ACTOR", count: 1, remote: c2IP, rport: 443, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 60, list: "GuardDutyThreatIntel"},
		nearMiss: func() []ingest.FlowRecord { return connOut("198.51.100.99", 443, 6, 10, 1500, t0) },
	},
	{
		name: "BitcoinTool",
		records: func() []ingest.FlowRecord {
			return cat(connOut(cryptoIP, 8332, 6, 10, 1500, t0), connOut(cryptoIP, 8332, 6, 10, 1500, t0+120))
		},
		want:     want{typ: "CryptoCurrency:EC2/BitcoinTool.B", severity: 8, role: "ACTOR", count: 2, remote: cryptoIP, rport: 8332, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 180, list: "GuardDutyThreatIntel"},
		nearMiss: func() []ingest.FlowRecord { return connIn(cryptoIP, 8332, 80, 6, 10, 1500, t0) }, // the listed host connects in: not the instance querying it
	},
	{
		name: "Blackhole",
		records: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, blackhole, 443, 6, 2, 120, t0, rejected)}
		},
		want: want{typ: "Trojan:EC2/BlackholeTraffic", severity: 5, role: "ACTOR", count: 1, remote: blackhole, rport: 443, protocol: "TCP", direction: "OUTBOUND", blocked: true, first: t0, last: t0 + 60, list: "GuardDutyThreatIntel"},
		nearMiss: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.98", 443, 6, 2, 120, t0, rejected)}
		},
	},
	{
		name:     "DropPoint",
		records:  func() []ingest.FlowRecord { return connOut(dropIP, 443, 6, 40, 90000, t0) },
		want:     want{typ: "Trojan:EC2/DropPoint", severity: 5, role: "ACTOR", count: 1, remote: dropIP, rport: 443, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 60, list: "GuardDutyThreatIntel"},
		nearMiss: func() []ingest.FlowRecord { return connOut("198.51.100.97", 443, 6, 40, 90000, t0) },
	},
	{
		name:     "TorClient",
		records:  func() []ingest.FlowRecord { return connOut(torRelayIP, 9001, 6, 30, 9000, t0) },
		want:     want{typ: "UnauthorizedAccess:EC2/TorClient", severity: 8, role: "ACTOR", count: 1, remote: torRelayIP, rport: 9001, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 60, list: "GuardDutyThreatIntel"},
		nearMiss: func() []ingest.FlowRecord { return connOut("198.51.100.96", 9001, 6, 30, 9000, t0) },
	},
	{
		name:    "TorRelay",
		records: func() []ingest.FlowRecord { return connIn(torRelayIP, 51000, 9001, 6, 300, 400000, t0) },
		want:    want{typ: "UnauthorizedAccess:EC2/TorRelay", severity: 8, role: "TARGET", count: 1, remote: torRelayIP, lport: 9001, protocol: "TCP", direction: "INBOUND", first: t0, last: t0 + 60, list: "GuardDutyThreatIntel"},
		// A Tor user reaching the instance's website comes from an exit.
		nearMiss: func() []ingest.FlowRecord { return connIn(torExitIP, 51000, 443, 6, 30, 40000, t0) },
	},
	{
		name:     "MaliciousIPCaller.Custom",
		records:  func() []ingest.FlowRecord { return connIn(customIP, 52000, 22, 6, 20, 4000, t0) },
		want:     want{typ: "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", severity: 5, role: "TARGET", count: 1, remote: customIP, lport: 22, protocol: "TCP", direction: "INBOUND", first: t0, last: t0 + 60, list: "incident-42"},
		nearMiss: func() []ingest.FlowRecord { return connIn(trustedIP, 52000, 22, 6, 20, 4000, t0) }, // on a trusted IP set
	},
	{
		name: "PortProbeUnprotectedPort",
		records: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(scannerIP, 61000, localIP, 22, 6, 1, 44, t0)}
		},
		want: want{typ: "Recon:EC2/PortProbeUnprotectedPort", severity: 2, role: "TARGET", count: 1, remote: scannerIP, lport: 22, first: t0, last: t0 + 60, list: "GuardDutyThreatIntel"},
		nearMiss: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(scannerIP, 61000, localIP, 22, 6, 1, 44, t0, rejected)}
		}, // the port is protected
	},
	{
		name: "PortProbeEMRUnprotectedPort",
		records: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(scannerIP, 61000, localIP, 8088, 6, 1, 44, t0)}
		},
		want: want{typ: "Recon:EC2/PortProbeEMRUnprotectedPort", severity: 8, role: "TARGET", count: 1, remote: scannerIP, lport: 8088, first: t0, last: t0 + 60, list: "GuardDutyThreatIntel"},
		nearMiss: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow("198.51.100.95", 61000, localIP, 8088, 6, 1, 44, t0)}
		},
	},
	{
		name:     "Portscan",
		records:  func() []ingest.FlowRecord { return scan("198.51.100.40", portRange(1, 60), t0) },
		want:     want{typ: "Recon:EC2/Portscan", severity: 5, role: "ACTOR", count: 1, remote: "198.51.100.40", rport: 50, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 49 + 60},
		nearMiss: func() []ingest.FlowRecord { return scan("198.51.100.40", portRange(1, 49), t0) },
	},
	{
		name:    "PortSweep",
		records: func() []ingest.FlowRecord { return sweep(23, 400, 1, t0) },
		// 400 hosts, 100 a window: one finding, four occurrences.
		want: want{typ: "Impact:EC2/PortSweep", severity: 8, role: "ACTOR", count: 4, remote: "192.0.2.249", rport: 23, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 399 + 60},
		// An HTTPS client of many hosts: full sessions, not probes.
		nearMiss: func() []ingest.FlowRecord { return sweep(443, 400, 20, t0) },
	},
	{
		name:     "SSHBruteForce as target",
		records:  func() []ingest.FlowRecord { return logins("203.0.113.80", 22, 30, true, t0) },
		want:     want{typ: "UnauthorizedAccess:EC2/SSHBruteForce", severity: 2, role: "TARGET", count: 1, remote: "203.0.113.80", lport: 22, rport: 50024, protocol: "TCP", direction: "INBOUND", first: t0, last: t0 + 240 + 60},
		nearMiss: func() []ingest.FlowRecord { return logins("203.0.113.80", 22, 3, true, t0) }, // a few failed logins
	},
	{
		name:     "SSHBruteForce as actor",
		records:  func() []ingest.FlowRecord { return logins("198.51.100.90", 22, 30, false, t0) },
		want:     want{typ: "UnauthorizedAccess:EC2/SSHBruteForce", severity: 8, role: "ACTOR", count: 1, remote: "198.51.100.90", lport: 50024, rport: 22, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 240 + 60},
		nearMiss: func() []ingest.FlowRecord { return logins("198.51.100.90", 22, 24, false, t0) },
	},
	{
		name:     "RDPBruteForce",
		records:  func() []ingest.FlowRecord { return logins("203.0.113.81", 3389, 25, true, t0) },
		want:     want{typ: "UnauthorizedAccess:EC2/RDPBruteForce", severity: 2, role: "TARGET", count: 1, remote: "203.0.113.81", lport: 3389, rport: 50024, protocol: "TCP", direction: "INBOUND", first: t0, last: t0 + 240 + 60},
		nearMiss: func() []ingest.FlowRecord { return logins("203.0.113.81", 3389, 24, true, t0) },
	},
	{
		name:     "WinRMBruteForce as actor",
		records:  func() []ingest.FlowRecord { return logins("198.51.100.91", 5985, 25, false, t0) },
		want:     want{typ: "Impact:EC2/WinRMBruteForce", severity: 8, role: "ACTOR", count: 1, remote: "198.51.100.91", lport: 50024, rport: 5985, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 240 + 60},
		nearMiss: func() []ingest.FlowRecord { return logins("198.51.100.91", 5985, 24, false, t0) },
	},
	{
		name:    "WinRMBruteForce as target",
		records: func() []ingest.FlowRecord { return logins("203.0.113.82", 5986, 25, true, t0) },
		want:    want{typ: "Impact:EC2/WinRMBruteForce", severity: 2, role: "TARGET", count: 1, remote: "203.0.113.82", lport: 5986, rport: 50024, protocol: "TCP", direction: "INBOUND", first: t0, last: t0 + 240 + 60},
		// The same sessions spread over hours: a few an hour.
		nearMiss: func() []ingest.FlowRecord {
			var out []ingest.FlowRecord
			for i := 0; i < 30; i++ {
				out = append(out, logins("203.0.113.82", 5986, 1, true, t0+int64(i)*3600)...)
			}
			return out
		},
	},
	{
		name:    "Spambot",
		records: func() []ingest.FlowRecord { return mailRun(25, t0) },
		want:    want{typ: "Backdoor:EC2/Spambot", severity: 5, role: "ACTOR", count: 1, remote: "203.0.113.119", rport: 25, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 19*30 + 60},
		// A mail relay: it has sent mail every day for a week.
		nearMiss: func() []ingest.FlowRecord {
			var out []ingest.FlowRecord
			for day := int64(0); day < 7; day++ {
				out = append(out, connOut("203.0.113.99", 25, 6, 12, 2400, t0+day*86400)...)
			}
			return append(out, mailRun(25, t0+7*86400)...)
		},
	},
	{
		name: "DenialOfService.Tcp",
		records: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.150", 80, 6, 1_500_000, 60_000_000, t0)}
		},
		want: want{typ: "Backdoor:EC2/DenialOfService.Tcp", severity: 8, role: "ACTOR", count: 1, remote: "198.51.100.150", lport: 45000, rport: 80, protocol: "TCP", direction: "OUTBOUND", first: t0, last: t0 + 60},
		nearMiss: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.150", 80, 6, 1_500_000, 2_100_000_000, t0)}
		}, // a bulk upload
	},
	{
		name: "DenialOfService.Udp",
		records: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.151", 27015, 17, 1_200_000, 600_000_000, t0)}
		},
		want: want{typ: "Backdoor:EC2/DenialOfService.Udp", severity: 8, role: "ACTOR", count: 1, remote: "198.51.100.151", lport: 45000, rport: 27015, protocol: "UDP", direction: "OUTBOUND", first: t0, last: t0 + 60},
		nearMiss: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.151", 27015, 17, 900_000, 450_000_000, t0)}
		},
	},
	{
		name: "DenialOfService.UdpOnTcpPorts",
		records: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.152", 80, 17, 600_000, 300_000_000, t0)}
		},
		want: want{typ: "Backdoor:EC2/DenialOfService.UdpOnTcpPorts", severity: 8, role: "ACTOR", count: 1, remote: "198.51.100.152", lport: 45000, rport: 80, protocol: "UDP", direction: "OUTBOUND", first: t0, last: t0 + 60},
		nearMiss: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.152", 443, 17, 600_000, 300_000_000, t0)}
		}, // QUIC
	},
	{
		name: "DenialOfService.UnusualProtocol",
		records: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 0, "198.51.100.153", 0, 47, 600_000, 36_000_000, t0)}
		},
		want: want{typ: "Backdoor:EC2/DenialOfService.UnusualProtocol", severity: 8, role: "ACTOR", count: 1, remote: "198.51.100.153", protocol: "GRE", direction: "OUTBOUND", first: t0, last: t0 + 60},
		nearMiss: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 0, "198.51.100.153", 0, 1, 600_000, 36_000_000, t0)}
		}, // ICMP
	},
	{
		name: "DenialOfService.Dns",
		records: func() []ingest.FlowRecord {
			// Several records of one window add up.
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.53", 53, 17, 300_000, 24_000_000, t0), flow(localIP, 45001, "198.51.100.53", 53, 17, 300_000, 24_000_000, t0+60)}
		},
		want: want{typ: "Backdoor:EC2/DenialOfService.Dns", severity: 8, role: "ACTOR", count: 1, remote: "198.51.100.53", lport: 45001, rport: 53, protocol: "UDP", direction: "OUTBOUND", first: t0, last: t0 + 120},
		nearMiss: func() []ingest.FlowRecord {
			return []ingest.FlowRecord{flow(localIP, 45000, "198.51.100.53", 53, 17, 400_000, 32_000_000, t0)}
		},
	},
	{
		name: "NetworkPortUnusual",
		records: func() []ingest.FlowRecord {
			return cat(connOut("198.51.100.7", 443, 6, 20, 4000, t0), connOut("198.51.100.7", 22, 6, 20, 4000, t0+3600),
				connOut("198.51.100.7", 6667, 6, 20, 4000, t0+25*3600))
		},
		want: want{typ: "Behavior:EC2/NetworkPortUnusual", severity: 5, role: "ACTOR", count: 1, remote: "198.51.100.7", rport: 6667, protocol: "TCP", direction: "OUTBOUND", first: t0 + 25*3600, last: t0 + 25*3600 + 60},
		// The port was in use while the baseline learned.
		nearMiss: func() []ingest.FlowRecord {
			return cat(connOut("198.51.100.7", 443, 6, 20, 4000, t0), connOut("198.51.100.7", 6667, 6, 20, 4000, t0+3600),
				connOut("198.51.100.7", 6667, 6, 20, 4000, t0+25*3600))
		},
	},
	{
		name: "TrafficVolumeUnusual",
		records: func() []ingest.FlowRecord {
			return cat(connOut("198.51.100.200", 443, 6, 1_500_000, 2_000_000_000, t0), connOut("198.51.100.201", 443, 6, 14_000_000, 20_000_000_000, t0+26*3600))
		},
		want: want{typ: "Behavior:EC2/TrafficVolumeUnusual", severity: 5, role: "ACTOR", count: 1, remote: "198.51.100.201", rport: 443, protocol: "TCP", direction: "OUTBOUND", first: t0 + 26*3600, last: t0 + 26*3600 + 60},
		nearMiss: func() []ingest.FlowRecord {
			return cat(connOut("198.51.100.200", 443, 6, 1_500_000, 2_000_000_000, t0), connOut("198.51.100.201", 443, 6, 3_000_000, 4_000_000_000, t0+26*3600))
		},
	},
}

// TestFindingTypes: for every type, the trigger's records make the one
// finding the user guide describes, read back through the Go SDK, and
// the near miss stays silent.
func TestFindingTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range typeCases {
		seen[tc.want.typ] = true
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, network.Options{})
			rep := e.ingest(0, tc.records())
			fs := e.findings()
			if len(fs) != 1 {
				t.Fatalf("%d findings, want 1: %v (report %+v)", len(fs), typesOf(fs), rep)
			}
			checkFinding(t, fs[0], tc.want)

			quiet := newEnv(t, network.Options{})
			quiet.ingest(0, tc.nearMiss())
			if fs := quiet.findings(); len(fs) != 0 {
				t.Fatalf("near miss made findings: %v", typesOf(fs))
			}
		})
	}
	for _, r := range network.Rules {
		if !seen[r.Type] {
			t.Errorf("%s has no fixture", r.Type)
		}
	}
}

func typesOf(fs []types.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s x%d", *f.Type, *f.Service.Count))
	}
	return out
}

func checkFinding(t *testing.T, f types.Finding, w want) {
	t.Helper()
	if *f.Type != w.typ || *f.Severity != w.severity {
		t.Errorf("type %s severity %v, want %s %v", *f.Type, *f.Severity, w.typ, w.severity)
	}
	if f.Resource == nil || *f.Resource.ResourceType != "Instance" || f.Resource.InstanceDetails == nil || *f.Resource.InstanceDetails.InstanceId != instance {
		t.Fatalf("resource %+v", f.Resource)
	}
	nics := f.Resource.InstanceDetails.NetworkInterfaces
	if len(nics) != 1 || *nics[0].NetworkInterfaceId != eni || *nics[0].PrivateIpAddress != localIP {
		t.Errorf("network interfaces %+v", nics)
	}
	s := f.Service
	if *s.ResourceRole != w.role || *s.Count != int32(w.count) || *s.FeatureName != "FlowLogs" {
		t.Errorf("role %s count %d feature %s, want %s %d", *s.ResourceRole, *s.Count, *s.FeatureName, w.role, w.count)
	}
	if first, last := time.Unix(w.first, 0).UTC().Format("2006-01-02T15:04:05.000Z"), time.Unix(w.last, 0).UTC().Format("2006-01-02T15:04:05.000Z"); *s.EventFirstSeen != first || *s.EventLastSeen != last {
		t.Errorf("seen %s..%s, want %s..%s", *s.EventFirstSeen, *s.EventLastSeen, first, last)
	}
	list := ""
	if s.Evidence != nil && len(s.Evidence.ThreatIntelligenceDetails) > 0 {
		list = *s.Evidence.ThreatIntelligenceDetails[0].ThreatListName
	}
	if list != w.list {
		t.Errorf("threat list %q, want %q", list, w.list)
	}
	if w.direction == "" {
		p := s.Action.PortProbeAction
		if *s.Action.ActionType != "PORT_PROBE" || p == nil || len(p.PortProbeDetails) == 0 {
			t.Fatalf("action %+v", s.Action)
		}
		d := p.PortProbeDetails[0]
		if *p.Blocked != w.blocked || *d.LocalPortDetails.Port != w.lport || *d.RemoteIpDetails.IpAddressV4 != w.remote || *d.LocalIpDetails.IpAddressV4 != localIP {
			t.Errorf("probe blocked %v port %d remote %s local %s", *p.Blocked, *d.LocalPortDetails.Port, *d.RemoteIpDetails.IpAddressV4, *d.LocalIpDetails.IpAddressV4)
		}
		return
	}
	c := s.Action.NetworkConnectionAction
	if *s.Action.ActionType != "NETWORK_CONNECTION" || c == nil {
		t.Fatalf("action %+v", s.Action)
	}
	if *c.ConnectionDirection != w.direction || *c.Protocol != w.protocol || *c.Blocked != w.blocked {
		t.Errorf("direction %s protocol %s blocked %v, want %s %s %v", *c.ConnectionDirection, *c.Protocol, *c.Blocked, w.direction, w.protocol, w.blocked)
	}
	if *c.RemoteIpDetails.IpAddressV4 != w.remote || *c.LocalIpDetails.IpAddressV4 != localIP {
		t.Errorf("remote %s local %s, want %s %s", *c.RemoteIpDetails.IpAddressV4, *c.LocalIpDetails.IpAddressV4, w.remote, localIP)
	}
	if w.lport != 0 && *c.LocalPortDetails.Port != w.lport || w.rport != 0 && *c.RemotePortDetails.Port != w.rport {
		t.Errorf("ports local %d remote %d, want %d %d", *c.LocalPortDetails.Port, *c.RemotePortDetails.Port, w.lport, w.rport)
	}
}

// TestProbeSeverity: a probe of Elasticsearch's ports is High; IPv6
// flows make no finding, as in GuardDuty.
func TestProbeSeverity(t *testing.T) {
	e := newEnv(t, network.Options{})
	e.ingest(0, []ingest.FlowRecord{
		flow(scannerIP, 61000, localIP, 9200, 6, 1, 44, t0),
		flow(scannerIP, 61001, localIP, 9300, 6, 1, 44, t0+5),
		flow("2001:db8::50", 61000, "fd00::5", 22, 6, 1, 64, t0),
	})
	fs := e.findings()
	if len(fs) != 1 || *fs[0].Type != "Recon:EC2/PortProbeUnprotectedPort" || *fs[0].Severity != 8 || *fs[0].Service.Count != 2 {
		t.Fatalf("findings %v", typesOf(fs))
	}
	if d := fs[0].Service.Action.PortProbeAction.PortProbeDetails; len(d) != 2 || *d[0].LocalPortDetails.Port != 9200 || *d[1].LocalPortDetails.Port != 9300 {
		t.Fatalf("probe details %+v", d)
	}
}

// TestRulesTable: every row is a GuardDuty EC2 finding type at the
// catalogue's default severity (the user guide's), listed once, with a
// trigger, wording and, for windowed families, a threshold.
func TestRulesTable(t *testing.T) {
	cat := samples.New()
	seen := map[string]bool{}
	for _, r := range network.Rules {
		if seen[r.Type] {
			t.Errorf("%s listed twice", r.Type)
		}
		seen[r.Type] = true
		if sev, ok := cat.Severity(r.Type); !ok || sev != r.Severity {
			t.Errorf("%s: severity %v, the catalogue has %v (known %v)", r.Type, r.Severity, sev, ok)
		}
		if r.Trigger == "" || r.Title == "" || r.Description == "" {
			t.Errorf("%s: incomplete row", r.Type)
		}
		if r.Threshold != nil {
			th := network.DefaultThresholds()
			if w := r.Threshold(&th); w.Count <= 0 || w.Window <= 0 {
				t.Errorf("%s: threshold %+v", r.Type, w)
			}
		}
	}
}
