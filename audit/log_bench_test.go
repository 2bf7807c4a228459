package audit

import (
	"testing"
	"time"
)

// BenchmarkWrite measures Write: a read-only record (buffered), and a
// state-changing one (waits for its fsync) from one writer and from many
// at once, where group commit shares the fsyncs. ns/op of the durable
// cases is the disk's fsync latency divided by the batch size.
func BenchmarkWrite(b *testing.B) {
	rec := testRecord("ArchiveFindings", "111122223333", false, time.Now())
	read := testRecord("GetFindings", "111122223333", true, time.Now())
	run := func(b *testing.B, r *Record, parallel bool) {
		l, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		b.ReportAllocs()
		if !parallel {
			for b.Loop() {
				// A read-only record past MaxPending is dropped: the
				// disk's pace, not Write's, then limits.
				if err := l.Write(r); err != nil && err != ErrDropped {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(l.Dropped())/float64(b.N), "dropped/op")
			return
		}
		b.SetParallelism(16) // 16 × GOMAXPROCS writers: requests in flight
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Write(r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("read-only", func(b *testing.B) { run(b, read, false) })
	b.Run("durable/1-writer", func(b *testing.B) { run(b, rec, false) })
	b.Run("durable/32-writers", func(b *testing.B) { run(b, rec, true) })
}
