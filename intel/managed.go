package intel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// The managed categories: guardpost's stand-in for GuardDuty's own threat
// intelligence, read from DIR/<category>.txt. README.md maps each to the
// finding types it feeds.
const (
	TorExit           = "tor-exit"
	TorRelay          = "tor-relay"
	MaliciousIP       = "malicious-ip"
	Scanner           = "scanner"
	Cryptocurrency    = "cryptocurrency"
	CommandAndControl = "command-and-control"
	DropPoint         = "drop-point"
	Blackhole         = "blackhole"
	MaliciousDomain   = "malicious-domain"
	Phishing          = "phishing"
	DGA               = "dga"
	AWSIPRanges       = "aws-ip-ranges"
)

// Categories lists every managed category, in a fixed order.
var Categories = []string{TorExit, TorRelay, MaliciousIP, Scanner, Cryptocurrency, CommandAndControl,
	DropPoint, Blackhole, MaliciousDomain, Phishing, DGA, AWSIPRanges}

// TestDomains are GuardDuty's documented test domains, which match their
// category with no list at all so that a pipeline can be checked end to
// end as against AWS: the user guide's Backdoor:EC2/C&CActivity.B!DNS
// description names guarddutyc2activityb.com, and AWS's
// amazon-guardduty-tester (lib/common/testResources/definitions.json)
// queries the others for the finding types of their categories. The most
// specific name wins: crypto.guarddutyc2activityb.com is cryptocurrency,
// not command and control.
var TestDomains = map[string]string{
	"guarddutyc2activityb.com":        CommandAndControl,
	"crypto.guarddutyc2activityb.com": Cryptocurrency,
	"guarddutydroppointactivity.com":  DropPoint,
	"guarddutyblackholeactivity.com":  Blackhole,
	"guarddutyphishingactivity.com":   Phishing,
	"guarddutydgaactivity.com":        DGA,
}

// Managed holds the managed categories and swaps them atomically when the
// intel directory changes: a lookup never sees half a reload.
type Managed struct {
	snap atomic.Pointer[managedSnapshot]
}

type managedSnapshot struct {
	lists  map[string]*Matcher
	mtimes map[string]time.Time
	sizes  map[string]int64
	// domains holds every category's domains with the categories that
	// list each (bit i: Categories[i]), so that DomainCategories looks a
	// name up once per label instead of once per label and category.
	// The keys are the category sets' own strings.
	domains map[string]uint32
}

// categoryIndex is each category's bit position (Categories order).
var categoryIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range Categories {
		m[c] = i
	}
	return m
}()

// indexDomains builds managedSnapshot.domains.
func indexDomains(lists map[string]*Matcher) map[string]uint32 {
	n := 0
	for _, l := range lists {
		n += l.Domains.Len()
	}
	idx := make(map[string]uint32, n)
	for c, l := range lists {
		if l.Domains == nil {
			continue
		}
		for d := range l.Domains.m {
			idx[d] |= 1 << categoryIndex[c]
		}
	}
	return idx
}

// DomainCategories is MatchDomain as a bit set (bit i: Categories[i]),
// without allocating: one hash lookup per label of name, however many
// categories hold domains. It is what per-query detection asks.
func (m *Managed) DomainCategories(name string) uint32 {
	s := m.snap.Load()
	d := lower(strings.TrimSuffix(name, "."))
	var bits uint32
	test := false
	for d != "" {
		if !test {
			// The most specific test domain decides (see TestDomains).
			if c, ok := TestDomains[d]; ok {
				bits |= 1 << categoryIndex[c]
				test = true
			}
		}
		if len(s.domains) > 0 {
			bits |= s.domains[d]
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return bits
}

// NewManaged returns a Managed with only the built-in test domains.
func NewManaged() *Managed {
	m := &Managed{}
	m.snap.Store(&managedSnapshot{lists: map[string]*Matcher{}})
	return m
}

// MatchIP returns the categories whose lists hold a, in Categories order.
func (m *Managed) MatchIP(a netip.Addr) []string {
	var out []string
	s := m.snap.Load()
	for _, c := range Categories {
		if s.lists[c].MatchIP(a) {
			out = append(out, c)
		}
	}
	return out
}

// InCategory reports whether a is on category's list.
func (m *Managed) InCategory(category string, a netip.Addr) bool {
	return m.snap.Load().lists[category].MatchIP(a)
}

// MatchDomain returns the categories whose lists hold name or a domain it
// is under, built-in test domains included, in Categories order.
func (m *Managed) MatchDomain(name string) []string {
	var out []string
	s := m.snap.Load()
	test := testDomainCategory(name)
	for _, c := range Categories {
		if c == test || s.lists[c].MatchDomain(name) {
			out = append(out, c)
		}
	}
	return out
}

func testDomainCategory(name string) string {
	d := lower(strings.TrimSuffix(name, "."))
	for d != "" {
		if c, ok := TestDomains[d]; ok {
			return c
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return ""
}

// Len returns how many entries category's list was read with.
func (m *Managed) Len(category string) int {
	l := m.snap.Load().lists[category]
	if l == nil {
		return 0
	}
	return l.IPs.Len() + l.Domains.Len()
}

// Load reads dir's category files and swaps them in. A file that is
// missing leaves its category empty; a file that cannot be read is an
// error and nothing is swapped. Unreadable lines are skipped and counted
// in the returned total.
func (m *Managed) Load(dir string) (skipped int, err error) {
	next := &managedSnapshot{lists: map[string]*Matcher{}, mtimes: map[string]time.Time{}, sizes: map[string]int64{}}
	for _, c := range Categories {
		path := filepath.Join(dir, c+".txt")
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) && c == AWSIPRanges {
			// AWS publishes ip-ranges.json; it may sit there as it is.
			path = filepath.Join(dir, "ip-ranges.json")
			fi, err = os.Stat(path)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		l, n, err := parseCategory(data)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		skipped += n
		next.lists[c], next.mtimes[c], next.sizes[c] = l, fi.ModTime(), fi.Size()
	}
	next.domains = indexDomains(next.lists)
	m.snap.Store(next)
	return skipped, nil
}

// parseCategory reads a category file: one IP, CIDR or domain per line
// with # comments, or AWS's ip-ranges.json as it is.
func parseCategory(data []byte) (*Matcher, int, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return parseIPRanges(t)
	}
	var ips CIDRBuilder
	var domains DomainBuilder
	skipped := 0
	lines(data, func(_ int, s string) error {
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = strings.TrimSpace(s[:i])
		}
		if s == "" {
			return nil
		}
		// Feeds often add columns after the entry (ports, scores); hosts
		// files (URLhaus) put the domain after a sink address.
		if f := strings.Fields(s); len(f) > 0 {
			s = f[0]
			if len(f) > 1 && (s == "127.0.0.1" || s == "0.0.0.0" || s == "::1") {
				s = f[1]
			}
		}
		if c, ok := canonicalIP(s); ok {
			addEntry(&ips, &domains, c)
		} else if d := NormalizeDomain(s); validDomain(d) {
			domains.Add(d)
		} else {
			skipped++
		}
		return nil
	})
	return &Matcher{IPs: ips.Build(), Domains: domains.Build()}, skipped, nil
}

func parseIPRanges(data []byte) (*Matcher, int, error) {
	var doc struct {
		Prefixes []struct {
			IPPrefix string `json:"ip_prefix"`
		} `json:"prefixes"`
		IPv6Prefixes []struct {
			IPv6Prefix string `json:"ipv6_prefix"`
		} `json:"ipv6_prefixes"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, 0, fmt.Errorf("not AWS ip-ranges.json: %w", err)
	}
	var ips CIDRBuilder
	skipped := 0
	add := func(s string) {
		if p, err := netip.ParsePrefix(s); err == nil {
			ips.AddPrefix(p)
		} else {
			skipped++
		}
	}
	for _, p := range doc.Prefixes {
		add(p.IPPrefix)
	}
	for _, p := range doc.IPv6Prefixes {
		add(p.IPv6Prefix)
	}
	return &Matcher{IPs: ips.Build(), Domains: (&DomainBuilder{}).Build()}, skipped, nil
}

// changed reports whether dir's files differ (by modification time or
// size) from the ones loaded.
func (m *Managed) changed(dir string) bool {
	s := m.snap.Load()
	for _, c := range Categories {
		fi, err := os.Stat(filepath.Join(dir, c+".txt"))
		if errors.Is(err, fs.ErrNotExist) && c == AWSIPRanges {
			fi, err = os.Stat(filepath.Join(dir, "ip-ranges.json"))
		}
		_, had := s.mtimes[c]
		if err != nil {
			if had {
				return true
			}
			continue
		}
		if !had || !fi.ModTime().Equal(s.mtimes[c]) || fi.Size() != s.sizes[c] {
			return true
		}
	}
	return false
}

// Watch reloads dir whenever its files change, checking every interval,
// until ctx ends. A reload that fails keeps the lists in use and is
// logged; the next change tries again.
func (m *Managed) Watch(ctx context.Context, dir string, interval time.Duration, log *slog.Logger) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !m.changed(dir) {
			continue
		}
		skipped, err := m.Load(dir)
		if err != nil {
			log.Warn("intel reload failed; keeping the lists in use", "dir", dir, "err", err)
			continue
		}
		log.Info("intel reloaded", "dir", dir, "skipped_lines", skipped)
	}
}
