package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost/intel"
)

// TestIntelUpdateAndReload fetches feeds from loopback with guardpost
// intel update, serves them with --intel-dir, and shows a second update
// reaching the running server without a restart.
func TestIntelUpdateAndReload(t *testing.T) {
	feeds := map[string]string{
		"/torbulkexitlist": "198.51.100.1\n198.51.100.2\n",
		"/ip-ranges.json":  `{"syncToken":"1","prefixes":[{"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON","network_border_group":"ap-northeast-2"}],"ipv6_prefixes":[{"ipv6_prefix":"2600:1f00::/24","region":"us-east-1","service":"AMAZON"}]}`,
		"/hostfile":        "# URLhaus\n127.0.0.1\tmalware.example\n127.0.0.1\tbad.example\n",
		"/error-page":      "<html><body>rate limited</body></html>\n",
	}
	srv := listServer(t, feeds)
	dir := filepath.Join(t.TempDir(), "intel")
	update := func(sources ...string) (int, string, string) {
		args := []string{"intel", "update", "--intel-dir", dir}
		for _, s := range sources {
			args = append(args, "--source", s)
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := update("tor-exit="+srv.URL+"/torbulkexitlist", "aws-ip-ranges="+srv.URL+"/ip-ranges.json",
		"malicious-domain="+srv.URL+"/hostfile", "phishing="+srv.URL+"/missing", "scanner="+srv.URL+"/error-page")
	if code != 1 {
		t.Errorf("exit %d with two failed feeds, want 1", code)
	}
	if !strings.Contains(out, "tor-exit                    2 entries") || !strings.Contains(out, "aws-ip-ranges               2 entries") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.Contains(errOut, "phishing") || !strings.Contains(errOut, "404") || !strings.Contains(errOut, "scanner") {
		t.Errorf("stderr:\n%s", errOut)
	}
	for _, missing := range []string{"phishing.txt", "scanner.txt"} {
		if _, err := os.Stat(filepath.Join(dir, missing)); err == nil {
			t.Errorf("%s written from a failed feed", missing)
		}
	}
	if code, _, _ := update("no-such-category=" + srv.URL + "/hostfile"); code != 2 {
		t.Errorf("unknown category: exit %d, want 2", code)
	}

	s := startServer(t, "--intel-dir", dir, "--intel-poll", "5ms")
	if !s.Intel.InCategory(intel.TorExit, netip.MustParseAddr("198.51.100.2")) {
		t.Error("tor exit list not loaded")
	}
	if !s.Intel.InCategory(intel.AWSIPRanges, netip.MustParseAddr("3.5.143.255")) || !s.Intel.InCategory(intel.AWSIPRanges, netip.MustParseAddr("2600:1f00::7")) {
		t.Error("AWS ranges not loaded")
	}
	if got := s.Intel.MatchDomain("cdn.malware.example"); len(got) != 1 || got[0] != intel.MaliciousDomain {
		t.Errorf("hosts-file feed: %v", got)
	}
	if got := s.Intel.MatchDomain("guarddutyc2activityb.com"); len(got) != 1 || got[0] != intel.CommandAndControl {
		t.Errorf("test domain: %v", got)
	}

	feeds["/torbulkexitlist"] = "198.51.100.3\n"
	if code, out, errOut := update("tor-exit=" + srv.URL + "/torbulkexitlist"); code != 0 {
		t.Fatalf("second update: %d\n%s%s", code, out, errOut)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !s.Intel.InCategory(intel.TorExit, netip.MustParseAddr("198.51.100.3")) {
		if time.Now().After(deadline) {
			t.Fatal("the running server did not reload the updated feed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s.Intel.InCategory(intel.TorExit, netip.MustParseAddr("198.51.100.1")) {
		t.Error("the reload kept an entry the new feed dropped")
	}
}
