package sqlite

import (
	"context"
	"time"

	"github.com/guardpost/guardpost"
)

// FindingStatistics implements guardpost.FindingStore from the visible
// detectors' in-memory indexes (package index), which count the matching
// findings from postings and per-finding columns instead of visiting every
// row. The same key in several detectors is merged here.
func (db *DB) FindingStatistics(ctx context.Context, vis guardpost.Visibility, where []guardpost.Criterion, group guardpost.StatGroup) ([]guardpost.StatRow, error) {
	if !guardpost.ValidStatGroup(group) {
		return nil, guardpost.Errorf(guardpost.EINVALID, "unknown statistics grouping %q", group)
	}
	type rowKey struct{ key, resourceType string }
	index := map[rowKey]int{}
	var out []guardpost.StatRow
	for _, d := range vis.Detectors {
		x, err := db.indexAsOf(ctx, detectorKey{d.AccountID, vis.Region(), d.DetectorID}, vis.Version)
		if err != nil {
			return nil, err
		}
		for _, r := range x.Statistics(where, group) {
			rk := rowKey{r.Key, r.ResourceType}
			if i, ok := index[rk]; ok {
				m := &out[i]
				m.Count += r.Count
				m.LastGeneratedAt = later(m.LastGeneratedAt, r.LastGeneratedAt)
				m.MaxSeverity = max(m.MaxSeverity, r.MaxSeverity)
				continue
			}
			index[rk] = len(out)
			out = append(out, r)
		}
	}
	return out, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
