package index

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/cputime"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// benchSize is how many findings the benchmarks index: 100,000, or
// GUARDPOST_INDEX_BENCH_N (1000000 for the top size; building that
// corpus from the sample catalogue takes a few minutes).
func benchSize() int {
	if n, err := strconv.Atoi(os.Getenv("GUARDPOST_INDEX_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

var benchCorpus = sync.OnceValues(func() ([]*guardpost.Finding, *Index) {
	fs := corpus(nopTB{}, benchSize(), rand.New(rand.NewPCG(9, 10)))
	return fs, nil
})

// nopTB lets the corpus builder run outside a test.
type nopTB struct{ testing.TB }

func (nopTB) Helper()           {}
func (nopTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

func criterion(b *testing.B, name string, c guardpost.Condition) []guardpost.Criterion {
	where, err := guardpost.CompileCriteria(guardpost.Criteria{name: c})
	if err != nil {
		b.Fatal(err)
	}
	return where
}

// BenchmarkBuild indexes the corpus and reports the heap it takes.
func BenchmarkBuild(b *testing.B) {
	fs, _ := benchCorpus()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		x := build(fs)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(fs)), "heapB/finding")
		runtime.KeepAlive(x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(fs)), "ns/finding")
}

func BenchmarkQueries(b *testing.B) {
	fs, _ := benchCorpus()
	x := build(fs)
	i64 := func(v int64) *int64 { return &v }
	updatedAt := guardpost.SortAttributeIndex("updatedAt")
	inst := "i-00000007"
	for _, bc := range []struct {
		name string
		q    Query
	}{
		{"severity>=5,updatedAt-desc,50", Query{Where: criterion(b, "severity", guardpost.Condition{GreaterThanOrEqual: i64(5)}),
			Sort: &guardpost.SortCriteria{Attribute: updatedAt, Descending: true}, Limit: 50}},
		{"instanceId-equals,50", Query{Where: criterion(b, "resource.instanceDetails.instanceId", guardpost.Condition{Equals: []string{inst}}), Limit: 50}},
		{"type-matches-nothing,50", Query{Where: criterion(b, "type", guardpost.Condition{Matches: []string{"*Nothing*"}}), Limit: 50}},
		{"updatedAt-range,severity-desc,50", Query{Where: criterion(b, "updatedAt", guardpost.Condition{GreaterThan: i64(1767225600000 + 30*86400000)}),
			Sort: &guardpost.SortCriteria{Attribute: guardpost.SortAttributeIndex("severity"), Descending: true}, Limit: 50}},
		{"all,by-id,50", Query{Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			x.List(bc.q) // builds the order's permutation once
			for b.Loop() {
				x.List(bc.q)
			}
		})
		// The same, computing the criteria each time (as the first
		// query after a write does; the permutation stays).
		b.Run(bc.name+",cold", func(b *testing.B) {
			for b.Loop() {
				x.results.clear()
				x.List(bc.q)
			}
		})
	}
	// A write drops the cached permutations: the next long listing sorts
	// every finding again.
	for _, sortBy := range []string{"updatedAt", "type"} {
		b.Run("after-a-write,sorted-by-"+sortBy, func(b *testing.B) {
			q := Query{Sort: &guardpost.SortCriteria{Attribute: guardpost.SortAttributeIndex(sortBy), Descending: true}, Limit: 50}
			d := DocOf(fs[0])
			for b.Loop() {
				x.Put(d, fs[0].Attributes)
				x.List(q)
			}
		})
	}
	// An import's batch: 1,000 findings leave and come back as new ones.
	b.Run("after-a-batch-of-1000,sorted-by-updatedAt", func(b *testing.B) {
		q := Query{Sort: &guardpost.SortCriteria{Attribute: updatedAt, Descending: true}, Limit: 50}
		docs := make([]Doc, 1000)
		for i := range docs {
			docs[i] = DocOf(fs[i])
		}
		for b.Loop() {
			for i := range docs {
				x.Delete(fs[i].ID, fs[i].Attributes)
			}
			x.PutNew(docs)
			x.List(q)
		}
	})
	for _, g := range []guardpost.StatGroup{guardpost.StatCountBySeverity, guardpost.StatByFindingType} {
		b.Run("stats-"+string(g), func(b *testing.B) {
			for b.Loop() {
				x.Statistics(nil, g)
			}
		})
		b.Run("stats-"+string(g)+",cold", func(b *testing.B) {
			for b.Loop() {
				x.results.clear()
				x.Statistics(nil, g)
			}
		})
		b.Run("stats-"+string(g)+"-archived=false", func(b *testing.B) {
			where := criterion(b, "service.archived", guardpost.Condition{Equals: []string{"false"}})
			for b.Loop() {
				x.Statistics(where, g)
			}
		})
	}
}

// BenchmarkImportBatch puts batches of 100 findings the index has not
// seen into an index of the rest of the corpus, as an import does, and
// takes them out again (per finding: one PutNew share and one Delete).
func BenchmarkImportBatch(b *testing.B) {
	fs, _ := benchCorpus()
	keep := len(fs) - 10_000
	x := build(fs[:keep])
	batches := make([][]Doc, 0, 100)
	for start := keep; start < len(fs); start += 100 {
		var docs []Doc
		for _, f := range fs[start:min(start+100, len(fs))] {
			docs = append(docs, DocOf(f))
		}
		batches = append(batches, docs)
	}
	i := 0
	for b.Loop() {
		docs := batches[i%len(batches)]
		i++
		x.PutNew(docs)
		for k, d := range docs {
			x.Delete(d.ID, fs[keep+(i-1)%len(batches)*100+k].Attributes)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/finding")
}

// BenchmarkSnapshot writes the corpus's index to a snapshot and reads it
// back (in memory: the file system's cost is not the index's).
func BenchmarkSnapshot(b *testing.B) {
	fs, _ := benchCorpus()
	x := New()
	for i := 0; i < len(fs); i += 8192 {
		docs := make([]Doc, 0, 8192)
		for _, f := range fs[i:min(i+8192, len(fs))] {
			docs = append(docs, DocOf(f))
		}
		x.Load(docs)
	}
	x.Loaded()
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, x, nil); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			buf.Reset()
			if err := WriteSnapshot(&buf, x, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(data)))
		b.ReportMetric(float64(len(data))/float64(len(fs)), "B/finding")
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, err := ReadSnapshot(bytes.NewReader(data), int64(len(data)), nil); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(data)))
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(fs)), "ns/finding")
	})
}

// BenchmarkReadSnapshotFile reads a snapshot file a server wrote
// (GUARDPOST_SNAPSHOT_FILE; skipped without it), the stamp unchecked.
func BenchmarkReadSnapshotFile(b *testing.B) {
	path := os.Getenv("GUARDPOST_SNAPSHOT_FILE")
	if path == "" {
		b.Skip("GUARDPOST_SNAPSHOT_FILE names no snapshot")
	}
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		st, _ := f.Stat()
		x, err := ReadSnapshot(f, st.Size(), nil)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(x.Len()), "findings")
		b.SetBytes(st.Size())
	}
}

// writeBench is an index built from guardpost-gen's findings (the server's
// import benchmark corpus, which has more distinct values per finding than
// corpus), in its snapshot form, and further findings to write into it.
type writeBench struct {
	snapshot []byte
	base     int
	extra    []Doc // guardpost-gen --seed 77
}

var writeBenchData = sync.OnceValue(func() *writeBench {
	parse := func(g *findinggen.Generator) Doc {
		raw, err := g.Next()
		if err != nil {
			panic(err)
		}
		f, err := guardpost.ParseFinding(raw)
		if err != nil {
			panic(err)
		}
		return DocOf(f)
	}
	w := &writeBench{base: benchSize()}
	x := New()
	g := findinggen.New(1)
	for i := 0; i < w.base; i += 8192 {
		docs := make([]Doc, 0, 8192)
		for range min(8192, w.base-i) {
			docs = append(docs, parse(g))
		}
		x.Load(docs)
	}
	x.Loaded()
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, x, nil); err != nil {
		panic(err)
	}
	w.snapshot = buf.Bytes()
	g = findinggen.New(77)
	for range 40_000 {
		w.extra = append(w.extra, parse(g))
	}
	return w
})

// fresh reads the built index back, as a server's start does.
func (w *writeBench) fresh(b *testing.B) *Index {
	x, err := ReadSnapshot(bytes.NewReader(w.snapshot), int64(len(w.snapshot)), nil)
	if err != nil {
		b.Fatal(err)
	}
	return x
}

// BenchmarkPutNew writes new findings into a built index of
// GUARDPOST_INDEX_BENCH_N (100,000) guardpost-gen findings, as an import's
// requests of 2,000 do: "batch-of-2000" is one PutNew (the index is read
// back from its snapshot after every 20, timer stopped), "40000" the 20
// batches into a fresh index, reporting the live heap they added
// (heapB/finding) beside what they allocated.
func BenchmarkPutNew(b *testing.B) {
	w := writeBenchData()
	const batch = 2000
	b.Run(fmt.Sprintf("batch-of-%d,into-%d", batch, w.base), func(b *testing.B) {
		var x *Index
		i := 0
		var cpu time.Duration // the process's, collector included
		for b.Loop() {
			if i%(len(w.extra)/batch) == 0 {
				b.StopTimer()
				x = nil
				runtime.GC()
				x = w.fresh(b)
				b.StartTimer()
			}
			start := i % (len(w.extra) / batch) * batch
			c0 := cputime.Process()
			x.PutNew(w.extra[start : start+batch])
			cpu += cputime.Process() - c0
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/finding")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/finding")
	})
	b.Run(fmt.Sprintf("%d,into-%d", len(w.extra), w.base), func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			x := w.fresh(b)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.StartTimer()
			c0 := cputime.Process()
			for start := 0; start < len(w.extra); start += batch {
				x.PutNew(w.extra[start:min(start+batch, len(w.extra))])
			}
			cpu += cputime.Process() - c0
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(w.extra)), "heapB/finding")
			b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "heapMiB")
			runtime.KeepAlive(x)
			b.StartTimer()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(w.extra)), "ns/finding")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(w.extra)), "cpu-ns/finding")
	})
}
