package dnsquery

import (
	"math"
	"strings"
)

// This file reads query names: where the registered domain starts, and
// whether a label looks machine-made (the DGA model) or carries encoded
// data (the exfiltration model). Everything works on the lower-case name
// the parser gives (ingest.DNSQuery.Name) without allocating.

// registered returns the registered domain of name (the part a registrant
// owns: "example.co.uk" of "www.example.co.uk") and the label the
// registrant chose ("example"). Without the Public Suffix List it takes
// the last two labels, or three under a country code's generic second
// level (co.uk, com.au, …) or under a zone that gives subdomains away
// (freeZones: duckdns.org, ngrok.io, …), whose subdomain is the
// registrant's choice.
func registered(name string) (domain, label string) {
	// dots[i] is the position of the (i+1)th dot from the end.
	var dots [3]int
	n := 0
	for i := len(name) - 1; i >= 0 && n < 3; i-- {
		if name[i] == '.' {
			dots[n] = i
			n++
		}
	}
	take := 2 // labels in the registered domain
	if n >= 1 {
		sldStart := 0
		if n >= 2 {
			sldStart = dots[1] + 1
		}
		if len(name)-dots[0]-1 == 2 && genericSecondLevel(name[sldStart:dots[0]]) {
			take = 3
		}
		if _, ok := freeZones[name[sldStart:]]; ok {
			take = 3
		}
	}
	if n < take {
		// No more labels than the registered domain has: all of it.
		end := len(name)
		if n > 0 {
			end = dots[n-1]
		}
		return name, name[:end]
	}
	return name[dots[take-1]+1:], name[dots[take-1]+1 : dots[take-2]]
}

// genericSecondLevel reports the second-level labels that country codes
// sell names under (example.co.uk, example.com.au).
func genericSecondLevel(l string) bool {
	switch l {
	case "co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "mil", "ltd", "plc", "nic", "gen", "biz", "info":
		return true
	}
	return false
}

// freeZones are zones that hand subdomains out for free or as dynamic DNS:
// the user guide's examples of abused second-level domains
// (Impact:EC2/AbusedDomainRequest.Reputation). The names come from the
// providers' own documentation; the Public Suffix List's private section
// lists most of them for the same reason.
var freeZones = map[string]struct{}{
	"duckdns.org": {}, "ddns.net": {}, "hopto.org": {}, "zapto.org": {}, "sytes.net": {}, "no-ip.org": {},
	"no-ip.biz": {}, "no-ip.info": {}, "dynu.net": {}, "dyndns.org": {}, "dynv6.net": {}, "mooo.com": {},
	"chickenkiller.com": {}, "afraid.org": {}, "ngrok.io": {}, "ngrok-free.app": {}, "serveo.net": {},
	"000webhostapp.com": {}, "changeip.com": {}, "myftp.biz": {}, "servebeer.com": {}, "portmap.io": {},
	"trycloudflare.com": {},
}

// exemptParents are the registered domains whose subdomains carry hashes
// or encoded data by design, which the exfiltration model never counts:
// AWS's own names (bucket, endpoint and load balancer hostnames), CDNs,
// anti-virus reputation look-ups (a file hash as a name) and DNS block
// lists (a reversed address as a name).
var exemptParents = map[string]struct{}{
	"amazonaws.com": {}, "amazonaws.com.cn": {}, "aws": {}, "cloudfront.net": {}, "awsglobalaccelerator.com": {},
	"akamaiedge.net": {}, "akamai.net": {}, "akamaihd.net": {}, "edgekey.net": {}, "edgesuite.net": {},
	"fastly.net": {}, "fastlylb.net": {}, "azureedge.net": {}, "googlevideo.com": {}, "googleusercontent.com": {},
	"sophosxl.net": {}, "mcafee.com": {}, "trendmicro.com": {}, "spamhaus.org": {}, "spamhaus.net": {},
	"spamcop.net": {}, "surbl.org": {}, "uribl.com": {}, "barracudacentral.org": {}, "dnswl.org": {},
	"in-addr.arpa": {}, "ip6.arpa": {},
}

// exemptName reports names the models never score: the VPC's own names
// and reverse look-ups.
func exemptName(name string) bool {
	return strings.HasSuffix(name, ".internal") || strings.HasSuffix(name, ".local") ||
		strings.HasSuffix(name, ".arpa") || strings.HasSuffix(name, ".localdomain")
}

// labelStats are the character statistics of a label (or of a name's
// subdomain part, dots ignored).
type labelStats struct {
	n        int     // characters counted (letters, digits, hyphens, underscores)
	letters  int     // a-z
	digits   int     // 0-9
	vowels   int     // a, e, i, o, u (y counts as a consonant)
	maxCons  int     // longest run of consonants
	switches int     // letter/digit alternations
	logP     float64 // summed ln P of the letter pairs (bigramLogP)
	pairs    int     // pairs summed in logP
	entropy  float64 // Shannon entropy of the characters, bits per character
	hex      bool    // only 0-9a-f
}

// stats computes s's labelStats; dots end a word as hyphens do and are
// not counted.
func stats(s string) labelStats {
	var st labelStats
	var freq [40]uint16 // a-z, 0-9, '-', '_', other
	prev := 0           // bigram index of the previous letter, 0 at a boundary
	prevKind := byte(0) // 'a' letter, 'd' digit
	run := 0
	st.hex = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			st.n++
			st.letters++
			freq[c-'a']++
			idx := int(c-'a') + 1
			st.logP += float64(bigramLogP[prev][idx])
			st.pairs++
			prev = idx
			if c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' {
				st.vowels++
				run = 0
			} else {
				run++
				if run > st.maxCons {
					st.maxCons = run
				}
			}
			if c > 'f' {
				st.hex = false
			}
			if prevKind == 'd' {
				st.switches++
			}
			prevKind = 'a'
		case c >= '0' && c <= '9':
			st.n++
			st.digits++
			freq[26+c-'0']++
			// Digits are transparent to the letter pairs (the letters
			// around them pair up: x7hq scores as xhq), so that mixing
			// digits in does not make a label look more like words.
			run = 0
			if prevKind == 'a' {
				st.switches++
			}
			prevKind = 'd'
		case c == '-' || c == '_':
			st.n++
			freq[36]++
			if prev != 0 {
				st.logP += float64(bigramLogP[prev][0])
				st.pairs++
			}
			prev, run, prevKind = 0, 0, 0
			st.hex = false
		case c == '.':
			if prev != 0 {
				st.logP += float64(bigramLogP[prev][0])
				st.pairs++
			}
			prev, run, prevKind = 0, 0, 0
		default:
			st.n++
			freq[37]++
			prev, run, prevKind = 0, 0, 0
			st.hex = false
		}
	}
	if prev != 0 {
		st.logP += float64(bigramLogP[prev][0])
		st.pairs++
	}
	if st.n > 0 {
		n := float64(st.n)
		for _, f := range freq {
			if f > 0 {
				p := float64(f) / n
				st.entropy -= p * math.Log2(p)
			}
		}
	}
	return st
}

// surprise is the mean -ln P of the label's letter pairs: about 2.6 for
// English words, 4 and more for letters drawn at random.
func (st *labelStats) surprise() float64 {
	if st.pairs == 0 {
		return 0
	}
	return -st.logP / float64(st.pairs)
}

// DGAModel holds the thresholds of the algorithmically-generated-name
// model (see docs/dns-detection.md). A registered label scores as
// generated when it is long enough and its letter pairs are unlikely
// English, with consonant runs and letter/digit mixing adding to the
// score.
type DGAModel struct {
	MinLength int     // labels shorter than this are never scored (default 8)
	Threshold float64 // score at or above which a label looks generated (default 3.75)
}

// Score returns the label's DGA score: the mean surprise of its letter
// pairs (digits skipped), plus 0.15 per change between letters and digits
// beyond the second (a version number or a year changes once or twice),
// plus 0.4 for a run of five or more consonants, less 0.5 when vowels
// make up a third or more of the letters (pronounceable).
func (m DGAModel) Score(label string) float64 {
	st := stats(label)
	return st.dgaScore()
}

func (st *labelStats) dgaScore() float64 {
	s := st.surprise()
	if st.switches > 2 {
		s += 0.15 * float64(st.switches-2)
	}
	if st.maxCons >= 5 {
		s += 0.4
	}
	if st.letters > 0 && 3*st.vowels >= st.letters {
		s -= 0.5
	}
	return s
}

// Generated reports whether label looks algorithmically generated.
func (m DGAModel) Generated(label string) bool {
	if len(label) < m.MinLength || strings.HasPrefix(label, "xn--") {
		return false
	}
	st := stats(label)
	if st.letters < len(label)/2 {
		// Mostly digits: a number, not a word-shaped name.
		return false
	}
	return st.dgaScore() >= m.Threshold
}

// ExfilModel holds the thresholds that say a query name carries encoded
// data in its subdomain part (the labels left of the registered domain).
type ExfilModel struct {
	MinLength     int     // characters of the subdomain part, dots not counted (default 40)
	MinLabel      int     // length of its longest label (default 20)
	MinEntropy    float64 // Shannon entropy, bits per character (default 3.5)
	MinSurprise   float64 // mean letter-pair surprise (default 3.2); hexadecimal parts skip it
	MinHexLength  int     // a hexadecimal part this long counts without the surprise test (default 32)
	ExemptParents bool    // never count the exemptParents (default true)
}

// Encoded reports whether name's subdomain part, below parent, looks like
// encoded data.
func (m ExfilModel) Encoded(name, parent string) bool {
	if len(name) <= len(parent)+1 {
		return false
	}
	sub := name[:len(name)-len(parent)-1]
	if len(sub) < m.MinLength {
		return false
	}
	longest, cur, chars := 0, 0, 0
	for i := 0; i < len(sub); i++ {
		if sub[i] == '.' {
			cur = 0
			continue
		}
		chars++
		cur++
		if cur > longest {
			longest = cur
		}
	}
	if chars < m.MinLength || longest < m.MinLabel {
		return false
	}
	st := stats(sub)
	if st.entropy < m.MinEntropy {
		return false
	}
	if st.hex && st.n >= m.MinHexLength {
		return true
	}
	return st.surprise() >= m.MinSurprise
}
