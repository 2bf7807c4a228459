package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/storetest"
)

func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) guardpost.Store { return openTemp(t) })
}

// TestOpenSettings checks the connection settings the package comment
// promises, on both pools.
func TestOpenSettings(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	ctx := context.Background()
	for _, c := range []struct {
		pool *sql.DB
		name string
	}{{db.write, "writer"}, {db.read, "reader"}} {
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "2", // FULL
			"foreign_keys": "1",
			"busy_timeout": fmt.Sprint(busyTimeout.Milliseconds()),
		} {
			var got string
			if err := c.pool.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", c.name, pragma, got, want)
			}
		}
	}
	if n := db.write.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool allows %d connections, want 1", n)
	}
	if _, err := db.read.ExecContext(ctx, "CREATE TABLE nope (x)"); err == nil {
		t.Error("reader pool can write")
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file::memory:"} {
		if db, err := Open(p); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestOpenOddPath checks that a path with URI-significant characters
// names that file.
func TestOpenOddPath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "we?ird #name%20.db")
	db, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("database not at %q: %v", p, err)
	}
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guardpost.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	versions := func() []int {
		rows, err := db.write.Query("SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var vs []int
		for rows.Next() {
			var v int
			rows.Scan(&v)
			vs = append(vs, v)
		}
		return vs
	}
	var want []int
	for _, m := range ms {
		want = append(want, m.version)
	}
	if got := versions(); !slices.Equal(got, want) {
		t.Fatalf("applied migrations %v, want %v", got, want)
	}
	ctx := context.Background()
	if err := db.InsertDetector(ctx, &guardpost.Detector{ID: "d1", AccountID: "1", Region: "r"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Reopening applies nothing twice and keeps the data.
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(); !slices.Equal(got, want) {
		t.Fatalf("after reopen: applied migrations %v, want %v", got, want)
	}
	if _, err := db.Detector(ctx, guardpost.Scope{AccountID: "1", Region: "r"}, "d1"); err != nil {
		t.Fatal(err)
	}
	// A database from a newer binary is refused.
	if _, err := db.write.Exec("INSERT INTO schema_migrations VALUES (9999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// TestFindingsKeepsTwoIndexes checks that findings has its key and the
// aggregation lookup and nothing else: listings and statistics are the
// in-memory index's, and every SQL index is paid for on each write.
func TestFindingsKeepsTwoIndexes(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	rows, err := db.read.Query(`SELECT name FROM pragma_index_list('findings') ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		got = append(got, n)
	}
	rows.Close()
	if want := []string{"findings_by_aggregation", "sqlite_autoindex_findings_1"}; !slices.Equal(got, want) {
		t.Fatalf("indexes of findings: %v, want %v", got, want)
	}
}

// TestQueryPlans checks that every query shape is an index search: no
// table scan and no sort of the whole result.
func TestQueryPlans(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	queries := []string{qDetectorExists, qAggregationLookup, qDeleteFinding, qFindingsByID}
	for _, q := range queries {
		n := strings.Count(q, "?")
		args := make([]any, n)
		for i := range args {
			args[i] = "x"
		}
		if strings.Contains(q, "json_each") {
			args[n-1] = `["x"]`
		}
		rows, err := db.read.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "SCAN findings") || strings.Contains(text, "SCAN detectors") ||
			strings.Contains(text, "USE TEMP B-TREE FOR ORDER BY") || !strings.Contains(text, "USING") {
			t.Errorf("query\n%s\nplan:\n%s", q, text)
		}
	}
}
