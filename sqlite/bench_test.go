package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"
	"github.com/guardpost/guardpost/internal/cputime"
)

var (
	benchScope = guardpost.Scope{AccountID: "123456789012", Region: "us-east-1"}
	benchVis   = guardpost.NewVisibility(benchScope, guardpost.DetectorRef{AccountID: benchScope.AccountID, DetectorID: benchDetector})
)

const benchDetector = "12abc34d567e8fa901bc2d34e56789f0"

// benchFinding builds a realistic finding document (about 1.5 KB): severity
// from a handful of values (long runs of equal keys), distinct update
// times, a country from a small set and a remote port absent from a third
// of the findings.
func benchFinding(b testing.TB, r *rand.Rand, id string) *guardpost.Finding {
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(90 * 24 * time.Hour)))).Truncate(time.Millisecond)
	countries := []string{"Brazil", "Chile", "China", "France", "Germany", "India", "Netherlands", "Russia", "United States", "Viet Nam"}
	conn := map[string]any{
		"connectionDirection": "INBOUND",
		"blocked":             r.IntN(2) == 0,
		"protocol":            []string{"TCP", "UDP"}[r.IntN(2)],
		"localPortDetails":    map[string]any{"port": []int{22, 80, 443, 3389}[r.IntN(4)], "portName": "SSH"},
		"remoteIpDetails": map[string]any{
			"ipAddressV4":  fmt.Sprintf("198.51.%d.%d", r.IntN(256), r.IntN(256)),
			"country":      map[string]any{"countryName": countries[r.IntN(len(countries))]},
			"city":         map[string]any{"cityName": "Somewhere"},
			"organization": map[string]any{"asn": "64496", "asnOrg": "EXAMPLE-AS", "isp": "Example ISP", "org": "Example Org"},
			"geoLocation":  map[string]any{"lat": 1.5, "lon": -3.25},
		},
	}
	if r.IntN(3) > 0 {
		conn["remotePortDetails"] = map[string]any{"port": 1024 + r.IntN(60000), "portName": "Unknown"}
	}
	doc := map[string]any{
		"schemaVersion": "2.0", "accountId": benchScope.AccountID, "region": benchScope.Region, "partition": "aws",
		"id": id, "arn": "arn:aws:guardduty:us-east-1:123456789012:detector/" + benchDetector + "/finding/" + id,
		"type":     "Recon:EC2/PortProbeUnprotectedPort",
		"severity": []float64{2, 5, 8}[r.IntN(3)], "confidence": 5,
		"title":       "Unprotected port on EC2 instance i-99999999 is being probed.",
		"description": "EC2 instance has an unprotected port which is being probed by a known malicious host.",
		"createdAt":   guardpost.ISOTime(t), "updatedAt": guardpost.ISOTime(t),
		"resource": map[string]any{
			"resourceType": "Instance",
			"instanceDetails": map[string]any{
				"instanceId": fmt.Sprintf("i-%017x", r.Int64N(1<<40)), "instanceType": "m5.large", "instanceState": "running",
				"availabilityZone": "us-east-1a", "imageId": "ami-99999999",
				"networkInterfaces": []any{map[string]any{"privateIpAddress": "10.0.0.1", "subnetId": "subnet-99999999", "vpcId": "vpc-99999999"}},
			},
		},
		"service": map[string]any{
			"serviceName": "guardduty", "detectorId": benchDetector, "archived": false, "count": 1,
			"eventFirstSeen": guardpost.ISOTime(t), "eventLastSeen": guardpost.ISOTime(t),
			"action": map[string]any{"actionType": "NETWORK_CONNECTION", "networkConnectionAction": conn},
		},
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	f, err := guardpost.ParseFinding(raw)
	if err != nil {
		b.Fatal(err)
	}
	f.AggregationKey = id
	return f
}

func benchDB(b testing.TB) *DB {
	db := openTemp(b)
	b.Cleanup(func() { db.Close() })
	d := &guardpost.Detector{ID: benchDetector, AccountID: benchScope.AccountID, Region: benchScope.Region,
		Status: guardpost.DetectorEnabled, FindingPublishingFrequency: "SIX_HOURS", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.InsertDetector(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	return db
}

// mergeBench writes findings into the bench detector, the incoming finding
// winning every merge.
func mergeBench(ctx context.Context, db *DB, fs []*guardpost.Finding) error {
	_, err := db.MergeFindings(ctx, benchScope, benchDetector, fs, func([]*guardpost.Filter) guardpost.MergeFunc { return keepIncoming })
	return err
}

func keepIncoming(stored, incoming *guardpost.Finding) (*guardpost.Finding, error) {
	if stored == nil {
		return incoming, nil
	}
	f := *incoming
	f.ID = stored.ID
	return &f, nil
}

// BenchmarkMergeFindings measures write transactions (each one fsynced):
// one new finding per call, one occurrence merged into a stored finding per
// call, and 100 new findings per call.
func BenchmarkMergeFindings(b *testing.B) {
	ctx := context.Background()
	b.Run("insert-1", func(b *testing.B) {
		db, r := benchDB(b), rand.New(rand.NewPCG(1, 2))
		fs := make([]*guardpost.Finding, b.N)
		for i := range fs {
			fs[i] = benchFinding(b, r, fmt.Sprintf("%032x", i))
		}
		b.ResetTimer()
		for i := range b.N {
			if err := mergeBench(ctx, db, fs[i:i+1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aggregate-1", func(b *testing.B) {
		db, r := benchDB(b), rand.New(rand.NewPCG(1, 2))
		var seed []*guardpost.Finding
		for i := range 1000 {
			seed = append(seed, benchFinding(b, r, fmt.Sprintf("%032x", i)))
		}
		if err := mergeBench(ctx, db, seed); err != nil {
			b.Fatal(err)
		}
		fs := make([]*guardpost.Finding, b.N)
		for i := range fs {
			fs[i] = benchFinding(b, r, fmt.Sprintf("new%029x", i))
			fs[i].AggregationKey = seed[i%len(seed)].AggregationKey
		}
		b.ResetTimer()
		for i := range b.N {
			if err := mergeBench(ctx, db, fs[i:i+1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("insert-100", func(b *testing.B) {
		db, r := benchDB(b), rand.New(rand.NewPCG(1, 2))
		fs := make([]*guardpost.Finding, 100*b.N)
		for i := range fs {
			fs[i] = benchFinding(b, r, fmt.Sprintf("%032x", i))
		}
		b.ResetTimer()
		for i := range b.N {
			if err := mergeBench(ctx, db, fs[100*i:100*i+100]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(fs)), "ns/finding")
	})
}

// BenchmarkImportFindings is an import's write: 2,000 new findings per
// call (guardpost ingest's batch) into a detector that already holds
// 100,000. Reported per finding: wall and CPU time (the encoding runs on
// every core before the transaction), and allocations. Run with
// -benchtime=20x or so: setting up the 100,000 takes a while.
func BenchmarkImportFindings(b *testing.B) {
	const held, batch = 100_000, 2_000
	ctx := context.Background()
	db, r := benchDB(b), rand.New(rand.NewPCG(7, 8))
	// Ids are random, as imported GuardDuty ids are: each lands anywhere
	// in the key's index.
	newID := func() string { return fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()) }
	for i := 0; i < held; i += batch {
		fs := make([]*guardpost.Finding, batch)
		for j := range fs {
			fs[j] = benchFinding(b, r, newID())
			fs[j].AggregationKey = ""
		}
		if err := mergeBench(ctx, db, fs); err != nil {
			b.Fatal(err)
		}
	}
	fs := make([]*guardpost.Finding, batch*b.N)
	for i := range fs {
		fs[i] = benchFinding(b, r, newID())
		fs[i].AggregationKey = ""
	}
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	cpu0, written0 := cputime.Process(), bytesWritten()
	for i := range b.N {
		if err := mergeBench(ctx, db, fs[batch*i:batch*i+batch]); err != nil {
			b.Fatal(err)
		}
	}
	cpu, written := cputime.Process()-cpu0, bytesWritten()-written0
	b.StopTimer()
	if written0 >= 0 {
		// The WAL's frames and the checkpoints' copies: what the disk
		// gets per finding.
		b.ReportMetric(float64(written)/float64(len(fs)), "written-bytes/finding")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(fs)), "ns/finding")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(len(fs)), "cpu-ns/finding")
	var size int64
	if err := db.write.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/float64(held+len(fs)), "db-bytes/finding")
}

// bytesWritten is what the process has handed to write system calls so
// far (wchar of /proc/self/io), or -1 where the system does not say.
func bytesWritten() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// BenchmarkListFindingsSorted reads pages of 50 cursors at scattered
// positions of a 10,000-finding detector, per sort attribute and direction.
// BenchmarkUpdateFindings archives 10 findings of 1000 per call, the way
// ArchiveFindings does: decode, flip service.archived, re-parse, rewrite.
func BenchmarkUpdateFindings(b *testing.B) {
	ctx := context.Background()
	db, r := benchDB(b), rand.New(rand.NewPCG(1, 2))
	var seed []*guardpost.Finding
	var ids []string
	for i := range 1000 {
		f := benchFinding(b, r, fmt.Sprintf("%032x", i))
		seed, ids = append(seed, f), append(ids, f.ID)
	}
	if err := mergeBench(ctx, db, seed); err != nil {
		b.Fatal(err)
	}
	flip := func(f *guardpost.Finding) (*guardpost.Finding, error) {
		var doc map[string]any
		if err := json.Unmarshal(f.Document, &doc); err != nil {
			return nil, err
		}
		svc := doc["service"].(map[string]any)
		archived, _ := svc["archived"].(bool)
		svc["archived"] = !archived
		out, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		g, err := guardpost.ParseFinding(out)
		if err != nil {
			return nil, err
		}
		g.AggregationKey = f.AggregationKey
		return g, nil
	}
	b.ResetTimer()
	for i := range b.N {
		at := (i * 10) % len(ids)
		if _, err := db.UpdateFindings(ctx, benchVis, ids[at:at+10], flip); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(10*b.N), "ns/finding")
}

func BenchmarkListFindingsSorted(b *testing.B) {
	const n, page = 10_000, 50
	ctx := context.Background()
	db, r := benchDB(b), rand.New(rand.NewPCG(3, 4))
	for i := 0; i < n; i += 1000 {
		var fs []*guardpost.Finding
		for j := i; j < i+1000; j++ {
			fs = append(fs, benchFinding(b, r, fmt.Sprintf("%032x", r.Uint64())))
		}
		if err := mergeBench(ctx, db, fs); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{"", "severity", "updatedAt", "service.action.networkConnectionAction.remoteIpDetails.country.countryName", "service.action.networkConnectionAction.remotePortDetails.port"} {
		for _, desc := range []bool{false, true} {
			if name == "" && desc {
				continue
			}
			var sort *guardpost.SortCriteria
			label := "id"
			if name != "" {
				sort = &guardpost.SortCriteria{Attribute: guardpost.SortAttributeIndex(name), Descending: desc}
				label = fmt.Sprintf("%s-desc=%t", guardpost.SortAttributes[sort.Attribute].Name, desc)
			}
			all, err := db.ListFindings(ctx, benchVis, guardpost.FindingQuery{Sort: sort})
			if err != nil || len(all) != n {
				b.Fatalf("full listing: %d, %v", len(all), err)
			}
			b.Run(label, func(b *testing.B) {
				for i := range b.N {
					q := guardpost.FindingQuery{Sort: sort, Limit: page}
					if pos := (i * 997) % n; pos > 0 {
						q.After = &all[pos-1]
					}
					curs, err := db.ListFindings(ctx, benchVis, q)
					if err != nil || len(curs) == 0 {
						b.Fatal(len(curs), err)
					}
				}
			})
		}
	}
}

// BenchmarkListFindingsCriteria measures a first page of 50 ids over 10k
// findings with a criterion answered from the in-memory index.
func BenchmarkListFindingsCriteria(b *testing.B) {
	const n = 10_000
	ctx := context.Background()
	db, r := benchDB(b), rand.New(rand.NewPCG(5, 6))
	for i := 0; i < n; i += 1000 {
		var fs []*guardpost.Finding
		for j := i; j < i+1000; j++ {
			fs = append(fs, benchFinding(b, r, fmt.Sprintf("%032x", r.Uint64())))
		}
		if err := mergeBench(ctx, db, fs); err != nil {
			b.Fatal(err)
		}
	}
	seven := int64(7)
	for name, c := range map[string]guardpost.Criteria{
		"severity-gte-7": {"severity": {GreaterThanOrEqual: &seven}},
		"archived-false": {"service.archived": {Equals: []string{"false"}}},
	} {
		where, err := guardpost.CompileCriteria(c)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				curs, err := db.ListFindings(ctx, benchVis, guardpost.FindingQuery{Where: where, Limit: 50})
				if err != nil || len(curs) == 0 {
					b.Fatal(len(curs), err)
				}
			}
		})
	}
}

// BenchmarkLoadIndexes builds every detector's index of a copy of an
// existing database, as a start-up does; run by hand:
//
//	GUARDPOST_BENCH_DB=/path/guardpost.db go test -run '^$' -bench LoadIndexes ./sqlite
func BenchmarkLoadIndexes(b *testing.B) {
	src := os.Getenv("GUARDPOST_BENCH_DB")
	if src == "" {
		b.Skip("GUARDPOST_BENCH_DB names no database")
	}
	dir := b.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(src + suffix)
		if err != nil && suffix == "" {
			b.Fatal(err)
		}
		if err == nil {
			os.WriteFile(filepath.Join(dir, "guardpost.db"+suffix), data, 0o600)
		}
	}
	for b.Loop() {
		db, err := Open(filepath.Join(dir, "guardpost.db"))
		if err != nil {
			b.Fatal(err)
		}
		db.LoadIndexes()
		for !db.Ready() {
			time.Sleep(time.Millisecond)
		}
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heapMiB")
		for _, x := range db.indexes.m {
			for _, f := range x.Footprint()[:20] {
				b.Logf("%-70s values %8d shared %7d run %6.1f MB delta %5.1f MB bitmaps %5.1f MB", f.Name, f.Values, f.Shared,
					float64(f.RunBytes)/1e6, float64(f.DeltaBytes)/1e6, float64(f.BitmapBytes)/1e6)
			}
		}
		db.Close()
	}
}

// BenchmarkEncodeFinding is the compression of one finding's record and
// document that every write does before its transaction (encodeAll).
func BenchmarkEncodeFinding(b *testing.B) {
	codec, err := findingrec.Default()
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	fs := make([]*guardpost.Finding, 256)
	for i := range fs {
		fs[i] = benchFinding(b, r, fmt.Sprintf("%032x", i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := encodeFinding(codec, fs[i%len(fs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
