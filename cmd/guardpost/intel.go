package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/guardpost/guardpost/intel"
	"github.com/guardpost/guardpost/intel/fetch"
)

// runIntel is `guardpost intel update`: it downloads the managed threat
// intelligence feeds into the directory `guardpost serve --intel-dir`
// reads (and reloads when the files change).
func runIntel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, `usage: guardpost intel update --intel-dir DIR [--source CATEGORY=URL]...

Downloads threat intelligence feeds into DIR/<category>.txt, each file replaced atomically, for
guardpost serve --intel-dir DIR. Without --source it reads the default feeds:
`)
		for _, c := range intel.Categories {
			if u, ok := intel.DefaultSources[c]; ok {
				fmt.Fprintf(w, "  %-20s %s\n", c, u)
			}
		}
		fmt.Fprintf(w, "With --source it reads only the sources named. Categories: %s.\n\nflags:\n", strings.Join(intel.Categories, ", "))
	}
	if len(args) == 0 || args[0] != "update" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			usage(stdout)
			return 0
		}
		return parseError(stderr, "intel", errors.New(`the only subcommand is "update"`), usage)
	}
	var dir string
	sources := map[string]string{}
	fs := flag.NewFlagSet("guardpost intel update", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&dir, "intel-dir", "", "`directory` to write the category files to (created if missing)")
	fs.Func("source", "`CATEGORY=URL` to read a category from (repeatable); an http(s) or file:// URL", func(s string) error {
		name, url, ok := strings.Cut(s, "=")
		if !ok || name == "" || url == "" {
			return errors.New("want CATEGORY=URL")
		}
		sources[name] = url
		return nil
	})
	fullUsage := func(w io.Writer) {
		usage(w)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fullUsage(stdout)
			return 0
		}
		return parseError(stderr, "intel update", err, fullUsage)
	}
	if fs.NArg() > 0 {
		return parseError(stderr, "intel update", fmt.Errorf("unexpected argument %q", fs.Arg(0)), fullUsage)
	}
	if dir == "" {
		return parseError(stderr, "intel update", errors.New("--intel-dir is required"), fullUsage)
	}
	if len(sources) == 0 {
		sources = intel.DefaultSources
	}
	f := &fetch.Fetcher{FileRoot: "/"} // the operator's own command: any local file
	results, err := intel.Update(ctx, dir, sources, func(ctx context.Context, url string, maxBytes int64) ([]byte, error) {
		return f.Fetch(ctx, url, "", maxBytes)
	})
	if err != nil {
		fmt.Fprintln(stderr, "guardpost intel update:", err)
		return 2
	}
	code := 0
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(stderr, "%-20s failed: %v (%s)\n", r.Category, r.Err, r.Source)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%-20s %8d entries", r.Category, r.Entries)
		if r.Skipped > 0 {
			fmt.Fprintf(stdout, " (%d lines skipped)", r.Skipped)
		}
		fmt.Fprintf(stdout, "  %s\n", r.Source)
	}
	return code
}
