package samples

import "fmt"

// remote is a documentation-range address with the geolocation and
// organization GuardDuty attaches to a remote IP.
type remote struct {
	ip, countryCode, country, city string
	lat, lon                       float64
	asn, org                       string
}

// remotes are the remote parties of the samples; each finding type takes one
// (by its seed) so that remote addresses and countries differ across types.
// Addresses come from TEST-NET-2 and TEST-NET-3, ASNs from the range
// reserved for documentation (RFC 5398).
var remotes = []remote{
	{"198.51.100.7", "US", "United States", "Ashburn", 39.0438, -77.4874, "64496", "Example Transit Inc."},
	{"198.51.100.23", "DE", "Germany", "Frankfurt am Main", 50.1109, 8.6821, "64497", "Beispiel Hosting GmbH"},
	{"198.51.100.61", "NL", "Netherlands", "Amsterdam", 52.3676, 4.9041, "64498", "Voorbeeld Networks B.V."},
	{"198.51.100.102", "BR", "Brazil", "Sao Paulo", -23.5505, -46.6333, "64499", "Exemplo Telecom Ltda"},
	{"198.51.100.144", "SG", "Singapore", "Singapore", 1.3521, 103.8198, "64500", "Sample Cloud Pte Ltd"},
	{"198.51.100.201", "JP", "Japan", "Tokyo", 35.6762, 139.6503, "64501", "Rei Datacenter K.K."},
	{"203.0.113.9", "FR", "France", "Paris", 48.8566, 2.3522, "64502", "Exemple Serveurs SAS"},
	{"203.0.113.35", "IN", "India", "Mumbai", 19.0760, 72.8777, "64503", "Udaharan Broadband Pvt Ltd"},
	{"203.0.113.77", "CA", "Canada", "Toronto", 43.6532, -79.3832, "64504", "Northern Example Communications"},
	{"203.0.113.118", "ZA", "South Africa", "Johannesburg", -26.2041, 28.0473, "64505", "Voorbeeld Connect (Pty) Ltd"},
	{"203.0.113.164", "KR", "South Korea", "Seoul", 37.5665, 126.9780, "64506", "Yesi Internet Co."},
	{"203.0.113.230", "GB", "United Kingdom", "London", 51.5074, -0.1278, "64507", "Example Colocation Ltd"},
}

// remote returns the remote party of this finding type.
func (b *build) remote() remote { return remotes[b.pick(len(remotes), 1)] }

// remoteIPDetails is the RemoteIpDetails object of the finding's remote party.
func (b *build) remoteIPDetails() obj {
	r := b.remote()
	return obj{
		"ipAddressV4": r.ip,
		"country":     obj{"countryCode": r.countryCode, "countryName": r.country},
		"city":        obj{"cityName": r.city},
		"geoLocation": obj{"lat": r.lat, "lon": r.lon},
		"organization": obj{
			"asn":    r.asn,
			"asnOrg": r.org,
			"isp":    r.org,
			"org":    r.org,
		},
	}
}

// ephemeralPort is the client-side port of the finding's remote party or
// local host: in the IANA dynamic range, different for each type.
func (b *build) ephemeralPort() int { return 49152 + b.pick(16383, 2) }

// portNames are the names GuardDuty gives well-known ports.
var portNames = map[int]string{
	22: "SSH", 25: "SMTP", 53: "DNS", 80: "HTTP", 443: "HTTPS", 853: "DNS over TLS",
	3306: "MYSQL", 3389: "RDP", 5432: "POSTGRESQL", 5985: "WinRM", 5986: "WinRM",
	6443: "Kubernetes API", 8088: "YARN", 8332: "Bitcoin", 9001: "Tor",
}

func portDetails(port int) obj {
	name, ok := portNames[port]
	if !ok {
		name = "Unknown"
	}
	return obj{"port": port, "portName": name}
}

// Private addresses of the sample's own resources (10.0.0.0/8).
func (b *build) privateIP() string {
	return fmt.Sprintf("10.0.%d.%d", 1+b.pick(250, 3), 4+b.pick(250, 4))
}

func (b *build) privateDNS() string {
	return fmt.Sprintf("ip-%s.%s.compute.internal", dashed(b.privateIP()), b.p.Region)
}

// publicIP is the public address of the sample instance, from TEST-NET-1
// so that it never looks like one of the remote parties.
func (b *build) publicIP() string { return fmt.Sprintf("192.0.2.%d", 10+b.pick(240, 5)) }

func dashed(ip string) string {
	out := []byte(ip)
	for i, c := range out {
		if c == '.' {
			out[i] = '-'
		}
	}
	return string(out)
}
