// Package ingest reads records that come from outside guardpost into the
// documents guardpost writes. findings.go reads GuardDuty findings, as the
// API, EventBridge, GuardDuty's S3 export, the AWS CLI and boto3 write them.
//
// A body is a stream of JSON values, optionally gzip-compressed (see Open).
// Each value is a record, except that a JSON array, or an object with a
// "findings" or "Findings" array (what get-findings prints), stands for its
// elements. So JSON lines, one document holding an array, and any mix of
// the two are all read the same way, one record at a time, without holding
// the whole body.
package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"unicode/utf8"
)

// ErrTooLarge is the read error of a body whose decoded size passes the
// limit given to Open.
var ErrTooLarge = errors.New("the decoded body is larger than the limit")

// Open returns the decoded content of a body: gunzipped when gzipped is set
// (a Content-Encoding: gzip request) or when it starts with gzip's magic
// bytes, as it is otherwise. Reading more than limit decoded bytes fails
// with ErrTooLarge, which bounds what a small compressed body can expand
// to (a gzip bomb).
func Open(r io.Reader, gzipped bool, limit int64) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	isGzip := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if gzipped && !isGzip {
		return nil, errors.New("the body is marked Content-Encoding: gzip but is not gzip data")
	}
	var src io.Reader = br
	if isGzip {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("the body is not valid gzip data: %v", err)
		}
		src = zr
	}
	return &limitReader{r: src, left: limit}, nil
}

// limitReader fails with ErrTooLarge once more than left bytes are read.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, ErrTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, ErrTooLarge) {
		// A corrupt gzip stream: name it as such, not as JSON.
		err = &decodeError{err}
	}
	return n, err
}

// decodeError is a failure of the compressed stream itself.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "the body is not valid gzip data: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// Record is one record of a body: its JSON text and its 1-based position.
type Record struct {
	N    int
	JSON json.RawMessage
}

// RecordError says what is wrong with one record, or with the body where
// that record would have begun. Err is ErrTooLarge when the body passed its
// limit.
type RecordError struct {
	N   int
	Err error
}

func (e *RecordError) Error() string { return fmt.Sprintf("Record %d: %v", e.N, e.Err) }
func (e *RecordError) Unwrap() error { return e.Err }

// Records splits r into records (see the package comment). Each record's
// text is a fresh slice. The sequence stops after the first error, a
// *RecordError.
//
// A body of objects (JSON lines: what guardpost ingest sends) is split by
// a scanner of its own, several times cheaper than encoding/json's; at the
// first value it does not take (an array, an object holding findings,
// anything not valid JSON) the rest of the body goes to encoding/json's
// decoder, so records and errors are the same either way.
func Records(r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		s := splitter{r: r}
		n := 0
		for {
			rec, err, done := s.next()
			if err != nil {
				yield(Record{N: n + 1}, &RecordError{N: n + 1, Err: err})
				return
			}
			if done {
				break
			}
			if rec == nil { // not for the scanner: encoding/json reads the rest
				prefix, skip := decodedPrefix(s.counted, s.base+int64(s.pos))
				slowRecords(io.MultiReader(prefix, bytes.NewReader(s.buf[s.pos:]), r), skip, n, yield)
				return
			}
			n++
			if !yield(Record{N: n, JSON: rec}, nil) {
				return
			}
		}
	}
}

// decodedPrefix stands in for the part of a body the scanner has read,
// so that encoding/json's decoder reads the rest in the state it would
// have reached itself, and words its errors alike: their byte offsets are
// the input offset (total bytes) and, inside a value, the count of bytes
// it scanned as values (counted: keys and member values). skip values of
// the prefix, which add up to counted bytes, are to be decoded first.
func decodedPrefix(counted, total int64) (prefix io.Reader, skip int) {
	var parts []io.Reader
	for n := counted; n > 0; skip++ {
		l := min(n, 64<<10)
		if n-l == 1 {
			l-- // a string literal is at least 2 bytes
		}
		if l == 1 {
			parts = append(parts, strings.NewReader("0"))
		} else {
			parts = append(parts, strings.NewReader(`"`+strings.Repeat("x", int(l-2))+`"`))
		}
		n -= l
	}
	parts = append(parts, io.LimitReader(spaces{}, total-counted))
	return io.MultiReader(parts...), skip
}

// spaces reads as endless space characters.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// slowRecords is Records with encoding/json's decoder over r, whose first
// skip values stand for the records already read, n of them (see
// decodedPrefix).
func slowRecords(r io.Reader, skip int, n int, yield func(Record, error) bool) {
	{
		dec := json.NewDecoder(r)
		for range skip {
			var raw json.RawMessage
			dec.Decode(&raw)
		}
		fail := func(err error) {
			yield(Record{N: n + 1}, &RecordError{N: n + 1, Err: readError(err, dec)})
		}
		emit := func(raw json.RawMessage) bool {
			n++
			return yield(Record{N: n, JSON: raw}, nil)
		}
		// elements emits the values of an array whose '[' was just read.
		elements := func() bool {
			for dec.More() {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					fail(err)
					return false
				}
				if !emit(raw) {
					return false
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				fail(err)
				return false
			}
			return true
		}
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				return
			}
			if err != nil {
				fail(err)
				return
			}
			switch tok {
			case json.Delim('['):
				if !elements() {
					return
				}
			case json.Delim('{'):
				// Read the members one by one: a "findings" array is
				// streamed; anything else is kept to rebuild the object.
				var members []byte
				container := false
				for dec.More() {
					kt, err := dec.Token()
					if err != nil {
						fail(err)
						return
					}
					key, _ := kt.(string)
					if key == "findings" || key == "Findings" {
						vt, err := dec.Token()
						if err != nil {
							fail(err)
							return
						}
						if vt != json.Delim('[') {
							fail(fmt.Errorf("'%s' must be a list of findings", key))
							return
						}
						container = true
						if !elements() {
							return
						}
						continue
					}
					var raw json.RawMessage
					if err := dec.Decode(&raw); err != nil {
						fail(err)
						return
					}
					if container {
						continue // beside the findings: ResponseMetadata, NextToken...
					}
					if len(members) > 0 {
						members = append(members, ',')
					}
					k, _ := json.Marshal(key)
					members = append(members, k...)
					members = append(members, ':')
					members = append(members, raw...)
				}
				if _, err := dec.Token(); err != nil { // '}'
					fail(err)
					return
				}
				if container {
					continue
				}
				rec := make([]byte, 0, len(members)+2)
				rec = append(rec, '{')
				rec = append(rec, members...)
				rec = append(rec, '}')
				if !emit(rec) {
					return
				}
			default:
				fail(fmt.Errorf("a record must be a JSON object, not %s", describe(tok)))
				return
			}
		}
	}
}

// splitter cuts records out of a body of JSON objects (see Records).
type splitter struct {
	r    io.Reader
	buf  []byte
	pos  int   // buf[:pos] is read
	base int64 // the body offset of buf[0]
	eof  bool
	// counted is how many bytes read so far encoding/json's decoder
	// would have scanned as values (see decodedPrefix).
	counted int64
}

// next returns the next record; nil (and no error) when the rest is not
// for the scanner, done at the end of the body, or a read error.
func (s *splitter) next() (rec []byte, err error, done bool) {
	for {
		i := s.pos
		for i < len(s.buf) && isSpace(s.buf[i]) {
			i++
		}
		if i < len(s.buf) {
			if s.buf[i] != '{' {
				s.pos = i
				return nil, nil, false
			}
			rec, end, counted, status := objectRecord(s.buf[i:])
			switch status {
			case scanOK:
				s.pos = i + end
				s.counted += int64(counted)
				return rec, nil, false
			case scanInvalid:
				s.pos = i
				return nil, nil, false
			}
		}
		// More is needed: at least as much again as is held, so that a
		// long record is scanned a few times, not once per read.
		if s.eof {
			s.pos = i
			return nil, nil, i == len(s.buf)
		}
		s.base += int64(i)
		s.buf = s.buf[:copy(s.buf, s.buf[i:])]
		s.pos = 0
		want := max(64<<10, 2*len(s.buf))
		if cap(s.buf) < want {
			s.buf = append(make([]byte, 0, want), s.buf...)
		}
		m, rerr := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+m]
		if errors.Is(rerr, io.EOF) {
			s.eof = true
		} else if rerr != nil {
			return nil, rerr, false
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Scan results: a whole valid value, more bytes needed, or not for the
// scanner (invalid, or what it leaves to encoding/json).
const (
	scanOK = iota
	scanShort
	scanInvalid
)

// objectRecord reads the object at the start of b, which is not a
// findings container, as the record encoding/json's path makes of it:
// its members' keys re-encoded and their values as written, without the
// space between them. end is where the object ends in b; counted is what
// encoding/json's decoder would have scanned as values (see
// decodedPrefix): the keys, and each value with the space before it.
func objectRecord(b []byte) (rec []byte, end, counted, status int) {
	sc := scanner{b: b, i: 1}
	type member struct{ key, value [2]int }
	var buf [48]member
	members := buf[:0]
	sc.space()
	if sc.i < len(b) && b[sc.i] == '}' {
		return []byte("{}"), sc.i + 1, 0, scanOK
	}
	size := 2
	for {
		sc.space()
		if sc.i >= len(b) {
			return nil, 0, 0, scanShort
		}
		if b[sc.i] != '"' {
			return nil, 0, 0, scanInvalid
		}
		var m member
		m.key[0] = sc.i
		if st := sc.str(); st != scanOK {
			return nil, 0, 0, st
		}
		m.key[1] = sc.i
		k := b[m.key[0]+1 : m.key[1]-1]
		plain := true // ASCII without escapes: the key is its text
		for _, c := range k {
			if c == '\\' || c >= utf8.RuneSelf {
				plain = false
				break
			}
		}
		if !plain || string(k) == "findings" || string(k) == "Findings" {
			// A container, which encoding/json streams, or a key it must
			// decode (it might read "findings").
			return nil, 0, 0, scanInvalid
		}
		sc.space()
		if sc.i >= len(b) {
			return nil, 0, 0, scanShort
		}
		if b[sc.i] != ':' {
			return nil, 0, 0, scanInvalid
		}
		sc.i++
		colon := sc.i
		sc.space()
		m.value[0] = sc.i
		if st := sc.value(0); st != scanOK {
			return nil, 0, 0, st
		}
		m.value[1] = sc.i
		members = append(members, m)
		size += m.key[1] - m.key[0] + 2 + m.value[1] - m.value[0]
		counted += m.key[1] - m.key[0] + m.value[1] - colon
		sc.space()
		if sc.i >= len(b) {
			return nil, 0, 0, scanShort
		}
		switch b[sc.i] {
		case ',':
			sc.i++
			continue
		case '}':
			sc.i++
		default:
			return nil, 0, 0, scanInvalid
		}
		break
	}
	rec = make([]byte, 0, size)
	rec = append(rec, '{')
	for i, m := range members {
		if i > 0 {
			rec = append(rec, ',')
		}
		rec = appendString(rec, string(b[m.key[0]+1:m.key[1]-1]))
		rec = append(rec, ':')
		rec = append(rec, b[m.value[0]:m.value[1]]...)
	}
	return append(rec, '}'), sc.i, counted, scanOK
}

// scanner checks JSON syntax as encoding/json's scanner does, without
// decoding; values deeper than maxFastDepth are left to encoding/json.
type scanner struct {
	b []byte
	i int
}

func (sc *scanner) space() {
	for sc.i < len(sc.b) && isSpace(sc.b[sc.i]) {
		sc.i++
	}
}

func (sc *scanner) value(depth int) int {
	b := sc.b
	if sc.i >= len(b) {
		return scanShort
	}
	if depth > maxFastDepth {
		return scanInvalid
	}
	switch c := b[sc.i]; {
	case c == '{', c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		sc.i++
		sc.space()
		if sc.i >= len(b) {
			return scanShort
		}
		if b[sc.i] == closing {
			sc.i++
			return scanOK
		}
		for {
			sc.space()
			if c == '{' {
				if sc.i >= len(b) {
					return scanShort
				}
				if b[sc.i] != '"' {
					return scanInvalid
				}
				if st := sc.str(); st != scanOK {
					return st
				}
				sc.space()
				if sc.i >= len(b) {
					return scanShort
				}
				if b[sc.i] != ':' {
					return scanInvalid
				}
				sc.i++
				sc.space()
			}
			if st := sc.value(depth + 1); st != scanOK {
				return st
			}
			sc.space()
			if sc.i >= len(b) {
				return scanShort
			}
			switch b[sc.i] {
			case ',':
				sc.i++
			case closing:
				sc.i++
				return scanOK
			default:
				return scanInvalid
			}
		}
	case c == '"':
		return sc.str()
	case c == '-' || c >= '0' && c <= '9':
		d := fastDecoder{data: b, i: sc.i}
		if !d.number() {
			// Short when the number may go on past the end of b.
			j := sc.i + 1
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
				j++
			}
			if j == len(b) {
				return scanShort
			}
			return scanInvalid
		}
		if d.i == len(b) {
			return scanShort // a number ends only at what follows it
		}
		sc.i = d.i
		return scanOK
	case c == 't':
		return sc.literal("true")
	case c == 'f':
		return sc.literal("false")
	case c == 'n':
		return sc.literal("null")
	}
	return scanInvalid
}

func (sc *scanner) literal(word string) int {
	rest := sc.b[sc.i:]
	if len(rest) < len(word) {
		if string(rest) == word[:len(rest)] {
			return scanShort
		}
		return scanInvalid
	}
	if string(rest[:len(word)]) != word {
		return scanInvalid
	}
	sc.i += len(word)
	return scanOK
}

// str reads a string literal: escapes must be JSON's, control characters
// are refused; other bytes, valid UTF-8 or not, are taken as
// encoding/json's scanner takes them.
func (sc *scanner) str() int {
	b := sc.b
	for j := sc.i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			sc.i = j + 1
			return scanOK
		case c < 0x20:
			return scanInvalid
		case c == '\\':
			j++
			if j >= len(b) {
				return scanShort
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 1; k <= 4; k++ {
					if j+k >= len(b) {
						return scanShort
					}
					if h := b[j+k]; !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return scanInvalid
					}
				}
				j += 4
			default:
				return scanInvalid
			}
		}
	}
	return scanShort
}

// readError turns a decoder error into what the caller can act on, keeping
// read errors (ErrTooLarge, gzip) reachable through errors.Is and As.
func readError(err error, dec *json.Decoder) error {
	var (
		syn *json.SyntaxError
		dee *decodeError
	)
	switch {
	case errors.Is(err, ErrTooLarge), errors.As(err, &dee):
		return err
	case errors.As(err, &syn):
		return fmt.Errorf("not valid JSON: %v (at byte %d of the decoded body)", syn, syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), err == io.EOF: // EOF here is inside a record
		return fmt.Errorf("not valid JSON: the body ends inside a value (at byte %d of the decoded body)", dec.InputOffset())
	}
	return err
}

func describe(tok json.Token) string {
	switch tok.(type) {
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
