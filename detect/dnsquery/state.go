package dnsquery

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Config holds the thresholds of the DNS detections; DefaultConfig's are
// documented in docs/dns-detection.md.
type Config struct {
	DGA   DGAModel
	Exfil ExfilModel
	// DGABurst: this many distinct generated-looking registered domains
	// from one instance within the window make Trojan:EC2/DGADomainRequest.B.
	DGABurst Burst
	// ExfilBurst: this many distinct encoded-looking names under one
	// registered domain from one instance within the window make
	// Trojan:EC2/DNSDataExfiltration.
	ExfilBurst Burst
	// MaxWindows bounds the windows a detector keeps (each at most
	// Burst.Distinct entries); past it the least recently active goes.
	MaxWindows int
	// Evidence is how many query log records a finding keeps: the first
	// of the occurrence and the latest.
	Evidence int
}

// Burst is a count of distinct names within a sliding window of event
// time.
type Burst struct {
	Distinct int
	Window   time.Duration
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		DGA:        DGAModel{MinLength: 8, Threshold: 4.9},
		Exfil:      ExfilModel{MinLength: 40, MinLabel: 20, MinEntropy: 3.5, MinSurprise: 3.2, MinHexLength: 32, ExemptParents: true},
		DGABurst:   Burst{Distinct: 5, Window: 10 * time.Minute},
		ExfilBurst: Burst{Distinct: 20, Window: 10 * time.Minute},
		MaxWindows: 20000,
		Evidence:   5,
	}
}

// sweepEvery is how many records a detector analyses between two sweeps
// of its expired windows. Sweeps happen at fixed record counts (kept in
// the state), so that the same records give the same state however they
// were split into ingests.
const sweepEvery = 4096

// state is one detector's detection state: the burst windows, in event
// time. It is what Findings.State["dns"] holds, as JSON.
type state struct {
	Version int `json:"version"`
	// Windows by window name and aggregation key ("dga\x00i-1234…").
	Windows map[string]*window `json:"windows"`
	// Records counts the records analysed, for the sweep cadence.
	Records int64 `json:"records"`
	// Watermark is the latest event time seen (Unix nanoseconds).
	Watermark int64 `json:"watermark"`
}

// window is the recent qualifying names of one key.
type window struct {
	// Members are the distinct names (by hash) seen within the window
	// and the latest time each was seen; at most Burst.Distinct.
	Members []member `json:"members,omitempty"`
	// Active, once the burst fired, is the event time until which every
	// qualifying query is a further hit (the finding's count grows).
	Active int64 `json:"active,omitempty"`
	// Last is the latest event time of a qualifying query.
	Last int64 `json:"last"`
}

type member struct {
	Hash uint64 `json:"h"`
	Time int64  `json:"t"`
}

const stateVersion = 1

func newState() *state { return &state{Version: stateVersion, Windows: map[string]*window{}} }

// loadState decodes a stored state; nil means none.
func loadState(b []byte) (*state, error) {
	if len(b) == 0 {
		return newState(), nil
	}
	s := newState()
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("dns detection state: %w", err)
	}
	if s.Version != stateVersion {
		// A state of another layout: windows restart empty, which only
		// delays a burst, never invents one.
		return newState(), nil
	}
	if s.Windows == nil {
		s.Windows = map[string]*window{}
	}
	return s, nil
}

func (s *state) encode() ([]byte, error) { return json.Marshal(s) }

// clone returns a deep copy: an analysis works on a copy, so that Abort
// leaves the last durable state untouched.
func (s *state) clone() *state {
	c := &state{Version: s.Version, Records: s.Records, Watermark: s.Watermark, Windows: make(map[string]*window, len(s.Windows))}
	for k, w := range s.Windows {
		cw := *w
		cw.Members = slices.Clone(w.Members)
		c.Windows[k] = &cw
	}
	return c
}

// burstHit is what observe decides about one qualifying query.
type burstHit struct {
	hit   bool
	count int   // queries the hit stands for (the window's members when it fires)
	first int64 // earliest of them
}

// observe adds a qualifying query (name hash h at event time t) to the
// window key of a burst, and says whether it is a hit.
func (s *state) observe(cfg *Config, b Burst, key string, h uint64, t int64) burstHit {
	w := s.Windows[key]
	if w == nil {
		if len(s.Windows) >= cfg.MaxWindows {
			s.evict(cfg)
		}
		w = &window{}
		s.Windows[key] = w
	}
	span := int64(b.Window)
	if t > w.Last {
		w.Last = t
	}
	if w.Active != 0 && t <= w.Active {
		if t+span > w.Active {
			w.Active = t + span
		}
		return burstHit{hit: true, count: 1, first: t}
	}
	w.Active = 0
	kept := w.Members[:0]
	found := false
	for _, m := range w.Members {
		if m.Time < t-span {
			continue
		}
		if m.Hash == h {
			found = true
			if t > m.Time {
				m.Time = t
			}
		}
		kept = append(kept, m)
	}
	w.Members = kept
	if !found {
		w.Members = append(w.Members, member{Hash: h, Time: t})
	}
	if len(w.Members) < b.Distinct {
		return burstHit{}
	}
	first := t
	for _, m := range w.Members {
		first = min(first, m.Time)
	}
	n := len(w.Members)
	w.Members, w.Active = nil, t+span
	return burstHit{hit: true, count: n, first: first}
}

// evict makes room under MaxWindows: it drops the expired windows and,
// if that is not enough, the least recently active tenth (ties: the
// smallest key), so that a stream of new keys costs a sort per tenth of
// the cap, not a scan per key.
func (s *state) evict(cfg *Config) {
	s.sweep(cfg)
	if len(s.Windows) < cfg.MaxWindows {
		return
	}
	type aged struct {
		key  string
		last int64
	}
	all := make([]aged, 0, len(s.Windows))
	for k, w := range s.Windows {
		all = append(all, aged{k, w.Last})
	}
	slices.SortFunc(all, func(a, b aged) int {
		if a.last != b.last {
			return cmp.Compare(a.last, b.last)
		}
		return strings.Compare(a.key, b.key)
	})
	for _, a := range all[:max(1, len(all)/10)] {
		delete(s.Windows, a.key)
	}
}

// sweep drops the windows whose last query is older than the longest
// window before the latest event time, unless a burst keeps them active.
func (s *state) sweep(cfg *Config) {
	span := int64(max(cfg.DGABurst.Window, cfg.ExfilBurst.Window))
	for k, w := range s.Windows {
		if w.Last < s.Watermark-span && w.Active < s.Watermark {
			delete(s.Windows, k)
		}
	}
}

// tick counts one analysed record at event time t and sweeps the expired
// windows every sweepEvery records.
func (s *state) tick(cfg *Config, t int64) {
	if t > s.Watermark {
		s.Watermark = t
	}
	s.Records++
	if s.Records%sweepEvery == 0 {
		s.sweep(cfg)
	}
}

// fnv64 hashes a name for a window's members (FNV-1a).
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
