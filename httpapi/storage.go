package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// faultWindow is how long /readyz keeps failing after a storage fault:
// every failing write renews it, so it fails as long as writes do.
const faultWindow = 30 * time.Second

// faultMark remembers the last storage fault.
type faultMark struct {
	at     atomic.Int64 // unix nanoseconds; 0: never
	reason atomic.Value // string
}

func (f *faultMark) mark(reason string) {
	f.reason.Store(reason)
	f.at.Store(time.Now().UnixNano())
}

// recent returns the reason of a fault within faultWindow.
func (f *faultMark) recent() (string, bool) {
	at := f.at.Load()
	if at == 0 || time.Since(time.Unix(0, at)) > faultWindow {
		return "", false
	}
	r, _ := f.reason.Load().(string)
	return r, true
}

// storageFaults names the SQLite primary result codes that mean the
// storage itself cannot serve (the disk, not the request): the database
// file became read-only, the disk is full, an I/O error, a file that
// cannot be opened or is corrupt. The store reports them as foreign errors
// wrapping the driver's, which tells its code through Code() int; a
// transient one (busy, locked) is not a fault.
var storageFaults = map[int]string{
	8:  "the database is read-only",
	10: "disk I/O error",
	11: "the database file is corrupt",
	13: "the disk is full",
	14: "the database file cannot be opened",
	26: "the database file is not a database",
}

// storageFault tells whether err is a storage fault, and why.
func storageFault(err error) (string, bool) {
	var coded interface{ Code() int }
	if !errors.As(err, &coded) {
		return "", false
	}
	reason, ok := storageFaults[coded.Code()&0xff] // extended codes carry the primary one in the low byte
	return reason, ok
}

// unavailable is the answer to a request that storage could not serve: a
// 503, which every AWS SDK retries (by the status), and a message that
// says the fault is the server's.
var unavailable = &apiError{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailableException",
	Message: "The service is unavailable: its storage cannot take writes. Try again later."}

// storageError turns a storage fault into the 503 answer, logs why (once
// per faultWindow, with the cause, so that the log is not flooded while
// every write fails) and makes /readyz fail; other errors pass unchanged.
func (s *Server) storageError(r *http.Request, err error) error {
	reason, ok := storageFault(err)
	if !ok {
		return err
	}
	if _, already := s.edge.fault.recent(); !already {
		s.log.LogAttrs(r.Context(), slog.LevelError, "storage fault: writes fail until it is fixed",
			slog.String("reason", reason), slog.String("err", err.Error()))
	}
	s.edge.fault.mark(reason)
	return unavailable
}
