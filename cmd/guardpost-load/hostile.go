package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// hostileMix runs the mixed SDK workload while attackers hit the same
// server with what issue 9 point 7 measured: slow headers and bodies
// (slowloris), unauthenticated and authenticated; bodies over the limit;
// requests that amplify (4 MB of empty ids, 32,761 criteria values, 3.9
// MiB of feedback comments); header bombs; answers never read. The normal
// workers use the SDK's standard retryer, so that a 429 is retried as it
// would be for any client; the report tells how many 429s they saw, their
// latency, what each attack got back, and the server's resident memory
// (from its /metrics) at its peak.
const hostileMix = "hostile"

// attack is one kind of hostile client; slow attacks hold connections and
// run Attackers at once, fast ones run two at once.
type attack struct {
	name string
	slow bool
	run  func(h *hostile, ctx context.Context) string // the outcome: a status, or what ended the connection
}

var attacks = []attack{
	{"slow header", true, (*hostile).slowHeader},
	{"slow body, unsigned", true, (*hostile).slowBodyUnsigned},
	{"slow body, signed", true, (*hostile).slowBodySigned},
	{"answer never read", true, (*hostile).unreadAnswer},
	{"body over 4 MiB, signed", false, (*hostile).oversized},
	{"4 MB of empty ids, signed", false, (*hostile).emptyIDs},
	{"32,761 equals values, signed", false, (*hostile).manyValues},
	{"3.9 MiB feedback comments, signed", false, (*hostile).bigComments},
	{"128 KiB header", false, (*hostile).headerBomb},
}

// hostile is the attackers' shared state.
type hostile struct {
	addr     string // host:port
	creds    aws.Credentials
	region   string
	detector string
	ids      []string

	mu       sync.Mutex
	outcomes map[string]map[string]int // attack → outcome → count
}

func (h *hostile) record(attack, outcome string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.outcomes[attack]
	if m == nil {
		m = map[string]int{}
		h.outcomes[attack] = m
	}
	m[outcome]++
}

// statusCounter counts the answers the normal workers' SDK clients get by
// status, retried attempts included.
type statusCounter struct {
	inner     http.RoundTripper
	throttled atomic.Int64
	answers   atomic.Int64
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.inner.RoundTrip(r)
	if err == nil {
		c.answers.Add(1)
		if resp.StatusCode == http.StatusTooManyRequests {
			c.throttled.Add(1)
		}
	}
	return resp, err
}

// HostileReport is the outcome of a hostile run.
type HostileReport struct {
	Normal              *Report
	Outcomes            map[string]map[string]int
	Throttled, Answers  int64
	RSSBefore, RSSPeak  float64
	RSSAfter            float64
	LoadBefore, LoadEnd string
}

func runHostile(ctx context.Context, cfg Config, attackers int) (*HostileReport, error) {
	awsCfg, err := awsConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	target, err := prepare(ctx, newClient(awsCfg, cfg.Endpoint), cfg.SeedSamples)
	if err != nil {
		return nil, err
	}
	h := &hostile{addr: u.Host, creds: creds, region: cfg.Region, detector: target.detector, ids: target.ids,
		outcomes: map[string]map[string]int{}}
	probe := &http.Client{Timeout: 10 * time.Second}
	rep := &HostileReport{LoadBefore: loadAverage()}
	before := readServerStats(ctx, probe, cfg.Endpoint)
	rep.RSSBefore, rep.RSSPeak = before.rss, before.rss

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	// A fast attack started before the end runs to its answer (the
	// server's timeouts bound it), so that every kind has an outcome even
	// on a slow machine; slow attacks hold until the end.
	finishCtx, cancelFinish := context.WithTimeout(ctx, cfg.Duration+time.Minute)
	defer cancelFinish()
	var wg sync.WaitGroup
	for _, a := range attacks {
		n, attackCtx := 2, finishCtx
		if a.slow {
			n, attackCtx = attackers, runCtx
		}
		for range n {
			wg.Go(func() {
				for runCtx.Err() == nil {
					started := time.Now()
					got := a.run(h, attackCtx)
					if runCtx.Err() != nil && got == "dial error" {
						got = "held until the end"
					}
					h.record(a.name, got)
					// A pace after a quick answer, so that a refused attacker
					// does not spin through the ports, and the normal workers
					// share the CPU with more than the attacks.
					if pause := 100*time.Millisecond - time.Since(started); pause > 0 {
						select {
						case <-runCtx.Done():
						case <-time.After(pause):
						}
					}
				}
			})
		}
	}
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(250 * time.Millisecond):
			}
			if s := readServerStats(ctx, probe, cfg.Endpoint); s.ok && s.rss > rep.RSSPeak {
				rep.RSSPeak = s.rss
			}
		}
	}()

	// The normal workload, with retries as any SDK client has them.
	counter := &statusCounter{inner: newTransport(cfg.Concurrency)}
	normalCfg := awsCfg.Copy()
	normalCfg.HTTPClient = &http.Client{Transport: counter, Timeout: time.Minute}
	normalCfg.Retryer = func() aws.Retryer { return retry.NewStandard() }
	workers := make([]*worker, cfg.Concurrency)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var normal sync.WaitGroup
	for i := range workers {
		w := &worker{client: newClient(normalCfg, cfg.Endpoint), target: target, results: results{},
			rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
		workers[i] = w
		normal.Go(func() { w.run(ctx, mixes["mixed"], deadline) })
	}
	normal.Wait()
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	close(stopSampling)
	<-sampled
	merged := results{}
	for _, w := range workers {
		merged.merge(w.results)
	}
	rep.Normal = newReport(cfg, target, elapsed, merged)
	rep.Outcomes = h.outcomes
	rep.Throttled, rep.Answers = counter.throttled.Load(), counter.answers.Load()
	after := readServerStats(ctx, probe, cfg.Endpoint)
	rep.RSSAfter = after.rss
	rep.RSSPeak = max(rep.RSSPeak, after.rss)
	rep.LoadEnd = loadAverage()
	return rep, nil
}

func (rep *HostileReport) write(w io.Writer) {
	rep.Normal.write(w)
	fmt.Fprintf(w, "\nnormal workers' answers: %d, of which 429 (retried by the SDK): %d\n", rep.Answers, rep.Throttled)
	fmt.Fprintf(w, "\nattacks (outcome: count):\n")
	for _, a := range attacks {
		m := rep.Outcomes[a.name]
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
		}
		fmt.Fprintf(w, "  %-34s %s\n", a.name, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "\nserver RSS: %.0f MiB before, %.0f MiB peak, %.0f MiB after; load average %s before, %s after\n",
		rep.RSSBefore/(1<<20), rep.RSSPeak/(1<<20), rep.RSSAfter/(1<<20), rep.LoadBefore, rep.LoadEnd)
}

// dial opens a connection that ctx's end closes.
func (h *hostile) dial(ctx context.Context) (net.Conn, func(), error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	return c, func() { stop(); c.Close() }, nil
}

// outcome reads the answer on c: its status, or what ended the connection.
func outcome(ctx context.Context, c net.Conn) string {
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if ctx.Err() != nil {
			return "held until the end"
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF || strings.Contains(err.Error(), "reset") {
			return "closed by the server"
		}
		return "error"
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if t := resp.Header.Get("X-Amzn-ErrorType"); t != "" {
		return fmt.Sprintf("%d %s", resp.StatusCode, t)
	}
	return fmt.Sprint(resp.StatusCode)
}

// trickle writes s a byte per second until done, ctx ends or a write fails.
func trickle(ctx context.Context, c net.Conn, s string) {
	for i := 0; i < len(s) && ctx.Err() == nil; i++ {
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (h *hostile) slowHeader(ctx context.Context) string {
	c, done, err := h.dial(ctx)
	if err != nil {
		return "dial error"
	}
	defer done()
	go trickle(ctx, c, "GET /detector HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 1000))
	return outcome(ctx, c)
}

func (h *hostile) slowBodyUnsigned(ctx context.Context) string {
	c, done, err := h.dial(ctx)
	if err != nil {
		return "dial error"
	}
	defer done()
	io.WriteString(c, "POST /detector/"+h.detector+"/findings/get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n")
	go trickle(ctx, c, strings.Repeat(" ", 1000))
	return outcome(ctx, c)
}

// signedHead is the header of a signed request for body, as written
// before the body.
func (h *hostile) signedHead(method, path string, body []byte) string {
	req, _ := http.NewRequest(method, "http://"+h.addr+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	v4.NewSigner().SignHTTP(context.Background(), h.creds, req, hex.EncodeToString(sum[:]), "guardduty", h.region, time.Now())
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", method, path, h.addr, len(body))
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

func (h *hostile) slowBodySigned(ctx context.Context) string {
	c, done, err := h.dial(ctx)
	if err != nil {
		return "dial error"
	}
	defer done()
	body := `{"findingIds":["` + strings.Repeat("a", 200) + `"]}`
	io.WriteString(c, h.signedHead("POST", "/detector/"+h.detector+"/findings/get", []byte(body)))
	go trickle(ctx, c, body)
	return outcome(ctx, c)
}

// unreadAnswer asks for 50 findings again and again on one connection and
// reads nothing.
func (h *hostile) unreadAnswer(ctx context.Context) string {
	c, done, err := h.dial(ctx)
	if err != nil {
		return "dial error"
	}
	defer done()
	if tcp, ok := c.(*net.TCPConn); ok {
		tcp.SetReadBuffer(4 << 10)
	}
	ids := h.ids[:min(50, len(h.ids))]
	body := []byte(`{"findingIds":["` + strings.Join(ids, `","`) + `"]}`)
	for ctx.Err() == nil {
		req := h.signedHead("POST", "/detector/"+h.detector+"/findings/get", body) + string(body)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return "held until the end"
	}
	// The server stopped taking requests: drain to see whether it closed.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); err == nil || !isTimeout(err) {
		return "closed by the server"
	}
	return "stalled"
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// sendSigned writes a signed request at full speed and reads its answer.
func (h *hostile) sendSigned(ctx context.Context, path string, body []byte) string {
	c, done, err := h.dial(ctx)
	if err != nil {
		return "dial error"
	}
	defer done()
	go func() {
		io.WriteString(c, h.signedHead("POST", path, body))
		c.Write(body)
	}()
	return outcome(ctx, c)
}

func (h *hostile) oversized(ctx context.Context) string {
	body := bytes.Repeat([]byte(" "), 4<<20+1)
	return h.sendSigned(ctx, "/detector/"+h.detector+"/findings/get", body)
}

var emptyIDsBody = []byte(`{"findingIds":[` + strings.Repeat(`"",`, 1390000) + `""]}`)

func (h *hostile) emptyIDs(ctx context.Context) string {
	return h.sendSigned(ctx, "/detector/"+h.detector+"/findings/get", emptyIDsBody)
}

func (h *hostile) manyValues(ctx context.Context) string {
	values := make([]string, 32761)
	for i := range values {
		values[i] = fmt.Sprintf(`"i-%08x"`, i)
	}
	body := []byte(`{"findingCriteria":{"criterion":{"resource.instanceDetails.instanceId":{"equals":[` + strings.Join(values, ",") + `]}}}}`)
	return h.sendSigned(ctx, "/detector/"+h.detector+"/findings", body)
}

func (h *hostile) bigComments(ctx context.Context) string {
	ids := h.ids[:min(50, len(h.ids))]
	body := []byte(`{"findingIds":["` + strings.Join(ids, `","`) + `"],"feedback":"USEFUL","comments":"` + strings.Repeat("c", 3900<<10) + `"}`)
	return h.sendSigned(ctx, "/detector/"+h.detector+"/findings/feedback", body)
}

func (h *hostile) headerBomb(ctx context.Context) string {
	c, done, err := h.dial(ctx)
	if err != nil {
		return "dial error"
	}
	defer done()
	go io.WriteString(c, "GET /detector HTTP/1.1\r\nHost: x\r\nX-Bomb: "+strings.Repeat("b", 128<<10)+"\r\n\r\n")
	return outcome(ctx, c)
}
