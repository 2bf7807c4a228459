package httpapi

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/guardpost/guardpost/audit"
	"github.com/guardpost/guardpost/httpapi/wire"
	"github.com/guardpost/guardpost/sigv4"
	"github.com/guardpost/guardpost/sts"
)

// auditor is what HandleAudit set up.
type auditor struct {
	record func(*audit.Record) error
	reads  bool

	// identities caches each (key, region)'s userIdentity: the AIDA id
	// costs a SHA-256 and the ARN a few strings. Bounded, since the region
	// is the client's choice.
	mu         sync.Mutex
	identities map[identityKey]audit.UserIdentity
}

type identityKey struct{ accessKeyID, region string }

// maxIdentities bounds auditor.identities; past it identities are made
// anew for each record.
const maxIdentities = 4096

// HandleAudit has every authenticated GuardDuty call that changes state
// (and, when reads is true, every read too) described as a CloudTrail
// record and given to record before the first byte of its answer is sent:
// record may hold the answer until the record is durable (audit.Log.Write
// does, for calls that change state). record must not keep rec or its
// byte slices after it returns: their memory is reused. A call refused before its signature
// is verified has no record: there is no identity to record. A record
// record fails to keep is logged; the call is answered all the same, since
// its change is already made.
func (s *Server) HandleAudit(record func(*audit.Record) error, reads bool) {
	s.audit = &auditor{record: record, reads: reads, identities: map[identityKey]audit.UserIdentity{}}
}

// readOnly tells whether an operation only reads, as CloudTrail's
// readOnly says of GuardDuty's Get, List and Describe calls.
func readOnly(operation string) bool {
	return strings.HasPrefix(operation, "Get") || strings.HasPrefix(operation, "List") || strings.HasPrefix(operation, "Describe")
}

// auditing returns the writer that reports op's call before answering it,
// or w itself when op's calls are not audited.
func (s *Server) auditing(w http.ResponseWriter, r *http.Request, op wire.Operation, id sigv4.Identity) http.ResponseWriter {
	ro := readOnly(op.Name)
	if ro && !s.audit.reads {
		return w
	}
	return &auditWriter{ResponseWriter: w, s: s, r: r, op: op.Name, readOnly: ro, id: id}
}

// auditInput gives the call's decoded input to its auditWriter, if any:
// the record's requestParameters.
func auditInput(w http.ResponseWriter, in wire.Input) {
	if a, ok := w.(*auditWriter); ok {
		a.input = in
	}
}

// auditWriter holds back the status line until the body is written (every
// answer is written in one Write, by writeResult or writeError), so that
// the record, which needs the error message or the response elements, is
// kept before anything is sent.
type auditWriter struct {
	http.ResponseWriter
	s        *Server
	r        *http.Request
	op       string
	readOnly bool
	id       sigv4.Identity
	input    wire.Input
	status   int  // held back until the body
	reported bool // the record is made; the writer passes everything on
}

func (a *auditWriter) WriteHeader(code int) {
	if a.reported {
		a.ResponseWriter.WriteHeader(code)
		return
	}
	if a.status == 0 && code >= 200 {
		a.status = code
	}
}

func (a *auditWriter) Write(b []byte) (int, error) {
	if !a.reported {
		a.report(b)
	}
	return a.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (a *auditWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// finish reports a call answered without a body (204) or not answered at
// all (the handler panicked: the answer will be a 500).
func (a *auditWriter) finish() {
	if !a.reported {
		a.report(nil)
	}
}

// report makes the call's record, gives it to the auditor and passes the
// held-back status on.
func (a *auditWriter) report(body []byte) {
	a.reported = true
	status := a.status
	if status == 0 {
		status = http.StatusOK // what net/http sends for a Write without WriteHeader
		if body == nil {
			status = http.StatusInternalServerError
		}
	}
	params := paramBuffers.Get().(*bytes.Buffer)
	rec := a.record(status, body, params)
	if err := a.s.audit.record(rec); err != nil && err != audit.ErrDropped {
		a.s.log.Error("audit record not kept", "request_id", rec.RequestID, "operation", a.op, "err", err)
	}
	if params.Cap() <= maxPooledParams {
		params.Reset()
		paramBuffers.Put(params)
	}
	if a.status != 0 {
		a.ResponseWriter.WriteHeader(a.status)
	}
}

// paramBuffers hold requestParameters until the record is kept.
var paramBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledParams = 64 << 10

// record describes the call as CloudTrail does; its requestParameters are
// written into params.
func (a *auditWriter) record(status int, body []byte, params *bytes.Buffer) *audit.Record {
	r := a.r
	rec := &audit.Record{
		EventVersion:       audit.EventVersion,
		UserIdentity:       a.s.audit.userIdentity(a.s.verifier, a.id),
		EventTime:          time.Now().UTC().Format(audit.TimeFormat),
		EventSource:        audit.EventSource,
		EventName:          a.op,
		AWSRegion:          a.id.Region,
		SourceIPAddress:    sourceIP(r),
		UserAgent:          r.UserAgent(),
		RequestParameters:  requestParameters(a.input, params),
		ResponseElements:   json.RawMessage("null"),
		RequestID:          a.Header().Get("X-Amzn-RequestId"),
		EventID:            newEventID(),
		ReadOnly:           a.readOnly,
		EventType:          audit.EventTypeAPICall,
		ManagementEvent:    true,
		RecipientAccountID: a.id.AccountID,
		EventCategory:      audit.EventCategoryManagement,
		TLSDetails:         tlsDetails(r),
	}
	switch {
	case status >= 300:
		var e struct {
			Message string `json:"message"`
			Type    string `json:"__type"`
		}
		json.Unmarshal(body, &e)
		rec.ErrorCode, rec.ErrorMessage = e.Type, e.Message
		if t := a.Header().Get("X-Amzn-ErrorType"); t != "" {
			rec.ErrorCode = t
		}
		if rec.ErrorCode == "" {
			rec.ErrorCode = "InternalServerErrorException"
		}
	case !a.readOnly && len(body) > 0 && !bytes.Equal(body, []byte("{}")):
		// A write's answer, as CloudTrail records a create's new id; empty
		// answers stay null.
		rec.ResponseElements = capField(body)
	}
	return rec
}

// userIdentity is the caller as CloudTrail names an IAM user, the same
// user STS's GetCallerIdentity reports for the key (sts.CallerOf). The
// secret key never leaves the verifier.
func (au *auditor) userIdentity(v *sigv4.Verifier, id sigv4.Identity) audit.UserIdentity {
	if id.Session != nil {
		return sessionIdentity(id)
	}
	k := identityKey{id.AccessKeyID, id.Region}
	au.mu.Lock()
	u, ok := au.identities[k]
	au.mu.Unlock()
	if ok {
		return u
	}
	cred, _ := v.Credential(id.AccessKeyID)
	c := sts.CallerOf(cred, id.Region)
	u = audit.UserIdentity{Type: "IAMUser", PrincipalID: c.UserID, ARN: c.Arn, AccountID: id.AccountID,
		AccessKeyID: id.AccessKeyID, UserName: cred.Profile}
	au.mu.Lock()
	if len(au.identities) < maxIdentities {
		au.identities[k] = u
	}
	au.mu.Unlock()
	return u
}

// sessionIdentity is the caller of temporary credentials as CloudTrail
// names it: the role session (AssumedRole, with the role as the session's
// issuer) or, for GetSessionToken's credentials, the IAM user.
func sessionIdentity(id sigv4.Identity) audit.UserIdentity {
	s := id.Session
	ctx := &audit.SessionContext{Attributes: audit.SessionAttributes{
		CreationDate: s.Created.UTC().Format(audit.TimeFormat), MFAAuthenticated: "false"}}
	if !s.AssumedRole {
		return audit.UserIdentity{Type: "IAMUser", PrincipalID: s.UserID, ARN: s.Arn, AccountID: s.AccountID,
			AccessKeyID: id.AccessKeyID, UserName: s.Profile, SessionContext: ctx}
	}
	ctx.SessionIssuer = &audit.SessionIssuer{Type: "Role", PrincipalID: s.RoleID, ARN: s.RoleArn, AccountID: s.AccountID,
		UserName: s.RoleArn[strings.LastIndexByte(s.RoleArn, '/')+1:]}
	return audit.UserIdentity{Type: "AssumedRole", PrincipalID: s.UserID, ARN: s.Arn, AccountID: s.AccountID,
		AccessKeyID: id.AccessKeyID, SessionContext: ctx}
}

// newEventID returns a random UUID (version 4), as CloudTrail's eventID.
func newEventID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// sourceIP is the address of the connection's peer: a header naming
// another address is the client's word, not a fact.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// tlsDetails describes the request's TLS connection, when it came over
// one. Version names are CloudTrail's; cipher suites carry their IANA
// names.
func tlsDetails(r *http.Request) *audit.TLSDetails {
	if r.TLS == nil {
		return nil
	}
	versions := map[uint16]string{tls.VersionTLS10: "TLSv1", tls.VersionTLS11: "TLSv1.1", tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3"}
	v, ok := versions[r.TLS.Version]
	if !ok {
		v = tls.VersionName(r.TLS.Version)
	}
	return &audit.TLSDetails{TLSVersion: v, CipherSuite: tls.CipherSuiteName(r.TLS.CipherSuite), ClientProvidedHostHeader: r.Host}
}

// capField keeps a requestParameters or responseElements up to
// CloudTrail's size limit.
func capField(b []byte) json.RawMessage {
	if len(b) > audit.MaxFieldBytes {
		return audit.Omitted
	}
	return b
}

// hidden replaces a sensitive member's value, as CloudTrail logs it.
const hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// requestParameters is the call's input as CloudTrail logs it, written
// into buf: every member set, URI, query and body alike, under its wire
// name with a lower-case first letter (detectorId, findingIds), sensitive
// members hidden. JSON null when nothing was set or the input did not
// decode.
func requestParameters(in wire.Input, buf *bytes.Buffer) json.RawMessage {
	null := json.RawMessage("null")
	if in == nil {
		return null
	}
	v := reflect.ValueOf(in).Elem()
	buf.WriteByte('{')
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	members := 0
	for _, f := range boundMembers(v.Type()) {
		fv := v.Field(f.index)
		if fv.IsZero() {
			continue
		}
		if members > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(f.name)
		if err := enc.Encode(fv.Interface()); err != nil {
			return null
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		members++
	}
	start := buf.Len()
	if err := enc.Encode(redact(in)); err != nil {
		return null
	}
	body := bytes.TrimSpace(buf.Bytes()[start:])
	buf.Truncate(start)
	if len(body) > 2 { // not "{}"
		if members > 0 {
			buf.WriteByte(',')
		}
		buf.Write(body[1 : len(body)-1])
		members++
	}
	if members == 0 {
		return null
	}
	buf.WriteByte('}')
	return capField(buf.Bytes())
}

// redact returns in with its sensitive members (the model's
// SensitiveString and Email shapes) hidden.
func redact(in wire.Input) any {
	switch in := in.(type) {
	case *wire.UpdateFindingsFeedbackRequest:
		if in.Comments != nil {
			c := *in
			c.Comments = ptr(hidden)
			return &c
		}
	case *wire.CreateMembersRequest:
		c := *in
		c.AccountDetails = make([]wire.AccountDetail, len(in.AccountDetails))
		for i, d := range in.AccountDetails {
			if d.Email != nil {
				d.Email = ptr(hidden)
			}
			c.AccountDetails[i] = d
		}
		return &c
	}
	return in
}

// boundMember is an input member bound from the URI, query or headers
// (json:"-" in the wire types): its field index and its quoted JSON name
// with the colon.
type boundMember struct {
	index int
	name  string
}

var boundMembersByType sync.Map // reflect.Type -> []boundMember

func boundMembers(t reflect.Type) []boundMember {
	if m, ok := boundMembersByType.Load(t); ok {
		return m.([]boundMember)
	}
	var out []boundMember
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("json") != "-" || !f.IsExported() {
			continue
		}
		r, size := utf8.DecodeRuneInString(f.Name)
		name, _ := json.Marshal(string(unicode.ToLower(r)) + f.Name[size:])
		out = append(out, boundMember{index: i, name: string(name) + ":"})
	}
	boundMembersByType.Store(t, out)
	return out
}
