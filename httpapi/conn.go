package httpapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
)

// Listener wraps l for the Server (with Configure applied to its
// http.Server): it holds at most MaxConnections connections open (one more
// is answered 429 ThrottlingException and closed), serves TLS when
// tlsConfig is not nil, and rewrites the plain-text answers net/http writes
// by itself (400 for a malformed request, 431 for a header too large, 501
// for an unknown transfer encoding) into the AWS error shape, so that
// clients parse every answer alike.
//
// With TLS the connections reach net/http as plain ones (the rewriting
// needs the clear text), so net/http serves HTTP/1.1 over TLS and no
// HTTP/2; every AWS SDK speaks HTTP/1.1 to GuardDuty.
func (s *Server) Listener(l net.Listener, tlsConfig *tls.Config) net.Listener {
	var inner net.Listener = &limitListener{Listener: l, s: s, tls: tlsConfig != nil}
	if tlsConfig != nil {
		inner = tls.NewListener(inner, tlsConfig)
	}
	return &shapeListener{Listener: inner}
}

// limitListener counts open connections against MaxConnections.
type limitListener struct {
	net.Listener
	s   *Server
	tls bool // the connections carry TLS: no clear-text answer possible
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.edge.conns.take(1, int64(l.s.edge.limits.MaxConnections)) {
			return &countedConn{Conn: c, g: &l.s.edge.conns}, nil
		}
		// Over the cap: answer without reading (the client reads its
		// answer as soon as its request is written) and close.
		if !l.tls {
			c.Write(rawError(throttled))
		}
		c.Close()
	}
}

// countedConn gives its slot back once closed.
type countedConn struct {
	net.Conn
	g      *gauge
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.g.give(1)
	}
	return c.Conn.Close()
}

type shapeListener struct{ net.Listener }

func (l *shapeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &shapeConn{Conn: c}, nil
}

// shapeConn is a connection as net/http sees it. While no handler of the
// Server answers on it (serving is false), a write that is one of
// net/http's own error answers is replaced by the same status in the AWS
// error shape.
type shapeConn struct {
	net.Conn
	serving atomic.Bool
}

// netHTTPErrorHeaders is what every error answer net/http writes by itself
// carries (net/http's conn.serve writes each in one Write).
var netHTTPErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

func (c *shapeConn) Write(b []byte) (int, error) {
	if c.serving.Load() || !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) || len(b) < 12 {
		return c.Conn.Write(b)
	}
	head, text, ok := bytes.Cut(b, netHTTPErrorHeaders)
	code, err := strconv.Atoi(string(b[9:12]))
	if !ok || err != nil || bytes.Contains(head, []byte("\r\n")) {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(rawError(&apiError{Status: code, Type: "BadRequestException", Message: string(text)})); err != nil {
		return 0, err
	}
	return len(b), nil
}

// rawError is a complete HTTP/1.1 answer, closing the connection, for an
// error no handler writes.
func rawError(e *apiError) []byte {
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
		Type    string `json:"__type"`
	}{e.Message, e.Type})
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + "\r\n")
	b.WriteString("Content-Type: application/json\r\n")
	b.WriteString("X-Amzn-Errortype: " + e.Type + "\r\n")
	b.WriteString("X-Amzn-Requestid: " + newRequestID() + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

type connKey struct{}

// connContext remembers the request's connection, so that ServeHTTP can
// mark it serving.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*shapeConn); ok {
		return context.WithValue(ctx, connKey{}, sc)
	}
	return ctx
}

// connState ends a connection's serving once its answer is written and it
// waits for the next request.
func connState(c net.Conn, state http.ConnState) {
	if sc, ok := c.(*shapeConn); ok && state == http.StateIdle {
		sc.serving.Store(false)
	}
}

// markServing tells r's connection that a handler answers from now on.
func markServing(r *http.Request) {
	if sc, ok := r.Context().Value(connKey{}).(*shapeConn); ok {
		sc.serving.Store(true)
	}
}

func chainConnContext(prev, next func(context.Context, net.Conn) context.Context) func(context.Context, net.Conn) context.Context {
	if prev == nil {
		return next
	}
	return func(ctx context.Context, c net.Conn) context.Context { return next(prev(ctx, c), c) }
}

func chainConnState(prev, next func(net.Conn, http.ConnState)) func(net.Conn, http.ConnState) {
	if prev == nil {
		return next
	}
	return func(c net.Conn, s http.ConnState) { prev(c, s); next(c, s) }
}
