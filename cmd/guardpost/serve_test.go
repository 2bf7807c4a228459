package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
)

// syncBuffer is a bytes.Buffer the server's goroutines may write while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestBadCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		want       string // what is wrong
		usageOfCmd string // the usage printed after it
	}{
		{nil, "guardpost: no command given", "usage: guardpost <command>"},
		{[]string{"serv"}, `guardpost: unknown command "serv"`, "usage: guardpost <command>"},
		{[]string{"serve", "--bogus"}, "guardpost serve: flag provided but not defined: -bogus", "usage: guardpost serve"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "extra"}, `guardpost serve: unexpected argument "extra" (serve takes only flags)`, "usage: guardpost serve"},
		{[]string{"serve", "--log-level", "loud"}, `guardpost serve: invalid value "loud" for flag -log-level: must be debug, info, warn or error`, "usage: guardpost serve"},
		{[]string{"serve", "--log-format", "xml"}, `guardpost serve: invalid value "xml" for flag -log-format: must be text or json`, "usage: guardpost serve"},
		{[]string{"serve", "--listen"}, "guardpost serve: flag needs an argument: -listen", "usage: guardpost serve"},
		{[]string{"version", "now"}, `guardpost version: unexpected argument "now"`, "usage: guardpost version"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		if code != 2 || !strings.HasPrefix(stderr.String(), tc.want+"\n") || !strings.Contains(stderr.String(), tc.usageOfCmd) || stdout.Len() != 0 {
			t.Errorf("guardpost %q: exit %d, stdout %q, stderr %q; want exit 2 and %q then the usage", tc.args, code, stdout.String(), stderr.String(), tc.want)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"usage: guardpost <command>", "serve", "version"}},
		{[]string{"help"}, []string{"usage: guardpost <command>"}},
		{[]string{"serve", "--help"}, []string{"usage: guardpost serve", "-listen address", "-data-dir directory", "-credentials file", "-log-level level", "-log-format format", `(default "127.0.0.1:4747")`}},
		{[]string{"serve", "-h"}, []string{"usage: guardpost serve"}},
		{[]string{"version", "--help"}, []string{"usage: guardpost version"}},
		{[]string{"version"}, []string{"guardpost " + Version + "\n"}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(stdout.String(), w) || stderr.Len() != 0 {
				t.Errorf("guardpost %q: exit %d, stdout %q, stderr %q; want exit 0 and %q on stdout", tc.args, code, stdout.String(), stderr.String(), w)
			}
		}
	}
}

// testCredentials writes a credentials file with the two test accounts.
func testCredentials(t *testing.T) (dir, cred string) {
	t.Helper()
	dir = t.TempDir()
	cred = filepath.Join(dir, "credentials")
	content := "[a]\naws_access_key_id = " + keyA + "\naws_secret_access_key = " + secretA + "\naws_account_id = " + accountA + "\n"
	if err := os.WriteFile(cred, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cred
}

// TestServeStopsCleanlyOnSignal runs the serve command as main does and ends
// it as a signal would: exit 0, and the shutdown lines in the log.
func TestServeStopsCleanlyOnSignal(t *testing.T) {
	dir, cred := testCredentials(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--credentials", cred}, io.Discard, &stderr)
	}()
	waitFor(t, "the server to start", func() bool { return strings.Contains(stderr.String(), "guardpost serving") })
	if out := stderr.String(); !strings.Contains(out, "export AWS_SHARED_CREDENTIALS_FILE="+cred+"\n") || !strings.Contains(out, "export AWS_PROFILE=a\n") {
		t.Errorf("start printed %q, want the credentials file and its profile", out)
	}
	cancel()
	select {
	case c := <-code:
		if out := stderr.String(); c != 0 || !strings.Contains(out, "finishing in-flight requests") || !strings.Contains(out, "guardpost stopped cleanly") {
			t.Fatalf("exit %d after the signal; stderr %q", c, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestFailedStartNamesTheFlag checks that a start that cannot work says
// which flag to change, and exits 1.
func TestFailedStartNamesTheFlag(t *testing.T) {
	dir, cred := testCredentials(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notADir := filepath.Join(dir, "file")
	garbled := filepath.Join(dir, "garbled")
	os.WriteFile(notADir, nil, 0o600)
	os.WriteFile(garbled, []byte("[a]\naws_access_key_id = AKIA\n"), 0o600)
	data := filepath.Join(dir, "data")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"address in use", []string{"--listen", busy.Addr().String(), "--data-dir", data, "--credentials", cred},
			[]string{"address already in use", "--listen"}},
		{"data dir not writable", []string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(notADir, "data"), "--credentials", cred},
			[]string{"not a directory", "--data-dir"}},
		{"credentials missing", []string{"--listen", "127.0.0.1:0", "--data-dir", data, "--credentials", filepath.Join(dir, "missing")},
			[]string{"no such file", "--credentials"}},
		{"credentials invalid", []string{"--listen", "127.0.0.1:0", "--data-dir", data, "--credentials", garbled},
			[]string{garbled + ":", "--credentials"}},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), append([]string{"serve"}, tc.args...), io.Discard, &stderr)
		last := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		ok := code == 1 && strings.HasPrefix(last, "guardpost serve: ")
		for _, w := range tc.want {
			ok = ok && strings.Contains(last, w)
		}
		if !ok {
			t.Errorf("%s: exit %d, last line %q; want exit 1 naming %q", tc.name, code, last, tc.want)
		}
	}
}

// TestDeadListenerStopsServe: the HTTP component failing (its listener
// closed under it) stops the process with an error naming the component.
func TestDeadListenerStopsServe(t *testing.T) {
	dir, cred := testCredentials(t)
	m := NewMain()
	m.Stderr, m.Logger = io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--credentials", cred}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.listener.Close()
	select {
	case <-m.Done():
	case <-time.After(10 * time.Second):
		m.Close()
		t.Fatal("serve kept running without its listener")
	}
	err := m.Close()
	var ce *componentError
	if !errors.As(err, &ce) || ce.Component != "http" {
		t.Fatalf("Close returned %v, want the http component's failure", err)
	}
	if !strings.HasPrefix(err.Error(), `component "http" failed: `) {
		t.Errorf("message %q", err)
	}
}

// TestRequestLogLine checks the one line logged per request, for an SDK call
// and for a path that matches no operation.
func TestRequestLogLine(t *testing.T) {
	dir, cred := testCredentials(t)
	var logs syncBuffer
	m := NewMain()
	m.Stderr, m.Logger = io.Discard, slog.New(slog.NewJSONHandler(&logs, nil))
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--credentials", cred}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := &testServer{Main: m, t: t}
	out, err := s.clientA().ListDetectors(context.Background(), &guardduty.ListDetectorsInput{})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := middleware.GetRequestIDMetadata(out.ResultMetadata)
	line := waitForLogLine(t, &logs, id)
	if line["level"] != "INFO" || line["msg"] != "request" || line["account"] != accountA || line["operation"] != "ListDetectors" || line["status"] != 200.0 {
		t.Errorf("request line %v", line)
	}
	if ms, ok := line["latency_ms"].(float64); !ok || ms < 0 || ms > 10_000 {
		t.Errorf("latency_ms %v", line["latency_ms"])
	}

	resp, err := http.Get(s.endpoint() + "/no/such/operation")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line = waitForLogLine(t, &logs, resp.Header.Get("X-Amzn-RequestId"))
	if _, ok := line["account"]; ok || line["operation"] != "unknown" || line["status"] != 404.0 || line["path"] != "/no/such/operation" || line["method"] != "GET" {
		t.Errorf("unmatched request line %v", line)
	}
}

// waitForLogLine returns the JSON log line of the request with id.
func waitForLogLine(t *testing.T, logs *syncBuffer, id string) map[string]any {
	t.Helper()
	if id == "" {
		t.Fatal("no request id")
	}
	var found map[string]any
	waitFor(t, "the request line of "+id, func() bool {
		for l := range strings.SplitSeq(logs.String(), "\n") {
			var line map[string]any
			if json.Unmarshal([]byte(l), &line) == nil && line["request_id"] == id {
				found = line
				return true
			}
		}
		return false
	})
	return found
}

func TestLogLevelWarnSilencesRequestLines(t *testing.T) {
	dir, cred := testCredentials(t)
	var stderr syncBuffer
	m := NewMain()
	m.Stderr = &stderr
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--credentials", cred, "--log-level", "warn", "--log-format", "json"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := &testServer{Main: m, t: t}
	if _, err := s.clientA().ListDetectors(context.Background(), &guardduty.ListDetectorsInput{}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if out := stderr.String(); strings.Contains(out, `"msg":"request"`) || strings.Contains(out, "guardpost serving") {
		t.Errorf("--log-level warn logged %q", out)
	}
}
