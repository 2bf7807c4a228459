package httpapi

import (
	"testing"

	"github.com/guardpost/guardpost"
)

// TestEvidenceRecordValue: a whole JSON record is answered as its value;
// a log line, a cut record and anything not JSON as a string.
func TestEvidenceRecordValue(t *testing.T) {
	for _, tc := range []struct {
		data string
		size int
		want string
	}{
		{`{"eventID":"e1"}`, 16, `{"eventID":"e1"}`},
		{" {\"a\":[1,2]} \n", 14, `{"a":[1,2]}`},
		{`2 111122223333 eni-0a1b 10.0.0.5 198.51.100.7 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK`, 93, `"2 111122223333 eni-0a1b 10.0.0.5 198.51.100.7 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK"`},
		{`{"eventID":"e1","requestPar`, 40000, `"{\"eventID\":\"e1\",\"requestPar"`},
		{`{"not json`, 10, `"{\"not json"`},
		{`[1,2]`, 5, `"[1,2]"`},
	} {
		got := recordValue(guardpost.EvidenceRecord{Size: tc.size, Data: []byte(tc.data)})
		if string(got) != tc.want {
			t.Errorf("record %q (size %d): %s, want %s", tc.data, tc.size, got, tc.want)
		}
	}
}
