package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/detect/dnsquery"
	"github.com/guardpost/guardpost/detect/network"
	"github.com/guardpost/guardpost/ingest"
)

// IngestVPCFlowPath is guardpost's own endpoint for analysing VPC Flow
// Logs.
const IngestVPCFlowPath = "/guardpost/v1/ingest/vpcflow"

// logBatch is how many records a log ingest hands its engine at a time:
// large enough that a batch's fixed costs vanish, small enough (~1.5 MB of
// flow records) to stay in cache-friendly, bounded memory however long
// the body.
const logBatch = 4096

// SetNetworkEngine sets the engine that analyses flow logs; without one,
// the server makes its own from the service and the managed intelligence
// (SetIntel) on first use. Call before serving.
func (s *Server) SetNetworkEngine(e *network.Engine) { s.flowEngine = e }

// SetDNSEngine sets the engine that analyses query logs, as
// SetNetworkEngine.
func (s *Server) SetDNSEngine(e *dnsquery.Engine) { s.dnsEngine = e }

// SetENIMap gives the server the ENI-to-instance mapping it keeps current
// from the CloudTrail records it ingests (see detect.ENIMap). Call before
// serving.
func (s *Server) SetENIMap(m *detect.ENIMap) { s.enis = m }

// engines returns the flow and DNS engines, made on first use when none
// was set.
func (s *Server) engines() (*network.Engine, *dnsquery.Engine) {
	s.enginesOnce.Do(func() {
		if s.flowEngine == nil {
			s.flowEngine = network.New(s.service, s.intel)
		}
		if s.dnsEngine == nil {
			s.dnsEngine = dnsquery.New(s.service, s.intel)
		}
	})
	return s.flowEngine, s.dnsEngine
}

// logAnalysis is one ingest of an engine (network.Analysis,
// dnsquery.Analysis).
type logAnalysis[R any] interface {
	Add(ctx context.Context, records []R) error
	Finish(ctx context.Context) (detect.Report, error)
	Abort()
}

// ingestVPCFlow analyses a body of VPC Flow Logs (see
// ingest.ReadFlowLogs; as sent or gzip) and answers what it found, with
// the authentication, limits, account and region rules of the CloudTrail
// endpoint. Records without account-id are the caller's; records without
// region are of the region the request is signed for.
func (s *Server) ingestVPCFlow(w http.ResponseWriter, r *http.Request) {
	flows, _ := s.engines()
	ingestLog(s, w, r, ingest.ReadFlowLogs, func(scope guardpost.Scope) logAnalysis[ingest.FlowRecord] {
		return flows.Begin(scope, time.Now())
	}, func(recs []ingest.FlowRecord, account string) {
		for i := range recs {
			if recs[i].AccountID == "" {
				recs[i].AccountID = account
			}
		}
	})
}

// ingestLog is the one path of the log ingest endpoints: read the body in
// batches, hand each to the analysis, and write what it made only once the
// whole body was read; a malformed body is answered 400 naming its line,
// and nothing is written. Reading (gunzip and parse) and analysis run on
// two goroutines, a few batches apart, so that on two cores neither waits
// for the other.
func ingestLog[R any](s *Server, w http.ResponseWriter, r *http.Request,
	read func(io.Reader, int, func([]R) error) error,
	begin func(guardpost.Scope) logAnalysis[R], fill func(recs []R, account string)) {
	content, id, admitted, ok := s.openIngestBody(w, r)
	defer admitted.release()
	if !ok {
		return
	}
	scope := guardpost.Scope{AccountID: id.AccountID, Region: id.Region}
	an := begin(scope)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	addErr, err := pipeline(ctx, content, read, func(recs []R) error {
		fill(recs, scope.AccountID)
		return an.Add(ctx, recs)
	})
	if err != nil || addErr != nil {
		an.Abort()
		var line *ingest.LineError
		switch {
		case addErr != nil:
			err = s.storageError(r, addErr)
		case errors.Is(err, ingest.ErrTooLarge):
			err = &apiError{Status: http.StatusRequestEntityTooLarge, Type: "BadRequestException",
				Message: sprintf("The decoded request body is larger than %d bytes: send fewer records per request.", ingestDecodedLimit)}
		case errors.As(err, &line):
			err = badRequest("%s", line.Error())
		case r.Context().Err() != nil:
			err = r.Context().Err()
		default: // the body itself (corrupt gzip data)
			err = badRequest("%s", err.Error())
		}
		writeError(w, r, s.log, err)
		return
	}
	report, err := an.Finish(r.Context())
	if err = s.storageError(r, err); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.recordUsage(r, report, time.Now())
	out, _ := json.Marshal(cloudTrailResult{Records: report.Records, Accepted: report.Accepted, Rejected: report.Rejected,
		Skipped: report.Skipped, FindingsCreated: report.Created, FindingsUpdated: report.Updated})
	s.writeResult(w, r, http.StatusOK, rawJSON(out))
}

// pipelineDepth is how many batches the reader may run ahead of the
// analysis: enough to ride out a slow batch, few enough to bound memory
// (each is logBatch records).
const pipelineDepth = 2

// pipeline reads content with read on its own goroutine and calls add with
// each batch, in order, on the caller's. It returns add's error (after
// which reading stops) and the reader's; both are nil when the body was
// read and analysed to its end. Every goroutine has ended when it returns.
func pipeline[R any](ctx context.Context, content io.Reader, read func(io.Reader, int, func([]R) error) error, add func([]R) error) (addErr, readErr error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// pipelineDepth+1 buffers: one with the analysis, the others queued,
	// so that neither send below ever blocks for long.
	full := make(chan []R, pipelineDepth)
	free := make(chan []R, pipelineDepth+1)
	for range pipelineDepth + 1 {
		free <- make([]R, 0, logBatch)
	}
	done := make(chan error, 1)
	go func() {
		defer close(full)
		done <- read(content, logBatch, func(recs []R) error {
			var buf []R
			select {
			case buf = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
			// The reader reuses recs: the analysis gets its own copy.
			full <- append(buf[:0], recs...)
			return nil
		})
	}()
	for recs := range full {
		if addErr != nil {
			continue // the reader stops once out of buffers
		}
		if addErr = add(recs); addErr != nil {
			cancel()
			continue
		}
		free <- recs
	}
	readErr = <-done
	if addErr != nil {
		readErr = nil
	}
	return addErr, readErr
}
