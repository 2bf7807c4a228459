package network

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/ingest"
)

// TestStateRoundTrip: the state encodes canonically (the same state, the
// same bytes), decodes to a state that encodes to those bytes again, and
// a state this version cannot read is refused, not half-loaded.
func TestStateRoundTrip(t *testing.T) {
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	d := newDetState(scope, "det")
	e := &Engine{th: DefaultThresholds(), opts: Options{MaxTrackers: 1000}}
	a := &Analysis{e: e, occs: map[occKey]*occurrence{}}
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC).Unix()
	local := netip.MustParseAddr("10.0.1.5")
	for i := 0; i < 200; i++ {
		remote := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		for _, r := range []ingest.FlowRecord{
			{AccountID: scope.AccountID, InterfaceID: "eni-1", InstanceID: "i-1", SrcAddr: local, DstAddr: remote, SrcPort: 40000, DstPort: uint16(1 + i%60),
				Protocol: 6, Packets: 1, Bytes: 44, Start: t0 + int64(i), End: t0 + int64(i) + 60, Action: ingest.FlowActionAccept},
			{AccountID: scope.AccountID, InterfaceID: "eni-2", InstanceID: "i-2", SrcAddr: remote, DstAddr: local, SrcPort: uint16(50000 + i), DstPort: 22,
				Protocol: 6, Packets: 20, Bytes: 3000, Start: t0 + int64(i), End: t0 + int64(i) + 60, Action: ingest.FlowActionReject},
			{AccountID: scope.AccountID, InterfaceID: "eni-1", InstanceID: "i-1", SrcAddr: local, DstAddr: remote, SrcPort: 40001, DstPort: 443,
				Protocol: 6, Packets: 5000, Bytes: 7_000_000, Start: t0 + int64(i), End: t0 + int64(i) + 60, Action: ingest.FlowActionAccept},
		} {
			a.classified(d, r)
		}
	}
	b1, err := d.encode()
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := d.encode()
	if !bytes.Equal(b1, b2) {
		t.Fatal("two encodings of one state differ")
	}
	back := newDetState(scope, "det")
	if err := back.decode(b1); err != nil {
		t.Fatal(err)
	}
	b3, _ := back.encode()
	if !bytes.Equal(b1, b3) {
		t.Fatal("the decoded state encodes differently")
	}
	if back.nwin != d.nwin || back.nwin == 0 || len(back.ifaces) != 2 {
		t.Fatalf("windows %d (was %d), interfaces %d", back.nwin, d.nwin, len(back.ifaces))
	}
	if err := newDetState(scope, "det").decode(b1[:len(b1)/2]); err == nil {
		t.Fatal("a truncated state decoded")
	}
	// The engine drops an unreadable state and starts afresh rather than
	// failing every ingest.
	e2 := NewEngine(&guardpost.Service{}, nil, Options{LoadState: func(context.Context, guardpost.Scope, string) ([]byte, error) {
		return []byte("not a state"), nil
	}})
	an := e2.Begin(scope, time.Now())
	an.lock()
	st, err := an.detector(context.Background(), scope, "det")
	if err != nil || len(st.ifaces) != 0 || st.durable != nil {
		t.Fatalf("state %+v, %v", st, err)
	}
	an.Abort()
}

// classified runs one record with every address unlisted (the test has
// no service to ask).
func (a *Analysis) classified(d *detState, r ingest.FlowRecord) {
	d.class[toIP4(r.SrcAddr)] = class{bits: cKnown}
	d.class[toIP4(r.DstAddr)] = class{bits: cKnown}
	a.record(d, &r)
}
