package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/ingest"
	"github.com/guardpost/guardpost/sigv4"
)

// Bulk loads need far more than MaxBodyBytes. The body as sent (SigV4
// hashes exactly those bytes, so it is read whole) and its decoded content
// are bounded separately: the second limit is what stops a gzip bomb.
const (
	MaxIngestBodyBytes    = 256 << 20
	MaxIngestDecodedBytes = 256 << 20
)

// The limits in force; tests lower them.
var (
	ingestBodyLimit    int64 = MaxIngestBodyBytes
	ingestDecodedLimit int64 = MaxIngestDecodedBytes
)

// ingestTimeout is how long an import may take to send its body.
const ingestTimeout = 10 * time.Minute

// IngestFindingsPath is guardpost's own endpoint for importing findings.
const IngestFindingsPath = "/guardpost/v1/ingest/findings"

// ingestResult is the answer of an import.
type ingestResult struct {
	Records         int `json:"records"`
	FindingsCreated int `json:"findingsCreated"`
	FindingsUpdated int `json:"findingsUpdated"`
}

// ingestFindings imports a body of findings (see package ingest for the
// forms it reads) into the caller's detector, all or nothing. It is
// authenticated like every API operation and answers errors in the same
// AWS shape.
func (s *Server) ingestFindings(w http.ResponseWriter, r *http.Request) {
	content, id, admitted, ok := s.openIngestBody(w, r)
	defer admitted.release()
	if !ok {
		return
	}
	scope := guardpost.Scope{AccountID: id.AccountID, Region: id.Region}
	report, err := ingest.Import(r.Context(), s.service, scope, content)
	err = s.storageError(r, err)
	if errors.Is(err, ingest.ErrTooLarge) {
		writeError(w, r, s.log, &apiError{Status: http.StatusRequestEntityTooLarge, Type: "BadRequestException",
			Message: sprintf("The decoded request body is larger than %d bytes: send fewer findings per request.", ingestDecodedLimit)})
		return
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out, _ := json.Marshal(ingestResult{Records: report.Records, FindingsCreated: report.Created, FindingsUpdated: report.Updated})
	s.writeResult(w, r, http.StatusOK, rawJSON(out))
}

// preallocated is the most readAll allocates for a body before its bytes
// arrive.
const preallocated = 64 << 10

// readAll reads a request body of at most limit bytes, answering 413 in
// the AWS error shape beyond it.
func readAll(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	var buf bytes.Buffer
	// Room for what the client says it sends, up to preallocated: a client
	// that says 4 MB and sends nothing must not make the server hold 4 MB.
	// (and the bytes.MinRead that ReadFrom wants free to see the end).
	if r.ContentLength > 0 {
		buf.Grow(int(min(r.ContentLength, preallocated)) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(limitedBody(w, r, limit)); err != nil {
		return nil, bodyError(err, limit)
	}
	return buf.Bytes(), nil
}

// limitedBody is r's body, failing beyond limit bytes.
func limitedBody(w http.ResponseWriter, r *http.Request, limit int64) io.Reader {
	// The server's own writer, so that net/http closes the connection
	// after a body too large instead of reading it to its end.
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	return http.MaxBytesReader(w, r.Body, limit)
}

// bodyError is the answer to a failed read of a limitedBody.
func bodyError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(limit)
	}
	return badRequest("The request body could not be read: %v", err)
}

// pieceSize is the size of the pooled buffers a bulk body is read into:
// as small as the most readAll allocates before a body's bytes arrive, so
// that a client that sends nothing holds no more than before.
const pieceSize = preallocated

var piecePool = sync.Pool{New: func() any { return new([pieceSize]byte) }}

// pieces is a bulk request body (an import of megabytes) as read: in
// pooled buffers, hashed as they fill. Read whole into one growing
// buffer, a 6 MB body was copied and zeroed again at every doubling (a
// few % of an import's CPU) and left 16 MB of garbage per request.
type pieces struct {
	bufs []*[pieceSize]byte
	size int64 // bytes held, the last buffer's included
	hash hash.Hash
}

// readFrom reads r to its end.
func (p *pieces) readFrom(r io.Reader) error {
	p.hash = sha256.New()
	for {
		buf := piecePool.Get().(*[pieceSize]byte)
		p.bufs = append(p.bufs, buf)
		n, err := io.ReadFull(r, buf[:])
		p.hash.Write(buf[:n])
		p.size += int64(n)
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		}
		return err
	}
}

// sum is the SHA-256 of the body.
func (p *pieces) sum() (s [sha256.Size]byte) {
	p.hash.Sum(s[:0])
	return s
}

// reader reads the body; it must not be used once p is released.
func (p *pieces) reader() io.Reader {
	return &piecesReader{p: p}
}

// release gives the buffers back to the pool.
func (p *pieces) release() {
	for i, buf := range p.bufs {
		piecePool.Put(buf)
		p.bufs[i] = nil
	}
	p.bufs, p.size = nil, 0
}

type piecesReader struct {
	p   *pieces
	off int64
}

func (pr *piecesReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) && pr.off < pr.p.size {
		buf := pr.p.bufs[pr.off/pieceSize]
		end := min(pr.p.size-pr.off/pieceSize*pieceSize, pieceSize)
		m := copy(b[n:], buf[pr.off%pieceSize:end])
		n += m
		pr.off += int64(m)
	}
	if n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// openIngestBody authenticates a request to an ingest endpoint and opens
// its body, as sent or gzip-compressed, bounded once decoded. When it
// fails it has answered, and ok is false. The caller releases admitted
// either way.
func (s *Server) openIngestBody(w http.ResponseWriter, r *http.Request) (content io.Reader, id sigv4.Identity, admitted *admission, ok bool) {
	// One import of the largest size at a time (or several smaller), with
	// ingestTimeout to send it once the checks that need no body passed.
	var body *pieces
	var err error
	body, id, admitted, err = s.authenticatePieces(w, r, ingestBodyLimit, &s.edge.ingests, ingestBodyLimit, ingestTimeout)
	if err != nil {
		writeError(w, r, s.log, err)
		return nil, id, admitted, false
	}
	if x, ok := w.(*exchange); ok {
		x.account = id.AccountID // for the request log
	}
	gzipped := false
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gzipped = true
	default:
		writeError(w, r, s.log, &apiError{Status: http.StatusUnsupportedMediaType, Type: "BadRequestException",
			Message: sprintf("The Content-Encoding '%s' is not supported: send the body as it is or gzip-compressed.", enc)})
		return nil, id, admitted, false
	}
	content, err = ingest.Open(body.reader(), gzipped, ingestDecodedLimit)
	if err != nil {
		writeError(w, r, s.log, badRequest("%s", err.Error()))
		return nil, id, admitted, false
	}
	return content, id, admitted, true
}
