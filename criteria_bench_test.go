package guardpost_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// benchDocs are 1,000 generated findings (guardpost-load --load's), as JSON
// and as the decoded documents ParseFinding reads.
func benchDocs(b *testing.B) ([][]byte, []map[string]any) {
	b.Helper()
	gen := findinggen.New(1)
	raw := make([][]byte, 1000)
	docs := make([]map[string]any, len(raw))
	for i := range raw {
		var err error
		if raw[i], err = gen.Next(); err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(raw[i], &docs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return raw, docs
}

// benchCriteria are the criteria of guardpost-load's ops and of a
// console's default view.
var benchCriteria = map[string]guardpost.Criteria{
	"severity>=5":    {"severity": {GreaterThanOrEqual: ptr(5)}},
	"archived=false": {"service.archived": {Equals: []string{"false"}}},
	"instanceId=":    {"resource.instanceDetails.instanceId": {Equals: []string{"i-0008b69159c311f7a"}}},
	"instanceId~":    {"resource.instanceDetails.instanceId": {Matches: []string{"i-008b*"}}},
	"four": {
		"severity":                            {GreaterThanOrEqual: ptr(5)},
		"service.archived":                    {Equals: []string{"false"}},
		"type":                                {Matches: []string{"*:EC2/*"}},
		"resource.instanceDetails.instanceId": {NotEquals: []string{"i-0008b69159c311f7a"}},
	},
}

func ptr(n int64) *int64 { return &n }

func BenchmarkCompileCriteria(b *testing.B) {
	for _, name := range slices.Sorted(maps.Keys(benchCriteria)) {
		c := benchCriteria[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := guardpost.CompileCriteria(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMatch evaluates compiled criteria over the attributes of one
// finding (ns/op is per finding): what a store without an index does for
// every finding of a listing.
func BenchmarkMatch(b *testing.B) {
	_, docs := benchDocs(b)
	attrs := make([][]guardpost.AttributeValue, len(docs))
	for i, d := range docs {
		attrs[i] = guardpost.FindingAttributes(d)
	}
	for _, name := range slices.Sorted(maps.Keys(benchCriteria)) {
		where, err := guardpost.CompileCriteria(benchCriteria[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i, matched := 0, 0
			for b.Loop() {
				if guardpost.Match(where, attrs[i%len(attrs)]) {
					matched++
				}
				i++
			}
			b.ReportMetric(float64(matched)/float64(i), "matched/op")
		})
	}
}

// BenchmarkFindingAttributes extracts the filterable values of a decoded
// finding document: done for every finding written.
func BenchmarkFindingAttributes(b *testing.B) {
	_, docs := benchDocs(b)
	b.ReportAllocs()
	i, n := 0, 0
	for b.Loop() {
		n += len(guardpost.FindingAttributes(docs[i%len(docs)]))
		i++
	}
	b.ReportMetric(float64(n)/float64(i), "values/op")
}

// BenchmarkParseFinding reads a finding's JSON into a Finding (indexed
// fields, sort keys, attributes): done for every finding written.
func BenchmarkParseFinding(b *testing.B) {
	raw, _ := benchDocs(b)
	b.SetBytes(averageSize(raw))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := guardpost.ParseFinding(raw[i%len(raw)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkEncodeFinding is the encoding half: a decoded document back to
// JSON, as an import and every rewrite of a finding do.
func BenchmarkEncodeFinding(b *testing.B) {
	raw, docs := benchDocs(b)
	b.SetBytes(averageSize(raw))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := json.Marshal(docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// averageSize is the mean length of the documents, for b.SetBytes.
func averageSize(raw [][]byte) int64 {
	size := 0
	for _, r := range raw {
		size += len(r)
	}
	return int64(size / len(raw))
}
