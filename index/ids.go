package index

import (
	"hash/maphash"
	"unsafe"
)

// idTable numbers the findings' ids: doc number to id and back. The ids
// are kept end to end in one byte slice, each doc's place in it in one
// word, and the way back is an open-addressing table of doc numbers
// hashed by id: about 12 bytes per finding beside the id's own bytes,
// where a []string and a map[string]uint32 cost some 70.
type idTable struct {
	data  []byte   // ids, appended; bytes once written never change
	place []uint64 // by doc: offset<<24 | length; free for a free number
	slots []uint32 // doc+1 by hash; 0 empty, tombstone a removed one
	used  int      // slots holding a doc or a tombstone
	live  int
	waste int // bytes of data no doc points to
	seed  maphash.Seed
}

const (
	tombstone = ^uint32(0)
	free      = ^uint64(0)
	maxIDLen  = 1<<24 - 1
)

// len is the number of doc numbers given out (free ones included).
func (t *idTable) len() int { return len(t.place) }

// id returns doc n's id ("" for a free number). The string shares data's
// memory, which is never written again: it stays valid after the table
// grows or compacts.
func (t *idTable) id(n uint32) string {
	p := t.place[n]
	if p == free || p&maxIDLen == 0 {
		return ""
	}
	return unsafe.String(&t.data[p>>24], int(p&maxIDLen))
}

// lookup returns id's doc number.
func (t *idTable) lookup(id string) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := maphash.String(t.seed, id) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if s != tombstone && t.id(s-1) == id {
			return s - 1, true
		}
	}
}

// set gives doc n the id, which no other doc has; n is a new number
// (len) or a free one.
func (t *idTable) set(n uint32, id string) {
	if len(id) > maxIDLen || len(t.data) >= 1<<40 {
		// Far beyond any finding id guardpost accepts (AWS's are at
		// most 300 characters) and any detector's size.
		panic("index: finding id out of range")
	}
	if int(n) == len(t.place) {
		t.place = extend(t.place, len(t.place)+1, free)
	}
	t.place[n] = uint64(len(t.data))<<24 | uint64(len(id))
	t.data = appendBytes(t.data, id)
	t.live++
	if (t.used+1)*4 >= len(t.slots)*3 {
		t.rehash()
	}
	t.insert(n)
}

func (t *idTable) insert(n uint32) {
	mask := uint64(len(t.slots) - 1)
	for i := maphash.String(t.seed, t.id(n)) & mask; ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = n + 1
			t.used++
			return
		}
	}
}

// remove frees doc n's number.
func (t *idTable) remove(n uint32) {
	id := t.id(n)
	mask := uint64(len(t.slots) - 1)
	for i := maphash.String(t.seed, id) & mask; ; i = (i + 1) & mask {
		if t.slots[i] == n+1 {
			t.slots[i] = tombstone
			break
		}
	}
	t.waste += len(id)
	t.place[n] = free
	t.live--
	if t.waste > 1<<16 && t.waste > len(t.data)/2 {
		t.compact()
	}
}

// rehash resizes the slots for one and a half times the live ids (a
// power of two: a third to two thirds full, then growing at three
// quarters), dropping tombstones. Twice the ids would leave a million
// ids' table a quarter full, 16 MB where 8 do.
func (t *idTable) rehash() {
	if t.slots == nil {
		t.seed = maphash.MakeSeed()
	}
	size := 16
	for size < (t.live+1)*3/2 {
		size *= 2
	}
	t.slots, t.used = make([]uint32, size), 0
	for n, p := range t.place {
		if p != free {
			t.insert(uint32(n))
		}
	}
}

// compact copies the live ids into a new slice (the old one stays as long
// as strings handed out point into it).
func (t *idTable) compact() {
	data := make([]byte, 0, len(t.data)-t.waste)
	for n, p := range t.place {
		if p != free {
			id := t.id(uint32(n))
			t.place[n] = uint64(len(data))<<24 | uint64(len(id))
			data = append(data, id...)
		}
	}
	t.data, t.waste = data, 0
}

// trim drops the unused capacity appending left.
func (t *idTable) trim() {
	t.data, t.place = fit(t.data), fit(t.place)
}
