// Command guardpost-load measures a running guardpost server, and prints a
// table of throughput and latency per operation that can be pasted into
// the README.
//
//	guardpost-load [--endpoint URL] [--region REGION] [--profile NAME]
//	               [--mix get|list|list-criteria|stats|archive|mixed|hostile]
//	               [--attackers N]
//	               [--mix ops|OP,OP...] [--raw] [--static]
//	               [--load N] [--load-seed S]
//	               [--concurrency N] [--duration D] [--seed-samples]
//
// The mixes drive the server through the real AWS SDK for Go; hostile runs
// mixed while attackers hit the server (see hostile.go). The ops
// (get-50, get-1, list-severity, list-instance, list-matches,
// stats-severity, stats-type; "ops" for all of them) each run on their own
// for --duration, through the SDK or, with --raw, as signed requests whose
// answers are read and discarded; --static compares each with a static
// server answering the same bytes. --load N first imports generated
// findings until the detector holds N.
//
// Credentials come from the standard AWS chain, so the
// AWS_SHARED_CREDENTIALS_FILE the server prints on its first start works.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2)
	}
	cfg.CommandLine = commandLine(os.Args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "guardpost-load:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command's flags into a Config; errors have already
// been printed to stderr with the usage.
func parseFlags(args []string, stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("guardpost-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Endpoint, "endpoint", cfg.Endpoint, "guardpost server URL")
	fs.StringVar(&cfg.Region, "region", cfg.Region, "region to sign requests for")
	fs.StringVar(&cfg.Profile, "profile", cfg.Profile, "shared-credentials profile (default: AWS_PROFILE or \"default\")")
	fs.StringVar(&cfg.Mix, "mix", cfg.Mix, "workload: an SDK mix ("+strings.Join(mixNames(), ", ")+"), or ops one at a time: "+opsMix+" for all, or some of "+strings.Join(opNames(), ","))
	fs.IntVar(&cfg.Attackers, "attackers", cfg.Attackers, "with --mix hostile: how many of each slow attack (slow header, slow bodies, answers never read) run at once")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "number of workers sending requests in parallel")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to send requests (each op's, with the ops)")
	fs.BoolVar(&cfg.SeedSamples, "seed-samples", cfg.SeedSamples, "create a detector if there is none, and sample findings, before measuring")
	fs.IntVar(&cfg.Load, "load", cfg.Load, "first import generated findings (creating the detector if needed) until the detector holds this many; with --duration 0, only that")
	fs.Uint64Var(&cfg.LoadSeed, "load-seed", cfg.LoadSeed, "seed of the findings --load generates (guardpost-gen's --seed)")
	fs.BoolVar(&cfg.Raw, "raw", cfg.Raw, "ops: send SigV4-signed requests over net/http and discard the answers unread, to measure the server rather than the SDK")
	fs.BoolVar(&cfg.Static, "static", cfg.Static, "ops: also drive a static server answering each op with the server's recorded answer, and print the ratio (implies --raw)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %v", fs.Args())
		fmt.Fprintln(stderr, "guardpost-load:", err)
		return cfg, err
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, "guardpost-load:", err)
		return cfg, err
	}
	return cfg, nil
}

// commandLine renders argv so that it can be pasted back into a shell. The
// program name is reduced to its base name: under `go run` it is a path in
// a temporary build directory.
func commandLine(argv []string) string {
	words := []string{filepath.Base(argv[0])}
	for _, a := range argv[1:] {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
