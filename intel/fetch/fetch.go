// Package fetch reads threat list files from where the API's location
// says: http(s) URLs, file:// paths, and S3 (s3://bucket/key, or an S3
// HTTPS URL) from a configurable S3-compatible endpoint, with the AWS
// SDK's S3 client.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Fetcher reads list files. The zero value reads http(s) and file
// locations; S3 locations need S3Endpoint.
type Fetcher struct {
	// Client does the HTTP requests; nil: a client with a 1-minute timeout.
	Client *http.Client
	// FileRoot is the directory file:// locations must lie in (symbolic
	// links resolved); empty: file:// locations are refused. Without it
	// any API caller could have the server read its files, and a list's
	// errorDetails would show their lines.
	FileRoot string
	// S3Endpoint is the base URL of an S3-compatible service (path-style
	// requests: ENDPOINT/bucket/key), e.g. http://127.0.0.1:9000 for MinIO.
	// Empty: s3:// locations cannot be read, and S3 HTTPS URLs are read
	// as plain URLs.
	S3Endpoint string
	// S3Region and S3Credentials sign S3 requests (SigV4); empty
	// credentials send them unsigned.
	S3Region      string
	S3Credentials aws.Credentials

	s3Once sync.Once
	s3c    *s3.Client
}

var defaultClient = &http.Client{Timeout: time.Minute}

// Fetch reads the file at location, at most maxBytes of it.
func (f *Fetcher) Fetch(ctx context.Context, location, expectedBucketOwner string, maxBytes int64) ([]byte, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("the location is not a URL: %v", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		return f.readFile(u, maxBytes)
	case "s3":
		return f.s3(ctx, u.Host, strings.TrimPrefix(u.Path, "/"), expectedBucketOwner, maxBytes)
	case "http", "https":
		if bucket, key, ok := s3URL(u); ok && f.S3Endpoint != "" {
			return f.s3(ctx, bucket, key, expectedBucketOwner, maxBytes)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
		if err != nil {
			return nil, err
		}
		return f.do(req, maxBytes)
	}
	return nil, fmt.Errorf("the location scheme %q is not one of https, http, s3, file", u.Scheme)
}

func (f *Fetcher) readFile(u *url.URL, maxBytes int64) ([]byte, error) {
	if f.FileRoot == "" {
		return nil, errors.New("file:// locations are off on this server (guardpost serve --list-file-root DIR allows those under DIR)")
	}
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("file://%s names another host; use file:///path", u.Host)
	}
	root, err := filepath.EvalSymlinks(f.FileRoot)
	if err != nil {
		return nil, fmt.Errorf("the list file root: %v", err)
	}
	path, err := filepath.EvalSymlinks(filepath.Clean(u.Path))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", u.Path, errors.Unwrap(err))
	}
	if rel, err := filepath.Rel(root, path); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s is outside the directory this server reads lists from", u.Path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return readAtMost(fh, maxBytes)
}

func readAtMost(r io.Reader, maxBytes int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxBytes)
	}
	return b, nil
}

func (f *Fetcher) do(req *http.Request, maxBytes int64) ([]byte, error) {
	c := f.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %s", req.URL.Redacted(), resp.Status)
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxBytes)
	}
	return readAtMost(resp.Body, maxBytes)
}

// s3URL recognises the S3 HTTPS URL forms the user guide lists:
// https://s3.amazonaws.com/bucket/key, https://s3-REGION.amazonaws.com/bucket/key,
// https://s3.REGION.amazonaws.com/bucket/key, and the virtual-hosted
// https://bucket.s3[.-]REGION.amazonaws.com/key.
func s3URL(u *url.URL) (bucket, key string, ok bool) {
	host := strings.ToLower(u.Hostname())
	if !strings.HasSuffix(host, ".amazonaws.com") {
		return "", "", false
	}
	path := strings.TrimPrefix(u.Path, "/")
	if strings.HasPrefix(host, "s3.") || strings.HasPrefix(host, "s3-") {
		bucket, key, ok = strings.Cut(path, "/")
		return bucket, key, ok && bucket != "" && key != ""
	}
	if i := strings.Index(host, ".s3"); i > 0 {
		return host[:i], path, path != ""
	}
	return "", "", false
}

func (f *Fetcher) s3(ctx context.Context, bucket, key, owner string, maxBytes int64) ([]byte, error) {
	if f.S3Endpoint == "" {
		return nil, errors.New("no S3 endpoint is configured (guardpost serve --s3-endpoint)")
	}
	if bucket == "" || key == "" {
		return nil, errors.New("the S3 location names no bucket or no key")
	}
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if owner != "" {
		in.ExpectedBucketOwner = &owner
	}
	out, err := f.s3Client().GetObject(ctx, in)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	if out.ContentLength != nil && *out.ContentLength > maxBytes {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxBytes)
	}
	return readAtMost(out.Body, maxBytes)
}

// s3Client builds the S3 client once: path-style requests to S3Endpoint,
// signed with S3Credentials (anonymous when they are empty).
func (f *Fetcher) s3Client() *s3.Client {
	f.s3Once.Do(func() {
		region := f.S3Region
		if region == "" {
			region = "us-east-1"
		}
		cfg := aws.Config{Region: region, HTTPClient: f.Client}
		if f.Client == nil {
			cfg.HTTPClient = defaultClient
		}
		if f.S3Credentials.AccessKeyID != "" {
			cfg.Credentials = credentials.StaticCredentialsProvider{Value: f.S3Credentials}
		}
		f.s3c = s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(f.S3Endpoint)
			o.UsePathStyle = true
		})
	})
	return f.s3c
}
