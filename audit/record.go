// Package audit keeps guardpost's audit log: one CloudTrail record per
// GuardDuty call, in the record format CloudTrail documents, written as
// JSON lines to size- and day-rotated files under the data directory, so
// that any tool that reads CloudTrail (and guardpost itself) can answer
// "who archived this finding". It holds the record type, the writer (Log)
// with its durability rule, and the reader with its filter.
package audit

import (
	"encoding/json"
	"time"
)

// Values every record guardpost writes carries.
const (
	// EventVersion is the CloudTrail record format version. 1.08 is the
	// version GuardDuty's own CloudTrail examples show, and every field
	// guardpost fills (tlsDetails the latest of them) exists since 1.08, so
	// a reader that checks the minor version with >= accepts the records.
	EventVersion = "1.08"
	// EventSource is the service the calls went to (guardpost's own
	// ingest endpoints included: they are the GuardDuty server's).
	EventSource = "guardduty.amazonaws.com"
	// EventSourceSTS is the eventSource of STS's calls.
	EventSourceSTS = "sts.amazonaws.com"
	// EventTypeAPICall is the eventType of an API call's record.
	EventTypeAPICall = "AwsApiCall"
	// EventCategoryManagement is the eventCategory of management events,
	// which every GuardDuty API call is.
	EventCategoryManagement = "Management"
	// TimeFormat is eventTime's layout: UTC to the second, as CloudTrail
	// writes it.
	TimeFormat = "2006-01-02T15:04:05Z"
	// MaxFieldBytes is the largest requestParameters or responseElements
	// kept whole (CloudTrail's documented limit for these fields); a larger
	// one is replaced by Omitted.
	MaxFieldBytes = 100 << 10
)

// Omitted stands for a requestParameters or responseElements larger than
// MaxFieldBytes: CloudTrail marks a truncated field with "omitted": true.
var Omitted = json.RawMessage(`{"omitted":true}`)

// Record is one CloudTrail record, with the fields CloudTrail documents for
// management events ("CloudTrail record contents") in the order CloudTrail
// writes them. Fields guardpost has no value for (additionalEventData,
// resources, sharedEventID, vpcEndpointId, ...) are declared so that
// records written by AWS parse into the same type.
type Record struct {
	EventVersion        string          `json:"eventVersion"`
	UserIdentity        UserIdentity    `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode,omitempty"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	RequestParameters   json.RawMessage `json:"requestParameters"` // JSON null when the call had none
	ResponseElements    json.RawMessage `json:"responseElements"`  // JSON null for reads, failures and empty answers
	AdditionalEventData json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID           string          `json:"requestID"`
	EventID             string          `json:"eventID"`
	ReadOnly            bool            `json:"readOnly"`
	Resources           []Resource      `json:"resources,omitempty"`
	EventType           string          `json:"eventType"`
	APIVersion          string          `json:"apiVersion,omitempty"`
	ManagementEvent     bool            `json:"managementEvent"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID,omitempty"`
	VPCEndpointID       string          `json:"vpcEndpointId,omitempty"`
	EventCategory       string          `json:"eventCategory"`
	TLSDetails          *TLSDetails     `json:"tlsDetails,omitempty"`
}

// UserIdentity is the caller, as CloudTrail's userIdentity element
// describes it. guardpost's callers are the profiles of its credentials
// file, each an IAM user (Type "IAMUser") named after the profile.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
}

// SessionContext describes temporary credentials (type "AssumedRole").
type SessionContext struct {
	SessionIssuer *SessionIssuer    `json:"sessionIssuer,omitempty"`
	Attributes    SessionAttributes `json:"attributes"`
}

// SessionIssuer is the role (or user) whose temporary credentials signed.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// SessionAttributes tell when the temporary credentials were issued.
type SessionAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// Resource is one element of a record's resources list.
type Resource struct {
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// TLSDetails describes the request's TLS connection, when it had one.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// Time returns the record's eventTime; the zero time if it does not parse.
func (r *Record) Time() time.Time {
	t, _ := time.Parse(time.RFC3339, r.EventTime)
	return t
}
