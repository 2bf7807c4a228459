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
	"errors"
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
	EventVersion       string          `json:"eventVersion"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	ReadOnly           *bool           `json:"readOnly"`
	EventType          string          `json:"eventType"`
	EventCategory      string          `json:"eventCategory"`
	ManagementEvent    *bool           `json:"managementEvent"`
	EventID            string          `json:"eventID"`
	RecipientAccountID string          `json:"recipientAccountId"`
	UserIdentity       UserIdentity    `json:"userIdentity"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	// ResponseElements is read only by ENIMap.Learn (the interfaces
	// RunInstances and CreateNetworkInterface report).
	ResponseElements json.RawMessage `json:"responseElements"`

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

// logValue is one top-level JSON value of a body: a CloudTrail log file
// ({"Records": [...]}, as CloudTrail writes it to S3) or one record (JSON
// lines). One decode serves both.
type logValue[R any] struct {
	Records []R `json:"Records"`
	Record
}

// Parse reads a body of CloudTrail log files and/or records, in order.
// An error names the record that is malformed ("Record n: ...", counting
// records from 1 across the body).
func Parse(r io.Reader) ([]Record, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	// A file's records decode straight into place; only when that fails is
	// the body read again one record at a time, to name the record.
	out, err := parse[Record](data)
	if err != nil {
		if _, exact := parse[json.RawMessage](data); exact != nil {
			return nil, exact
		}
	}
	return out, err
}

// parse decodes data with a file's records as R: Record, or
// json.RawMessage to decode (and fail) one record at a time.
func parse[R any](data []byte) ([]Record, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	var out []Record
	for {
		var v logValue[R]
		start := d.InputOffset()
		err := d.Decode(&v)
		size := int(d.InputOffset() - start)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
		}
		if v.Records == nil {
			if err := v.Record.prepare(len(out) + 1); err != nil {
				return nil, err
			}
			v.Record.size = size
			out = append(out, v.Record)
			continue
		}
		for i := range v.Records {
			var rec *Record
			switch x := any(&v.Records[i]).(type) {
			case *Record:
				rec = x
			case *json.RawMessage:
				rec = new(Record)
				if err := json.Unmarshal(*x, rec); err != nil {
					return nil, fmt.Errorf("Record %d: %v", len(out)+1, err)
				}
			}
			if err := rec.prepare(len(out) + 1); err != nil {
				return nil, err
			}
			rec.size = size / len(v.Records)
			out = append(out, *rec)
		}
	}
}

// prepare checks the members every record has and parses the ones rules
// compare.
func (rec *Record) prepare(n int) error {
	rec.n = n
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
