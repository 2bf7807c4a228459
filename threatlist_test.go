package guardpost

import (
	"net/netip"
	"testing"
)

// TestThreatListOutcomeOrder: the outcome of an older activation that
// reaches detection's view after a newer one must not undo it.
func TestThreatListOutcomeOrder(t *testing.T) {
	var s Service
	scope := Scope{AccountID: "111122223333", Region: "us-east-1"}
	ip := netip.MustParseAddr("198.51.100.1")
	l := &ThreatList{AccountID: scope.AccountID, Region: scope.Region, DetectorID: "d", Kind: KindThreatIntelSet, ID: "l1", Name: "n"}

	inactive := *l
	inactive.Status, inactive.Generation = ListInactive, 3
	s.setActive(&inactive, nil)
	active := *l
	active.Status, active.Generation = ListActive, 2 // the slow, older activation
	s.setActive(&active, []string{"198.51.100.1/32"})
	if _, ok := s.ThreatListIP(scope, "d", ip); ok {
		t.Fatal("an older activation's outcome undid the newer deactivation")
	}
	active.Generation = 4
	s.setActive(&active, []string{"198.51.100.1/32"})
	m, ok := s.ThreatListIP(scope, "d", ip)
	if !ok || m.ListName != "n" || m.Kind != KindThreatIntelSet {
		t.Fatalf("lookup after activation: %+v %v", m, ok)
	}
	if s.TrustedIP(scope, "d", ip) {
		t.Error("a threat list's entry counts as trusted")
	}
	if _, ok := s.ThreatListIP(Scope{AccountID: "444455556666", Region: "us-east-1"}, "d", ip); ok {
		t.Error("another account's detector sees the list")
	}
	s.dropDetectorLists(scope, "d")
	if _, ok := s.ThreatListIP(scope, "d", ip); ok {
		t.Error("a deleted detector's list still matches")
	}
}

func TestThreatListARN(t *testing.T) {
	scope := Scope{AccountID: "111122223333", Region: "cn-north-1"}
	arn := ThreatListARN(scope, "det", KindThreatEntitySet, "abc")
	if arn != "arn:aws-cn:guardduty:cn-north-1:111122223333:detector/det/threatentityset/abc" {
		t.Fatalf("ARN %s", arn)
	}
	a, err := ParseResourceARN(arn)
	if err != nil || a.ListKind != KindThreatEntitySet || a.ListID != "abc" || a.DetectorID != "det" {
		t.Fatalf("parse: %+v %v", a, err)
	}
	for _, bad := range []string{
		"arn:aws:guardduty:us-east-1:111122223333:detector/det/ipsets/abc",
		"arn:aws:guardduty:us-east-1:111122223333:detector/det/ipset/",
	} {
		if _, err := ParseResourceARN(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

// BenchmarkThreatListIP is detection's question for every record: a
// detector with one trusted list and six threat lists of 250,000 entries.
func BenchmarkThreatListIP(b *testing.B) {
	var s Service
	scope := Scope{AccountID: "111122223333", Region: "us-east-1"}
	entries := make([]string, 250_000)
	for i := range entries {
		entries[i] = netip.AddrFrom4([4]byte{byte(i >> 16), byte(i >> 8), byte(i), 7}).String()
	}
	for i := range 7 {
		kind := KindThreatIntelSet
		if i == 0 {
			kind = KindIPSet
		}
		l := &ThreatList{AccountID: scope.AccountID, Region: scope.Region, DetectorID: "d", Kind: kind,
			ID: NewID(), Name: "list", Status: ListActive, Generation: 1}
		s.setActive(l, entries)
	}
	ip := netip.MustParseAddr("203.0.113.9")
	b.ReportAllocs()
	for b.Loop() {
		if s.TrustedIP(scope, "d", ip) {
			b.Fatal("trusted")
		}
		if _, ok := s.ThreatListIP(scope, "d", ip); ok {
			b.Fatal("listed")
		}
	}
}
