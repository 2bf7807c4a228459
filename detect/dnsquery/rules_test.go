package dnsquery

import (
	"testing"

	"github.com/guardpost/guardpost/samples"
)

// TestRulesTable: every row is a GuardDuty finding type at the user
// guide's default severity (the samples catalogue holds both), listed
// once, with wording and an aggregation key; windowed rows aggregate by
// instance or instance and parent.
func TestRulesTable(t *testing.T) {
	cat := samples.New()
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.Type] {
			t.Errorf("%s listed twice", r.Type)
		}
		seen[r.Type] = true
		if sev, ok := cat.Severity(r.Type); !ok || sev != r.Severity {
			t.Errorf("%s: severity %v, the catalogue has %v (known %v)", r.Type, r.Severity, sev, ok)
		}
		if r.Title == "" || r.Description == "" || r.Trigger == nil {
			t.Errorf("%s: incomplete row", r.Type)
		}
		switch {
		case r.Window == dgaWindow && r.Aggregate != byInstance, r.Window == exfilWindow && r.Aggregate != byInstanceParent,
			r.Window == noWindow && r.Aggregate != byInstanceDomain:
			t.Errorf("%s: window %q aggregates by %s", r.Type, r.Window, r.Aggregate)
		}
	}
	if len(rules) != 14 {
		t.Errorf("%d types, want the 14 DNS types of issue 11", len(rules))
	}
}
