package detect

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestENIMapLoad(t *testing.T) {
	m := NewENIMap()
	err := m.Load(strings.NewReader("# web tier\neni-0a1b2c3d4e5f60718 i-0abcd1234ef567890\n\neni-0b, i-0b\n\teni-0c\ti-0c  \n"))
	if err != nil {
		t.Fatal(err)
	}
	for eni, want := range map[string]string{"eni-0a1b2c3d4e5f60718": "i-0abcd1234ef567890", "eni-0b": "i-0b", "eni-0c": "i-0c", "eni-0unknown": "eni-0unknown"} {
		if got := m.Instance("111122223333", eni); got != want {
			t.Errorf("Instance(%s) = %s, want %s", eni, got, want)
		}
	}
	for _, bad := range []string{"eni-0a\n", "i-0a eni-0a\n", "eni-0a i-0a extra\n"} {
		if err := NewENIMap().Load(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
	var nilMap *ENIMap
	if nilMap.Instance("1", "eni-1") != "eni-1" {
		t.Error("a nil map does not fall back to the ENI")
	}
}

// TestENIMapLearn: the pairs of RunInstances, CreateNetworkInterface
// (attached) and AttachNetworkInterface are learned per account, only for
// accounts the caller may send and calls that succeeded; the operator's
// pairs win.
func TestENIMapLearn(t *testing.T) {
	rec := func(account, name, params, response, errorCode string) Record {
		return Record{EventSource: "ec2.amazonaws.com", EventName: name, RecipientAccountID: account, ErrorCode: errorCode,
			RequestParameters: json.RawMessage(params), ResponseElements: json.RawMessage(response)}
	}
	run := `{"instancesSet":{"items":[{"instanceId":"i-0run","networkInterfaceSet":{"items":[{"networkInterfaceId":"eni-0run1"},{"networkInterfaceId":"eni-0run2"}]}}]}}`
	records := []Record{
		rec("111122223333", "RunInstances", `{}`, run, ""),
		rec("111122223333", "CreateNetworkInterface", `{"subnetId":"subnet-1"}`, `{"networkInterface":{"networkInterfaceId":"eni-0new","attachment":{"instanceId":"i-0new"}}}`, ""),
		rec("111122223333", "CreateNetworkInterface", `{}`, `{"networkInterface":{"networkInterfaceId":"eni-0loose"}}`, ""),
		rec("111122223333", "AttachNetworkInterface", `{"networkInterfaceId":"eni-0att","instanceId":"i-0att","deviceIndex":1}`, `{"attachmentId":"eni-attach-1"}`, ""),
		rec("111122223333", "AttachNetworkInterface", `{"networkInterfaceId":"eni-0fail","instanceId":"i-0fail"}`, `null`, "Client.UnauthorizedOperation"),
		rec("999999999999", "AttachNetworkInterface", `{"networkInterfaceId":"eni-0other","instanceId":"i-0other"}`, `null`, ""),
		rec("111122223333", "AttachNetworkInterface", `{"networkInterfaceId":"eni-0given","instanceId":"i-0learned"}`, `null`, ""),
	}
	m := NewENIMap()
	if err := m.Load(strings.NewReader("eni-0given i-0given\n")); err != nil {
		t.Fatal(err)
	}
	m.Learn(records, func(account string) bool { return account == "111122223333" })
	for _, c := range []struct{ account, eni, want string }{
		{"111122223333", "eni-0run1", "i-0run"}, {"111122223333", "eni-0run2", "i-0run"},
		{"111122223333", "eni-0new", "i-0new"}, {"111122223333", "eni-0loose", "eni-0loose"},
		{"111122223333", "eni-0att", "i-0att"}, {"111122223333", "eni-0fail", "eni-0fail"},
		{"999999999999", "eni-0other", "eni-0other"}, {"444455556666", "eni-0run1", "eni-0run1"},
		{"111122223333", "eni-0given", "i-0given"},
	} {
		if got := m.Instance(c.account, c.eni); got != c.want {
			t.Errorf("Instance(%s, %s) = %s, want %s", c.account, c.eni, got, c.want)
		}
	}
}
