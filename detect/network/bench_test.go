package network_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/detect/network"
	"github.com/guardpost/guardpost/ingest"
)

// vpcPool is a pool of flow records of a VPC of 200 instances: web
// servers answering 50,000 clients, clients of 2,000 public services,
// traffic between tiers, the resolver. The benchmark cycles through it,
// moving each cycle later in time, so a stream of any length costs the
// pool's memory only.
func vpcPool(n int) []ingest.FlowRecord {
	rng := rand.New(rand.NewPCG(7, 9))
	type host struct {
		eni, inst string
		ip        netip.Addr
	}
	hosts := make([]host, 200)
	for i := range hosts {
		hosts[i] = host{fmt.Sprintf("eni-%017x", 0xa000+i), fmt.Sprintf("i-%017x", 0xa000+i), netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(1 + i%250)})}
	}
	out := make([]ingest.FlowRecord, 0, n)
	for len(out) < n {
		h := hosts[rng.IntN(len(hosts))]
		at := t0 + int64(len(out))*3600/int64(n) // the pool spans an hour
		rec := func(src netip.Addr, sport uint16, dst netip.Addr, dport uint16, proto int16, packets, bytes int64) ingest.FlowRecord {
			return ingest.FlowRecord{Version: 3, AccountID: account, InterfaceID: h.eni, InstanceID: h.inst, VPCID: "vpc-0b1", SubnetID: "subnet-0b1",
				SrcAddr: src, DstAddr: dst, SrcPort: sport, DstPort: dport, Protocol: proto, Packets: packets, Bytes: bytes,
				Start: at, End: at + 60, Action: ingest.FlowActionAccept, Size: 150}
		}
		eph := uint16(32768 + rng.IntN(28000))
		var a, b ingest.FlowRecord
		switch k := rng.IntN(10); {
		case k < 4: // a client of a web server
			c := rng.IntN(50000)
			client := netip.AddrFrom4([4]byte{198, 18, byte(c / 250), byte(1 + c%250)})
			a, b = rec(client, eph, h.ip, 443, 6, 10, 1200), rec(h.ip, 443, client, eph, 6, 12, 30000)
		case k < 7: // the instance calls a public service
			s := rng.IntN(2000)
			svcIP := netip.AddrFrom4([4]byte{198, 19, byte(s / 250), byte(1 + s%250)})
			a, b = rec(h.ip, eph, svcIP, 443, 6, 20, 3000), rec(svcIP, 443, h.ip, eph, 6, 25, 40000)
		case k < 9: // between tiers
			peer := hosts[rng.IntN(len(hosts))].ip
			a, b = rec(h.ip, eph, peer, 5432, 6, 8, 900), rec(peer, 5432, h.ip, eph, 6, 8, 4000)
		default: // the resolver
			resolver := netip.AddrFrom4([4]byte{10, 1, 0, 2})
			a, b = rec(h.ip, eph, resolver, 53, 17, 1, 70), rec(resolver, 53, h.ip, eph, 17, 1, 150)
		}
		out = append(out, a, b)
	}
	return out[:n]
}

// BenchmarkEngine: flow records per second through the engine (routing,
// every rule, state, the finish that writes findings and state), one
// ingest of 1,000,000 records in batches of 4,096 per op; heapMiB is the
// heap in use after the last op and stateMiB the encoded state.
//
//	go test ./detect/network -run '^$' -bench 'Engine$' -benchtime 3x -benchmem
func BenchmarkEngine(b *testing.B) { benchEngine(b, 1_000_000) }

// BenchmarkEngine10M: the same over 10,000,000 records (a day and more of
// the VPC's traffic), to show memory stays bounded as the stream grows.
//
//	go test ./detect/network -run '^$' -bench 'Engine10M' -benchtime 1x -benchmem
func BenchmarkEngine10M(b *testing.B) { benchEngine(b, 10_000_000) }

func benchEngine(b *testing.B, total int) {
	const batch = 4096
	e := newEnv(b, network.Options{})
	stateBytes := 0
	e.engine = network.NewEngine(e.svc, e.managed, network.Options{LoadState: e.states.load,
		Write: func(ctx context.Context, svc *guardpost.Service, out []detect.Findings, rep *detect.Report) error {
			stateBytes = len(out[0].State[network.StateName])
			return e.states.write(ctx, svc, out, rep)
		}})
	pool := vpcPool(1 << 16)
	buf := make([]ingest.FlowRecord, batch)
	ctx := context.Background()
	b.ResetTimer()
	cycle := int64(0)
	for i := 0; i < b.N; i++ {
		a := e.engine.Begin(e.scope(), e.now)
		for done := 0; done < total; done += batch {
			n := min(batch, total-done)
			for j := 0; j < n; j++ {
				k := (done + j) % len(pool)
				if k == 0 {
					cycle++
				}
				buf[j] = pool[k]
				buf[j].Start += cycle * 3600
				buf[j].End += cycle * 3600
			}
			if err := a.Add(ctx, buf[:n]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := a.Finish(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heapMiB")
	b.ReportMetric(float64(stateBytes)/(1<<20), "stateMiB")
}
