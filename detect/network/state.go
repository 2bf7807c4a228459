package network

import (
	"bytes"
	"encoding/gob"
	"net/netip"
	"sort"
	"time"

	"github.com/guardpost/guardpost"
)

// Bounds of one interface's baseline.
const (
	maxOwn         = 8     // addresses of the interface
	maxPorts       = 256   // remote ports it has used
	maxVolume      = 4096  // remote hosts whose bytes one volume window counts
	maxIfaceTracks = 65536 // windows of one interface (a NAT instance's fan-out)
	smallItems     = 4     // a window's items held inline before a map
	lateness       = 3600  // seconds a record may arrive late and still meet its window
	ifaceRetain    = 30 * 24 * 3600
	classCacheCap  = 1 << 16
)

// detState is one detector's detection state.
type detState struct {
	scope      guardpost.Scope
	detectorID string
	ifaces     map[ifaceKey]*iface
	last       *iface // the interface of the previous record: records come in runs
	nwin       int    // windows open, over every interface
	watermark  int64  // the latest record start seen
	// durable is the encoded state of the last finished ingest (nil: none),
	// which Abort returns to.
	durable []byte
	gen     uint64
	// sizeAtExpire is the number of windows after the last expiry: the
	// next runs when they have doubled.
	sizeAtExpire int
	// class caches what the threat intelligence says of remote addresses
	// for one analysis (lists may change between analyses).
	class map[ip4]class
}

// ip4 is an IPv4 address as a number: the key of windows, volumes and
// the intelligence cache (flow findings are IPv4 only), hashed and
// compared as one word.
type ip4 uint32

func toIP4(a netip.Addr) ip4 {
	b := a.Unmap().As4()
	return ip4(b[0])<<24 | ip4(b[1])<<16 | ip4(b[2])<<8 | ip4(b[3])
}

func (x ip4) addr() netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

func newDetState(scope guardpost.Scope, detectorID string) *detState {
	return &detState{scope: scope, detectorID: detectorID, ifaces: map[ifaceKey]*iface{},
		class: map[ip4]class{}}
}

func (d *detState) resetCaches() {
	clear(d.class)
	for _, i := range d.ifaces {
		i.resolved = false
	}
}

// iface is one network interface: its own addresses and the instance's
// baseline.
type iface struct {
	eni, account string
	instance     string // resolved for the current analysis
	resolved     bool
	vpc, subnet  string
	own          []ip4
	pending      [2]ip4 // the pair of a record whose side is unknown
	hasPending   bool
	firstSeen    int64 // the baseline learns from here
	lastSeen     int64
	ntracks      int // windows open (tracks and floods)
	// The interface's windows, by wkey.
	tracks    map[uint64]*tracker
	floods    map[uint64]*flood
	ports     map[portProto]int64 // remote ports used (opened by the instance), by first use
	volWindow int64               // the current volume window (start / window)
	vol       map[ip4]volume
	volMax    int64 // the largest bytes to one host in a finished window of the baseline
}

type portProto struct {
	Port  uint16
	Proto int16
}

type volume struct {
	Bytes int64
	Fired bool
}

func (i *iface) owns(a ip4) bool {
	for _, o := range i.own {
		if o == a {
			return true
		}
	}
	return false
}

func (i *iface) learn(a ip4) {
	if !i.owns(a) && len(i.own) < maxOwn {
		i.own = append(i.own, a)
	}
}

// wkey names a window of an interface: the rule and what the rule
// counts within (a remote host, a remote port and protocol, a
// direction), packed in one word so that the lookup every record makes
// hashes and compares one word.
func wkey(rule int, addr ip4, port uint16, proto int16, out bool) uint64 {
	k := uint64(addr)<<32 | uint64(port)<<16 | uint64(uint8(proto))<<8 | uint64(rule)<<1
	if out {
		k |= 1
	}
	return k
}

// wkeyRule is the rule of a window key.
func wkeyRule(k uint64) int { return int(k>>1) & 0x7f }

// item is what a window counts distinct values of: a port or an address.
type item struct {
	a ip4
	p uint16
}

// tracker counts distinct items within a sliding window of event time.
// The first few items live inline, so that the many windows that never
// grow (one connection to a host) allocate nothing beyond themselves.
type tracker struct {
	n     int
	small [smallItems]item
	ts    [smallItems]int64
	items map[item]int64 // item → latest time seen, once past smallItems
	max   int64          // the latest time seen
	first flowLite       // the window's first record (evidence)
}

func (t *tracker) len() int {
	if t.items != nil {
		return len(t.items)
	}
	return t.n
}

// add counts it at time ts; it reports whether the window then holds
// threshold distinct items (and empties it: the next occurrence needs as
// many again), with the time the window's activity began.
func (t *tracker) add(it item, ts int64, r *flowLite, th *Threshold) (bool, int64) {
	window := int64(th.Window / time.Second)
	if t.len() > 0 && ts-t.max > window {
		t.reset()
	}
	if t.len() == 0 {
		t.first = *r
	}
	if ts > t.max {
		t.max = ts
	}
	if t.items == nil {
		found := false
		for k := 0; k < t.n; k++ {
			if t.small[k] == it {
				t.ts[k] = max(t.ts[k], ts)
				found = true
				break
			}
		}
		if !found {
			if t.n < smallItems {
				t.small[t.n], t.ts[t.n] = it, ts
				t.n++
			} else {
				t.items = make(map[item]int64, 2*smallItems)
				for k := 0; k < t.n; k++ {
					t.items[t.small[k]] = t.ts[k]
				}
				t.items[it] = ts
			}
		}
	} else if old, ok := t.items[it]; !ok || ts > old {
		t.items[it] = ts
	}
	if int64(t.len()) < th.Count {
		return false, 0
	}
	// Only a window about to fire pays for its expiry: items last seen
	// before the window leave, and the rest decide.
	since := t.max - window
	begin := t.max
	if t.items != nil {
		for k, v := range t.items {
			if v < since {
				delete(t.items, k)
			} else {
				begin = min(begin, v)
			}
		}
	} else {
		kept := 0
		for k := 0; k < t.n; k++ {
			if t.ts[k] >= since {
				t.small[kept], t.ts[kept] = t.small[k], t.ts[k]
				begin = min(begin, t.ts[k])
				kept++
			}
		}
		t.n = kept
	}
	if int64(t.len()) < th.Count {
		return false, 0
	}
	if t.first.Start >= since {
		begin = min(begin, t.first.Start)
	}
	t.reset()
	return true, begin
}

func (t *tracker) reset() {
	t.n = 0
	t.items = nil
}

// flood sums packets and bytes to one remote host in tumbling windows
// that start at the first record.
type flood struct {
	Start, Max     int64
	Packets, Bytes int64
	First          flowLite
}

// flowLite is a flow record as evidence keeps it: the interface and
// account come from the interface it belongs to.
type flowLite struct {
	Version          int8
	Src, Dst         ip4
	SrcPort, DstPort uint16
	Proto            int16
	Action           uint8
	Packets, Bytes   int64
	Start, End       int64
}

// class is what the intelligence says of one remote address.
type class struct {
	bits uint16
	list string // the custom threat list holding it
}

const (
	cTrusted uint16 = 1 << iota
	cCustom
	cTorExit
	cTorRelay
	cCrypto
	cC2
	cBlackhole
	cDropPoint
	cMalicious
	cScanner
	cKnown // the entry is filled
)

// expire drops what event time has left behind: windows whose last
// record is older than their window (plus lateness), interfaces unseen
// for 30 days. Expired state decides nothing a live window would not
// (a window prunes its stale items before deciding), so when expiry runs
// does not change the findings.
func (d *detState) expire(th Thresholds) {
	since := func(k uint64) int64 {
		return d.watermark - int64(Rules[wkeyRule(k)].Threshold(&th).Window/time.Second) - lateness
	}
	for id, i := range d.ifaces {
		if i.lastSeen < d.watermark-ifaceRetain {
			delete(d.ifaces, id)
			d.nwin -= i.ntracks
			d.last = nil
			continue
		}
		for k, t := range i.tracks {
			if t.max < since(k) {
				delete(i.tracks, k)
				i.ntracks--
				d.nwin--
			}
		}
		for k, f := range i.floods {
			if f.Max < since(k) {
				delete(i.floods, k)
				i.ntracks--
				d.nwin--
			}
		}
	}
	d.sizeAtExpire = d.nwin
}

// The serialised state: plain exported structs for encoding/gob, with
// interfaces named by their id.
type (
	stateSnap struct {
		Version   int
		Watermark int64
		Ifaces    []ifaceSnap
	}
	ifaceSnap struct {
		ENI, Account, VPC, Subnet string
		Own                       []ip4
		Pending                   [2]ip4
		HasPending                bool
		FirstSeen, LastSeen       int64
		Tracks                    []trackSnap
		Floods                    []floodSnap
		Ports                     []portSnap
		VolWindow, VolMax         int64
		Vol                       []volSnap
	}
	portSnap struct {
		P     portProto
		First int64
	}
	volSnap struct {
		Addr ip4
		V    volume
	}
	trackSnap struct {
		Key   uint64
		Items []itemSnap
		Max   int64
		First flowLite
	}
	itemSnap struct {
		A  ip4
		P  uint16
		TS int64
	}
	floodSnap struct {
		Key uint64
		F   flood
	}
)

const stateVersion = 2

// encode serialises the state in a canonical order (the same state gives
// the same bytes).
func (d *detState) encode() ([]byte, error) {
	s := stateSnap{Version: stateVersion, Watermark: d.watermark}
	ids := make([]ifaceKey, 0, len(d.ifaces))
	for id := range d.ifaces {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		return ids[a].account < ids[b].account || ids[a].account == ids[b].account && ids[a].eni < ids[b].eni
	})
	for _, id := range ids {
		i := d.ifaces[id]
		is := ifaceSnap{ENI: i.eni, Account: i.account, VPC: i.vpc, Subnet: i.subnet, Own: i.own, Pending: i.pending, HasPending: i.hasPending,
			FirstSeen: i.firstSeen, LastSeen: i.lastSeen, VolWindow: i.volWindow, VolMax: i.volMax}
		for p, first := range i.ports {
			is.Ports = append(is.Ports, portSnap{p, first})
		}
		sort.Slice(is.Ports, func(a, b int) bool {
			x, y := is.Ports[a].P, is.Ports[b].P
			return x.Proto < y.Proto || x.Proto == y.Proto && x.Port < y.Port
		})
		for a, v := range i.vol {
			is.Vol = append(is.Vol, volSnap{a, v})
		}
		sort.Slice(is.Vol, func(a, b int) bool { return is.Vol[a].Addr < is.Vol[b].Addr })
		for k, t := range i.tracks {
			ts := trackSnap{Key: k, Max: t.max, First: t.first}
			if t.items != nil {
				for it, at := range t.items {
					ts.Items = append(ts.Items, itemSnap{it.a, it.p, at})
				}
			} else {
				for n := 0; n < t.n; n++ {
					ts.Items = append(ts.Items, itemSnap{t.small[n].a, t.small[n].p, t.ts[n]})
				}
			}
			sort.Slice(ts.Items, func(a, b int) bool {
				x, y := ts.Items[a], ts.Items[b]
				return x.A < y.A || x.A == y.A && x.P < y.P
			})
			is.Tracks = append(is.Tracks, ts)
		}
		sort.Slice(is.Tracks, func(a, b int) bool { return is.Tracks[a].Key < is.Tracks[b].Key })
		for k, f := range i.floods {
			is.Floods = append(is.Floods, floodSnap{k, *f})
		}
		sort.Slice(is.Floods, func(a, b int) bool { return is.Floods[a].Key < is.Floods[b].Key })
		s.Ifaces = append(s.Ifaces, is)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decode loads a serialised state (nil or empty: nothing).
func (d *detState) decode(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var s stateSnap
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return err
	}
	if s.Version != stateVersion {
		return errStateVersion
	}
	d.watermark = s.Watermark
	for _, is := range s.Ifaces {
		i := &iface{eni: is.ENI, account: is.Account, vpc: is.VPC, subnet: is.Subnet, own: is.Own, pending: is.Pending, hasPending: is.HasPending,
			firstSeen: is.FirstSeen, lastSeen: is.LastSeen, volWindow: is.VolWindow, volMax: is.VolMax,
			ports: make(map[portProto]int64, len(is.Ports)), vol: make(map[ip4]volume, len(is.Vol)),
			tracks: make(map[uint64]*tracker, len(is.Tracks)), floods: make(map[uint64]*flood, len(is.Floods))}
		for _, p := range is.Ports {
			i.ports[p.P] = p.First
		}
		for _, v := range is.Vol {
			i.vol[v.Addr] = v.V
		}
		for _, ts := range is.Tracks {
			if wkeyRule(ts.Key) >= nRules || Rules[wkeyRule(ts.Key)].Threshold == nil {
				return errStateVersion
			}
			t := &tracker{max: ts.Max, first: ts.First}
			if len(ts.Items) > smallItems {
				t.items = make(map[item]int64, len(ts.Items))
				for _, it := range ts.Items {
					t.items[item{it.A, it.P}] = it.TS
				}
			} else {
				for _, it := range ts.Items {
					t.small[t.n], t.ts[t.n] = item{it.A, it.P}, it.TS
					t.n++
				}
			}
			i.tracks[ts.Key] = t
		}
		for _, fs := range is.Floods {
			if wkeyRule(fs.Key) >= nRules || Rules[wkeyRule(fs.Key)].Threshold == nil {
				return errStateVersion
			}
			f := fs.F
			i.floods[fs.Key] = &f
		}
		i.ntracks = len(i.tracks) + len(i.floods)
		d.nwin += i.ntracks
		d.ifaces[ifaceKey{i.account, i.eni}] = i
	}
	d.sizeAtExpire = d.nwin
	return nil
}

type stateError string

func (e stateError) Error() string { return string(e) }

const errStateVersion = stateError("network detection state of another version")

// ifaceKey names an interface: interface ids are unique within an
// account, and one detector may analyse several (an administrator's
// members).
type ifaceKey struct{ account, eni string }
