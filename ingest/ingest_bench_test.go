package ingest

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/guardpost/guardpost/internal/findinggen"
)

// BenchmarkFindings reads an import body as the import endpoint does:
// 1,000 generated findings as JSON lines, gzipped or not, split into
// records, each decoded and checked against the model (Open, then
// Findings). ns/finding is per record.
func BenchmarkFindings(b *testing.B) {
	const n = 1000
	gen := findinggen.New(1)
	var plain bytes.Buffer
	for range n {
		rec, err := gen.Next()
		if err != nil {
			b.Fatal(err)
		}
		plain.Write(rec)
		plain.WriteByte('\n')
	}
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestSpeed) // as guardpost ingest sends
	zw.Write(plain.Bytes())
	zw.Close()

	for _, c := range []struct {
		name string
		body []byte
	}{{"jsonl", plain.Bytes()}, {"jsonl.gz", zipped.Bytes()}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(plain.Len()))
			b.ReportAllocs()
			for b.Loop() {
				content, err := Open(bytes.NewReader(c.body), false, 1<<30)
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for _, err := range Findings(content) {
					if err != nil {
						b.Fatal(err)
					}
					got++
				}
				if got != n {
					b.Fatalf("%d findings, want %d", got, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/finding")
		})
	}
}
