package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/guardpost/guardpost/internal/cputime"
	"github.com/guardpost/guardpost/internal/sdkhttp"
)

// Config is one load run.
type Config struct {
	Endpoint    string
	Region      string
	Profile     string // empty: the SDK's choice (AWS_PROFILE, else "default")
	Mix         string
	Concurrency int
	Duration    time.Duration
	SeedSamples bool
	// Load, when positive, first brings the detector to at least that
	// many findings, generated from LoadSeed (see importFindings).
	Load     int
	LoadSeed uint64
	// Raw sends the ops' requests as signed bytes and discards the
	// answers; Static also measures a static server answering the same
	// bytes (see runOps). Both apply to the ops, not the SDK mixes.
	Raw, Static bool
	// Attackers is how many of each slow attack run at once with --mix
	// hostile (see hostile.go).
	Attackers int
	// CommandLine is printed above the figures so that a table pasted into
	// the README says how it was measured.
	CommandLine string
}

// DefaultConfig is the configuration the flags start from.
func DefaultConfig() Config {
	return Config{Endpoint: "http://127.0.0.1:4747", Region: "us-east-1", Mix: "mixed",
		Concurrency: 8, Duration: 10 * time.Second, LoadSeed: 1, Attackers: 50}
}

func (c Config) validate() error {
	_, sdkMix := mixes[c.Mix]
	sdkMix = sdkMix || c.Mix == hostileMix
	_, opMix := selectOps(c.Mix)
	if !sdkMix && !opMix {
		return fmt.Errorf("unknown --mix %q: want one of %v, %s, %s (all of them in turn) or a comma-separated list of them", c.Mix, mixNames(), hostileMix, opsMix)
	}
	if (c.Raw || c.Static) && !opMix {
		return fmt.Errorf("--raw and --static measure the ops (--mix %s, or some of %v), not --mix %s", opsMix, opNames(), c.Mix)
	}
	if c.Load < 0 {
		return fmt.Errorf("--load must not be negative, got %d", c.Load)
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("--concurrency must be at least 1, got %d", c.Concurrency)
	}
	if c.Duration < 0 || (c.Duration == 0 && c.Load == 0) {
		return fmt.Errorf("--duration must be positive (or 0 with --load to only load), got %s", c.Duration)
	}
	if c.Endpoint == "" {
		return errors.New("--endpoint is empty")
	}
	return nil
}

// Operation names, the rows of the report in this order.
const (
	opGetFindings  = "GetFindings"
	opListFindings = "ListFindings"
	opListCriteria = "ListFindings criteria"
	opStatistics   = "GetFindingsStatistics"
	opArchive      = "ArchiveFindings"
	opUnarchive    = "UnarchiveFindings"
)

const (
	getBatch         = 50 // GetFindings' limit
	pageSize         = 50 // ListFindings' maxResults
	archiveBatch     = 10
	maxKnownFindings = 10000 // enough to pick from, without a long listing first
)

var operationOrder = []string{opGetFindings, opListFindings, opListCriteria, opStatistics, opArchive, opUnarchive}

// A step is one unit of work: one request, or two for archive. Steps are
// worker methods, hence the receiver first.
type step func(w *worker, ctx context.Context)

type weightedStep struct {
	weight int
	step   step
}

// mixes are the workloads --mix selects. mixed is 70% reads of findings
// (get, list pages, list by criteria), 20% statistics and 10%
// archive/unarchive round trips.
var mixes = map[string][]weightedStep{
	"get":           {{1, (*worker).getFindings}},
	"list":          {{1, (*worker).listFindings}},
	"list-criteria": {{1, (*worker).listFindingsByCriteria}},
	"stats":         {{1, (*worker).statistics}},
	"archive":       {{1, (*worker).archiveRoundTrip}},
	"mixed": {
		{30, (*worker).getFindings},
		{20, (*worker).listFindings},
		{20, (*worker).listFindingsByCriteria},
		{20, (*worker).statistics},
		{10, (*worker).archiveRoundTrip},
	},
}

func mixNames() []string {
	names := make([]string, 0, len(mixes))
	for name := range mixes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// run loads findings if asked, then measures the server and writes the
// report.
func run(ctx context.Context, cfg Config, stdout io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.Load > 0 {
		if err := importFindings(ctx, cfg, stdout); err != nil {
			return err
		}
	}
	if cfg.Duration == 0 {
		return nil
	}
	if selected, ok := selectOps(cfg.Mix); ok {
		report, err := runOps(ctx, cfg, selected)
		if err != nil {
			return err
		}
		report.write(stdout)
		if ctx.Err() != nil {
			return errors.New("interrupted; the figures cover only the operations that ran, and the last one in part")
		}
		return nil
	}
	if cfg.Mix == hostileMix {
		report, err := runHostile(ctx, cfg, cfg.Attackers)
		if err != nil {
			return err
		}
		report.write(stdout)
		return nil
	}
	report, err := load(ctx, cfg)
	if err != nil {
		return err
	}
	report.write(stdout)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted after %s; the figures cover only that", report.Elapsed.Round(time.Millisecond))
	}
	return nil
}

// load prepares the data, runs the workers for cfg.Duration and collects
// what they measured.
func load(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	awsCfg, err := awsConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	target, err := prepare(ctx, newClient(awsCfg, cfg.Endpoint), cfg.SeedSamples)
	if err != nil {
		return nil, err
	}
	steps := mixes[cfg.Mix]
	workers := make([]*worker, cfg.Concurrency)
	cpuBefore := cputime.Process()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{client: newClient(awsCfg, cfg.Endpoint), target: target, results: results{},
			rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
		workers[i] = w
		wg.Go(func() { w.run(ctx, steps, deadline) })
	}
	wg.Wait()
	// Requests started before the deadline run to their end, so the
	// throughput divides by the time until the last one finished.
	elapsed := time.Since(start)
	merged := results{}
	for _, w := range workers {
		merged.merge(w.results)
	}
	report := newReport(cfg, target, elapsed, merged)
	report.LoadCPU = cputime.Process() - cpuBefore
	return report, nil
}

// awsConfig loads region and credentials the standard way, and fails
// before the load starts if there are no credentials.
func awsConfig(ctx context.Context, cfg Config) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		// A retry would hide a failed request and inflate the latency of
		// the one that is counted.
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("credentials: %w (export AWS_SHARED_CREDENTIALS_FILE=<the file guardpost printed on its first start>)", err)
	}
	// Set after loading: config.WithHTTPClient would refuse a plain
	// *http.Client when AWS_CA_BUNDLE is set, and guardpost serves plain
	// HTTP anyway.
	awsCfg.HTTPClient = newHTTPClient(cfg.Concurrency)
	return awsCfg, nil
}

func newHTTPClient(concurrency int) *http.Client {
	return &http.Client{Transport: sdkhttp.PrivateBody{Inner: newTransport(concurrency)}, Timeout: time.Minute}
}

// newTransport keeps one idle connection per worker: with net/http's
// default of two, the other workers would open a new connection for most
// requests and the figures would measure TCP setup, not the server.
func newTransport(concurrency int) *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = concurrency
	transport.MaxIdleConnsPerHost = concurrency
	return transport
}

func newClient(awsCfg aws.Config, endpoint string) *guardduty.Client {
	return guardduty.NewFromConfig(awsCfg, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// target is the data the workload reads and writes.
type target struct {
	detector string
	ids      []string // known finding ids, at most maxKnownFindings
}

// prepare finds the caller's detector, seeding it first if asked, and
// collects finding ids for GetFindings and ArchiveFindings to use.
func prepare(ctx context.Context, client *guardduty.Client, seed bool) (target, error) {
	detectors, err := client.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil {
		return target{}, fmt.Errorf("ListDetectors: %w", err)
	}
	var t target
	switch {
	case len(detectors.DetectorIds) > 0:
		t.detector = detectors.DetectorIds[0]
	case seed:
		created, err := client.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
		if err != nil {
			return target{}, fmt.Errorf("CreateDetector: %w", err)
		}
		t.detector = aws.ToString(created.DetectorId)
	default:
		return target{}, errors.New("no detector for these credentials and region: run with --seed-samples to create one with sample findings")
	}
	if seed {
		if _, err := client.CreateSampleFindings(ctx, &guardduty.CreateSampleFindingsInput{DetectorId: &t.detector}); err != nil {
			return target{}, fmt.Errorf("CreateSampleFindings: %w", err)
		}
	}
	pages := guardduty.NewListFindingsPaginator(client, &guardduty.ListFindingsInput{DetectorId: &t.detector, MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() && len(t.ids) < maxKnownFindings {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return target{}, fmt.Errorf("ListFindings: %w", err)
		}
		t.ids = append(t.ids, page.FindingIds...)
	}
	if len(t.ids) == 0 {
		return target{}, fmt.Errorf("detector %s has no findings: run with --seed-samples", t.detector)
	}
	return t, nil
}

// worker sends one request at a time and records each one.
type worker struct {
	client  *guardduty.Client
	target  target
	rng     *rand.Rand
	results results
	// The listings each worker is paging through; nil starts over.
	listToken, criteriaToken *string
}

func (w *worker) run(ctx context.Context, steps []weightedStep, deadline time.Time) {
	total := 0
	for _, s := range steps {
		total += s.weight
	}
	for ctx.Err() == nil && time.Now().Before(deadline) {
		n := w.rng.IntN(total)
		for _, s := range steps {
			if n < s.weight {
				s.step(w, ctx)
				break
			}
			n -= s.weight
		}
	}
}

// measure times one request and records it under op.
func (w *worker) measure(ctx context.Context, op string, request func() error) {
	start := time.Now()
	err := request()
	elapsed := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return // cut short by an interrupt: not the server's error
	}
	w.results.add(op, elapsed, err)
}

func (w *worker) getFindings(ctx context.Context) {
	ids := w.randomIDs(getBatch)
	w.measure(ctx, opGetFindings, func() error {
		_, err := w.client.GetFindings(ctx, &guardduty.GetFindingsInput{
			DetectorId:   &w.target.detector,
			FindingIds:   ids,
			SortCriteria: &types.SortCriteria{AttributeName: aws.String("severity"), OrderBy: types.OrderByDesc},
		})
		return err
	})
}

func (w *worker) listFindings(ctx context.Context) {
	w.listToken = w.listPage(ctx, opListFindings, nil, w.listToken)
}

func (w *worker) listFindingsByCriteria(ctx context.Context) {
	criteria := &types.FindingCriteria{Criterion: map[string]types.Condition{
		"severity":         {GreaterThanOrEqual: aws.Int64(7)},
		"service.archived": {Equals: []string{"false"}},
	}}
	w.criteriaToken = w.listPage(ctx, opListCriteria, criteria, w.criteriaToken)
}

// listPage reads one page and returns the token of the next one: nil at
// the end of the listing or after an error, so that the next call starts
// over rather than repeating a failing token.
func (w *worker) listPage(ctx context.Context, op string, criteria *types.FindingCriteria, token *string) *string {
	var next *string
	w.measure(ctx, op, func() error {
		out, err := w.client.ListFindings(ctx, &guardduty.ListFindingsInput{
			DetectorId:      &w.target.detector,
			FindingCriteria: criteria,
			MaxResults:      aws.Int32(pageSize),
			NextToken:       token,
		})
		if err == nil && aws.ToString(out.NextToken) != "" {
			next = out.NextToken
		}
		return err
	})
	return next
}

func (w *worker) statistics(ctx context.Context) {
	w.measure(ctx, opStatistics, func() error {
		_, err := w.client.GetFindingsStatistics(ctx, &guardduty.GetFindingsStatisticsInput{
			DetectorId: &w.target.detector,
			GroupBy:    types.GroupByTypeFindingType,
		})
		return err
	})
}

// archiveRoundTrip archives random findings and unarchives them again, so
// that the data the other workloads read stays as it was.
func (w *worker) archiveRoundTrip(ctx context.Context) {
	ids := w.randomIDs(archiveBatch)
	w.measure(ctx, opArchive, func() error {
		_, err := w.client.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &w.target.detector, FindingIds: ids})
		return err
	})
	w.measure(ctx, opUnarchive, func() error {
		_, err := w.client.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: &w.target.detector, FindingIds: ids})
		return err
	})
}

// randomIDs picks n distinct known ids, or all of them if there are no
// more than n.
func (w *worker) randomIDs(n int) []string { return randomIDs(w.rng, w.target.ids, n) }

// errorCode names a failed request: the API error code the server
// answered with, or what kept the request from getting an answer.
func errorCode(err error) string {
	var apiErr smithy.APIError
	var sendErr *smithyhttp.RequestSendError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	case errors.As(err, &sendErr):
		return "RequestSendError"
	default:
		return "ClientError"
	}
}
