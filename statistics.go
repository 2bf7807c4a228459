package guardpost

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StatGroup is how GetFindingsStatistics groups findings.
type StatGroup string

// The groupings: the API's groupBy values, and COUNT_BY_SEVERITY for the
// deprecated findingStatisticTypes.
const (
	StatByAccount         StatGroup = "ACCOUNT"
	StatByDate            StatGroup = "DATE"
	StatByFindingType     StatGroup = "FINDING_TYPE"
	StatByResource        StatGroup = "RESOURCE"
	StatBySeverity        StatGroup = "SEVERITY"
	StatCountBySeverity   StatGroup = "COUNT_BY_SEVERITY"
	statDateLayout                  = "2006-01-02"
	maxStatisticsResults            = 100
	defaultStatisticsSize           = 100
)

// StatGroups lists the groupings in the API's order.
var StatGroups = []StatGroup{StatByAccount, StatByDate, StatByFindingType, StatByResource, StatBySeverity, StatCountBySeverity}

// StatRow is one group of findings.
type StatRow struct {
	// Key identifies the group: the account id (ACCOUNT), the UTC day of
	// updatedAt as 2006-01-02 (DATE), the finding type (FINDING_TYPE), the
	// resource id (RESOURCE), the severity (SEVERITY, formatted by
	// strconv.FormatFloat(v, 'g', -1, 64)) or the severity with one
	// decimal (COUNT_BY_SEVERITY, as GuardDuty writes "8.0").
	Key string
	// ResourceType is the group's resource type (RESOURCE only).
	ResourceType string
	Count        int
	// LastGeneratedAt is the latest updatedAt in the group.
	LastGeneratedAt time.Time
	// MaxSeverity is the highest severity in the group.
	MaxSeverity float64
}

// StatKey returns the key of the group of f in g.
func StatKey(g StatGroup, f *Finding) string {
	switch g {
	case StatByAccount:
		return f.AccountID
	case StatByDate:
		return f.UpdatedAt.UTC().Format(statDateLayout)
	case StatByFindingType:
		return f.Type
	case StatByResource:
		return f.ResourceID
	case StatBySeverity:
		return strconv.FormatFloat(f.Severity, 'g', -1, 64)
	case StatCountBySeverity:
		return strconv.FormatFloat(f.Severity, 'f', 1, 64)
	}
	return ""
}

// ValidStatGroup reports whether g is a grouping the service knows.
func ValidStatGroup(g StatGroup) bool { return slices.Contains(StatGroups, g) }

// GetFindingsStatistics groups the detector's findings that satisfy where
// and returns the groups by count (descending when asked, ascending
// otherwise), ties by key, at most maxResults (0 or more than 100: 100)
// of them. StatCountBySeverity is never cut: it answers the deprecated
// countBySeverity map, which has no maxResults and must count every
// finding.
func (s *Service) GetFindingsStatistics(ctx context.Context, scope Scope, detectorID string, where []Criterion, group StatGroup, descending bool, maxResults int) ([]StatRow, error) {
	vis, err := s.visibility(ctx, scope, detectorID)
	if err != nil {
		return nil, err
	}
	if !ValidStatGroup(group) {
		return nil, Errorf(EINVALID, "%s groupBy '%s' is not one of ACCOUNT, DATE, FINDING_TYPE, RESOURCE, SEVERITY.", msgInvalidInput, group)
	}
	rows, err := s.Store.FindingStatistics(ctx, vis, where, group)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b StatRow) int {
		c := cmp.Compare(a.Count, b.Count)
		if descending {
			c = -c
		}
		if c != 0 {
			return c
		}
		if c := cmp.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return cmp.Compare(a.ResourceType, b.ResourceType)
	})
	if group == StatCountBySeverity {
		return rows, nil
	}
	if maxResults <= 0 || maxResults > maxStatisticsResults {
		maxResults = defaultStatisticsSize
	}
	if len(rows) > maxResults {
		rows = rows[:maxResults]
	}
	return rows, nil
}

// resourceIDPaths are where, by resource type, a finding document names
// its resource; the first present path wins.
var resourceIDPaths = map[string][]string{
	"Instance":            {"instanceDetails.instanceId"},
	"AccessKey":           {"accessKeyDetails.accessKeyId"},
	"S3Bucket":            {"s3BucketDetails.0.name", "s3BucketDetails.0.arn"},
	"EKSCluster":          {"eksClusterDetails.name", "eksClusterDetails.arn"},
	"ECSCluster":          {"ecsClusterDetails.name", "ecsClusterDetails.arn"},
	"Lambda":              {"lambdaDetails.functionName", "lambdaDetails.functionArn"},
	"RDSDBInstance":       {"rdsDbInstanceDetails.dbInstanceIdentifier"},
	"RDSLimitlessDB":      {"rdsLimitlessDbDetails.dbShardGroupIdentifier"},
	"Container":           {"containerDetails.id", "containerDetails.name"},
	"EBSVolume":           {"ebsVolumeDetails.scannedVolumeDetails.0.volumeArn", "ebsVolumeDetails.skippedVolumeDetails.0.volumeArn"},
	"EC2Instance":         {"instanceDetails.instanceId"},
	"EC2NetworkInterface": {"instanceDetails.networkInterfaces.0.networkInterfaceId"},
}

// resourceIdentity returns the resource type and id a finding document's
// resource object names ("" for what it lacks).
func resourceIdentity(tree map[string]any) (typ, id string) {
	res, _ := tree["resource"].(map[string]any)
	if res == nil {
		return "", ""
	}
	return ResourceIdentity(res)
}

// ResourceIdentity returns the resource type and id a finding document's
// resource object names ("" for what it lacks), as a stored finding's
// ResourceType and ResourceID. It reads only the values on
// ResourceIdentityPaths.
func ResourceIdentity(res map[string]any) (typ, id string) {
	typ, _ = res["resourceType"].(string)
	paths, ok := resourceIDPaths[typ]
	if !ok {
		// Unknown type: the first id any known path gives.
		for _, t := range []string{"Instance", "AccessKey", "S3Bucket", "EKSCluster", "ECSCluster", "Lambda", "RDSDBInstance", "EBSVolume"} {
			paths = append(paths, resourceIDPaths[t]...)
		}
	}
	for _, p := range paths {
		if s, ok := lookupIndexed(res, p).(string); ok && s != "" {
			return typ, s
		}
	}
	return typ, ""
}

// ResourceIdentityPaths returns the dotted paths, in a resource object,
// of the values ResourceIdentity reads, without the list indices on the
// way (a list is taken whole).
func ResourceIdentityPaths() []string {
	paths := []string{"resourceType"}
	for _, ps := range resourceIDPaths {
		for _, p := range ps {
			var parts []string
			for part := range strings.SplitSeq(p, ".") {
				if _, err := strconv.Atoi(part); err != nil {
					parts = append(parts, part)
				}
			}
			paths = append(paths, strings.Join(parts, "."))
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// lookupIndexed follows a dotted path whose numeric parts index lists.
func lookupIndexed(tree map[string]any, path string) any {
	var cur any = tree
	start := 0
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != '.' {
			continue
		}
		part := path[start:i]
		start = i + 1
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || n >= len(v) {
				return nil
			}
			cur = v[n]
		default:
			return nil
		}
	}
	return cur
}
