package findinggen

import (
	"bytes"
	"testing"

	"github.com/guardpost/guardpost/ingest"
)

// TestGenerator: the findings are valid imports, vary, and depend only on
// the seed.
func TestGenerator(t *testing.T) {
	a, b := New(7), New(7)
	ids := map[string]bool{}
	types := map[string]bool{}
	for range 100 {
		x, err := a.Next()
		if err != nil {
			t.Fatal(err)
		}
		y, _ := b.Next()
		if !bytes.Equal(x, y) {
			t.Fatal("the same seed gave different findings")
		}
		doc, err := ingest.Finding(x)
		if err != nil {
			t.Fatalf("%s: %v", x, err)
		}
		ids[doc["id"].(string)] = true
		types[doc["type"].(string)] = true
	}
	if len(ids) != 100 || len(types) < 40 {
		t.Errorf("%d ids and %d types in 100 findings", len(ids), len(types))
	}
}
