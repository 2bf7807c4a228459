// Package httpapi serves the GuardDuty restJson1 API over net/http: it
// authenticates with SigV4, routes with the generated operation table,
// decodes and validates at the edge, calls the domain service and writes
// every answer, errors included, in the shape AWS clients expect.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/audit"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/detect/dnsquery"
	"github.com/guardpost/guardpost/detect/network"
	"github.com/guardpost/guardpost/httpapi/wire"
	"github.com/guardpost/guardpost/intel"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sts"
)

// MaxBodyBytes is the default bound of an API request body (Limits). The
// largest legitimate GuardDuty request (a filter of 50 criteria of 50
// values each) is far smaller.
const MaxBodyBytes = 4 << 20

// Server is the API's http.Handler.
type Server struct {
	service  *guardpost.Service
	verifier *sigv4.Verifier
	log      *slog.Logger
	mux      *http.ServeMux
	sts      http.Handler   // STS on the same endpoint (HandleSTS); nil: none
	audit    *auditor       // the audit log (HandleAudit); nil: none
	intel    *intel.Managed // managed threat intelligence (SetIntel); nil: none

	// The engines of the flow and DNS log endpoints (vpcflow.go), and the
	// ENI-to-instance mapping CloudTrail ingests keep current.
	flowEngine  *network.Engine
	dnsEngine   *dnsquery.Engine
	enginesOnce sync.Once
	enis        *detect.ENIMap
	edge        edge // limits and their state (edge.go)

	// ObserveRequest, when set, is told about every answered request: the
	// operation name (as in the request log), the status and the latency.
	ObserveRequest func(operation string, code int, elapsed time.Duration)
}

// request is what an operation handler gets: the verified caller's scope,
// the bound and validated input, and the raw request for anything else.
type request struct {
	ctx   context.Context
	scope guardpost.Scope
	input wire.Input
}

// handler carries out one operation. It returns the response value (nil for
// an empty object) or an error for writeError.
type handler func(req *request) (any, error)

// rawJSON is a response body already encoded, sent as it is.
type rawJSON []byte

// body is a response body encoded into a pooled buffer (newBody), sent as
// it is and then returned to the pool: GetFindings answers up to 50
// documents, some 150 KB, and allocating that anew for every answer
// costs more than writing it.
type body struct{ bytes.Buffer }

// maxPooledBody is the largest buffer kept for reuse; a larger answer's
// buffer is left to the garbage collector.
const maxPooledBody = 1 << 20

var bodies = sync.Pool{New: func() any { return new(body) }}

// newBody returns an empty pooled buffer with room for size bytes.
func newBody(size int) *body {
	b := bodies.Get().(*body)
	b.Grow(size)
	return b
}

func (b *body) free() {
	if b.Cap() > maxPooledBody {
		return
	}
	b.Reset()
	bodies.Put(b)
}

// New builds the API server.
func New(service *guardpost.Service, verifier *sigv4.Verifier, log *slog.Logger) *Server {
	s := &Server{service: service, verifier: verifier, log: log, mux: http.NewServeMux()}
	s.edge.limits = DefaultLimits()
	handlers := s.handlers()
	for _, op := range wire.Operations {
		h, ok := handlers[op.Name]
		if !ok {
			h = notImplemented(op.Name)
		}
		s.mux.Handle(op.Method+" "+op.Path, s.operation(op, h))
	}
	// guardpost's own endpoints are named "guardpost:<Action>" (see named)
	// in the request log and metrics; anything else unmatched is "unknown".
	s.mux.Handle("GET /healthz", named("guardpost:Health", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})))
	s.mux.Handle("POST "+IngestFindingsPath, named("guardpost:IngestFindings", s.audited("IngestFindings", s.ingestFindings)))
	s.mux.Handle("POST "+IngestCloudTrailPath, named("guardpost:IngestCloudTrail", s.audited("IngestCloudTrail", s.ingestCloudTrail)))
	s.mux.Handle("POST "+IngestVPCFlowPath, named("guardpost:IngestVPCFlow", s.audited("IngestVPCFlow", s.ingestVPCFlow)))
	s.mux.Handle("POST "+IngestDNSPath, named("guardpost:IngestDNS", s.audited("IngestDNS", s.ingestDNS)))
	s.mux.Handle("GET "+EvidencePattern, named("guardpost:GetFindingEvidence", http.HandlerFunc(s.getFindingEvidence)))
	s.mux.HandleFunc("/", s.unknown)
	return s
}

// unknown answers a request no route matches: a query-protocol request
// meant for STS (sts.IsRequest) goes there, anything else is unknown.
func (s *Server) unknown(w http.ResponseWriter, r *http.Request) {
	if s.sts != nil && sts.IsRequest(r) {
		s.auditSTS(w, r, s.sts)
		return
	}
	writeError(w, r, s.log, &apiError{Status: http.StatusNotFound, Type: "UnknownOperationException",
		Message: "No GuardDuty operation matches " + r.Method + " " + r.URL.Path + "."})
}

// handlers maps the operations guardpost implements to their handlers;
// every other routed operation answers NotImplementedException.
func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		"CreateDetector":         s.createDetector,
		"GetDetector":            s.getDetector,
		"ListDetectors":          s.listDetectors,
		"UpdateDetector":         s.updateDetector,
		"DeleteDetector":         s.deleteDetector,
		"CreateSampleFindings":   s.createSampleFindings,
		"GetFindings":            s.getFindings,
		"ListFindings":           s.listFindings,
		"ArchiveFindings":        s.archiveFindings,
		"UnarchiveFindings":      s.unarchiveFindings,
		"UpdateFindingsFeedback": s.updateFindingsFeedback,
		"GetFindingsStatistics":  s.getFindingsStatistics,
		"CreateFilter":           s.createFilter,
		"GetFilter":              s.getFilter,
		"UpdateFilter":           s.updateFilter,
		"DeleteFilter":           s.deleteFilter,
		"ListFilters":            s.listFilters,
		"TagResource":            s.tagResource,
		"UntagResource":          s.untagResource,
		"ListTagsForResource":    s.listTagsForResource,

		"CreateMembers":                        s.createMembers,
		"InviteMembers":                        s.inviteMembers,
		"ListInvitations":                      s.listInvitations,
		"GetInvitationsCount":                  s.getInvitationsCount,
		"AcceptAdministratorInvitation":        s.acceptAdministratorInvitation,
		"AcceptInvitation":                     s.acceptInvitation,
		"DeclineInvitations":                   s.declineInvitations,
		"DeleteInvitations":                    s.deleteInvitations,
		"GetAdministratorAccount":              s.getAdministratorAccount,
		"GetMasterAccount":                     s.getMasterAccount,
		"DisassociateFromAdministratorAccount": s.disassociateFromAdministratorAccount,
		"DisassociateFromMasterAccount":        s.disassociateFromMasterAccount,
		"ListMembers":                          s.listMembers,
		"GetMembers":                           s.getMembers,
		"DisassociateMembers":                  s.disassociateMembers,
		"DeleteMembers":                        s.deleteMembers,
		"StartMonitoringMembers":               s.startMonitoringMembers,
		"StopMonitoringMembers":                s.stopMonitoringMembers,
		"GetMemberDetectors":                   s.getMemberDetectors,
		"UpdateMemberDetectors":                s.updateMemberDetectors,
		"CreateIPSet":                          s.createIPSet,
		"GetIPSet":                             s.getIPSet,
		"UpdateIPSet":                          s.updateIPSet,
		"DeleteIPSet":                          s.deleteIPSet,
		"ListIPSets":                           s.listIPSets,
		"CreateThreatIntelSet":                 s.createThreatIntelSet,
		"GetThreatIntelSet":                    s.getThreatIntelSet,
		"UpdateThreatIntelSet":                 s.updateThreatIntelSet,
		"DeleteThreatIntelSet":                 s.deleteThreatIntelSet,
		"ListThreatIntelSets":                  s.listThreatIntelSets,
		"CreateTrustedEntitySet":               s.createTrustedEntitySet,
		"GetTrustedEntitySet":                  s.getTrustedEntitySet,
		"UpdateTrustedEntitySet":               s.updateTrustedEntitySet,
		"DeleteTrustedEntitySet":               s.deleteTrustedEntitySet,
		"ListTrustedEntitySets":                s.listTrustedEntitySets,
		"CreateThreatEntitySet":                s.createThreatEntitySet,
		"GetThreatEntitySet":                   s.getThreatEntitySet,
		"UpdateThreatEntitySet":                s.updateThreatEntitySet,
		"DeleteThreatEntitySet":                s.deleteThreatEntitySet,
		"ListThreatEntitySets":                 s.listThreatEntitySets,

		"EnableOrganizationAdminAccount":    s.enableOrganizationAdminAccount,
		"DisableOrganizationAdminAccount":   s.disableOrganizationAdminAccount,
		"ListOrganizationAdminAccounts":     s.listOrganizationAdminAccounts,
		"DescribeOrganizationConfiguration": s.describeOrganizationConfiguration,
		"UpdateOrganizationConfiguration":   s.updateOrganizationConfiguration,
		"GetOrganizationStatistics":         s.getOrganizationStatistics,

		"GetUsageStatistics":        s.getUsageStatistics,
		"GetRemainingFreeTrialDays": s.getRemainingFreeTrialDays,
		"ListCoverage":              s.listCoverage,
		"GetCoverageStatistics":     s.getCoverageStatistics,
	}
}

func notImplemented(name string) handler {
	return func(*request) (any, error) {
		return nil, guardpost.Errorf(guardpost.ENOTIMPLEMENTED, "The operation %s is not implemented by guardpost yet.", name)
	}
}

// HandleReady serves GET /readyz, unauthenticated like /healthz: 200 when
// ready reports true (the store's in-memory indexes are loaded), else 503.
// Either way the API answers; until ready, queries are slower. It also
// answers 503 while storage faults (storage.go): writes then fail.
func (s *Server) HandleReady(ready func() bool) {
	s.mux.Handle("GET /readyz", named("guardpost:Ready", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if reason, faulty := s.edge.fault.recent(); faulty {
			w.WriteHeader(http.StatusServiceUnavailable)
			body, _ := json.Marshal(map[string]string{"status": "storage-fault", "reason": reason})
			w.Write(body)
			return
		}
		if !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"loading"}`))
			return
		}
		w.Write([]byte(`{"status":"ready"}`))
	})))
}

// HandleSTS serves h for the requests meant for STS (sts.IsRequest) that
// no GuardDuty route matches: tools pointed at guardpost with
// AWS_ENDPOINT_URL ask STS who they are on the same endpoint.
func (s *Server) HandleSTS(h http.Handler) { s.sts = h }

// HandleMetrics serves h, unauthenticated like /healthz, at GET /metrics.
func (s *Server) HandleMetrics(h http.Handler) {
	s.mux.Handle("GET /metrics", named("guardpost:Metrics", h))
}

// ServeHTTP gives every response a request id, guards against panics so
// that one bad request never takes the server down, and logs one line per
// request. It answers a path that is not in clean form as the unknown
// path it is (instead of ServeMux's redirect).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	markServing(r)
	start := time.Now()
	id := newRequestID()
	w.Header().Set("X-Amzn-RequestId", id)
	x := exchanges.Get().(*exchange)
	*x = exchange{ResponseWriter: w, operation: "unknown"}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				s.finish(x, r, id, start)
				panic(v)
			}
			writeError(x, r, s.log, errors.New("panic: "+sprintf("%v", v)))
		}
		s.finish(x, r, id, start)
		*x = exchange{}
		exchanges.Put(x)
	}()
	if !cleanPath(r.URL.Path) {
		s.unknown(x, r)
		return
	}
	s.mux.ServeHTTP(x, r)
}

// finish logs the request line and reports the request to ObserveRequest.
func (s *Server) finish(x *exchange, r *http.Request, id string, start time.Time) {
	elapsed := time.Since(start)
	status := x.status
	if status == 0 {
		status = http.StatusOK // what net/http sends for a handler that wrote nothing
	}
	if s.ObserveRequest != nil {
		s.ObserveRequest(x.operation, status, elapsed)
	}
	ctx := r.Context()
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var attrs [7]slog.Attr
	attrs[0] = slog.String("request_id", id)
	n := 1
	if x.account != "" {
		attrs[n] = slog.String("account", x.account)
		n++
	}
	attrs[n] = slog.String("operation", x.operation)
	attrs[n+1] = slog.Int("status", status)
	attrs[n+2] = slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000)
	n += 3
	if x.operation == "unknown" { // the path is all there is to tell what was asked
		attrs[n] = slog.String("method", r.Method)
		attrs[n+1] = slog.String("path", r.URL.Path)
		n += 2
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "request", attrs[:n]...)
}

// exchange is the ResponseWriter every handler gets. It records what the
// request log needs: the status sent, and the operation and account once
// the handler knows them. Exchanges are pooled: this is the hot path.
type exchange struct {
	http.ResponseWriter
	status    int
	operation string
	account   string
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

func (x *exchange) WriteHeader(code int) {
	if x.status == 0 && code >= 200 {
		x.status = code
	}
	x.ResponseWriter.WriteHeader(code)
}

func (x *exchange) Write(b []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	return x.ResponseWriter.Write(b)
}

// SetOperation and SetAccount let handlers of other packages (sts) name
// their operation and caller in the request log and metrics.
func (x *exchange) SetOperation(name string) { x.operation = name }
func (x *exchange) SetAccount(id string)     { x.account = id }

// Unwrap lets http.ResponseController reach the server's writer.
func (x *exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

// named gives a handler's requests their operation name in the request log
// and metrics. guardpost's own endpoints (under /guardpost/v1/, and
// /healthz and /metrics) use "guardpost:<Action>", e.g.
// "guardpost:IngestFindings"; GuardDuty operations get their model name
// from operation.
func named(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if x, ok := w.(*exchange); ok {
			x.operation = name
		}
		h.ServeHTTP(w, r)
	})
}

// operation wraps a handler with what every API operation shares: body
// limit, SigV4, binding, decoding, validation and encoding.
func (s *Server) operation(op wire.Operation, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _ := w.(*exchange)
		if x != nil {
			x.operation = op.Name
		}
		if s.audit != nil {
			// Before authentication: a refused call is recorded too.
			a := s.auditing(w, r, op.Name, audit.EventSource, readOnly(op.Name))
			w = a
			defer a.finish()
		}
		body, id, admitted, err := s.authenticate(w, r, s.edge.limits.MaxBodyBytes, &s.edge.bodies, s.edge.limits.MaxBufferedBodyBytes, 0)
		defer admitted.release()
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if x != nil {
			x.account = id.AccountID
		}
		in := op.NewInput()
		if err := in.BindHTTP(r.PathValue, r.URL.Query(), r.Header); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if err := decodeBody(body, in); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		auditInput(w, in)
		if err := checkAccountList(in); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if err := in.Validate(); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		out, err := h(&request{ctx: r.Context(), scope: guardpost.Scope{AccountID: id.AccountID, Region: id.Region}, input: in})
		// The work is done: writing the answer holds no in-flight slot
		// (a client that never reads it must not keep one), only the
		// answer's bytes (writeResult).
		admitted.release()
		if err != nil {
			writeError(w, r, s.log, s.storageError(r, err))
			return
		}
		s.writeResult(w, r, op.Code, out)
	})
}

// writeResult writes a handler's result with the operation's status and
// its Content-Length, in one Write.
func (s *Server) writeResult(w http.ResponseWriter, r *http.Request, code int, out any) {
	var data []byte
	switch v := out.(type) {
	case nil:
		data = []byte("{}")
	case rawJSON:
		data = v
	case *body:
		defer v.free()
		data = v.Bytes()
	default:
		b := newBody(512)
		defer b.free()
		enc := json.NewEncoder(b)
		if err := enc.Encode(v); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		data = b.Bytes()
		data = data[:len(data)-1] // Encode's newline: the bytes json.Marshal gives
	}
	if code == http.StatusNoContent {
		w.WriteHeader(code)
		return
	}
	// Answers being written are held in memory until the client has read
	// them (or the write timeout ends the connection): their bytes come
	// from a budget, one answer of any size fitting when none is held.
	n := int64(len(data))
	if !s.edge.answers.take(n, max(s.edge.limits.MaxBufferedAnswerBytes, n)) {
		writeError(w, r, s.log, throttled)
		return
	}
	defer s.edge.answers.give(n)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(code)
	w.Write(data)
}

// newRequestID returns a UUID-shaped random id, as AWS request ids are.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// input returns the request's input as the operation's concrete type.
func input[T wire.Input](req *request) T { return req.input.(T) }
