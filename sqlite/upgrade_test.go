package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// TestUpgradeFromAttributeRows opens a database written with the schema
// of migrations 0001-0007 (findings with their per-attribute rows) and
// checks that the upgrade keeps every finding answerable: criteria and
// statistics now come from the index built from the documents.
func TestUpgradeFromAttributeRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	old, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateUpTo(ctx, old, 7); err != nil {
		t.Fatal(err)
	}
	scope := guardpost.Scope{AccountID: "123456789012", Region: "us-east-1"}
	if _, err := old.Exec(`INSERT INTO detectors VALUES (?, ?, 'det', '', 'ENABLED', 'SIX_HOURS', '[]', 'null', 0, 0)`,
		scope.AccountID, scope.Region); err != nil {
		t.Fatal(err)
	}
	var severe []string
	for i := range 40 {
		id := fmt.Sprintf("f%02d", i)
		sev := float64(1 + i%9)
		doc := fmt.Sprintf(`{"schemaVersion":"2.0","accountId":%q,"region":"us-east-1","partition":"aws","id":%q,
			"arn":"arn:aws:guardduty:us-east-1:%s:detector/det/finding/%s","type":"Recon:EC2/Portscan","severity":%g,
			"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-0%dT00:00:00.000Z","resource":{"resourceType":"Instance"},
			"service":{"serviceName":"guardduty","detectorId":"det","count":1,"archived":false}}`,
			scope.AccountID, id, scope.AccountID, id, sev, 1+i%5)
		f, err := guardpost.ParseFinding([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		insertOldFinding(t, old, f)
		// What the old store wrote beside each finding.
		if _, err := old.Exec(`INSERT INTO finding_attributes VALUES (?, ?, 'det', ?, ?, ?, ?)`,
			scope.AccountID, scope.Region, id, guardpost.FilterAttributeIndex("severity"), fmt.Sprint(sev), sev); err != nil {
			t.Fatal(err)
		}
		if sev >= 7 {
			severe = append(severe, id)
		}
	}
	old.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a 0007 database: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.read.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'finding_attributes'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("finding_attributes still there after the upgrade (%d, %v)", n, err)
	}
	vis := guardpost.NewVisibility(scope, guardpost.DetectorRef{AccountID: scope.AccountID, DetectorID: "det"})
	where, err := guardpost.CompileCriteria(guardpost.Criteria{"severity": {GreaterThanOrEqual: ptr(int64(7))}})
	if err != nil {
		t.Fatal(err)
	}
	curs, err := db.ListFindings(ctx, vis, guardpost.FindingQuery{Where: where})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range curs {
		got = append(got, c.ID)
	}
	if !slices.Equal(got, severe) {
		t.Fatalf("severity >= 7 after the upgrade: %v, want %v", got, severe)
	}
	rows, err := db.FindingStatistics(ctx, vis, nil, guardpost.StatByDate)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range rows {
		total += r.Count
	}
	if len(rows) != 5 || total != 40 {
		t.Fatalf("statistics by date after the upgrade: %+v", rows)
	}
}

func ptr[T any](v T) *T { return &v }

// insertOldFinding writes f as the stores of schemas 0001-0008 did: the
// JSON document as text beside its query and sort columns.
func insertOldFinding(t testing.TB, db *sql.DB, f *guardpost.Finding) {
	t.Helper()
	cols := []string{"account_id", "region", "detector_id", "id", "type", "severity", "archived",
		"created_at", "updated_at", "aggregation_key", "document", "resource_id", "resource_type", "feedback_comments",
		"s_account_id", "s_severity", "s_confidence", "s_type", "s_event_first_seen", "s_event_last_seen", "s_created_at",
		"s_updated_at", "s_remote_ip", "s_instance_id", "s_local_port", "s_remote_port", "s_remote_country", "s_protocol",
		"s_api", "s_service_name", "s_blocked", "s_count"}
	var agg any
	if f.AggregationKey != "" {
		agg = f.AggregationKey
	}
	args := []any{f.AccountID, f.Region, f.DetectorID, f.ID, f.Type, f.Severity, f.Archived,
		f.CreatedAt.UnixMilli(), f.UpdatedAt.UnixMilli(), agg, string(f.Document), f.ResourceID, f.ResourceType, f.FeedbackComments}
	// The old sort columns in guardpost.SortAttributes order, as it was.
	args = append(args, f.SortKeys...)
	if _, err := db.Exec(`INSERT INTO findings (`+strings.Join(cols, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(cols)-1)+`)`, args...); err != nil {
		t.Fatal(err)
	}
}

// TestUpgradeFromDocumentColumns opens a database of schema 0008 (the
// document as JSON text beside eighteen sort columns) holding generated
// findings and checks that migration 0009 keeps every one exactly:
// GetFindings returns the same bytes, the feedback comments and the
// aggregation keys survive (an occurrence still lands on its finding), and
// listings and statistics agree with the findings.
func TestUpgradeFromDocumentColumns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	old, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateUpTo(ctx, old, 8); err != nil {
		t.Fatal(err)
	}
	scope := guardpost.Scope{AccountID: "123456789012", Region: "us-east-1"}
	if _, err := old.Exec(`INSERT INTO detectors VALUES (?, ?, 'det', '', 'ENABLED', 'SIX_HOURS', '[]', 'null', 0, 0)`,
		scope.AccountID, scope.Region); err != nil {
		t.Fatal(err)
	}
	gen := findinggen.New(7)
	want := map[string]*guardpost.Finding{}
	const n = 3000 // more than one conversion batch
	for i, f := range generatedFindings(t, gen, scope, "det", n) {
		if i%10 == 0 {
			f.AggregationKey = fmt.Sprintf("key-%d", i)
		}
		if i%7 == 0 {
			f.FeedbackComments = fmt.Sprintf("comment %d", i)
		}
		insertOldFinding(t, old, f)
		want[f.ID] = f
	}
	old.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a 0008 database: %v", err)
	}
	defer db.Close()
	vis := guardpost.NewVisibility(scope, guardpost.DetectorRef{AccountID: scope.AccountID, DetectorID: "det"})
	ids := slices.Sorted(maps.Keys(want))
	got, err := db.Findings(ctx, vis, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d findings after the upgrade, want %d", len(got), n)
	}
	var keyed *guardpost.Finding
	for _, g := range got {
		w := want[g.ID]
		// Reads leave the attribute values out; the write path's read has them.
		if err := db.eachFinding(ctx, db.read, detectorKey{scope.AccountID, scope.Region, "det"}, g.ID,
			func(f *guardpost.Finding) { g.Attributes = f.Attributes }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g.Document, w.Document) || g.FeedbackComments != w.FeedbackComments || g.AggregationKey != w.AggregationKey ||
			g.Severity != w.Severity || g.Archived != w.Archived || !g.UpdatedAt.Equal(w.UpdatedAt) ||
			!reflect.DeepEqual(g.SortKeys, w.SortKeys) || !reflect.DeepEqual(g.Attributes, w.Attributes) {
			t.Fatalf("finding %s changed in the upgrade", g.ID)
		}
		if g.AggregationKey != "" && keyed == nil {
			keyed = g
		}
	}
	// Listing by severity, and the counts by severity, as the findings say.
	curs, err := db.ListFindings(ctx, vis, guardpost.FindingQuery{Sort: &guardpost.SortCriteria{Attribute: guardpost.SortAttributeIndex("severity"), Descending: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(curs) != n {
		t.Fatalf("listing after the upgrade: %d findings", len(curs))
	}
	for i := 1; i < len(curs); i++ {
		a, b := want[curs[i-1].ID], want[curs[i].ID]
		if a.Severity < b.Severity || a.Severity == b.Severity && a.ID > b.ID {
			t.Fatalf("listing out of order at %d", i)
		}
	}
	stats, err := db.FindingStatistics(ctx, vis, nil, guardpost.StatBySeverity)
	if err != nil {
		t.Fatal(err)
	}
	bySeverity := map[string]int{}
	for _, f := range want {
		bySeverity[strconv.FormatFloat(f.Severity, 'g', -1, 64)]++
	}
	if len(stats) != len(bySeverity) {
		t.Fatalf("statistics after the upgrade: %+v, want %v", stats, bySeverity)
	}
	for _, r := range stats {
		if r.Count != bySeverity[r.Key] {
			t.Fatalf("statistics after the upgrade: %+v, want %v", stats, bySeverity)
		}
	}
	// An occurrence of a converted finding's key lands on it.
	again := *want[keyed.ID]
	again.ID = "another-id"
	changes, err := db.MergeFindings(ctx, scope, "det", []*guardpost.Finding{&again},
		func([]*guardpost.Filter) guardpost.MergeFunc {
			return func(stored, in *guardpost.Finding) (*guardpost.Finding, error) {
				if stored == nil {
					return nil, fmt.Errorf("the occurrence of %s found no stored finding", keyed.AggregationKey)
				}
				return stored, nil
			}
		})
	if err != nil || len(changes) != 1 || changes[0].FindingID != keyed.ID {
		t.Fatalf("aggregation after the upgrade: %+v, %v", changes, err)
	}
}

// TestOpenRefusesAnotherMeaning changes what an attribute number means in
// a database's registry: Open must refuse it rather than read its records
// with the wrong meaning.
func TestOpenRefusesAnotherMeaning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guardpost.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE attribute_ids SET name = 'resource.instanceDetails.somethingElse' WHERE id = 5`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := Open(path); err == nil || !strings.Contains(err.Error(), "disagrees") || !strings.Contains(err.Error(), "number 5") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("Open of a database whose attribute 5 means something else: %v", err)
	}
	raw, _ = sql.Open("sqlite", dsn(path, nil))
	if _, err := raw.Exec(`UPDATE attribute_ids SET name = 'createdAt' WHERE id = 5`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO attribute_ids VALUES (100000, 'filter', 'string', 'fromTheFuture', '')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("Open of a database with an attribute number from a newer guardpost: %v", err)
	}
}

// TestOpenRewritesRecordsForNewAttributes opens a database whose registry
// lacks numbers the code has (as a database written before those
// attributes existed would): Open rewrites every record from its document
// and records the numbers, so criteria on them answer correctly.
func TestOpenRewritesRecordsForNewAttributes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "guardpost.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	scope := guardpost.Scope{AccountID: "123456789012", Region: "us-east-1"}
	insertDetector(t, db, scope, "det")
	fs := generatedFindings(t, findinggen.New(9), scope, "det", 50)
	if _, err := db.MergeFindings(ctx, scope, "det", fs, replaceByID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Records that know nothing of severity (the first finding's, emptied
	// of attributes), and a registry without its number.
	raw, _ := sql.Open("sqlite", dsn(path, nil))
	c, _ := findingrec.Default()
	blank := *fs[0]
	blank.Attributes = nil
	rec, _ := c.Append(nil, &blank)
	crec, _ := findingrec.Compress(nil, rec)
	if _, err := raw.Exec(`UPDATE findings SET record = ?`, crec); err != nil {
		t.Fatal(err)
	}
	sevID := 0
	for _, e := range findingrec.Registry() {
		if e.Space == "filter" && e.Name == "severity" {
			sevID = int(e.ID)
		}
	}
	if _, err := raw.Exec(`DELETE FROM attribute_ids WHERE id = ?`, sevID); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vis := guardpost.NewVisibility(scope, guardpost.DetectorRef{AccountID: scope.AccountID, DetectorID: "det"})
	where, _ := guardpost.CompileCriteria(guardpost.Criteria{"severity": {GreaterThanOrEqual: ptr(int64(5))}})
	curs, err := db.ListFindings(ctx, vis, guardpost.FindingQuery{Where: where})
	if err != nil {
		t.Fatal(err)
	}
	var severe int
	for _, f := range fs {
		if f.Severity >= 5 {
			severe++
		}
	}
	if len(curs) != severe || severe == 0 {
		t.Fatalf("severity >= 5 after the rewrite: %d findings, want %d", len(curs), severe)
	}
	var n int
	if err := db.read.QueryRow(`SELECT count(*) FROM attribute_ids WHERE id = ?`, sevID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the registry did not get severity's number back: %d, %v", n, err)
	}
}

func insertDetector(t testing.TB, db *DB, scope guardpost.Scope, id string) {
	t.Helper()
	d := &guardpost.Detector{ID: id, AccountID: scope.AccountID, Region: scope.Region,
		Status: guardpost.DetectorEnabled, FindingPublishingFrequency: "SIX_HOURS", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.InsertDetector(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func replaceByID([]*guardpost.Filter) guardpost.MergeFunc { return keepIncoming }

// generatedFindings returns the next n of gen's findings, made the
// findings of the detector in scope.
func generatedFindings(t testing.TB, gen *findinggen.Generator, scope guardpost.Scope, detectorID string, n int) []*guardpost.Finding {
	t.Helper()
	fs := make([]*guardpost.Finding, 0, n)
	for range n {
		doc, err := gen.Next()
		if err != nil {
			t.Fatal(err)
		}
		var tree map[string]any
		if err := json.Unmarshal(doc, &tree); err != nil {
			t.Fatal(err)
		}
		tree["accountId"], tree["region"] = scope.AccountID, scope.Region
		tree["service"].(map[string]any)["detectorId"] = detectorID
		if doc, err = json.Marshal(tree); err != nil {
			t.Fatal(err)
		}
		f, err := guardpost.ParseFinding(doc)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	return fs
}
