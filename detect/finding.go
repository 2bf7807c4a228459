package detect

import (
	"encoding/json"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/guardpost/guardpost"
)

// Occurrence is one finding detection makes: a rule's hits by one
// aggregation key within a body, folded together.
type Occurrence struct {
	Rule      *Rule
	Key       string // the aggregation key (see Rule.Aggregate)
	Count     int
	First     time.Time // the earliest hit's eventTime
	Latest    *Record   // the latest hit: the finding shows its details
	ListName  string    // the custom threat list of the latest hit
	firstSeen int       // order of first hit, for a stable output

	// The hits kept as evidence, in the order they came: the first
	// guardpost.EvidenceKept, and the latest ones in a ring (next is where
	// the next latest goes).
	firstHits  []*Record
	latestHits []*Record
	next       int
	earliest   *Record // the hit with the earliest eventTime
}

// hit records rec as one more hit of o for its evidence.
func (o *Occurrence) hit(rec *Record) {
	if o.earliest == nil || rec.time.Before(o.earliest.time) {
		o.earliest = rec
	}
	if len(o.firstHits) < guardpost.EvidenceKept {
		o.firstHits = append(o.firstHits, rec)
		return
	}
	if len(o.latestHits) < guardpost.EvidenceKept {
		o.latestHits = append(o.latestHits, rec)
		return
	}
	o.latestHits[o.next] = rec
	o.next = (o.next + 1) % guardpost.EvidenceKept
}

// Evidence returns the records kept as the occurrence's evidence, in the
// order they came, and how many hits between the first and the latest
// were left out (see guardpost.Finding.EvidenceSkipped).
func (o *Occurrence) Evidence() (records [][]byte, skipped int) {
	records = make([][]byte, 0, len(o.firstHits)+len(o.latestHits))
	for _, rec := range o.firstHits {
		records = append(records, rec.Raw)
	}
	for i := range o.latestHits {
		records = append(records, o.latestHits[(o.next+i)%len(o.latestHits)].Raw)
	}
	return records, o.Count - len(records)
}

// Analyse runs every rule over records and folds the hits into
// occurrences, in the order their first hits came. trusted reports
// addresses on the detector's trusted IP sets: their calls make no
// finding, nor do calls AWS services make on the account's behalf.
func Analyse(l *Lookups, trusted func(netip.Addr) bool, records []*Record) []*Occurrence {
	byKey := map[string]*Occurrence{}
	for _, rec := range records {
		if rec.byService() || rec.ip.IsValid() && trusted != nil && trusted(rec.ip) {
			continue
		}
		for i := range Rules {
			r := &Rules[i]
			hit, list := r.Trigger(l, rec)
			if !hit {
				continue
			}
			key := principal(rec)
			switch r.Aggregate {
			case byPrincipalAndIP:
				key += "|" + rec.SourceIPAddress
			case byPrincipalAndBucket:
				key += "|" + rec.requestParameter("bucketName")
			case byPrincipalAndRemoteAccount:
				key += "|" + rec.remoteAccount()
			}
			id := r.Type + "\x00" + key
			o := byKey[id]
			if o == nil {
				o = &Occurrence{Rule: r, Key: key, First: rec.time, Latest: rec, ListName: list, firstSeen: len(byKey)}
				byKey[id] = o
			}
			o.Count++
			o.hit(rec)
			if rec.time.Before(o.First) {
				o.First = rec.time
			}
			if !rec.time.Before(o.Latest.time) {
				o.Latest, o.ListName = rec, list
			}
		}
	}
	out := make([]*Occurrence, 0, len(byKey))
	for _, o := range byKey {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].firstSeen < out[j].firstSeen })
	return out
}

// principal is who made the call: the identity type and its ARN (or
// principal id when the record has no ARN).
func principal(rec *Record) string {
	id := rec.UserIdentity.ARN
	if id == "" {
		id = rec.UserIdentity.PrincipalID
	}
	return rec.UserIdentity.Type + ":" + id
}

type obj = map[string]any

// Document renders o as GuardDuty's Finding object for the detector
// detectorID of account in region, with id as its id and now as its
// creation time. Times of the activity come from the records.
func (o *Occurrence) Document(account, region, detectorID, id string, now time.Time) obj {
	rec := o.Latest
	partition := guardpost.Partition(region)
	call := obj{
		"api":               rec.EventName,
		"serviceName":       rec.EventSource,
		"affectedResources": obj{},
	}
	if rec.UserAgent != "" {
		call["userAgent"] = rec.UserAgent
	}
	if rec.ErrorCode != "" {
		call["errorCode"] = rec.ErrorCode
	}
	if rec.ip.IsValid() {
		call["callerType"] = "Remote IP"
		if rec.ip.Is4() {
			call["remoteIpDetails"] = obj{"ipAddressV4": rec.ip.String()}
		} else {
			call["remoteIpDetails"] = obj{"ipAddressV6": rec.ip.String()}
		}
	} else if rec.SourceIPAddress != "" {
		call["callerType"] = "Domain"
		call["domainDetails"] = obj{"domain": rec.SourceIPAddress}
	}
	if o.Rule.Aggregate == byPrincipalAndRemoteAccount {
		// affiliated (the account is in the caller's GuardDuty
		// organization) is not known here.
		call["remoteAccountDetails"] = obj{"accountId": rec.remoteAccount(), "affiliated": false}
	}
	if trail := o.trail(); trail != "" {
		call["affectedResources"] = obj{"AWS::CloudTrail::Trail": trail}
	}
	resource := obj{"resourceType": "AccessKey", "accessKeyDetails": accessKeyDetails(rec)}
	if id := instanceID(rec); id != "" {
		resource["instanceDetails"] = obj{"instanceId": id}
	}
	if o.Rule.Resource == s3Bucket {
		resource["resourceType"] = s3Bucket
		if bucket := rec.requestParameter("bucketName"); bucket != "" {
			call["affectedResources"] = obj{"AWS::S3::Bucket": bucket}
			resource["s3BucketDetails"] = []any{obj{"name": bucket, "arn": "arn:" + partition + ":s3:::" + bucket, "type": "Destination"}}
		}
	}
	feature := o.Rule.Feature
	if feature == "" {
		feature = "CloudTrail"
	}
	service := obj{
		"serviceName":    "guardduty",
		"detectorId":     detectorID,
		"archived":       false,
		"count":          o.Count,
		"eventFirstSeen": guardpost.ISOTime(o.First),
		"eventLastSeen":  guardpost.ISOTime(rec.time),
		"resourceRole":   "TARGET",
		"featureName":    feature,
		"action":         obj{"actionType": "AWS_API_CALL", "awsApiCallAction": call},
		"additionalInfo": obj{"type": "default", "value": o.summary(detectorID, id)},
	}
	if o.Rule.ThreatList != "" {
		list := o.Rule.ThreatList
		if list == "{list}" {
			list = o.ListName
		}
		service["evidence"] = obj{"threatIntelligenceDetails": []any{obj{"threatListName": list}}}
	}
	return NewDocument(Doc{Account: account, Region: region, DetectorID: detectorID, ID: id, Type: o.Rule.Type, Severity: o.Rule.Severity,
		Title: o.text(o.Rule.Title), Description: o.text(o.Rule.Description), Now: now, Resource: resource, Service: service})
}

// accessKeyDetails describes the credentials that made the call.
func accessKeyDetails(rec *Record) obj {
	u := &rec.UserIdentity
	name := u.UserName
	switch {
	case u.Type == "Root" && name == "":
		name = "Root"
	case u.Type == "AssumedRole" && u.SessionContext.SessionIssuer.UserName != "":
		name = u.SessionContext.SessionIssuer.UserName
	}
	d := obj{"userType": u.Type}
	for k, v := range map[string]string{"accessKeyId": u.AccessKeyID, "principalId": u.PrincipalID, "userName": name} {
		if v != "" {
			d[k] = v
		}
	}
	return d
}

// trail is the trail a CloudTrail call named.
func (o *Occurrence) trail() string {
	if o.Latest.EventSource != "cloudtrail.amazonaws.com" {
		return ""
	}
	return o.Latest.requestParameter("name")
}

// text fills a wording template's placeholders.
func (o *Occurrence) text(template string) string {
	rec := o.Latest
	who := rec.UserIdentity.UserName
	if who == "" {
		who = rec.UserIdentity.SessionContext.SessionIssuer.UserName
	}
	if who == "" {
		who = rec.UserIdentity.ARN
	}
	if who == "" {
		who = rec.UserIdentity.PrincipalID
	}
	return strings.NewReplacer(
		"{api}", rec.EventName, "{ip}", rec.SourceIPAddress, "{principal}", who, "{user}", who,
		"{trail}", o.trail(), "{list}", o.ListName, "{bucket}", rec.requestParameter("bucketName"), "{account}", rec.RecipientAccountID, "{remoteAccount}", rec.remoteAccount(), "{vpcEndpoint}", rec.VPCEndpointID,
	).Replace(template)
}

// summary is the occurrence's service.additionalInfo value: the latest
// and the first event's ids and what the evidence endpoint holds, in the
// form the pipeline keeps true across occurrences (see
// guardpost.mergeEvidenceSummary).
func (o *Occurrence) summary(detectorID, id string) string {
	first := o.Latest
	if o.earliest != nil {
		first = o.earliest
	}
	b, _ := json.Marshal(struct {
		EventID      string `json:"eventID"`
		FirstEventID string `json:"firstEventID"`
		Evidence     struct {
			Records int    `json:"records"`
			Path    string `json:"path"`
		} `json:"evidence"`
	}{EventID: o.Latest.EventID, FirstEventID: first.EventID, Evidence: struct {
		Records int    `json:"records"`
		Path    string `json:"path"`
	}{o.Count, guardpost.EvidencePath(detectorID, id)}})
	return string(b)
}
