// Package metrics holds guardpost's Prometheus collectors: requests by
// operation and status, request and store latencies, and findings written.
// They register on a registry the caller owns (never the global one), so
// that several servers in one process, as in the tests, keep apart.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guardpost/guardpost"
)

// Metrics are the collectors one server updates.
type Metrics struct {
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	findingsCreated prometheus.Counter
	findingsUpdated prometheus.Counter
	storeDuration   *prometheus.HistogramVec
}

// New creates the collectors and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guardpost_http_requests_total",
			Help: "HTTP requests answered, by operation and status code.",
		}, []string{"operation", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "guardpost_http_request_duration_seconds",
			Help: "Time from receiving a request to finishing its answer, by operation.",
			// Reads are answered in about a millisecond, fsynced writes in a few.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "guardpost_store_duration_seconds",
			Help:    "Time spent in store calls, by store method.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method"}),
	}
	written := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guardpost_findings_written_total",
		Help: "Findings written through the findings pipeline, by outcome (created: a new finding; updated: a new occurrence of a stored one).",
	}, []string{"outcome"})
	m.findingsCreated = written.WithLabelValues("created")
	m.findingsUpdated = written.WithLabelValues("updated")
	reg.MustRegister(m.requests, m.requestDuration, written, m.storeDuration)
	return m
}

// codes holds the label value of every HTTP status code, so that counting a
// request does not format one.
var codes = func() (c [600]string) {
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}()

// ObserveRequest counts one answered request and its latency.
func (m *Metrics) ObserveRequest(operation string, code int, elapsed time.Duration) {
	label := ""
	if code >= 0 && code < len(codes) {
		label = codes[code]
	} else {
		label = strconv.Itoa(code)
	}
	m.requests.WithLabelValues(operation, label).Inc()
	m.requestDuration.WithLabelValues(operation).Observe(elapsed.Seconds())
}

// FindingsWritten counts the findings one pipeline write created and updated;
// it is the guardpost.Service hook of the same name.
func (m *Metrics) FindingsWritten(r guardpost.WriteReport) {
	m.findingsCreated.Add(float64(len(r.Created)))
	m.findingsUpdated.Add(float64(len(r.Updated)))
}
