// Package findinggen makes realistic GuardDuty findings for bulk loads and
// benchmarks (guardpost-gen writes them to a file, guardpost-load imports
// them): each starts from the sample catalogue's template of a random type
// and gets its own id, severity, times, count, addresses and instance id.
// The same seed gives the same findings, so a measurement can be repeated.
package findinggen

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/samples"
)

// Generator makes varied findings from the sample catalogue. It is not
// safe for concurrent use.
type Generator struct {
	rng     *rand.Rand
	catalog *samples.Catalog
	types   []string
	base    time.Time
}

// New returns a generator whose findings depend only on seed.
func New(seed uint64) *Generator {
	c := samples.New()
	return &Generator{
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		catalog: c,
		types:   c.Types(),
		base:    time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	}
}

var severities = []float64{1, 2, 2, 2, 3, 4, 5, 5, 5, 5, 6, 7, 8, 8, 8, 8.5, 9}

// Next returns the JSON (wire form, camelCase) of the next finding.
func (g *Generator) Next() ([]byte, error) {
	r := g.rng
	typ := g.types[r.IntN(len(g.types))]
	now := g.base.Add(-time.Duration(r.Int64N(int64(90 * 24 * time.Hour)))).Truncate(time.Millisecond)
	id := make([]byte, 16)
	for i := range id {
		id[i] = byte(r.UintN(256))
	}
	doc, _ := g.catalog.Sample(typ, guardpost.SampleParams{
		AccountID: fmt.Sprintf("%012d", r.Int64N(1e12)), Region: "us-east-1", Partition: "aws",
		DetectorID: "00000000000000000000000000000000", FindingID: hex.EncodeToString(id), Now: now,
	})
	var f map[string]any
	d := json.NewDecoder(strings.NewReader(string(doc)))
	d.UseNumber()
	if err := d.Decode(&f); err != nil {
		return nil, err
	}
	if r.IntN(3) > 0 { // a third keep the type's default severity
		f["severity"] = severities[r.IntN(len(severities))]
	}
	created := now.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	f["createdAt"] = guardpost.ISOTime(created)
	if svc, ok := f["service"].(map[string]any); ok {
		svc["count"] = 1 + r.IntN(200)
		svc["eventFirstSeen"] = guardpost.ISOTime(created)
		svc["eventLastSeen"] = guardpost.ISOTime(now)
		svc["archived"] = r.IntN(10) == 0
	}
	g.vary(f)
	return json.Marshal(f)
}

// vary gives addresses and instance ids values of their own.
func (g *Generator) vary(v any) {
	switch x := v.(type) {
	case map[string]any:
		// In key order: the random draws must come in the same order on
		// every run for a seed to give the same file.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			e := x[k]
			switch k {
			case "ipAddressV4":
				if _, ok := e.(string); ok {
					x[k] = fmt.Sprintf("%d.%d.%d.%d", 1+g.rng.IntN(223), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
				}
			case "instanceId":
				if _, ok := e.(string); ok {
					x[k] = fmt.Sprintf("i-%017x", g.rng.Uint64()>>4)
				}
			default:
				g.vary(e)
			}
		}
	case []any:
		for _, e := range x {
			g.vary(e)
		}
	}
}
