// Command guardpost-gen writes the logs of an ordinary, healthy VPC (see
// internal/loggen) as AWS delivers them to S3, gzip-compressed: the
// background detection must stay silent on, and the load of the ingest
// benchmarks.
//
//	guardpost-gen --out /tmp/vpc --flows 1000000 --dns 200000 --seed 1
//	guardpost ingest --source vpcflow /tmp/vpc/AWSLogs/111122223333/vpcflowlogs
//	guardpost ingest --source dns /tmp/vpc/AWSLogs/111122223333/vpcdnsquerylogs
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/guardpost/guardpost/internal/loggen"
)

func main() {
	var cfg loggen.Config
	out := flag.String("out", "", "`directory` to write AWSLogs/... under (required)")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed: the same seed writes the same logs")
	flag.IntVar(&cfg.Flows, "flows", 1_000_000, "flow log records")
	flag.IntVar(&cfg.DNSQueries, "dns", 200_000, "query log records")
	flag.StringVar(&cfg.Account, "account", "111122223333", "account owning the VPC")
	flag.StringVar(&cfg.Region, "region", "us-east-1", "region of the VPC")
	flag.DurationVar(&cfg.Duration, "duration", 24*time.Hour, "time the records span")
	flag.IntVar(&cfg.Files, "files", 0, "files per log (default: one per hour)")
	start := flag.String("start", "2026-03-14T00:00:00Z", "time of the first record (RFC 3339)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "guardpost-gen: --out is required")
		flag.Usage()
		os.Exit(2)
	}
	t, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "guardpost-gen: --start:", err)
		os.Exit(2)
	}
	cfg.Start = t
	flows, dns, err := loggen.WriteTree(*out, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "guardpost-gen:", err)
		os.Exit(1)
	}
	fmt.Printf("flow logs: %d files, %d records (%d NODATA), %d bytes uncompressed\n", flows.Files, flows.Records, flows.NoData, flows.Bytes)
	fmt.Printf("query logs: %d files, %d records, %d bytes uncompressed\n", dns.Files, dns.Records, dns.Bytes)
}
