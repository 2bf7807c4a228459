package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/guardpost/guardpost/audit"
)

// runAudit is `guardpost audit`: it prints the audit log's records that
// match its filters, oldest first, as JSON lines exactly as they were
// written.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		dataDir = "./guardpost-data"
		filter  audit.Filter
	)
	fs := flag.NewFlagSet("guardpost audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&dataDir, "data-dir", dataDir, "the server's data `directory` (the records are in its audit directory)")
	fs.StringVar(&filter.Account, "account", "", "only records of calls made by or to this account `id`")
	fs.Func("event-name", "only records of this `operation` (e.g. ArchiveFindings); repeat or separate with commas for several", func(s string) error {
		for n := range strings.SplitSeq(s, ",") {
			if n = strings.TrimSpace(n); n != "" {
				filter.EventNames = append(filter.EventNames, n)
			}
		}
		return nil
	})
	fs.Func("since", "only records from this `time` on: RFC 3339 (2026-12-01T02:00:00Z), a date (2026-12-01, UTC), or a duration ago (90m)", func(s string) error {
		t, err := parseSince(s, time.Now())
		filter.Since = t
		return err
	})
	usage := func(w io.Writer) {
		fmt.Fprint(w, `usage: guardpost audit [flags]

Prints the audit log's CloudTrail records that match every flag given, oldest first, one JSON
object per line.

flags:
`)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		return parseError(stderr, "audit", err, usage)
	}
	if fs.NArg() > 0 {
		return parseError(stderr, "audit", fmt.Errorf("unexpected argument %q (audit takes only flags)", fs.Arg(0)), usage)
	}
	out := bufio.NewWriter(stdout)
	err := audit.Scan(filepath.Join(dataDir, "audit"), filter, func(_ *audit.Record, line []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		out.Write(line)
		return out.WriteByte('\n')
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(stderr, "guardpost audit:", err)
		return 1
	}
	return 0
}

// parseSince reads --since: an RFC 3339 time, a UTC date, or a duration
// before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time, a date (YYYY-MM-DD) nor a duration (90m)", s)
}
