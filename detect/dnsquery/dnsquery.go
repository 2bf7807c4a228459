// Package dnsquery turns Route 53 Resolver query logs into GuardDuty's
// EC2 DNS findings: domains on the managed intelligence lists and the
// detector's threat entity lists, names resolving to the instance
// metadata address, and two bursts judged over sliding windows of the
// records' own times (generated-looking domains, data encoded in query
// names). docs/dns-detection.md lists every type with its trigger,
// threshold, aggregation and severity.
package dnsquery

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/intel"
)

// StateName is the name the engine's window state is stored under
// (detect.Findings.State, Service.DetectionState).
const StateName = "dns"

// Engine analyses query logs, keeping the windows that outlive one
// ingest: in memory as the last finished ingest left them, and in the
// store with the findings, read back when a detector is first seen.
type Engine struct {
	svc     *guardpost.Service
	managed *intel.Managed
	cfg     Config
	// load reads a detector's stored state (Service.DetectionState).
	load func(ctx context.Context, scope guardpost.Scope, detectorID string) ([]byte, error)

	mu      sync.Mutex
	durable map[detectorKey]*state // as the last finished ingest left them
}

type detectorKey struct{ account, region, detector string }

// New returns an engine writing through svc with DefaultConfig; managed
// is the managed threat intelligence (nil: none).
func New(svc *guardpost.Service, managed *intel.Managed) *Engine {
	e := &Engine{svc: svc, managed: managed, cfg: DefaultConfig(), durable: map[detectorKey]*state{}}
	e.load = func(ctx context.Context, scope guardpost.Scope, detectorID string) ([]byte, error) {
		return svc.DetectionState(ctx, scope, detectorID, StateName)
	}
	return e
}

// Configure replaces the thresholds; call it before the first ingest.
func (e *Engine) Configure(c Config) { e.cfg = c }

// Analysis is one ingest: the caller adds the body's records in batches
// as it reads them, then Finish writes what they made, or Abort drops it
// (a malformed body writes nothing).
type Analysis struct {
	e      *Engine
	router *detect.Router[ingest.DNSQuery]
	now    time.Time
	work   map[detectorKey]*work
	order  []*work
	usage  detect.Usage
}

// work is what one analysis made so far for one detector.
type work struct {
	scope    guardpost.Scope
	detector string
	st       *state // a copy of the durable state, advanced by this analysis
	occ      map[string]*occurrence
	order    []*occurrence
}

// Begin starts an ingest on behalf of caller, analysed by the detectors
// that analyse DNS_LOGS (see detect.Router). now is the time findings are
// created at; the activity's times come from the records.
func (e *Engine) Begin(caller guardpost.Scope, now time.Time) *Analysis {
	origin := func(r *ingest.DNSQuery) detect.Origin {
		return detect.Origin{Account: r.AccountID, Region: r.Region, Size: r.Size}
	}
	return &Analysis{e: e, router: detect.NewRouter(e.svc, caller, "DNS_LOGS", origin), now: now, work: map[detectorKey]*work{},
		usage: detect.Usage{Feature: "DNS_LOGS"}}
}

// Add analyses one batch of query log records. The caller may reuse records once
// Add returns: what a finding keeps of a record is copied.
func (a *Analysis) Add(ctx context.Context, records []ingest.DNSQuery) error {
	batches, err := a.router.Route(ctx, records)
	if err != nil {
		return err
	}
	for _, b := range batches {
		w, err := a.workFor(ctx, b.Scope, b.Detector.ID)
		if err != nil {
			return err
		}
		var f facts
		for _, r := range b.Records {
			a.analyse(w, r, &f)
			a.usage.Add(b.Scope, b.Detector.ID, r.InstanceID, r.Size, r.Time)
		}
	}
	return ctx.Err()
}

// workFor returns the analysis' work for a detector, starting it from the
// engine's durable state (read from the store the first time the engine
// sees the detector).
func (a *Analysis) workFor(ctx context.Context, scope guardpost.Scope, detectorID string) (*work, error) {
	k := detectorKey{scope.AccountID, scope.Region, detectorID}
	if w := a.work[k]; w != nil {
		return w, nil
	}
	e := a.e
	e.mu.Lock()
	s := e.durable[k]
	e.mu.Unlock()
	if s == nil {
		b, err := e.load(ctx, scope, detectorID)
		if err != nil {
			return nil, err
		}
		if s, err = loadState(b); err != nil {
			return nil, err
		}
		e.mu.Lock()
		if d := e.durable[k]; d != nil {
			s = d // another ingest loaded it meanwhile
		} else {
			e.durable[k] = s
		}
		e.mu.Unlock()
	}
	e.mu.Lock()
	st := s.clone()
	e.mu.Unlock()
	w := &work{scope: scope, detector: detectorID, st: st, occ: map[string]*occurrence{}}
	a.work[k] = w
	a.order = append(a.order, w)
	return w, nil
}

// facts are what the rules ask of one query, computed once.
type facts struct {
	rec        *ingest.DNSQuery
	domain     string // registered domain
	cats       uint32 // managed categories holding the name (bit per intel.Categories index)
	test       string // the reputation test name the query is, or is under
	customList string // the detector's threat list holding the name
	freeZone   bool   // under a zone that gives subdomains away
	generated  bool   // the registered label looks algorithmically generated
	encoded    bool   // the subdomain part looks like encoded data

	metadata        bool // an answer is the instance metadata address
	answerBlackhole bool // an answer is a listed black-hole address
	answerCrypto    bool // an answer is a listed cryptocurrency address
	answerMalicious bool // an answer is a listed malicious address
}

// categoryBit is a category's bit in facts.cats.
func categoryBit(c string) uint32 {
	if i := slices.Index(intel.Categories, c); i >= 0 {
		return 1 << i
	}
	return 0
}

// The bits the rules test.
var (
	catC2        = categoryBit(intel.CommandAndControl)
	catCrypto    = categoryBit(intel.Cryptocurrency)
	catBlackhole = categoryBit(intel.Blackhole)
	catDropPoint = categoryBit(intel.DropPoint)
	catPhishing  = categoryBit(intel.Phishing)
	catDGA       = categoryBit(intel.DGA)
	catMalicious = categoryBit(intel.MaliciousDomain)
)

func (f *facts) has(bit uint32) bool { return f.cats&bit != 0 }

// The instance metadata service's addresses (IPv4, and the Nitro IPv6
// endpoint).
var (
	metadataV4 = netip.AddrFrom4([4]byte{169, 254, 169, 254})
	metadataV6 = netip.MustParseAddr("fd00:ec2::254")
)

// analyse runs the rules over one record.
func (a *Analysis) analyse(w *work, r *ingest.DNSQuery, f *facts) {
	if r.Name == "" {
		return
	}
	cfg := &a.e.cfg
	t := r.Time.UnixNano()
	w.st.tick(cfg, t)
	*f = facts{rec: r}
	f.test = testName(r.Name)
	var label string
	f.domain, label = registered(r.Name)
	if i := strings.IndexByte(f.domain, '.'); i >= 0 {
		_, f.freeZone = freeZones[f.domain[i+1:]]
	}
	if m := a.e.managed; m != nil {
		f.cats = m.DomainCategories(r.Name)
	}
	if l, ok := a.e.svc.ThreatListDomain(w.scope, w.detector, r.Name); ok {
		f.customList = l.ListName
	}
	if !exemptName(r.Name) {
		f.generated = cfg.DGA.Generated(label)
		if _, exempt := exemptParents[f.domain]; !exempt || !cfg.Exfil.ExemptParents {
			f.encoded = cfg.Exfil.Encoded(r.Name, f.domain)
		}
	}
	for i := range r.Answers {
		ans := &r.Answers[i]
		if ans.Type != "A" && ans.Type != "AAAA" {
			continue
		}
		ip, err := netip.ParseAddr(ans.Data)
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		if ip == metadataV4 || ip == metadataV6 {
			f.metadata = true
		}
		if m := a.e.managed; m != nil {
			f.answerBlackhole = f.answerBlackhole || m.InCategory(intel.Blackhole, ip)
			f.answerCrypto = f.answerCrypto || m.InCategory(intel.Cryptocurrency, ip)
			f.answerMalicious = f.answerMalicious || m.InCategory(intel.MaliciousIP, ip)
		}
	}
	for i := range rules {
		ru := &rules[i]
		if !ru.Trigger(f) {
			continue
		}
		count, first := 1, t
		var key string
		switch ru.Window {
		case dgaWindow:
			key = instanceKey(r)
			h := w.st.observe(cfg, cfg.DGABurst, dgaWindow+"\x00"+key, fnv64(f.domain), t)
			if !h.hit {
				continue
			}
			count, first = h.count, h.first
		case exfilWindow:
			key = instanceKey(r) + "|" + f.domain
			h := w.st.observe(cfg, cfg.ExfilBurst, exfilWindow+"\x00"+key, fnv64(r.Name), t)
			if !h.hit {
				continue
			}
			count, first = h.count, h.first
		default:
			key = instanceKey(r) + "|" + f.domain
		}
		w.hit(cfg, ru, key, f, count, first)
	}
}

// instanceKey names the querying instance: srcids.instance, else the
// source address (a query from outside an instance, or a log without
// srcids).
func instanceKey(r *ingest.DNSQuery) string {
	if r.InstanceID != "" {
		return r.InstanceID
	}
	return "addr:" + r.SrcAddr.String()
}

// hit folds one hit into the occurrence of its rule and key.
func (w *work) hit(cfg *Config, ru *rule, key string, f *facts, count int, first int64) {
	id := ru.Type + "\x00" + key
	o := w.occ[id]
	r := f.rec
	if o == nil {
		o = &occurrence{rule: ru, key: key, first: first, last: r.Time.UnixNano(), latest: copyQuery(r), domain: f.domain, list: f.customList}
		w.occ[id] = o
		w.order = append(w.order, o)
	}
	o.count += count
	o.first = min(o.first, first)
	if t := r.Time.UnixNano(); t >= o.last {
		o.last, o.latest, o.domain = t, copyQuery(r), f.domain
		if f.customList != "" {
			o.list = f.customList
		}
	}
	o.keep(cfg.Evidence, r)
}

// occurrence is the hits of one rule and key within an ingest, folded.
type occurrence struct {
	rule        *rule
	key         string
	count       int
	first, last int64 // event times, Unix nanoseconds
	latest      ingest.DNSQuery
	domain      string // registered domain of the latest hit
	list        string // custom threat list of the latest hit
	// evidence: the first records of the occurrence, then a ring of the
	// latest.
	head []ingest.DNSQuery
	tail []ingest.DNSQuery
	next int // next slot of tail to overwrite
}

// keep records r as evidence: the first half of limit records are kept,
// the rest is a ring of the latest.
func (o *occurrence) keep(limit int, r *ingest.DNSQuery) {
	if limit <= 0 {
		return
	}
	headMax := (limit + 1) / 2
	if len(o.head) < headMax {
		o.head = append(o.head, copyQuery(r))
		return
	}
	tailMax := limit - headMax
	if tailMax == 0 {
		return
	}
	if len(o.tail) < tailMax {
		o.tail = append(o.tail, copyQuery(r))
		return
	}
	o.tail[o.next] = copyQuery(r)
	o.next = (o.next + 1) % tailMax
}

// evidence returns the kept records, oldest first.
func (o *occurrence) evidence() []ingest.DNSQuery {
	out := slices.Clone(o.head)
	for i := range o.tail {
		out = append(out, o.tail[(o.next+i)%len(o.tail)])
	}
	return out
}

// copyQuery copies r so that it outlives the caller's batch.
func copyQuery(r *ingest.DNSQuery) ingest.DNSQuery {
	c := *r
	c.Answers = slices.Clone(r.Answers)
	return c
}

// Finish writes the findings and detection state of every batch added,
// one transaction per detector: once it returns, they are durable, and
// the engine's windows are where this ingest left them.
func (a *Analysis) Finish(ctx context.Context) (detect.Report, error) {
	rep := a.router.Report()
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	out := make([]detect.Findings, 0, len(a.order))
	for _, w := range a.order {
		fs := detect.Findings{Scope: w.scope, DetectorID: w.detector}
		for _, o := range w.order {
			f, err := o.finding(w.scope, w.detector, a.now)
			if err != nil {
				return rep, err
			}
			fs.Findings = append(fs.Findings, f)
		}
		b, err := w.st.encode()
		if err != nil {
			return rep, err
		}
		fs.State = map[string][]byte{StateName: b}
		out = append(out, fs)
	}
	if err := detect.Write(ctx, a.e.svc, out, &rep); err != nil {
		return rep, err
	}
	a.e.mu.Lock()
	for k, w := range a.work {
		a.e.durable[k] = w.st
	}
	a.e.mu.Unlock()
	a.work, a.order = nil, nil
	rep.Usage = &a.usage
	return rep, nil
}

// Abort drops the analysis: nothing is written, and the engine's state
// is what the last finished ingest left (the analysis only ever advanced
// copies of it).
func (a *Analysis) Abort() { a.work, a.order = nil, nil }
