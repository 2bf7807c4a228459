// Package sts answers the AWS Security Token Service on guardpost's own
// endpoint, in STS's query protocol (form-encoded requests, XML answers),
// the only protocol the AWS SDKs and CLI use for STS: tools pointed at
// guardpost with AWS_ENDPOINT_URL ask STS who they are before anything
// else, and multi-account scripts assume a role in each account.
// GetCallerIdentity, GetSessionToken and AssumeRole are implemented; every
// other STS action answers a clear NotImplemented error in STS's XML error
// shape.
//
// Temporary credentials are stateless: the session token is the session
// itself, sealed with a server key (sigv4.SessionKeys), so every node
// sharing the key accepts them until they expire, across restarts.
package sts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/guardpost/guardpost/sigv4"
)

// Version is the STS API version, the only one there is.
const Version = "2011-06-15"

// Namespace is the XML namespace of every STS answer.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// MaxBodyBytes bounds a request body. STS requests are small: the largest,
// AssumeRole with a session policy and tags, is a few KiB.
const MaxBodyBytes = 64 << 10

// actions are the STS actions of the model (botocore's sts 2011-06-15);
// those guardpost does not implement yet answer NotImplemented, any other
// name InvalidAction.
var actions = map[string]bool{
	"AssumeRole": true, "AssumeRoleWithSAML": true, "AssumeRoleWithWebIdentity": true, "AssumeRoot": true,
	"DecodeAuthorizationMessage": true, "GetAccessKeyInfo": true, "GetCallerIdentity": true,
	"GetDelegatedAccessToken": true, "GetFederationToken": true, "GetSessionToken": true, "GetWebIdentityToken": true,
}

// Handler serves STS requests. Verifier must check the "sts" signing name.
type Handler struct {
	Verifier *sigv4.Verifier
	// Sessions issues temporary credentials; nil: GetSessionToken and
	// AssumeRole answer NotImplemented.
	Sessions *sigv4.SessionKeys
	// MayAssume decides whether caller may assume a role in account; nil
	// allows the caller's own account only.
	MayAssume AssumePolicy
	// MaxRoleSessionDuration is every role's MaxSessionDuration; zero
	// means IAM's default, one hour.
	MaxRoleSessionDuration time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// AssumePolicy tells whether caller may assume roles in account (another
// account than the caller's: a role in one's own account is always
// allowed). guardpost has no IAM trust policies: the server decides by
// account, e.g. GuardDuty administrator of the account, or the
// organization's management account.
type AssumePolicy func(ctx context.Context, caller sigv4.Identity, account string) (bool, error)

// IsRequest tells whether r is meant for STS rather than GuardDuty: its
// SigV4 credential scope names the service "sts", or it is a query-protocol
// call on "/" (a form-encoded POST, or a GET with Action and
// Version=2011-06-15 in its query). GuardDuty's restJson1 API never sends
// either. Only the headers and URL are read, never the body.
func IsRequest(r *http.Request) bool {
	if scopeService(r.Header.Get("Authorization")) == "sts" {
		return true
	}
	if r.URL.Path != "/" {
		return false
	}
	if r.Method == http.MethodPost && isForm(r.Header.Get("Content-Type")) {
		return true
	}
	q := r.URL.Query()
	return q.Get("Action") != "" && q.Get("Version") == Version
}

// scopeService returns the service of a SigV4 Authorization header's
// credential scope ("Credential=AKID/date/region/service/aws4_request").
func scopeService(authz string) string {
	_, cred, ok := strings.Cut(authz, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

func isForm(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// Error is an STS error: Code is STS's error code, Type "Sender" or
// "Receiver", Status the HTTP status.
type Error struct {
	Status  int
	Type    string
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func sender(status int, code, msg string) *Error {
	return &Error{Status: status, Type: "Sender", Code: code, Message: msg}
}

// authCodes maps the verifier's error types (GuardDuty's restJson1 names)
// to the codes STS answers for the same failures.
var authCodes = map[string]string{
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"IncompleteSignatureException":        "IncompleteSignature",
	"UnrecognizedClientException":         "InvalidClientTokenId",
	"InvalidSignatureException":           "SignatureDoesNotMatch",
	"ExpiredTokenException":               "ExpiredToken",
}

// ServeHTTP answers one STS request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name(w, "sts:unknown")
	// Every check that needs no body first (a missing or malformed
	// signature, an unknown key, a stale date), as the GuardDuty edge does:
	// a client without credentials is refused on its header alone, before
	// the server reads (and holds) up to MaxBodyBytes of its body.
	if err := h.Verifier.Precheck(r); err != nil {
		// Closing the connection keeps net/http from reading the unread
		// body (up to 256 KiB) before it sends the refusal.
		w.Header().Set("Connection", "close")
		h.refuse(w, r, err)
		return
	}
	// net/http closes the connection after a body too large only when the
	// limit is set on its own writer, not a wrapper.
	limited := w
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		limited = u.Unwrap()
	}
	body, err := io.ReadAll(http.MaxBytesReader(limited, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.writeError(w, r, sender(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				"The request body is larger than "+strconv.Itoa(MaxBodyBytes)+" bytes."))
			return
		}
		h.writeError(w, r, sender(http.StatusBadRequest, "MalformedInput", "The request body could not be read: "+err.Error()))
		return
	}
	// Authenticate first, as STS does: an unsigned or badly signed request
	// learns nothing about actions.
	id, err := h.Verifier.Verify(r, body)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	account(w, id.AccountID)
	if x, ok := w.(interface{ SetIdentity(sigv4.Identity) }); ok {
		x.SetIdentity(id) // an audit record's userIdentity
	}

	params := r.URL.Query()
	if r.Method == http.MethodPost && isForm(r.Header.Get("Content-Type")) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			h.writeError(w, r, sender(http.StatusBadRequest, "MalformedInput", "The request body is not a valid form: "+err.Error()))
			return
		}
		for k, v := range form {
			params[k] = v
		}
	}
	action, version := params.Get("Action"), params.Get("Version")
	if action == "" {
		h.writeError(w, r, sender(http.StatusBadRequest, "MissingAction", "Missing Action"))
		return
	}
	if version == "" {
		version = "NO_VERSION_SPECIFIED"
	}
	if !actions[action] || version != Version {
		h.writeError(w, r, sender(http.StatusBadRequest, "InvalidAction",
			"Could not find operation "+action+" for version "+version))
		return
	}
	name(w, "sts:"+action)
	if x, ok := w.(interface{ SetRequestParameters(url.Values) }); ok {
		x.SetRequestParameters(params) // an audit record's requestParameters
	}
	switch action {
	case "GetCallerIdentity":
		h.getCallerIdentity(w, r, id)
	case "GetSessionToken", "AssumeRole":
		if h.Sessions == nil {
			h.writeError(w, r, &Error{Status: http.StatusNotImplemented, Type: "Receiver", Code: "NotImplemented",
				Message: "The STS action " + action + " is not enabled on this guardpost server (it has no session key)."})
			return
		}
		var resp any
		var err error
		if action == "GetSessionToken" {
			resp, err = h.getSessionToken(id, params, requestID(w))
		} else {
			resp, err = h.assumeRole(r.Context(), id, params, requestID(w))
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		writeXML(w, http.StatusOK, resp)
	default:
		h.writeError(w, r, &Error{Status: http.StatusNotImplemented, Type: "Receiver", Code: "NotImplemented",
			Message: "The STS action " + action + " is not implemented by guardpost yet; only GetCallerIdentity, GetSessionToken and AssumeRole are."})
	}
}

// Caller is the identity GetCallerIdentity reports for a credential.
//
// guardpost has no IAM: each profile of the credentials file stands for one
// IAM user named after the profile, in the profile's account. So the Arn is
// arn:<partition>:iam::<account>:user/<profile>, and the UserId is the
// unique id AWS gives an IAM user, "AIDA" and 17 base32 characters, derived
// from the account and profile name (stable across key rotations, the same
// on every node).
type Caller struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

// CallerOf returns the caller for a credential signing in region.
func CallerOf(c sigv4.Credential, region string) Caller {
	sum := sha256.Sum256([]byte(c.AccountID + "/" + c.Profile))
	uid := "AIDA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
	return Caller{
		UserID:  uid,
		Account: c.AccountID,
		Arn:     "arn:" + Partition(region) + ":iam::" + c.AccountID + ":user/" + c.Profile,
	}
}

// Partition returns the AWS partition a region belongs to.
func Partition(region string) string { return sigv4.Partition(region) }

func (h *Handler) getCallerIdentity(w http.ResponseWriter, r *http.Request, id sigv4.Identity) {
	var c Caller
	if s := id.Session; s != nil {
		c = Caller{UserID: s.UserID, Account: s.AccountID, Arn: s.Arn}
	} else {
		c = CallerOf(h.caller(id.AccessKeyID), id.Region)
	}
	// The element order is the one STS sends: Arn, UserId, Account.
	type result struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	resp := struct {
		XMLName   xml.Name `xml:"GetCallerIdentityResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Result    result   `xml:"GetCallerIdentityResult"`
		RequestID string   `xml:"ResponseMetadata>RequestId"`
	}{Xmlns: Namespace, Result: result{Arn: c.Arn, UserID: c.UserID, Account: c.Account}, RequestID: requestID(w)}
	writeXML(w, http.StatusOK, resp)
}

// writeError writes every STS error answer, in STS's XML error shape, and
// logs only errors that are not STS's own (their text never reaches the
// client).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		if h.Log != nil {
			h.Log.Error("internal error", "request_id", requestID(w), "method", r.Method, "path", r.URL.Path, "err", err)
		}
		e = &Error{Status: http.StatusInternalServerError, Type: "Receiver", Code: "InternalFailure",
			Message: "The request processing has failed because of an unknown error, exception or failure."}
	}
	type detail struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	resp := struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Error     detail   `xml:"Error"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: Namespace, Error: detail{e.Type, e.Code, e.Message}, RequestID: requestID(w)}
	writeXML(w, e.Status, resp)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	data, err := xml.Marshal(v)
	if err != nil { // only plain strings are encoded: cannot happen
		panic(err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}

// requestID is the response's X-Amzn-RequestId, set by the server for
// every answer (and made here when the handler runs on its own).
func requestID(w http.ResponseWriter) string {
	if id := w.Header().Get("X-Amzn-RequestId"); id != "" {
		return id
	}
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	id := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	w.Header().Set("X-Amzn-RequestId", id)
	return id
}

// name and account tell the server's request log and metrics the operation
// and caller, when the writer can hear it (httpapi's does).
// name, account and the SetIdentity and SetRequestParameters calls tell
// the writer, when it wants to know (the request log, the audit log), what
// the request turned out to be.
func name(w http.ResponseWriter, op string) {
	if x, ok := w.(interface{ SetOperation(string) }); ok {
		x.SetOperation(op)
	}
}

func account(w http.ResponseWriter, id string) {
	if x, ok := w.(interface{ SetAccount(string) }); ok {
		x.SetAccount(id)
	}
}

// refuse answers an authentication failure in STS's codes and statuses.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var au *sigv4.AuthError
	if !errors.As(err, &au) {
		h.writeError(w, r, err)
		return
	}
	code, msg, status := authCodes[au.Code], au.Message, http.StatusForbidden
	switch code {
	case "":
		code = au.Code
	case "IncompleteSignature":
		status = http.StatusBadRequest // STS's status for it, unlike restJson1's 403
	case "MissingAuthenticationToken":
		msg = "Request is missing Authentication Token" // STS's wording
	}
	h.writeError(w, r, sender(status, code, msg))
}

// caller returns the long-term credential of an access key (the zero
// Credential for a temporary key, whose caller comes from its session).
func (h *Handler) caller(accessKeyID string) sigv4.Credential {
	c, _ := h.Verifier.Credential(accessKeyID)
	return c
}
