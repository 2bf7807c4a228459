package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/cputime"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// discardStore is a store whose finding writes only count: what an
// import costs before the store.
type discardStore struct {
	guardpost.Store
	written int
}

func (s *discardStore) Detectors(ctx context.Context, scope guardpost.Scope, after string, limit int) ([]*guardpost.Detector, error) {
	return []*guardpost.Detector{{ID: "0123456789abcdef0123456789abcdef", AccountID: scope.AccountID, Region: scope.Region}}, nil
}

func (s *discardStore) MergeFindings(ctx context.Context, scope guardpost.Scope, detectorID string, findings []*guardpost.Finding, newMerge func([]*guardpost.Filter) guardpost.MergeFunc) ([]guardpost.FindingChange, error) {
	merge := newMerge(nil)
	out := make([]guardpost.FindingChange, len(findings))
	for i, f := range findings {
		if _, err := merge(nil, f); err != nil {
			return nil, err
		}
		out[i] = guardpost.FindingChange{FindingID: f.ID, Change: guardpost.ChangeCreated}
	}
	s.written += len(findings)
	return out, nil
}

// Invitations: the writer is no member of any administrator, so no
// administrator's suppression rules apply (Service.WriteFindings asks).
func (s *discardStore) Invitations(context.Context, guardpost.Scope, string, int) ([]*guardpost.Membership, error) {
	return nil, nil
}

// genBody returns n generated findings as JSON lines and gzipped.
func genBody(b *testing.B, n int) (plain, zipped []byte) {
	gen := findinggen.New(1)
	var buf bytes.Buffer
	for range n {
		rec, err := gen.Next()
		if err != nil {
			b.Fatal(err)
		}
		buf.Write(rec)
		buf.WriteByte('\n')
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed) // as guardpost ingest sends
	zw.Write(buf.Bytes())
	zw.Close()
	return buf.Bytes(), z.Bytes()
}

// BenchmarkImport is the import endpoint's work before the store: a body
// of 2,000 generated findings (guardpost ingest's batch) opened, split,
// decoded, checked, made the caller's and turned into stored findings,
// which a store that discards them receives. ns/finding is per record, in
// wall time: "workers=1" is one core's cost, the others use GOMAXPROCS
// workers (Import). "ImportFindings" is the sequential path of Findings
// and Service.ImportFindings.
func BenchmarkImport(b *testing.B) {
	const n = 2000
	plain, zipped := genBody(b, n)
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		body []byte
		run  func(svc *guardpost.Service, r io.Reader) (guardpost.ImportReport, error)
	}{
		{"jsonl", plain, func(svc *guardpost.Service, r io.Reader) (guardpost.ImportReport, error) {
			return Import(ctx, svc, scope, r)
		}},
		{"jsonl.gz", zipped, func(svc *guardpost.Service, r io.Reader) (guardpost.ImportReport, error) {
			return Import(ctx, svc, scope, r)
		}},
		{"jsonl.gz/workers=1", zipped, func(svc *guardpost.Service, r io.Reader) (guardpost.ImportReport, error) {
			im, err := svc.NewImport(ctx, scope)
			if err != nil {
				return guardpost.ImportReport{}, err
			}
			fs, err := prepareAll(ctx, im, r, 1)
			if err != nil {
				return guardpost.ImportReport{}, err
			}
			return im.Write(ctx, fs)
		}},
		{"jsonl.gz/ImportFindings", zipped, func(svc *guardpost.Service, r io.Reader) (guardpost.ImportReport, error) {
			return svc.ImportFindings(ctx, scope, Findings(r))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			store := &discardStore{}
			svc := &guardpost.Service{Store: store}
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				content, err := Open(bytes.NewReader(c.body), false, 1<<30)
				if err != nil {
					b.Fatal(err)
				}
				rep, err := c.run(svc, content)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Records != n {
					b.Fatalf("%d findings, want %d", rep.Records, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/finding")
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/finding")
		})
	}
}
