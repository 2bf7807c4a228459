package sdkhttp

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

type recorder struct {
	got  []byte
	body io.ReadCloser
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.body, r.got = req.Body, nil
	if req.Body == nil {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}
	b, err := io.ReadAll(req.Body)
	r.got = b
	return &http.Response{StatusCode: 200, Body: http.NoBody}, err
}

// The inner transport must get the whole body in a reader of its own, so
// that the caller closing the original cannot cut it short.
func TestPrivateBody(t *testing.T) {
	rec := &recorder{}
	orig := io.NopCloser(strings.NewReader(`{"a":1}`))
	req, _ := http.NewRequest("POST", "http://127.0.0.1/", orig)
	if _, err := (PrivateBody{rec}).RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if string(rec.got) != `{"a":1}` || rec.body == orig {
		t.Fatalf("inner got %q through the caller's reader: %t", rec.got, rec.body == orig)
	}
	get, _ := http.NewRequest("GET", "http://127.0.0.1/", nil)
	if _, err := (PrivateBody{rec}).RoundTrip(get); err != nil || len(rec.got) != 0 {
		t.Fatalf("bodiless request: %v, %q", err, rec.got)
	}
}
