package metrics

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guardpost/guardpost"
)

// gather returns the sample count (histograms) or value (counters) of
// every series of a family, by the value of one label.
func gather(t *testing.T, reg *prometheus.Registry, family, label string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					key = l.GetValue()
				}
			}
			if h := m.GetHistogram(); h != nil {
				out[key] = float64(h.GetSampleCount())
			} else {
				out[key] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// TestStoreTimesEveryMethod calls every method of guardpost.Store through
// the decorator, over a store whose methods all panic (a nil embedded
// interface): the deferred observation still runs, under the method's name.
func TestStoreTimesEveryMethod(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := New(reg).Store(struct{ guardpost.Store }{})
	v := reflect.ValueOf(s)
	iface := reflect.TypeFor[guardpost.Store]()
	for i := range iface.NumMethod() {
		method := iface.Method(i)
		fn := v.MethodByName(method.Name)
		args := make([]reflect.Value, fn.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(fn.Type().In(j))
		}
		func() {
			defer func() { recover() }()
			fn.Call(args)
		}()
	}
	got := gather(t, reg, "guardpost_store_duration_seconds", "method")
	for i := range iface.NumMethod() {
		name := iface.Method(i).Name
		if want := map[bool]float64{true: 0, false: 1}[name == "Close"]; got[name] != want {
			t.Errorf("%s observed %v times, want %v", name, got[name], want)
		}
	}
}

func TestRequestsAndFindings(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.ObserveRequest("GetFindings", http.StatusOK, time.Millisecond)
	m.ObserveRequest("GetFindings", http.StatusOK, 2*time.Millisecond)
	m.ObserveRequest("GetFindings", http.StatusBadRequest, time.Millisecond)
	m.ObserveRequest("unknown", 999, time.Millisecond)
	if got := gather(t, reg, "guardpost_http_requests_total", "code"); got["200"] != 2 || got["400"] != 1 || got["999"] != 1 {
		t.Errorf("requests by code %v", got)
	}
	if got := gather(t, reg, "guardpost_http_request_duration_seconds", "operation"); got["GetFindings"] != 3 || got["unknown"] != 1 {
		t.Errorf("latency observations by operation %v", got)
	}
	m.FindingsWritten(guardpost.WriteReport{Created: []string{"a", "b"}, Updated: []string{"c"}})
	m.FindingsWritten(guardpost.WriteReport{Created: []string{"d"}})
	if got := gather(t, reg, "guardpost_findings_written_total", "outcome"); got["created"] != 3 || got["updated"] != 1 {
		t.Errorf("findings written %v", got)
	}
}

// BenchmarkObserveRequest is the metrics cost on the request path.
func BenchmarkObserveRequest(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("GetFindings", http.StatusOK, time.Millisecond)
	}
}
