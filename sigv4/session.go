package sigv4

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// Session is a set of temporary credentials issued by guardpost's STS
// (GetSessionToken, AssumeRole): who they act as, and until when.
type Session struct {
	AccessKeyID     string    `json:"k"`
	SecretAccessKey string    `json:"s"`
	AccountID       string    `json:"a"`            // the account the credentials act in
	Arn             string    `json:"r"`            // the principal's ARN, as GetCallerIdentity reports it
	UserID          string    `json:"u"`            // the principal's id, as GetCallerIdentity reports it
	AssumedRole     bool      `json:"ar,omitempty"` // from AssumeRole (a role session), else GetSessionToken
	RoleArn         string    `json:"ra,omitempty"` // the assumed role (AssumeRole)
	RoleID          string    `json:"ri,omitempty"` // the role's unique id, AROA… (AssumeRole)
	Created         time.Time `json:"c"`
	SourceIdentity  string    `json:"si,omitempty"`
	Expiration      time.Time `json:"e"`
	// Profile and SourceAccount name the long-term key the chain of
	// sessions started from (for logs and audit).
	Profile       string `json:"p,omitempty"`
	SourceAccount string `json:"sa,omitempty"`
}

// SessionKeys issues and opens session tokens. A session token is the
// Session itself, encrypted and authenticated (AES-256-GCM) with a server
// key: any node holding the key accepts the credentials until they expire,
// across restarts, with no table to share. A token cannot be read, forged
// or edited by a client, and it is bound to its access key id.
type SessionKeys struct {
	aead cipher.AEAD
}

// sessionKeyLabel separates this use of the server key from any other
// (the same stored key signs page tokens).
const sessionKeyLabel = "guardpost sigv4 session token v1"

// NewSessionKeys derives the token key from a server key of at least 32
// random bytes, kept across restarts and shared by every node.
func NewSessionKeys(serverKey []byte) (*SessionKeys, error) {
	if len(serverKey) < 32 {
		return nil, errors.New("sigv4: the session server key must have at least 32 bytes")
	}
	m := hmac.New(sha256.New, serverKey)
	m.Write([]byte(sessionKeyLabel))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SessionKeys{aead: aead}, nil
}

var errBadToken = errors.New("sigv4: invalid session token")

// Issue gives s a new random access key id ("ASIA" and 16 base32
// characters, like AWS's temporary keys) and secret, and returns it with
// its session token.
func (k *SessionKeys) Issue(s Session) (Session, string) {
	idBytes := make([]byte, 10)
	secretBytes := make([]byte, 30)
	rand.Read(idBytes)
	rand.Read(secretBytes)
	s.AccessKeyID = "ASIA" + base32.StdEncoding.EncodeToString(idBytes)
	s.SecretAccessKey = base64.StdEncoding.EncodeToString(secretBytes)
	s.Expiration = s.Expiration.UTC().Truncate(time.Second)
	s.Created = s.Created.UTC().Truncate(time.Second)
	plain, err := json.Marshal(s)
	if err != nil { // strings and a time only: cannot happen
		panic(err)
	}
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	rand.Read(nonce)
	sealed := k.aead.Seal(nonce, nonce, plain, []byte(sessionKeyLabel))
	return s, base64.RawURLEncoding.EncodeToString(sealed)
}

// maxTokenLen bounds what Open decodes; guardpost's tokens are ~400 bytes.
const maxTokenLen = 4096

// Open returns the session a token carries, if the token was issued with
// this key and not altered. It does not check the expiry.
func (k *SessionKeys) Open(token string) (Session, error) {
	if len(token) > maxTokenLen {
		return Session{}, errBadToken
	}
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	n := k.aead.NonceSize()
	if err != nil || len(sealed) < n+k.aead.Overhead() {
		return Session{}, errBadToken
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(sessionKeyLabel))
	if err != nil {
		return Session{}, errBadToken
	}
	var s Session
	if err := json.Unmarshal(plain, &s); err != nil || s.AccessKeyID == "" || s.SecretAccessKey == "" || s.AccountID == "" {
		return Session{}, errBadToken
	}
	return s, nil
}
