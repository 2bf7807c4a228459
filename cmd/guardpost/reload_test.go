package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

// eventually polls cond until it holds, failing after 10 s (a reload is
// asynchronous; the test waits for it, it does not time it).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCredentialsReload edits the credentials file of a running server:
// an account that joins the organization becomes the delegated
// administrator's member under auto-enable NEW (as at a restart, without
// one), a removed key stops working for GuardDuty and STS, and a broken
// edit leaves the last good keys in place.
func TestCredentialsReload(t *testing.T) {
	dir := t.TempDir()
	cred := orgCredentials(t, dir, false)
	s := startServerWith(t, dir, cred, "--credentials-poll", "20ms")
	ctx := context.Background()
	a, c, d := s.clientA(), s.clientC(), s.clientD()
	detA := createDetector(t, a)
	createDetector(t, s.clientB())
	if _, err := s.clientM().EnableOrganizationAdminAccount(ctx, &guardduty.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(accountA)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateOrganizationConfiguration(ctx, &guardduty.UpdateOrganizationConfigurationInput{DetectorId: &detA,
		AutoEnableOrganizationMembers: types.AutoEnableMembersNew}); err != nil {
		t.Fatal(err)
	}
	// Before: C is outside the organization, so no member of A, and D's
	// key works.
	if got := listedMembers(t, a, detA, aws.String("false")); len(got) != 0 {
		t.Fatalf("A's members before the edit: %v", got)
	}
	if _, err := d.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil {
		t.Fatalf("D before the edit: %v", err)
	}

	// A broken edit: every key keeps working.
	if err := os.WriteFile(cred, []byte("[broken]\naws_access_key_id = AKIA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // five polls
	if _, err := d.ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil {
		t.Fatalf("D after a broken edit: %v", err)
	}

	// C joins the organization and D's profile goes.
	orgCredentials(t, dir, true)
	b, err := os.ReadFile(cred)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	text = text[:strings.Index(text, "[d]")]
	if err := os.WriteFile(cred, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "C a member of A after joining the organization", func() bool {
		got := listedMembers(t, a, detA, aws.String("false"))
		return got[accountC] == "Enabled"
	})
	// Auto-enable creates C's detector beside the membership, not before
	// the member list says Enabled.
	eventually(t, "C's one detector after it joined", func() bool {
		dets, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
		return err == nil && len(dets.DetectorIds) == 1
	})
	_, err = d.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	wantAPIError(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	_, err = s.stsClientAt(static(keyD, secretD, ""), &testClock{}).GetCallerIdentity(ctx, nil)
	wantRefusal(t, "STS with a removed key", err, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
}
