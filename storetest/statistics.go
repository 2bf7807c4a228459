package storetest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

// ---- FindingStatistics ----

// statsFixture writes findings spread over types, severities, days and
// resources, and returns them.
func statsFixture(t *testing.T, st guardpost.Store, det string) []*guardpost.Finding {
	t.Helper()
	day := 24 * time.Hour
	docs := []doc{
		newDoc(scopeA, det, "s1").set("severity", 2).set("updatedAt", guardpost.ISOTime(t0)).
			set("resource.resourceType", "Instance").set("resource.instanceDetails.instanceId", "i-1"),
		newDoc(scopeA, det, "s2").set("type", typeBitcoin).set("severity", 8).set("updatedAt", guardpost.ISOTime(t0.Add(time.Hour))).
			set("resource.resourceType", "Instance").set("resource.instanceDetails.instanceId", "i-1"),
		newDoc(scopeA, det, "s3").set("type", typeBitcoin).set("severity", 8).set("updatedAt", guardpost.ISOTime(t0.Add(day))).
			set("resource.resourceType", "AccessKey").set("resource.accessKeyDetails.accessKeyId", "AKIA1"),
		newDoc(scopeA, det, "s4").set("type", "Trojan:EC2/BlackholeTraffic").set("severity", 5.5).set("updatedAt", guardpost.ISOTime(t0.Add(day+time.Minute))).
			set("resource.resourceType", "S3Bucket").set("resource.s3BucketDetails", []any{map[string]any{"name": "bucket-1"}}),
		newDoc(scopeA, det, "s5").set("type", typeBitcoin).set("severity", 8.04).set("updatedAt", guardpost.ISOTime(t0.Add(-13*time.Hour))),
	}
	var fs []*guardpost.Finding
	for _, d := range docs {
		fs = append(fs, d.finding(t))
	}
	must(t, mergeAll(context.Background(), st, fs, nil), "MergeFindings")
	// Another detector's and scope's findings must not count.
	other := s2det(t, st)
	must(t, mergeAll(context.Background(), st, []*guardpost.Finding{newDoc(scopeOther, other, "x1").finding(t)}, nil), "MergeFindings other")
	return fs
}

// s2det creates a detector in scopeOther.
func s2det(t *testing.T, st guardpost.Store) string {
	t.Helper()
	id := "d0000000000000000000000000000002"
	must(t, st.InsertDetector(context.Background(), newDetector(scopeOther, id)), "InsertDetector other")
	return id
}

// wantStats is what FindingStatistics must return for fs, sorted by key
// and resource type.
func wantStats(fs []*guardpost.Finding, where []guardpost.Criterion, g guardpost.StatGroup) []guardpost.StatRow {
	var out []guardpost.StatRow
	for _, f := range fs {
		if !guardpost.Match(where, f.Attributes) {
			continue
		}
		k, rt := guardpost.StatKey(g, f), ""
		if g == guardpost.StatByResource {
			rt = f.ResourceType
		}
		i := slices.IndexFunc(out, func(r guardpost.StatRow) bool { return r.Key == k && r.ResourceType == rt })
		if i < 0 {
			out = append(out, guardpost.StatRow{Key: k, ResourceType: rt, Count: 1, LastGeneratedAt: f.UpdatedAt, MaxSeverity: f.Severity})
			continue
		}
		r := &out[i]
		r.Count++
		if f.UpdatedAt.After(r.LastGeneratedAt) {
			r.LastGeneratedAt = f.UpdatedAt
		}
		r.MaxSeverity = max(r.MaxSeverity, f.Severity)
	}
	sortStats(out)
	return out
}

func sortStats(rs []guardpost.StatRow) {
	slices.SortFunc(rs, func(a, b guardpost.StatRow) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.ResourceType, b.ResourceType))
	})
}

func (s *suite) statistics(t *testing.T) {
	for _, g := range guardpost.StatGroups {
		t.Run(string(g), func(t *testing.T) {
			st, det := s.withDetector(t)
			fs := statsFixture(t, st, det)
			for _, tc := range []struct {
				name  string
				where []guardpost.Criterion
			}{
				{"all", nil},
				{"severity>=7", compile(t, guardpost.Criteria{"severity": {GreaterThanOrEqual: i64(7)}})},
				{"type", compile(t, guardpost.Criteria{"type": {Equals: []string{typeBitcoin}}})},
			} {
				got, err := st.FindingStatistics(context.Background(), visOf(scopeA, det), tc.where, g)
				must(t, err, "FindingStatistics")
				sortStats(got)
				want := wantStats(fs, tc.where, g)
				if len(want) == 0 {
					t.Fatalf("%s: fixture gives no groups", tc.name)
				}
				if !slices.EqualFunc(got, want, func(a, b guardpost.StatRow) bool {
					return a.Key == b.Key && a.ResourceType == b.ResourceType && a.Count == b.Count &&
						a.LastGeneratedAt.Equal(b.LastGeneratedAt) && a.MaxSeverity == b.MaxSeverity
				}) {
					t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, want)
				}
			}
			got, err := st.FindingStatistics(context.Background(), visOf(scopeA, "d-none"), nil, g)
			must(t, err, "FindingStatistics unknown detector")
			if len(got) != 0 {
				t.Errorf("unknown detector: %+v", got)
			}
		})
	}
}
