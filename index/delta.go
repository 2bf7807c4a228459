package index

import (
	"hash/maphash"
	"math"
	"unsafe"

	"github.com/guardpost/guardpost"
)

// deltaSet holds the values a run lacks, each with its posting, until a
// merge takes them into the run. It is a hash set in flat slices: an
// entry per value, the texts end to end in one byte slice, and an
// open-addressing table of entry numbers. A Go map from values cost some
// 100 bytes a value beside a copy of each text (an allocation per value
// written), and at a million findings the deltas of the attributes with a
// value per finding hold tens of thousands of values each; an entry here
// costs 32 bytes, its text and 4 to 8 bytes of table, and no allocation.
//
// A number of the attribute's kind is kept as the run keeps it: the number
// and the form of its text, the text itself only for a text of no known
// form (so writing a time allocates no text). An entry whose posting
// became noDocs stays, and takes the value again if it comes back; the
// next merge drops it. Numbers hash by number alone (0 and -0 alike), so
// that equality by number finds every text of it in one probe sequence.
type deltaSet struct {
	kind    guardpost.ValueKind
	numeric bool
	ents    []deltaEnt
	text    []byte
	slots   []uint32 // 1 + entry number by hash; 0 empty
	live    int      // entries with docs
	seed    maphash.Seed
}

type deltaEnt struct {
	num   float64
	off   uint32 // formOdd: the text's place in text
	n     uint32 // and its length
	post  posting
	isNum bool
	form  uint8
}

// deltaKey is a value as the set keys it: text only with formOdd.
type deltaKey struct {
	text  string
	num   float64
	isNum bool
	form  uint8
}

func newDelta(kind guardpost.ValueKind, numeric bool) deltaSet {
	return deltaSet{kind: kind, numeric: numeric}
}

// key returns v's key.
func (d *deltaSet) key(v value) deltaKey {
	if v.isNum && d.numeric {
		if f := formOf(d.kind, v); f != formOdd {
			return deltaKey{num: v.num, isNum: true, form: f}
		}
	}
	return deltaKey{text: v.text, num: v.num, isNum: v.isNum, form: formOdd}
}

// text returns entry e's text when kept (formOdd), sharing the set's
// memory: valid until the set changes.
func (d *deltaSet) oddText(e *deltaEnt) string {
	return unsafe.String(unsafe.SliceData(d.text[e.off:]), int(e.n))
}

// appendText appends entry e's text.
func (d *deltaSet) appendText(dst []byte, e *deltaEnt) []byte {
	if e.form == formOdd {
		return append(dst, d.text[e.off:e.off+e.n]...)
	}
	return appendDerived(dst, d.kind, e.num, e.form)
}

// value returns entry e's value (its text a copy).
func (d *deltaSet) value(e *deltaEnt) value {
	return value{text: string(d.appendText(nil, e)), num: e.num, isNum: e.isNum}
}

func (d *deltaSet) hash(k *deltaKey) uint64 {
	if k.isNum {
		return maphash.Comparable(d.seed, math.Float64bits(k.num+0)) // -0 + 0 is 0
	}
	return maphash.String(d.seed, k.text)
}

// is reports whether entry e holds the value of key k, as value equality
// (text, number, kind) has it.
func (d *deltaSet) is(e *deltaEnt, k *deltaKey) bool {
	if e.isNum != k.isNum || e.num != k.num || e.form != k.form {
		return false
	}
	if k.form == formOdd {
		return int(e.n) == len(k.text) && d.oddText(e) == k.text
	}
	// Equal numbers, one form: the same text, but for 0 and -0, whose
	// decimal texts differ ("0", "-0") and other texts do not.
	return e.num != 0 || math.Signbit(e.num) == math.Signbit(k.num) ||
		derive(d.kind, e.num, e.form) == derive(d.kind, k.num, k.form)
}

// find returns the entry number of key k, or -1.
func (d *deltaSet) find(k deltaKey) int {
	if len(d.slots) == 0 {
		return -1
	}
	mask := uint64(len(d.slots) - 1)
	for i := d.hash(&k) & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return -1
		}
		if d.is(&d.ents[s-1], &k) {
			return int(s - 1)
		}
	}
}

// eachNum calls f with every entry with docs whose number equals n.
func (d *deltaSet) eachNum(n float64, f func(e *deltaEnt)) {
	if len(d.slots) == 0 {
		return
	}
	mask := uint64(len(d.slots) - 1)
	for i := d.hash(&deltaKey{num: n, isNum: true}) & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return
		}
		if e := &d.ents[s-1]; e.isNum && e.num == n && e.post != noDocs {
			f(e)
		}
	}
}

// add returns key k's entry, made (with no docs) if k has none.
func (d *deltaSet) add(k deltaKey) *deltaEnt {
	if i := d.find(k); i >= 0 {
		return &d.ents[i]
	}
	e := deltaEnt{num: k.num, post: noDocs, isNum: k.isNum, form: k.form}
	if k.form == formOdd {
		if len(d.text)+len(k.text) > math.MaxUint32 {
			panic("index: delta text out of range") // far past any merge's threshold
		}
		// A copy: the caller's text may share its memory with a whole
		// decoded record, which the index must not keep alive.
		e.off, e.n = uint32(len(d.text)), uint32(len(k.text))
		d.text = append(d.text, k.text...)
	}
	d.ents = append(d.ents, e)
	if len(d.ents)*4 >= len(d.slots)*3 {
		d.rehash()
	} else {
		d.insert(len(d.ents) - 1)
	}
	return &d.ents[len(d.ents)-1]
}

func (d *deltaSet) insert(i int) {
	e := &d.ents[i]
	k := deltaKey{num: e.num, isNum: e.isNum}
	if !e.isNum {
		k.text = d.oddText(e)
	}
	mask := uint64(len(d.slots) - 1)
	for j := d.hash(&k) & mask; ; j = (j + 1) & mask {
		if d.slots[j] == 0 {
			d.slots[j] = uint32(i + 1)
			return
		}
	}
}

// rehash sizes the table for twice the entries.
func (d *deltaSet) rehash() {
	if d.slots == nil {
		d.seed = maphash.MakeSeed()
	}
	size := 16
	for size < (len(d.ents)+1)*2 {
		size *= 2
	}
	d.slots = make([]uint32, size)
	for i := range d.ents {
		d.insert(i)
	}
}

// setPost sets entry e's posting, keeping the count of live entries.
func (d *deltaSet) setPost(e *deltaEnt, post posting) {
	switch {
	case e.post == noDocs && post != noDocs:
		d.live++
	case e.post != noDocs && post == noDocs:
		d.live--
	}
	e.post = post
}

// bytes is about how much memory the set takes.
func (d *deltaSet) bytes() int {
	return int(unsafe.Sizeof(deltaEnt{}))*cap(d.ents) + cap(d.text) + 4*cap(d.slots)
}
