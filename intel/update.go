package intel

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// DefaultSources are the open feeds `guardpost intel update` reads when no
// source is named: the Tor Project's bulk exit list, AWS's published IP
// ranges, and abuse.ch's botnet C&C and malware-host lists. The other
// categories have no open feed of record; name one with --source.
var DefaultSources = map[string]string{
	TorExit:           "https://check.torproject.org/torbulkexitlist",
	AWSIPRanges:       "https://ip-ranges.amazonaws.com/ip-ranges.json",
	CommandAndControl: "https://feodotracker.abuse.ch/downloads/ipblocklist_recommended.txt",
	MaliciousIP:       "https://sslbl.abuse.ch/blacklist/sslipblacklist.txt",
	MaliciousDomain:   "https://urlhaus.abuse.ch/downloads/hostfile/",
}

// MaxFeedBytes bounds one downloaded feed.
const MaxFeedBytes = 256 << 20

// UpdateResult is what Update did for one category.
type UpdateResult struct {
	Category, Source string
	Entries          int   // entries in the new file
	Skipped          int   // lines that were no entry
	Err              error // nil: the file was replaced
}

// Update downloads each category's source and replaces DIR/<category>.txt
// with it, atomically (a temporary file renamed over the old one), so that
// a running server's reload never reads half a file. A download that
// fails, or that holds no entry at all (an error page, say), leaves the
// old file in place. Results come in Categories order.
func Update(ctx context.Context, dir string, sources map[string]string,
	get func(ctx context.Context, url string, maxBytes int64) ([]byte, error)) ([]UpdateResult, error) {
	for c := range sources {
		if !slices.Contains(Categories, c) {
			return nil, fmt.Errorf("unknown category %q (one of %v)", c, Categories)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []UpdateResult
	for _, c := range Categories {
		src, ok := sources[c]
		if !ok {
			continue
		}
		r := UpdateResult{Category: c, Source: src}
		r.Entries, r.Skipped, r.Err = updateOne(ctx, dir, c, src, get)
		out = append(out, r)
	}
	return out, nil
}

func updateOne(ctx context.Context, dir, category, src string,
	get func(ctx context.Context, url string, maxBytes int64) ([]byte, error)) (int, int, error) {
	data, err := get(ctx, src, MaxFeedBytes)
	if err != nil {
		return 0, 0, err
	}
	m, skipped, err := parseCategory(data)
	if err != nil {
		return 0, 0, err
	}
	n := m.IPs.Len() + m.Domains.Len()
	if n == 0 {
		return 0, skipped, fmt.Errorf("the feed holds no IP address, CIDR or domain (%d lines skipped); keeping the old file", skipped)
	}
	tmp, err := os.CreateTemp(dir, "."+category+".*.tmp")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return 0, 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, 0, err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, category+".txt")); err != nil {
		return 0, 0, err
	}
	return n, skipped, nil
}
