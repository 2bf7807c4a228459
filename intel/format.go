package intel

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
)

// The list formats of the GuardDuty API (IpSetFormat, ThreatIntelSetFormat
// and the entity-set formats share them).
const (
	FormatTXT        = "TXT"
	FormatSTIX       = "STIX"
	FormatOTXCSV     = "OTX_CSV"
	FormatAlienVault = "ALIEN_VAULT"
	FormatProofPoint = "PROOF_POINT"
	FormatFireEye    = "FIRE_EYE"
)

// ParseError says what in a list could not be read: detection keeps it as
// the list's errorDetails.
type ParseError struct {
	Line int // 1-based; 0 when the format has no lines (STIX)
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// ParseList reads a list in one of the GuardDuty formats and returns its
// entries in canonical text, one per element: "ADDR/BITS" for an address or
// CIDR, "FIRST-LAST" for an address range (STIX), or a lowercase domain.
// Domains are kept only when domains is true (entity lists); IP lists
// skip them, as GuardDuty makes no findings from the domains of IP lists.
// An entry that is neither an address, a CIDR nor a domain is a
// *ParseError naming its line.
func ParseList(format string, data []byte, domains bool) ([]string, error) {
	var p parser
	p.domains = domains
	var err error
	switch format {
	case FormatTXT:
		err = p.txt(data)
	case FormatSTIX:
		err = p.stix(data)
	case FormatOTXCSV:
		err = p.otx(data)
	case FormatAlienVault:
		err = p.alienVault(data)
	case FormatProofPoint:
		err = p.proofPoint(data)
	case FormatFireEye:
		err = p.fireEye(data)
	default:
		return nil, &ParseError{Msg: fmt.Sprintf("unknown list format %q", format)}
	}
	return p.out, err
}

type parser struct {
	domains bool
	out     []string
}

// add classifies one entry; strict makes an entry that is nothing known an
// error (TXT), otherwise it is skipped (columns of other kinds in CSVs).
func (p *parser) add(line int, s string, strict bool) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if c, ok := canonicalIP(s); ok {
		p.out = append(p.out, c)
		return nil
	}
	if d := NormalizeDomain(s); validDomain(d) {
		if p.domains {
			p.out = append(p.out, d)
		}
		return nil
	}
	if strict {
		// The entry itself is not quoted: the file may not be a list at
		// all but something the caller may not read (an internal page),
		// and errorDetails would show it.
		return &ParseError{Line: line, Msg: "the entry is not an IP address, a CIDR range or a domain"}
	}
	return nil
}

// canonicalIP returns the canonical form of an address, CIDR or
// "FIRST-LAST" range.
func canonicalIP(s string) (string, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", false
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.String(), true
	}
	if first, last, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(first))
		b, err2 := netip.ParseAddr(strings.TrimSpace(last))
		if err1 != nil || err2 != nil || a.Unmap().Is4() != b.Unmap().Is4() || b.Unmap().Less(a.Unmap()) {
			return "", false
		}
		return a.Unmap().String() + "-" + b.Unmap().String(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()).String(), true
}

// validDomain accepts host names of at least two labels of letters,
// digits, hyphens and underscores.
func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// lines calls fn with each line of data that is not blank, without its
// line ending.
func lines(data []byte, fn func(n int, line string) error) error {
	n := 0
	for len(data) > 0 {
		n++
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		s := strings.TrimSpace(strings.TrimPrefix(string(line), "\ufeff"))
		if s == "" {
			continue
		}
		if err := fn(n, s); err != nil {
			return err
		}
	}
	return nil
}

// txt: plaintext, one IP address, CIDR range or domain per line. Lines
// starting with # are comments (feeds commonly carry a header of them).
func (p *parser) txt(data []byte) error {
	return lines(data, func(n int, s string) error {
		if strings.HasPrefix(s, "#") || strings.HasPrefix(s, "//") {
			return nil
		}
		return p.add(n, s, true)
	})
}

// alienVault: the AlienVault reputation feed, one entry per line with
// #-separated fields of which the first is the address:
// "198.51.100.1#4#2#Malicious Host#US##37.7,-122.4#3".
func (p *parser) alienVault(data []byte) error {
	return lines(data, func(n int, s string) error {
		if strings.HasPrefix(s, "#") {
			return nil
		}
		first, _, _ := strings.Cut(s, "#")
		return p.add(n, first, true)
	})
}

// readCSV reads every record of a CSV file, allowing ragged rows, quotes
// in fields and # comment lines.
func readCSV(data []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.TrimLeadingSpace = true
	r.Comment = '#'
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &ParseError{Line: pe.Line, Msg: pe.Err.Error()}
			}
			return nil, &ParseError{Msg: err.Error()}
		}
		rows = append(rows, rec)
	}
}

func headerIndex(header []string) map[string]int {
	idx := make(map[string]int, len(header))
	for i, h := range header {
		idx[strings.ToLower(strings.TrimSpace(h))] = i
	}
	return idx
}

// otx: AlienVault Open Threat Exchange CSV, "Indicator type,Indicator,
// Description": rows of type IPv4, IPv6, CIDR, domain or hostname count,
// others (URLs, file hashes) are skipped. Without the header the first two
// columns are taken as type and indicator.
func (p *parser) otx(data []byte) error {
	rows, err := readCSV(data)
	if err != nil {
		return err
	}
	typeCol, valueCol := 0, 1
	if len(rows) > 0 {
		idx := headerIndex(rows[0])
		if i, ok := idx["indicator"]; ok {
			valueCol = i
			if j, ok := idx["indicator type"]; ok {
				typeCol = j
			} else if j, ok := idx["type"]; ok {
				typeCol = j
			}
			rows = rows[1:]
		}
	}
	for n, row := range rows {
		if len(row) <= max(typeCol, valueCol) {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(row[typeCol])) {
		case "ipv4", "ipv6", "cidr", "domain", "hostname", "fqdn":
			if err := p.add(n+1, row[valueCol], true); err != nil {
				return err
			}
		}
	}
	return nil
}

// proofPoint: Proofpoint ET Intelligence reputation CSV, "ip,category,
// score,first_seen,last_seen,ports" or "domain,category,score,...": the
// first column is the entry.
func (p *parser) proofPoint(data []byte) error {
	rows, err := readCSV(data)
	if err != nil {
		return err
	}
	for n, row := range rows {
		if len(row) == 0 {
			continue
		}
		if n == 0 {
			if h := strings.ToLower(strings.TrimSpace(row[0])); h == "ip" || h == "domain" {
				continue
			}
		}
		if err := p.add(n+1, row[0], true); err != nil {
			return err
		}
	}
	return nil
}

// fireEye: FireEye iSIGHT Threat Intelligence CSV. Its header names many
// columns; the entries are in ip, sourceIp, cidr, domain and sourceDomain
// (empty in most rows, which describe other indicator kinds).
func (p *parser) fireEye(data []byte) error {
	rows, err := readCSV(data)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	idx := headerIndex(rows[0])
	var cols []int
	for _, name := range []string{"ip", "sourceip", "cidr", "domain", "sourcedomain"} {
		if i, ok := idx[name]; ok {
			cols = append(cols, i)
		}
	}
	if len(cols) == 0 {
		return &ParseError{Line: 1, Msg: "the FIRE_EYE header names none of the columns ip, sourceIp, cidr, domain, sourceDomain"}
	}
	for n, row := range rows[1:] {
		for _, c := range cols {
			if c < len(row) {
				if err := p.add(n+2, row[c], true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// stix2Pattern finds the addresses and domains of STIX 2 indicator
// patterns, e.g. [ipv4-addr:value = '198.51.100.1'].
var stix2Pattern = regexp.MustCompile(`(ipv4-addr|ipv6-addr|domain-name):value\s*=\s*'([^']*)'`)

// stix: STIX 1.x XML, as in the GuardDuty user guide's sample, with
// AddressObj:Address_Value elements (an address, a CIDR, or with
// condition="InclusiveBetween" a range "FIRST##comma##LAST", or a list of
// values joined by ##comma##) and DomainNameObj:Value elements. A STIX 2 JSON bundle's indicator patterns
// are read too.
func (p *parser) stix(data []byte) error {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff")))
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return p.stix2(trimmed)
	}
	dec := xml.NewDecoder(bytes.NewReader(trimmed))
	dec.Strict = false
	var (
		inAddress, inDomain bool
		between             bool // condition="InclusiveBetween": a range, not a list
		text                strings.Builder
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &ParseError{Msg: "the STIX document is not well-formed XML: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Local == "Address_Value":
				inAddress = true
			case t.Name.Local == "Value" && strings.Contains(strings.ToLower(t.Name.Space), "domainname"):
				inDomain = true
			default:
				continue
			}
			between = false
			for _, a := range t.Attr {
				if a.Name.Local == "condition" && a.Value == "InclusiveBetween" {
					between = true
				}
			}
			text.Reset()
		case xml.CharData:
			if inAddress || inDomain {
				text.Write(t)
			}
		case xml.EndElement:
			if !inAddress && !inDomain {
				continue
			}
			// CybOX joins several values with ##comma##: the two ends of
			// a range under InclusiveBetween, otherwise a list of values
			// (condition Equals, apply_condition ANY).
			values := strings.Split(text.String(), "##comma##")
			if inAddress && between {
				if len(values) != 2 {
					return &ParseError{Msg: "a STIX InclusiveBetween Address_Value is not two addresses"}
				}
				values = []string{strings.TrimSpace(values[0]) + "-" + strings.TrimSpace(values[1])}
			}
			for _, v := range values {
				v = strings.TrimSpace(v)
				if inAddress {
					if _, ok := canonicalIP(v); !ok {
						return &ParseError{Msg: "a STIX Address_Value is not an IP address, a CIDR range or a range"}
					}
				}
				if err := p.add(0, v, true); err != nil {
					return err
				}
			}
			inAddress, inDomain = false, false
		}
	}
	return nil
}

func (p *parser) stix2(data []byte) error {
	var bundle struct {
		Objects []struct {
			Type    string `json:"type"`
			Pattern string `json:"pattern"`
			Value   string `json:"value"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		return &ParseError{Msg: "the STIX document is not a STIX bundle: " + err.Error()}
	}
	for _, o := range bundle.Objects {
		switch o.Type {
		case "indicator":
			for _, m := range stix2Pattern.FindAllStringSubmatch(o.Pattern, -1) {
				if err := p.add(0, m[2], true); err != nil {
					return err
				}
			}
		case "ipv4-addr", "ipv6-addr", "domain-name":
			if err := p.add(0, o.Value, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// Matcher is a compiled list: its addresses and its domains.
type Matcher struct {
	IPs     *CIDRSet
	Domains *DomainSet
}

// Compile builds a Matcher from canonical entries (ParseList's output);
// entries it cannot read are skipped.
func Compile(entries []string) *Matcher {
	var ips CIDRBuilder
	var domains DomainBuilder
	for _, e := range entries {
		addEntry(&ips, &domains, e)
	}
	return &Matcher{IPs: ips.Build(), Domains: domains.Build()}
}

// addEntry adds one address, CIDR, range or domain.
func addEntry(ips *CIDRBuilder, domains *DomainBuilder, e string) bool {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return false
		}
		ips.AddPrefix(p)
		return true
	}
	if a, err := netip.ParseAddr(e); err == nil {
		ips.AddAddr(a)
		return true
	}
	if first, last, ok := strings.Cut(e, "-"); ok {
		a, err1 := netip.ParseAddr(first)
		b, err2 := netip.ParseAddr(last)
		if err1 == nil && err2 == nil {
			ips.AddRange(a, b)
			return true
		}
	}
	if d := NormalizeDomain(e); validDomain(d) {
		domains.Add(d)
		return true
	}
	return false
}

// MatchIP reports whether a is on the list. A nil Matcher matches nothing.
func (m *Matcher) MatchIP(a netip.Addr) bool { return m != nil && m.IPs.Contains(a) }

// MatchDomain reports whether name is, or is under, a domain on the list.
func (m *Matcher) MatchDomain(name string) bool { return m != nil && m.Domains.Contains(name) }
