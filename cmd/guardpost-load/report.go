package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"
)

// opResults is what one operation measured: the latency of every request,
// failed ones included, and the failures by error code.
type opResults struct {
	latencies    []time.Duration
	errors       map[string]int    // by error code
	firstMessage map[string]string // by error code, to tell what went wrong
}

// results are one worker's measurements, by operation name; workers do not
// share them, so recording needs no lock.
type results map[string]*opResults

func (r results) op(name string) *opResults {
	o, ok := r[name]
	if !ok {
		o = &opResults{errors: map[string]int{}, firstMessage: map[string]string{}}
		r[name] = o
	}
	return o
}

func (r results) add(name string, latency time.Duration, err error) {
	o := r.op(name)
	o.latencies = append(o.latencies, latency)
	if err != nil {
		code := errorCode(err)
		if o.errors[code] == 0 {
			o.firstMessage[code] = err.Error()
		}
		o.errors[code]++
	}
}

func (r results) merge(other results) {
	for name, theirs := range other {
		ours := r.op(name)
		ours.latencies = append(ours.latencies, theirs.latencies...)
		for code, n := range theirs.errors {
			if ours.errors[code] == 0 {
				ours.firstMessage[code] = theirs.firstMessage[code]
			}
			ours.errors[code] += n
		}
	}
}

// Row is one line of the report.
type Row struct {
	Operation          string
	Requests           int
	Errors             map[string]int // by error code
	FirstMessage       map[string]string
	PerSecond          float64
	P50, P90, P99, Max time.Duration
}

// ErrorCount is the number of failed requests.
func (r Row) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

func newRow(name string, o *opResults, elapsed time.Duration) Row {
	sorted := slices.Clone(o.latencies)
	slices.Sort(sorted)
	return Row{
		Operation:    name,
		Requests:     len(sorted),
		Errors:       o.errors,
		FirstMessage: o.firstMessage,
		PerSecond:    float64(len(sorted)) / elapsed.Seconds(),
		P50:          percentile(sorted, 50),
		P90:          percentile(sorted, 90),
		P99:          percentile(sorted, 99),
		Max:          percentile(sorted, 100),
	}
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

// Report is the outcome of a load run.
type Report struct {
	Config   Config
	Detector string
	Findings int // known finding ids the workload picked from
	Elapsed  time.Duration
	LoadCPU  time.Duration // CPU time the load generator used; 0 where unknown
	Rows     []Row         // one per operation in operationOrder, then the total
}

func newReport(cfg Config, t target, elapsed time.Duration, r results) *Report {
	rep := &Report{Config: cfg, Detector: t.detector, Findings: len(t.ids), Elapsed: elapsed}
	all := results{}
	for _, name := range operationOrder {
		if o, ok := r[name]; ok {
			rep.Rows = append(rep.Rows, newRow(name, o, elapsed))
			all.merge(results{"total": o})
		}
	}
	rep.Rows = append(rep.Rows, newRow("total", all.op("total"), elapsed))
	return rep
}

// Row returns the row of an operation, or "total".
func (rep *Report) Row(operation string) (Row, bool) {
	for _, r := range rep.Rows {
		if r.Operation == operation {
			return r, true
		}
	}
	return Row{}, false
}

// write prints the report as plain text aligned for a README code block.
func (rep *Report) write(w io.Writer) {
	c := rep.Config
	if c.CommandLine != "" {
		fmt.Fprintf(w, "$ %s\n", c.CommandLine)
	}
	fmt.Fprintf(w, "endpoint %s, region %s, mix %s, %d workers for %s (%s until the last request ended)\n",
		c.Endpoint, c.Region, c.Mix, c.Concurrency, c.Duration, rep.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "detector %s, %d findings picked from; load generator: GOMAXPROCS %d", rep.Detector, rep.Findings, runtime.GOMAXPROCS(0))
	if rep.LoadCPU > 0 {
		fmt.Fprintf(w, ", %.1f CPU-seconds used", rep.LoadCPU.Seconds())
	}
	fmt.Fprint(w, "\n\n")

	width := len("operation")
	for _, r := range rep.Rows {
		width = max(width, len(r.Operation))
	}
	fmt.Fprintf(w, "%-*s  %9s  %7s  %9s  %8s  %8s  %8s  %8s\n",
		width, "operation", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "%-*s  %9d  %7d  %9.1f  %8s  %8s  %8s  %8s\n",
			width, r.Operation, r.Requests, r.ErrorCount(), r.PerSecond,
			millis(r.P50), millis(r.P90), millis(r.P99), millis(r.Max))
	}

	writeErrors(w, rep.Rows)
}

// writeErrors lists the rows' failures by error code, with the first
// message of each.
func writeErrors(w io.Writer, rows []Row) {
	var failures []string
	for _, r := range rows {
		if r.Operation == "total" {
			continue
		}
		for _, code := range slices.Sorted(maps.Keys(r.Errors)) {
			failures = append(failures, fmt.Sprintf("  %s %s: %d, first: %s",
				r.Operation, code, r.Errors[code], oneLine(r.FirstMessage[code])))
		}
	}
	if len(failures) > 0 {
		fmt.Fprintf(w, "\nerrors by code:\n%s\n", strings.Join(failures, "\n"))
	}
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
