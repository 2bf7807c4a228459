// Package samples is the catalogue of sample findings that
// CreateSampleFindings writes: one realistic template for every active
// GuardDuty finding type, rendered as the canonical Finding JSON document
// that GetFindings returns (camelCase member names and member types of the
// GuardDuty Smithy model).
//
// The list of types and their severities is the table in types.go. Each row
// names a resource builder (resources.go) and the details that fill the
// service object: the action (actions.go, with the remote parties of
// network.go), runtime context (runtime.go), malware scan results
// (malware.go) and anomaly or attack-sequence detection (detection.go).
// document.go assembles the finding.
package samples

import (
	"slices"

	"github.com/guardpost/guardpost"
)

// Catalog is the sample-finding catalogue. The zero value is not usable;
// call New.
type Catalog struct {
	byType map[string]*spec
	types  []string
}

var _ guardpost.SampleCatalog = (*Catalog)(nil)

// New returns the catalogue of every finding type in the table.
func New() *Catalog {
	c := &Catalog{byType: make(map[string]*spec, len(table))}
	for i := range table {
		s := &table[i]
		if _, dup := c.byType[s.Type]; dup {
			panic("samples: finding type listed twice: " + s.Type)
		}
		c.byType[s.Type] = s
		c.types = append(c.types, s.Type)
	}
	slices.Sort(c.types)
	return c
}

// Types lists every finding type with a template, sorted.
func (c *Catalog) Types() []string { return slices.Clone(c.types) }

// Severity returns the default severity the catalogue gives a finding type.
func (c *Catalog) Severity(findingType string) (float64, bool) {
	s, ok := c.byType[findingType]
	if !ok {
		return 0, false
	}
	return s.Severity, true
}

// Sample renders the sample finding of the given type for p, or returns
// false when the type is unknown. The document depends only on the type and
// p: the same inputs always give the same bytes.
func (c *Catalog) Sample(findingType string, p guardpost.SampleParams) ([]byte, bool) {
	s, ok := c.byType[findingType]
	if !ok {
		return nil, false
	}
	return s.render(p), true
}
