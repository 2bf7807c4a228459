package sigv4

import (
	"net/http"
	"sync/atomic"
)

// KeyRing holds a set of long-term credentials that can be replaced while
// requests are verified against it (the credentials file was edited):
// each lookup sees the whole old set or the whole new one.
type KeyRing struct {
	p atomic.Pointer[map[string]Credential]
}

// NewKeyRing returns a ring holding creds.
func NewKeyRing(creds map[string]Credential) *KeyRing {
	k := &KeyRing{}
	k.Set(creds)
	return k
}

// Set replaces the credentials; the map must not change afterwards.
func (k *KeyRing) Set(creds map[string]Credential) { k.p.Store(&creds) }

// All returns the current credentials; the map must not be changed.
func (k *KeyRing) All() map[string]Credential {
	if m := k.p.Load(); m != nil {
		return *m
	}
	return nil
}

// Credential returns the verifier's long-term credential of an access key
// id: from Keys when set, else from Credentials.
func (v *Verifier) Credential(accessKeyID string) (Credential, bool) {
	creds := v.Credentials
	if v.Keys != nil {
		creds = v.Keys.All()
	}
	c, ok := creds[accessKeyID]
	return c, ok
}

// Claimed returns the access key id and region a request's signature
// names (Authorization header or presigned URL), unverified, "" for what
// it does not name or names malformed: what an audit record can tell of a
// caller it refused.
func Claimed(r *http.Request) (accessKeyID, region string) {
	sig, err := parseSignature(r)
	if err != nil {
		return "", ""
	}
	return sig.ah.accessKeyID, sig.ah.region
}
