package guardpost

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UsageWindow is how far back GetUsageStatistics looks: the real service
// reports the last 30 days (counted here in whole UTC days, today
// included).
const UsageWindow = 30

// UsageKept is how many days of usage a store keeps: the window, and a
// few days' margin for nodes whose clocks disagree.
const UsageKept = UsageWindow + 5

// UsageRecord is what one ingest analysed of one feature, for one
// resource or for none.
type UsageRecord struct {
	// Feature is a UsageFeature name: the data source names of log
	// ingests ("CLOUD_TRAIL", "FLOW_LOGS", "DNS_LOGS", as
	// detect.Analysed.DataSource has them) are feature names too.
	Feature string
	// ResourceID is the resource the records were about (an instance id,
	// an access key id), "" when the ingest does not say.
	ResourceID string
	Records    int64
	Bytes      int64 // as received (decoded)
}

// UsageTotal is what a detector analysed of one feature and resource on
// one UTC day (the row a store keeps, whatever the number of ingests), or
// from one day on.
type UsageTotal struct {
	AccountID  string
	DetectorID string
	Day        time.Time // UTC midnight: the day, or the first day summed
	Feature    string
	ResourceID string
	Records    int64
	Bytes      int64
}

// UsageStore keeps usage totals.
type UsageStore interface {
	// AddUsage adds each record's counts to the detector's totals of day
	// (one row per day, feature and resource, whatever the number of
	// ingests), in one transaction, and forgets the detector's totals of
	// the days before day minus UsageKept days. ENOTFOUND when the
	// detector does not exist in scope.
	AddUsage(ctx context.Context, scope Scope, detectorID string, day time.Time, usage []UsageRecord) error
	// Usage returns the totals of the detectors of region from day since
	// on, summed over the days: one total per detector, feature and
	// resource (Day is since), in no particular order.
	Usage(ctx context.Context, region string, detectors []DetectorRef, since time.Time) ([]UsageTotal, error)
}

// The usage statistic types of GetUsageStatistics.
const (
	UsageSumByAccount         = "SUM_BY_ACCOUNT"
	UsageSumByDataSource      = "SUM_BY_DATA_SOURCE"
	UsageSumByResource        = "SUM_BY_RESOURCE"
	UsageTopResources         = "TOP_RESOURCES"
	UsageSumByFeatures        = "SUM_BY_FEATURES"
	UsageTopAccountsByFeature = "TOP_ACCOUNTS_BY_FEATURE"
)

// The units of a usage total. USD is the real service's only unit: the
// cost, which guardpost, being free, answers as 0. BYTES and RECORDS are
// guardpost's extension: the volumes actually analysed.
const (
	UnitUSD     = "USD"
	UnitBytes   = "BYTES"
	UnitRecords = "RECORDS"
)

// dataSourceFeatures maps the deprecated data sources to the features
// that replaced them (the three log sources kept their names).
var dataSourceFeatures = map[string]string{
	"FLOW_LOGS":             "FLOW_LOGS",
	"CLOUD_TRAIL":           "CLOUD_TRAIL",
	"DNS_LOGS":              "DNS_LOGS",
	"S3_LOGS":               "S3_DATA_EVENTS",
	"KUBERNETES_AUDIT_LOGS": "EKS_AUDIT_LOGS",
	"EC2_MALWARE_SCAN":      "EBS_MALWARE_PROTECTION",
}

// featureDataSource is the data source a feature is reported under by
// SUM_BY_DATA_SOURCE; "" for features that never were a data source.
func featureDataSource(feature string) string {
	for ds, f := range dataSourceFeatures {
		if f == feature {
			return ds
		}
	}
	return ""
}

// RecordUsage adds what an ingest analysed for the detector at time at to
// its usage: the ingest paths call it after a successful ingest. Records
// of one feature and resource are summed first, so a store writes one row
// per (day, feature, resource) however many records an ingest had.
func (s *Service) RecordUsage(ctx context.Context, scope Scope, detectorID string, at time.Time, usage []UsageRecord) error {
	type key struct{ feature, resource string }
	index := map[key]int{}
	var merged []UsageRecord
	for _, u := range usage {
		if u.Records == 0 && u.Bytes == 0 {
			continue
		}
		k := key{u.Feature, u.ResourceID}
		i, ok := index[k]
		if !ok {
			index[k] = len(merged)
			merged = append(merged, u)
			continue
		}
		merged[i].Records += u.Records
		merged[i].Bytes += u.Bytes
	}
	if len(merged) == 0 {
		return nil
	}
	return s.Store.AddUsage(ctx, scope, detectorID, usageDay(at), merged)
}

func usageDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// UsageQuery is a GetUsageStatistics request.
type UsageQuery struct {
	Type        string
	AccountIDs  []string
	DataSources []string
	Features    []string
	Resources   []string
	Unit        string // "" is USD
	MaxResults  int
	NextToken   string
}

// UsageRow is one total of a usage statistic: Key is the account id, data
// source, feature or resource the total is of; Feature groups the rows of
// TOP_ACCOUNTS_BY_FEATURE.
type UsageRow struct {
	Feature string
	Key     string
	Amount  string
}

// UsageStatistics is the answer of GetUsageStatistics: the rows of the
// asked type, in the unit asked. For TOP_ACCOUNTS_BY_FEATURE a page holds
// whole features (all the top accounts of each).
type UsageStatistics struct {
	Type      string
	Unit      string
	Rows      []UsageRow
	NextToken string
}

// maxTop is how many resources (or accounts per feature) the TOP_ types
// list, as the real service does.
const maxTop = 50

// GetUsageStatistics reports what the caller's detector (and, for an
// administrator, its monitored members' detectors) analysed over the
// last UsageWindow days. usageCriteria must name features or (deprecated)
// data sources, not both; accountIds may name only the caller and the
// members whose findings it sees (all of them when absent); resources
// keeps the totals of those resources only. EINVALID for anything else.
func (s *Service) GetUsageStatistics(ctx context.Context, caller Scope, detectorID string, q UsageQuery) (*UsageStatistics, error) {
	vis, err := s.visibility(ctx, caller, detectorID)
	if err != nil {
		return nil, err
	}
	switch q.Type {
	case UsageSumByAccount, UsageSumByDataSource, UsageSumByResource, UsageTopResources, UsageSumByFeatures, UsageTopAccountsByFeature:
	default:
		return nil, Errorf(EINVALID, "The request is rejected because usageStatisticsType %q is not valid: use SUM_BY_ACCOUNT, SUM_BY_DATA_SOURCE, SUM_BY_RESOURCE, TOP_RESOURCES, SUM_BY_FEATURES or TOP_ACCOUNTS_BY_FEATURE.", q.Type)
	}
	features, err := usageFeatures(q)
	if err != nil {
		return nil, err
	}
	unit := cmp.Or(q.Unit, UnitUSD)
	if unit != UnitUSD && unit != UnitBytes && unit != UnitRecords {
		return nil, Errorf(EINVALID, "The request is rejected because unit %q is not valid: use USD (the cost, always 0 in guardpost), or guardpost's BYTES or RECORDS for the volumes analysed.", q.Unit)
	}
	detectors := vis.Detectors
	if len(q.AccountIDs) > 0 {
		detectors = nil
		for _, id := range q.AccountIDs {
			i := slices.IndexFunc(vis.Detectors, func(d DetectorRef) bool { return d.AccountID == id })
			if i < 0 {
				return nil, Errorf(EINVALID, "The request is rejected because account %s is neither the current account nor a member whose findings it sees in %s: remove it from usageCriteria.accountIds.", id, caller.Region)
			}
			if !slices.Contains(detectors, vis.Detectors[i]) {
				detectors = append(detectors, vis.Detectors[i])
			}
		}
	}
	binding := fmt.Sprintf("usage|%s|%s|%s|%s|%s|%s|%s|%s", caller.AccountID, caller.Region, detectorID, q.Type, unit,
		strings.Join(q.AccountIDs, ","), strings.Join(features, ","), strings.Join(q.Resources, ","))
	// A page of sums resumes after the last key listed (keys are in
	// order, so a key that appears meanwhile is listed once or not at
	// all); a page of tops, whose order moves with the volumes, at the
	// position reached.
	top := q.Type == UsageTopResources || q.Type == UsageTopAccountsByFeature
	var after *string
	offset := 0
	if q.NextToken != "" {
		cur, err := s.Tokens.decode(binding, q.NextToken)
		if err != nil {
			return nil, err
		}
		if top {
			if offset, err = strconv.Atoi(cur.ID); err != nil || offset < 0 {
				return nil, Errorf(EINVALID, msgInvalidToken)
			}
		} else {
			after = &cur.ID
		}
	}
	since := usageDay(s.now()).AddDate(0, 0, -(UsageWindow - 1))
	totals, err := s.Store.Usage(ctx, caller.Region, detectors, since)
	if err != nil {
		return nil, err
	}
	totals = slices.DeleteFunc(totals, func(t UsageTotal) bool {
		return !slices.Contains(features, t.Feature) || (len(q.Resources) > 0 && !slices.Contains(q.Resources, t.ResourceID))
	})
	rows := usageRows(q.Type, unit, totals)
	out := &UsageStatistics{Type: q.Type, Unit: unit}
	limit := q.MaxResults
	if limit <= 0 {
		limit = 50
	}
	if after != nil {
		offset, _ = slices.BinarySearchFunc(rows, *after, func(r UsageRow, key string) int {
			if r.Key <= key {
				return -1
			}
			return 1
		})
	}
	offset = min(offset, len(rows))
	end := min(offset+limit, len(rows))
	if q.Type == UsageTopAccountsByFeature {
		// A page holds limit whole features.
		end = offset
		for n := 0; n < limit && end < len(rows); n++ {
			f := rows[end].Feature
			for end < len(rows) && rows[end].Feature == f {
				end++
			}
		}
	}
	out.Rows = rows[offset:end]
	if end < len(rows) {
		cur := FindingCursor{ID: strconv.Itoa(end)}
		if !top {
			cur.ID = rows[end-1].Key
		}
		out.NextToken = s.Tokens.encode(binding, cur)
	}
	return out, nil
}

// usageFeatures is the features a query asks about, sorted.
func usageFeatures(q UsageQuery) ([]string, error) {
	if len(q.Features) > 0 && len(q.DataSources) > 0 {
		return nil, Errorf(EINVALID, "The request is rejected because usageCriteria names both features and dataSources: use features only (dataSources is deprecated).")
	}
	var fs []string
	switch {
	case len(q.Features) > 0:
		fs = slices.Clone(q.Features)
	case len(q.DataSources) > 0:
		if q.Type == UsageSumByFeatures || q.Type == UsageTopAccountsByFeature {
			return nil, Errorf(EINVALID, "The request is rejected because usageStatisticsType %s needs usageCriteria.features, not the deprecated dataSources.", q.Type)
		}
		for _, ds := range q.DataSources {
			f, ok := dataSourceFeatures[ds]
			if !ok {
				return nil, Errorf(EINVALID, "The request is rejected because %q is not a data source: use FLOW_LOGS, CLOUD_TRAIL, DNS_LOGS, S3_LOGS, KUBERNETES_AUDIT_LOGS or EC2_MALWARE_SCAN.", ds)
			}
			fs = append(fs, f)
		}
	default:
		return nil, Errorf(EINVALID, "The request is rejected because usageCriteria names no features: list the features (for example CLOUD_TRAIL, FLOW_LOGS, DNS_LOGS) whose usage you want.")
	}
	if q.Type == UsageSumByDataSource {
		for _, f := range fs {
			if featureDataSource(f) == "" {
				return nil, Errorf(EINVALID, "The request is rejected because feature %s has no data source for usageStatisticsType SUM_BY_DATA_SOURCE: ask SUM_BY_FEATURES instead.", f)
			}
		}
	}
	slices.Sort(fs)
	return slices.Compact(fs), nil
}

// usageRows sums totals by what the statistic type groups them by and
// orders them: sums by their key, tops by volume (bytes, then records),
// largest first, the first maxTop only.
func usageRows(typ, unit string, totals []UsageTotal) []UsageRow {
	type group struct{ feature, key string }
	type sum struct{ records, bytes int64 }
	sums := map[group]*sum{}
	for _, t := range totals {
		var g group
		switch typ {
		case UsageSumByAccount:
			g.key = t.AccountID
		case UsageSumByDataSource:
			g.key = featureDataSource(t.Feature)
		case UsageSumByFeatures:
			g.key = t.Feature
		case UsageSumByResource, UsageTopResources:
			if t.ResourceID == "" {
				continue // volumes no resource was named for
			}
			g.key = t.ResourceID
		case UsageTopAccountsByFeature:
			g = group{t.Feature, t.AccountID}
		default:
			continue
		}
		s := sums[g]
		if s == nil {
			s = &sum{}
			sums[g] = s
		}
		s.records += t.Records
		s.bytes += t.Bytes
	}
	groups := make([]group, 0, len(sums))
	for g := range sums {
		groups = append(groups, g)
	}
	top := typ == UsageTopResources || typ == UsageTopAccountsByFeature
	slices.SortFunc(groups, func(a, b group) int {
		if c := strings.Compare(a.feature, b.feature); c != 0 {
			return c
		}
		if top {
			sa, sb := sums[a], sums[b]
			if c := cmp.Compare(sb.bytes, sa.bytes); c != 0 {
				return c
			}
			if c := cmp.Compare(sb.records, sa.records); c != 0 {
				return c
			}
		}
		return strings.Compare(a.key, b.key)
	})
	rows := make([]UsageRow, 0, len(groups))
	perFeature := 0
	for i, g := range groups {
		if i == 0 || g.feature != groups[i-1].feature {
			perFeature = 0
		}
		if top && perFeature == maxTop {
			continue
		}
		perFeature++
		amount := "0"
		switch unit {
		case UnitBytes:
			amount = strconv.FormatInt(sums[g].bytes, 10)
		case UnitRecords:
			amount = strconv.FormatInt(sums[g].records, 10)
		}
		rows = append(rows, UsageRow{Feature: g.feature, Key: g.key, Amount: amount})
	}
	return rows
}

// UsageTally gathers what one ingest analysed, per detector, feature and
// resource, and the resources it saw, so that an engine adds to it per
// record and writes it once at the end (Record): one RecordUsage and one
// ObserveResources per detector. Not safe for concurrent use.
type UsageTally struct {
	detectors map[tallyDetector]*tally
}

type tallyDetector struct {
	scope      Scope
	detectorID string
}

type tally struct {
	usage     map[[2]string]*UsageRecord // by feature, resource
	resources map[[2]string]*ObservedResource
}

func (t *UsageTally) of(scope Scope, detectorID string) *tally {
	if t.detectors == nil {
		t.detectors = map[tallyDetector]*tally{}
	}
	k := tallyDetector{scope, detectorID}
	d := t.detectors[k]
	if d == nil {
		d = &tally{usage: map[[2]string]*UsageRecord{}, resources: map[[2]string]*ObservedResource{}}
		t.detectors[k] = d
	}
	return d
}

// Add counts records and bytes of feature analysed by the detector for
// resourceID ("" for none).
func (t *UsageTally) Add(scope Scope, detectorID, feature, resourceID string, records, bytes int64) {
	d := t.of(scope, detectorID)
	k := [2]string{feature, resourceID}
	u := d.usage[k]
	if u == nil {
		u = &UsageRecord{Feature: feature, ResourceID: resourceID}
		d.usage[k] = u
	}
	u.Records += records
	u.Bytes += bytes
}

// Observe notes that a record the detector analysed named r.
func (t *UsageTally) Observe(scope Scope, detectorID string, r ObservedResource) {
	d := t.of(scope, detectorID)
	k := [2]string{r.Type, r.ID}
	o := d.resources[k]
	if o == nil {
		d.resources[k] = &r
		return
	}
	o.LastSeen = later(o.LastSeen, r.LastSeen)
	o.InstanceType = cmp.Or(r.InstanceType, o.InstanceType)
	o.ClusterName = cmp.Or(r.ClusterName, o.ClusterName)
}

// Record writes the tally (usage dated at) and empties it. A detector
// deleted meanwhile is skipped; the first other error is returned after
// the other detectors are written.
func (t *UsageTally) Record(ctx context.Context, svc *Service, at time.Time) error {
	var first error
	keep := func(err error) {
		if err != nil && ErrorKind(err) != ENOTFOUND && first == nil {
			first = err
		}
	}
	for k, d := range t.detectors {
		us := make([]UsageRecord, 0, len(d.usage))
		for _, u := range d.usage {
			us = append(us, *u)
		}
		keep(svc.RecordUsage(ctx, k.scope, k.detectorID, at, us))
		rs := make([]ObservedResource, 0, len(d.resources))
		for _, r := range d.resources {
			rs = append(rs, *r)
		}
		keep(svc.ObserveResources(ctx, k.scope, k.detectorID, rs))
	}
	t.detectors = nil
	return first
}
