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
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
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
func Records(r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		dec := json.NewDecoder(r)
		n := 0
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
