package index

import (
	"cmp"
	"slices"

	"github.com/guardpost/guardpost"
)

// AttributeFootprint is about how many bytes one attribute's postings
// take, and of what.
type AttributeFootprint struct {
	Name                 string
	Values, Shared       int // distinct values in the run; bitmaps
	RunBytes, DeltaBytes int
	BitmapBytes          int
}

// Footprint estimates the postings' memory by attribute, largest first,
// for measuring (see docs/storage.md).
func (x *Index) Footprint() []AttributeFootprint {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []AttributeFootprint
	for i := range x.attrs {
		p := &x.attrs[i]
		f := AttributeFootprint{Name: guardpost.FilterAttributes[i].Name, Values: p.runLen()}
		f.RunBytes = cap(p.strs.data) + 4*cap(p.strs.heads) + 4*cap(p.strs.post) + p.nums.bytes()
		f.DeltaBytes = p.delta.bytes()
		for _, b := range p.bitmaps {
			if b != nil {
				f.Shared++
				f.BitmapBytes += int(b.GetSizeInBytes()) + 120 // the bitmap's own structures
			}
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b AttributeFootprint) int {
		return cmp.Compare(b.RunBytes+b.DeltaBytes+b.BitmapBytes, a.RunBytes+a.DeltaBytes+a.BitmapBytes)
	})
	return out
}
