package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/audit"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/detect/dnsquery"
	"github.com/guardpost/guardpost/detect/network"
	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/intel"
	"github.com/guardpost/guardpost/intel/fetch"
	"github.com/guardpost/guardpost/metrics"
	"github.com/guardpost/guardpost/samples"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
	"github.com/guardpost/guardpost/sts"
)

const defaultAccountID = "123456789012"

// shutdownTimeout bounds how long a stop waits for in-flight requests.
const shutdownTimeout = 30 * time.Second

// runServe is `guardpost serve`: it serves until a signal (exit 0 after a
// clean stop) or until a component fails (exit 1, naming the component).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	m := NewMain()
	m.Stderr = stderr
	if err := m.ParseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			serveUsage(stdout)
			return 0
		}
		return parseError(stderr, "serve", err, serveUsage)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "guardpost serve:", err)
		return 1
	}
	<-m.Done()
	if err := m.Close(); err != nil {
		fmt.Fprintln(stderr, "guardpost serve:", err)
		return 1
	}
	m.Logger.Info("guardpost stopped cleanly")
	return 0
}

func serveUsage(w io.Writer) {
	fmt.Fprint(w, `usage: guardpost serve [flags]

Serves the GuardDuty API (and GET /healthz, GET /readyz, GET /metrics) until SIGINT or
SIGTERM, which finish in-flight requests and close the database cleanly.

flags:
`)
	fs := NewMain().flagSet()
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// Main is the serve command: flags, wiring, and an orderly shutdown.
type Main struct {
	Listen          string
	DataDir         string
	CredentialsFile string
	LogLevel        slog.Level
	LogFormat       string // "text" or "json"
	// PprofListen, when set, serves net/http/pprof there (loopback only
	// makes sense: profiles are unauthenticated).
	PprofListen string
	// FindingCacheMiB bounds GetFindings' cache of documents
	// (guardpost.Service.FindingCacheBytes); 0: none.
	FindingCacheMiB int
	// Audit writes a CloudTrail record of every call that changes state
	// (and of reads too with AuditReads) under <DataDir>/audit, in files of
	// at most AuditMaxBytes (0: audit.DefaultMaxBytes).
	Audit         bool
	AuditReads    bool
	AuditMaxBytes int64
	// Limits bound connections, requests in flight, sizes and timeouts
	// (httpapi.Limits; zero fields: the defaults).
	Limits httpapi.Limits
	// TLSCert and TLSKey, when both set, are PEM files: the API is then
	// served over TLS.
	TLSCert, TLSKey string
	// MemoryLimitMiB is the Go runtime's soft memory limit: 0 follows
	// the live heap (see followMemoryLimit), negative sets none.
	MemoryLimitMiB int
	// IntelDir holds the managed threat intelligence (<category>.txt),
	// reloaded when it changes; empty: only the built-in test domains.
	// S3Endpoint and S3Region say where threat lists at s3:// locations
	// are read (see intel/fetch).
	IntelDir  string
	IntelPoll time.Duration // how often IntelDir is checked for changes
	// CredentialsPoll is how often the credentials file is checked for
	// changes (keys and organizations apply without a restart).
	CredentialsPoll time.Duration
	S3Endpoint      string
	S3Region        string
	// ListFileRoot is the directory threat lists at file:// locations may
	// be read from; empty: none.
	ListFileRoot string
	// ListSync is how often the threat lists in memory are checked against
	// the database, for changes other nodes made.
	ListSync time.Duration
	// IndexSnapshots is the directory of this node's index snapshots
	// (read at start instead of building the indexes; see
	// sqlite.WithIndexSnapshots): empty means <DataDir>/index, "off"
	// none. IndexSnapshotEvery is how often changed ones are rewritten.
	IndexSnapshots     string
	IndexSnapshotEvery time.Duration
	// Intel is the managed threat intelligence, once Run has started.
	Intel *intel.Managed
	// ENIMapFile, when set, is a file of network interface to instance
	// pairs (see detect.ENIMap.Load) for flow logs whose format lacks
	// instance-id. ENIs is the mapping once Run has started: those pairs
	// and the ones learned from ingested CloudTrail.
	ENIMapFile string
	// DetectionConfig, when set, is a JSON file of the network and DNS
	// engines' thresholds over their defaults (see detectionConfig).
	DetectionConfig string
	ENIs            *detect.ENIMap
	// Stderr receives the start instructions (and the log, unless Logger is
	// set). Logger, when set before Run, is used as it is: --log-level and
	// --log-format then do not apply.
	Stderr io.Writer
	Logger *slog.Logger
	// Now, when set before Run, is the clock of authentication and of
	// temporary credentials (tests move it); nil: time.Now.
	Now func() time.Time
	// MayAssume, when set before Run, decides which accounts other than
	// the caller's own STS AssumeRole may enter (sts.Handler.MayAssume);
	// nil means the accounts the caller administers as GuardDuty
	// administrator.
	MayAssume sts.AssumePolicy

	store    *sqlite.DB
	service  *guardpost.Service
	auditLog *audit.Log
	listener net.Listener // the TCP listener
	serving  net.Listener // listener wrapped by the API's edge (limits, TLS)
	scheme   string       // "http" or "https"
	server   *http.Server
	stop     context.CancelFunc // ends the component group
	done     chan struct{}      // closed when every component has returned
	err      error              // the group's result, once done is closed
}

// NewMain returns a Main with the defaults.
func NewMain() *Main {
	return &Main{Listen: "127.0.0.1:4747", DataDir: "./guardpost-data", LogLevel: slog.LevelInfo, LogFormat: "text", Stderr: os.Stderr,
		FindingCacheMiB: guardpost.DefaultFindingCacheBytes >> 20, Audit: true, AuditMaxBytes: audit.DefaultMaxBytes,
		Limits: httpapi.DefaultLimits(), IntelPoll: 5 * time.Second, CredentialsPoll: 5 * time.Second, ListSync: guardpost.DefaultThreatListSync,
		IndexSnapshotEvery: 10 * time.Minute}
}

func (m *Main) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("guardpost serve", flag.ContinueOnError)
	fs.StringVar(&m.Listen, "listen", m.Listen, "`address` to serve the API on")
	fs.IntVar(&m.FindingCacheMiB, "finding-cache", m.FindingCacheMiB, "`MiB` of finding documents GetFindings keeps in memory (exact: dropped on every write); 0: none")
	fs.IntVar(&m.MemoryLimitMiB, "memory-limit", m.MemoryLimitMiB, "soft limit of the Go runtime's memory in `MiB` (collect harder near it); 0: follow the live heap (1.125 × live + 32 MiB, once the indexes are built); -1: none (collect at twice the live heap)")
	fs.StringVar(&m.PprofListen, "pprof", m.PprofListen, "`address` to serve Go profiles (/debug/pprof/) on, unauthenticated; empty: none")
	fs.StringVar(&m.TLSCert, "tls-cert", m.TLSCert, "PEM `file` of the TLS certificate (chain); with --tls-key, serves HTTPS")
	fs.StringVar(&m.TLSKey, "tls-key", m.TLSKey, "PEM `file` of the TLS private key; with --tls-cert, serves HTTPS")
	fs.IntVar(&m.Limits.MaxConnections, "max-connections", m.Limits.MaxConnections, "open connections at most; one more is answered 429 ThrottlingException")
	fs.IntVar(&m.Limits.MaxInFlight, "max-in-flight", m.Limits.MaxInFlight, "requests served at once at most; beyond: 429 ThrottlingException, which the AWS SDKs retry")
	fs.IntVar(&m.Limits.MaxInFlightPerAccount, "max-in-flight-per-account", m.Limits.MaxInFlightPerAccount, "requests of one account served at once at most; beyond: 429 ThrottlingException")
	fs.DurationVar(&m.Limits.ReadTimeout, "read-timeout", m.Limits.ReadTimeout, "`duration` a client has to send a whole request, body included")
	fs.DurationVar(&m.Limits.WriteTimeout, "write-timeout", m.Limits.WriteTimeout, "`duration` from a request's header to the end of its answer")
	fs.StringVar(&m.DataDir, "data-dir", m.DataDir, "`directory` for the database and the generated credentials file (created if missing)")
	fs.BoolVar(&m.Audit, "audit", m.Audit, "write a CloudTrail record of every call that changes state to <data-dir>/audit (read them with guardpost audit)")
	fs.BoolVar(&m.AuditReads, "audit-reads", m.AuditReads, "also record reads (Get, List, Describe calls) in the audit log")
	fs.Int64Var(&m.AuditMaxBytes, "audit-max-bytes", m.AuditMaxBytes, "`bytes` after which the audit log starts a new file (it also starts one each UTC day)")
	fs.StringVar(&m.IntelDir, "intel-dir", m.IntelDir, "`directory` of managed threat intelligence (<category>.txt, see guardpost intel update); reloaded when it changes")
	fs.DurationVar(&m.IntelPoll, "intel-poll", m.IntelPoll, "how often to check --intel-dir for changed files")
	fs.DurationVar(&m.CredentialsPoll, "credentials-poll", m.CredentialsPoll, "how often to check the credentials file for changed keys and organizations")
	fs.StringVar(&m.S3Endpoint, "s3-endpoint", m.S3Endpoint, "`URL` of an S3-compatible service that threat lists at s3:// locations are read from (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&m.ListFileRoot, "list-file-root", m.ListFileRoot, "`directory` under which threat lists may have file:// locations (default: file:// refused)")
	fs.DurationVar(&m.ListSync, "list-sync", m.ListSync, "how often to pick up threat list changes other nodes on the same database made")
	fs.StringVar(&m.S3Region, "s3-region", m.S3Region, "`region` to sign S3 requests for (default us-east-1)")
	fs.StringVar(&m.DetectionConfig, "detection-config", m.DetectionConfig, "JSON `file` of detection thresholds over the documented defaults: {\"network\": {\"SSHBruteForce\": {\"Count\": 25, \"Window\": \"10m\"}, …}, \"dns\": {\"DGABurst\": {\"Distinct\": 5, \"Window\": \"10m\"}, …}} (docs/network-detection.md, docs/dns-detection.md)")
	fs.StringVar(&m.ENIMapFile, "eni-map", m.ENIMapFile, "`file` of network interface to instance pairs, one \"eni-… i-…\" a line (# comments), for flow logs without instance-id; pairs learned from ingested CloudTrail RunInstances, CreateNetworkInterface and AttachNetworkInterface records add to it")
	fs.StringVar(&m.IndexSnapshots, "index-snapshots", m.IndexSnapshots, "`directory` of this node's index snapshots, read at start instead of building the indexes from every finding (default <data-dir>/index; off: none, build at every start)")
	fs.DurationVar(&m.IndexSnapshotEvery, "index-snapshot-every", m.IndexSnapshotEvery, "how often to check for index snapshots 10,000 or more changes behind, and rewrite them (writes wait while one is written: 2–3 s at 1,000,000 findings); they are also written after loading and at shutdown; 0: only then")
	fs.StringVar(&m.CredentialsFile, "credentials", m.CredentialsFile, "AWS shared-credentials `file` with aws_account_id per profile (default: <data-dir>/credentials, generated on first start)")
	fs.Func("log-level", "log `level`: debug, info, warn or error (default info; info logs one line per request)", func(s string) error {
		levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
		l, ok := levels[strings.ToLower(s)]
		if !ok {
			return errors.New("must be debug, info, warn or error")
		}
		m.LogLevel = l
		return nil
	})
	fs.Func("log-format", "log `format`: text or json (default text)", func(s string) error {
		if s != "text" && s != "json" {
			return errors.New("must be text or json")
		}
		m.LogFormat = s
		return nil
	})
	return fs
}

// ParseFlags reads the serve command's flags. It prints nothing: the error
// says what is wrong (flag.ErrHelp for --help).
func (m *Main) ParseFlags(args []string) error {
	fs := m.flagSet()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (serve takes only flags)", fs.Arg(0))
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both, or neither")
	}
	if m.IntelPoll <= 0 || m.ListSync <= 0 || m.CredentialsPoll <= 0 {
		return errors.New("--intel-poll, --credentials-poll and --list-sync must be positive durations")
	}
	return nil
}

// Run opens the store and starts the components; it returns once the
// listener is up. Addr then tells where, and Done when the components have
// stopped: after ctx ends, after Close, or when one of them failed.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.Logger == nil {
		opts := &slog.HandlerOptions{Level: m.LogLevel}
		if m.LogFormat == "json" {
			m.Logger = slog.New(slog.NewJSONHandler(m.Stderr, opts))
		} else {
			m.Logger = slog.New(slog.NewTextHandler(m.Stderr, opts))
		}
	}
	var tlsConfig *tls.Config
	if m.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(m.TLSCert, m.TLSKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	// Listen first: a busy address then fails the start before anything
	// is written to disk.
	if m.listener, err = net.Listen("tcp", m.Listen); err != nil {
		return fmt.Errorf("%w (choose another address with --listen)", err)
	}
	defer func() {
		if err != nil {
			m.listener.Close()
			if m.auditLog != nil {
				m.auditLog.Close()
				m.auditLog = nil
			}
			if m.store != nil {
				m.store.Close()
				m.store = nil
			}
		}
	}()
	if err := checkDataDir(m.DataDir); err != nil {
		return err
	}
	credPath, creds, generated, err := m.credentials()
	if err != nil {
		return err
	}
	opts := []sqlite.Option{sqlite.WithLogger(m.Logger)}
	switch m.IndexSnapshots {
	case "off":
	case "":
		opts = append(opts, sqlite.WithIndexSnapshots(filepath.Join(m.DataDir, "index"), m.IndexSnapshotEvery))
	default:
		opts = append(opts, sqlite.WithIndexSnapshots(m.IndexSnapshots, m.IndexSnapshotEvery))
	}
	if m.store, err = sqlite.Open(filepath.Join(m.DataDir, "guardpost.db"), opts...); err != nil {
		return fmt.Errorf("open database: %w (choose another directory with --data-dir)", err)
	}
	// The page-token key lives in the database, so that every node on one
	// database accepts the tokens of the others.
	key, err := m.store.TokenKey(ctx)
	if err != nil {
		return fmt.Errorf("page token key: %w", err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	met := metrics.New(reg)
	svc := &guardpost.Service{Store: met.Store(m.store), Samples: samples.New(), Tokens: guardpost.NewTokenSigner(key),
		FindingsWritten: met.FindingsWritten, FindingCacheBytes: m.FindingCacheMiB << 20}
	if svc.Organizations, err = organizations(creds); err != nil {
		return fmt.Errorf("credentials %s: %w", credPath, err)
	}
	// Accounts added to an organization in the credentials file since the
	// last start have joined it: auto-enable applies to them now.
	if err := svc.SyncOrganizations(ctx); err != nil {
		return fmt.Errorf("organizations: %w", err)
	}
	if m.FindingCacheMiB <= 0 {
		svc.FindingCacheBytes = -1 // off
	}
	lists := &fetch.Fetcher{FileRoot: m.ListFileRoot, S3Endpoint: m.S3Endpoint, S3Region: m.S3Region,
		S3Credentials: aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}}
	svc.FetchList, svc.ThreatListSync = lists.Fetch, m.ListSync
	m.service = svc
	m.Intel = intel.NewManaged()
	if m.IntelDir != "" {
		if _, err := m.Intel.Load(m.IntelDir); err != nil {
			return fmt.Errorf("intel directory: %w (fix it or choose another with --intel-dir)", err)
		}
	}
	// Temporary credentials (STS) are sealed with a key derived from the
	// same stored key: every node accepts them, across restarts.
	sessions, err := sigv4.NewSessionKeys(key)
	if err != nil {
		return fmt.Errorf("session key: %w", err)
	}
	// One key ring serves both verifiers, so that a reloaded credentials
	// file changes GuardDuty's and STS's keys at once.
	keys := sigv4.NewKeyRing(creds)
	credBytes, err := os.ReadFile(credPath)
	if err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	api := httpapi.New(svc, &sigv4.Verifier{Keys: keys, Sessions: sessions, Service: "guardduty", Now: m.Now}, m.Logger)
	api.SetLimits(m.Limits)
	api.SetIntel(m.Intel)
	m.ENIs = detect.NewENIMap()
	if m.ENIMapFile != "" {
		if m.ENIs, err = detect.LoadENIMapFile(m.ENIMapFile); err != nil {
			return fmt.Errorf("--eni-map: %w", err)
		}
	}
	api.SetENIMap(m.ENIs)
	// One engine per log source for the server's life: their windows and
	// baselines outlive a request.
	detection, err := loadDetectionConfig(m.DetectionConfig)
	if err != nil {
		return fmt.Errorf("--detection-config: %w", err)
	}
	enis := m.ENIs
	// A detector the engine meets for the first time brings back its
	// account's learned interface pairs with its windows.
	loadState := func(ctx context.Context, scope guardpost.Scope, detectorID string) ([]byte, error) {
		pairs, err := svc.DetectionState(ctx, scope, detectorID, detect.ENIStateName)
		if err != nil {
			return nil, err
		}
		enis.Restore(scope.AccountID, pairs)
		return svc.DetectionState(ctx, scope, detectorID, network.StateName)
	}
	api.SetNetworkEngine(network.NewEngine(svc, m.Intel, network.Options{Thresholds: &detection.Network, LoadState: loadState, InstanceOf: func(account, eni string) string {
		if instance := enis.Instance(account, eni); instance != eni {
			return instance
		}
		return "" // unknown: the finding names the interface
	}}))
	dns := dnsquery.New(svc, m.Intel)
	dns.Configure(detection.DNS)
	api.SetDNSEngine(dns)
	mayAssume := m.MayAssume
	if mayAssume == nil {
		// As AWS's multi-account scripts expect: a GuardDuty administrator
		// may assume a role in the members it administers (in the region the
		// STS request is signed for), and an organization's management
		// account in the organization's accounts (the
		// OrganizationAccountAccessRole AWS Organizations creates).
		mayAssume = func(ctx context.Context, caller sigv4.Identity, account string) (bool, error) {
			scope := guardpost.Scope{AccountID: caller.AccountID, Region: caller.Region}
			if svc.ManagesOrganizationAccount(scope, account) {
				return true, nil // the organization's management account
			}
			return svc.Administers(ctx, scope, account)
		}
	}
	api.HandleSTS(&sts.Handler{Verifier: &sigv4.Verifier{Keys: keys, Sessions: sessions, Service: "sts", Now: m.Now},
		Sessions: sessions, MayAssume: mayAssume, Now: m.Now, Log: m.Logger})
	api.ObserveRequest = met.ObserveRequest
	api.HandleMetrics(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if m.Audit {
		m.auditLog, err = audit.Open(filepath.Join(m.DataDir, "audit"), audit.Options{MaxBytes: m.AuditMaxBytes, Logger: m.Logger})
		if err != nil {
			return err
		}
		api.HandleAudit(m.auditLog.Write, m.AuditReads)
	}
	api.HandleReady(m.store.Ready)
	// Build every detector's in-memory index in the background: the API
	// answers at once, exactly but slower until /readyz says 200.
	m.store.LoadIndexes()

	m.server = &http.Server{
		// Requests outlive the signal: Shutdown lets them finish.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		// net/http's own complaints (a client's broken TLS handshake, a
		// connection reset) are warnings, not errors.
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	api.Configure(m.server) // the limits' timeouts and header size
	m.scheme = "http"
	m.serving = api.Listener(m.listener, tlsConfig)
	if tlsConfig != nil {
		m.scheme = "https"
	}

	var g group
	g.add("http", m.serveHTTP)
	g.add("memory-limit", func(ctx context.Context) error {
		return followMemoryLimit(ctx, m.MemoryLimitMiB, m.store.Ready, api.Ingesting)
	})
	g.add("threat-lists", svc.RunThreatLists)
	g.add("credentials", func(ctx context.Context) error {
		return watchCredentials(ctx, credPath, credBytes, m.CredentialsPoll, keys, svc, m.Logger)
	})
	if m.IntelDir != "" {
		g.add("intel", func(ctx context.Context) error { return m.Intel.Watch(ctx, m.IntelDir, m.IntelPoll, m.Logger) })
	}
	if m.PprofListen != "" {
		if err := m.servePprof(&g); err != nil {
			return err
		}
	}
	gctx, stop := context.WithCancel(ctx)
	m.stop, m.done = stop, make(chan struct{})
	go func() {
		m.err = g.run(gctx)
		close(m.done)
	}()

	m.printStart(credPath, creds, generated)
	m.Logger.Info("guardpost serving", "addr", m.listener.Addr().String(), "data_dir", m.DataDir, "version", Version)
	return nil
}

// printStart tells, on every start, how to point the AWS tools at this
// server: the endpoint and the credentials file in use.
func (m *Main) printStart(credPath string, creds map[string]sigv4.Credential, generated bool) {
	endpoint := m.scheme + "://" + clientAddr(m.listener.Addr())
	var profiles []string
	for _, c := range creds {
		profiles = append(profiles, c.Profile)
	}
	slices.Sort(profiles)
	if generated {
		fmt.Fprintf(m.Stderr, "guardpost: wrote a new key pair for account %s to %s\n", defaultAccountID, credPath)
	}
	fmt.Fprintf(m.Stderr, "guardpost: serving %s; point the AWS CLI and SDKs at it with:\n", endpoint)
	fmt.Fprintf(m.Stderr, "export AWS_SHARED_CREDENTIALS_FILE=%s\n", credPath)
	if len(profiles) > 0 && !slices.Contains(profiles, "default") {
		fmt.Fprintf(m.Stderr, "export AWS_PROFILE=%s\n", profiles[0])
	}
	fmt.Fprintf(m.Stderr, "export AWS_ENDPOINT_URL=%s\n", endpoint)
	fmt.Fprintf(m.Stderr, "aws --endpoint-url %s --region us-east-1 guardduty list-detectors\n", endpoint)
}

// clientAddr is the address a local client dials for a listener's address.
func clientAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	if tcp.IP.To4() != nil {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	return net.JoinHostPort("::1", fmt.Sprint(tcp.Port))
}

// serveHTTP is the HTTP component: it serves until ctx ends, then finishes
// in-flight requests. A Serve that returns on its own (the listener died)
// is a failure.
func (m *Main) serveHTTP(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- m.server.Serve(m.serving) }()
	var failed error
	select {
	case failed = <-served:
	case <-ctx.Done():
		m.Logger.Info("guardpost shutting down: finishing in-flight requests")
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := m.server.Shutdown(sctx)
	if failed == nil {
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			failed = serr
		}
	}
	return errors.Join(failed, err)
}

// Addr is the address the server listens on.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Done is closed once every component has stopped.
func (m *Main) Done() <-chan struct{} { return m.done }

// Close stops the components (the HTTP server stops accepting requests and
// lets in-flight ones finish) and closes the database cleanly. It returns
// the components' failure, if one failed, and any error in stopping.
func (m *Main) Close() error {
	var errs []error
	if m.stop != nil {
		m.stop()
		<-m.done
		errs = append(errs, m.err)
	}
	// After the HTTP server: every answered call's record is in.
	if m.auditLog != nil {
		errs = append(errs, m.auditLog.Close())
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	return errors.Join(errs...)
}

// checkDataDir creates the data directory if missing and makes sure it is
// writable, so that a bad --data-dir fails the start with a clear message.
func checkDataDir(dir string) error {
	hint := "(choose another directory with --data-dir)"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w %s", err, hint)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w %s", dir, err, hint)
	}
	f.Close()
	return os.Remove(f.Name())
}

// credentials loads the credentials file, generating one with a fresh key
// pair on the first start when none was given. It returns the file's
// absolute path and whether this start wrote it.
func (m *Main) credentials() (path string, creds map[string]sigv4.Credential, generated bool, err error) {
	path = m.CredentialsFile
	if path == "" {
		path = filepath.Join(m.DataDir, "credentials")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if _, err := sigv4.GenerateCredentials(path, defaultAccountID); err != nil {
				return "", nil, false, fmt.Errorf("generate credentials: %w (choose another directory with --data-dir)", err)
			}
			generated = true
		}
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if creds, err = sigv4.LoadCredentials(path); err != nil {
		return "", nil, false, fmt.Errorf("credentials file: %w (fix the file, or name another with --credentials)", err)
	}
	if len(creds) == 0 {
		return "", nil, false, fmt.Errorf("credentials file %s has no profile (add one, or name another file with --credentials)", path)
	}
	return path, creds, generated, nil
}

// servePprof adds the profile server to the group.
func (m *Main) servePprof(g *group) error {
	l, err := net.Listen("tcp", m.PprofListen)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	g.add("pprof", func(ctx context.Context) error {
		go func() { <-ctx.Done(); srv.Close() }()
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	m.Logger.Info("serving Go profiles", "addr", l.Addr().String())
	return nil
}

// organizations builds the directory of AWS Organizations the credentials
// file declares (organization_id, organization_role per profile).
func organizations(creds map[string]sigv4.Credential) (*guardpost.Organizations, error) {
	var accounts []guardpost.OrganizationAccount
	for _, c := range creds {
		accounts = append(accounts, guardpost.OrganizationAccount{AccountID: c.AccountID, OrganizationID: c.OrganizationID, Management: c.OrganizationManagement})
	}
	// Map order is random: sort, so that an error names the same accounts
	// on every start.
	slices.SortFunc(accounts, func(a, b guardpost.OrganizationAccount) int { return strings.Compare(a.AccountID, b.AccountID) })
	return guardpost.NewOrganizations(accounts)
}
