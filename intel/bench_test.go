package intel

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/guardpost/guardpost/internal/cputime"
)

// BenchmarkCIDRSet measures lookups in sets of 100k to 4M random IPv4
// entries (a mix of /32s and short prefixes, as in threat feeds) and
// reports the set's memory per entry.
func BenchmarkCIDRSet(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000, 4_000_000} {
		b.Run(fmt.Sprintf("ipv4/%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, uint64(n)))
			var bld CIDRBuilder
			for range n {
				var a [4]byte
				binary.BigEndian.PutUint32(a[:], r.Uint32())
				bits := 32
				if r.IntN(10) == 0 {
					bits = 16 + r.IntN(16)
				}
				bld.AddPrefix(netip.PrefixFrom(netip.AddrFrom4(a), bits))
			}
			set := bld.Build()
			probes := make([]netip.Addr, 4096)
			for i := range probes {
				var a [4]byte
				binary.BigEndian.PutUint32(a[:], r.Uint32())
				probes[i] = netip.AddrFrom4(a)
			}
			hits := 0
			cpu := cputime.Process()
			for i := 0; b.Loop(); i++ {
				if set.Contains(probes[i&4095]) {
					hits++
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
			runtime.KeepAlive(hits)
			b.ReportMetric(float64(set.Bytes())/float64(n), "bytes/entry")
		})
	}
	b.Run("ipv6/1000000", func(b *testing.B) {
		r := rand.New(rand.NewPCG(3, 4))
		var bld CIDRBuilder
		for range 1_000_000 {
			var a [16]byte
			binary.BigEndian.PutUint64(a[:8], r.Uint64())
			binary.BigEndian.PutUint64(a[8:], r.Uint64())
			bld.AddPrefix(netip.PrefixFrom(netip.AddrFrom16(a), 48+r.IntN(81)))
		}
		set := bld.Build()
		probes := make([]netip.Addr, 4096)
		for i := range probes {
			var a [16]byte
			binary.BigEndian.PutUint64(a[:8], r.Uint64())
			probes[i] = netip.AddrFrom16(a)
		}
		cpu := cputime.Process()
		for i := 0; b.Loop(); i++ {
			set.Contains(probes[i&4095])
		}
		b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(set.Bytes())/1e6, "bytes/entry")
	})
}

// BenchmarkDomainSet measures suffix lookups of four-label names in a set
// of a million domains, and the set's memory per entry as the Go heap
// grows when it is built.
func BenchmarkDomainSet(b *testing.B) {
	const n = 1_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var bld DomainBuilder
	for i := range n {
		bld.Add(fmt.Sprintf("host%07d.example%d.com", i, i%1000))
	}
	set := bld.Build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	probes := make([]string, 4096)
	for i := range probes {
		if i%2 == 0 {
			probes[i] = fmt.Sprintf("a.b.host%07d.example%d.com", i*97, (i*97)%1000)
		} else {
			probes[i] = fmt.Sprintf("a.b.miss%07d.example%d.com", i, i%1000)
		}
	}
	cpu := cputime.Process()
	for i := 0; b.Loop(); i++ {
		set.Contains(probes[i&4095])
	}
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/entry")
	runtime.KeepAlive(set)
}
