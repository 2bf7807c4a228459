package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestS3URLForms(t *testing.T) {
	for loc, want := range map[string][2]string{
		"https://s3.amazonaws.com/bucket.name/file.txt":               {"bucket.name", "file.txt"},
		"https://s3-us-west-2.amazonaws.com/bucket.name/dir/file.txt": {"bucket.name", "dir/file.txt"},
		"https://s3.eu-west-1.amazonaws.com/b/k":                      {"b", "k"},
		"http://bucket.s3.amazonaws.com/file.txt":                     {"bucket", "file.txt"},
		"http://bucket.s3-us-east-2.amazonaws.com/a/b.txt":            {"bucket", "a/b.txt"},
	} {
		u, _ := url.Parse(loc)
		b, k, ok := s3URL(u)
		if !ok || b != want[0] || k != want[1] {
			t.Errorf("%s: %q %q %v, want %q", loc, b, k, ok, want)
		}
	}
	for _, loc := range []string{"https://example.com/b/k", "https://s3.amazonaws.com/bucketonly"} {
		u, _ := url.Parse(loc)
		if _, _, ok := s3URL(u); ok {
			t.Errorf("%s taken for an S3 URL", loc)
		}
	}
}

// TestFetchS3 reads s3:// and S3 HTTPS locations from a loopback
// S3-compatible endpoint: path-style GET, SigV4 for service s3, the
// expected bucket owner passed on.
func TestFetchS3(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		if r.URL.Path != "/lists/dir/ips.txt" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("198.51.100.1\n"))
	}))
	defer srv.Close()
	f := &Fetcher{S3Endpoint: srv.URL, S3Region: "eu-west-1", S3Credentials: aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}}
	for _, loc := range []string{"s3://lists/dir/ips.txt", "https://lists.s3.eu-west-1.amazonaws.com/dir/ips.txt", "https://s3.amazonaws.com/lists/dir/ips.txt"} {
		b, err := f.Fetch(context.Background(), loc, "123456789012", 1<<20)
		if err != nil || string(b) != "198.51.100.1\n" {
			t.Fatalf("%s: %q %v", loc, b, err)
		}
		auth := got.Header.Get("Authorization")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/s3/aws4_request") {
			t.Errorf("%s: Authorization %q", loc, auth)
		}
		if got.Header.Get("x-amz-expected-bucket-owner") != "123456789012" {
			t.Errorf("%s: expected bucket owner not sent", loc)
		}
	}
	if _, err := f.Fetch(context.Background(), "s3://lists/absent.txt", "", 1<<20); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing object: %v", err)
	}
	if _, err := (&Fetcher{}).Fetch(context.Background(), "s3://lists/dir/ips.txt", "", 1<<20); err == nil || !strings.Contains(err.Error(), "no S3 endpoint") {
		t.Errorf("no endpoint: %v", err)
	}
}

func TestFetchLimitsAndFiles(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "l.txt")
	os.WriteFile(path, []byte("0123456789"), 0o600)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o600)
	os.Symlink(outside, filepath.Join(root, "link.txt"))
	if _, err := (&Fetcher{}).Fetch(context.Background(), "file://"+path, "", 10); err == nil || !strings.Contains(err.Error(), "file:// locations are off") {
		t.Errorf("file:// without a root: %v", err)
	}
	f := &Fetcher{FileRoot: root}
	for _, loc := range []string{"file://" + outside, "file://" + root + "/../" + filepath.Base(filepath.Dir(outside)) + "/secret.txt", "file://" + root + "/link.txt"} {
		if _, err := f.Fetch(context.Background(), loc, "", 100); err == nil || !strings.Contains(err.Error(), "outside the directory") {
			t.Errorf("%s: %v", loc, err)
		}
	}
	if b, err := f.Fetch(context.Background(), "file://"+path, "", 10); err != nil || string(b) != "0123456789" {
		t.Errorf("file: %q %v", b, err)
	}
	if _, err := f.Fetch(context.Background(), "file://"+path, "", 9); err == nil || !strings.Contains(err.Error(), "larger than 9 bytes") {
		t.Errorf("file over the limit: %v", err)
	}
	if _, err := f.Fetch(context.Background(), "file://otherhost/etc/x", "", 9); err == nil {
		t.Error("file:// of another host read")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 100)) }))
	defer srv.Close()
	if _, err := f.Fetch(context.Background(), srv.URL, "", 99); err == nil || !strings.Contains(err.Error(), "larger than 99 bytes") {
		t.Errorf("http over the limit: %v", err)
	}
	if _, err := f.Fetch(context.Background(), "ftp://x/y", "", 99); err == nil {
		t.Error("ftp read")
	}
}
