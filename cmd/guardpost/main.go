// Command guardpost runs a GuardDuty-compatible findings service.
//
//	guardpost serve [--listen ADDR] [--data-dir DIR] [--credentials FILE]
//	guardpost version
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/samples"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

const defaultAccountID = "123456789012"

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "version":
		fmt.Println("guardpost", Version)
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		m := NewMain()
		if err := m.ParseFlags(os.Args[2:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				os.Exit(0)
			}
			os.Exit(2)
		}
		if err := m.Run(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "guardpost:", err)
			os.Exit(1)
		}
		<-ctx.Done()
		m.Logger.Info("guardpost shutting down: finishing in-flight requests")
		if err := m.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "guardpost:", err)
			os.Exit(1)
		}
		m.Logger.Info("guardpost stopped cleanly")
	case "help", "-h", "--help":
		usage(os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "guardpost: unknown command %q\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: guardpost serve [--listen ADDR] [--data-dir DIR] [--credentials FILE]")
	fmt.Fprintln(w, "       guardpost version")
}

// Main is the serve command: flags, wiring, and an orderly shutdown.
type Main struct {
	Listen          string
	DataDir         string
	CredentialsFile string
	// Stderr receives the first-start instructions; Logger the server log.
	Stderr io.Writer
	Logger *slog.Logger

	generated string // the credentials file this start wrote, if any
	store     *sqlite.DB
	listener  net.Listener
	server    *http.Server
	served    chan error
}

// NewMain returns a Main with the defaults.
func NewMain() *Main {
	return &Main{Listen: "127.0.0.1:4747", DataDir: "./guardpost-data", Stderr: os.Stderr,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
}

// ParseFlags reads the serve command's flags.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("guardpost serve", flag.ContinueOnError)
	fs.StringVar(&m.Listen, "listen", m.Listen, "address to serve the API on")
	fs.StringVar(&m.DataDir, "data-dir", m.DataDir, "directory for the database, credentials and keys (created if missing)")
	fs.StringVar(&m.CredentialsFile, "credentials", m.CredentialsFile, "AWS shared-credentials file with aws_account_id per profile (default: <data-dir>/credentials, generated on first start)")
	fs.SetOutput(m.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

// Run opens the store and starts serving; it returns once the listener is
// up. Addr then tells where.
func (m *Main) Run(ctx context.Context) error {
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	creds, err := m.credentials()
	if err != nil {
		return err
	}
	key, err := readOrCreateKey(filepath.Join(m.DataDir, "token.key"))
	if err != nil {
		return err
	}
	if m.store, err = sqlite.Open(filepath.Join(m.DataDir, "guardpost.db")); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	svc := &guardpost.Service{Store: m.store, Samples: samples.New(), Tokens: guardpost.NewTokenSigner(key)}
	api := httpapi.New(svc, &sigv4.Verifier{Credentials: creds, Service: "guardduty"}, m.Logger)
	if m.listener, err = net.Listen("tcp", m.Listen); err != nil {
		m.store.Close()
		return err
	}
	m.server = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.listener) }()
	if m.generated != "" {
		fmt.Fprintf(m.Stderr, "export AWS_SHARED_CREDENTIALS_FILE=%s\n", m.generated)
		fmt.Fprintf(m.Stderr, "aws --endpoint-url http://%s --region us-east-1 guardduty list-detectors\n", m.Addr())
	}
	m.Logger.Info("guardpost serving", "addr", m.listener.Addr().String(), "data_dir", m.DataDir, "version", Version)
	return nil
}

// Addr is the address the server listens on.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Close stops accepting requests, lets in-flight ones finish, and closes
// the database cleanly.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errs = append(errs, m.server.Shutdown(ctx))
		if err := <-m.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	return errors.Join(errs...)
}

// credentials loads the credentials file, generating one with a fresh key
// pair on the first start when none was given.
func (m *Main) credentials() (map[string]sigv4.Credential, error) {
	path := m.CredentialsFile
	if path == "" {
		path = filepath.Join(m.DataDir, "credentials")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if _, err := sigv4.GenerateCredentials(path, defaultAccountID); err != nil {
				return nil, fmt.Errorf("generate credentials: %w", err)
			}
			m.generated, _ = filepath.Abs(path)
		}
	}
	creds, err := sigv4.LoadCredentials(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	return creds, nil
}

// readOrCreateKey returns the key that signs pagination tokens, creating
// it on the first start so tokens stay valid across restarts.
func readOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) >= 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key = make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return key, nil
}
