package dnsquery

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/guardpost/guardpost/ingest"
)

// benignQueries returns n ordinary queries of a VPC's instances, in time
// order over two hours from start: popular sites and their many
// subdomains, CDN hostnames with hashes in them, AWS endpoints (bucket,
// VPC endpoint and load balancer names included), package mirrors, the
// VPC's own names, reverse look-ups, anti-virus hash look-ups, dynamic DNS
// names chosen by people, and NXDOMAIN typos. Nothing in it is on the test
// intel lists, and nothing may make a finding.
func benignQueries(n int, seed uint64, account, region string, start time.Time) []ingest.DNSQuery {
	r := rand.New(rand.NewPCG(seed, 11))
	const instances = 50
	hex := func(k int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = digits[r.IntN(16)]
		}
		return string(b)
	}
	alnum := func(k int) string {
		const set = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, k)
		for i := range b {
			b[i] = set[r.IntN(len(set))]
		}
		return string(b)
	}
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	prefixes := []string{"www", "api", "cdn", "static", "img", "login", "mail", "m", "assets", "auth", "app", "docs", "status", "edge"}
	tlds := []string{".com", ".com", ".com", ".net", ".org", ".io", ".co.uk", ".com.au", ".de"}
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
	services := []string{"sts", "ec2", "s3", "dynamodb", "sqs", "sns", "kms", "logs", "monitoring", "ssm", "ssmmessages", "ec2messages", "secretsmanager", "ecr", "api.ecr", "lambda", "events"}
	mirrors := []string{"archive.ubuntu.com", "security.ubuntu.com", "deb.debian.org", "security.debian.org", "registry.npmjs.org", "pypi.org",
		"files.pythonhosted.org", "proxy.golang.org", "sum.golang.org", "index.docker.io", "registry-1.docker.io", "production.cloudflare.docker.com",
		"ghcr.io", "quay.io", "repo.maven.apache.org", "dl-cdn.alpinelinux.org", "mirrors.fedoraproject.org", "cdn.amazonlinux.com",
		"amazonlinux-2-repos-us-east-1.s3.dualstack.us-east-1.amazonaws.com", "ntp.ubuntu.com", "time.aws.com", "ocsp.digicert.com",
		"crl3.digicert.com", "r3.o.lencr.org", "x1.c.lencr.org", "github.com", "api.github.com", "objects.githubusercontent.com", "codeload.github.com"}
	typos := []string{"gooogle.com", "amazom.com", "facebok.com", "wwww.github.com", "githbu.com", "stackoverfow.com", "pypi.ogr",
		"registry.npmjs.orgg", "api.github.com.ec2.internal", "wpad.ec2.internal", "localhost.localdomain", "metadata.google.internal",
		"_ldap._tcp.dc._msdcs.corp.example.com", "isatap.ec2.internal", "db-prmary.prod.internal", "redis.svc.cluster.local.ec2.internal"}
	words := []string{"alpha", "billing", "orders", "payments", "assets", "logs", "backup", "media", "reports", "uploads", "exports", "data", "archive", "images"}
	people := []string{"homeserver", "myvpn", "familyphotos", "raspberrypi", "plex-at-home", "office-nas", "garage-cam", "devbox"}

	var out []ingest.DNSQuery
	step := 2 * time.Hour / time.Duration(n)
	for i := 0; i < n; i++ {
		inst := r.IntN(instances)
		var name string
		var answers []string
		rcode := "NOERROR"
		qtype := "A"
		switch k := r.IntN(100); {
		case k < 30: // popular sites
			p := pick(prefixes)
			name = p + "." + pick(popularLabels) + pick(tlds)
		case k < 40: // many subdomains of popular sites
			name = fmt.Sprintf("%s%d.%s", pick([]string{"tenant", "shop", "team", "user", "acme", "corp"}), r.IntN(5000),
				pick([]string{"slack.com", "zendesk.com", "okta.com", "atlassian.net", "myshopify.com", "salesforce.com", "github.io", "herokuapp.com", "azurewebsites.net"}))
		case k < 52: // CDN hostnames with hashes
			switch r.IntN(5) {
			case 0:
				name = "d" + alnum(13) + ".cloudfront.net"
			case 1:
				name = fmt.Sprintf("e%d.dscb.akamaiedge.net", r.IntN(9999))
			case 2:
				name = "r" + fmt.Sprint(1+r.IntN(8)) + "---sn-" + alnum(8) + ".googlevideo.com"
			case 3:
				name = hex(32) + "-" + hex(8) + ".apps.googleusercontent.com"
			default:
				name = alnum(10) + ".global.ssl.fastly.net"
			}
		case k < 70: // AWS endpoints
			reg := pick(regions)
			switch r.IntN(5) {
			case 0:
				name = pick(services) + "." + reg + ".amazonaws.com"
			case 1:
				name = fmt.Sprintf("%s-%s-%d.s3.%s.amazonaws.com", pick(words), pick(words), r.IntN(999999), reg)
			case 2:
				name = fmt.Sprintf("vpce-0%s-%s.%s.%s.vpce.amazonaws.com", hex(16), alnum(8), pick(services), reg)
			case 3:
				name = fmt.Sprintf("internal-%s-lb-%d.%s.elb.amazonaws.com", pick(words), 1000000000+r.IntN(999999999), reg)
			default:
				name = hex(14) + "-ats.iot." + reg + ".amazonaws.com"
			}
		case k < 80: // package mirrors and certificate checks
			name = pick(mirrors)
		case k < 88: // the VPC's own names, reverse look-ups
			switch r.IntN(3) {
			case 0:
				name = fmt.Sprintf("ip-10-1-%d-%d.ec2.internal", r.IntN(256), r.IntN(256))
			case 1:
				name = fmt.Sprintf("%s.%s.svc.cluster.local", pick(words), pick([]string{"default", "prod", "kube-system"}))
			default:
				name = fmt.Sprintf("%d.%d.1.10.in-addr.arpa", r.IntN(256), r.IntN(256))
				qtype = "PTR"
			}
		case k < 92: // anti-virus hash look-ups
			name = hex(40) + ".sxl." + pick([]string{"sophosxl.net", "sophosxl.net", "avts.mcafee.com"})
		case k < 94: // names people chose on dynamic DNS
			name = pick(people) + "." + pick([]string{"duckdns.org", "ddns.net", "hopto.org"})
		default: // typos and search-domain misses
			name = pick(typos)
			rcode = "NXDOMAIN"
		}
		if rcode == "NOERROR" && qtype == "A" {
			answers = append(answers, fmt.Sprintf("%d.%d.%d.%d", pick2(r, 52, 104, 151, 13), r.IntN(256), r.IntN(256), 1+r.IntN(254)))
		}
		q := ingest.DNSQuery{
			Line: i + 1, Size: 280 + len(name), Version: "1.100000", AccountID: account, Region: region, VPCID: "vpc-0benign0000",
			Time: start.Add(time.Duration(i)*step + time.Duration(r.IntN(int(step)))), Name: name, RawName: name + ".",
			Type: qtype, Class: "IN", RCode: rcode, SrcAddr: netip.AddrFrom4([4]byte{10, 1, byte(inst / 250), byte(1 + inst%250)}),
			SrcPort: uint16(1024 + r.IntN(60000)), Transport: "UDP", InstanceID: fmt.Sprintf("i-0b%015d", inst),
		}
		for _, a := range answers {
			q.Answers = append(q.Answers, ingest.DNSAnswer{Data: a, Type: "A", Class: "IN"})
		}
		out = append(out, q)
	}
	return out
}

func pick2(r *rand.Rand, options ...int) int { return options[r.IntN(len(options))] }
