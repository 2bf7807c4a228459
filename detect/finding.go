package detect

import (
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
			}
			id := r.Type + "\x00" + key
			o := byKey[id]
			if o == nil {
				o = &Occurrence{Rule: r, Key: key, First: rec.time, Latest: rec, ListName: list, firstSeen: len(byKey)}
				byKey[id] = o
			}
			o.Count++
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
		"additionalInfo": obj{"type": "default", "value": `{"eventID":"` + jsonText(rec.EventID) + `"}`},
	}
	if o.Rule.ThreatList != "" {
		list := o.Rule.ThreatList
		if list == "{list}" {
			list = o.ListName
		}
		service["evidence"] = obj{"threatIntelligenceDetails": []any{obj{"threatListName": list}}}
	}
	return obj{
		"schemaVersion": "2.0",
		"accountId":     account,
		"region":        region,
		"partition":     partition,
		"id":            id,
		"arn":           "arn:" + partition + ":guardduty:" + region + ":" + account + ":detector/" + detectorID + "/finding/" + id,
		"type":          o.Rule.Type,
		"severity":      o.Rule.Severity,
		"title":         o.text(o.Rule.Title),
		"description":   o.text(o.Rule.Description),
		"createdAt":     guardpost.ISOTime(now),
		"updatedAt":     guardpost.ISOTime(now),
		"resource":      resource,
		"service":       service,
	}
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
		"{trail}", o.trail(), "{list}", o.ListName, "{bucket}", rec.requestParameter("bucketName"), "{account}", rec.RecipientAccountID,
	).Replace(template)
}

// jsonText escapes s for a JSON string (event ids are plain, but a
// record is outside input).
func jsonText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
