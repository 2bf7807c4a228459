package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBytes     = 64 << 20
	DefaultSyncInterval = time.Second
	DefaultMaxPending   = 8 << 20
	DefaultSyncTimeout  = 10 * time.Second
)

// flushAt is how many buffered bytes of read-only records wake the flusher
// before its next tick.
const flushAt = 64 << 10

// maxSpare is the largest batch buffer kept for the next batch: under a
// steady stream of read-only records a batch grows past flushAt while the
// previous one is written.
const maxSpare = 1 << 20

// Errors of Write.
var (
	ErrClosed  = errors.New("audit log closed")
	ErrDropped = errors.New("audit log: read-only record dropped, too many records waiting to be written")
	ErrTimeout = errors.New("audit log: record not on disk in time")
)

// Options tune a Log; the zero value of each field means its default.
type Options struct {
	// MaxBytes starts a new file once the current one would grow past it.
	// A new file is also started on each UTC day and each Open.
	MaxBytes int64
	// SyncInterval bounds how long a read-only record stays in memory
	// (and then in the page cache) before it is written and fsynced.
	SyncInterval time.Duration
	// MaxPending bounds the bytes of records waiting to be written; past
	// it, read-only records are dropped (and counted) rather than grow the
	// memory or hold a request while the disk is slow.
	MaxPending int
	// SyncTimeout bounds how long Write waits for a state-changing call's
	// record to reach the disk; after it Write returns ErrTimeout (the
	// record is still written when the disk allows).
	SyncTimeout time.Duration
	// Now is the clock that names files and decides day rotation; nil
	// means time.Now.
	Now func() time.Time
	// Logger receives write failures; nil means slog.Default().
	Logger *slog.Logger
}

// Log writes records as JSON lines to files in one directory.
//
// What is guaranteed: Write of a state-changing call's record (ReadOnly
// false) returns only once the record is written and fsynced (or with an
// error): a caller that answers after Write has the record on disk before
// the answer leaves, so no acknowledged change lacks its record after a
// crash or power cut. Concurrent writers share one fsync (group commit):
// while one batch is synced the next accumulates. A read-only record is
// buffered and returns at once; it is written and fsynced within
// SyncInterval (sooner when 64 KiB are waiting, or with the next
// state-changing record), so a crash loses at most the read-only records
// of the last SyncInterval. Rotation fsyncs the finished file and the
// directory.
type Log struct {
	dir  string
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	cur     *batch // records waiting for the flusher
	spare   []byte // the last written batch's buffer, for the next batch
	closed  bool
	dropped uint64

	kick chan struct{} // wakes the flusher; capacity 1
	done chan struct{} // closed when the flusher has finished

	// Owned by the flusher goroutine.
	file     *os.File
	size     int64
	day      string // UTC day (20060102) the open file belongs to
	unsynced bool   // bytes written to file since its last fsync
	lastName string
}

// batch is the records appended between two flushes, each of which
// fsyncs. Writers of state-changing records wait for done; err is then
// the batch's fate.
type batch struct {
	buf  []byte
	done chan struct{}
	err  error
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// Open starts a Log writing into dir (created if missing) and its flusher.
// Every Open starts a new file, so a file torn by a crash is never
// appended to.
func Open(dir string, opts Options) (*Log, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = DefaultSyncTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Log{dir: dir, opts: opts, log: opts.Logger, cur: newBatch(), kick: make(chan struct{}, 1), done: make(chan struct{})}
	if l.log == nil {
		l.log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	// Open the first file now, so that an unwritable directory fails the
	// start rather than the first request.
	if err := l.rotate(); err != nil {
		return nil, err
	}
	go l.flusher()
	return l, nil
}

// Dir is the directory the Log writes to.
func (l *Log) Dir() string { return l.dir }

// Dropped is how many read-only records were dropped because too many
// records were waiting to be written.
func (l *Log) Dropped() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Write appends rec. For a state-changing record (rec.ReadOnly false) it
// returns once the record is on disk, or with the error that kept it off
// (ErrTimeout after Options.SyncTimeout); for a read-only record it
// returns at once (ErrDropped when too much is waiting).
func (l *Log) Write(rec *Record) error {
	line, err := encode(rec)
	if err != nil {
		return err
	}
	defer line.free()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	b := l.cur
	if rec.ReadOnly && len(b.buf) >= l.opts.MaxPending {
		l.dropped++
		l.mu.Unlock()
		return ErrDropped
	}
	b.buf = append(b.buf, line.Bytes()...)
	if !rec.ReadOnly || len(b.buf) >= flushAt {
		// Under mu: Close closes kick under mu too.
		select {
		case l.kick <- struct{}{}:
		default: // already woken
		}
	}
	l.mu.Unlock()
	if rec.ReadOnly {
		return nil
	}
	t := time.NewTimer(l.opts.SyncTimeout)
	defer t.Stop()
	select {
	case <-b.done:
		return b.err
	case <-t.C:
		return ErrTimeout
	}
}

// encode is rec as one JSON line, in a pooled buffer to free once copied.
// HTML characters are kept as they are, as CloudTrail writes them.
func encode(rec *Record) (*lineBuffer, error) {
	b := lines.Get().(*lineBuffer)
	b.Grow(1024 + len(rec.RequestParameters) + len(rec.ResponseElements))
	if err := b.enc.Encode(rec); err != nil {
		b.free()
		return nil, fmt.Errorf("audit record: %w", err)
	}
	return b, nil
}

// lineBuffer is an encoded record: records are encoded on every audited
// call, and their buffers reused.
type lineBuffer struct {
	bytes.Buffer
	enc *json.Encoder // writes to Buffer
}

var lines = sync.Pool{New: func() any {
	b := new(lineBuffer)
	b.enc = json.NewEncoder(&b.Buffer)
	b.enc.SetEscapeHTML(false)
	return b
}}

func (b *lineBuffer) free() {
	if b.Cap() > 1<<20 {
		return
	}
	b.Reset()
	lines.Put(b)
}

// Close writes and fsyncs what is waiting, closes the file and stops the
// flusher. Writes after Close return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.kick)
	l.mu.Unlock()
	<-l.done
	if l.file == nil {
		return nil
	}
	err := l.file.Sync()
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	l.file = nil
	if err == nil && l.size == 0 { // a start that recorded nothing leaves no file
		if err = os.Remove(filepath.Join(l.dir, l.lastName)); err == nil {
			err = syncDir(l.dir)
		}
	}
	return err
}

// flusher writes batches: when woken by a state-changing record, when
// 64 KiB of read-only records wait, every SyncInterval, and once more on
// Close.
func (l *Log) flusher() {
	defer close(l.done)
	tick := time.NewTicker(l.opts.SyncInterval)
	defer tick.Stop()
	for {
		open := true
		select {
		case _, open = <-l.kick:
		case <-tick.C:
		}
		l.mu.Lock()
		b := l.cur
		l.cur = newBatch()
		l.cur.buf, l.spare = l.spare, nil
		l.mu.Unlock()
		b.err = l.flush(b.buf)
		if b.err != nil {
			l.log.Error("audit log: records not written", "dir", l.dir, "bytes", len(b.buf), "err", b.err)
		}
		close(b.done)
		if cap(b.buf) <= maxSpare { // keep a buffer of the usual size, not a burst's
			l.mu.Lock()
			l.spare = b.buf[:0]
			l.mu.Unlock()
		}
		if !open {
			return
		}
	}
}

// flush writes buf (whole lines) to the current file, rotating by size
// and day, and fsyncs. A failed write leaves the file behind: the next
// flush starts a new one, so a torn line is only ever a file's last.
func (l *Log) flush(buf []byte) error {
	for len(buf) > 0 {
		if l.file == nil || l.day != day(l.opts.Now()) {
			if err := l.rotate(); err != nil {
				return err
			}
		}
		n := fitting(buf, l.opts.MaxBytes-l.size)
		if n == 0 { // the file is full: the next one gets the rest
			if l.size == 0 {
				n = lineEnd(buf) // one record larger than MaxBytes gets a file of its own
			} else {
				if err := l.rotate(); err != nil {
					return err
				}
				continue
			}
		}
		w, err := l.file.Write(buf[:n])
		l.size += int64(w)
		l.unsynced = true
		if err != nil {
			l.abandon()
			return err
		}
		buf = buf[n:]
	}
	if !l.unsynced {
		return nil
	}
	if err := l.file.Sync(); err != nil {
		l.abandon()
		return err
	}
	l.unsynced = false
	return nil
}

// fitting is the length of the longest run of whole lines at the start of
// buf that fits in room bytes.
func fitting(buf []byte, room int64) int {
	n := 0
	for n < len(buf) {
		end := n + lineEnd(buf[n:])
		if int64(end) > room {
			break
		}
		n = end
	}
	return n
}

// lineEnd is the length of buf's first line, newline included.
func lineEnd(buf []byte) int {
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		return i + 1
	}
	return len(buf)
}

// abandon drops the current file after a failed write or sync.
func (l *Log) abandon() {
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
}

// rotate fsyncs and closes the current file and opens a new one, named
// after the clock so that names sort in the order the files were written.
func (l *Log) rotate() error {
	if l.file != nil {
		err := l.file.Sync()
		if cerr := l.file.Close(); err == nil {
			err = cerr
		}
		l.file = nil
		if err != nil {
			return fmt.Errorf("audit log: finish %s: %w", l.lastName, err)
		}
	}
	now := l.opts.Now().UTC()
	for {
		name := FilePrefix + now.Format(fileTimeFormat) + FileSuffix
		if name <= l.lastName { // a clock that stood still or went back
			now = now.Add(time.Nanosecond)
			continue
		}
		f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if errors.Is(err, os.ErrExist) {
			now = now.Add(time.Nanosecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		if err := syncDir(l.dir); err != nil {
			f.Close()
			return fmt.Errorf("audit log: %w", err)
		}
		l.file, l.size, l.day, l.lastName, l.unsynced = f, 0, day(now), name, false
		return nil
	}
}

// File names: FilePrefix, the UTC time the file was started (to the
// nanosecond, fixed width, so that names sort by time), FileSuffix.
const (
	FilePrefix     = "audit-"
	FileSuffix     = ".jsonl"
	fileTimeFormat = "20060102T150405.000000000Z"
)

func day(t time.Time) string { return t.UTC().Format("20060102") }

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
