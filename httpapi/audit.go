package httpapi

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"net"
	"net/http"
	"net/url"
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
	// refusedSecond, refusedCount and refusedSkipped count the records of
	// refused calls in the current second (admitRefused).
	refusedSecond                int64
	refusedCount, refusedSkipped int
}

type identityKey struct{ accessKeyID, region string }

// maxIdentities bounds auditor.identities; past it identities are made
// anew for each record.
const maxIdentities = 4096

// HandleAudit has every GuardDuty call that changes state (and, when
// reads is true, every read too), every call of guardpost's ingest
// endpoints, the STS calls that issue credentials (and GetCallerIdentity
// with reads), and every call refused before its signature was verified
// described as a CloudTrail record and given to record before the first
// byte of its answer is sent: record may hold the answer until the record
// is durable (audit.Log.Write does, for calls that change state). record
// must not keep rec or its byte slices after it returns: their memory is
// reused. A refused call's record names the caller as far as its request
// does (the access key and region it claims, the key's account when the
// key exists); at most refusedPerSecond such records are made a second, so
// that a flood of unauthenticated requests cannot fill the disk. A record
// record fails to keep is logged; the call is answered all the same, since
// its change is already made.
func (s *Server) HandleAudit(record func(*audit.Record) error, reads bool) {
	s.audit = &auditor{record: record, reads: reads, identities: map[identityKey]audit.UserIdentity{}}
}

// refusedPerSecond bounds the records of refused calls (see HandleAudit).
const refusedPerSecond = 100

// admitRefused tells whether a refused call may have its record, and logs
// how many were left out in the last second that left any out.
func (au *auditor) admitRefused(log *slog.Logger) bool {
	now := time.Now().Unix()
	au.mu.Lock()
	defer au.mu.Unlock()
	if now != au.refusedSecond {
		if au.refusedSkipped > 0 {
			log.Warn("audit: refused calls not recorded (more than the limit a second)", "skipped", au.refusedSkipped, "limit", refusedPerSecond)
		}
		au.refusedSecond, au.refusedCount, au.refusedSkipped = now, 0, 0
	}
	if au.refusedCount >= refusedPerSecond {
		au.refusedSkipped++
		return false
	}
	au.refusedCount++
	return true
}

// readOnly tells whether an operation only reads, as CloudTrail's
// readOnly says of GuardDuty's Get, List and Describe calls.
func readOnly(operation string) bool {
	return strings.HasPrefix(operation, "Get") || strings.HasPrefix(operation, "List") || strings.HasPrefix(operation, "Describe")
}

// auditing returns the writer that reports a call of op (an operation of
// eventSource source) before answering it. The identity is learnt later:
// authenticate sets it once the signature is verified (STS's handler
// through SetIdentity); a call answered without one was refused.
func (s *Server) auditing(w http.ResponseWriter, r *http.Request, op, source string, readOnly bool) *auditWriter {
	return &auditWriter{ResponseWriter: w, s: s, r: r, op: op, source: source, readOnly: readOnly}
}

// audited wraps one of guardpost's own endpoints (ingest) so that its
// calls are recorded as calls of op.
func (s *Server) audited(op string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.audit == nil {
			h(w, r)
			return
		}
		a := s.auditing(w, r, op, audit.EventSource, false)
		a.own = true
		defer a.finish()
		h(a, r)
	}
}

// auditSTS wraps STS's handler so that its calls are recorded: those that
// issue credentials always, GetCallerIdentity with reads, as CloudTrail
// records STS's calls (eventSource sts.amazonaws.com, readOnly true).
func (s *Server) auditSTS(w http.ResponseWriter, r *http.Request, h http.Handler) {
	if s.audit == nil {
		h.ServeHTTP(w, r)
		return
	}
	a := s.auditing(w, r, "unknown", audit.EventSourceSTS, true)
	a.sts = true
	defer a.finish()
	h.ServeHTTP(a, r)
}

// identify tells w's auditWriter, if any, who the verified caller is.
func identify(w http.ResponseWriter, id sigv4.Identity) {
	if a, ok := w.(*auditWriter); ok {
		a.SetIdentity(id)
	}
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
	source   string // eventSource
	readOnly bool
	sts      bool           // an STS call: op, identity and parameters come from its handler
	own      bool           // a call of guardpost's own endpoints (ingest)
	known    bool           // id is the verified caller; false: the call was refused before
	id       sigv4.Identity //
	input    wire.Input
	stsIn    url.Values // an STS call's parameters
	status   int        // held back until the body
	reported bool       // the record is made; the writer passes everything on
}

// SetIdentity, SetOperation, SetAccount and SetRequestParameters are how
// STS's handler (another package) tells what the call was; the last two
// are passed on to the request log's writer.
func (a *auditWriter) SetIdentity(id sigv4.Identity) { a.id, a.known = id, true }

func (a *auditWriter) SetOperation(name string) {
	if a.sts {
		a.op = strings.TrimPrefix(name, "sts:")
	}
	if x, ok := a.ResponseWriter.(interface{ SetOperation(string) }); ok {
		x.SetOperation(name)
	}
}

func (a *auditWriter) SetAccount(id string) {
	if x, ok := a.ResponseWriter.(interface{ SetAccount(string) }); ok {
		x.SetAccount(id)
	}
}

func (a *auditWriter) SetRequestParameters(v url.Values) { a.stsIn = v }

// wanted tells whether the call gets a record: a refused call within the
// refused calls' limit; a read only when reads are audited, but STS's
// calls that issue credentials always.
func (a *auditWriter) wanted() bool {
	switch {
	case !a.known:
		return a.s.audit.admitRefused(a.s.log)
	case a.sts && (a.op == "AssumeRole" || a.op == "GetSessionToken"):
		return true
	case a.readOnly:
		return a.s.audit.reads
	}
	return true
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
	if !a.wanted() {
		if a.status != 0 {
			a.ResponseWriter.WriteHeader(a.status)
		}
		return
	}
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
	id, ident := a.id, audit.UserIdentity{}
	if a.known {
		ident = a.s.audit.userIdentity(a.s.verifier, id)
	} else {
		id, ident = a.s.audit.claimedIdentity(a.s.verifier, r)
	}
	rec := &audit.Record{
		EventVersion:       audit.EventVersion,
		UserIdentity:       ident,
		EventTime:          time.Now().UTC().Format(audit.TimeFormat),
		EventSource:        a.source,
		EventName:          a.op,
		AWSRegion:          id.Region,
		SourceIPAddress:    sourceIP(r),
		UserAgent:          r.UserAgent(),
		RequestParameters:  requestParameters(a.input, params),
		ResponseElements:   json.RawMessage("null"),
		RequestID:          a.Header().Get("X-Amzn-RequestId"),
		EventID:            newEventID(),
		ReadOnly:           a.readOnly,
		EventType:          audit.EventTypeAPICall,
		ManagementEvent:    true,
		RecipientAccountID: id.AccountID,
		EventCategory:      audit.EventCategoryManagement,
		TLSDetails:         tlsDetails(r),
	}
	switch {
	case a.sts && a.stsIn != nil:
		rec.RequestParameters = stsParameters(a.stsIn, params)
	case a.own && a.known:
		rec.RequestParameters = ingestParameters(r, params)
	}
	switch {
	case status >= 300:
		var e struct {
			Message string `json:"message"`
			Type    string `json:"__type"`
		}
		if a.sts {
			var x struct {
				Code    string `xml:"Error>Code"`
				Message string `xml:"Error>Message"`
			}
			xml.Unmarshal(body, &x)
			e.Type, e.Message = x.Code, x.Message
		} else {
			json.Unmarshal(body, &e)
		}
		rec.ErrorCode, rec.ErrorMessage = e.Type, e.Message
		if t := a.Header().Get("X-Amzn-ErrorType"); t != "" {
			rec.ErrorCode = t
		}
		if rec.ErrorCode == "" {
			rec.ErrorCode = "InternalServerErrorException"
		}
	case a.sts:
		rec.ResponseElements = stsResponse(body)
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

// maxClaimed bounds what a refused call's record keeps of the access key
// and region its request claims (the client's bytes, not checked).
const maxClaimed = 128

// claimedIdentity is a refused caller as far as its request tells: the
// access key and region its signature claims, and, when that key is one
// of the credentials, the key's IAM user and account, or, when it comes
// with a session token this server issued for it, the session's role or
// user (type Unknown otherwise, as CloudTrail names a caller it cannot
// identify).
func (au *auditor) claimedIdentity(v *sigv4.Verifier, r *http.Request) (sigv4.Identity, audit.UserIdentity) {
	key, region := sigv4.Claimed(r)
	key, region = strings.ToValidUTF8(key[:min(len(key), maxClaimed)], ""), strings.ToValidUTF8(region[:min(len(region), maxClaimed)], "")
	id := sigv4.Identity{AccessKeyID: key, Region: region}
	cred, ok := v.Credential(key)
	if !ok && key != "" && v.Sessions != nil {
		// Temporary credentials (expired ones included): their session
		// token, sealed by this server, names the session.
		token := r.Header.Get("X-Amz-Security-Token")
		if token == "" {
			token = r.URL.Query().Get("X-Amz-Security-Token")
		}
		if s, err := v.Sessions.Open(token); err == nil && s.AccessKeyID == key {
			id.AccountID, id.Profile, id.Session = s.AccountID, s.Profile, &s
			return id, sessionIdentity(id)
		}
	}
	if !ok || key == "" {
		return id, audit.UserIdentity{Type: "Unknown", AccessKeyID: key}
	}
	id.AccountID, id.Profile = cred.AccountID, cred.Profile
	return id, au.userIdentity(v, id)
}

// stsParameters are an STS call's parameters as CloudTrail logs them:
// camelCase names, Action and Version left out, the MFA code hidden.
func stsParameters(v url.Values, buf *bytes.Buffer) json.RawMessage {
	m := map[string]string{}
	for k, vs := range v {
		if k == "Action" || k == "Version" || k == "" || len(vs) == 0 {
			continue
		}
		r, size := utf8.DecodeRuneInString(k)
		name := string(unicode.ToLower(r)) + k[size:]
		m[name] = vs[0]
		if k == "TokenCode" {
			m[name] = hidden
		}
	}
	if len(m) == 0 {
		return json.RawMessage("null")
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return json.RawMessage("null")
	}
	return capField(bytes.TrimSpace(buf.Bytes()))
}

// stsResponse is what CloudTrail logs of an answer that issued temporary
// credentials: the key, its expiry and the assumed role; never the secret
// or the session token. null for other answers.
func stsResponse(body []byte) json.RawMessage {
	// The result element is named after the action (AssumeRoleResult,
	// GetSessionTokenResult); ResponseMetadata, the other child, has
	// none of these and leaves them alone.
	var resp struct {
		Result struct {
			AccessKeyID   string `xml:"Credentials>AccessKeyId"`
			Expiration    string `xml:"Credentials>Expiration"`
			AssumedRoleID string `xml:"AssumedRoleUser>AssumedRoleId"`
			Arn           string `xml:"AssumedRoleUser>Arn"`
		} `xml:",any"`
	}
	x := &resp.Result
	if xml.Unmarshal(body, &resp) != nil || x.AccessKeyID == "" {
		return json.RawMessage("null")
	}
	type creds struct {
		AccessKeyID string `json:"accessKeyId"`
		Expiration  string `json:"expiration"`
	}
	type role struct {
		AssumedRoleID string `json:"assumedRoleId"`
		Arn           string `json:"arn"`
	}
	out := struct {
		Credentials     creds `json:"credentials"`
		AssumedRoleUser *role `json:"assumedRoleUser,omitempty"`
	}{Credentials: creds{x.AccessKeyID, x.Expiration}}
	if x.Arn != "" {
		out.AssumedRoleUser = &role{x.AssumedRoleID, x.Arn}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// ingestParameters describe a call of guardpost's ingest endpoints: the
// body's size and encoding (its records are the ingest's, not the call's).
func ingestParameters(r *http.Request, buf *bytes.Buffer) json.RawMessage {
	p := struct {
		ContentLength   int64  `json:"contentLength"`
		ContentEncoding string `json:"contentEncoding,omitempty"`
	}{r.ContentLength, r.Header.Get("Content-Encoding")}
	b, err := json.Marshal(p)
	if err != nil {
		return json.RawMessage("null")
	}
	buf.Write(b)
	return buf.Bytes()
}
