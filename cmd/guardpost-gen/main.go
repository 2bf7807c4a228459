// Command guardpost-gen writes realistic GuardDuty findings for loading
// into guardpost (guardpost ingest), so that a bulk-load measurement can be
// repeated:
//
//	guardpost-gen --findings 100000 --out /tmp/findings.jsonl.gz [--seed 1]
//
// The findings come from package findinggen (guardpost-load --load uses the
// same generator). The output is JSON lines in the wire form (camelCase),
// gzipped when the file name ends in .gz. The same seed gives the same file.
//
// With --logs it writes instead the logs of an ordinary, healthy VPC
// (package loggen: web servers, databases, a NAT gateway, a bastion, a
// nightly backup) as AWS delivers them to S3, gzipped, under DIR/AWSLogs/:
// the background detection must stay silent on, and the load of the flow
// and DNS ingest benchmarks.
//
//	guardpost-gen --logs /tmp/vpc --flows 1000000 --dns 200000 [--seed 1]
package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/guardpost/guardpost/internal/findinggen"
	"github.com/guardpost/guardpost/internal/loggen"
)

func main() {
	fs := flag.NewFlagSet("guardpost-gen", flag.ContinueOnError)
	n := fs.Int("findings", 1000, "number of findings to write")
	out := fs.String("out", "", "output file (.jsonl, or .jsonl.gz to gzip it); - for stdout")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same findings (or logs)")
	var logs loggen.Config
	logDir := fs.String("logs", "", "`directory` to write a VPC's flow and query logs under (AWSLogs/...), instead of findings")
	fs.IntVar(&logs.Flows, "flows", 1_000_000, "with --logs: flow log records")
	fs.IntVar(&logs.DNSQueries, "dns", 200_000, "with --logs: query log records")
	fs.StringVar(&logs.Account, "account", "111122223333", "with --logs: the account owning the VPC")
	fs.StringVar(&logs.Region, "region", "us-east-1", "with --logs: the VPC's region")
	fs.DurationVar(&logs.Duration, "duration", 24*time.Hour, "with --logs: the time the records span")
	fs.IntVar(&logs.Files, "files", 0, "with --logs: files per log (default: one per hour)")
	start := fs.String("start", "2026-03-14T00:00:00Z", "with --logs: the first record's time (RFC 3339)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if *logDir != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil || fs.NArg() > 0 {
			fmt.Fprintln(os.Stderr, "usage: guardpost-gen --logs DIR [--flows N] [--dns N] [--seed S] [--start RFC3339] ...")
			os.Exit(2)
		}
		logs.Seed, logs.Start = *seed, t
		flows, dns, err := loggen.WriteTree(*logDir, logs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "guardpost-gen:", err)
			os.Exit(1)
		}
		fmt.Printf("flow logs: %d files, %d records (%d NODATA), %d bytes uncompressed\n", flows.Files, flows.Records, flows.NoData, flows.Bytes)
		fmt.Printf("query logs: %d files, %d records, %d bytes uncompressed\n", dns.Files, dns.Records, dns.Bytes)
		return
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: guardpost-gen --findings N --out FILE [--seed S]")
		os.Exit(2)
	}
	if err := write(*out, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "guardpost-gen:", err)
		os.Exit(1)
	}
}

func write(name string, n int, seed uint64) (err error) {
	var w io.Writer = os.Stdout
	if name != "-" {
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var dst io.Writer = bw
	var zw *gzip.Writer
	if strings.HasSuffix(name, ".gz") {
		zw = gzip.NewWriter(bw)
		dst = zw
	}
	g := findinggen.New(seed)
	for range n {
		b, err := g.Next()
		if err != nil {
			return err
		}
		dst.Write(b)
		if _, err := dst.Write([]byte{'\n'}); err != nil {
			return err
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}
