package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/guardpost/guardpost/httpapi"
)

// TestDetectionConfig: serve --detection-config sets a type's threshold
// over its default (five short SSH sessions from one host are nothing by
// default, a brute force with a threshold of 5), and a file that would
// make nonsense of a threshold stops the start, naming the member.
func TestDetectionConfig(t *testing.T) {
	var body strings.Builder
	for i := range 5 {
		body.WriteString(flowLine(accountA, "eni-0c1", "198.51.100.7", "10.0.1.5", 41000+i, 22, "ACCEPT"))
	}
	found := func(s *testServer) int {
		t.Helper()
		a := s.clientA()
		det := createDetector(t, a)
		s.ingestLogs(t, httpapi.IngestVPCFlowPath, keyA, secretA, "us-east-1", []byte(body.String()), nil)
		out, err := a.ListFindings(context.Background(), &guardduty.ListFindingsInput{DetectorId: &det})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.FindingIds)
	}
	if n := found(startServer(t)); n != 0 {
		t.Fatalf("defaults: %d findings of five SSH sessions", n)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "detection.json")
	if err := os.WriteFile(cfg, []byte(`{"network": {"SSHBruteForce": {"Count": 5, "Window": "10m"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := found(startServer(t, "--detection-config", cfg)); n != 1 {
		t.Fatalf("SSHBruteForce at 5: %d findings, want 1", n)
	}

	for _, c := range []struct{ file, want string }{
		{`{"network": {"SSHBruteForce": {"Count": 0}}}`, "network.SSHBruteForce.Count: must be at least 1"},
		{`{"dns": {"DGABurst": {"Window": "soon"}}}`, `dns.DGABurst.Window: "soon" is not a duration`},
		{`{"network": {"SSHBrute": {"Count": 9}}}`, `unknown field "SSHBrute"`},
	} {
		if err := os.WriteFile(cfg, []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
		m := NewMain()
		m.Stderr = io.Discard
		m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--detection-config", cfg}); err != nil {
			t.Fatal(err)
		}
		err := m.Run(context.Background())
		if err == nil {
			m.Close()
			t.Fatalf("%s: the server started", c.file)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v, want %q", c.file, err, c.want)
		}
	}
}
