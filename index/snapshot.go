package index

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/guardpost/guardpost"
)

// A snapshot is an index written out in its in-memory form (the sorted
// runs, the bitmaps, the columns, the id table), so that a start reads it
// back into the final slices with no per-finding work, where a build from
// the store decodes every finding's record (28–40 CPU-seconds at a
// million findings).
//
// Layout: magic, format version, the fingerprint of the attribute tables
// the index is laid out by (Fingerprint), the caller's stamp (opaque
// bytes: the store's outbox position and what identifies its database),
// the index, and a CRC-32C of everything before it. Numbers are little
// endian; slices are written as their memory is laid out, which is why a
// big-endian host neither writes nor reads snapshots (it builds).
//
// A snapshot holds nothing a build could not recompute: whoever reads one
// checks its stamp and replays what changed since, and any doubt (a bad
// checksum, another fingerprint, a short file) means a build instead.

// snapshotFormat is the layout's version. Bump it whenever the index's
// in-memory form or what it derives from a finding's values changes, so
// that older snapshots are rebuilt rather than misread.
const snapshotFormat = 1

var snapshotMagic = [8]byte{'G', 'P', 'I', 'D', 'X', 0, 0, 1}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// ErrSnapshotMismatch is returned (wrapped) by ReadSnapshot for a
// snapshot that is intact but was written for another layout or other
// attribute tables.
var ErrSnapshotMismatch = errors.New("index snapshot written by another layout or attribute table")

// Fingerprint identifies the layout an index is written in: the format
// version and the filter and sort attribute tables (positions, names and
// kinds), since a snapshot's postings and columns are by position.
func Fingerprint() [32]byte {
	var b strings.Builder
	fmt.Fprintf(&b, "format %d\n", snapshotFormat)
	for i, a := range guardpost.FilterAttributes {
		fmt.Fprintf(&b, "filter %d %d %s\n", i, a.Kind, a.Name)
	}
	for i, a := range guardpost.SortAttributes {
		fmt.Fprintf(&b, "sort %d %d %s\n", i, a.Kind, a.Name)
	}
	return sha256.Sum256([]byte(b.String()))
}

// WriteSnapshot writes x with the caller's stamp to w. It holds x's read
// lock while it writes: queries go on, writes to x wait. The caller
// makes sure x holds exactly what the stamp says (the store holds its
// write transaction meanwhile).
func WriteSnapshot(w io.Writer, x *Index, stamp []byte) error {
	if !littleEndian {
		return errors.New("index snapshots need a little-endian host")
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	for i := range x.attrs {
		x.attrs[i].ready() // a load's values merged (none, once registered)
	}
	e := &encoder{w: bufio.NewWriterSize(w, 1<<20)}
	e.bytes(snapshotMagic[:])
	e.u64(snapshotFormat)
	fp := Fingerprint()
	e.bytes(fp[:])
	e.blob(stamp)
	x.encode(e)
	if e.err != nil {
		return e.err
	}
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], e.crc)
	if _, err := e.w.Write(tail[:]); err != nil {
		return err
	}
	return e.w.Flush()
}

// ReadSnapshot reads a snapshot of size bytes from r. check sees the
// stamp before the index is decoded and may refuse it. Any fault (a
// short or corrupt file, another fingerprint, a refused stamp) is an
// error; the index is returned only when the whole file checked out.
func ReadSnapshot(r io.Reader, size int64, check func(stamp []byte) error) (x *Index, err error) {
	if !littleEndian {
		return nil, errors.New("index snapshots need a little-endian host")
	}
	defer func() {
		// A file that passed its checksum yet decodes to nonsense would
		// be a defect of this code; it still only costs a build.
		if p := recover(); p != nil {
			x, err = nil, fmt.Errorf("index snapshot: malformed: %v", p)
		}
	}()
	d := &decoder{r: bufio.NewReaderSize(r, 1<<20), left: size - 4}
	var magic [8]byte
	d.read(magic[:])
	if d.err == nil && magic != snapshotMagic {
		return nil, errors.New("index snapshot: not a snapshot file")
	}
	format := d.u64()
	var fp [32]byte
	d.read(fp[:])
	if d.err != nil {
		return nil, d.err
	}
	if format != snapshotFormat || fp != Fingerprint() {
		return nil, fmt.Errorf("%w (format %d, want %d)", ErrSnapshotMismatch, format, snapshotFormat)
	}
	stamp := d.blob()
	if d.err != nil {
		return nil, d.err
	}
	if check != nil {
		if err := check(stamp); err != nil {
			return nil, err
		}
	}
	x = New()
	x.decode(d)
	if d.err != nil {
		return nil, d.err
	}
	if d.left != 0 {
		return nil, fmt.Errorf("index snapshot: %d bytes past its end", d.left)
	}
	var tail [4]byte
	if _, err := io.ReadFull(d.r, tail[:]); err != nil {
		return nil, fmt.Errorf("index snapshot: truncated: %w", err)
	}
	if binary.LittleEndian.Uint32(tail[:]) != d.crc {
		return nil, errors.New("index snapshot: checksum mismatch")
	}
	if err := x.validate(); err != nil {
		return nil, fmt.Errorf("index snapshot: %w", err)
	}
	x.changed()
	return x, nil
}

// encode writes x's state. The order is decode's.
func (x *Index) encode(e *encoder) {
	e.idTable(&x.ids)
	sliceOut(e, x.free)
	e.bitmap(x.alive)
	e.u64(uint64(len(x.attrs)))
	for i := range x.attrs {
		x.attrs[i].encode(e)
	}
	e.u64(uint64(len(x.sorts)))
	for i := range x.sorts {
		x.sorts[i].encode(e)
	}
	e.idTable(&x.account.t)
	e.idTable(&x.typ.t)
	e.idTable(&x.resource.t)
	e.codeColumn(&x.accountOf)
	e.codeColumn(&x.typeOf)
	e.codeColumn(&x.resourceOf)
	e.u64(uint64(len(x.statsOdd)))
	for d, p := range x.statsOdd {
		e.u64(uint64(d))
		e.u64(math.Float64bits(p.severity))
		e.u64(uint64(p.updatedAt))
	}
}

func (x *Index) decode(d *decoder) {
	d.idTable(&x.ids)
	x.free = sliceIn[uint32](d)
	x.alive = d.bitmap()
	if n := d.u64(); d.err == nil && n != uint64(len(x.attrs)) {
		d.fail("%d filter attributes, want %d", n, len(x.attrs))
	}
	for i := range x.attrs {
		x.attrs[i].decode(d)
	}
	if n := d.u64(); d.err == nil && n != uint64(len(x.sorts)) {
		d.fail("%d sort attributes, want %d", n, len(x.sorts))
	}
	for i := range x.sorts {
		x.sorts[i].decode(d)
	}
	d.idTable(&x.account.t)
	d.idTable(&x.typ.t)
	d.idTable(&x.resource.t)
	d.codeColumn(&x.accountOf)
	d.codeColumn(&x.typeOf)
	d.codeColumn(&x.resourceOf)
	if n := d.count(3); n > 0 {
		x.statsOdd = make(map[uint32]statsPair, n)
		for range n {
			doc := uint32(d.u64())
			x.statsOdd[doc] = statsPair{math.Float64frombits(d.u64()), int64(d.u64())}
		}
	}
}

func (p *postings) encode(e *encoder) {
	e.u64(uint64(p.kind))
	sliceOut(e, p.strs.data)
	sliceOut(e, p.strs.heads)
	sliceOut(e, p.strs.post)
	r := &p.nums
	e.u64(uint64(r.n))
	sliceOut(e, r.base)
	sliceOut(e, r.off)
	sliceOut(e, r.wide)
	sliceOut(e, r.full)
	e.flag(r.form != nil)
	sliceOut(e, r.form)
	e.u64(uint64(len(r.odd)))
	for i, t := range r.odd {
		e.u64(uint64(i))
		e.str(t)
	}
	sliceOut(e, r.post)
	e.u64(uint64(p.dead))
	// delta as the format has it since its first version (when it was a
	// map): its values with docs, each with its index in a list of
	// postings, and how many numbers have another text than the default.
	e.u64(uint64(p.delta.live))
	posts := make([]posting, 0, p.delta.live)
	odd := 0
	for i := range p.delta.ents {
		if ent := &p.delta.ents[i]; ent.post != noDocs {
			v := p.delta.value(ent)
			e.str(v.text)
			e.u64(math.Float64bits(v.num))
			e.flag(v.isNum)
			e.u64(uint64(len(posts)))
			posts = append(posts, ent.post)
			if p.oddInDelta(v) {
				odd++
			}
		}
	}
	sliceOut(e, posts)
	e.u64(uint64(odd))
	e.u64(uint64(len(p.bitmaps)))
	for _, b := range p.bitmaps {
		e.flag(b != nil)
		if b != nil {
			e.bitmap(b)
		}
	}
	sliceOut(e, p.freeBitmaps)
	e.flag(p.self != nil)
	if p.self != nil {
		e.str(p.self.affix)
		e.flag(p.self.known)
		e.bitmap(p.self.docs)
	}
}

func (p *postings) decode(d *decoder) {
	if k := guardpost.ValueKind(d.u64()); d.err == nil && k != p.kind {
		d.fail("attribute kind %d, want %d", k, p.kind)
	}
	p.strs = strRun{data: sliceIn[byte](d), heads: sliceIn[uint32](d), post: sliceIn[posting](d)}
	r := &p.nums
	r.n = int(d.u64())
	r.base, r.off, r.wide, r.full = sliceIn[float64](d), sliceIn[uint32](d), sliceIn[uint32](d), sliceIn[float64](d)
	hasForm := d.flag()
	r.form = sliceIn[uint8](d)
	if hasForm && r.form == nil {
		r.form = []uint8{}
	}
	if n := d.count(2); n > 0 {
		r.odd = make(map[int32]string, n)
		for range n {
			i := int32(d.u64())
			r.odd[i] = d.str()
		}
	}
	r.post = sliceIn[posting](d)
	p.dead = int(d.u64())
	type deltaValue struct {
		v value
		k uint64
	}
	var values []deltaValue
	if n := d.count(4); n > 0 {
		values = make([]deltaValue, n)
		for i := range values {
			values[i].v = value{text: d.str(), num: math.Float64frombits(d.u64()), isNum: d.flag()}
			values[i].k = d.u64()
		}
	}
	posts := sliceIn[posting](d)
	d.u64() // how many numbers in delta had another text: the set needs no count
	p.delta = newDelta(p.kind, p.numeric)
	for _, dv := range values {
		if dv.k >= uint64(len(posts)) {
			d.fail("attribute kind %d: a delta value past its postings", p.kind)
			return
		}
		if post := posts[dv.k]; post != noDocs {
			e := p.delta.add(p.delta.key(dv.v))
			if e.post != noDocs {
				d.fail("attribute kind %d: a delta value twice", p.kind)
				return
			}
			p.delta.setPost(e, post)
		}
	}
	if n := d.count(1); n > 0 {
		p.bitmaps = make([]*roaring.Bitmap, n)
		for i := range p.bitmaps {
			if d.flag() {
				p.bitmaps[i] = d.bitmap()
			}
		}
	}
	p.freeBitmaps = sliceIn[uint32](d)
	if hasSelf := d.flag(); d.err == nil && hasSelf != (p.self != nil) {
		d.fail("own values of attribute kind %d disagree", p.kind)
	}
	if p.self != nil {
		p.self.affix = d.str()
		p.self.known = d.flag()
		p.self.docs = d.bitmap()
	}
}

func (c *sortColumn) encode(e *encoder) {
	e.flag(c.str)
	e.codeColumn(&c.codes)
	e.idTable(&c.strs.t)
	sliceOut(e, c.small)
	sliceOut(e, c.vals)
	e.flag(c.big)
	e.flag(c.packed)
	e.u64(math.Float64bits(c.base))
	sliceOut(e, c.lo)
	sliceOut(e, c.hi)
	sliceOut(e, c.nums)
}

func (c *sortColumn) decode(d *decoder) {
	if str := d.flag(); d.err == nil && str != c.str {
		d.fail("a sort column's kind disagrees")
	}
	d.codeColumn(&c.codes)
	d.idTable(&c.strs.t)
	c.small, c.vals = sliceIn[uint16](d), sliceIn[float64](d)
	c.big, c.packed = d.flag(), d.flag()
	c.base = math.Float64frombits(d.u64())
	c.lo, c.hi, c.nums = sliceIn[uint32](d), sliceIn[uint8](d), sliceIn[float64](d)
	if len(c.vals) > 0 {
		c.valCode = make(map[uint64]uint16, len(c.vals))
		for i, v := range c.vals {
			c.valCode[math.Float64bits(v)] = uint16(i + 1)
		}
	}
}

// validate checks what queries index by: a snapshot that passed its
// checksum and still disagrees with itself is refused rather than left
// to panic in a query.
func (x *Index) validate() error {
	docs := uint32(x.ids.len())
	if x.alive.GetCardinality() > 0 && x.alive.Maximum() >= docs {
		return errors.New("a live doc past the id table")
	}
	for i := range x.attrs {
		p := &x.attrs[i]
		check := func(posts []posting) error {
			for _, q := range posts {
				switch {
				case q == noDocs:
				case q&sharedFlag != 0:
					if k := int(q &^ sharedFlag); k >= len(p.bitmaps) || p.bitmaps[k] == nil {
						return fmt.Errorf("attribute %d: a posting names a missing bitmap", i)
					}
				case uint32(q) >= docs:
					return fmt.Errorf("attribute %d: a posting names doc %d of %d", i, q, docs)
				}
			}
			return nil
		}
		s, r := &p.strs, &p.nums
		switch {
		case len(s.heads) != (len(s.post)+frontBlock-1)/frontBlock:
			return fmt.Errorf("attribute %d: %d text blocks for %d values", i, len(s.heads), len(s.post))
		case len(s.heads) > 0 && int(s.heads[len(s.heads)-1]) >= len(s.data):
			return fmt.Errorf("attribute %d: a text block past the data", i)
		case len(r.post) != r.n || len(r.off) != r.n || r.form != nil && len(r.form) != r.n:
			return fmt.Errorf("attribute %d: numeric run of %d values disagrees with its slices", i, r.n)
		case len(r.base) != (r.n+numBlock-1)/numBlock || len(r.wide) != len(r.base):
			return fmt.Errorf("attribute %d: numeric run of %d values has %d blocks", i, r.n, len(r.base))
		}
		for b, w := range r.wide {
			if w != 0 && int(w)-1+min(numBlock, r.n-b*numBlock) > len(r.full) {
				return fmt.Errorf("attribute %d: a wide block past its numbers", i)
			}
		}
		deltaPost := make([]posting, len(p.delta.ents))
		for k := range p.delta.ents {
			deltaPost[k] = p.delta.ents[k].post
		}
		for _, posts := range [][]posting{s.post, r.post, deltaPost} {
			if err := check(posts); err != nil {
				return err
			}
		}
	}
	for i := range x.sorts {
		c := &x.sorts[i]
		if c.packed && len(c.lo) != len(c.hi) {
			return fmt.Errorf("sort column %d: packed halves disagree", i)
		}
		for _, code := range c.small {
			if int(code) > len(c.vals) {
				return fmt.Errorf("sort column %d: a code past its values", i)
			}
		}
	}
	return nil
}

// encoder writes a snapshot and sums it. The first error sticks.
type encoder struct {
	w   *bufio.Writer
	crc uint32
	err error
	buf bytes.Buffer // a bitmap's serialisation, for its length
	tmp [binary.MaxVarintLen64]byte
}

func (e *encoder) bytes(b []byte) {
	if e.err != nil {
		return
	}
	e.crc = crc32.Update(e.crc, castagnoli, b)
	_, e.err = e.w.Write(b)
}

func (e *encoder) u64(v uint64) { e.bytes(binary.AppendUvarint(e.tmp[:0], v)) }

func (e *encoder) flag(b bool) {
	if b {
		e.u64(1)
	} else {
		e.u64(0)
	}
}

func (e *encoder) blob(b []byte) {
	e.u64(uint64(len(b)))
	e.bytes(b)
}

func (e *encoder) str(s string) { e.blob(unsafe.Slice(unsafe.StringData(s), len(s))) }

func (e *encoder) bitmap(b *roaring.Bitmap) {
	e.buf.Reset()
	if _, err := b.WriteTo(&e.buf); err != nil && e.err == nil {
		e.err = err
	}
	e.blob(e.buf.Bytes())
}

func (e *encoder) idTable(t *idTable) {
	// The hash slots are not written: their seed is this process's.
	sliceOut(e, t.data)
	sliceOut(e, t.place)
	e.u64(uint64(t.live))
	e.u64(uint64(t.waste))
}

func (e *encoder) codeColumn(c *codeColumn) {
	e.flag(c.isWide)
	sliceOut(e, c.narrow)
	sliceOut(e, c.wide)
}

// sliceOut writes s's length and its memory as it is.
func sliceOut[E any](e *encoder, s []E) {
	e.u64(uint64(len(s)))
	if len(s) > 0 {
		var z E
		e.bytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z))))
	}
}

// decoder reads a snapshot and sums it. left is what the file has left
// before its checksum: no length read from it may ask for more, so a
// corrupt length fails instead of allocating. The first error sticks;
// after it every read returns zeros.
type decoder struct {
	r    *bufio.Reader
	crc  uint32
	left int64
	err  error
	buf  []byte
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("index snapshot: "+format, args...)
	}
}

func (d *decoder) read(b []byte) {
	if d.err != nil {
		return
	}
	if int64(len(b)) > d.left {
		d.fail("truncated")
		return
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("truncated: %v", err)
		return
	}
	d.left -= int64(len(b))
	d.crc = crc32.Update(d.crc, castagnoli, b)
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		var b [1]byte
		d.read(b[:])
		if d.err != nil {
			return 0
		}
		if shift >= 64 {
			d.fail("a number overflows")
			return 0
		}
		v |= uint64(b[0]&0x7f) << shift
		if b[0] < 0x80 {
			return v
		}
	}
}

func (d *decoder) flag() bool {
	switch d.u64() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("a flag is neither 0 nor 1")
	return false
}

// count reads a number of items of at least min bytes each.
func (d *decoder) count(minBytes int64) int {
	n := d.u64()
	if d.err == nil && n > uint64(d.left/minBytes) {
		d.fail("a count of %d past the file's end", n)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

func (d *decoder) blob() []byte {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	d.read(b)
	return b
}

func (d *decoder) str() string {
	n := d.count(1)
	if n == 0 {
		return ""
	}
	b := make([]byte, n)
	d.read(b)
	return unsafe.String(&b[0], n)
}

func (d *decoder) bitmap() *roaring.Bitmap {
	n := d.count(1)
	if d.err != nil {
		return roaring.New()
	}
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	d.buf = d.buf[:n]
	d.read(d.buf)
	b := roaring.New()
	if d.err == nil {
		if _, err := b.ReadFrom(bytes.NewReader(d.buf)); err != nil {
			d.fail("a bitmap: %v", err)
		}
	}
	return b
}

func (d *decoder) idTable(t *idTable) {
	t.data = sliceIn[byte](d)
	t.place = sliceIn[uint64](d)
	t.live = int(d.u64())
	t.waste = int(d.u64())
	if d.err != nil {
		return
	}
	for _, p := range t.place {
		if p != free && int(p>>24)+int(p&maxIDLen) > len(t.data) {
			d.fail("an id past the id table's data")
			return
		}
	}
	t.slots, t.used = nil, 0
	t.rehash()
}

func (d *decoder) codeColumn(c *codeColumn) {
	c.isWide = d.flag()
	c.narrow = sliceIn[uint16](d)
	c.wide = sliceIn[uint32](d)
}

// sliceIn reads a slice sliceOut wrote, straight into its memory.
func sliceIn[E any](d *decoder) []E {
	var z E
	size := int64(unsafe.Sizeof(z))
	n := d.count(size)
	if n == 0 {
		return nil
	}
	s := make([]E, n)
	d.read(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), int64(n)*size))
	return s
}
