package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/klauspost/compress/gzip"

	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/ingest"
)

// Defaults of guardpost ingest. A batch of 2,000 sample-like findings is
// about 6 MB of JSON (well under the server's limit) and long enough that
// the per-request overhead is small next to the write.
const (
	defaultIngestBatch = 2000
	// Two requests in flight keep the server busy: one decodes and checks
	// its records on every core while the other is written.
	defaultIngestInflight = 2
	// maxBatchBytes keeps a batch under the server's decoded-body limit
	// whatever the size of its findings.
	maxBatchBytes = 64 << 20
)

// ingestSources are the kinds of records guardpost ingest can send.
var ingestSources = []string{"findings", "cloudtrail", "vpcflow", "dns"}

// ingestOptions is the command line of guardpost ingest.
type ingestOptions struct {
	endpoint, profile, region, source string
	batch, inflight                   int
	gzip                              gzipChoice
	paths                             []string
}

// gzipChoice is --gzip: on or off when given, else chosen by the endpoint.
type gzipChoice struct{ set, on bool }

func (g *gzipChoice) String() string {
	if g == nil || !g.set {
		return "auto"
	}
	return strconv.FormatBool(g.on)
}

func (g *gzipChoice) Set(s string) error {
	on, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	g.set, g.on = true, on
	return nil
}

func (g *gzipChoice) IsBoolFlag() bool { return true }

// compress tells whether to gzip the bodies sent to endpoint. Unless told,
// they are compressed except over loopback: there the bytes cost less to
// send than to compress and decompress, and client and server share the
// CPU (100,000 findings: 4 µs of client and 5 µs of server CPU per finding
// more with gzip, and 5% fewer findings/s).
func (g gzipChoice) compress(endpoint string) bool {
	if g.set {
		return g.on
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return true
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

func ingestFlags(o *ingestOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("guardpost ingest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.endpoint, "endpoint", os.Getenv("AWS_ENDPOINT_URL"), "guardpost server URL (default: AWS_ENDPOINT_URL)")
	fs.StringVar(&o.profile, "profile", "", "AWS shared-credentials profile (default: AWS_PROFILE, else \"default\")")
	fs.StringVar(&o.region, "region", firstEnv("AWS_REGION", "AWS_DEFAULT_REGION"), "region of the detector to write to (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)")
	fs.StringVar(&o.source, "source", "findings", "what the files hold: "+strings.Join(ingestSources, ", "))
	fs.IntVar(&o.batch, "batch", defaultIngestBatch, "records per request (default for vpcflow and dns: 200000 lines)")
	fs.IntVar(&o.inflight, "inflight", defaultIngestInflight, "requests in flight at once")
	fs.Var(&o.gzip, "gzip", "send request bodies gzip-compressed (default: unless the endpoint is a loopback address, where compressing costs both sides more CPU than it saves)")
	return fs
}

func ingestUsage(w io.Writer) {
	fmt.Fprint(w, `usage: guardpost ingest --endpoint URL [--profile P] [--region R] [--source findings|cloudtrail|vpcflow|dns] [--batch N] [--inflight N] [--gzip=true|false] FILE|DIR...

Sends records to a guardpost server's ingest endpoint, signed with SigV4 like
an API call, into the caller's detector in the region. Files are .json (one
document: a finding, a list of findings, {"findings": [...]} as
get-findings prints, or an EventBridge event), .jsonl (one per line) or
either gzipped (.gz); directories are read recursively. A progress line is
drawn when stderr is a terminal; a summary is printed at the end.

With --source cloudtrail the files are CloudTrail logs (log files as
CloudTrail writes them, {"Records": [...]}, .json or .json.gz, as in the
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/ layout, or .jsonl of
records), sent one file per request for the detector of the region to
analyse; the summary counts records accepted, rejected (another account)
and skipped (another region) and the findings made.

With --source vpcflow the files are VPC Flow Logs as delivered to S3
(AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/*.log.gz: a header line
naming the fields, then one record per line; a file without a header is in
the default format), with --source dns Route 53 Resolver query logs (one
JSON object per line, as delivered to S3 under AWSLogs/<account>/
vpcdnsquerylogs/...). Directories are read recursively for .log, .txt,
.jsonl, .json and .gz files, whatever the layout. Lines are sent --batch at
a time (each file's header repeated in every request that holds its lines);
an error names the file and its line.

Each request is written all or nothing. With more than one request in
flight, a request sent after one that fails may still be written: every
finding keeps its id, so running the command again after a fix writes each
finding once.

flags:
`)
	fs := ingestFlags(&ingestOptions{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// runIngest is `guardpost ingest`.
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o ingestOptions
	fs := ingestFlags(&o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			ingestUsage(stdout)
			return 0
		}
		return ingestUsageError(stderr, err, ingestUsage)
	}
	o.paths = fs.Args()
	if (o.source == "vpcflow" || o.source == "dns") && !flagSet(fs, "batch") {
		o.batch = defaultLogBatch
	}
	switch {
	case o.endpoint == "":
		return ingestUsageError(stderr, errors.New("--endpoint is required (or set AWS_ENDPOINT_URL)"), ingestUsage)
	case !slices.Contains(ingestSources, o.source):
		return ingestUsageError(stderr, fmt.Errorf("--source %q is not supported; supported sources: %s", o.source, strings.Join(ingestSources, ", ")), ingestUsage)
	case o.batch < 1:
		return ingestUsageError(stderr, errors.New("--batch must be at least 1"), ingestUsage)
	case o.inflight < 1:
		return ingestUsageError(stderr, errors.New("--inflight must be at least 1"), ingestUsage)
	case len(o.paths) == 0:
		return ingestUsageError(stderr, errors.New("no FILE or DIR given"), ingestUsage)
	}
	if err := ingestFiles(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "guardpost ingest:", err)
		return 1
	}
	return 0
}

// ingestUsageError reports a bad command line, then the usage; it returns
// the exit code of a bad command line.
func ingestUsageError(stderr io.Writer, err error, usage func(io.Writer)) int {
	fmt.Fprintln(stderr, "guardpost ingest:", err)
	usage(stderr)
	return 2
}

// origin is where a record of a batch came from, to name it in errors.
type origin struct {
	file string
	n    int // 1-based record number within the file
}

// batch is one request body: JSON lines, gzipped or not, or one whole
// file (CloudTrail), then named by file.
type batch struct {
	body    []byte
	buf     *bytes.Buffer // body's buffer, when it comes from bodyBuffers
	gzipped bool
	origins []origin
	file    string
	lines   *lineOrigins // a log batch: where each of its lines comes from
}

// ingestTotals is what the run has done so far.
type ingestTotals struct {
	files, records, created, updated atomic.Int64
	accepted, rejected, skipped      atomic.Int64 // CloudTrail records
	readBytes                        atomic.Int64 // of the files, as stored
}

func ingestFiles(ctx context.Context, o ingestOptions, stdout, stderr io.Writer) error {
	exts := []string{".json", ".jsonl", ".gz"}
	if o.source == "vpcflow" || o.source == "dns" {
		exts = logExtensions
	}
	files, size, err := ingestFileList(o.paths, exts)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no %s files found", strings.Join(exts, ", "))
	}
	opts := []func(*config.LoadOptions) error{}
	if o.region != "" {
		opts = append(opts, config.WithRegion(o.region))
	}
	if o.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return errors.New("no region: give --region or set AWS_REGION")
	}
	if awsCfg.Credentials == nil {
		return errors.New("no AWS credentials found: give --profile or set AWS_PROFILE or AWS_SHARED_CREDENTIALS_FILE")
	}
	if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil { // fail before reading any file
		return fmt.Errorf("loading AWS credentials: %w", err)
	}
	path, noun := httpapi.IngestFindingsPath, "findings"
	switch o.source {
	case "cloudtrail":
		path, noun = httpapi.IngestCloudTrailPath, "records"
	case "vpcflow":
		path, noun = httpapi.IngestVPCFlowPath, "records"
	case "dns":
		path, noun = httpapi.IngestDNSPath, "records"
	}
	url := strings.TrimRight(o.endpoint, "/") + path

	compress := o.gzip.compress(o.endpoint)

	var totals ingestTotals
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, 1) // the next batch is read and compressed while others are sent
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		switch o.source {
		case "cloudtrail":
			readErr <- readWholeFiles(ctx, files, compress, &totals, batches)
			return
		case "vpcflow", "dns":
			readErr <- readLogBatches(ctx, files, o.source == "vpcflow", o.batch, compress, &totals, batches)
			return
		}
		readErr <- readBatches(ctx, files, o.batch, compress, &totals, batches)
	}()

	start := time.Now()
	progress := startProgress(stderr, size, &totals, start, noun)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = o.inflight
	client := &http.Client{Transport: transport}
	var (
		senders sync.WaitGroup
		errMu   sync.Mutex
		sendErr error // the first, unless it is only the cancellation another error caused
	)
	for range o.inflight {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for b := range batches {
				res, err := sendBatch(ctx, client, url, awsCfg.Credentials, awsCfg.Region, b)
				if err != nil {
					errMu.Lock()
					if sendErr == nil || errors.Is(sendErr, context.Canceled) && !errors.Is(err, context.Canceled) {
						sendErr = err
					}
					errMu.Unlock()
					cancel()
					break
				}
				totals.records.Add(int64(res.Records))
				totals.created.Add(int64(res.FindingsCreated))
				totals.updated.Add(int64(res.FindingsUpdated))
				totals.accepted.Add(int64(res.Accepted))
				totals.rejected.Add(int64(res.Rejected))
				totals.skipped.Add(int64(res.Skipped))
			}
		}()
	}
	senders.Wait()
	cancel()
	for range batches { // let the reader finish
	}
	rerr := <-readErr
	progress.stop()
	elapsed := time.Since(start)
	n := totals.records.Load()
	if o.source != "findings" {
		fmt.Fprintf(stdout, "%d files, %d records: %d accepted, %d rejected, %d skipped; findings: %d created, %d updated in %.1f s (%.0f records/s)\n",
			totals.files.Load(), n, totals.accepted.Load(), totals.rejected.Load(), totals.skipped.Load(), totals.created.Load(), totals.updated.Load(),
			elapsed.Seconds(), float64(n)/max(elapsed.Seconds(), 1e-9))
	} else {
		fmt.Fprintf(stdout, "%d files, %d findings: %d created, %d updated in %.1f s (%.0f findings/s)\n",
			totals.files.Load(), n, totals.created.Load(), totals.updated.Load(), elapsed.Seconds(), float64(n)/max(elapsed.Seconds(), 1e-9))
	}
	if sendErr != nil {
		return sendErr
	}
	if rerr != nil && !errors.Is(rerr, context.Canceled) {
		return rerr
	}
	return nil
}

// ingestFileList expands the command line's paths: files as given,
// directories recursively to their files with one of exts, in lexical
// order. It also returns their total size, for the progress line.
func ingestFileList(paths []string, exts []string) ([]string, int64, error) {
	var files []string
	var size int64
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, 0, err
		}
		if !info.IsDir() {
			files = append(files, p)
			size += info.Size()
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if slices.Contains(exts, strings.ToLower(filepath.Ext(path))) {
				info, err := d.Info()
				if err != nil {
					return err
				}
				files = append(files, path)
				size += info.Size()
			}
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	return files, size, nil
}

// readBatches reads the files' records in order and sends them in batches
// of at most max records.
func readBatches(ctx context.Context, files []string, max int, compress bool, totals *ingestTotals, out chan<- batch) error {
	var origins []origin
	lines := bodyBuffers.get()
	var zw *gzip.Writer
	flush := func() error {
		if len(origins) == 0 {
			return nil
		}
		body, err := sealBody(lines, compress, &zw)
		if err != nil {
			return err
		}
		select {
		case out <- batch{body: body.Bytes(), buf: body, gzipped: compress, origins: origins}:
		case <-ctx.Done():
			bodyBuffers.put(body)
			return ctx.Err()
		}
		if body == lines {
			lines = bodyBuffers.get()
		} else {
			lines.Reset()
		}
		origins = nil
		return nil
	}
	for _, name := range files {
		if err := readFile(name, totals, func(n int, rec []byte) error {
			lines.Write(rec)
			lines.WriteByte('\n')
			origins = append(origins, origin{file: name, n: n})
			if len(origins) >= max || lines.Len() >= maxBatchBytes {
				return flush()
			}
			return nil
		}); err != nil {
			return err
		}
		totals.files.Add(1)
	}
	return flush()
}

// readWholeFiles sends each file as one batch, as it is stored: a .gz
// file goes as gzip, another is compressed when compress is set.
func readWholeFiles(ctx context.Context, files []string, compress bool, totals *ingestTotals, out chan<- batch) error {
	var zw *gzip.Writer
	for _, name := range files {
		body, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		totals.readBytes.Add(int64(len(body)))
		gzipped := strings.EqualFold(filepath.Ext(name), ".gz")
		var buf *bytes.Buffer
		if !gzipped && compress {
			if buf, err = sealBody(bytes.NewBuffer(body), true, &zw); err != nil {
				return err
			}
			body, gzipped = buf.Bytes(), true
		}
		select {
		case out <- batch{body: body, buf: buf, gzipped: gzipped, file: name}:
		case <-ctx.Done():
			return ctx.Err()
		}
		totals.files.Add(1)
	}
	return nil
}

// readFile calls fn with each record of a file.
func readFile(name string, totals *ingestTotals, fn func(n int, rec []byte) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	content, err := openInput(&countingReader{r: f, n: &totals.readBytes})
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	for rec, err := range ingest.Records(content) {
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if err := fn(rec.N, rec.JSON); err != nil {
			return err
		}
	}
	return nil
}

// openInput returns the content of a file, gunzipped when it starts with
// gzip's magic bytes, as ingest.Open does, with its words for a corrupt
// stream; but with klauspost/compress's gzip, which reads faster than the
// standard library's (the file is read and decompressed on the machine
// that also serves, often).
func openInput(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("the body is not valid gzip data: %v", err)
	}
	return gzipInput{zr}, nil
}

// gzipInput names a failure of a file's gzip stream as ingest.Open does.
type gzipInput struct{ r io.Reader }

func (g gzipInput) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = gzipInputError{err}
	}
	return n, err
}

// gzipInputError reads "the body is not valid gzip data: ...", and does
// not unwrap: a truncated stream's io.ErrUnexpectedEOF is not the end of
// a truncated JSON value.
type gzipInputError struct{ err error }

func (e gzipInputError) Error() string { return "the body is not valid gzip data: " + e.err.Error() }

// bodyBuffers recycles request bodies: a batch's buffer comes back once
// its request no longer needs it (see sendBatch), so that a load does not
// allocate (and the collector clear) megabytes for each request.
var bodyBuffers bufferPool

type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) get() *bytes.Buffer {
	if b, ok := bp.p.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (bp *bufferPool) put(b *bytes.Buffer) {
	if b != nil {
		b.Reset()
		bp.p.Put(b)
	}
}

// sealBody is the body of a request made of raw: raw itself, or when
// compress is set, raw gzip-compressed (at level 1: over a network it
// saves most of what a higher level would, at a fraction of the CPU) into
// a buffer of bodyBuffers. *zw is the writer kept from call to call.
func sealBody(raw *bytes.Buffer, compress bool, zw **gzip.Writer) (*bytes.Buffer, error) {
	if !compress {
		return raw, nil
	}
	z := bodyBuffers.get()
	if *zw == nil {
		*zw, _ = gzip.NewWriterLevel(z, gzip.BestSpeed)
	} else {
		(*zw).Reset(z)
	}
	(*zw).Write(raw.Bytes())
	if err := (*zw).Close(); err != nil {
		bodyBuffers.put(z)
		return nil, err
	}
	return z, nil
}

// sentBody is a request's body, whose buffer goes back to bodyBuffers
// when the transport closes it: only then is it done with the bytes,
// which may be after the answer came back.
type sentBody struct {
	*bytes.Reader
	buf  *bytes.Buffer
	once sync.Once
}

func (b *sentBody) Close() error {
	b.once.Do(func() { bodyBuffers.put(b.buf) })
	return nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// ingestResponse is the server's answer to one batch.
type ingestResponse struct {
	Records         int `json:"records"`
	FindingsCreated int `json:"findingsCreated"`
	FindingsUpdated int `json:"findingsUpdated"`
	// CloudTrail only.
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Skipped  int `json:"skipped"`
}

// recordPrefix finds the record a server error names.
var recordPrefix = regexp.MustCompile(`^Record (\d+): `)

// linePrefix finds the line a log ingest error names.
var linePrefix = regexp.MustCompile(`^Line (\d+): `)

// sendBatch posts one batch, signed with SigV4 over its real payload hash.
func sendBatch(ctx context.Context, client *http.Client, url string, provider aws.CredentialsProvider, region string, b batch) (ingestResponse, error) {
	// Per batch: the provider caches, and renews credentials that expire
	// during a long load.
	creds, err := provider.Retrieve(ctx)
	if err != nil {
		return ingestResponse{}, fmt.Errorf("loading AWS credentials: %w", err)
	}
	var reqBody io.Reader = bytes.NewReader(b.body)
	if b.buf != nil {
		// No GetBody: the transport may not replay a body whose buffer
		// may be reused once it was closed (a POST is not replayed
		// anyway, except when none of it was sent).
		reqBody = &sentBody{Reader: bytes.NewReader(b.body), buf: b.buf}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, reqBody)
	if err != nil {
		return ingestResponse{}, err
	}
	req.ContentLength = int64(len(b.body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	if b.gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	sum := sha256.Sum256(b.body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "guardduty", region, time.Now()); err != nil {
		return ingestResponse{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return ingestResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return ingestResponse{}, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
			Type    string `json:"__type"`
		}
		if json.Unmarshal(body, &e) != nil || e.Message == "" {
			return ingestResponse{}, fmt.Errorf("the server answered %s: %.200s", resp.Status, body)
		}
		msg := e.Message
		if b.file != "" {
			msg = b.file + ": " + msg
		} else if m := linePrefix.FindStringSubmatch(msg); m != nil && b.lines != nil {
			if i, _ := strconv.Atoi(m[1]); i >= 1 {
				if file, n, ok := b.lines.origin(i); ok {
					msg = fmt.Sprintf("%s, line %d: %s", file, n, msg[len(m[0]):])
				}
			}
		} else if m := recordPrefix.FindStringSubmatch(msg); m != nil {
			if i, _ := strconv.Atoi(m[1]); i >= 1 && i <= len(b.origins) {
				o := b.origins[i-1]
				msg = fmt.Sprintf("%s, record %d: %s", o.file, o.n, msg[len(m[0]):])
			}
		} else if len(b.origins) > 0 {
			msg = fmt.Sprintf("a batch from %s, record %d on: %s", b.origins[0].file, b.origins[0].n, msg)
		}
		return ingestResponse{}, fmt.Errorf("%s (%s)", msg, e.Type)
	}
	var res ingestResponse
	if err := json.Unmarshal(body, &res); err != nil {
		return ingestResponse{}, fmt.Errorf("the server's answer %.200q: %v", body, err)
	}
	return res, nil
}

// progress draws one line on stderr, redrawn in place four times a
// second, when stderr is a terminal; it draws nothing otherwise.
type progress struct {
	w      io.Writer
	total  int64 // bytes of all files
	totals *ingestTotals
	noun   string // what totals.records counts: findings or records
	start  time.Time
	done   chan struct{}
	wg     sync.WaitGroup
}

// startProgress starts drawing; stop ends it and clears the line.
func startProgress(w io.Writer, total int64, totals *ingestTotals, start time.Time, noun string) *progress {
	p := &progress{w: w, total: total, totals: totals, noun: noun, start: start, done: make(chan struct{})}
	f, ok := w.(*os.File)
	if !ok {
		return p
	}
	if info, err := f.Stat(); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-tick.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
}

func (p *progress) draw() {
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(p.totals.readBytes.Load())/float64(p.total), 1)
	}
	const width = 30
	full := int(frac * width)
	bar := strings.Repeat("=", full) + strings.Repeat(" ", width-full)
	n := p.totals.records.Load()
	elapsed := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r[%s] %3.0f%% read  %d %s done  %.0f/s  %.0f s\033[K", bar, frac*100, n, p.noun, float64(n)/max(elapsed, 1e-9), elapsed)
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
