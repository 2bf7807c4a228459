package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestEdgeRefusesBeforeMidsizeBodies: a request refused on its header
// alone is answered at once also when the body it announces is under the
// 256 KiB net/http would otherwise read (and wait for) before sending the
// refusal. Before: such a refusal waited for the body.
func TestEdgeRefusesBeforeMidsizeBodies(t *testing.T) {
	s := startServer(t)
	for _, n := range []int{60_000, 250_000} {
		c := s.dial()
		c.send("POST /detector/abc/findings/get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n{")
		r, err := c.answer(10 * time.Second)
		if err != nil {
			t.Fatalf("%d bytes announced: no answer before the body: %v", n, err)
		}
		wantAWSError(t, strconv.Itoa(n)+" bytes announced", r, http.StatusForbidden, "MissingAuthenticationTokenException")
	}
}
