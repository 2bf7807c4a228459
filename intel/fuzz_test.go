package intel

import (
	"net/netip"
	"testing"
)

// FuzzParseList: no list, however broken, panics a parser, and every entry
// a parser returns compiles into a matcher that matches it.
func FuzzParseList(f *testing.F) {
	formats := []string{FormatTXT, FormatSTIX, FormatOTXCSV, FormatAlienVault, FormatProofPoint, FormatFireEye}
	for _, seed := range []string{
		"198.51.100.1\n2001:db8::/32\nexample.com\n",
		`<x xmlns:A="AddressObject"><A:Address_Value condition="InclusiveBetween">10.0.0.9##comma##10.0.0.1</A:Address_Value></x>`,
		`{"objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '1.2.3.4']"}]}`,
		"Indicator type,Indicator\nIPv4,1.2.3.4\n",
		"1.2.3.4#1#2#x\n",
		"ip,category\n1.2.3.4,1\n",
		"ip,domain\n1.2.3.4,a.example\n",
	} {
		for i := range formats {
			f.Add(i, seed)
		}
	}
	f.Fuzz(func(t *testing.T, format int, data string) {
		if format < 0 {
			format = -format
		}
		entries, err := ParseList(formats[format%len(formats)], []byte(data), true)
		if err != nil {
			return
		}
		m := Compile(entries)
		for _, e := range entries {
			if p, err := netip.ParsePrefix(e); err == nil {
				if !m.MatchIP(p.Addr()) {
					t.Fatalf("entry %q does not match its own address", e)
				}
			} else if _, err := netip.ParseAddr(e); err != nil && !containsDash(e) && !m.MatchDomain(e) {
				t.Fatalf("entry %q does not match itself", e)
			}
		}
	})
}

func containsDash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			return true
		}
	}
	return false
}
