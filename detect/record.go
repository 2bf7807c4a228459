// Package detect turns CloudTrail events (management events, and S3 data
// events for the S3 Protection types) into GuardDuty findings. The rules
// are data: rules.go holds one table row per finding type (its trigger,
// severity, wording, resource and aggregation key); finding.go renders a
// row's occurrences as GuardDuty's Finding document; ingest.go decides
// which records each detector analyses and writes the findings through
// the service's one findings pipeline.
package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Record is one CloudTrail event, with the members detection reads (the
// record format of the CloudTrail user guide, "CloudTrail record
// contents").
type Record struct {
	EventVersion       string `json:"eventVersion"`
	EventTime          string `json:"eventTime"`
	EventSource        string `json:"eventSource"`
	EventName          string `json:"eventName"`
	AWSRegion          string `json:"awsRegion"`
	SourceIPAddress    string `json:"sourceIPAddress"`
	UserAgent          string `json:"userAgent"`
	ErrorCode          string `json:"errorCode"`
	ReadOnly           *bool  `json:"readOnly"`
	EventType          string `json:"eventType"`
	EventCategory      string `json:"eventCategory"`
	ManagementEvent    *bool  `json:"managementEvent"`
	EventID            string `json:"eventID"`
	RecipientAccountID string `json:"recipientAccountId"`
	// VPCEndpointAccountID owns the VPC endpoint a call came through
	// (CloudTrail records it for calls made through AWS PrivateLink).
	VPCEndpointAccountID string          `json:"vpcEndpointAccountId"`
	VPCEndpointID        string          `json:"vpcEndpointId"`
	UserIdentity         UserIdentity    `json:"userIdentity"`
	RequestParameters    json.RawMessage `json:"requestParameters"`
	// ResponseElements is read only by ENIMap.Learn (the interfaces
	// RunInstances and CreateNetworkInterface report).
	ResponseElements json.RawMessage `json:"responseElements"`

	// Raw is the record as it was received (a slice of the body): what
	// a finding keeps as evidence.
	Raw []byte `json:"-"`

	time time.Time  // EventTime parsed
	ip   netip.Addr // SourceIPAddress when it is an address
	n    int        // 1-based position in the body
	size int        // bytes of the body it took (a file's bytes shared among its records)

	paramsRead    bool
	paramsDecoded map[string]any
}

// UserIdentity is the record's userIdentity element.
type UserIdentity struct {
	Type           string `json:"type"`
	PrincipalID    string `json:"principalId"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	AccessKeyID    string `json:"accessKeyId"`
	UserName       string `json:"userName"`
	InvokedBy      string `json:"invokedBy"`
	SessionContext struct {
		SessionIssuer struct {
			Type     string `json:"type"`
			UserName string `json:"userName"`
		} `json:"sessionIssuer"`
	} `json:"sessionContext"`
}

// logValue is one top-level JSON value of a body that is not a log file
// in CloudTrail's own layout (see logFile): a file whose Records member
// is not first, or one record (JSON lines). One decode serves both.
type logValue struct {
	Records []json.RawMessage `json:"Records"`
	Record
}

// Parse reads a body of CloudTrail log files and/or records, in order,
// keeping each record's bytes as received (Record.Raw) for evidence. An
// error names the record that is malformed ("Record n: ...", counting
// records from 1 across the body).
func Parse(r io.Reader) ([]Record, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return parse(data)
}

// parse decodes data. A log file as CloudTrail writes it ({"Records":
// [...]}) is streamed one record at a time, each decoded straight into
// place: the decoder's offsets around each record give its bytes, at no
// extra pass over the body (see BenchmarkParse for the alternatives).
func parse(data []byte) ([]Record, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	var out []Record
	for {
		start := int(d.InputOffset())
		pos := start + len(data[start:]) - len(bytes.TrimLeft(data[start:], " \t\r\n"))
		if pos == len(data) {
			return out, nil
		}
		if logFile(data[pos:]) {
			var err error
			if out, err = parseFile(d, data, out); err != nil {
				return nil, err
			}
			continue
		}
		var v logValue
		err := d.Decode(&v)
		if err != nil {
			return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
		}
		end := int(d.InputOffset())
		if v.Records == nil {
			if err := v.Record.prepare(len(out)+1, data[pos:end], end-start); err != nil {
				return nil, err
			}
			out = append(out, v.Record)
			continue
		}
		for _, raw := range v.Records {
			var rec Record
			if err := json.Unmarshal(raw, &rec); err != nil {
				return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
			}
			if err := rec.prepare(len(out)+1, raw, len(raw)); err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
	}
}

// logFile reports whether b starts a log file in CloudTrail's layout: an
// object whose first member is the Records array.
func logFile(b []byte) bool {
	for _, want := range [...]string{"{", `"Records"`, ":", "["} {
		b = bytes.TrimLeft(b, " \t\r\n")
		if !bytes.HasPrefix(b, []byte(want)) {
			return false
		}
		b = b[len(want):]
	}
	return true
}

// parseFile decodes the log file d is at (logFile), appending its records
// to out.
func parseFile(d *json.Decoder, data []byte, out []Record) ([]Record, error) {
	for range 3 { // {, "Records", [
		if _, err := d.Token(); err != nil {
			return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
		}
	}
	for d.More() {
		start := int(d.InputOffset())
		out = append(out, Record{})
		rec := &out[len(out)-1]
		if err := d.Decode(rec); err != nil {
			return nil, fmt.Errorf("Record %d: %v", len(out), err)
		}
		end := int(d.InputOffset())
		// The record's bytes follow the separator (a comma) and spaces.
		raw := bytes.TrimLeft(data[start:end], ", \t\r\n")
		if err := rec.prepare(len(out), raw, end-start); err != nil {
			return nil, err
		}
	}
	if _, err := d.Token(); err != nil { // ]
		return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
	}
	// Members after Records (CloudTrail writes none) are read past.
	for d.More() {
		var skip json.RawMessage
		if _, err := d.Token(); err != nil {
			return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
		}
		if err := d.Decode(&skip); err != nil {
			return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
		}
	}
	if _, err := d.Token(); err != nil { // }
		return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
	}
	return out, nil
}

// prepare checks the members every record has and parses the ones rules
// compare.
// raw is the record's bytes as received and size the bytes of the body
// it took (with separators).
func (rec *Record) prepare(n int, raw []byte, size int) error {
	rec.n, rec.Raw, rec.size = n, raw, size
	for _, m := range [...]struct{ name, v string }{
		{"eventTime", rec.EventTime}, {"eventSource", rec.EventSource}, {"eventName", rec.EventName},
		{"awsRegion", rec.AWSRegion}, {"recipientAccountId", rec.RecipientAccountID},
	} {
		if m.v == "" {
			return fmt.Errorf("Record %d: the CloudTrail record lacks %s.", n, m.name)
		}
	}
	t, err := time.Parse(time.RFC3339, rec.EventTime)
	if err != nil {
		return fmt.Errorf("Record %d: eventTime %q is not an ISO 8601 time.", n, rec.EventTime)
	}
	rec.time = t.UTC()
	if ip, err := netip.ParseAddr(rec.SourceIPAddress); err == nil {
		rec.ip = ip.Unmap()
	}
	return nil
}

// Time is the record's eventTime, as Parse read it (UTC).
func (rec *Record) Time() time.Time { return rec.time }

// globalSources are the services whose events CloudTrail records in
// us-east-1 whatever region was called: every region's detector analyses
// them, as GuardDuty does.
var globalSources = map[string]bool{
	"iam.amazonaws.com": true, "sts.amazonaws.com": true, "signin.amazonaws.com": true,
}

// Global reports whether rec is a global-service event.
func (rec *Record) Global() bool {
	return rec.AWSRegion == "us-east-1" && globalSources[rec.EventSource]
}

// readOnly reports whether the call only reads: the record's readOnly
// member, or for records without it the API's verb.
func (rec *Record) readOnly() bool {
	if rec.ReadOnly != nil {
		return *rec.ReadOnly
	}
	for _, p := range [...]string{"Get", "List", "Describe", "Head", "Lookup"} {
		if strings.HasPrefix(rec.EventName, p) {
			return true
		}
	}
	return false
}

// dataEvent reports whether rec is a data event (S3 object-level calls),
// which the S3 Protection types analyse, not the IAM ones.
func (rec *Record) dataEvent() bool {
	return rec.EventCategory == "Data" || rec.ManagementEvent != nil && !*rec.ManagementEvent
}

// byService reports whether an AWS service made the call on the account's
// behalf: no person's credentials were used from an address.
func (rec *Record) byService() bool {
	return rec.UserIdentity.Type == "AWSService" || rec.UserIdentity.InvokedBy != ""
}

// remoteAccount is the other AWS account a call came from: the owner of
// the VPC endpoint it came through, when that is not the account called
// ("" otherwise).
func (rec *Record) remoteAccount() string {
	a := rec.VPCEndpointAccountID
	if a == "" || a == rec.RecipientAccountID || a == "AWS" {
		return ""
	}
	return a
}

// requestParameter returns a string member of requestParameters.
func (rec *Record) requestParameter(name string) string {
	s, _ := rec.params()[name].(string)
	return s
}

// params is requestParameters decoded (nil when absent or not an object),
// decoded once, and only for the records a rule looks into.
func (rec *Record) params() map[string]any {
	if !rec.paramsRead {
		rec.paramsRead = true
		if len(rec.RequestParameters) > 0 && rec.RequestParameters[0] == '{' {
			json.Unmarshal(rec.RequestParameters, &rec.paramsDecoded)
		}
	}
	return rec.paramsDecoded
}
