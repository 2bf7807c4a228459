package httpapi

import (
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guardpost/guardpost/sigv4"
)

// Limits bound what clients can make the server hold: connections,
// requests in flight, request sizes and how long each phase of an exchange
// may take. The zero value of a field means its default (DefaultLimits).
//
// Together they bound memory: at most MaxConnections connections (each a
// goroutine and two 4 KiB buffers, plus at most MaxHeaderBytes while its
// header is read), at most MaxBufferedBodyBytes of API request bodies,
// MaxInFlight requests being worked on, and MaxBufferedAnswerBytes of
// answers being written.
type Limits struct {
	// MaxConnections caps open connections; one more is answered 429
	// ThrottlingException and closed.
	MaxConnections int
	// MaxInFlight caps the authenticated API requests being served at once
	// (from the verified signature to the end of the answer);
	// MaxInFlightPerAccount caps those of one account, so that one account
	// cannot take every slot. Beyond either: 429 ThrottlingException,
	// which every AWS SDK retries with backoff.
	MaxInFlight           int
	MaxInFlightPerAccount int
	// MaxHeaderBytes bounds a request's header (net/http answers 431,
	// rewritten into the AWS error shape).
	MaxHeaderBytes int
	// MaxBodyBytes bounds an API request's body; MaxBufferedBodyBytes
	// bounds the bytes of all API request bodies held at once, counted as
	// they arrive (beyond: 429).
	MaxBodyBytes         int64
	MaxBufferedBodyBytes int64
	// MaxBufferedAnswerBytes bounds the bytes of all answers being written
	// at once (an answer is held until its client has read it, or the write
	// timeout ends the connection); beyond: 429.
	MaxBufferedAnswerBytes int64
	// ReadHeaderTimeout bounds reading a request's header, ReadTimeout the
	// whole request, body included (the ingest endpoint extends it once
	// the request has passed the authentication checks that need no body),
	// WriteTimeout everything after the header until the answer is written,
	// and IdleTimeout how long a kept-alive connection waits for its next
	// request.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// DefaultLimits are the limits `guardpost serve` uses unless told
// otherwise. With them the edge holds at most about 2,048 × 24 KiB = 48 MiB
// in idle or slow connections, 64 MiB of request bodies, 256 requests being
// worked on and 256 MiB of answers being written.
func DefaultLimits() Limits {
	return Limits{
		MaxConnections:         2048,
		MaxInFlight:            256,
		MaxInFlightPerAccount:  64,
		MaxHeaderBytes:         64 << 10,
		MaxBodyBytes:           MaxBodyBytes,
		MaxBufferedBodyBytes:   64 << 20,
		MaxBufferedAnswerBytes: 256 << 20,
		ReadHeaderTimeout:      10 * time.Second,
		ReadTimeout:            30 * time.Second,
		WriteTimeout:           60 * time.Second,
		IdleTimeout:            2 * time.Minute,
	}
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxConnections, d.MaxConnections)
	set(&l.MaxInFlight, d.MaxInFlight)
	set(&l.MaxInFlightPerAccount, d.MaxInFlightPerAccount)
	set(&l.MaxHeaderBytes, d.MaxHeaderBytes)
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxBufferedBodyBytes <= 0 {
		l.MaxBufferedBodyBytes = d.MaxBufferedBodyBytes
	}
	if l.MaxBufferedAnswerBytes <= 0 {
		l.MaxBufferedAnswerBytes = d.MaxBufferedAnswerBytes
	}
	for _, p := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&l.ReadHeaderTimeout, d.ReadHeaderTimeout}, {&l.ReadTimeout, d.ReadTimeout},
		{&l.WriteTimeout, d.WriteTimeout}, {&l.IdleTimeout, d.IdleTimeout},
	} {
		if *p.v <= 0 {
			*p.v = p.def
		}
	}
	return l
}

// throttled is the answer to a request beyond a limit of the edge: what AWS
// services answer when a caller exceeds a rate, and what every AWS SDK
// retries with backoff (by the error type; botocore also by the status).
var throttled = &apiError{Status: http.StatusTooManyRequests, Type: "ThrottlingException", Message: "Rate exceeded"}

// gauge counts something held (requests, bytes) against a maximum.
type gauge struct{ n atomic.Int64 }

// take adds n if that stays within max, and tells whether it did.
func (g *gauge) take(n, max int64) bool {
	if g.n.Add(n) > max {
		g.n.Add(-n)
		return false
	}
	return true
}

func (g *gauge) give(n int64) { g.n.Add(-n) }

// Ingesting reports whether an ingest request's body is being received
// or processed (the memory limit gives bulk writes more room).
func (s *Server) Ingesting() bool { return s.edge.ingests.n.Load() > 0 }

// edge is the Server's state for its limits.
type edge struct {
	limits   Limits
	inFlight gauge
	bodies   gauge     // bytes of API request bodies held
	answers  gauge     // bytes of answers being written
	ingests  gauge     // bytes of ingest request bodies reserved
	accounts sync.Map  // account id → *gauge of its requests in flight
	conns    gauge     // open connections (Listener)
	fault    faultMark // the last storage fault (see storage.go)
}

// SetLimits replaces the limits (DefaultLimits until then); call it before
// serving.
func (s *Server) SetLimits(l Limits) { s.edge.limits = l.withDefaults() }

// Limits returns the limits in force.
func (s *Server) Limits() Limits { return s.edge.limits }

// Configure sets hs's timeouts and header limit from the Server's limits,
// and lets the Server tell its connections (see Listener) which answers
// are its own.
func (s *Server) Configure(hs *http.Server) {
	l := s.edge.limits
	hs.Handler = s
	hs.ReadHeaderTimeout = l.ReadHeaderTimeout
	hs.ReadTimeout = l.ReadTimeout
	hs.WriteTimeout = l.WriteTimeout
	hs.IdleTimeout = l.IdleTimeout
	hs.MaxHeaderBytes = l.MaxHeaderBytes
	hs.ConnContext = chainConnContext(hs.ConnContext, connContext)
	hs.ConnState = chainConnState(hs.ConnState, connState)
}

// authenticate reads r's body (at most limit bytes) and verifies its
// signature, in an order that bounds what a client can make the server
// hold before it is known:
//   - first, unless the body is small (preauthBody), every check that
//     needs no body (sigv4's Precheck: a missing or malformed signature, an
//     unknown access key, a stale date), so that an unauthenticated client
//     is refused on its header alone;
//   - then the declared size;
//   - then the body, under the connection's read deadline, its bytes taken
//     from bodies (at most budget bytes for all requests at once) as they
//     arrive, so that a slow sender holds only what it has sent;
//   - then the signature; only then does the request take an in-flight
//     slot, of the server's and of its account's, so that slow senders
//     never hold the slots that bound the work of serving.
//
// When readFor is positive, a request that passed the checks that need no
// body gets that long to send it (and as long again for its answer),
// instead of the server's ReadTimeout: bulk imports need it.
//
// Release the admission (never nil) once the work is done.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, limit int64, bodies *gauge, budget int64, readFor time.Duration) (body []byte, id sigv4.Identity, a *admission, err error) {
	if a, err = s.admitBody(w, r, limit, bodies, budget, readFor); err != nil {
		return nil, id, a, err
	}
	if body, err = readAll(w, r, limit); err != nil {
		return nil, id, a, a.readError(err)
	}
	if id, err = s.admitSigned(w, r, a, sha256.Sum256(body)); err != nil {
		return nil, id, a, err
	}
	return body, id, a, nil
}

// authenticatePieces is authenticate for a bulk body: read into pooled
// pieces and hashed as it arrives (see pieces), which the admission gives
// back when released.
func (s *Server) authenticatePieces(w http.ResponseWriter, r *http.Request, limit int64, bodies *gauge, budget int64, readFor time.Duration) (body *pieces, id sigv4.Identity, a *admission, err error) {
	if a, err = s.admitBody(w, r, limit, bodies, budget, readFor); err != nil {
		return nil, id, a, err
	}
	a.pieces = &pieces{}
	if err = a.pieces.readFrom(limitedBody(w, r, limit)); err != nil {
		return nil, id, a, a.readError(bodyError(err, limit))
	}
	if id, err = s.admitSigned(w, r, a, a.pieces.sum()); err != nil {
		return nil, id, a, err
	}
	return a.pieces, id, a, nil
}

// admitBody runs the checks of authenticate that come before the body, and
// makes r.Body take its bytes from bodies.
func (s *Server) admitBody(w http.ResponseWriter, r *http.Request, limit int64, bodies *gauge, budget int64, readFor time.Duration) (*admission, error) {
	a := &admission{s: s}
	if r.ContentLength < 0 || r.ContentLength > s.preauthBody() {
		if err := s.verifier.Precheck(r); err != nil {
			// Closing the connection keeps net/http from reading the
			// unread body (up to 256 KiB) before it sends the refusal.
			w.Header().Set("Connection", "close")
			return a, err
		}
	}
	if r.ContentLength > limit {
		return a, tooLarge(limit)
	}
	if readFor > 0 {
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(readFor))
		rc.SetWriteDeadline(time.Now().Add(2 * readFor))
	}
	// One body of the largest size always fits, with the byte beyond it
	// that tells a body over the limit (413) from one the budget refuses.
	a.body = budgetReader{r: r.Body, g: bodies, max: max(budget, limit+1)}
	r.Body = &a.body
	return a, nil
}

// readError is the answer to a body that could not be read: throttled when
// the bodies' budget refused it.
func (a *admission) readError(err error) error {
	if a.body.refused {
		return throttled
	}
	return err
}

// admitSigned verifies the signature of a request whose body hashes to
// bodySum, then takes its in-flight slots.
func (s *Server) admitSigned(w http.ResponseWriter, r *http.Request, a *admission, bodySum [sha256.Size]byte) (id sigv4.Identity, err error) {
	if id, err = s.verifier.VerifySum(r, bodySum); err != nil {
		return id, err
	}
	identify(w, id)
	if !s.edge.inFlight.take(1, int64(s.edge.limits.MaxInFlight)) {
		return id, throttled
	}
	a.inFlight = true
	v, ok := s.edge.accounts.Load(id.AccountID)
	if !ok {
		v, _ = s.edge.accounts.LoadOrStore(id.AccountID, new(gauge))
	}
	account := v.(*gauge)
	if !account.take(1, int64(s.edge.limits.MaxInFlightPerAccount)) {
		return id, throttled
	}
	a.account = account
	return id, nil
}

// preauthBody is the largest body read before any check of the signature:
// small enough that MaxConnections such bodies take at most half of
// MaxBufferedBodyBytes, so that clients without credentials can never
// take the budget from those with (16 KiB with the defaults, more than
// any GetFindings or ListFindings of an SDK).
func (s *Server) preauthBody() int64 {
	return s.edge.limits.MaxBufferedBodyBytes / (2 * int64(s.edge.limits.MaxConnections))
}

// admission is what authenticate took for a request: body bytes and
// in-flight slots.
type admission struct {
	s        *Server
	body     budgetReader
	pieces   *pieces // the body as read by authenticatePieces
	inFlight bool
	account  *gauge
	released bool
}

// release gives back what the request holds; calls after the first do
// nothing.
func (a *admission) release() {
	if a.released {
		return
	}
	a.released = true
	if a.body.g != nil {
		a.body.g.give(a.body.taken)
	}
	if a.pieces != nil {
		a.pieces.release()
	}
	if a.inFlight {
		a.s.edge.inFlight.give(1)
	}
	if a.account != nil {
		a.account.give(1)
	}
}

// budgetReader takes the bytes it reads from a gauge; a read beyond the
// gauge's max fails (refused).
type budgetReader struct {
	r       io.ReadCloser
	g       *gauge
	max     int64
	taken   int64
	refused bool
}

var errBudget = errors.New("the server holds as many request bodies as it may")

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		if !b.g.take(int64(n), b.max) {
			b.refused = true
			return 0, errBudget
		}
		b.taken += int64(n)
	}
	return n, err
}

func (b *budgetReader) Close() error { return b.r.Close() }

func tooLarge(limit int64) *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Type: "BadRequestException",
		Message: sprintf("The request body is larger than %d bytes.", limit)}
}

// cleanPath tells whether p is already in the form net/http's ServeMux
// routes without a redirect (path.Clean's, keeping a trailing slash).
// ServeMux answers any other path (with "..", "." or "//") with a 307 to
// its cleaned form, before any handler, authentication included, sees it;
// AWS answers such a path as it answers any path it does not route.
func cleanPath(p string) bool {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return p == np
}
