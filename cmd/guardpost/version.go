package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

// runVersion is `guardpost version`.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("guardpost version", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	usage := func(w io.Writer) { fmt.Fprintln(w, "usage: guardpost version") }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		return parseError(stderr, "version", err, usage)
	}
	if fs.NArg() > 0 {
		return parseError(stderr, "version", fmt.Errorf("unexpected argument %q", fs.Arg(0)), usage)
	}
	fmt.Fprintln(stdout, "guardpost", Version)
	return 0
}
