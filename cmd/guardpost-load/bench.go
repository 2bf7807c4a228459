package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/guardpost/guardpost/internal/cputime"
)

// OpsReport is the outcome of a run of ops (--mix ops or a list of them).
type OpsReport struct {
	Config   Config
	Queries  *queries
	Findings int // the detector's findings when the run began
	// The server's resident memory (bytes) before the first op and after
	// the last, from its /metrics; 0 when it has none.
	RSSBefore, RSSAfter float64
	// The machine's load average before and after (/proc/loadavg); the
	// figures of a shared machine mean little without it.
	LoadBefore, LoadAfter string
	LoadCPU               time.Duration // CPU time the load generator used, the static server's included
	Rows                  []OpRow
}

// OpRow is one op's figures.
type OpRow struct {
	Row
	// BytesPerAnswer is the mean size of an answer's body; 0 through the
	// SDK, which does not say.
	BytesPerAnswer float64
	// ServerCPU is the CPU time the server used during the op's run, from
	// its /metrics; 0 when unknown. Divided by the requests, it is a cost
	// that depends less on what else the machine runs than req/s does.
	ServerCPU time.Duration
	RSS       float64 // the server's, after the op's run
	// Static is the static server's figures for the same requests, with
	// --static.
	Static *Row
}

// Ratio is the server's throughput over the static server's, 0 without
// --static.
func (r OpRow) Ratio() float64 {
	if r.Static == nil || r.Static.PerSecond == 0 {
		return 0
	}
	return r.PerSecond / r.Static.PerSecond
}

// runOps measures each selected op on its own for cfg.Duration: through
// the SDK, or with cfg.Raw as signed bytes whose answers are read and
// discarded. With cfg.Static it first records one answer of the server to
// each op, serves those bytes from a static server in this process, and
// after each op's run against the server drives the static server the
// same way: the ratio of the two throughputs is the figure that carries
// over from one machine, and one moment, to another.
func runOps(ctx context.Context, cfg Config, selected []*op) (*OpsReport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	awsCfg, err := awsConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sdk := newClient(awsCfg, cfg.Endpoint)
	q, err := pickQueries(ctx, sdk)
	if err != nil {
		return nil, err
	}
	rep := &OpsReport{Config: cfg, Queries: q}
	if rep.Findings, err = countFindings(ctx, sdk, q.detector); err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.Endpoint, "/")
	var raw, staticRaw *rawClient
	var static *staticServer
	if cfg.Raw || cfg.Static {
		creds, err := awsCfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, err
		}
		raw = newRawClient(awsCfg, creds, cfg.Concurrency)
		staticRaw = newRawClient(awsCfg, creds, cfg.Concurrency)
	}
	if cfg.Static {
		rng := rand.New(rand.NewPCG(1, 2))
		answers := map[string]recorded{}
		for _, o := range selected {
			a, err := raw.record(ctx, base+o.call.path(q.detector), o.body(q, rng))
			if err != nil {
				return nil, fmt.Errorf("%s: recording the server's answer: %w", o.name, err)
			}
			answers[o.mix] = a
		}
		if static, err = startStatic(answers); err != nil {
			return nil, err
		}
		defer static.close()
	}
	// One SDK client per worker, as load does.
	sdkClients := make([]*guardduty.Client, cfg.Concurrency)
	for i := range sdkClients {
		sdkClients[i] = newClient(awsCfg, cfg.Endpoint)
	}

	metricsClient := &http.Client{Timeout: 10 * time.Second}
	before := readServerStats(ctx, metricsClient, base)
	rep.RSSBefore, rep.LoadBefore = before.rss, loadAverage()
	// The load generator competes with the server for the cores, and
	// decoding large answers can cost it more CPU than the server spends:
	// the report says how much it took so that the figures can be judged.
	cpuBefore := cputime.Process()
	last := before
	for _, o := range selected {
		var send sender
		if raw != nil {
			url := base + o.call.path(q.detector)
			send = func(ctx context.Context, _ int, rng *rand.Rand) (int64, error) {
				return raw.send(ctx, url, o.body(q, rng))
			}
		} else {
			send = func(ctx context.Context, w int, rng *rand.Rand) (int64, error) {
				return 0, o.callSDK(ctx, sdkClients[w], q.detector, o.body(q, rng))
			}
		}
		row, n := drive(ctx, cfg, o.name, send)
		after := readServerStats(ctx, metricsClient, base)
		r := OpRow{Row: row, RSS: after.rss}
		if raw != nil && row.Requests > 0 {
			r.BytesPerAnswer = float64(n) / float64(row.Requests)
		}
		if last.ok && after.ok {
			r.ServerCPU = time.Duration((after.cpu - last.cpu) * float64(time.Second))
		}
		last = after
		if static != nil && ctx.Err() == nil {
			url := static.opURL(o, q.detector)
			srow, _ := drive(ctx, cfg, o.name, func(ctx context.Context, _ int, rng *rand.Rand) (int64, error) {
				return staticRaw.send(ctx, url, o.body(q, rng))
			})
			r.Static = &srow
			last = readServerStats(ctx, metricsClient, base)
		}
		rep.Rows = append(rep.Rows, r)
		if ctx.Err() != nil {
			break
		}
	}
	rep.LoadCPU = cputime.Process() - cpuBefore
	rep.RSSAfter, rep.LoadAfter = last.rss, loadAverage()
	return rep, nil
}

// sender sends one request for worker w and returns the size of the
// answer's body when it knows it.
type sender func(ctx context.Context, w int, rng *rand.Rand) (int64, error)

// drive runs cfg.Concurrency workers that call send one request after the
// other until cfg.Duration has passed, and returns the row of name and
// the bytes of all answers.
func drive(ctx context.Context, cfg Config, name string, send sender) (Row, int64) {
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	per := make([]results, cfg.Concurrency)
	var total atomic.Int64
	var wg sync.WaitGroup
	for i := range per {
		per[i] = results{}
		rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t := time.Now()
				n, err := send(ctx, i, rng)
				elapsed := time.Since(t)
				if err != nil && ctx.Err() != nil {
					return // cut short by an interrupt: not the server's error
				}
				total.Add(n)
				per[i].add(name, elapsed, err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	merged := results{}
	for _, r := range per {
		merged.merge(r)
	}
	return newRow(name, merged.op(name), elapsed), total.Load()
}

// serverStats are figures of the server process from its /metrics.
type serverStats struct {
	rss, cpu float64 // bytes, seconds
	ok       bool
}

// readServerStats reads process_resident_memory_bytes and
// process_cpu_seconds_total from the server's GET /metrics (Prometheus'
// process collector, so no pid is needed). ok is false when the server
// has no such figures.
func readServerStats(ctx context.Context, client *http.Client, base string) serverStats {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return serverStats{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return serverStats{}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return serverStats{}
	}
	return parseServerStats(resp.Body)
}

func parseServerStats(r io.Reader) serverStats {
	var s serverStats
	var haveRSS, haveCPU bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			s.rss, haveRSS = parseFloat(value)
		case "process_cpu_seconds_total":
			s.cpu, haveCPU = parseFloat(value)
		}
	}
	s.ok = haveRSS && haveCPU
	return s
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

// loadAverage is the first three fields of /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// write prints the report as plain text aligned for a README code block.
func (rep *OpsReport) write(w io.Writer) {
	c := rep.Config
	if c.CommandLine != "" {
		fmt.Fprintf(w, "$ %s\n", c.CommandLine)
	}
	client := "AWS SDK for Go v2 (answers decoded)"
	if c.Raw || c.Static {
		client = "raw (SigV4-signed requests, answers read and discarded)"
	}
	fmt.Fprintf(w, "endpoint %s, region %s, client %s, %d workers, %s per operation\n",
		c.Endpoint, c.Region, client, c.Concurrency, c.Duration)
	q := rep.Queries
	fmt.Fprintf(w, "detector %s holding %d findings; ids drawn from %d; instanceId %s; pattern %s\n",
		q.detector, rep.Findings, len(q.ids), q.instanceID, q.pattern)
	fmt.Fprintf(w, "server RSS %s MiB before, %s MiB after; load average %s before, %s after\n",
		mib(rep.RSSBefore), mib(rep.RSSAfter), rep.LoadBefore, rep.LoadAfter)
	fmt.Fprintf(w, "load generator: GOMAXPROCS %d", runtime.GOMAXPROCS(0))
	if rep.LoadCPU > 0 {
		fmt.Fprintf(w, ", %.1f CPU-seconds used", rep.LoadCPU.Seconds())
		if c.Static {
			fmt.Fprint(w, " (the static server's included)")
		}
	}
	fmt.Fprint(w, "\n\n")

	width := len("operation")
	for _, r := range rep.Rows {
		width = max(width, len(r.Operation))
	}
	fmt.Fprintf(w, "%-*s  %8s  %6s  %8s  %7s  %7s  %7s  %7s  %8s  %8s  %7s",
		width, "operation", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "resp KB", "srv ms/rq", "RSS MiB")
	if c.Static {
		fmt.Fprintf(w, "  %9s  %8s  %8s  %6s", "static/s", "st p50", "st p99", "ratio")
	}
	fmt.Fprintln(w)
	rows := make([]Row, 0, 2*len(rep.Rows))
	for _, r := range rep.Rows {
		kb, srv := "-", "-"
		if r.BytesPerAnswer > 0 {
			kb = fmt.Sprintf("%.1f", r.BytesPerAnswer/1024)
		}
		if r.ServerCPU > 0 && r.Requests > 0 {
			srv = fmt.Sprintf("%.3f", r.ServerCPU.Seconds()*1000/float64(r.Requests))
		}
		fmt.Fprintf(w, "%-*s  %8d  %6d  %8.1f  %7s  %7s  %7s  %7s  %8s  %8s  %7s",
			width, r.Operation, r.Requests, r.ErrorCount(), r.PerSecond,
			millis(r.P50), millis(r.P90), millis(r.P99), millis(r.Max), kb, srv, mib(r.RSS))
		if c.Static && r.Static != nil {
			fmt.Fprintf(w, "  %9.1f  %8s  %8s  %6.3f", r.Static.PerSecond, millis(r.Static.P50), millis(r.Static.P99), r.Ratio())
		}
		fmt.Fprintln(w)
		rows = append(rows, r.Row)
		if r.Static != nil {
			s := *r.Static
			s.Operation += " (static server)"
			rows = append(rows, s)
		}
	}
	writeErrors(w, rows)
}

func mib(b float64) string {
	if b <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f", b/(1<<20))
}
