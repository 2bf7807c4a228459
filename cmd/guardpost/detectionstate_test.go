package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/guardpost/guardpost"
)

// No detection engine keeps state yet in this branch, so the restart test
// drives a tiny test-only state writer: the test binary, run as the
// guardpost server process (GUARDPOST_TEST_STATE_ARGS), also reads
// commands on stdin and carries them out through its own Service, the way
// an engine would at the end of an ingest:
//
//	write <detectorId> <name> <hex>   WriteDetections with that state only
//	read <detectorId> <name>          DetectionState
//
// and answers each on stderr ("state-written err=..." or "state=<hex>
// nil=<bool> err=...").

// stateChildMain runs the server with the state writer when the test
// binary was started as one; it reports whether it was.
func stateChildMain() bool {
	args := os.Getenv("GUARDPOST_TEST_STATE_ARGS")
	if args == "" {
		return false
	}
	m := NewMain()
	m.Stderr = os.Stderr
	if err := m.ParseFlags(strings.Split(args, "\x1f")); err != nil {
		fmt.Fprintln(os.Stderr, "state child:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "state child:", err)
		os.Exit(1)
	}
	scope := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && f[0] == "write":
			value, err := hex.DecodeString(f[3])
			if err == nil {
				_, err = m.service.WriteDetections(ctx, scope, f[1], nil, map[string][]byte{f[2]: value})
			}
			fmt.Fprintf(os.Stderr, "state-written err=%v\n", err)
		case len(f) == 3 && f[0] == "read":
			b, err := m.service.DetectionState(ctx, scope, f[1], f[2])
			fmt.Fprintf(os.Stderr, "state=%x nil=%t err=%v\n", b, b == nil, err)
		}
	}
	<-m.Done()
	m.Close()
	return true
}

// stateProcess is a server process with the state writer.
type stateProcess struct {
	cmd   *exec.Cmd
	addr  string
	stdin io.WriteCloser
	lines chan string // stderr lines about state
}

func startStateProcess(t *testing.T, dataDir, cred string) *stateProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GUARDPOST_TEST_STATE_ARGS="+strings.Join([]string{"--listen", "127.0.0.1:0", "--data-dir", dataDir, "--credentials", cred}, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &stateProcess{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	addrRe := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := addrRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			if strings.HasPrefix(line, "state") {
				p.lines <- line
			}
		}
	}()
	select {
	case p.addr = <-found:
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("server process did not report its address")
	}
	return nil
}

// command sends one command and returns the process's answer.
func (p *stateProcess) command(t *testing.T, format string, args ...any) string {
	t.Helper()
	if _, err := fmt.Fprintf(p.stdin, format+"\n", args...); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-p.lines:
		return line
	case <-time.After(30 * time.Second):
		t.Fatalf("no answer to %q", fmt.Sprintf(format, args...))
	}
	return ""
}

// TestDetectionStateSurvivesKill writes detection state through the
// server process's Service, kills the process with SIGKILL once the
// write returned, and reads the same state from a new process on the
// same data directory; deleting the detector deletes the state.
func TestDetectionStateSurvivesKill(t *testing.T) {
	base := startServer(t) // for its credentials file
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startStateProcess(t, dataDir, base.credFile)
	s := &testServer{Main: &Main{}, t: t, listenerAddr: p.addr}
	det := createDetector(t, s.clientA())

	value := []byte("window 2026-03-14T00:00Z\x00\x01\xff")
	if got := p.command(t, "write %s windows %x", det, value); got != "state-written err=<nil>" {
		t.Fatalf("write: %s", got)
	}
	// Another write replaces the blob: the restart must find the last one.
	value = append(value, "+next"...)
	if got := p.command(t, "write %s windows %x", det, value); got != "state-written err=<nil>" {
		t.Fatalf("second write: %s", got)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	p2 := startStateProcess(t, dataDir, base.credFile)
	want := fmt.Sprintf("state=%x nil=false err=<nil>", value)
	if got := p2.command(t, "read %s windows", det); got != want {
		t.Fatalf("after SIGKILL and restart: %s, want %s", got, want)
	}
	if got := p2.command(t, "read %s baselines", det); got != "state= nil=true err=<nil>" {
		t.Fatalf("a name never written: %s", got)
	}
	// State goes with its detector.
	s.listenerAddr = p2.addr
	if _, err := s.clientA().DeleteDetector(context.Background(), &guardduty.DeleteDetectorInput{DetectorId: aws.String(det)}); err != nil {
		t.Fatal(err)
	}
	if got := p2.command(t, "read %s windows", det); got != "state= nil=true err=<nil>" {
		t.Fatalf("after DeleteDetector: %s", got)
	}
}
