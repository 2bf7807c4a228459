package sts

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/guardpost/guardpost/sigv4"
)

// Session durations, as STS bounds them.
const (
	minDuration             = 900
	maxAssumeRoleDuration   = 43200
	maxSessionTokenDuration = 129600
	// defaultSessionTokenDuration is GetSessionToken's default (12 hours);
	// AssumeRole's is one hour.
	defaultSessionTokenDuration = 43200
	defaultAssumeRoleDuration   = 3600
	// roleChainingLimit caps a session assumed with a role session's
	// credentials.
	roleChainingLimit = 3600
	// expirationFormat is how STS writes an expiry.
	expirationFormat = "2006-01-02T15:04:05Z"
)

// credentialsXML is the Credentials element of STS's answers.
type credentialsXML struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

func credentialsOf(s sigv4.Session, token string) credentialsXML {
	return credentialsXML{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: token,
		Expiration: s.Expiration.UTC().Format(expirationFormat)}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// validation collects the constraint failures of one request and reports
// them the way STS does: "N validation error(s) detected: ...; ...".
type validation []string

func (v *validation) add(format string, args ...any) { *v = append(*v, fmt.Sprintf(format, args...)) }

func (v validation) err() error {
	if len(v) == 0 {
		return nil
	}
	noun := "errors"
	if len(v) == 1 {
		noun = "error"
	}
	return validationError(fmt.Sprintf("%d validation %s detected: %s", len(v), noun, strings.Join(v, "; ")))
}

func validationError(msg string) *Error { return sender(http.StatusBadRequest, "ValidationError", msg) }

// str checks an optional string member: its length and its characters
// (allowed, when not nil, tells whether one rune may appear; pattern names
// the model's pattern for the message).
func (v *validation) str(params url.Values, name, member string, min, max int, pattern string, allowed func(rune) bool) string {
	value, ok := params[name]
	if !ok {
		return ""
	}
	s := value[0]
	n := len([]rune(s))
	switch {
	case n < min:
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", s, member, min)
	case n > max:
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", s, member, max)
	case allowed != nil && strings.IndexFunc(s, func(r rune) bool { return !allowed(r) }) >= 0:
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", s, member, pattern)
	}
	return s
}

// duration checks DurationSeconds and returns it, or def when absent.
func (v *validation) duration(params url.Values, def, max int) int {
	value, ok := params["DurationSeconds"]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(value[0])
	switch {
	case err != nil:
		v.add("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be an integer", value[0])
	case n < minDuration:
		v.add("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", n, minDuration)
	case n > max:
		v.add("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", n, max)
	}
	return n
}

func isWord(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}

// Character classes of the STS model's patterns.
var (
	sessionNameChars = func(r rune) bool { return isWord(r) || strings.ContainsRune("+=,.@-", r) } // [\w+=,.@-]*
	externalIDChars  = func(r rune) bool { return isWord(r) || strings.ContainsRune("+=,.@:/-", r) }
	serialChars      = func(r rune) bool { return isWord(r) || strings.ContainsRune("+=/:,.@-", r) }
	digits           = func(r rune) bool { return r >= '0' && r <= '9' }
)

// mfa checks the optional MFA members both actions share. guardpost has no
// MFA devices: the code is checked for its shape only.
func (v *validation) mfa(params url.Values) {
	v.str(params, "SerialNumber", "serialNumber", 9, 256, `[\w+=/:,.@-]*`, serialChars)
	v.str(params, "TokenCode", "tokenCode", 6, 6, `[\d]*`, digits)
}

type getSessionTokenResponse struct {
	XMLName   xml.Name       `xml:"GetSessionTokenResponse"`
	Xmlns     string         `xml:"xmlns,attr"`
	Creds     credentialsXML `xml:"GetSessionTokenResult>Credentials"`
	RequestID string         `xml:"ResponseMetadata>RequestId"`
}

// getSessionToken issues temporary credentials for the caller's own
// identity (GetCallerIdentity then reports the same user).
func (h *Handler) getSessionToken(id sigv4.Identity, params url.Values, reqID string) (any, error) {
	var v validation
	seconds := v.duration(params, defaultSessionTokenDuration, maxSessionTokenDuration)
	v.mfa(params)
	if err := v.err(); err != nil {
		return nil, err
	}
	if id.Session != nil {
		return nil, sender(http.StatusForbidden, "AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	c := CallerOf(h.caller(id.AccessKeyID), id.Region)
	now := h.now()
	s, token := h.Sessions.Issue(sigv4.Session{AccountID: id.AccountID, Arn: c.Arn, UserID: c.UserID,
		Created: now, Expiration: now.Add(time.Duration(seconds) * time.Second), Profile: id.Profile, SourceAccount: id.AccountID})
	return getSessionTokenResponse{Xmlns: Namespace, Creds: credentialsOf(s, token), RequestID: reqID}, nil
}

type assumedRoleUserXML struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type assumeRoleResponse struct {
	XMLName        xml.Name           `xml:"AssumeRoleResponse"`
	Xmlns          string             `xml:"xmlns,attr"`
	SourceIdentity string             `xml:"AssumeRoleResult>SourceIdentity,omitempty"`
	User           assumedRoleUserXML `xml:"AssumeRoleResult>AssumedRoleUser"`
	Creds          credentialsXML     `xml:"AssumeRoleResult>Credentials"`
	// PackedPolicySize is sent only when session tags were passed.
	PackedPolicySize *int   `xml:"AssumeRoleResult>PackedPolicySize,omitempty"`
	RequestID        string `xml:"ResponseMetadata>RequestId"`
}

// role is a parsed role ARN: arn:<partition>:iam::<account>:role/<path><name>.
type role struct {
	arn, partition, account, path, name string
}

func parseRoleArn(arn string) (role, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" {
		return role{}, false
	}
	r := role{arn: arn, partition: parts[1], account: parts[4]}
	if !sigv4.KnownPartition(r.partition) || !validAccountID(r.account) {
		return role{}, false
	}
	rest, ok := strings.CutPrefix(parts[5], "role/")
	if !ok {
		return role{}, false
	}
	i := strings.LastIndexByte(rest, '/')
	r.path, r.name = "/"+rest[:i+1], rest[i+1:]
	if r.path == "//" {
		r.path = "/"
	}
	nameChars := func(c rune) bool { return isWord(c) || strings.ContainsRune("+=,.@-", c) }
	if r.name == "" || len(r.name) > 64 || strings.IndexFunc(r.name, func(c rune) bool { return !nameChars(c) }) >= 0 ||
		strings.Contains(r.path, "//") || strings.IndexFunc(r.path, func(c rune) bool { return c < '!' || c > '~' }) >= 0 {
		return role{}, false
	}
	return r, true
}

func validAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !digits(r) }) < 0
}

// roleID is the unique id AWS gives a role ("AROA" and 17 base32
// characters), derived here from the role's account, path and name so
// that it is the same on every node.
func roleID(r role) string {
	sum := sha256.Sum256([]byte("role/" + r.account + r.path + r.name))
	return "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// assumeRole issues temporary credentials for a role session in the role's
// account, when the caller may act there.
func (h *Handler) assumeRole(ctx context.Context, id sigv4.Identity, params url.Values, reqID string) (any, error) {
	var v validation
	roleArn, ok := params["RoleArn"]
	switch {
	case !ok:
		v.add("Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	default:
		v.str(params, "RoleArn", "roleArn", 20, 2048, "", nil)
	}
	if _, ok := params["RoleSessionName"]; !ok {
		v.add("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	sessionName := v.str(params, "RoleSessionName", "roleSessionName", 2, 64, `[\w+=,.@-]*`, sessionNameChars)
	seconds := v.duration(params, defaultAssumeRoleDuration, maxAssumeRoleDuration)
	v.str(params, "ExternalId", "externalId", 2, 1224, `[\w+=,.@:\/-]*`, externalIDChars)
	sourceIdentity := v.str(params, "SourceIdentity", "sourceIdentity", 2, 64, `[\w+=,.@-]*`, sessionNameChars)
	v.mfa(params)
	tagBytes := v.tags(params)
	if err := v.err(); err != nil {
		return nil, err
	}
	if params.Get("Policy") != "" || countMembers(params, "PolicyArns.member.", ".arn") > 0 {
		// Accepting a session policy and ignoring it would grant the
		// session more than its caller asked for.
		return nil, validationError("guardpost does not evaluate IAM policies, so it cannot narrow a session with a session policy: " +
			"call AssumeRole without Policy and PolicyArns.")
	}
	r, ok := parseRoleArn(roleArn[0])
	if !ok {
		return nil, validationError("Request ARN is invalid")
	}

	caller := callerArn(h, id)
	denied := sender(http.StatusForbidden, "AccessDenied",
		"User: "+caller+" is not authorized to perform: sts:AssumeRole on resource: "+r.arn)
	if r.partition != sigv4.Partition(id.Region) {
		return nil, denied
	}
	if r.account != id.AccountID {
		if h.MayAssume == nil {
			return nil, denied
		}
		allowed, err := h.MayAssume(ctx, id, r.account)
		if err != nil {
			return nil, err
		}
		if !allowed {
			return nil, denied
		}
	}

	chained := id.Session != nil && id.Session.AssumedRole
	if chained && seconds > roleChainingLimit {
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	max := h.MaxRoleSessionDuration
	if max <= 0 {
		max = time.Hour
	}
	if time.Duration(seconds)*time.Second > max {
		return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	roleSessionID := roleID(r) + ":" + sessionName
	arn := "arn:" + r.partition + ":sts::" + r.account + ":assumed-role/" + r.name + "/" + sessionName
	source := sigv4.Session{Profile: id.Profile, SourceAccount: id.AccountID}
	if id.Session != nil {
		source.Profile, source.SourceAccount = id.Session.Profile, id.Session.SourceAccount
	}
	now := h.now()
	s, token := h.Sessions.Issue(sigv4.Session{AccountID: r.account, Arn: arn, UserID: roleSessionID, AssumedRole: true,
		RoleArn: r.arn, RoleID: roleID(r), SourceIdentity: sourceIdentity, Created: now, Expiration: now.Add(time.Duration(seconds) * time.Second),
		Profile: source.Profile, SourceAccount: source.SourceAccount})
	resp := assumeRoleResponse{Xmlns: Namespace, SourceIdentity: sourceIdentity,
		User:  assumedRoleUserXML{Arn: arn, AssumedRoleID: roleSessionID},
		Creds: credentialsOf(s, token), RequestID: reqID}
	if tagBytes > 0 {
		// STS reports how much of the packed space session tags take; its
		// packing is its own, so this is the tags' bytes against the
		// plain-text limit (2,048 characters), rounded up.
		size := (tagBytes*100 + packedLimit - 1) / packedLimit
		resp.PackedPolicySize = &size
	}
	return resp, nil
}

// callerArn is the caller's ARN as STS names it in AccessDenied messages.
func callerArn(h *Handler, id sigv4.Identity) string {
	if id.Session != nil {
		return id.Session.Arn
	}
	return CallerOf(h.caller(id.AccessKeyID), id.Region).Arn
}

// packedLimit is the plain-text size session policies and tags may take.
const packedLimit = 2048

// maxTags is how many session tags one AssumeRole may pass.
const maxTags = 50

// tags checks the session tags (Tags.member.N.Key / .Value) and returns
// their size in bytes (keys and values).
func (v *validation) tags(params url.Values) int {
	n := countMembers(params, "Tags.member.", ".Key")
	if n > maxTags {
		v.add("Value '[...]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxTags)
		return 0
	}
	size := 0
	for i := 1; i <= n; i++ {
		prefix := "Tags.member." + strconv.Itoa(i)
		key := v.str(params, prefix+".Key", "tags."+strconv.Itoa(i)+".member.key", 1, 128, "", nil)
		value := v.str(params, prefix+".Value", "tags."+strconv.Itoa(i)+".member.value", 0, 256, "", nil)
		if _, ok := params[prefix+".Key"]; !ok {
			v.add("Value null at 'tags.%d.member.key' failed to satisfy constraint: Member must not be null", i)
		}
		if _, ok := params[prefix+".Value"]; !ok {
			v.add("Value null at 'tags.%d.member.value' failed to satisfy constraint: Member must not be null", i)
		}
		size += len(key) + len(value)
	}
	return size
}

// countMembers counts a query-protocol list's members (prefix N suffix).
func countMembers(params url.Values, prefix, suffix string) int {
	n := 0
	for k := range params {
		if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, suffix) {
			n++
		}
	}
	return n
}
