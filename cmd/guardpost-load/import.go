package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost/httpapi"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// importBatch is the findings per import request: guardpost ingest's
// default, about 6 MB of JSON.
const importBatch = 2000

// importInflight is the import requests in flight at once, as guardpost
// ingest sends them: the server checks one batch while it writes another.
const importInflight = 2

// importFindings brings the caller's detector (created if there is none)
// to at least cfg.Load findings. It generates findings with findinggen
// from cfg.LoadSeed and posts them, gzipped JSON lines, to the import
// endpoint, importInflight batches at a time while the next is generated. Findings the
// detector already holds count: with m of them it skips the first m
// generated findings and imports the others, so that a run interrupted
// half-way, repeated with the same seed, adds what is missing.
func importFindings(ctx context.Context, cfg Config, stdout io.Writer) error {
	awsCfg, err := awsConfig(ctx, cfg)
	if err != nil {
		return err
	}
	client := newClient(awsCfg, cfg.Endpoint)
	detector, err := ensureDetector(ctx, client)
	if err != nil {
		return err
	}
	have, err := countFindings(ctx, client, detector)
	if err != nil {
		return err
	}
	if have >= cfg.Load {
		fmt.Fprintf(stdout, "detector %s holds %d findings, --load %d: nothing to import\n", detector, have, cfg.Load)
		return nil
	}
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	raw := newRawClient(awsCfg, creds, importInflight)
	raw.http.Timeout = 0 // a batch takes as long as the store needs
	url := strings.TrimRight(cfg.Endpoint, "/") + httpapi.IngestFindingsPath

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bodies := make(chan []byte, 1)
	genErr := make(chan error, 1)
	go func() {
		defer close(bodies)
		genErr <- generate(ctx, cfg.LoadSeed, have, cfg.Load, bodies)
	}()
	start := time.Now()
	var (
		mu      sync.Mutex
		sent    ingestAnswer
		sendErr error // the first, not the cancellation it caused
		senders sync.WaitGroup
	)
	for range importInflight {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for body := range bodies {
				a, err := postBatch(ctx, raw, url, body)
				mu.Lock()
				if err != nil && (sendErr == nil || errors.Is(sendErr, context.Canceled) && !errors.Is(err, context.Canceled)) {
					sendErr = err
				}
				sent.Records += a.Records
				sent.FindingsCreated += a.FindingsCreated
				sent.FindingsUpdated += a.FindingsUpdated
				mu.Unlock()
				if err != nil {
					cancel()
					return
				}
			}
		}()
	}
	senders.Wait()
	elapsed := time.Since(start)
	cancel()
	for range bodies { // let the generator stop
	}
	if err := <-genErr; err != nil && ctx.Err() == nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d findings (%d created, %d updated) into detector %s in %.1f s: %.0f findings/s\n",
		sent.Records, sent.FindingsCreated, sent.FindingsUpdated, detector, elapsed.Seconds(), float64(sent.Records)/elapsed.Seconds())
	return sendErr
}

// generate sends the bodies of findings from..to-1 of seed's sequence.
func generate(ctx context.Context, seed uint64, from, to int, out chan<- []byte) error {
	gen := findinggen.New(seed)
	var body bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&body, gzip.BestSpeed)
	n := 0
	for i := range to {
		b, err := gen.Next()
		if err != nil {
			return err
		}
		if i < from {
			continue
		}
		zw.Write(b)
		zw.Write([]byte{'\n'})
		n++
		if n < importBatch && i < to-1 {
			continue
		}
		if err := zw.Close(); err != nil {
			return err
		}
		select {
		case out <- bytes.Clone(body.Bytes()):
		case <-ctx.Done():
			return ctx.Err()
		}
		body.Reset()
		zw.Reset(&body)
		n = 0
	}
	return nil
}

// ingestAnswer is the import endpoint's answer.
type ingestAnswer struct {
	Records         int `json:"records"`
	FindingsCreated int `json:"findingsCreated"`
	FindingsUpdated int `json:"findingsUpdated"`
}

func postBatch(ctx context.Context, raw *rawClient, url string, body []byte) (ingestAnswer, error) {
	req, err := raw.request(ctx, url, body, map[string]string{"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
	if err != nil {
		return ingestAnswer{}, err
	}
	resp, err := raw.http.Do(req)
	if err != nil {
		return ingestAnswer{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return ingestAnswer{}, fmt.Errorf("import: %w", statusError(resp))
	}
	var a ingestAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return ingestAnswer{}, fmt.Errorf("import: the answer: %w", err)
	}
	return a, nil
}

// ensureDetector returns the caller's detector, created if there is none.
func ensureDetector(ctx context.Context, client *guardduty.Client) (string, error) {
	detectors, err := client.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil {
		return "", fmt.Errorf("ListDetectors: %w", err)
	}
	if len(detectors.DetectorIds) > 0 {
		return detectors.DetectorIds[0], nil
	}
	created, err := client.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("CreateDetector: %w", err)
	}
	return aws.ToString(created.DetectorId), nil
}

// countFindings is the number of findings of a detector, archived ones
// included: the sum of COUNT_BY_SEVERITY.
func countFindings(ctx context.Context, client *guardduty.Client, detector string) (int, error) {
	out, err := client.GetFindingsStatistics(ctx, &guardduty.GetFindingsStatisticsInput{DetectorId: &detector,
		FindingStatisticTypes: []types.FindingStatisticType{types.FindingStatisticTypeCountBySeverity}})
	if err != nil {
		return 0, fmt.Errorf("GetFindingsStatistics: %w", err)
	}
	n := 0
	if out.FindingStatistics != nil {
		for _, c := range out.FindingStatistics.CountBySeverity {
			n += int(c)
		}
	}
	return n, nil
}
