package loggen

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/guardpost/guardpost/ingest"
)

// TestDeterministic: one seed, one output; another seed, another.
func TestDeterministic(t *testing.T) {
	sum := func(seed uint64) [32]byte {
		var b bytes.Buffer
		cfg := Config{Seed: seed, Flows: 5000, DNSQueries: 1000}
		if _, err := WriteFlowLogs(&b, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteDNSLogs(&b, cfg); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b.Bytes())
	}
	if sum(1) != sum(1) {
		t.Error("the same seed wrote different logs")
	}
	if sum(1) == sum(2) {
		t.Error("two seeds wrote the same logs")
	}
}

// TestTreeReadsBack: the tree's files are in AWS's layout, and every
// record reads back through the ingest readers, in the counts reported.
func TestTreeReadsBack(t *testing.T) {
	dir := t.TempDir()
	flows, dns, err := WriteTree(dir, Config{Seed: 7, Flows: 30_000, DNSQueries: 6_000, Files: 3})
	if err != nil {
		t.Fatal(err)
	}
	if flows.Files != 3 || flows.Records != 30_000 || flows.NoData == 0 || dns.Files != 3 || dns.Records != 6_000 {
		t.Fatalf("counts: flows %+v, dns %+v", flows, dns)
	}
	flowFiles, _ := filepath.Glob(filepath.Join(dir, "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/03/14/111122223333_vpcflowlogs_us-east-1_fl-*_20260314T*Z_*.log.gz"))
	dnsFiles, _ := filepath.Glob(filepath.Join(dir, "AWSLogs/111122223333/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/2026/03/14/vpc-0a1b2c3d4e5f60718_vpcdnsquerylogs_111122223333_20260314T*Z_*.log.gz"))
	if len(flowFiles) != 3 || len(dnsFiles) != 3 {
		t.Fatalf("files: %v %v", flowFiles, dnsFiles)
	}
	var nflows, nodata, withInstance, ndns int
	for _, name := range flowFiles {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ingest.Open(f, false, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		err = ingest.ReadFlowLogs(r, 1000, func(recs []ingest.FlowRecord) error {
			for _, rec := range recs {
				nflows++
				if rec.LogStatus == ingest.FlowNoData {
					nodata++
				}
				if rec.InstanceID != "" {
					withInstance++
				}
				if rec.AccountID != "111122223333" || rec.Region != "us-east-1" || rec.Version != 5 {
					t.Fatalf("record %+v", rec)
				}
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, name := range dnsFiles {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ingest.Open(f, false, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		err = ingest.ReadDNSLogs(r, 1000, func(recs []ingest.DNSQuery) error {
			for _, rec := range recs {
				ndns++
				if rec.InstanceID == "" || len(rec.Answers) == 0 || !rec.SrcAddr.IsPrivate() {
					t.Fatalf("query %+v", rec)
				}
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if nflows != flows.Records || nodata != flows.NoData || withInstance == 0 || ndns != dns.Records {
		t.Fatalf("read back %d flows (%d NODATA, %d with an instance), %d queries; wrote %+v, %+v", nflows, nodata, withInstance, ndns, flows, dns)
	}
}
