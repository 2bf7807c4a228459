package intel

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCIDRSet(t *testing.T) {
	var b CIDRBuilder
	for _, p := range []string{"10.0.0.0/8", "10.1.0.0/16", "192.0.2.7/32", "192.0.2.8/31", "0.0.0.0/32", "2001:db8::/32", "::ffff:198.51.100.0/120"} {
		b.AddPrefix(netip.MustParsePrefix(p))
	}
	b.AddRange(netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("203.0.113.20"))
	s := b.Build()
	for addr, want := range map[string]bool{
		"10.0.0.0": true, "10.255.255.255": true, "11.0.0.0": false, "9.255.255.255": false,
		"192.0.2.7": true, "192.0.2.8": true, "192.0.2.9": true, "192.0.2.10": false, "192.0.2.6": false,
		"0.0.0.0": true, "0.0.0.1": false, "2001:db8:ffff::1": true, "2001:db9::": false,
		"198.51.100.200": true, "::ffff:10.2.3.4": true, "203.0.113.15": true, "203.0.113.21": false,
		"255.255.255.255": false,
	} {
		if got := s.Contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", addr, got, want)
		}
	}
	if s.Ranges() != 6 { // 10/8 absorbs 10.1/16; .7 and .8/31 merge
		t.Errorf("%d ranges, want 6", s.Ranges())
	}
	var empty *CIDRSet
	if empty.Contains(netip.MustParseAddr("10.0.0.1")) {
		t.Error("nil set contains an address")
	}
}

// TestCIDRSetAgainstLinear checks the binary search against a linear scan
// of random prefixes.
func TestCIDRSetAgainstLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var b CIDRBuilder
	var ps []netip.Prefix
	for range 2000 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], r.Uint32())
		p := netip.PrefixFrom(netip.AddrFrom4(a), 8+r.IntN(25)).Masked()
		ps = append(ps, p)
		b.AddPrefix(p)
	}
	s := b.Build()
	for range 4000 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], r.Uint32())
		addr := netip.AddrFrom4(a)
		want := slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(addr) })
		if s.Contains(addr) != want {
			t.Fatalf("Contains(%s) = %v, want %v", addr, !want, want)
		}
	}
}

func TestDomainSet(t *testing.T) {
	var b DomainBuilder
	b.Add("Example.COM.")
	b.Add("*.evil.net")
	s := b.Build()
	for name, want := range map[string]bool{
		"example.com": true, "www.example.com": true, "A.B.EXAMPLE.COM.": true, "badexample.com": false,
		"com": false, "evil.net": true, "x.evil.net": true, "evil.net.org": false, "": false,
	} {
		if got := s.Contains(name); got != want {
			t.Errorf("Contains(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseFormats(t *testing.T) {
	cases := []struct {
		format, data string
		domains      bool
		want         []string
	}{
		{FormatTXT, "# comment\n54.20.175.217\n205.0.0.0/8\n\n2001:db8::1\nexample.com\n", true,
			[]string{"54.20.175.217/32", "205.0.0.0/8", "2001:db8::1/128", "example.com"}},
		{FormatTXT, "54.20.175.217\nexample.com\n", false, []string{"54.20.175.217/32"}},
		{FormatAlienVault, "198.51.100.1#4#2#Malicious Host#US##37.7,-122.4#3\n198.51.100.2#2#3#Scanning Host#KR##1,2#3\n", false,
			[]string{"198.51.100.1/32", "198.51.100.2/32"}},
		{FormatOTXCSV, "Indicator type,Indicator,Description\nIPv4,198.51.100.1,bad\nCIDR,203.0.113.0/24,\nURL,http://x.example/,skip\ndomain,evil.example,\n", true,
			[]string{"198.51.100.1/32", "203.0.113.0/24", "evil.example"}},
		{FormatProofPoint, "ip,category,score,first_seen,last_seen,ports (|)\n198.51.100.1,1,100,2000-01-01,2000-01-01,\n", false,
			[]string{"198.51.100.1/32"}},
		{FormatFireEye, "reportId,title,domain,ip,cidr,md5\nr1,t,evil.example,198.51.100.1,,\nr2,t,,,203.0.113.0/24,abc\n", true,
			[]string{"198.51.100.1/32", "evil.example", "203.0.113.0/24"}},
		{FormatSTIX, `<?xml version="1.0" encoding="UTF-8"?>
<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1" xmlns:cybox="http://cybox.mitre.org/cybox-2"
 xmlns:AddressObj="http://cybox.mitre.org/objects#AddressObject-2" xmlns:DomainNameObj="http://cybox.mitre.org/objects#DomainNameObject-1">
 <stix:Observables><cybox:Observable><cybox:Object><cybox:Properties category="ipv4-addr">
  <AddressObj:Address_Value condition="InclusiveBetween">10.0.0.0##comma##10.0.0.255</AddressObj:Address_Value>
 </cybox:Properties></cybox:Object></cybox:Observable>
 <cybox:Observable><cybox:Object><cybox:Properties category="ipv4-net">
  <AddressObj:Address_Value>198.51.100.0/24</AddressObj:Address_Value></cybox:Properties></cybox:Object></cybox:Observable>
 <cybox:Observable><cybox:Object><cybox:Properties category="ipv4-addr">
  <AddressObj:Address_Value condition="Equals" apply_condition="ANY">192.0.2.1##comma##192.0.2.2</AddressObj:Address_Value>
 </cybox:Properties></cybox:Object></cybox:Observable>
 <cybox:Observable><cybox:Object><cybox:Properties type="FQDN"><DomainNameObj:Value>evil.example</DomainNameObj:Value>
 </cybox:Properties></cybox:Object></cybox:Observable></stix:Observables></stix:STIX_Package>`, true,
			[]string{"10.0.0.0-10.0.0.255", "198.51.100.0/24", "192.0.2.1/32", "192.0.2.2/32", "evil.example"}},
		{FormatSTIX, `{"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.9'] OR [domain-name:value = 'evil.example']"}]}`, true,
			[]string{"198.51.100.9/32", "evil.example"}},
	}
	for _, c := range cases {
		got, err := ParseList(c.format, []byte(c.data), c.domains)
		if err != nil {
			t.Errorf("%s: %v", c.format, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.format, got, c.want)
		}
		m := Compile(got)
		for _, e := range got {
			var hit bool
			if p, err := netip.ParsePrefix(e); err == nil {
				hit = m.MatchIP(p.Addr())
			} else if first, _, ok := strings.Cut(e, "-"); ok {
				hit = m.MatchIP(netip.MustParseAddr(first))
			} else {
				hit = m.MatchDomain("sub." + e)
			}
			if !hit {
				t.Errorf("%s: compiled list misses %s", c.format, e)
			}
		}
	}
	if _, err := ParseList(FormatTXT, []byte("198.51.100.1\nnot an entry!\n"), true); err == nil || err.Error() != "line 2: the entry is not an IP address, a CIDR range or a domain" {
		t.Errorf("bad TXT line: %v", err)
	}
	if _, err := ParseList(FormatSTIX, []byte("<stix:STIX_Package><unclosed>"), true); err == nil {
		t.Error("broken STIX parsed")
	}
}

func TestManagedLoadAndWatch(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tor-exit.txt", "# exits\n198.51.100.1\n")
	write("ip-ranges.json", `{"prefixes":[{"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON"}],"ipv6_prefixes":[{"ipv6_prefix":"2600:1f00::/24"}]}`)
	write("phishing.txt", "phish.example # a comment\n")
	m := NewManaged()
	if _, err := m.Load(dir); err != nil {
		t.Fatal(err)
	}
	if got := m.MatchIP(netip.MustParseAddr("198.51.100.1")); !slices.Equal(got, []string{TorExit}) {
		t.Errorf("tor exit: %v", got)
	}
	if !m.InCategory(AWSIPRanges, netip.MustParseAddr("3.5.141.1")) || !m.InCategory(AWSIPRanges, netip.MustParseAddr("2600:1f00::1")) {
		t.Error("ip-ranges.json not read")
	}
	if got := m.MatchDomain("login.phish.example"); !slices.Equal(got, []string{Phishing}) {
		t.Errorf("phishing: %v", got)
	}
	if got := m.MatchDomain("x.GuardDutyC2ActivityB.com"); !slices.Equal(got, []string{CommandAndControl}) {
		t.Errorf("test domain: %v", got)
	}
	if m.changed(dir) {
		t.Error("unchanged dir reported changed")
	}
	write("tor-exit.txt", "198.51.100.2\n198.51.100.3\n")
	if !m.changed(dir) {
		t.Fatal("rewrite not noticed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Watch(ctx, dir, time.Millisecond, slog.New(slog.DiscardHandler)) }()
	for m.InCategory(TorExit, netip.MustParseAddr("198.51.100.1")) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if !m.InCategory(TorExit, netip.MustParseAddr("198.51.100.3")) {
		t.Error("reload lost the new entries")
	}
}

// TestCIDRSetDirectory checks the /16 directory of large sets against a
// set small enough to have none.
func TestCIDRSetDirectory(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var big, small CIDRBuilder
	var ps []netip.Prefix
	for range dirMinRanges * 2 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], r.Uint32())
		p := netip.PrefixFrom(netip.AddrFrom4(a), 24+r.IntN(9)).Masked()
		ps = append(ps, p)
		big.AddPrefix(p)
	}
	for _, p := range ps[:100] {
		small.AddPrefix(p)
	}
	bs, ss := big.Build(), small.Build()
	if bs.dir4 == nil || ss.dir4 != nil {
		t.Fatalf("directory: big %v, small %v", bs.dir4 != nil, ss.dir4 != nil)
	}
	// Each prefix's first and last address are in; the small set (no
	// directory) and a linear scan agree on random addresses.
	for _, p := range ps {
		first := p.Addr()
		last := netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, v4(first)|(1<<(32-p.Bits())-1))))
		if !bs.Contains(first) || !bs.Contains(last) {
			t.Fatalf("%s: first %v, last %v", p, bs.Contains(first), bs.Contains(last))
		}
	}
	for _, p := range ps[:60] {
		after := netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, v4(p.Addr())|(1<<(32-p.Bits())-1)))).Next()
		want := slices.ContainsFunc(ps, func(q netip.Prefix) bool { return q.Contains(after) })
		if after.IsValid() && bs.Contains(after) != want {
			t.Fatalf("Contains(%s), just after %s, = %v, want %v", after, p, !want, want)
		}
	}
	for range 60 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], r.Uint32())
		addr := netip.AddrFrom4(a)
		want := slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(addr) })
		if bs.Contains(addr) != want {
			t.Fatalf("Contains(%s) = %v, want %v", addr, !want, want)
		}
	}
	for _, edge := range []string{"0.0.0.0", "255.255.255.255", "0.0.255.255", "1.0.0.0"} {
		addr := netip.MustParseAddr(edge)
		want := slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(addr) })
		if bs.Contains(addr) != want {
			t.Errorf("Contains(%s) = %v, want %v", addr, !want, want)
		}
	}
}

// TestCIDRSetIPv6Blocks checks the block index of large IPv6 sets:
// every prefix's first and last address are in, and the addresses just
// outside agree with a linear scan.
func TestCIDRSetIPv6Blocks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var b CIDRBuilder
	var ps []netip.Prefix
	for range dirMinRanges * 2 {
		var a [16]byte
		a[0], a[1] = 0x26, 0x00 // crowded into one /16, as real addresses are
		binary.BigEndian.PutUint64(a[2:10], r.Uint64())
		p := netip.PrefixFrom(netip.AddrFrom16(a), 64+r.IntN(65)).Masked()
		ps = append(ps, p)
		b.AddPrefix(p)
	}
	s := b.Build()
	if s.top6 == nil {
		t.Fatal("no block index")
	}
	lastOf := func(p netip.Prefix) netip.Addr {
		x := v6(p.Addr())
		bits := p.Bits()
		switch {
		case bits < 64:
			x.hi |= ^uint64(0) >> bits
			x.lo = ^uint64(0)
		case bits < 128:
			x.lo |= ^uint64(0) >> (bits - 64)
		}
		var a [16]byte
		binary.BigEndian.PutUint64(a[:8], x.hi)
		binary.BigEndian.PutUint64(a[8:], x.lo)
		return netip.AddrFrom16(a)
	}
	for _, p := range ps {
		if !s.Contains(p.Addr()) || !s.Contains(lastOf(p)) {
			t.Fatalf("%s not contained", p)
		}
	}
	for _, p := range ps[:60] {
		for _, a := range []netip.Addr{p.Addr().Prev(), lastOf(p).Next()} {
			want := slices.ContainsFunc(ps, func(q netip.Prefix) bool { return q.Contains(a) })
			if s.Contains(a) != want {
				t.Fatalf("Contains(%s) = %v, want %v", a, !want, want)
			}
		}
	}
	if s.Contains(netip.MustParseAddr("2001:db8::1")) || s.Contains(netip.MustParseAddr("::1")) {
		t.Error("an address below every range is contained")
	}
}

// TestTestDomains: GuardDuty's test domains match their category with no
// list loaded, the most specific name deciding.
func TestTestDomains(t *testing.T) {
	m := NewManaged()
	for name, want := range map[string]string{
		"guarddutyc2activityb.com":              CommandAndControl,
		"c2.guarddutyc2activityb.com.":          CommandAndControl,
		"crypto.guarddutyc2activityb.com":       Cryptocurrency,
		"x.crypto.guarddutyc2activityb.com":     Cryptocurrency,
		"GuardDutyDropPointActivity.com":        DropPoint,
		"www.guarddutyblackholeactivity.com":    Blackhole,
		"guarddutyphishingactivity.com":         Phishing,
		"guarddutydgaactivity.com":              DGA,
		"notguarddutyc2activityb.com":           "",
		"guarddutyc2activityb.com.evil.example": "",
	} {
		got := m.MatchDomain(name)
		if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
			t.Errorf("%s: %v, want %q", name, got, want)
		}
	}
}

// TestDomainCategories: the bit set answers as MatchDomain does, lists
// and test domains alike.
func TestDomainCategories(t *testing.T) {
	dir := t.TempDir()
	for c, body := range map[string]string{Phishing: "login-verify.example\n", DGA: "login-verify.example\nx7hq2.example\n", Cryptocurrency: "pool.example\n"} {
		if err := os.WriteFile(filepath.Join(dir, c+".txt"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := NewManaged()
	if _, err := m.Load(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"login-verify.example", "a.login-verify.example.", "x7hq2.example", "pool.example", "eu.pool.example",
		"example", "crypto.guarddutyc2activityb.com", "c2.guarddutyc2activityb.com", "guarddutydgaactivity.com", "other.example"} {
		var want uint32
		for _, c := range m.MatchDomain(name) {
			want |= 1 << slices.Index(Categories, c)
		}
		if got := m.DomainCategories(name); got != want {
			t.Errorf("%s: %b, MatchDomain says %b", name, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { m.DomainCategories("a.b.login-verify.example") }); n != 0 {
		t.Errorf("%v allocations per lookup", n)
	}
}
