package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
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
	"github.com/guardpost/guardpost/sigv4"
)

// TestMain lets the test binary act as the guardpost binary, so crash
// tests can run a real server process and kill it.
func TestMain(m *testing.M) {
	if stateChildMain() {
		os.Exit(0)
	}
	if args := os.Getenv("GUARDPOST_TEST_MAIN_ARGS"); args != "" {
		os.Args = append([]string{"guardpost"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestFirstStartWritesCredentials(t *testing.T) {
	dir := t.TempDir()
	run := func() string {
		var stderr bytes.Buffer
		m := NewMain()
		m.Stderr, m.Logger = &stderr, slog.New(slog.NewTextHandler(io.Discard, nil))
		if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", dir}); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		creds, err := sigv4.LoadCredentials(filepath.Join(dir, "credentials"))
		if err != nil || len(creds) != 1 {
			t.Fatalf("generated credentials: %v, %v", creds, err)
		}
		for key, c := range creds {
			if c.AccountID != "123456789012" {
				t.Fatalf("account %s", c.AccountID)
			}
			s := &testServer{Main: m, t: t}
			if _, err := s.client(key, c.SecretAccessKey, "us-east-1").ListDetectors(context.Background(), &guardduty.ListDetectorsInput{}); err != nil {
				t.Fatalf("generated key does not work: %v", err)
			}
		}
		return stderr.String()
	}
	// Every start prints the endpoint and the credentials file in use; the
	// first also says it wrote the file.
	abs, _ := filepath.Abs(filepath.Join(dir, "credentials"))
	instructions := func(start, printed string) {
		t.Helper()
		if !strings.Contains(printed, "export AWS_SHARED_CREDENTIALS_FILE="+abs+"\n") ||
			!regexp.MustCompile(`(?m)^export AWS_ENDPOINT_URL=http://127\.0\.0\.1:\d+$`).MatchString(printed) ||
			!regexp.MustCompile(`(?m)^aws --endpoint-url http://127\.0\.0\.1:\d+ --region us-east-1 guardduty list-detectors$`).MatchString(printed) {
			t.Fatalf("%s start printed %q", start, printed)
		}
	}
	first := run()
	instructions("first", first)
	if !strings.Contains(first, "wrote a new key pair for account 123456789012 to "+abs) {
		t.Fatalf("first start printed %q, want the generated file named", first)
	}
	second := run()
	instructions("second", second)
	if strings.Contains(second, "wrote") {
		t.Fatalf("second start printed %q, as if it had written the credentials", second)
	}
	if info, err := os.Stat(filepath.Join(dir, "credentials")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode: %v %v", info.Mode(), err)
	}
}

// serverProcess is guardpost running as its own process.
type serverProcess struct {
	cmd  *exec.Cmd
	addr string
}

func startProcess(t *testing.T, dataDir, cred string) *serverProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GUARDPOST_TEST_MAIN_ARGS="+strings.Join([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--credentials", cred}, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrRe := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case addr := <-found:
		return &serverProcess{cmd: cmd, addr: addr}
	case <-time.After(30 * time.Second):
		t.Fatal("server process did not report its address")
	}
	return nil
}

// TestAnsweredWritesSurviveKill answers writes, kills the server process
// with SIGKILL, and finds every answered write after a restart.
func TestAnsweredWritesSurviveKill(t *testing.T) {
	base := startServer(t) // for its credentials file and test clients
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startProcess(t, dataDir, base.credFile)
	s := &testServer{Main: &Main{}, t: t}
	s.listenerAddr = p.addr
	c := s.clientA()
	det := createDetector(t, c)
	types := []string{"Recon:EC2/PortProbeUnprotectedPort", "UnauthorizedAccess:EC2/SSHBruteForce", "Recon:IAMUser/MaliciousIPCaller"}
	for _, typ := range types {
		if _, err := c.CreateSampleFindings(context.Background(), &guardduty.CreateSampleFindingsInput{DetectorId: &det, FindingTypes: []string{typ}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	p2 := startProcess(t, dataDir, base.credFile)
	s.listenerAddr = p2.addr
	c = s.clientA() // the endpoint changed with the restart
	ids := listAll(t, c, det, nil)
	if len(ids) != len(types) {
		t.Fatalf("after SIGKILL and restart: %d findings, want %d", len(ids), len(types))
	}
	d, err := c.GetDetector(context.Background(), &guardduty.GetDetectorInput{DetectorId: aws.String(det)})
	if err != nil || d.Status != "ENABLED" {
		t.Fatalf("detector after restart: %v, %v", d, err)
	}

	// SIGTERM shuts down cleanly: exit status 0.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p2.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
}
