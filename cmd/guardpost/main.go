// Command guardpost runs a GuardDuty-compatible findings service.
//
//	guardpost serve [flags]                run the server
//	guardpost ingest [flags] FILE|DIR...   send findings files to a running server
//	guardpost audit [flags]                print the audit log's records
//	guardpost intel update [flags]         download threat intelligence feeds
//	guardpost version                      print the version
//
// "guardpost <command> --help" prints a command's flags.
//
// main only dispatches: each command has its own file and FlagSet.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// A signal cancels ctx; each command decides what stopping means.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a command line and returns the exit code: 0 on success,
// 1 when the command failed, 2 for a bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "guardpost: no command given")
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "ingest":
		return runIngest(ctx, args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "intel":
		return runIntel(ctx, args[1:], stdout, stderr)
	case "version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "guardpost: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: guardpost <command> [flags]

commands:
  serve     run the GuardDuty-compatible server
  ingest    send findings files to a running server
  audit     print the audit log's CloudTrail records
  intel     download threat intelligence feeds (intel update)
  version   print the version
  help      print this help

Run "guardpost <command> --help" for a command's flags.
`)
}

// parseError reports a bad command line: what is wrong, then the command's
// usage. It returns the exit code for a bad command line.
func parseError(stderr io.Writer, cmd string, err error, usage func(io.Writer)) int {
	fmt.Fprintf(stderr, "guardpost %s: %v\n", cmd, err)
	usage(stderr)
	return 2
}
