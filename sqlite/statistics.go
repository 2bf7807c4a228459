package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/guardpost/guardpost"
)

// msPerDay is one UTC day in epoch milliseconds.
const msPerDay = 24 * 60 * 60 * 1000

// statGroupColumns are the GROUP BY expressions of each grouping: the key
// and the resource type. The DATE key is the epoch millisecond of the UTC
// midnight starting the day of updated_at (floored, also before 1970).
var statGroupColumns = map[guardpost.StatGroup][2]string{
	guardpost.StatByAccount:       {"account_id", "''"},
	guardpost.StatByDate:          {fmt.Sprintf("updated_at - ((updated_at %% %[1]d) + %[1]d) %% %[1]d", msPerDay), "''"},
	guardpost.StatByFindingType:   {"type", "''"},
	guardpost.StatByResource:      {"resource_id", "resource_type"},
	guardpost.StatBySeverity:      {"severity", "''"},
	guardpost.StatCountBySeverity: {"severity", "''"},
}

// FindingStatistics implements guardpost.FindingStore with one GROUP BY
// query per visible detector, with the criteria terms of ListFindings. Keys
// that the service formats alike (COUNT_BY_SEVERITY's one decimal) and the
// same key in several detectors are merged here.
func (db *DB) FindingStatistics(ctx context.Context, vis guardpost.Visibility, where []guardpost.Criterion, group guardpost.StatGroup) ([]guardpost.StatRow, error) {
	cols, ok := statGroupColumns[group]
	if !ok {
		return nil, guardpost.Errorf(guardpost.EINVALID, "unknown statistics grouping %q", group)
	}
	criteria, criteriaArgs, err := criteriaSQL(where)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + cols[0] + ` AS k, ` + cols[1] + ` AS rt, count(*), max(updated_at), max(severity)
		FROM findings f WHERE account_id = ? AND region = ? AND detector_id = ?` + criteria + ` GROUP BY k, rt`
	type rowKey struct{ key, resourceType string }
	index := map[rowKey]int{}
	var out []guardpost.StatRow
	// One read transaction: every detector's counts come from one snapshot.
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap("finding statistics", err)
	}
	defer tx.Rollback()
	for _, d := range vis.Detectors {
		args := append([]any{d.AccountID, vis.Region(), d.DetectorID}, criteriaArgs...)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, wrap("finding statistics", err)
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var (
					k       any
					r       guardpost.StatRow
					updated int64
				)
				if err := rows.Scan(&k, &r.ResourceType, &r.Count, &updated, &r.MaxSeverity); err != nil {
					return err
				}
				r.LastGeneratedAt = fromMS(updated)
				switch v := k.(type) {
				case string:
					r.Key = v
				case []byte:
					r.Key = string(v)
				case int64:
					if group == guardpost.StatByDate {
						r.Key = fromMS(v).Format(time.DateOnly)
					} else {
						r.Key = guardpost.StatKey(group, &guardpost.Finding{Severity: float64(v)})
					}
				case float64:
					r.Key = guardpost.StatKey(group, &guardpost.Finding{Severity: v})
				default:
					return fmt.Errorf("group key of type %T", k)
				}
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
			return rows.Err()
		}()
		if err != nil {
			return nil, wrap("finding statistics", err)
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
