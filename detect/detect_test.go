package detect

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/guardpost/guardpost/samples"
)

// TestRulesTable: every row is a finding type GuardDuty has (the samples
// catalogue lists them all, from the user guide) at its default severity,
// listed once, with wording and an aggregation key.
func TestRulesTable(t *testing.T) {
	cat := samples.New()
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.Type] {
			t.Errorf("%s listed twice", r.Type)
		}
		seen[r.Type] = true
		sev, ok := cat.Severity(r.Type)
		if !ok || sev != r.Severity {
			t.Errorf("%s: severity %v, the catalogue has %v (known %v)", r.Type, r.Severity, sev, ok)
		}
		if r.Title == "" || r.Description == "" || r.Trigger == nil || (r.Aggregate != byPrincipal && r.Aggregate != byPrincipalAndIP && r.Aggregate != byPrincipalAndBucket && r.Aggregate != byPrincipalAndRemoteAccount) {
			t.Errorf("%s: incomplete row", r.Type)
		}
	}
}

func TestParse(t *testing.T) {
	rec := func(name string) string {
		return `{"eventTime":"2026-03-14T09:26:53Z","eventSource":"iam.amazonaws.com","eventName":"` + name +
			`","awsRegion":"us-east-1","recipientAccountId":"111122223333","sourceIPAddress":"::ffff:198.51.100.1"}`
	}
	body := `{"Records":[` + rec("A") + `,` + rec("B") + "]}\n" + rec("C") + "\n" + `{"Records":[` + rec("D") + "]}"
	rs, err := Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.EventName)
	}
	if strings.Join(names, "") != "ABCD" || rs[3].n != 4 || rs[0].ip != netip.MustParseAddr("198.51.100.1") || !rs[0].Global() {
		t.Fatalf("records %v, n %d, ip %v", names, rs[3].n, rs[0].ip)
	}
	for body, want := range map[string]string{
		rec("A") + "\n" + strings.Replace(rec("B"), `"eventName":"B",`, "", 1): "Record 2: the CloudTrail record lacks eventName.",
		rec("A") + "\n{not json": "Record 2: ",
		strings.Replace(rec("A"), "2026-03-14T09:26:53Z", "yesterday", 1): `Record 1: eventTime "yesterday"`,
		`{"Records":[` + rec("A") + `,{"eventTime":1}]}`:                  "Record 2: json: cannot unmarshal number",
	} {
		if _, err := Parse(strings.NewReader(body)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%.60q: error %v, want %q", body, err, want)
		}
	}
}

func TestReadOnlyAndUserAgent(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		name string
		flag *bool
		want bool
	}{{"ListUsers", nil, true}, {"DescribeInstances", nil, true}, {"CreateUser", nil, false}, {"CreateUser", &yes, true}, {"GetObject", &no, false}} {
		r := Record{EventName: c.name, ReadOnly: c.flag}
		if r.readOnly() != c.want {
			t.Errorf("%s %v: readOnly %v", c.name, c.flag, !c.want)
		}
	}
	if !containsFold("Boto3 distrib/KALI.2024", "kali") || containsFold("kal", "kali") || containsFold("aws-cli/2", "parrot") {
		t.Error("containsFold")
	}
}
