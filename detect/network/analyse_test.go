package network

import (
	"testing"

	"github.com/guardpost/guardpost/ingest"
)

// TestSenderOpened: TCP flags decide who opened a connection only when
// they are flags flow logs report; otherwise the ephemeral port does.
func TestSenderOpened(t *testing.T) {
	for _, c := range []struct {
		flags            uint16
		srcPort, dstPort uint16
		want             bool
	}{
		{3, 50000, 22, true},   // SYN|FIN from the client
		{19, 22, 50000, false}, // SYN-ACK|FIN from the server
		{19, 50000, 22, false}, // the flags win over the ports
		{2, 22, 50000, true},   // a lone SYN opens, whatever the ports
		{27, 50000, 22, true},  // PSH is never logged: ports decide
		{27, 22, 50000, false},
		{16, 50000, 22, true}, // a lone ACK is never logged: ports decide
		{0, 22, 50000, false},
	} {
		r := &ingest.FlowRecord{Protocol: protoTCP, TCPFlags: c.flags, SrcPort: c.srcPort, DstPort: c.dstPort}
		if got := senderOpened(r); got != c.want {
			t.Errorf("flags %d, %d → %d: sender opened %v, want %v", c.flags, c.srcPort, c.dstPort, got, c.want)
		}
	}
}
