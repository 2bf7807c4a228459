package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// recordingIngest is a stand-in for the findings import endpoint that
// keeps, in the order received, the id of every record of every request
// body, after checking that the body hashes to what the client signed
// (a buffer reused while its request was still being sent would not).
type recordingIngest struct {
	t        *testing.T
	mu       sync.Mutex
	ids      []string
	requests int
	gzipped  int
}

func (h *recordingIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.t.Errorf("reading a body: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != hex.EncodeToString(sum[:]) || r.ContentLength != int64(len(body)) {
		h.t.Errorf("a body of %d bytes (Content-Length %d) does not hash to its signed hash", len(body), r.ContentLength)
	}
	content := io.Reader(bytes.NewReader(body))
	gz := r.Header.Get("Content-Encoding") == "gzip"
	if gz {
		zr, err := gzip.NewReader(content)
		if err != nil {
			h.t.Errorf("a gzip body: %v", err)
			return
		}
		content = zr
	}
	// A stream of records (one a line, but for those of a document,
	// which keep their indentation).
	var ids []string
	dec := json.NewDecoder(content)
	for {
		var rec struct{ ID string }
		if err := dec.Decode(&rec); err == io.EOF {
			break
		} else if err != nil || rec.ID == "" {
			h.t.Errorf("a value that is not one record (%v)", err)
			break
		}
		ids = append(ids, rec.ID)
	}
	h.mu.Lock()
	h.ids = append(h.ids, ids...)
	h.requests++
	if gz {
		h.gzipped++
	}
	h.mu.Unlock()
	fmt.Fprintf(w, `{"records":%d,"findingsCreated":%d,"findingsUpdated":0}`, len(ids), len(ids))
}

// TestIngestClientSendsEveryRecordOnce: guardpost ingest, against an
// endpoint that checks each body's hash and counts its records, sends
// every record of every file exactly once, whole, with batches cut across
// files and buffers reused from request to request, with and without
// gzip and with several requests in flight; --gzip's default is off for a
// loopback endpoint and on for another.
func TestIngestClientSendsEveryRecordOnce(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	var want []string
	// Records of many sizes (some over the 64 KiB of a pooled piece on
	// the server, and of bufio's buffers), as lines, gzipped lines and one
	// indented document.
	record := func(id string, size int) map[string]any {
		want = append(want, id)
		return map[string]any{"id": id, "severity": 5, "pad": strings.Repeat("x", size), "nested": map[string]any{"k": []any{1, "two"}}}
	}
	var lines []map[string]any
	for i := range 300 {
		lines = append(lines, record(fmt.Sprintf("a-%03d", i), (i*7919)%3000+(i%50)*(i%50)*30))
	}
	write("a.jsonl", jsonLines(t, lines))
	lines = nil
	for i := range 200 {
		lines = append(lines, record(fmt.Sprintf("b-%03d", i), (i*104729)%9000))
	}
	write("b.jsonl.gz", gzipped(t, jsonLines(t, lines)))
	var doc []map[string]any
	for i := range 5 {
		doc = append(doc, record(fmt.Sprintf("c-%d", i), 100))
	}
	indented, _ := json.MarshalIndent(map[string]any{"findings": doc}, "", "  ")
	write("c.json", indented)

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	for _, tc := range []struct {
		args     []string
		gzipped  bool
		inflight string
	}{
		{nil, false, "1"}, // loopback: no gzip by default
		{[]string{"--gzip"}, true, "3"},
		{[]string{"--gzip=false"}, false, "4"},
		{[]string{"--gzip=true", "--batch", "1"}, true, "2"},
	} {
		t.Run(strings.Join(append(tc.args, "inflight="+tc.inflight), " "), func(t *testing.T) {
			h := &recordingIngest{t: t}
			srv := httptest.NewServer(h)
			defer srv.Close()
			batch := "7"
			args := append([]string{"--endpoint", srv.URL, "--region", "us-east-1", "--batch", batch, "--inflight", tc.inflight}, tc.args...)
			var stdout, stderr bytes.Buffer
			if code := runIngest(context.Background(), append(args, dir), &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s%s", code, &stdout, &stderr)
			}
			if !strings.HasPrefix(stdout.String(), fmt.Sprintf("3 files, %d findings: %d created, 0 updated in ", len(want), len(want))) {
				t.Errorf("summary %q", &stdout)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			seen := map[string]int{}
			for _, id := range h.ids {
				seen[id]++
			}
			for _, id := range want {
				if seen[id] != 1 {
					t.Errorf("record %s sent %d times", id, seen[id])
				}
			}
			if len(h.ids) != len(want) {
				t.Errorf("%d records sent, want %d", len(h.ids), len(want))
			}
			if tc.gzipped && h.gzipped != h.requests || !tc.gzipped && h.gzipped != 0 {
				t.Errorf("%d of %d requests gzipped, want gzip %v", h.gzipped, h.requests, tc.gzipped)
			}
		})
	}
}

func TestGzipChoice(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		flag     string // "" when not given
		want     bool
	}{
		{"http://127.0.0.1:4747", "", false},
		{"http://127.3.2.1:4747/", "", false},
		{"http://localhost:4747", "", false},
		{"http://[::1]:4747", "", false},
		{"https://guardpost.example.com", "", true},
		{"http://10.0.0.5:4747", "", true},
		{"http://127.0.0.1:4747", "true", true},
		{"https://guardpost.example.com", "false", false},
	} {
		var g gzipChoice
		if tc.flag != "" {
			if err := g.Set(tc.flag); err != nil {
				t.Fatal(err)
			}
		}
		if got := g.compress(tc.endpoint); got != tc.want {
			t.Errorf("%s with --gzip %q: compress %v, want %v", tc.endpoint, tc.flag, got, tc.want)
		}
	}
}
