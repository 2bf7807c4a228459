package guardpost

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// TokenSigner makes pagination tokens opaque to clients and tamper-evident:
// a token is its JSON payload and an HMAC over it, so a forged, edited or
// foreign token is rejected instead of steering a query.
type TokenSigner struct {
	key []byte
}

// NewTokenSigner returns a signer using key (at least 32 random bytes, kept
// across restarts so tokens outlive the process).
func NewTokenSigner(key []byte) *TokenSigner { return &TokenSigner{key: append([]byte(nil), key...)} }

// pageToken is what a token carries. Binding makes a token valid only for
// the listing that issued it (operation, scope, detector, query).
type pageToken struct {
	Binding string `json:"b"`
	After   string `json:"a"`
	Key     any    `json:"k,omitempty"`
}

func (t *TokenSigner) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write(payload)
	return m.Sum(nil)
}

// encode signs a position in the listing named by binding.
func (t *TokenSigner) encode(binding string, cur FindingCursor) string {
	payload, _ := json.Marshal(pageToken{Binding: binding, After: cur.ID, Key: cur.SortKey})
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(t.mac(payload))
}

// decode checks a token's signature and binding and returns its position.
func (t *TokenSigner) decode(binding, token string) (*FindingCursor, error) {
	enc := base64.RawURLEncoding
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return nil, Errorf(EINVALID, msgInvalidToken)
	}
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, t.mac(payload)) {
		return nil, Errorf(EINVALID, msgInvalidToken)
	}
	var pt pageToken
	if err := json.Unmarshal(payload, &pt); err != nil || pt.Binding != binding {
		return nil, Errorf(EINVALID, msgInvalidToken)
	}
	switch pt.Key.(type) {
	case nil, float64, string:
	default:
		return nil, Errorf(EINVALID, msgInvalidToken)
	}
	return &FindingCursor{ID: pt.After, SortKey: pt.Key}, nil
}

// pageOfNames serves a listing ordered by a unique name (detector ids,
// filter names): it resumes after the name a signed token carries and
// issues the next token when fetch finds more than maxResults (default 50).
func (s *Service) pageOfNames(binding string, maxResults int, nextToken string, fetch func(after string, limit int) ([]string, error)) ([]string, string, error) {
	if maxResults <= 0 {
		maxResults = 50
	}
	after := ""
	if nextToken != "" {
		cur, err := s.Tokens.decode(binding, nextToken)
		if err != nil {
			return nil, "", err
		}
		after = cur.ID
	}
	names, err := fetch(after, maxResults+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(names) > maxResults {
		names = names[:maxResults]
		next = s.Tokens.encode(binding, FindingCursor{ID: names[maxResults-1]})
	}
	return names, next, nil
}
