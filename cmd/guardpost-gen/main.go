// Command guardpost-gen writes realistic GuardDuty findings for loading
// into guardpost (guardpost ingest), so that a bulk-load measurement can be
// repeated:
//
//	guardpost-gen --findings 100000 --out /tmp/findings.jsonl.gz [--seed 1]
//
// Each finding starts from the sample catalogue's template of a random type
// and gets its own id, severity, times, count, addresses and instance id.
// The output is JSON lines in the wire form (camelCase), gzipped when the
// file name ends in .gz. The same seed gives the same file.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/samples"
)

func main() {
	fs := flag.NewFlagSet("guardpost-gen", flag.ContinueOnError)
	n := fs.Int("findings", 1000, "number of findings to write")
	out := fs.String("out", "", "output file (.jsonl, or .jsonl.gz to gzip it); - for stdout")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same findings")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: guardpost-gen --findings N --out FILE [--seed S]")
		os.Exit(2)
	}
	if err := write(*out, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "guardpost-gen:", err)
		os.Exit(1)
	}
}

func write(name string, n int, seed uint64) (err error) {
	var w io.Writer = os.Stdout
	if name != "-" {
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var dst io.Writer = bw
	var zw *gzip.Writer
	if strings.HasSuffix(name, ".gz") {
		zw = gzip.NewWriter(bw)
		dst = zw
	}
	g := NewGenerator(seed)
	for range n {
		b, err := g.Next()
		if err != nil {
			return err
		}
		dst.Write(b)
		if _, err := dst.Write([]byte{'\n'}); err != nil {
			return err
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Generator makes varied findings from the sample catalogue.
type Generator struct {
	rng     *rand.Rand
	catalog *samples.Catalog
	types   []string
	base    time.Time
}

// NewGenerator returns a generator whose findings depend only on seed.
func NewGenerator(seed uint64) *Generator {
	c := samples.New()
	return &Generator{
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		catalog: c,
		types:   c.Types(),
		base:    time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	}
}

var severities = []float64{1, 2, 2, 2, 3, 4, 5, 5, 5, 5, 6, 7, 8, 8, 8, 8.5, 9}

// Next returns the JSON of the next finding.
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
