// Package sdkhttp holds the HTTP plumbing guardpost's own AWS SDK clients
// (the end-to-end tests and the load command) share.
package sdkhttp

import (
	"bytes"
	"io"
	"net/http"
)

// PrivateBody is an http.RoundTripper that hands Inner its own copy of the
// request body. aws-sdk-go-v2 can close the body it passed while the
// transport still reads the response (SDK issues #1825, #2737), which on
// loopback fails a few percent of calls with "use of closed network
// connection". A private copy removes the cause; retrying would only hide
// it, and with it real server faults.
type PrivateBody struct{ Inner http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t PrivateBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.Inner.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close() // RoundTrip owns the body, even on error
	if err != nil {
		return nil, err
	}
	private := r.Clone(r.Context())
	private.Body = io.NopCloser(bytes.NewReader(body))
	private.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	private.ContentLength = int64(len(body))
	return t.Inner.RoundTrip(private)
}
