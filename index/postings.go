package index

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/guardpost/guardpost"
)

// value is one distinct value of an attribute, as criteria compare it.
type value struct {
	text  string
	num   float64
	isNum bool
}

// postings is one attribute's dictionary from its distinct values to the
// findings that hold them.
//
// Most values of many attributes (ids, ARNs, times, addresses) belong to
// one finding each, and there are about a million of them per attribute
// at a million findings: the dictionary is a sorted run (strRun for text
// attributes, numRun for numbers, times and booleans), where a value held
// by one finding costs its bytes and a few more, and a value shared by
// several findings points to a roaring bitmap. A write changes a value
// the run has in place (a value that loses its last finding stays, with
// noDocs, until the next merge); a value the run lacks goes into delta, a
// small map, which is merged into a new run once it holds a sixteenth of
// the run's size. A bulk load (pend) gathers new values and sorts them
// once. Values of the other form than the attribute's (text on a numeric
// attribute, which guardpost.FindingAttributes does not make) stay in
// delta.
type postings struct {
	kind    guardpost.ValueKind
	numeric bool

	strs strRun // text attributes
	nums numRun // numeric ones
	dead int    // run values with noDocs

	// delta holds the values the run lacks (see deltaSet). A batch of
	// new findings puts its values of long runs there without looking in
	// the run, so a value may be in both, each posting with docs of its
	// own: lookups take the union, and a merge combines them.
	delta deltaSet

	bitmaps     []*roaring.Bitmap
	freeBitmaps []uint32

	// A bulk load's values not merged yet (see load, settle).
	pendStr  []pendingStr
	pendNum  []pendingNum
	pendText []byte
	// loadIdx finds a short text run's values by hash for writes (see
	// loadFind); nil after a merge and once loaded, made again on demand.
	loadIdx *runHash
	// self, for the attributes that hold each finding's own id (id, and
	// arn, which ends with it), keeps those values as a bitmap of docs.
	self *selfValues

	// lazy guards blocks, which queries build under the index's read
	// lock (writes, under the write lock, clear it), and the merge of a
	// bulk load's values a query may have to finish.
	lazy sync.Mutex
	// blocks[i] is the union of the postings of nums[i*blockSize :
	// (i+1)*blockSize], so that a range over many distinct values (times,
	// counts) is a union of a few blocks; nil when stale, built on demand.
	blocks []*roaring.Bitmap
}

type pendingStr struct{ off, n, doc uint32 }

type pendingNum struct {
	num  float64
	doc  uint32
	text uint32 // formOdd: offset of the text's length and bytes in pendText
	form uint8
}

// blockSize is how many consecutive numeric values one block unites.
const blockSize = 256

func newPostings(kind guardpost.ValueKind) postings {
	numeric := kind == guardpost.KindNumber || kind == guardpost.KindTime || kind == guardpost.KindBool
	return postings{kind: kind, numeric: numeric, delta: newDelta(kind, numeric)}
}

// fits reports whether v has the run's form.
func (p *postings) fits(v value) bool { return v.isNum == p.numeric }

// runLen is the number of values in the run.
func (p *postings) runLen() int {
	if p.numeric {
		return p.nums.len()
	}
	return p.strs.len()
}

// runPost returns the posting of run value i.
func (p *postings) runPost(i int) *posting {
	if p.numeric {
		return &p.nums.post[i]
	}
	return &p.strs.post[i]
}

// find returns the run index of v, or -1.
func (p *postings) find(v value) int {
	if !p.fits(v) {
		return -1
	}
	if p.numeric {
		return p.nums.find(p.kind, v.num, v.text)
	}
	return p.strs.find(v.text)
}

func (p *postings) add(v value, doc uint32) {
	p.blocks = nil
	if p.self.owns(v, doc) {
		p.self.docs.Add(doc)
		return
	}
	if p.pending() > 0 {
		p.merge() // a bulk load's values first
	}
	if i := p.find(v); i >= 0 {
		post := p.runPost(i)
		if *post == noDocs {
			p.dead--
		}
		*post = p.addDoc(*post, doc)
		return
	}
	p.addDelta(p.delta.key(v), doc)
}

// addDelta adds doc to k's posting in delta.
func (p *postings) addDelta(k deltaKey, doc uint32) {
	e := p.delta.add(k)
	p.delta.setPost(e, p.addDoc(e.post, doc))
	// delta keeps the entries of values removed since the last merge:
	// values that come and go (a rewritten finding's updatedAt) merge too.
	if t := mergeThreshold(p.runLen()); p.delta.live >= t || len(p.delta.ents) >= 2*t {
		p.merge()
	}
}

// oddInDelta reports whether v, in delta, was found by number only by
// scanning (the snapshot format still counts them).
func (p *postings) oddInDelta(v value) bool {
	return p.numeric && v.isNum && (p.kind == guardpost.KindTime || formOf(p.kind, v) != formDefault)
}

// mergeThreshold is how many values delta gathers before it is merged
// into a run of n values: a merge copies the run, so it waits for a
// sixteenth of it, and each value written costs about 16 copies.
func mergeThreshold(n int) int { return 1024 + n/16 }

func (p *postings) remove(v value, doc uint32) {
	p.blocks = nil
	if p.self.owns(v, doc) && p.self.docs.Contains(doc) {
		p.self.docs.Remove(doc)
		return
	}
	if p.pending() > 0 {
		p.merge()
	}
	// The doc is in the run's posting of v or in delta's, or in both (a
	// batch's value is put in delta unlooked-for; see settle).
	if k := p.delta.find(p.delta.key(v)); k >= 0 {
		e := &p.delta.ents[k]
		p.delta.setPost(e, p.removeDoc(e.post, doc))
	}
	if i := p.find(v); i >= 0 {
		if post := p.runPost(i); p.holds(*post, doc) {
			if *post = p.removeDoc(*post, doc); *post == noDocs {
				p.dead++
				if p.dead >= mergeThreshold(p.runLen()) {
					p.merge()
				}
			}
		}
	}
}

// holds reports whether post has doc.
func (p *postings) holds(post posting, doc uint32) bool {
	switch {
	case post == noDocs:
		return false
	case post&sharedFlag != 0:
		return p.bitmaps[post&^sharedFlag].Contains(doc)
	}
	return uint32(post) == doc
}

// forget takes the docs of gone (marked in mark) out of every posting.
func (p *postings) forget(gone *roaring.Bitmap, mark []bool) {
	if p.pending() > 0 {
		p.merge()
	}
	p.blocks = nil
	if p.self != nil {
		p.self.docs.AndNot(gone)
	}
	drop := func(post posting) posting {
		switch {
		case post == noDocs:
		case post&sharedFlag != 0:
			i := uint32(post &^ sharedFlag)
			b := p.bitmaps[i]
			if !b.Intersects(gone) {
				return post
			}
			b.AndNot(gone)
			b.RunOptimize() // AndNot leaves run containers as bitmaps
			switch b.GetCardinality() {
			case 0:
				p.freeBitmap(i)
				return noDocs
			case 1:
				p.freeBitmap(i)
				return posting(b.Minimum())
			}
		case int(post) < len(mark) && mark[post]:
			return noDocs
		}
		return post
	}
	for _, posts := range [][]posting{p.strs.post, p.nums.post} {
		for i, q := range posts {
			if q != noDocs {
				if posts[i] = drop(q); posts[i] == noDocs {
					p.dead++
				}
			}
		}
	}
	for i := range p.delta.ents {
		if e := &p.delta.ents[i]; e.post != noDocs {
			p.delta.setPost(e, drop(e.post))
		}
	}
	if p.dead > 0 && p.dead >= mergeThreshold(p.runLen()) {
		p.merge()
	}
}

// addDoc returns p with doc added.
func (p *postings) addDoc(post posting, doc uint32) posting {
	switch {
	case post == noDocs:
		return posting(doc)
	case post&sharedFlag != 0:
		p.bitmaps[post&^sharedFlag].Add(doc)
		return post
	case uint32(post) == doc:
		return post
	}
	return p.newBitmap(roaring.BitmapOf(uint32(post), doc))
}

func (p *postings) newBitmap(b *roaring.Bitmap) posting {
	if k := len(p.freeBitmaps); k > 0 {
		i := p.freeBitmaps[k-1]
		p.freeBitmaps = p.freeBitmaps[:k-1]
		p.bitmaps[i] = b
		return posting(i) | sharedFlag
	}
	p.bitmaps = append(p.bitmaps, b)
	return posting(len(p.bitmaps)-1) | sharedFlag
}

func (p *postings) freeBitmap(i uint32) {
	p.bitmaps[i] = nil
	p.freeBitmaps = append(p.freeBitmaps, i)
}

// removeDoc returns post without doc.
func (p *postings) removeDoc(post posting, doc uint32) posting {
	switch {
	case post == noDocs:
		return noDocs
	case post&sharedFlag != 0:
		i := uint32(post &^ sharedFlag)
		b := p.bitmaps[i]
		b.Remove(doc)
		switch b.GetCardinality() {
		case 0:
			p.freeBitmap(i)
			return noDocs
		case 1:
			p.freeBitmap(i)
			return posting(b.Minimum())
		}
		return post
	case uint32(post) == doc:
		return noDocs
	}
	return post
}

// combine returns the union of two postings of one value.
func (p *postings) combine(a, b posting) posting {
	switch {
	case b == noDocs:
		return a
	case b&sharedFlag == 0:
		return p.addDoc(a, uint32(b))
	case a == noDocs:
		return b
	case a&sharedFlag == 0:
		p.bitmaps[b&^sharedFlag].Add(uint32(a))
		return b
	}
	p.bitmaps[a&^sharedFlag].Or(p.bitmaps[b&^sharedFlag])
	p.freeBitmap(uint32(b &^ sharedFlag))
	return a
}

// load adds v for doc as part of a bulk load: a value new to the run is
// gathered, to be sorted and merged with the others (settle).
func (p *postings) load(v value, doc uint32, bulk bool) {
	if !p.fits(v) || p.self != nil {
		p.add(v, doc)
		return
	}
	// A run of few values (severities, types, regions) takes most of a
	// load's values: find them there. A long one (ids, times) rarely
	// holds a new finding's value; gather those without looking.
	if p.runLen() <= shortRun {
		if i := p.loadFind(v); i >= 0 {
			post := p.runPost(i)
			if *post == noDocs {
				p.dead--
			}
			*post = p.addDoc(*post, doc)
			return
		}
	}
	if !p.numeric {
		p.pendStr = append(p.pendStr, pendingStr{off: uint32(len(p.pendText)), n: uint32(len(v.text)), doc: doc})
		p.pendText = append(p.pendText, v.text...)
		return
	}
	pn := pendingNum{num: v.num, doc: doc, form: formOf(p.kind, v)}
	if pn.form == formOdd {
		pn.text = uint32(len(p.pendText))
		p.pendText = appendString(p.pendText, v.text)
	}
	p.pendNum = append(p.pendNum, pn)
}

// shortRun is the longest run a batch looks its values up in: a run of
// few values (severities, types, regions) takes most of a batch's values.
const shortRun = 4096

// loadFind is find for a write into a short run, under the write lock:
// text runs are looked up by hash (most of a batch's values are in such
// runs, and hashing beats a binary search of front-coded blocks).
func (p *postings) loadFind(v value) int {
	if p.numeric || !p.fits(v) {
		return p.find(v)
	}
	if p.loadIdx == nil {
		p.loadIdx = newRunHash(&p.strs)
	}
	return p.loadIdx.find(&p.strs, v.text)
}

func appendString(dst []byte, s string) []byte {
	dst = append(dst, byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s)))
	return append(dst, s...)
}

func stringAt(b []byte, off uint32) string { return strings.Clone(stringView(b, off)) }

// stringView is stringAt sharing b's memory.
func stringView(b []byte, off uint32) string {
	n := int(b[off])<<24 | int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
	return unsafe.String(unsafe.SliceData(b[off+4:]), n)
}

func (p *postings) pending() int { return len(p.pendStr) + len(p.pendNum) }

// settle ends a batch of load: the gathered values are merged into the
// run when they are many (bulk, when no query sees the index yet: as many
// as the run holds, so that a load copies each value a few times), and
// otherwise go into delta.
func (p *postings) settle(bulk bool) {
	n := p.pending()
	if n == 0 {
		return
	}
	if bulk && n < max(p.runLen(), 1<<16) {
		return
	}
	if !bulk && n+p.delta.live < mergeThreshold(p.runLen()) {
		// Into delta, without a look in the run: load looked in a short
		// run already, and a long one (ids, times, addresses) seldom has
		// a new finding's value; when it does, the value is in both, as
		// lookups and merges allow (see postings.delta).
		strs, nums, text := p.pendStr, p.pendNum, p.pendText
		p.pendStr, p.pendNum, p.pendText = nil, nil, nil // a merge must not take them
		for _, e := range strs {
			p.addDelta(deltaKey{text: unsafe.String(unsafe.SliceData(text[e.off:]), e.n), form: formOdd}, e.doc)
		}
		for _, e := range nums {
			k := deltaKey{num: e.num, isNum: true, form: e.form}
			if e.form == formOdd {
				k.text = stringView(text, e.text)
			}
			p.addDelta(k, e.doc)
		}
		p.pendStr, p.pendNum, p.pendText = strs[:0], nums[:0], text[:0]
		return
	}
	p.merge()
}

// ready finishes a bulk load a query finds unmerged (Load without
// Loaded). The caller holds the index's read lock; writes are excluded,
// so once merged the run stays. The check takes the lock too: another
// query may be merging.
func (p *postings) ready() {
	p.lazy.Lock()
	defer p.lazy.Unlock()
	if p.pending() > 0 {
		p.merge()
	}
}

// merge makes a new run of the run's values that have findings, delta's
// values of the run's form and the gathered ones.
func (p *postings) merge() {
	p.blocks, p.loadIdx = nil, nil
	if p.numeric {
		p.mergeNums()
	} else {
		p.mergeStrs()
	}
	p.dead = 0
	// A write's batches reuse small gathering slices; a bulk load's large
	// ones go.
	if cap(p.pendText) <= 1<<16 && cap(p.pendStr) <= 1<<12 && cap(p.pendNum) <= 1<<12 {
		p.pendStr, p.pendNum, p.pendText = p.pendStr[:0], p.pendNum[:0], p.pendText[:0]
	} else {
		p.pendStr, p.pendNum, p.pendText = nil, nil, nil
	}
	// What stays in delta: values of the other form.
	keep := newDelta(p.kind, p.numeric)
	for i := range p.delta.ents {
		if e := &p.delta.ents[i]; e.post != noDocs && e.isNum != p.numeric {
			keep.setPost(keep.add(deltaKey{text: p.delta.oddText(e), num: e.num, isNum: e.isNum, form: formOdd}), e.post)
		}
	}
	p.delta = keep
}

func (p *postings) mergeStrs() {
	type item struct {
		text string
		post posting
	}
	items := make([]item, 0, p.delta.live+len(p.pendStr))
	for i := range p.delta.ents {
		if e := &p.delta.ents[i]; e.post != noDocs && !e.isNum {
			items = append(items, item{p.delta.oddText(e), e.post})
		}
	}
	for _, e := range p.pendStr {
		items = append(items, item{unsafe.String(unsafe.SliceData(p.pendText[e.off:]), e.n), posting(e.doc)})
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.text, b.text) })
	var b strBuilder
	// The new values take about the bytes a value takes in the run now.
	size := len(p.strs.data) + 64
	if n := p.strs.len(); n > 0 {
		size += len(p.strs.data) / n * len(items)
	} else {
		for _, it := range items {
			size += len(it.text) + 2
		}
	}
	b.reserve(p.strs.len()+len(items), size+size/32)
	// Equal texts (one in the run, several gathered) are combined.
	var cur []byte // a copy: the scanner reuses its buffer
	curPost, has := noDocs, false
	emit := func() {
		if has && curPost != noDocs {
			b.add(unsafe.String(unsafe.SliceData(cur), len(cur)), curPost)
		}
	}
	put := func(t string, post posting) {
		if has && t == string(cur) {
			curPost = p.combine(curPost, post)
			return
		}
		emit()
		cur, curPost, has = append(cur[:0], t...), post, true
	}
	s := p.strs.scanFrom(0)
	more := s.next()
	for j := 0; more || j < len(items); {
		if more && (j == len(items) || s.text() <= items[j].text) {
			put(s.text(), p.strs.post[s.i-1])
			more = s.next()
			continue
		}
		put(items[j].text, items[j].post)
		j++
	}
	emit()
	p.strs = b.done()
}

func (p *postings) mergeNums() {
	type item struct {
		num  float64
		form uint8
		text string // formOdd
		post posting
	}
	items := make([]item, 0, p.delta.live+len(p.pendNum))
	for i := range p.delta.ents {
		if e := &p.delta.ents[i]; e.post != noDocs && e.isNum {
			it := item{num: e.num, form: e.form, post: e.post}
			if it.form == formOdd {
				it.text = strings.Clone(p.delta.oddText(e)) // the run keeps it
			}
			items = append(items, it)
		}
	}
	for _, e := range p.pendNum {
		it := item{num: e.num, form: e.form, post: posting(e.doc)}
		if e.form == formOdd {
			it.text = stringAt(p.pendText, e.text)
		}
		items = append(items, it)
	}
	text := func(it *item) string {
		if it.form == formOdd {
			return it.text
		}
		return derive(p.kind, it.num, it.form)
	}
	compare := func(a, b *item) int {
		if c := cmp.Compare(a.num, b.num); c != 0 || a.form == b.form && a.form != formOdd {
			return c
		}
		return strings.Compare(text(a), text(b))
	}
	slices.SortFunc(items, func(a, b item) int { return compare(&a, &b) })
	var b numBuilder
	b.reserve(p.nums.len() + len(items))
	var cur item
	has := false
	emit := func() {
		if has && cur.post != noDocs {
			b.add(cur.num, cur.form, cur.text, cur.post)
		}
	}
	put := func(it item) {
		if has && compare(&cur, &it) == 0 {
			cur.post = p.combine(cur.post, it.post)
			return
		}
		emit()
		cur, has = it, true
	}
	r := &p.nums
	i := 0
	runItem := func(i int) item {
		it := item{num: r.num(i), form: r.formAt(i), post: r.post[i]}
		if it.form == formOdd {
			it.text = r.odd[int32(i)]
		}
		return it
	}
	for j := 0; i < r.len() || j < len(items); {
		if i < r.len() {
			ri := runItem(i)
			if j == len(items) || compare(&ri, &items[j]) <= 0 {
				put(ri)
				i++
				continue
			}
		}
		put(items[j])
		j++
	}
	emit()
	p.nums = b.done()
}

// union gathers postings and makes their union.
type union struct {
	bitmaps []*roaring.Bitmap
	docs    []uint32
}

func (u *union) add(p *postings, post posting) {
	switch {
	case post == noDocs:
	case post&sharedFlag != 0:
		u.bitmaps = append(u.bitmaps, p.bitmaps[post&^sharedFlag])
	default:
		u.docs = append(u.docs, uint32(post))
	}
}

func (u *union) bitmap() *roaring.Bitmap {
	out := roaring.FastOr(u.bitmaps...)
	if len(u.docs) > 0 {
		slices.Sort(u.docs)
		out.AddMany(u.docs)
	}
	return out
}

// equalText returns the findings with one of the texts (a text
// attribute's equality: by text).
func (p *postings) equalText(texts []string) *roaring.Bitmap {
	p.ready()
	var u union
	for _, t := range texts {
		v := value{text: t}
		if i := p.find(v); i >= 0 {
			u.add(p, *p.runPost(i))
		}
		if k := p.delta.find(p.delta.key(v)); k >= 0 {
			u.add(p, p.delta.ents[k].post)
		}
		if d, ok := p.self.lookup(t); ok {
			u.docs = append(u.docs, d)
		}
	}
	return u.bitmap()
}

// equalNum returns the findings with a numeric value equal to one of nums
// (a numeric attribute's equality: by number, whatever the text).
func (p *postings) equalNum(nums []float64) *roaring.Bitmap {
	p.ready()
	var u union
	for _, n := range nums {
		if p.numeric {
			r := &p.nums
			for i := r.lowerBound(n); i < r.len() && r.num(i) == n; i++ {
				u.add(p, r.post[i])
			}
		}
		p.delta.eachNum(n, func(e *deltaEnt) { u.add(p, e.post) })
	}
	return u.bitmap()
}

// inRange returns the findings with a numeric value within c's bounds. The
// run's values in range are consecutive: whole blocks of them come from
// their precomputed unions, the ends value by value.
func (p *postings) inRange(c *guardpost.Criterion) *roaring.Bitmap {
	p.ready()
	lower := func(n float64) bool {
		return (c.GreaterThan == nil || n > *c.GreaterThan) && (c.GreaterThanOrEqual == nil || n >= *c.GreaterThanOrEqual)
	}
	upper := func(n float64) bool {
		return (c.LessThan == nil || n < *c.LessThan) && (c.LessThanOrEqual == nil || n <= *c.LessThanOrEqual)
	}
	var u union
	for i := range p.delta.ents {
		if e := &p.delta.ents[i]; e.post != noDocs && e.isNum && lower(e.num) && upper(e.num) {
			u.add(p, e.post)
		}
	}
	if !p.numeric {
		return u.bitmap()
	}
	i := p.nums.search(0, lower)
	j := p.nums.search(i, func(n float64) bool { return !upper(n) })
	if j-i >= 2*blockSize {
		blocks := p.blockUnions()
		for k := i; k < j; {
			if k%blockSize == 0 && k+blockSize <= j {
				u.bitmaps = append(u.bitmaps, blocks[k/blockSize])
				k += blockSize
				continue
			}
			u.add(p, p.nums.post[k])
			k++
		}
		return u.bitmap()
	}
	for _, post := range p.nums.post[i:j] {
		u.add(p, post)
	}
	return u.bitmap()
}

// blockUnions returns the unions of each block of blockSize numeric values.
func (p *postings) blockUnions() []*roaring.Bitmap {
	p.lazy.Lock()
	defer p.lazy.Unlock()
	if p.blocks == nil {
		post := p.nums.post
		for k := 0; k+blockSize <= len(post); k += blockSize {
			var u union
			for _, q := range post[k : k+blockSize] {
				u.add(p, q)
			}
			p.blocks = append(p.blocks, u.bitmap())
		}
		if p.blocks == nil {
			p.blocks = []*roaring.Bitmap{}
		}
	}
	return p.blocks
}

// matching returns the findings with a value whose text matches one of
// the patterns. Each distinct value is tested once, however many
// findings share it; in a text run, only the values that start with a
// pattern's literal prefix are.
func (p *postings) matching(patterns []string) *roaring.Bitmap {
	p.ready()
	var u union
	var buf []byte
	for i := range p.delta.ents {
		if e := &p.delta.ents[i]; e.post != noDocs {
			buf = p.delta.appendText(buf[:0], e)
			if guardpost.MatchesAnyPattern(patterns, unsafe.String(unsafe.SliceData(buf), len(buf))) {
				u.add(p, e.post)
			}
		}
	}
	p.self.matching(patterns, &u)
	if p.numeric {
		for i := range p.nums.len() {
			buf = p.nums.appendText(buf[:0], p.kind, i)
			if guardpost.MatchesAnyPattern(patterns, unsafe.String(unsafe.SliceData(buf), len(buf))) {
				u.add(p, p.nums.post[i])
			}
		}
		return u.bitmap()
	}
	scan := func(from int, prefix string, patterns []string) {
		s := p.strs.scanFrom(from)
		for s.next() {
			t := s.text()
			if !strings.HasPrefix(t, prefix) {
				break
			}
			if guardpost.MatchesAnyPattern(patterns, t) {
				u.add(p, p.strs.post[s.i-1])
			}
		}
	}
	prefixes := make([]string, len(patterns))
	for i, pat := range patterns {
		if prefixes[i] = literalPrefix(pat); prefixes[i] == "" {
			scan(0, "", patterns) // one pass tests them all
			return u.bitmap()
		}
	}
	// Patterns whose prefixes overlap would add a value twice: harmless
	// in a union.
	for i, pat := range patterns {
		scan(p.strs.lowerBound(prefixes[i]), prefixes[i], []string{pat})
	}
	return u.bitmap()
}

// selfValues are the values of an attribute that name their own finding:
// affix + the finding's id (the id attribute, affix ""; arn, whose affix
// is the detector's ARN and "/finding/"). The id table has those ids
// already; kept in the run they would take some 37 bytes a finding each.
type selfValues struct {
	ids   *idTable
	affix string
	known bool // affix learnt (from the first value that ends with its finding's id)
	docs  *roaring.Bitmap
}

// owns reports whether v, a value of doc, is doc's own.
func (s *selfValues) owns(v value, doc uint32) bool {
	if s == nil || v.isNum {
		return false
	}
	id := s.ids.id(doc)
	if !s.known {
		if id == "" || !strings.HasSuffix(v.text, id) {
			return false
		}
		s.affix, s.known = strings.Clone(v.text[:len(v.text)-len(id)]), true
	}
	return len(v.text) == len(s.affix)+len(id) && strings.HasPrefix(v.text, s.affix) && strings.HasSuffix(v.text, id)
}

// lookup returns the doc whose own value is t.
func (s *selfValues) lookup(t string) (uint32, bool) {
	if s == nil || !s.known || !strings.HasPrefix(t, s.affix) {
		return 0, false
	}
	d, ok := s.ids.lookup(t[len(s.affix):])
	return d, ok && s.docs.Contains(d)
}

// matching adds to u the docs whose own value matches one of the
// patterns.
func (s *selfValues) matching(patterns []string, u *union) {
	if s == nil || !s.known || s.docs.IsEmpty() {
		return
	}
	buf := []byte(s.affix)
	it := s.docs.Iterator()
	for it.HasNext() {
		d := it.Next()
		buf = append(buf[:len(s.affix)], s.ids.id(d)...)
		if guardpost.MatchesAnyPattern(patterns, unsafe.String(unsafe.SliceData(buf), len(buf))) {
			u.docs = append(u.docs, d)
		}
	}
}
