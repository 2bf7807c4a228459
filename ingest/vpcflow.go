package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// FlowRecord is one VPC Flow Logs record (the fields of formats v2 to
// v5, as the VPC user guide documents them). A field the log's format
// lacks, or that the record gives as "-", is the zero value (Protocol:
// -1). Strings that repeat from record to record (accounts, interfaces,
// instances) are interned by the reader, so a batch holds each once.
type FlowRecord struct {
	Line int // 1-based line in the body, the header included
	Size int // bytes of the line, its newline included (usage statistics)

	Version     int
	AccountID   string // account-id: the account owning the interface
	InterfaceID string // interface-id (eni-…)
	SrcAddr     netip.Addr
	DstAddr     netip.Addr
	SrcPort     uint16
	DstPort     uint16
	Protocol    int16 // IANA number; -1 when absent
	Packets     int64
	Bytes       int64
	Start       int64 // unix seconds
	End         int64 // unix seconds
	Action      FlowAction
	LogStatus   FlowLogStatus

	// v3
	VPCID      string
	SubnetID   string
	InstanceID string
	TCPFlags   uint16
	Type       string // IPv4, IPv6 or EFA
	PktSrcAddr netip.Addr
	PktDstAddr netip.Addr

	// v4
	Region          string
	AZID            string
	SublocationType string
	SublocationID   string

	// v5
	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    FlowDirection
	TrafficPath      int8 // 0 when absent
}

// FlowAction is a record's action.
type FlowAction uint8

const (
	FlowActionNone   FlowAction = iota // "-": NODATA and SKIPDATA records
	FlowActionAccept                   // ACCEPT
	FlowActionReject                   // REJECT
)

// FlowLogStatus is a record's log-status.
type FlowLogStatus uint8

const (
	FlowOK       FlowLogStatus = iota // OK: data is logging normally
	FlowNoData                        // NODATA: no traffic in the window; the record carries no flow
	FlowSkipData                      // SKIPDATA: records were skipped; the record carries no flow
)

// FlowDirection is a record's flow-direction (v5).
type FlowDirection uint8

const (
	FlowDirectionUnknown FlowDirection = iota // the format lacks flow-direction
	FlowIngress
	FlowEgress
)

// flowField is a field of the VPC Flow Logs format.
type flowField uint8

const (
	fIgnored flowField = iota // a documented field detection does not read
	fVersion
	fAccountID
	fInterfaceID
	fSrcAddr
	fDstAddr
	fSrcPort
	fDstPort
	fProtocol
	fPackets
	fBytes
	fStart
	fEnd
	fAction
	fLogStatus
	fVPCID
	fSubnetID
	fInstanceID
	fTCPFlags
	fType
	fPktSrcAddr
	fPktDstAddr
	fRegion
	fAZID
	fSublocationType
	fSublocationID
	fPktSrcAWSService
	fPktDstAWSService
	fFlowDirection
	fTrafficPath
)

// flowFields are the field names of the VPC user guide ("Flow log
// records", available fields). The ECS fields (v7), reject-reason (v8)
// and the later resource and encryption fields are read past: a custom
// format may hold them, but detection does not use them.
var flowFields = map[string]flowField{
	"version": fVersion, "account-id": fAccountID, "interface-id": fInterfaceID,
	"srcaddr": fSrcAddr, "dstaddr": fDstAddr, "srcport": fSrcPort, "dstport": fDstPort,
	"protocol": fProtocol, "packets": fPackets, "bytes": fBytes, "start": fStart, "end": fEnd,
	"action": fAction, "log-status": fLogStatus,
	"vpc-id": fVPCID, "subnet-id": fSubnetID, "instance-id": fInstanceID, "tcp-flags": fTCPFlags,
	"type": fType, "pkt-srcaddr": fPktSrcAddr, "pkt-dstaddr": fPktDstAddr,
	"region": fRegion, "az-id": fAZID, "sublocation-type": fSublocationType, "sublocation-id": fSublocationID,
	"pkt-src-aws-service": fPktSrcAWSService, "pkt-dst-aws-service": fPktDstAWSService,
	"flow-direction": fFlowDirection, "traffic-path": fTrafficPath,
	"ecs-cluster-arn": fIgnored, "ecs-cluster-name": fIgnored, "ecs-container-instance-arn": fIgnored,
	"ecs-container-instance-id": fIgnored, "ecs-container-id": fIgnored, "ecs-second-container-id": fIgnored,
	"ecs-service-name": fIgnored, "ecs-task-definition-arn": fIgnored, "ecs-task-arn": fIgnored,
	"ecs-task-id": fIgnored, "reject-reason": fIgnored, "resource-id": fIgnored, "encryption-status": fIgnored,
}

// DefaultFlowFormat is the default (version 2) format: the fields of a
// body without a header line.
const DefaultFlowFormat = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// LineError says what is wrong with one line of a log body.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("Line %d: %s", e.Line, e.Msg) }

// maxLine is the longest line a reader takes: a flow record is ~100 bytes
// and a query log record well under 4 KB, so anything this long is not a
// log.
const maxLine = 1 << 20

// maxInterned bounds an interner: past it the table starts over, so a
// body of ever-new values costs a copy each, never unbounded memory.
const maxInterned = 1 << 14

// interner returns one string for each distinct run of bytes it is given:
// accounts, interfaces, regions repeat on nearly every line, and sharing
// them keeps a batch to one allocation per distinct value.
type interner map[string]string

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok { // no allocation: the compiler looks up b in place
		return s
	}
	if len(in) >= maxInterned {
		clear(in)
	}
	s := string(b)
	in[s] = s
	return s
}

// lineReader yields the lines of a body without copying them more than
// bufio does.
type lineReader struct {
	br   *bufio.Reader
	line int
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next line (its newline included) or io.EOF; the bytes
// are valid until the next call.
func (lr *lineReader) next() ([]byte, error) {
	b, err := lr.br.ReadSlice('\n')
	if len(b) > 0 {
		lr.line++
	}
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, bufio.ErrBufferFull):
		// A long line: gather it, up to maxLine.
		long := append([]byte(nil), b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(long) > maxLine {
				return nil, &LineError{Line: lr.line, Msg: fmt.Sprintf("the line is longer than %d bytes: this is not a log record.", maxLine)}
			}
			b, err = lr.br.ReadSlice('\n')
			long = append(long, b...)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return long, nil
	case errors.Is(err, io.EOF):
		if len(b) > 0 {
			return b, nil // a last line without a newline
		}
		return nil, io.EOF
	default:
		return nil, err
	}
}

// trimEOL drops a line's newline (and a carriage return before it).
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// ReadFlowLogs reads a body of VPC Flow Logs as delivered to S3 or
// CloudWatch Logs, and calls fn with its records in batches of up to
// batch, reusing the slice from one call to the next. A header line names
// the fields of the lines after it (any of the documented fields, in any
// order; a header may come again, as when log files are concatenated);
// without one the lines are in the default format (DefaultFlowFormat).
// "-" is an absent value. Blank lines are skipped. A malformed line stops
// the read with a *LineError naming it; an error of fn is returned as
// it is.
func ReadFlowLogs(r io.Reader, batch int, fn func([]FlowRecord) error) error {
	p := flowParser{in: interner{}}
	p.format, _ = parseFlowHeader(strings.Fields(DefaultFlowFormat))
	lr := newLineReader(r)
	recs := newBatcher(batch, fn)
	first := true
	for {
		raw, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		line := trimEOL(raw)
		tok, _ := nextToken(line, 0)
		if len(tok) == 0 {
			continue // a blank line
		}
		if isFlowHeader(tok, first) {
			format, err := parseFlowHeader(strings.Fields(string(line)))
			if err != nil {
				return &LineError{Line: lr.line, Msg: err.Error()}
			}
			p.format = format
			first = false
			continue
		}
		first = false
		rec := recs.next()
		rec.Line, rec.Size = lr.line, len(raw)
		if msg := p.parse(line, rec); msg != "" {
			return &LineError{Line: lr.line, Msg: msg}
		}
		if err := recs.done(); err != nil {
			return err
		}
	}
	return recs.flush()
}

// isFlowHeader reports whether a line whose first token is tok is a
// header: its first token is a field name, or, on the first line, anything
// but a value the default format starts with (a version number), so that
// a header of unknown names is reported as such.
func isFlowHeader(tok []byte, first bool) bool {
	name := string(trimVar(tok))
	if _, ok := flowFields[name]; ok {
		return true
	}
	if !first || string(tok) == "-" {
		return false
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false
}

// trimVar reads a field as CreateFlowLogs' LogFormat writes it
// ("${srcaddr}") as its plain name.
func trimVar(b []byte) []byte {
	if len(b) > 3 && b[0] == '$' && b[1] == '{' && b[len(b)-1] == '}' {
		return b[2 : len(b)-1]
	}
	return b
}

// parseFlowHeader reads a header's field names.
func parseFlowHeader(names []string) ([]flowField, error) {
	format := make([]flowField, len(names))
	var unknown, dup []string
	seen := map[string]bool{}
	for i, n := range names {
		n = string(trimVar([]byte(n)))
		f, ok := flowFields[n]
		if !ok {
			unknown = append(unknown, strconv.Quote(n))
			continue
		}
		if seen[n] {
			dup = append(dup, n)
		}
		seen[n] = true
		format[i] = f
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(flowFields))
		for n, f := range flowFields {
			if f != fIgnored {
				known = append(known, n)
			}
		}
		slices.Sort(known)
		return nil, fmt.Errorf("the header names fields VPC Flow Logs does not have: %s. Use the field names of the VPC user guide (%s), or send no header for the default format.",
			strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	if len(dup) > 0 {
		return nil, fmt.Errorf("the header names %s more than once.", strings.Join(dup, ", "))
	}
	return format, nil
}

// nextToken returns the space-separated token at or after i and the index
// after it.
func nextToken(line []byte, i int) ([]byte, int) {
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	j := i
	for j < len(line) && line[j] != ' ' && line[j] != '\t' {
		j++
	}
	return line[i:j], j
}

// flowParser reads records of one format.
type flowParser struct {
	format []flowField
	in     interner
	last   [12]string // per string field, its value on the line before
}

// get returns a string field's value: the line before's when equal (an
// account, a VPC, an interface's run of records), else interned.
func (p *flowParser) get(k int, tok []byte) string {
	if string(tok) == p.last[k] {
		return p.last[k]
	}
	v := p.in.get(tok)
	p.last[k] = v
	return v
}

// parse fills rec from line; it returns what is wrong, or "".
func (p *flowParser) parse(line []byte, rec *FlowRecord) string {
	rec.Protocol = -1
	i := 0
	for k, f := range p.format {
		var tok []byte
		tok, i = nextToken(line, i)
		if len(tok) == 0 {
			return fmt.Sprintf("the record has %d fields; the format has %d (%s).", k, len(p.format), p.formatNames())
		}
		if len(tok) == 1 && tok[0] == '-' {
			continue
		}
		if msg := p.field(f, tok, rec); msg != "" {
			return msg
		}
	}
	if tok, _ := nextToken(line, i); len(tok) > 0 {
		n := len(p.format)
		for j := i; ; n++ {
			var t []byte
			if t, j = nextToken(line, j); len(t) == 0 {
				break
			}
		}
		return fmt.Sprintf("the record has %d fields; the format has %d (%s).", n, len(p.format), p.formatNames())
	}
	return ""
}

// formatNames is the format's field names, for errors.
func (p *flowParser) formatNames() string {
	names := make([]string, len(p.format))
	for i, f := range p.format {
		names[i] = "?"
		for n, g := range flowFields {
			if g == f && f != fIgnored {
				names[i] = n
			}
		}
	}
	return strings.Join(names, " ")
}

func (p *flowParser) field(f flowField, tok []byte, rec *FlowRecord) string {
	var ok bool
	switch f {
	case fIgnored:
		ok = true
	case fVersion:
		var v uint64
		v, ok = parseUint(tok, 1<<16)
		rec.Version = int(v)
	case fAccountID:
		rec.AccountID, ok = p.get(0, tok), true
	case fInterfaceID:
		rec.InterfaceID, ok = p.get(1, tok), true
	case fSrcAddr:
		rec.SrcAddr, ok = parseAddr(tok)
	case fDstAddr:
		rec.DstAddr, ok = parseAddr(tok)
	case fPktSrcAddr:
		rec.PktSrcAddr, ok = parseAddr(tok)
	case fPktDstAddr:
		rec.PktDstAddr, ok = parseAddr(tok)
	case fSrcPort, fDstPort:
		var v uint64
		if v, ok = parseUint(tok, 1<<16-1); ok {
			if f == fSrcPort {
				rec.SrcPort = uint16(v)
			} else {
				rec.DstPort = uint16(v)
			}
		}
	case fProtocol:
		var v uint64
		v, ok = parseUint(tok, 255)
		rec.Protocol = int16(v)
	case fPackets, fBytes, fStart, fEnd:
		var v uint64
		v, ok = parseUint(tok, 1<<63-1)
		switch f {
		case fPackets:
			rec.Packets = int64(v)
		case fBytes:
			rec.Bytes = int64(v)
		case fStart:
			rec.Start = int64(v)
		default:
			rec.End = int64(v)
		}
	case fAction:
		switch string(tok) {
		case "ACCEPT":
			rec.Action, ok = FlowActionAccept, true
		case "REJECT":
			rec.Action, ok = FlowActionReject, true
		}
	case fLogStatus:
		switch string(tok) {
		case "OK":
			rec.LogStatus, ok = FlowOK, true
		case "NODATA":
			rec.LogStatus, ok = FlowNoData, true
		case "SKIPDATA":
			rec.LogStatus, ok = FlowSkipData, true
		}
	case fVPCID:
		rec.VPCID, ok = p.get(2, tok), true
	case fSubnetID:
		rec.SubnetID, ok = p.get(3, tok), true
	case fInstanceID:
		rec.InstanceID, ok = p.get(4, tok), true
	case fTCPFlags:
		var v uint64
		v, ok = parseUint(tok, 1<<16-1)
		rec.TCPFlags = uint16(v)
	case fType:
		rec.Type, ok = p.get(5, tok), true
	case fRegion:
		rec.Region, ok = p.get(6, tok), true
	case fAZID:
		rec.AZID, ok = p.get(7, tok), true
	case fSublocationType:
		rec.SublocationType, ok = p.get(8, tok), true
	case fSublocationID:
		rec.SublocationID, ok = p.get(9, tok), true
	case fPktSrcAWSService:
		rec.PktSrcAWSService, ok = p.get(10, tok), true
	case fPktDstAWSService:
		rec.PktDstAWSService, ok = p.get(11, tok), true
	case fFlowDirection:
		switch string(tok) {
		case "ingress":
			rec.FlowDirection, ok = FlowIngress, true
		case "egress":
			rec.FlowDirection, ok = FlowEgress, true
		}
	case fTrafficPath:
		var v uint64
		v, ok = parseUint(tok, 127)
		rec.TrafficPath = int8(v)
	}
	if ok {
		return ""
	}
	return fieldError(f, tok)
}

// fieldError says what a field's value should have been.
func fieldError(f flowField, tok []byte) string {
	if len(tok) > 64 {
		tok = append(tok[:61:61], "..."...)
	}
	var name, want string
	switch f {
	case fVersion:
		name, want = "version", "a version number"
	case fSrcAddr, fDstAddr, fPktSrcAddr, fPktDstAddr:
		name, want = map[flowField]string{fSrcAddr: "srcaddr", fDstAddr: "dstaddr", fPktSrcAddr: "pkt-srcaddr", fPktDstAddr: "pkt-dstaddr"}[f], "an IPv4 or IPv6 address"
	case fSrcPort, fDstPort:
		name, want = map[flowField]string{fSrcPort: "srcport", fDstPort: "dstport"}[f], "a port number (0 to 65535)"
	case fProtocol:
		name, want = "protocol", "an IANA protocol number (0 to 255)"
	case fPackets, fBytes:
		name, want = map[flowField]string{fPackets: "packets", fBytes: "bytes"}[f], "a count"
	case fStart, fEnd:
		name, want = map[flowField]string{fStart: "start", fEnd: "end"}[f], "a time in Unix seconds"
	case fAction:
		name, want = "action", "ACCEPT, REJECT or -"
	case fLogStatus:
		name, want = "log-status", "OK, NODATA or SKIPDATA"
	case fTCPFlags:
		name, want = "tcp-flags", "a number"
	case fFlowDirection:
		name, want = "flow-direction", "ingress, egress or -"
	case fTrafficPath:
		name, want = "traffic-path", "a number (1 to 8)"
	default:
		name, want = "a field", "valid"
	}
	return fmt.Sprintf("%s %q is not %s.", name, tok, want)
}

// parseUint reads a decimal number of at most limit.
func parseUint(b []byte, limit uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, v <= limit
}

// parseAddr reads an address: IPv4 by hand (nearly every flow's), others
// through netip.
func parseAddr(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	k, v, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && v == 0 || v > 25 { // a leading zero or past 255: netip decides
				return parseAddrSlow(b)
			}
			v = v*10 + int(c-'0')
			digits++
		case c == '.':
			if digits == 0 || k == 3 || v > 255 {
				return parseAddrSlow(b)
			}
			ip[k] = byte(v)
			k, v, digits = k+1, 0, 0
		default:
			return parseAddrSlow(b)
		}
	}
	if k != 3 || digits == 0 || v > 255 {
		return parseAddrSlow(b)
	}
	ip[3] = byte(v)
	return netip.AddrFrom4(ip), true
}

func parseAddrSlow(b []byte) (netip.Addr, bool) {
	a, err := netip.ParseAddr(string(b))
	return a, err == nil
}
