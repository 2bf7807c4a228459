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
}

// AuthError is an authentication failure in AWS's terms: Code is the AWS
// error type (e.g. "InvalidSignatureException") and Message AWS's text. The
// HTTP layer answers it with 403.
type AuthError struct {
	Code    string
	Message string
}

func (e *AuthError) Error() string { return e.Message }

// AWS error types returned by Verify.
const (
	codeMissingToken       = "MissingAuthenticationTokenException"
	codeIncomplete         = "IncompleteSignatureException"
	codeUnrecognizedClient = "UnrecognizedClientException"
	codeInvalidSignature   = "InvalidSignatureException"
)

const (
	algorithm    = "AWS4-HMAC-SHA256"
	amzDateFmt   = "20060102T150405Z"
	scopeDateFmt = "20060102"
	maxSkew      = 5 * time.Minute

	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Verifier checks SigV4-signed requests against a set of credentials.
type Verifier struct {
	// Credentials are the accepted keys, by access key id.
	Credentials map[string]Credential
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
// signer and is never checked against the old secret's key. The region is
// the client's choice and checked only for its syntax before the signature
// is, so the cache is bounded (maxSigners) and starts over when full.
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
// Only the Authorization header form is supported (no presigned query
// strings). The signature itself is recomputed with the AWS SDK's signer.
// Known limitations of that signer, reported with a clear message: requests
// dated only by a Date header (the signer always signs x-amz-date) and
// requests that sign "content-length: 0" (the signer signs content-length
// only when positive). No AWS SDK or the AWS CLI produces either.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	id, err := v.verify(r, body)
	if err != nil {
		return Identity{}, err // not a typed nil
	}
	return id, nil
}

// authHeader is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." header.
type authHeader struct {
	accessKeyID, date, region, service, terminator string
	signedHeaders                                  string
	signature                                      string
}

func (v *Verifier) verify(r *http.Request, body []byte) (Identity, *AuthError) {
	authValues := r.Header.Values("Authorization")
	if len(authValues) == 0 || strings.TrimSpace(authValues[0]) == "" {
		return Identity{}, authErr(codeMissingToken, "Missing Authentication Token")
	}
	if len(authValues) > 1 {
		return Identity{}, authErr(codeIncomplete, "Only one Authorization header is allowed.")
	}
	authz := strings.TrimSpace(authValues[0])

	// The signing time: X-Amz-Date wins over Date, as for AWS.
	dateHeader := "x-amz-date"
	rawDate := r.Header.Get("X-Amz-Date")
	if rawDate == "" {
		dateHeader, rawDate = "date", r.Header.Get("Date")
	}

	ah, aerr := parseAuthorization(authz, rawDate != "")
	if aerr != nil {
		return Identity{}, aerr
	}

	var t time.Time
	if dateHeader == "x-amz-date" {
		var err error
		t, err = time.Parse(amzDateFmt, rawDate)
		if err != nil || t.Format(amzDateFmt) != rawDate {
			return Identity{}, authErr(codeIncomplete,
				"Date must be in ISO-8601 'basic format'. Got '"+rawDate+"'. See http://en.wikipedia.org/wiki/ISO_8601")
		}
	} else {
		var err error
		t, err = http.ParseTime(rawDate)
		if err != nil {
			return Identity{}, authErr(codeIncomplete, "Date header must be an RFC 1123 date. Got '"+rawDate+"'.")
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

	cred, ok := v.Credentials[ah.accessKeyID]
	if !ok {
		return Identity{}, authErr(codeUnrecognizedClient, "The security token included in the request is invalid.")
	}

	if want := t.Format(scopeDateFmt); ah.date != want {
		return Identity{}, authErr(codeInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
				ah.date+"' != '"+want+"', from '"+rawDate+"'.")
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC()
	if t.Before(n.Add(-maxSkew)) {
		return Identity{}, authErr(codeInvalidSignature, "Signature expired: "+t.Format(amzDateFmt)+
			" is now earlier than "+n.Add(-maxSkew).Format(amzDateFmt)+" ("+n.Format(amzDateFmt)+" - 5 min.)")
	}
	if t.After(n.Add(maxSkew)) {
		return Identity{}, authErr(codeInvalidSignature, "Signature not yet current: "+t.Format(amzDateFmt)+
			" is still later than "+n.Add(maxSkew).Format(amzDateFmt)+" ("+n.Format(amzDateFmt)+" + 5 min.)")
	}

	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Values("X-Amz-Content-Sha256"); len(h) > 0 && (len(h) > 1 || h[0] != payloadHash) {
		return Identity{}, authErr(codeInvalidSignature,
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}

	signed := strings.Split(ah.signedHeaders, ";")
	if !slices.Contains(signed, "host") {
		return Identity{}, authErr(codeInvalidSignature,
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !slices.Contains(signed, "x-amz-date") {
		if dateHeader == "date" {
			return Identity{}, authErr(codeInvalidSignature,
				"Requests dated by the 'Date' header are not supported; sign with 'X-Amz-Date' (as all AWS SDKs and the AWS CLI do).")
		}
		return Identity{}, authErr(codeInvalidSignature,
			"'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}

	req, aerr := rebuildRequest(r, signed)
	if aerr != nil {
		return Identity{}, aerr
	}
	signer := v.signers.get(signerKey{cred.AccessKeyID, cred.SecretAccessKey, ah.region, ah.service})
	if err := signer.SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey},
		req, payloadHash, ah.service, ah.region, t); err != nil {
		return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch)
	}
	ours, perr := parseAuthorization(req.Header.Get("Authorization"), true)
	if perr != nil {
		return Identity{}, authErr(codeInvalidSignature, msgSignatureMismatch)
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
	return Identity{AccessKeyID: cred.AccessKeyID, AccountID: cred.AccountID, Region: ah.region}, nil
}

// rebuildRequest makes the request the SDK signer must sign to reproduce the
// client's signature: same method, escaped path and query as received, and
// exactly the headers the client signed.
func rebuildRequest(r *http.Request, signed []string) (*http.Request, *AuthError) {
	// The path exactly as it came over the wire: the client's canonical URI
	// was computed from its escaped form, which r.URL may not preserve (and
	// routing middleware may have rewritten it).
	rawPath, rawQuery := r.URL.EscapedPath(), r.URL.RawQuery
	if strings.HasPrefix(r.RequestURI, "/") {
		rawPath, rawQuery, _ = strings.Cut(r.RequestURI, "?")
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
			// Always set by the signer from the signing time, which was
			// parsed strictly from this header, so the value is identical.
			// Copying it too would sign it twice ("v,v").
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

	cred := params["Credential"]
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return authHeader{}, authErr(codeIncomplete,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+cred+"'")
	}
	ah := authHeader{
		accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3], terminator: parts[4],
		signedHeaders: params["SignedHeaders"],
		signature:     params["Signature"],
	}
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
