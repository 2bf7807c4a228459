package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

// crashChildEnv, when set in the environment, makes TestCrashDurability
// the child: it names the database the child writes to.
const crashChildEnv = "GUARDPOST_SQLITE_CRASH_CHILD_DB"

var crashScope = guardpost.Scope{AccountID: "123456789012", Region: "us-east-1"}

var crashVis = guardpost.NewVisibility(crashScope, guardpost.DetectorRef{AccountID: crashScope.AccountID, DetectorID: crashDetector})

const crashDetector = "c0000000000000000000000000000001"

// TestCrashDurability kills a writing process with SIGKILL and checks that
// every write it acknowledged (MergeFindings returned, then the id was
// printed) is in the database afterwards, and that the database is intact.
func TestCrashDurability(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("spawns and kills a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := db.InsertDetector(ctx, &guardpost.Detector{ID: crashDetector, AccountID: crashScope.AccountID, Region: crashScope.Region,
		Status: guardpost.DetectorEnabled, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Backstop: a child that stops writing must not hang the test.
	timer := time.AfterFunc(90*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()

	const killAfter = 200
	var acked []string
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue // the test framework's own output
		}
		acked = append(acked, id)
		if len(acked) == killAfter && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Lines already in the pipe when the child died were acknowledged too;
	// the scanner read them all before EOF.
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited after %d writes without being killed: %v", len(acked), err)
	}
	if st, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); ok && !st.Signaled() {
		t.Fatalf("child was not killed by a signal: %v", cmd.ProcessState)
	}
	t.Logf("child killed after %d acknowledged writes", len(acked))

	db, err = Open(path)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer db.Close()
	var check string
	if err := db.write.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Fatalf("integrity_check: %s", check)
	}
	var fk int
	if err := db.write.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if fk != 0 {
		t.Fatalf("%d foreign key violations", fk)
	}
	found, err := db.Findings(ctx, crashVis, acked)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range found {
		have[f.ID] = true
	}
	for _, id := range acked {
		if !have[id] {
			t.Errorf("acknowledged finding %s lost", id)
		}
	}
	// The sort indexes agree with the table.
	all, err := db.ListFindings(ctx, crashVis, guardpost.FindingQuery{Sort: &guardpost.SortCriteria{Attribute: 1, Descending: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < len(acked) {
		t.Fatalf("severity listing has %d findings, %d acknowledged", len(all), len(acked))
	}
}

// crashChild writes findings until it is killed, printing each id once
// MergeFindings has returned.
func crashChild(t *testing.T, path string) {
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1_000_000 {
		id := fmt.Sprintf("%032x", i)
		doc := fmt.Sprintf(`{"accountId":%q,"region":%q,"id":%q,"type":"Recon:EC2/PortProbeUnprotectedPort","severity":%d,`+
			`"createdAt":%q,"updatedAt":%q,"service":{"detectorId":%q,"count":1}}`,
			crashScope.AccountID, crashScope.Region, id, 1+i%8,
			guardpost.ISOTime(base.Add(time.Duration(i)*time.Second)), guardpost.ISOTime(base.Add(time.Duration(i)*time.Second)), crashDetector)
		f, err := guardpost.ParseFinding([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		f.AggregationKey = id
		if _, err := db.MergeFindings(ctx, crashScope, crashDetector, []*guardpost.Finding{f}, func([]*guardpost.Filter) guardpost.MergeFunc {
			return func(_, in *guardpost.Finding) (*guardpost.Finding, error) { return in, nil }
		}); err != nil {
			t.Fatal(err)
		}
		// os.Stdout is unbuffered: the line is in the pipe when Printf returns.
		fmt.Printf("ack %s\n", id)
	}
	t.Fatal("child was not killed")
}
