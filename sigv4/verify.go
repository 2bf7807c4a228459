package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Identity is the caller of a verified request.
type Identity struct {
	AccessKeyID string
	AccountID   string
	// Region is the region named in the request's credential scope.
	Region string
	// Profile is the credentials-file profile of the long-term key (for
	// temporary credentials: of the key their chain started from).
	Profile string
	// Session is set when the request was signed with temporary
	// credentials issued by guardpost's STS.
	Session *Session
}

// AuthError is an authentication failure in AWS's terms: Code is the AWS
// error type (e.g. "InvalidSignatureException") and Message AWS's text. The
// HTTP layer answers it with 403.
type AuthError struct {
	Code    string
	Message string
}

func (e *AuthError) Error() string { return e.Message }

// AWS error types returned by Verify (GuardDuty's restJson1 names; the sts
// package maps them to STS's codes).
const (
	codeMissingToken       = "MissingAuthenticationTokenException"
	codeIncomplete         = "IncompleteSignatureException"
	codeUnrecognizedClient = "UnrecognizedClientException"
	codeInvalidSignature   = "InvalidSignatureException"
	codeExpiredToken       = "ExpiredTokenException"
)

const (
	algorithm    = "AWS4-HMAC-SHA256"
	amzDateFmt   = "20060102T150405Z"
	scopeDateFmt = "20060102"
	// maxSkew is how far a request's signing time may be from the server's
	// clock, either way. For every service but S3 it also bounds a
	// presigned URL's life, whatever its X-Amz-Expires says.
	maxSkew = 15 * time.Minute
	// maxExpires is the largest X-Amz-Expires SigV4 allows (seven days).
	maxExpires = 604800

	unsignedPayload = "UNSIGNED-PAYLOAD"

	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
)

// Query-string (presigned URL) authentication parameters.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qSecurityToken = "X-Amz-Security-Token"
)

// Verifier checks SigV4-signed requests against a set of credentials.
type Verifier struct {
	// Credentials are the accepted long-term keys, by access key id.
	Credentials map[string]Credential
	// Keys, when set, replaces Credentials with a set that may change
	// while the verifier runs (the credentials file reloaded).
	Keys *KeyRing
	// Sessions opens the session tokens of temporary credentials issued by
	// guardpost's STS; nil accepts none.
	Sessions *SessionKeys
	// Service is the signing name the credential scope must carry. Empty
	// means "guardduty" (rather than accepting any service).
	Service string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	signers signerCache
}

// signerCache keeps one SDK signer per credential (access key id and
// secret), region and service, so that the signing key derived from them
// (four HMACs) is derived once a day instead of once a request. The SDK's
// signer caches the derived key by access key id, region, service and day,
// not by secret: keyed by the secret too, a rotated secret gets a fresh
// signer and is never checked against the old secret's key. Regions are
// checked against the partition list before the signature is, and
// temporary keys come and go, so the cache is bounded (maxSigners) and
// starts over when full.
type signerCache struct {
	mu sync.Mutex
	m  map[signerKey]*v4.Signer
}

type signerKey struct{ accessKeyID, secret, region, service string }

const maxSigners = 256

func (c *signerCache) get(k signerKey) *v4.Signer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[k]; ok {
		return s
	}
	if c.m == nil || len(c.m) >= maxSigners {
		c.m = make(map[signerKey]*v4.Signer)
	}
	s := v4.NewSigner()
	c.m[k] = s
	return s
}

func authErr(code, msg string) *AuthError { return &AuthError{Code: code, Message: msg} }

// Verify authenticates r, whose complete body is body, and returns the
// caller. The error, if any, is an *AuthError.
//
// Both forms of SigV4 are accepted: the Authorization header and the query
// string of a presigned URL (X-Amz-Algorithm, X-Amz-Credential, ...). The
// signature itself is recomputed with the AWS SDK's signer. Known
// limitations of that signer, reported with a clear message: requests
// dated only by a Date header (the signer always signs x-amz-date) and
// requests that sign "content-length: 0" (the signer signs content-length
// only when positive). No AWS SDK or the AWS CLI produces either.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	return v.VerifySum(r, sha256.Sum256(body))
}

// VerifySum is Verify for a body whose SHA-256 the caller computed (as it
// read the body, in pieces).
func (v *Verifier) VerifySum(r *http.Request, bodySum [sha256.Size]byte) (Identity, error) {
	id, err := v.verify(r, &bodySum, false)
	if err != nil {
		return Identity{}, err // not a typed nil
	}
	return id, nil
}

// Precheck runs every check of Verify that does not need the body (the
// signature's syntax, the access key or session token, the date and the
// credential scope) and returns the error Verify would return for them, so
// that a server can refuse a request before it reads the body. Only Verify
// authenticates: Precheck's nil says nothing about the signature.
func (v *Verifier) Precheck(r *http.Request) error {
	if _, err := v.verify(r, nil, true); err != nil {
		return err
	}
	return nil
}

// authHeader is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." header
// (or the same parameters of a presigned URL).
type authHeader struct {
	accessKeyID, date, region, service, terminator string
	signedHeaders                                  string
	signature                                      string
}

// signature is what a request carries to authenticate itself, in either form.
type signature struct {
	ah        authHeader
	presigned bool
	query     url.Values // the parsed query (presigned form)
	// dateHeader names where the signing time came from: "x-amz-date"
	// (header or query parameter) or "date".
	dateHeader, rawDate string
	token               string
	tokenSent           bool
	expires             time.Duration // X-Amz-Expires of a presigned URL; 0: none
}

// isPresigned tells whether r authenticates with query parameters.
func isPresigned(q url.Values) bool {
	for _, k := range []string{qAlgorithm, qCredential, qSignature, qSignedHeaders} {
		if _, ok := q[k]; ok {
			return true
		}
	}
	return false
}

func (v *Verifier) verify(r *http.Request, bodySum *[sha256.Size]byte, headersOnly bool) (Identity, *AuthError) {
	sig, aerr := parseSignature(r)
	if aerr != nil {
		return Identity{}, aerr
	}
	ah := sig.ah

	var t time.Time
	if sig.dateHeader == "x-amz-date" {
		var err error
		t, err = time.Parse(amzDateFmt, sig.rawDate)
		if err != nil || t.Format(amzDateFmt) != sig.rawDate {
			return Identity{}, authErr(codeIncomplete,
				"Date must be in ISO-8601 'basic format'. Got '"+sig.rawDate+"'. See http://en.wikipedia.org/wiki/ISO_8601")
		}
	} else {
		var err error
		t, err = http.ParseTime(sig.rawDate)
		if err != nil {
			return Identity{}, authErr(codeIncomplete, "Date header must be an RFC 1123 date. Got '"+sig.rawDate+"'.")
		}
	}
	t = t.UTC()

	service := v.Service
	if service == "" {
		service = "guardduty"
	}
	if ah.service != service {
		return Identity{}, authErr(codeInvalidSignature, "Credential should be scoped to correct service: '"+service+"'. ")
	}
	if !KnownRegion(ah.region) {
		return Identity{}, authErr(codeInvalidSignature, "Credential should be scoped to a valid region, not '"+ah.region+"'. ")
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC()

	secret, id, aerr := v.credential(ah.accessKeyID, sig.token, sig.tokenSent, n)
	if aerr != nil {
		return Identity{}, aerr
	}

	if want := t.Format(scopeDateFmt); ah.date != want {
		return Identity{}, authErr(codeInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
				ah.date+"' != '"+want+"', from '"+sig.rawDate+"'.")
	}

	// A presigned URL lives at most maxSkew (AWS ignores a longer
	// X-Amz-Expires for every service but S3); a shorter X-Amz-Expires is
	// honoured, since the signer asked for it.
	window, unit := maxSkew, "15 min."
	if sig.expires > 0 && sig.expires < window {
		window, unit = sig.expires, strconv.Itoa(int(sig.expires/time.Second))+" sec."
	}
	if t.Before(n.Add(-window)) {
		return Identity{}, authErr(codeInvalidSignature, "Signature expired: "+t.Format(amzDateFmt)+
			" is now earlier than "+n.Add(-window).Format(amzDateFmt)+" ("+n.Format(amzDateFmt)+" - "+unit+")")
	}
	if t.After(n.Add(maxSkew)) {
		return Identity{}, authErr(codeInvalidSignature, "Signature not yet current: "+t.Format(amzDateFmt)+
			" is still later than "+n.Add(maxSkew).Format(amzDateFmt)+" ("+n.Format(amzDateFmt)+" + 15 min.)")
	}

	// Every service but S3 signs the payload's real hash: a client that
	// signed UNSIGNED-PAYLOAD (or any other claimed hash) computed another
	// signature than the one the server computes.
	if headersOnly {
		return Identity{}, nil
	}
	payloadHash := hex.EncodeToString(bodySum[:])
	if h := r.Header.Values("X-Amz-Content-Sha256"); len(h) > 0 && (len(h) > 1 || h[0] != payloadHash) {
		if len(h) == 1 && h[0] == unsignedPayload {
			return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch)
		}
		return Identity{}, authErr(codeInvalidSignature,
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}

	signed := strings.Split(ah.signedHeaders, ";")
	if !slices.Contains(signed, "host") {
		return Identity{}, authErr(codeInvalidSignature,
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !sig.presigned && !slices.Contains(signed, "x-amz-date") {
		if sig.dateHeader == "date" {
			return Identity{}, authErr(codeInvalidSignature,
				"Requests dated by the 'Date' header are not supported; sign with 'X-Amz-Date' (as all AWS SDKs and the AWS CLI do).")
		}
		return Identity{}, authErr(codeInvalidSignature,
			"'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}

	req, aerr := rebuildRequest(r, signed, sig)
	if aerr != nil {
		return Identity{}, aerr
	}
	signer := v.signers.get(signerKey{ah.accessKeyID, secret, ah.region, ah.service})
	// The session token is never handed to the signer: it is in the
	// rebuilt request exactly where the client put it (a signed header, or
	// the query), or unsigned.
	creds := aws.Credentials{AccessKeyID: ah.accessKeyID, SecretAccessKey: secret}
	var ours authHeader
	if sig.presigned {
		uri, _, err := signer.PresignHTTP(context.Background(), creds, req, payloadHash, ah.service, ah.region, t,
			func(o *v4.SignerOptions) { o.DisableHeaderHoisting = true })
		if err != nil {
			return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch)
		}
		_, rawQuery, _ := strings.Cut(uri, "?")
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch)
		}
		ours = authHeader{signedHeaders: q.Get(qSignedHeaders), signature: q.Get(qSignature)}
	} else {
		if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, ah.service, ah.region, t); err != nil {
			return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch)
		}
		var perr *AuthError
		ours, perr = parseAuthorization(req.Header.Get("Authorization"), true)
		if perr != nil {
			return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch)
		}
	}
	if ours.signedHeaders != ah.signedHeaders {
		// The client's list is not in canonical form (lowercase, sorted,
		// unique), or it names a header the signer cannot reproduce.
		return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch+
			" SignedHeaders must be lowercase, sorted and without duplicates: expected '"+ours.signedHeaders+
			"', got '"+ah.signedHeaders+"'.")
	}
	if subtle.ConstantTimeCompare([]byte(ours.signature), []byte(ah.signature)) != 1 {
		return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch)
	}
	id.Region = ah.region
	return id, nil
}

// credential finds the secret of an access key and who it stands for. A
// long-term key must come without a session token, unless its profile
// declares one, which must then match; any other key must come with a
// session token that guardpost's STS issued for it and that has not
// expired. Every refusal but expiry reads the same, so that a caller learns
// nothing about keys that are not theirs.
func (v *Verifier) credential(accessKeyID, token string, tokenSent bool, now time.Time) (string, Identity, *AuthError) {
	invalid := authErr(codeUnrecognizedClient, msgInvalidToken)
	if cred, ok := v.Credential(accessKeyID); ok {
		if cred.SessionToken == "" && tokenSent ||
			cred.SessionToken != "" && (!tokenSent || subtle.ConstantTimeCompare([]byte(token), []byte(cred.SessionToken)) != 1) {
			return "", Identity{}, invalid
		}
		return cred.SecretAccessKey, Identity{AccessKeyID: cred.AccessKeyID, AccountID: cred.AccountID, Profile: cred.Profile}, nil
	}
	if !tokenSent || v.Sessions == nil {
		return "", Identity{}, invalid
	}
	s, err := v.Sessions.Open(token)
	if err != nil || subtle.ConstantTimeCompare([]byte(s.AccessKeyID), []byte(accessKeyID)) != 1 {
		return "", Identity{}, invalid
	}
	if !now.Before(s.Expiration) {
		return "", Identity{}, authErr(codeExpiredToken, msgExpiredToken)
	}
	secret := s.SecretAccessKey
	s.SecretAccessKey = "" // the secret never leaves the verifier
	return secret, Identity{AccessKeyID: s.AccessKeyID, AccountID: s.AccountID, Profile: s.Profile, Session: &s}, nil
}

// parseSignature reads the request's SigV4 parameters from its
// Authorization header or, for a presigned URL, its query string.
func parseSignature(r *http.Request) (signature, *AuthError) {
	authValues := r.Header.Values("Authorization")
	// Parse the query only when it may hold SigV4 parameters (their names
	// are case-sensitive): most requests are signed in the header.
	if !strings.Contains(r.URL.RawQuery, "X-Amz-") {
		return parseHeaderSignature(r, authValues)
	}
	if q := r.URL.Query(); isPresigned(q) {
		if len(authValues) > 0 {
			return signature{}, authErr(codeIncomplete, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter "+
				"or the Authorization header should be specified")
		}
		return parsePresigned(q)
	}
	return parseHeaderSignature(r, authValues)
}

// parseHeaderSignature reads the SigV4 parameters of the Authorization header.
func parseHeaderSignature(r *http.Request, authValues []string) (signature, *AuthError) {
	if len(authValues) == 0 || strings.TrimSpace(authValues[0]) == "" {
		return signature{}, authErr(codeMissingToken, "Missing Authentication Token")
	}
	if len(authValues) > 1 {
		return signature{}, authErr(codeIncomplete, "Only one Authorization header is allowed.")
	}
	authz := strings.TrimSpace(authValues[0])

	// The signing time: X-Amz-Date wins over Date, as for AWS. Repeated,
	// the values read as one comma-joined value, which is no date.
	sig := signature{dateHeader: "x-amz-date", rawDate: strings.Join(r.Header.Values("X-Amz-Date"), ",")}
	if sig.rawDate == "" {
		sig.dateHeader, sig.rawDate = "date", strings.Join(r.Header.Values("Date"), ",")
	}
	if tokens := r.Header.Values("X-Amz-Security-Token"); len(tokens) > 0 {
		sig.token, sig.tokenSent = strings.Join(tokens, ","), true
	}
	var aerr *AuthError
	sig.ah, aerr = parseAuthorization(authz, sig.rawDate != "")
	return sig, aerr
}

// parsePresigned reads the query parameters of a presigned URL. Like AWS,
// it reports every missing parameter at once.
func parsePresigned(q url.Values) (signature, *AuthError) {
	var missing []string
	for _, k := range []string{qAlgorithm, qCredential, qSignature, qSignedHeaders, qDate} {
		if q.Get(k) == "" {
			missing = append(missing, "AWS query-string parameters must include '"+k+"'.")
		}
	}
	if len(missing) > 0 {
		return signature{}, authErr(codeIncomplete, strings.Join(missing, " ")+" Re-examine the query-string parameters.")
	}
	for _, k := range []string{qAlgorithm, qCredential, qSignature, qSignedHeaders, qExpires, qSecurityToken} {
		if len(q[k]) > 1 {
			return signature{}, authErr(codeIncomplete, "AWS query-string parameter '"+k+"' must appear only once. "+
				"Re-examine the query-string parameters.")
		}
	}
	if alg := q.Get(qAlgorithm); alg != algorithm {
		return signature{}, authErr(codeIncomplete, "Unsupported AWS 'algorithm': '"+alg+"'. Only '"+algorithm+"' is supported.")
	}
	sig := signature{presigned: true, query: q, dateHeader: "x-amz-date", rawDate: strings.Join(q[qDate], ",")}
	if v, ok := q[qSecurityToken]; ok {
		sig.token, sig.tokenSent = v[0], true
	}
	if v, ok := q[qExpires]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 {
			return signature{}, authErr(codeIncomplete, "X-Amz-Expires must be a positive number of seconds, not '"+v[0]+"'.")
		}
		if n > maxExpires {
			return signature{}, authErr(codeIncomplete, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		sig.expires = time.Duration(n) * time.Second
	}
	ah, aerr := parseCredential(q.Get(qCredential))
	if aerr != nil {
		return signature{}, aerr
	}
	ah.signedHeaders, ah.signature = q.Get(qSignedHeaders), q.Get(qSignature)
	sig.ah = ah
	return sig, nil
}

// rebuildRequest makes the request the SDK signer must sign to reproduce the
// client's signature: same method, escaped path and query as received, and
// exactly the headers the client signed.
func rebuildRequest(r *http.Request, signed []string, sig signature) (*http.Request, *AuthError) {
	// The path exactly as it came over the wire: the client's canonical URI
	// was computed from its escaped form, which r.URL may not preserve (and
	// routing middleware may have rewritten it).
	rawPath, rawQuery := r.URL.EscapedPath(), r.URL.RawQuery
	if strings.HasPrefix(r.RequestURI, "/") {
		rawPath, rawQuery, _ = strings.Cut(r.RequestURI, "?")
	}
	if sig.presigned {
		// The signature is the one parameter not signed; the signer
		// encodes the others canonically again.
		q := make(url.Values, len(sig.query))
		for k, v := range sig.query {
			if k != qSignature {
				q[k] = v
			}
		}
		rawQuery = q.Encode()
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}

	req := &http.Request{
		Method: r.Method,
		// The signer takes a pre-escaped path from Opaque ("//host/path");
		// the placeholder host is ignored by it. The scheme stays empty so
		// the signer does not strip a ":443" or ":80" the client signed.
		URL:    &url.URL{Opaque: "//guardpost" + rawPath, Host: host, RawQuery: rawQuery},
		Host:   host,
		Header: make(http.Header, len(signed)),
	}
	for _, name := range signed {
		switch name {
		case "host":
			// Taken from req.Host by the signer.
		case "x-amz-date":
			// In the header form, always set by the signer from the
			// signing time, which was parsed strictly from this header, so
			// the value is identical. Copying it too would sign it twice
			// ("v,v"). A presigned URL dates itself in the query instead.
			if sig.presigned {
				req.Header[name] = append([]string(nil), r.Header.Values(name)...)
			}
		case "content-length":
			// The signer signs content-length from req.ContentLength, and
			// only when positive; it skips any Content-Length header.
			v := r.Header.Get("Content-Length")
			if v == "" && r.ContentLength > 0 {
				v = strconv.FormatInt(r.ContentLength, 10)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return nil, authErr(codeInvalidSignature,
					"A signed 'content-length' header must be a positive number (guardpost cannot verify signatures over 'content-length: "+v+"').")
			}
			req.ContentLength = n
		default:
			values := r.Header.Values(name)
			if name == "transfer-encoding" && len(values) == 0 {
				values = r.TransferEncoding // net/http moves it out of Header
			}
			// The signer skips User-Agent, Expect, Transfer-Encoding,
			// X-Amzn-Trace-Id and Authorization, matching the header
			// map's canonical keys case-sensitively. Lowercase keys slip
			// past that list, so whatever the client signed is signed
			// again (the signer lowercases names anyway).
			req.Header[name] = append([]string(nil), values...)
		}
	}
	return req, nil
}

// parseAuthorization parses a SigV4 Authorization header and checks the
// credential scope's syntax. Like AWS, it reports every missing part at once.
func parseAuthorization(authz string, haveDate bool) (authHeader, *AuthError) {
	alg, rest, _ := strings.Cut(authz, " ")
	if alg != algorithm && strings.HasPrefix(alg, "AWS") && strings.Contains(rest, "=") {
		return authHeader{}, authErr(codeIncomplete, "Unsupported AWS 'algorithm': '"+alg+
			"'. Only '"+algorithm+"' is supported. Authorization="+authz)
	}
	params := map[string]string{}
	if alg == algorithm {
		for _, p := range strings.Split(rest, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok {
				continue
			}
			if _, dup := params[k]; dup {
				return authHeader{}, authErr(codeIncomplete,
					"Authorization header has a duplicate '"+k+"' parameter. Authorization="+authz)
			}
			params[k] = strings.TrimSpace(val)
		}
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	if !haveDate {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return authHeader{}, authErr(codeIncomplete, strings.Join(missing, " ")+" Authorization="+authz)
	}

	ah, aerr := parseCredential(params["Credential"])
	if aerr != nil {
		return authHeader{}, aerr
	}
	ah.signedHeaders, ah.signature = params["SignedHeaders"], params["Signature"]
	return ah, nil
}

// parseCredential parses and checks the syntax of a credential
// ("keyid/date/region/service/aws4_request").
func parseCredential(cred string) (authHeader, *AuthError) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return authHeader{}, authErr(codeIncomplete,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+cred+"'")
	}
	ah := authHeader{accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3], terminator: parts[4]}
	if _, err := time.Parse(scopeDateFmt, ah.date); err != nil || len(ah.date) != 8 {
		return authHeader{}, authErr(codeIncomplete,
			"Credential should be scoped to a valid date in YYYYMMDD format, not '"+ah.date+"'. ")
	}
	if !validRegion(ah.region) {
		return authHeader{}, authErr(codeIncomplete, "Credential should be scoped to a valid region, not '"+ah.region+"'. ")
	}
	if ah.terminator != "aws4_request" {
		return authHeader{}, authErr(codeIncomplete,
			"Credential should be scoped with a valid terminator: 'aws4_request', not '"+ah.terminator+"'. ")
	}
	return ah, nil
}

// validRegion accepts any syntactically plausible region: lowercase letters,
// digits and dashes.
func validRegion(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
