package detect

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/sqlite"
)

// testService is a service on a fresh SQLite store with one enabled
// detector in scope, whose id it returns.
func testService(t *testing.T, scope guardpost.Scope) (*guardpost.Service, string) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "guardpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := &guardpost.Service{Store: db}
	id, err := svc.CreateDetector(context.Background(), scope, "", guardpost.DetectorSettings{Enable: aws.Bool(true)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc, id
}

// TestWriteState: Write stores a detector's state with its findings, and
// also when the analysis made no finding.
func TestWriteState(t *testing.T) {
	ctx := context.Background()
	scope := guardpost.Scope{AccountID: "111122223333", Region: "us-east-1"}
	svc, det := testService(t, scope)
	var rep Report
	if err := Write(ctx, svc, []Findings{{Scope: scope, DetectorID: det, State: map[string][]byte{"windows": []byte("w1")}}}, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Created != 0 || rep.Updated != 0 {
		t.Fatalf("report %+v, want no finding written", rep)
	}
	got, err := svc.DetectionState(ctx, scope, det, "windows")
	if err != nil || string(got) != "w1" {
		t.Fatalf("state %q, %v; want w1", got, err)
	}
	// Nothing to write at all: no write, and the state stays.
	if err := Write(ctx, svc, []Findings{{Scope: scope, DetectorID: det}}, &rep); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.DetectionState(ctx, scope, det, "windows"); string(got) != "w1" {
		t.Fatalf("state after an empty write: %q", got)
	}
}
