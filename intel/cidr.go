// Package intel holds threat intelligence for detection: fast lookup
// structures for IP addresses (CIDRSet) and domains (DomainSet), the
// parsers of the list formats GuardDuty accepts (TXT, STIX, OTX_CSV,
// ALIEN_VAULT, PROOF_POINT, FIRE_EYE), and the managed categories guardpost
// reads from an intel directory (Managed). It imports no transport and no
// storage.
package intel

import (
	"cmp"
	"net/netip"
	"slices"
)

// CIDRSet answers "is this address in any of these prefixes?" for IPv4 and
// IPv6. It keeps the prefixes as sorted, merged, non-overlapping ranges in
// flat arrays and answers by binary search: 8 bytes per IPv4 range and 32
// per IPv6 range, no pointers for the garbage collector to follow, and a
// lookup of a few dozen comparisons for millions of entries (see
// BenchmarkCIDRSet). A radix tree answers in as many steps as the prefix
// has bits but costs tens of bytes per node; lists of loose addresses, the
// common case in threat feeds, suit ranges better.
//
// A CIDRSet is immutable once built and safe for concurrent use.
type CIDRSet struct {
	lo4, hi4 []uint32 // range i is [lo4[i], hi4[i]]
	lo6, hi6 []u128
	n        int // prefixes added, before merging
	// dir4, for large sets, holds for each value h of an address's top 16
	// bits the index of the first range starting at or after h<<16, so
	// that a lookup searches only the ranges of its /16: a few comparisons
	// on one or two cache lines instead of ~22 scattered over megabytes.
	dir4 []uint32
	// top6, for large IPv6 sets, holds the start of every blockSize-th
	// range: a lookup searches this small array (which stays in cache)
	// and then one block. IPv6 addresses in use crowd into few /16s, so a
	// directory by leading bits, as for IPv4, would not spread them.
	top6 []u128
}

// blockSize is the number of IPv6 ranges per top6 entry.
const blockSize = 64

// dirMinRanges is the size from which a set builds dir4 (256 KiB): below
// it the whole array is a few cache-resident pages anyway.
const dirMinRanges = 1 << 14

// u128 is an IPv6 address as a number.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func (a u128) next() (u128, bool) {
	if a.lo != ^uint64(0) {
		return u128{a.hi, a.lo + 1}, true
	}
	if a.hi != ^uint64(0) {
		return u128{a.hi + 1, 0}, true
	}
	return a, false
}

func v6(a netip.Addr) u128 {
	b := a.As16()
	var x u128
	for i := range 8 {
		x.hi = x.hi<<8 | uint64(b[i])
		x.lo = x.lo<<8 | uint64(b[8+i])
	}
	return x
}

func v4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// CIDRBuilder collects prefixes for a CIDRSet.
type CIDRBuilder struct {
	r4 [][2]uint32
	r6 [][2]u128
	n  int
}

// AddAddr adds one address.
func (b *CIDRBuilder) AddAddr(a netip.Addr) { b.AddPrefix(netip.PrefixFrom(a, a.BitLen())) }

// AddPrefix adds a prefix; its host bits are ignored. An IPv4-mapped IPv6
// prefix counts as IPv4.
func (b *CIDRBuilder) AddPrefix(p netip.Prefix) {
	if !p.IsValid() {
		return
	}
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	b.n++
	if a.Is4() {
		lo := v4(a) &^ (uint32(1)<<(32-bits) - 1)
		if bits == 0 {
			lo = 0
		}
		hi := lo | (uint32(1)<<(32-bits) - 1)
		if bits == 0 {
			hi = ^uint32(0)
		}
		b.r4 = append(b.r4, [2]uint32{lo, hi})
		return
	}
	x := v6(a)
	var mask u128 // host bits
	switch {
	case bits == 0:
		mask = u128{^uint64(0), ^uint64(0)}
	case bits < 64:
		mask = u128{^uint64(0) >> bits, ^uint64(0)}
	case bits < 128:
		mask = u128{0, ^uint64(0) >> (bits - 64)}
	}
	lo := u128{x.hi &^ mask.hi, x.lo &^ mask.lo}
	b.r6 = append(b.r6, [2]u128{lo, {lo.hi | mask.hi, lo.lo | mask.lo}})
}

// AddRange adds every address from first to last, both included (STIX
// lists give ranges). Addresses of different families add nothing.
func (b *CIDRBuilder) AddRange(first, last netip.Addr) {
	first, last = first.Unmap(), last.Unmap()
	if first.Is4() != last.Is4() || last.Less(first) {
		return
	}
	b.n++
	if first.Is4() {
		b.r4 = append(b.r4, [2]uint32{v4(first), v4(last)})
	} else {
		b.r6 = append(b.r6, [2]u128{v6(first), v6(last)})
	}
}

// Len is the number of entries added so far.
func (b *CIDRBuilder) Len() int { return b.n }

// Build sorts and merges the ranges into a CIDRSet and resets b.
func (b *CIDRBuilder) Build() *CIDRSet {
	s := &CIDRSet{n: b.n}
	slices.SortFunc(b.r4, func(x, y [2]uint32) int { return cmp.Compare(x[0], y[0]) })
	for _, r := range b.r4 {
		if n := len(s.hi4); n > 0 && (s.hi4[n-1] == ^uint32(0) || r[0] <= s.hi4[n-1]+1) {
			s.hi4[n-1] = max(s.hi4[n-1], r[1])
			continue
		}
		s.lo4, s.hi4 = append(s.lo4, r[0]), append(s.hi4, r[1])
	}
	slices.SortFunc(b.r6, func(x, y [2]u128) int { return x[0].cmp(y[0]) })
	for _, r := range b.r6 {
		if n := len(s.hi6); n > 0 {
			end, ok := s.hi6[n-1].next()
			if !ok || r[0].cmp(end) <= 0 {
				if r[1].cmp(s.hi6[n-1]) > 0 {
					s.hi6[n-1] = r[1]
				}
				continue
			}
		}
		s.lo6, s.hi6 = append(s.lo6, r[0]), append(s.hi6, r[1])
	}
	s.lo4, s.hi4 = slices.Clip(s.lo4), slices.Clip(s.hi4)
	s.lo6, s.hi6 = slices.Clip(s.lo6), slices.Clip(s.hi6)
	if len(s.lo4) >= dirMinRanges {
		s.dir4 = make([]uint32, 1<<16+1)
		i := 0
		for h := range 1 << 16 {
			for i < len(s.lo4) && s.lo4[i]>>16 < uint32(h) {
				i++
			}
			s.dir4[h] = uint32(i)
		}
		s.dir4[1<<16] = uint32(len(s.lo4))
	}
	if len(s.lo6) >= dirMinRanges {
		for i := 0; i < len(s.lo6); i += blockSize {
			s.top6 = append(s.top6, s.lo6[i])
		}
	}
	*b = CIDRBuilder{}
	return s
}

// Contains reports whether a is in the set. A nil set contains nothing.
func (s *CIDRSet) Contains(a netip.Addr) bool {
	if s == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if a.Is4() {
		x := v4(a)
		// The last range starting at or before x is the only candidate.
		lo, hi := 0, len(s.lo4)
		if s.dir4 != nil {
			lo, hi = int(s.dir4[x>>16]), int(s.dir4[x>>16+1])
		}
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if s.lo4[m] <= x {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo > 0 && x <= s.hi4[lo-1]
	}
	x := v6(a)
	lo, hi := 0, len(s.lo6)
	if s.top6 != nil {
		// The last block starting at or before x holds the candidate.
		l, h := 0, len(s.top6)
		for l < h {
			m := int(uint(l+h) >> 1)
			if s.top6[m].cmp(x) <= 0 {
				l = m + 1
			} else {
				h = m
			}
		}
		if l == 0 {
			return false
		}
		lo, hi = (l-1)*blockSize, min(l*blockSize, len(s.lo6))
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.lo6[m].cmp(x) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && x.cmp(s.hi6[lo-1]) <= 0
}

// Len is the number of entries the set was built from (before merging).
func (s *CIDRSet) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Ranges is the number of merged ranges the set keeps.
func (s *CIDRSet) Ranges() int {
	if s == nil {
		return 0
	}
	return len(s.lo4) + len(s.lo6)
}

// Bytes is the memory the set's arrays take.
func (s *CIDRSet) Bytes() int {
	if s == nil {
		return 0
	}
	return 4*(cap(s.lo4)+cap(s.hi4)+cap(s.dir4)) + 16*(cap(s.lo6)+cap(s.hi6)+cap(s.top6))
}
