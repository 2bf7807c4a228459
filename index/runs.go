package index

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/guardpost/guardpost"
)

// posting is the findings that hold one value: one doc number or, with
// sharedFlag, the index of a bitmap in postings.bitmaps; noDocs when none
// (a value whose last finding left, dropped at the next merge).
type posting uint32

const (
	sharedFlag posting = 1 << 31
	noDocs     posting = math.MaxUint32
	// maxDoc is the largest doc number a posting can hold.
	maxDoc = uint32(sharedFlag) - 2
)

// strRun is a sorted run of distinct strings with their postings, kept
// front-coded: in each block of frontBlock strings the first is whole and
// each next one is the length of the prefix it shares with the one before
// and the rest. Most distinct values of an attribute with many (ids, ARNs,
// host names, addresses) share long prefixes with their neighbours, and
// the run costs its bytes and 8 bytes of bookkeeping per value, where a
// Go map from strings costs some 60.
type strRun struct {
	data  []byte   // the encoded strings
	heads []uint32 // offset in data of each block's first string
	post  []posting
}

const frontBlock = 16

func (r *strRun) len() int { return len(r.post) }

// head returns the first string of block b.
func (r *strRun) head(b int) string {
	off := int(r.heads[b])
	n, k := binary.Uvarint(r.data[off:])
	off += k
	return unsafe.String(unsafe.SliceData(r.data[off:]), int(n))
}

// scanner decodes a run's strings in order from a block's start.
type scanner struct {
	r   *strRun
	i   int    // index of the next string
	off int    // its offset in data
	buf []byte // the current string
}

func (r *strRun) scanFrom(i int) scanner {
	b := i / frontBlock
	s := scanner{r: r, i: b * frontBlock}
	if b < len(r.heads) {
		s.off = int(r.heads[b])
	}
	for s.i < i {
		s.next()
	}
	return s
}

// next decodes the next string into s.buf, and returns false at the end.
func (s *scanner) next() bool {
	if s.i >= len(s.r.post) {
		return false
	}
	d := s.r.data
	shared := 0
	if s.i%frontBlock != 0 {
		n, k := binary.Uvarint(d[s.off:])
		shared, s.off = int(n), s.off+k
	}
	n, k := binary.Uvarint(d[s.off:])
	s.off += k
	s.buf = append(s.buf[:shared], d[s.off:s.off+int(n)]...)
	s.off += int(n)
	s.i++
	return true
}

// text is the current string, valid until the next call of next.
func (s *scanner) text() string { return unsafe.String(unsafe.SliceData(s.buf), len(s.buf)) }

// lowerBound returns the index of the first string not less than t.
func (r *strRun) lowerBound(t string) int {
	// The last block whose head is <= t holds t's place, or t goes
	// before every string.
	lo, hi := 0, len(r.heads)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.head(m) <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	b := lo - 1
	if b < 0 {
		return 0
	}
	s := r.scanFrom(b * frontBlock)
	for s.next() {
		if s.text() >= t {
			return s.i - 1
		}
		if s.i%frontBlock == 0 {
			break
		}
	}
	return s.i
}

// find returns the index of t, or -1.
func (r *strRun) find(t string) int {
	lo, hi := 0, len(r.heads)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.head(m) <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return -1
	}
	s := r.scanFrom((lo - 1) * frontBlock)
	for s.next() {
		switch c := strings.Compare(s.text(), t); {
		case c == 0:
			return s.i - 1
		case c > 0:
			return -1
		}
		if s.i%frontBlock == 0 {
			break
		}
	}
	return -1
}

// strBuilder makes a strRun from strings given in ascending order.
type strBuilder struct {
	r    strRun
	prev []byte
}

func (b *strBuilder) add(t string, p posting) {
	r := &b.r
	if len(r.post)%frontBlock == 0 {
		r.heads = append(r.heads, uint32(len(r.data)))
		r.data = binary.AppendUvarint(r.data, uint64(len(t)))
		r.data = append(r.data, t...)
	} else {
		shared := 0
		for shared < len(t) && shared < len(b.prev) && t[shared] == b.prev[shared] {
			shared++
		}
		r.data = binary.AppendUvarint(r.data, uint64(shared))
		r.data = binary.AppendUvarint(r.data, uint64(len(t)-shared))
		r.data = append(r.data, t[shared:]...)
	}
	b.prev = append(b.prev[:0], t...)
	r.post = append(r.post, p)
}

// reserve makes room for n values of about bytes encoded bytes, so that
// a merge does not grow its new run by copying it again and again.
func (b *strBuilder) reserve(n, bytes int) {
	b.r.data = make([]byte, 0, bytes)
	b.r.heads = make([]uint32, 0, n/frontBlock+1)
	b.r.post = make([]posting, 0, n)
}

// done returns the run, in slices of its size (a run lives until the next
// merge, and appending leaves up to half of a slice unused).
func (b *strBuilder) done() strRun {
	return strRun{data: fit(b.r.data), heads: fit(b.r.heads), post: fit(b.r.post)}
}

// fit returns s in a slice of its length, copied if its capacity is
// larger by more than an eighth.
func fit[S ~[]E, E any](s S) S {
	if cap(s)-len(s) <= len(s)/8 {
		return s
	}
	return append(S(nil), s...)
}

// Numeric values. Criteria compare a number, time or boolean attribute by
// its number, except matches / notMatches, which test its text. That text
// is, nearly always, a function of the number (see
// guardpost.FindingAttributes): the canonical decimal for numbers,
// true/false for booleans, and for times the ISO form guardpost writes or
// epoch seconds. A run keeps the number and which form its text has; a
// text of no known form is kept whole, aside.
const (
	formOdd     uint8 = iota // text kept in numRun.odd
	formDefault              // numbers: decimal; booleans: true/false; times: guardpost.ISOTime
	formSeconds              // times: the decimal of the number / 1000 (epoch seconds on the wire)
)

// formOf returns the form of v's text for an attribute of kind, formOdd
// when it has none.
func formOf(kind guardpost.ValueKind, v value) uint8 {
	var buf [40]byte
	if string(appendDerived(buf[:0], kind, v.num, formDefault)) == v.text {
		return formDefault
	}
	if kind == guardpost.KindTime && string(appendDerived(buf[:0], kind, v.num, formSeconds)) == v.text {
		return formSeconds
	}
	return formOdd
}

// derive is the text of number n in form f for an attribute of kind.
func derive(kind guardpost.ValueKind, n float64, f uint8) string {
	var buf [40]byte
	return string(appendDerived(buf[:0], kind, n, f))
}

func appendDerived(dst []byte, kind guardpost.ValueKind, n float64, f uint8) []byte {
	switch {
	case f == formSeconds:
		return strconv.AppendFloat(dst, n/1000, 'f', -1, 64)
	case kind == guardpost.KindBool:
		if n != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kind == guardpost.KindTime:
		if n != math.Trunc(n) || n < minISO || n > maxISO {
			return append(dst, 0) // never a time's text: such values are kept whole
		}
		return appendISOTime(dst, int64(n))
	}
	return strconv.AppendFloat(dst, n, 'f', -1, 64)
}

// The epoch milliseconds whose ISO form has a four-digit year.
const (
	minISO = -62167219200000 // 0000-01-01T00:00:00.000Z
	maxISO = 253402300799999 // 9999-12-31T23:59:59.999Z
)

// appendISOTime appends ms as guardpost.ISOTime does
// (2006-01-02T15:04:05.000Z), without time.Format's generality: a
// matches criterion on a time attribute formats every distinct value.
func appendISOTime(dst []byte, ms int64) []byte {
	days := ms / 86400000
	rem := ms % 86400000
	if rem < 0 {
		rem += 86400000
		days--
	}
	// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	two := func(dst []byte, v int64) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }
	dst = two(dst, y/100)
	dst = two(dst, y%100)
	dst = append(dst, '-')
	dst = two(dst, m)
	dst = append(dst, '-')
	dst = two(dst, d)
	dst = append(dst, 'T')
	dst = two(dst, rem/3600000)
	dst = append(dst, ':')
	dst = two(dst, rem/60000%60)
	dst = append(dst, ':')
	dst = two(dst, rem/1000%60)
	dst = append(dst, '.')
	msPart := rem % 1000
	dst = append(dst, byte('0'+msPart/100), byte('0'+msPart/10%10), byte('0'+msPart%10))
	return append(dst, 'Z')
}

// numRun is a sorted run of distinct numeric values (by number, then
// text) with their postings.
//
// The numbers are kept in blocks of numBlock: a block's first number,
// and each value's distance from it in 4 bytes when every value of the
// block is an integer within 2^32 of it (times in epoch milliseconds,
// counts, ports, severities), else the block's numbers whole, aside.
// Times take one distinct value per finding, and 4 bytes a value instead
// of 8 is some 25 MB at a million findings. The texts' forms are kept
// only when some value's is not the default one.
type numRun struct {
	n    int
	base []float64        // each block's first number
	off  []uint32         // each value's number less its block's base (narrow blocks)
	wide []uint32         // per block: 0 when narrow, else 1 + where its numbers start in full
	full []float64        // the numbers of the wide blocks
	form []uint8          // nil: every value has formDefault
	odd  map[int32]string // texts of formOdd values, by index
	post []posting
}

const numBlock = 64

func (r *numRun) len() int { return r.n }

// num is value i's number.
func (r *numRun) num(i int) float64 {
	b := i / numBlock
	if w := r.wide[b]; w != 0 {
		return r.full[int(w)-1+i%numBlock]
	}
	return r.base[b] + float64(r.off[i])
}

// formAt is value i's form.
func (r *numRun) formAt(i int) uint8 {
	if r.form == nil {
		return formDefault
	}
	return r.form[i]
}

// search returns the first index in [from, len) whose number makes f
// true, f being false then true along the run (len when none does).
func (r *numRun) search(from int, f func(float64) bool) int {
	lo, hi := from, r.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f(r.num(m)) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// lowerBound returns the index of the first value whose number is not
// less than n (ordered as cmp.Compare orders them).
func (r *numRun) lowerBound(n float64) int {
	return r.search(0, func(v float64) bool { return cmp.Compare(v, n) >= 0 })
}

// bytes is about how much memory the run takes.
func (r *numRun) bytes() int {
	return 8*cap(r.base) + 4*cap(r.off) + 4*cap(r.wide) + 8*cap(r.full) + cap(r.form) + 4*cap(r.post) + 40*len(r.odd)
}

// appendText appends value i's text.
func (r *numRun) appendText(dst []byte, kind guardpost.ValueKind, i int) []byte {
	f := r.formAt(i)
	if f == formOdd {
		return append(dst, r.odd[int32(i)]...)
	}
	return appendDerived(dst, kind, r.num(i), f)
}

// find returns the index of the value (n, text), or -1.
func (r *numRun) find(kind guardpost.ValueKind, n float64, text string) int {
	i := r.lowerBound(n)
	if i == r.n || r.num(i) != n {
		return -1
	}
	if i+1 == r.n || r.num(i+1) != n {
		// The only value with this number (nearly always): compare its
		// form before formatting anything.
		f, have := formOf(kind, value{text: text, num: n, isNum: true}), r.formAt(i)
		if f != formOdd && f == have || f == formOdd && have == formOdd && r.odd[int32(i)] == text {
			return i
		}
		return -1
	}
	var buf [40]byte
	for ; i < r.n && r.num(i) == n; i++ {
		if string(r.appendText(buf[:0], kind, i)) == text {
			return i
		}
	}
	return -1
}

// numBuilder makes a numRun from values given in ascending order.
type numBuilder struct {
	r     numRun
	block []float64 // the numbers of the block being filled
}

// reserve makes room for n values.
func (b *numBuilder) reserve(n int) {
	r := &b.r
	r.base = make([]float64, 0, n/numBlock+1)
	r.wide = make([]uint32, 0, n/numBlock+1)
	r.off = make([]uint32, 0, n)
	r.post = make([]posting, 0, n)
}

func (b *numBuilder) add(n float64, form uint8, odd string, p posting) {
	r := &b.r
	if form == formOdd {
		if r.odd == nil {
			r.odd = map[int32]string{}
		}
		r.odd[int32(r.n)] = odd
	}
	if form != formDefault && r.form == nil {
		r.form = make([]uint8, r.n, max(r.n, 16))
		for i := range r.form {
			r.form[i] = formDefault
		}
	}
	if r.form != nil {
		r.form = append(r.form, form)
	}
	b.block = append(b.block, n)
	r.post = append(r.post, p)
	r.n++
	if len(b.block) == numBlock {
		b.flush()
	}
}

// flush encodes the block being filled.
func (b *numBuilder) flush() {
	if len(b.block) == 0 {
		return
	}
	r := &b.r
	base := b.block[0]
	narrow := true
	for _, n := range b.block {
		d := n - base
		if !(d >= 0 && d <= math.MaxUint32) || math.Float64bits(base+float64(uint32(d))) != math.Float64bits(n) {
			narrow = false
			break
		}
	}
	r.base = append(r.base, base)
	if narrow {
		r.wide = append(r.wide, 0)
		for _, n := range b.block {
			r.off = append(r.off, uint32(n-base))
		}
	} else {
		r.wide = append(r.wide, uint32(len(r.full))+1)
		r.full = append(r.full, b.block...)
		r.off = append(r.off, make([]uint32, len(b.block))...)
	}
	b.block = b.block[:0]
}

func (b *numBuilder) done() numRun {
	b.flush()
	r := b.r
	r.base, r.off, r.wide, r.full, r.form, r.post = fit(r.base), fit(r.off), fit(r.wide), fit(r.full), fit(r.form), fit(r.post)
	return r
}

// literalPrefix is the text before a pattern's first wildcard: every
// string the pattern matches starts with it.
func literalPrefix(pattern string) string {
	if i := strings.IndexAny(pattern, "*?"); i >= 0 {
		return pattern[:i]
	}
	return pattern
}

// extend returns s lengthened to n, the new elements set to fill. A
// column of every doc (sort keys, codes, id places) grows by a sixteenth
// of its capacity when full rather than by append's quarter: at a million
// findings append would add some 40 MB of capacity across the columns on
// the first write after a start (the columns are read back at their
// size), where a sixteenth adds 10.
func extend[S ~[]E, E any](s S, n int, fill E) S {
	if n <= len(s) {
		return s
	}
	if n > cap(s) {
		grown := make(S, len(s), max(n, cap(s)+max(cap(s)/16, 1024)))
		copy(grown, s)
		s = grown
	}
	k := len(s)
	s = s[:n]
	for i := k; i < n; i++ {
		s[i] = fill
	}
	return s
}

// appendBytes is append(dst, b...) with extend's growth.
func appendBytes(dst []byte, b string) []byte {
	if len(dst)+len(b) > cap(dst) {
		grown := make([]byte, len(dst), max(len(dst)+len(b), cap(dst)+max(cap(dst)/16, 4096)))
		copy(grown, dst)
		dst = grown
	}
	return append(dst, b...)
}

// runHash finds the strings of a short strRun (at most shortRun) by hash:
// a table of 4 bytes a slot, each the string's index and some bits of its
// hash, so that a probe decodes a string only when those bits agree.
type runHash struct {
	slots []uint32 // hash bits<<runHashBits | 1 + index; 0 empty
	seed  maphash.Seed
	buf   []byte // a decoded string, reused (writes are serial)
}

const runHashBits = 13 // 1 + an index up to shortRun

func newRunHash(r *strRun) *runHash {
	h := &runHash{seed: maphash.MakeSeed()}
	size := 16
	for size < 2*r.len() {
		size *= 2
	}
	h.slots = make([]uint32, size)
	mask := uint64(size - 1)
	s := r.scanFrom(0)
	for s.next() {
		x := maphash.String(h.seed, s.text())
		for i := x & mask; ; i = (i + 1) & mask {
			if h.slots[i] == 0 {
				h.slots[i] = uint32(x>>(64-(32-runHashBits)))<<runHashBits | uint32(s.i)
				break
			}
		}
	}
	return h
}

// find returns the index of t in r, or -1.
func (h *runHash) find(r *strRun, t string) int {
	x := maphash.String(h.seed, t)
	fp := uint32(x >> (64 - (32 - runHashBits)))
	mask := uint64(len(h.slots) - 1)
	for i := x & mask; ; i = (i + 1) & mask {
		s := h.slots[i]
		if s == 0 {
			return -1
		}
		if s>>runHashBits == fp {
			k := int(s&(1<<runHashBits-1)) - 1
			if h.buf = r.appendAt(h.buf[:0], k); string(h.buf) == t {
				return k
			}
		}
	}
}

// appendAt appends string i of the run.
func (r *strRun) appendAt(dst []byte, i int) []byte {
	b := i / frontBlock
	off := int(r.heads[b])
	d := r.data
	start := len(dst)
	for j := b * frontBlock; ; j++ {
		shared := 0
		if j%frontBlock != 0 {
			n, k := binary.Uvarint(d[off:])
			shared, off = int(n), off+k
		}
		n, k := binary.Uvarint(d[off:])
		off += k
		dst = append(dst[:start+shared], d[off:off+int(n)]...)
		off += int(n)
		if j == i {
			return dst
		}
	}
}
