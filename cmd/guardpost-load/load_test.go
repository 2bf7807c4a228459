package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/samples"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sqlite"
)

const credentialsFile = `[default]
aws_access_key_id = AKIALOADLOADLOADLOAD
aws_secret_access_key = loadsecretloadsecretloadsecretloadsecret
aws_account_id = 111122223333
`

// startServer serves a real guardpost on a loopback port, wired as
// `guardpost serve` wires it, and points the AWS credential chain at a
// credentials file it accepts.
func startServer(t *testing.T) string {
	t.Helper()
	return startServerLimits(t, httpapi.DefaultLimits())
}

// startServerLimits is startServer with the edge's limits given.
func startServerLimits(t *testing.T, limits httpapi.Limits) string {
	t.Helper()
	dir := t.TempDir()
	credPath := filepath.Join(dir, "credentials")
	if err := os.WriteFile(credPath, []byte(credentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := sigv4.LoadCredentials(credPath)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(filepath.Join(dir, "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := &guardpost.Service{Store: store, Samples: samples.New(), Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httpapi.New(svc, &sigv4.Verifier{Credentials: creds, Service: "guardduty"}, logger)
	// As serve has it, for the ops' RSS and CPU figures (here the test's own).
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	api.HandleMetrics(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	api.SetLimits(limits)
	server := httptest.NewUnstartedServer(nil)
	api.Configure(server.Config)
	server.Listener = api.Listener(server.Listener, nil)
	server.Start()
	t.Cleanup(func() {
		server.Close()
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})

	// Only the file written above may supply credentials: not the
	// environment of whoever runs the tests, nor instance metadata.
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credPath)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_GUARDDUTY"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return server.URL
}

func TestLoadEveryMix(t *testing.T) {
	endpoint := startServer(t)
	wantRows := map[string][]string{
		"get":           {opGetFindings},
		"list":          {opListFindings},
		"list-criteria": {opListCriteria},
		"stats":         {opStatistics},
		"archive":       {opArchive, opUnarchive},
		"mixed":         operationOrder,
	}
	// Seed once, as --seed-samples does, so that each mix can also run
	// on its own (-run TestLoadEveryMix/get) and must find the data.
	seedCfg := DefaultConfig()
	awsCfg, err := awsConfig(context.Background(), seedCfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepare(context.Background(), newClient(awsCfg, endpoint), true); err != nil {
		t.Fatal(err)
	}
	for _, mix := range []string{"get", "list", "list-criteria", "stats", "archive", "mixed"} {
		t.Run(mix, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Endpoint = endpoint
			cfg.Mix = mix
			cfg.Concurrency = 4
			cfg.Duration = time.Second
			cfg.CommandLine = "guardpost-load --mix " + mix

			// mixed picks its steps at random, and under the race
			// detector a second holds only a few dozen requests: run it
			// again until every operation has shown up.
			seen := map[string]bool{}
			for run := 0; run < 10 && len(seen) < len(wantRows[mix]); run++ {
				for _, name := range checkReport(t, cfg, wantRows[mix]) {
					seen[name] = true
				}
			}
			for _, name := range wantRows[mix] {
				if !seen[name] {
					t.Errorf("no run had a row %q", name)
				}
			}
		})
	}
}

// checkReport runs the load once, checks that every request succeeded and
// that the report has no rows but allowed ones and the total, and returns
// the operations it has rows for.
func checkReport(t *testing.T, cfg Config, allowed []string) []string {
	t.Helper()
	report, err := load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	report.write(&out)
	printed := out.String()
	t.Log("\n" + printed)

	if report.Findings == 0 {
		t.Error("no findings to work on")
	}
	if !strings.HasPrefix(printed, "$ "+cfg.CommandLine+"\n") {
		t.Errorf("report does not start with the command line:\n%s", printed)
	}
	if strings.Contains(printed, "errors by code") {
		t.Errorf("report lists errors:\n%s", printed)
	}
	var operations []string
	for i, row := range report.Rows {
		last := i == len(report.Rows)-1
		switch {
		case last && row.Operation != "total":
			t.Errorf("last row is %q, want total", row.Operation)
		case !last && !slices.Contains(allowed, row.Operation):
			t.Errorf("row %q, want only %v", row.Operation, allowed)
		case !last:
			operations = append(operations, row.Operation)
		}
		if row.Requests == 0 {
			t.Errorf("%s: no requests", row.Operation)
		}
		if row.ErrorCount() != 0 {
			t.Errorf("%s: errors %v, first %v", row.Operation, row.Errors, row.FirstMessage)
		}
		if !strings.Contains(printed, "\n"+row.Operation+" ") {
			t.Errorf("printed report has no line for %q", row.Operation)
		}
	}
	return operations
}

// A run without --seed-samples against an empty server says what to do
// instead of measuring nothing.
func TestLoadWithoutDetectorAsksForSeed(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Endpoint = startServer(t)
	cfg.Duration = time.Second
	_, err := load(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "--seed-samples") {
		t.Fatalf("err %v, want one that mentions --seed-samples", err)
	}
}

func TestReportCountsErrorsByCode(t *testing.T) {
	r := results{}
	r.add(opGetFindings, time.Millisecond, nil)
	r.add(opGetFindings, 3*time.Millisecond, &fakeAPIError{code: "ThrottlingException"})
	r.add(opGetFindings, 2*time.Millisecond, &fakeAPIError{code: "ThrottlingException"})
	r.add(opStatistics, time.Millisecond, &fakeAPIError{code: "InternalServerErrorException"})
	report := newReport(DefaultConfig(), target{detector: "d", ids: []string{"a"}}, time.Second, r)

	get, _ := report.Row(opGetFindings)
	if get.Requests != 3 || get.Errors["ThrottlingException"] != 2 || get.P50 != 2*time.Millisecond || get.Max != 3*time.Millisecond {
		t.Errorf("GetFindings row %+v", get)
	}
	total, _ := report.Row("total")
	if total.Requests != 4 || total.ErrorCount() != 3 || total.PerSecond != 4 {
		t.Errorf("total row %+v", total)
	}
	var out strings.Builder
	report.write(&out)
	for _, want := range []string{"GetFindings ThrottlingException: 2", "GetFindingsStatistics InternalServerErrorException: 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCommandLineQuotesForTheShell(t *testing.T) {
	got := commandLine([]string{"/tmp/go-build123/b001/exe/guardpost-load", "--mix", "get", "--endpoint", "http://h:1", "it's"})
	want := `guardpost-load --mix get --endpoint http://h:1 'it'\''s'`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--mix", "stats", "--concurrency", "3", "--duration", "5s", "--seed-samples"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mix != "stats" || cfg.Concurrency != 3 || cfg.Duration != 5*time.Second || !cfg.SeedSamples || cfg.Endpoint != "http://127.0.0.1:4747" {
		t.Errorf("config %+v", cfg)
	}
	for _, bad := range [][]string{{"--mix", "nope"}, {"--concurrency", "0"}, {"--duration", "0s"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

type fakeAPIError struct{ code string }

func (e *fakeAPIError) Error() string                 { return e.code + ": from the test" }
func (e *fakeAPIError) ErrorCode() string             { return e.code }
func (e *fakeAPIError) ErrorMessage() string          { return "from the test" }
func (e *fakeAPIError) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }
