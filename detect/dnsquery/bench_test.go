package dnsquery

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/guardpost/guardpost/intel"
	"github.com/guardpost/guardpost/internal/cputime"
)

// BenchmarkAnalyse: ordinary queries through Begin, Add (batches of
// 1,000) and Finish, with managed intel loaded (every domain category
// holding entries) and the detector's threat lists consulted. One op is
// one query; allocs/op is per query (the router's per-batch slices
// amortised).
func BenchmarkAnalyse(b *testing.B) {
	svc, _ := newService(b)
	dir := b.TempDir()
	for _, c := range []string{"command-and-control", "cryptocurrency", "drop-point", "blackhole", "malicious-domain", "phishing", "dga", "malicious-ip"} {
		if err := os.WriteFile(filepath.Join(dir, c+".txt"), []byte("listed-"+c+".example\n203.0.113."+c[:1]+"\n198.51.100.7\n"), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	managed := intel.NewManaged()
	if _, err := managed.Load(dir); err != nil {
		b.Fatal(err)
	}
	e := New(svc, managed)
	records := benignQueries(100000, 4, testScope.AccountID, testScope.Region, start)
	ctx := context.Background()
	// Warm the detector's state and the router's lookups.
	a := e.Begin(testScope, start)
	if err := a.Add(ctx, records[:1000]); err != nil {
		b.Fatal(err)
	}
	if _, err := a.Finish(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for done := 0; done < b.N; {
		a := e.Begin(testScope, start)
		for chunk := range slices.Chunk(records, 1000) {
			if n := b.N - done; n < len(chunk) {
				chunk = chunk[:n]
			}
			if len(chunk) == 0 {
				break
			}
			if err := a.Add(ctx, chunk); err != nil {
				b.Fatal(err)
			}
			done += len(chunk)
		}
		if _, err := a.Finish(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	// CPU time of the process per query: on a shared machine the wall
	// time says as much about the neighbours as about the engine.
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/query")
}
