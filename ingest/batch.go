package ingest

// batcher fills records in place and hands them to fn a batch at a time,
// reusing one slice: a reader's memory is a batch, whatever the body's
// length.
type batcher[R any] struct {
	recs []R
	fn   func([]R) error
}

func newBatcher[R any](size int, fn func([]R) error) *batcher[R] {
	return &batcher[R]{recs: make([]R, 0, max(size, 1)), fn: fn}
}

// next returns a zeroed record to fill, the batch's next.
func (b *batcher[R]) next() *R {
	var zero R
	b.recs = append(b.recs, zero)
	return &b.recs[len(b.recs)-1]
}

// done hands the batch on once it is full.
func (b *batcher[R]) done() error {
	if len(b.recs) < cap(b.recs) {
		return nil
	}
	return b.flush()
}

// flush hands on what the batch holds, if anything.
func (b *batcher[R]) flush() error {
	if len(b.recs) == 0 {
		return nil
	}
	err := b.fn(b.recs)
	b.recs = b.recs[:0]
	return err
}
