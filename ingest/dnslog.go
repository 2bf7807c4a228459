package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// DNSQuery is one Route 53 Resolver query log record (the JSON object
// the Route 53 developer guide documents, "Values that appear in Resolver
// query logs").
type DNSQuery struct {
	Line int // 1-based line in the body
	Size int // bytes of the line, its newline included (usage statistics)

	Version   string // version
	AccountID string // account_id
	Region    string // region
	VPCID     string // vpc_id
	Time      time.Time
	// Name is query_name lower-cased without its trailing dot
	// ("example.com"); RawName is query_name as logged.
	Name      string
	RawName   string
	Type      string // query_type: A, AAAA, TXT, …
	Class     string // query_class
	RCode     string // rcode: NOERROR, NXDOMAIN, …
	Answers   []DNSAnswer
	SrcAddr   netip.Addr
	SrcPort   uint16
	Transport string // UDP or TCP

	InstanceID       string // srcids.instance
	ResolverEndpoint string // srcids.resolver_endpoint
	// FirewallAction is firewall_rule_action (BLOCK, ALERT, ALLOW), ""
	// when no DNS Firewall rule matched.
	FirewallAction string
}

// DNSAnswer is one element of a query log record's answers.
type DNSAnswer struct {
	Data  string // Rdata
	Type  string
	Class string
}

// ReadDNSLogs reads a body of Route 53 Resolver query logs, one JSON
// object per line as Resolver writes them to S3 or CloudWatch Logs, and
// calls fn with its records in batches of up to batch, reusing the slice
// from one call to the next (the records' strings and answers stay
// valid). Members it does not know are read past; blank lines are
// skipped. A malformed line stops the read with a *LineError naming it;
// an error of fn is returned as it is.
//
// The decoder is written for this one shape: encoding/json with a struct
// costs several microseconds a record, which would make it the bottleneck
// of a busy VPC's logs. Strings are read in place in the reader's buffer
// and kept through a bounded interner (names, answers, accounts repeat
// from line to line in ordinary traffic), so most records allocate
// nothing.
func ReadDNSLogs(r io.Reader, batch int, fn func([]DNSQuery) error) error {
	lr := newLineReader(r)
	d := dnsDecoder{in: interner{}}
	recs := newBatcher(batch, fn)
	for {
		raw, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		line := trimEOL(raw)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec := recs.next()
		rec.Line, rec.Size = lr.line, len(raw)
		if msg := d.decode(line, rec); msg != "" {
			return &LineError{Line: lr.line, Msg: msg}
		}
		if err := recs.done(); err != nil {
			return err
		}
	}
	return recs.flush()
}

// dnsDecoder decodes query log lines.
type dnsDecoder struct {
	s       string // the line, a view of the reader's buffer: pieces kept are copied
	i       int
	in      interner
	answers []DNSAnswer // backing store of the records' answers, never reused
	last    [13]string  // per member, its value on the line before
}

// field reads a string member that is nearly always what it was on the
// line before (account, region, VPC, class...): compared with that, it
// costs no lookup.
func (d *dnsDecoder) field(k int) string {
	s := d.str()
	if s == d.last[k] {
		return d.last[k]
	}
	v := d.internString0(s)
	d.last[k] = v
	return v
}

// errSyntax is the decoder's failure; msg says where.
type dnsSyntax struct{ msg string }

func (d *dnsDecoder) fail(format string, args ...any) {
	panic(dnsSyntax{fmt.Sprintf(format, args...)})
}

// decode fills rec from one line; it returns what is wrong, or "".
func (d *dnsDecoder) decode(line []byte, rec *DNSQuery) (msg string) {
	defer func() {
		if e := recover(); e != nil {
			s, ok := e.(dnsSyntax)
			if !ok {
				panic(e)
			}
			msg = s.msg
		}
	}()
	d.s, d.i = unsafe.String(unsafe.SliceData(line), len(line)), 0
	var ts string
	d.space()
	if !d.eat('{') {
		d.fail("the line is not a JSON object (a Route 53 Resolver query log record) at column %d.", d.i+1)
	}
	d.members(func(key string) {
		switch key {
		case "version":
			rec.Version = d.field(0)
		case "account_id":
			rec.AccountID = d.field(1)
		case "region":
			rec.Region = d.field(2)
		case "vpc_id":
			rec.VPCID = d.field(3)
		case "query_timestamp":
			ts = d.str()
		case "query_name":
			rec.RawName = d.internString()
		case "query_type":
			rec.Type = d.field(4)
		case "query_class":
			rec.Class = d.field(5)
		case "rcode":
			rec.RCode = d.field(6)
		case "answers":
			rec.Answers = d.answerList()
		case "srcaddr":
			at := d.i
			if s := d.str(); s != "" {
				a, ok := parseAddr([]byte(s))
				if !ok {
					d.i = at
					d.fail("srcaddr %q is not an IP address (column %d).", s, at+1)
				}
				rec.SrcAddr = a
			}
		case "srcport":
			rec.SrcPort = d.port()
		case "transport":
			rec.Transport = d.field(7)
		case "srcids":
			d.srcIDs(rec)
		case "firewall_rule_action":
			rec.FirewallAction = d.field(8)
		default:
			d.skip(0)
		}
	})
	d.space()
	if d.i != len(d.s) {
		d.fail("unexpected %q after the record's object at column %d: put one record on each line.", d.s[d.i], d.i+1)
	}
	if rec.RawName == "" {
		return "the record lacks query_name."
	}
	if ts == "" {
		return "the record lacks query_timestamp."
	}
	t, ok := parseTimestamp(ts)
	if !ok {
		return fmt.Sprintf("query_timestamp %q is not an ISO 8601 time (2021-02-04T17:51:55Z).", ts)
	}
	rec.Time = t
	rec.Name = normalizeName(rec.RawName)
	return ""
}

// normalizeName is a query name lower-cased without its trailing dot,
// as rules compare it; a piece of raw when it already is.
func normalizeName(raw string) string {
	name := strings.TrimSuffix(raw, ".")
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

func (d *dnsDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *dnsDecoder) eat(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// expect fails unless the next non-space byte is c.
func (d *dnsDecoder) expect(c byte, what string) {
	d.space()
	if !d.eat(c) {
		if d.i >= len(d.s) {
			d.fail("the JSON object ends early: %s expected at column %d.", what, d.i+1)
		}
		d.fail("%s expected at column %d, found %q.", what, d.i+1, d.s[d.i])
	}
}

// members reads an object's members after its '{', calling member with
// the decoder at each value.
func (d *dnsDecoder) members(member func(key string)) {
	d.space()
	if d.eat('}') {
		return
	}
	for {
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			d.expect('"', "a member name")
		}
		key := d.str()
		d.expect(':', "':'")
		d.space()
		member(key)
		d.space()
		if d.eat('}') {
			return
		}
		d.expect(',', "',' or '}'")
	}
}

// str reads a JSON string (null reads as ""): a piece of the line unless
// it has escapes.
func (d *dnsDecoder) str() string {
	d.space()
	if strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return ""
	}
	if !d.eat('"') {
		if d.i >= len(d.s) {
			d.fail("the JSON object ends early: a string expected at column %d.", d.i+1)
		}
		d.fail("a string expected at column %d, found %q.", d.i+1, d.s[d.i])
	}
	start := d.i
	for d.i < len(d.s) {
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			return d.s[start : d.i-1]
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			d.fail("a control character in a string at column %d.", d.i+1)
		default:
			d.i++
		}
	}
	d.fail("a string is not closed (from column %d).", start)
	return ""
}

// escaped finishes a string with escapes from start (after its quote).
func (d *dnsDecoder) escaped(start int) string {
	for j := d.i; j < len(d.s); j++ {
		switch d.s[j] {
		case '\\':
			j++
		case '"':
			var v string
			if err := json.Unmarshal([]byte(d.s[start-1:j+1]), &v); err != nil {
				d.fail("a string at column %d is not valid JSON: %v.", start, err)
			}
			d.i = j + 1
			return v
		}
	}
	d.fail("a string is not closed (from column %d).", start)
	return ""
}

// internString reads a string to keep: interned, or copied out of the
// reader's buffer when long.
func (d *dnsDecoder) internString() string { return d.internString0(d.str()) }

func (d *dnsDecoder) internString0(s string) string {
	if len(s) > 128 {
		return strings.Clone(s)
	}
	return d.in.get(unsafeBytes(s))
}

// port reads srcport: a string of digits as Resolver writes it, or a
// number.
func (d *dnsDecoder) port() uint16 {
	at := d.i
	var s string
	if d.i < len(d.s) && d.s[d.i] == '"' || strings.HasPrefix(d.s[d.i:], "null") {
		s = d.str()
	} else {
		j := d.i
		for j < len(d.s) && d.s[j] >= '0' && d.s[j] <= '9' {
			j++
		}
		s, d.i = d.s[d.i:j], j
	}
	if s == "" {
		return 0
	}
	v, ok := parseUint([]byte(s), 1<<16-1)
	if !ok {
		d.i = at
		d.fail("srcport %q is not a port number (column %d).", s, at+1)
	}
	return uint16(v)
}

func (d *dnsDecoder) answerList() []DNSAnswer {
	if strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return nil
	}
	d.expect('[', "the answers array")
	d.space()
	if d.eat(']') {
		return nil
	}
	first := len(d.answers)
	for {
		d.expect('{', "an answer object")
		var a DNSAnswer
		d.members(func(key string) {
			switch key {
			case "Rdata":
				a.Data = d.internString()
			case "Type":
				a.Type = d.field(9)
			case "Class":
				a.Class = d.field(10)
			default:
				d.skip(0)
			}
		})
		if len(d.answers) == cap(d.answers) {
			// A new block; the records already made keep theirs.
			more := make([]DNSAnswer, len(d.answers)-first, max(256, 2*(len(d.answers)-first)))
			copy(more, d.answers[first:])
			d.answers, first = more, 0
		}
		d.answers = append(d.answers, a)
		d.space()
		if d.eat(']') {
			return d.answers[first:len(d.answers):len(d.answers)]
		}
		d.expect(',', "',' or ']'")
	}
}

func (d *dnsDecoder) srcIDs(rec *DNSQuery) {
	if strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return
	}
	d.expect('{', "the srcids object")
	d.members(func(key string) {
		switch key {
		case "instance":
			rec.InstanceID = d.field(11)
		case "resolver_endpoint":
			rec.ResolverEndpoint = d.field(12)
		default:
			d.skip(0)
		}
	})
}

// skip reads past any JSON value, checking its syntax.
func (d *dnsDecoder) skip(depth int) {
	if depth > 64 {
		d.fail("values nested too deep at column %d.", d.i+1)
	}
	d.space()
	if d.i >= len(d.s) {
		d.fail("the JSON object ends early: a value expected at column %d.", d.i+1)
	}
	switch c := d.s[d.i]; {
	case c == '"':
		d.str()
	case c == '{':
		d.i++
		d.members(func(string) { d.skip(depth + 1) })
	case c == '[':
		d.i++
		d.space()
		if d.eat(']') {
			return
		}
		for {
			d.skip(depth + 1)
			d.space()
			if d.eat(']') {
				return
			}
			d.expect(',', "',' or ']'")
		}
	case c == 't' && strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
	case c == 'f' && strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
	case c == 'n' && strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
	case c == '-' || c >= '0' && c <= '9':
		j := d.i
		for j < len(d.s) && strings.IndexByte("+-.eE0123456789", d.s[j]) >= 0 {
			j++
		}
		if _, err := strconv.ParseFloat(d.s[d.i:j], 64); err != nil {
			d.fail("a number at column %d is not valid JSON.", d.i+1)
		}
		d.i = j
	default:
		d.fail("a JSON value expected at column %d, found %q.", d.i+1, c)
	}
}

// parseTimestamp reads query_timestamp: "2021-02-04T17:51:55Z", with
// fractional seconds or an offset through time.Parse.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		num := func(a, b int) (int, bool) {
			v := 0
			for _, c := range []byte(s[a:b]) {
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			return v, true
		}
		y, ok1 := num(0, 4)
		mo, ok2 := num(5, 7)
		dd, ok3 := num(8, 10)
		h, ok4 := num(11, 13)
		mi, ok5 := num(14, 16)
		sec, ok6 := num(17, 19)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && h < 24 && mi < 60 && sec < 60 {
			t := time.Date(y, time.Month(mo), dd, h, mi, sec, 0, time.UTC)
			if t.Day() == dd { // not 31 February
				return t, true
			}
		}
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err == nil
}

// unsafeBytes views a string's bytes, for map lookups that copy what they
// keep.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
