package intel

import "strings"

// DomainSet answers "is this domain, or a domain it is under, listed?":
// example.com matches example.com and www.example.com, never
// badexample.com. A lookup tries the name and then each parent
// (www.a.example.com, a.example.com, example.com, com): one hash lookup per
// label, independent of the set's size.
//
// A DomainSet is immutable once built and safe for concurrent use.
type DomainSet struct {
	m map[string]struct{}
}

// DomainBuilder collects domains for a DomainSet.
type DomainBuilder struct {
	m map[string]struct{}
}

// Add adds a domain (and so its subdomains). Case and a trailing dot do not
// matter; a leading "*." is dropped, since every entry covers its
// subdomains anyway.
func (b *DomainBuilder) Add(domain string) {
	d := NormalizeDomain(domain)
	if d == "" {
		return
	}
	if b.m == nil {
		b.m = make(map[string]struct{})
	}
	b.m[d] = struct{}{}
}

// Len is the number of distinct domains added so far.
func (b *DomainBuilder) Len() int { return len(b.m) }

// Build returns the set and resets b.
func (b *DomainBuilder) Build() *DomainSet {
	s := &DomainSet{m: b.m}
	b.m = nil
	return s
}

// NormalizeDomain lowercases d and drops a trailing dot and a leading "*.".
func NormalizeDomain(d string) string {
	d = strings.TrimSuffix(strings.TrimSpace(d), ".")
	d = strings.TrimPrefix(d, "*.")
	return lower(d)
}

// lower is strings.ToLower without the allocation for names already in
// lowercase ASCII, which is nearly every name looked up.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// Match returns the listed domain that name is, or is under, and whether
// there is one. A nil set matches nothing.
func (s *DomainSet) Match(name string) (string, bool) {
	if s == nil || len(s.m) == 0 {
		return "", false
	}
	d := lower(strings.TrimSuffix(name, "."))
	for d != "" {
		if _, ok := s.m[d]; ok {
			return d, true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return "", false
}

// Contains reports whether name is, or is under, a listed domain.
func (s *DomainSet) Contains(name string) bool {
	_, ok := s.Match(name)
	return ok
}

// Len is the number of domains in the set.
func (s *DomainSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.m)
}
