package index

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCodeColumnFollowsAMap sets random codes, small ones and now and
// then (from a random step on) ones past 2 bytes, and compares every
// doc's code with a map, before and after the column widens.
func TestCodeColumnFollowsAMap(t *testing.T) {
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var c codeColumn
		model := map[uint32]uint32{}
		docs := 1 + rng.IntN(5000)
		wideFrom := rng.IntN(4 * docs)
		for i := range 3 * docs {
			n := uint32(rng.IntN(docs))
			code := uint32(rng.IntN(300))
			if i >= wideFrom && rng.IntN(50) == 0 {
				code = math.MaxUint16 + uint32(rng.IntN(1<<20))
			}
			c.set(n, code)
			model[n] = code
			if i%997 == 0 || i == 3*docs-1 {
				if i == 3*docs-1 {
					c.trim()
				}
				for d := range uint32(docs + 5) {
					if got := c.at(d); got != model[d] {
						t.Fatalf("seed %d step %d: at(%d) = %d, want %d (wide %v)", seed, i, d, got, model[d], c.isWide)
					}
				}
			}
		}
	}
}
