package index

import "math"

// codeColumn holds a small code for every doc number (0 past the end):
// 2 bytes a doc while every code fits, 4 once one does not. Most coded
// columns (accounts, types, countries, protocols, API names) have a few
// hundred distinct values, and a million findings' 4-byte codes would be
// 4 MB a column where 2 MB do.
type codeColumn struct {
	narrow []uint16
	wide   []uint32
	isWide bool
}

func (c *codeColumn) at(n uint32) uint32 {
	if c.isWide {
		if int(n) < len(c.wide) {
			return c.wide[n]
		}
		return 0
	}
	if int(n) < len(c.narrow) {
		return uint32(c.narrow[n])
	}
	return 0
}

func (c *codeColumn) set(n, code uint32) {
	if !c.isWide && code > math.MaxUint16 {
		c.wide = make([]uint32, len(c.narrow), max(cap(c.narrow), int(n)+1))
		for i, v := range c.narrow {
			c.wide[i] = uint32(v)
		}
		c.narrow, c.isWide = nil, true
	}
	if c.isWide {
		c.wide = extend(c.wide, int(n)+1, 0)
		c.wide[n] = code
		return
	}
	c.narrow = extend(c.narrow, int(n)+1, 0)
	c.narrow[n] = uint16(code)
}

// trim gives the column slices of its size.
func (c *codeColumn) trim() { c.narrow, c.wide = fit(c.narrow), fit(c.wide) }
