package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/guardpost/guardpost"
)

// listServer serves threat list files from loopback: path -> content;
// other paths answer 404.
func listServer(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// waitStatus polls get, as Terraform's waiters do, while the status is one
// of pending, and returns the first other status.
func waitStatus(t *testing.T, get func() (string, error), pending ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, err := get()
		if err != nil {
			t.Fatalf("polling: %v", err)
		}
		if !slices.Contains(pending, status) {
			return status
		}
		if time.Now().After(deadline) {
			t.Fatalf("status still %s after 10s", status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func badRequest(t *testing.T, err error, want string) {
	t.Helper()
	var br *types.BadRequestException
	if !errors.As(err, &br) {
		t.Fatalf("got %v, want BadRequestException %q", err, want)
	}
	if !strings.Contains(br.ErrorMessage(), want) {
		t.Fatalf("message %q, want it to contain %q", br.ErrorMessage(), want)
	}
}

const noSuchResource = "The request is rejected since no such resource found."

// TestIPSetTerraformLifecycle drives an IP set the way Terraform's AWS
// provider does: create, wait while ACTIVATING until ACTIVE, read, tag,
// deactivate, delete, and wait until DELETED; then the "gone" answers.
func TestIPSetTerraformLifecycle(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	files := listServer(t, map[string]string{"/trusted.txt": "# office\n198.51.100.7\n203.0.113.0/24\n"})
	loc := files.URL + "/trusted.txt"

	out, err := a.CreateIPSet(ctx, &guardduty.CreateIPSetInput{DetectorId: &det, Name: aws.String("office ips"),
		Format: types.IpSetFormatTxt, Location: &loc, Activate: aws.Bool(true), Tags: map[string]string{"team": "sec"}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.IpSetId)
	get := func() (string, error) {
		g, err := a.GetIPSet(ctx, &guardduty.GetIPSetInput{DetectorId: &det, IpSetId: &id})
		if err != nil {
			return "", err
		}
		return string(g.Status), nil
	}
	if st := waitStatus(t, get, "ACTIVATING", "DEACTIVATING"); st != "ACTIVE" {
		t.Fatalf("after create: %s, want ACTIVE", st)
	}
	g, err := a.GetIPSet(ctx, &guardduty.GetIPSetInput{DetectorId: &det, IpSetId: &id})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.Name) != "office ips" || g.Format != types.IpSetFormatTxt || aws.ToString(g.Location) != loc || g.Tags["team"] != "sec" {
		t.Errorf("GetIPSet: %+v", g)
	}
	scope := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	if !s.service.TrustedIP(scope, det, netip.MustParseAddr("203.0.113.9")) || !s.service.TrustedIP(scope, det, netip.MustParseAddr("198.51.100.7")) {
		t.Error("the active IP set's entries are not trusted")
	}
	if s.service.TrustedIP(scope, det, netip.MustParseAddr("198.51.100.8")) {
		t.Error("an address not on the list is trusted")
	}
	list, err := a.ListIPSets(ctx, &guardduty.ListIPSetsInput{DetectorId: &det})
	if err != nil || !slices.Equal(list.IpSetIds, []string{id}) {
		t.Fatalf("ListIPSets: %v %v", list, err)
	}

	arn := "arn:aws:guardduty:us-east-1:" + accountA + ":detector/" + det + "/ipset/" + id
	if _, err := a.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{"env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	if got := listTags(t, a, arn); got["env"] != "prod" || got["team"] != "sec" {
		t.Errorf("tags %v", got)
	}
	if _, err := a.UntagResource(ctx, &guardduty.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}

	// The limit: one trusted IP list per detector.
	_, err = a.CreateIPSet(ctx, &guardduty.CreateIPSetInput{DetectorId: &det, Name: aws.String("second"),
		Format: types.IpSetFormatTxt, Location: &loc, Activate: aws.Bool(false)})
	badRequest(t, err, "maximum of 1 IPSet")

	if _, err := a.UpdateIPSet(ctx, &guardduty.UpdateIPSetInput{DetectorId: &det, IpSetId: &id, Activate: aws.Bool(false), Name: aws.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	if st := waitStatus(t, get, "DEACTIVATING"); st != "INACTIVE" {
		t.Fatalf("after deactivation: %s", st)
	}
	if s.service.TrustedIP(scope, det, netip.MustParseAddr("203.0.113.9")) {
		t.Error("an inactive list still trusts its entries")
	}

	if _, err := a.DeleteIPSet(ctx, &guardduty.DeleteIPSetInput{DetectorId: &det, IpSetId: &id}); err != nil {
		t.Fatal(err)
	}
	if st := waitStatus(t, get, "ACTIVE", "ACTIVATING", "INACTIVE", "DEACTIVATING", "DELETE_PENDING"); st != "DELETED" {
		t.Fatalf("after delete: %s", st)
	}
	list, err = a.ListIPSets(ctx, &guardduty.ListIPSetsInput{DetectorId: &det})
	if err != nil || len(list.IpSetIds) != 0 {
		t.Fatalf("ListIPSets after delete: %v %v", list.IpSetIds, err)
	}
	_, err = a.DeleteIPSet(ctx, &guardduty.DeleteIPSetInput{DetectorId: &det, IpSetId: &id})
	badRequest(t, err, noSuchResource)
	_, err = a.UpdateIPSet(ctx, &guardduty.UpdateIPSetInput{DetectorId: &det, IpSetId: &id, Activate: aws.Bool(true)})
	badRequest(t, err, noSuchResource)
	_, err = a.ListTagsForResource(ctx, &guardduty.ListTagsForResourceInput{ResourceArn: &arn})
	badRequest(t, err, noSuchResource)
	never := guardpost.NewID()
	_, err = a.GetIPSet(ctx, &guardduty.GetIPSetInput{DetectorId: &det, IpSetId: &never})
	badRequest(t, err, noSuchResource)
	_, err = a.GetIPSet(ctx, &guardduty.GetIPSetInput{DetectorId: aws.String(guardpost.NewID()), IpSetId: &id})
	badRequest(t, err, "The request is rejected because the input detectorId is not owned by the current account.")
	// The limit counts live lists only.
	if _, err := a.CreateIPSet(ctx, &guardduty.CreateIPSetInput{DetectorId: &det, Name: aws.String("again"),
		Format: types.IpSetFormatTxt, Location: &loc, Activate: aws.Bool(false)}); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
}

// listFixtures holds one list in every format, each with the address
// 198.51.100.X for its position X.
var listFixtures = []struct {
	format, path, body string
}{
	{"TXT", "/l.txt", "198.51.100.1\n"},
	{"STIX", "/l.xml", `<?xml version="1.0" encoding="UTF-8"?>
<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1" xmlns:cybox="http://cybox.mitre.org/cybox-2" xmlns:AddressObj="http://cybox.mitre.org/objects#AddressObject-2">
<stix:Observables><cybox:Observable><cybox:Object><cybox:Properties category="ipv4-addr">
<AddressObj:Address_Value>198.51.100.2</AddressObj:Address_Value></cybox:Properties></cybox:Object></cybox:Observable></stix:Observables></stix:STIX_Package>`},
	{"OTX_CSV", "/l.otx", "Indicator type,Indicator,Description\nIPv4,198.51.100.3,bad\n"},
	{"ALIEN_VAULT", "/l.av", "198.51.100.4#4#2#Malicious Host#US##37.7,-122.4#3\n"},
	{"PROOF_POINT", "/l.pp", "ip,category,score,first_seen,last_seen,ports (|)\n198.51.100.5,1,100,2000-01-01,2000-01-01,\n"},
	{"FIRE_EYE", "/l.fe", "reportId,title,ip,domain\nr1,t,198.51.100.6,\n"},
}

// TestThreatIntelSetEveryFormat activates one threat intel set per format
// (six, the per-detector limit) from loopback and checks each list's
// address against detection's lookup.
func TestThreatIntelSetEveryFormat(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	files := map[string]string{}
	for _, f := range listFixtures {
		files[f.path] = f.body
	}
	srv := listServer(t, files)
	ids := map[string]string{}
	for _, f := range listFixtures {
		out, err := a.CreateThreatIntelSet(ctx, &guardduty.CreateThreatIntelSetInput{DetectorId: &det, Name: aws.String("list_" + f.format),
			Format: types.ThreatIntelSetFormat(f.format), Location: aws.String(srv.URL + f.path), Activate: aws.Bool(true)})
		if err != nil {
			t.Fatalf("%s: %v", f.format, err)
		}
		ids[f.format] = aws.ToString(out.ThreatIntelSetId)
	}
	scope := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	for i, f := range listFixtures {
		id := ids[f.format]
		st := waitStatus(t, func() (string, error) {
			g, err := a.GetThreatIntelSet(ctx, &guardduty.GetThreatIntelSetInput{DetectorId: &det, ThreatIntelSetId: &id})
			if err != nil {
				return "", err
			}
			return string(g.Status), nil
		}, "ACTIVATING")
		if st != "ACTIVE" {
			t.Errorf("%s: %s", f.format, st)
			continue
		}
		ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
		m, ok := s.service.ThreatListIP(scope, det, ip)
		if !ok || m.ListName != "list_"+f.format || m.ListID != id {
			t.Errorf("%s: lookup of %s: %+v %v", f.format, ip, m, ok)
		}
	}
	_, err := a.CreateThreatIntelSet(ctx, &guardduty.CreateThreatIntelSetInput{DetectorId: &det, Name: aws.String("seventh"),
		Format: types.ThreatIntelSetFormatTxt, Location: aws.String(srv.URL + "/l.txt"), Activate: aws.Bool(true)})
	badRequest(t, err, "maximum of 6 ThreatIntelSet")
	// Paging through the six.
	var got []string
	p := guardduty.NewListThreatIntelSetsPaginator(a, &guardduty.ListThreatIntelSetsInput{DetectorId: &det, MaxResults: aws.Int32(4)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.ThreatIntelSetIds...)
	}
	if len(got) != 6 {
		t.Errorf("listed %d threat intel sets, want 6", len(got))
	}
}

// TestEntitySetsFileAndErrors covers the entity sets: a trusted entity set
// read from a file:// path with a domain, a threat entity set whose
// location answers 404 (ERROR with the reason in errorDetails), one whose
// content is not a list, and a repair by UpdateThreatEntitySet.
func TestEntitySetsFileAndErrors(t *testing.T) {
	root := t.TempDir()
	s := startServer(t, "--list-file-root", root)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	scope := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	path := filepath.Join(root, "trusted.txt")
	if err := os.WriteFile(path, []byte("partner.example\n192.0.2.0/28\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	trID := ""
	// A repeat with the same client token is the same list, not a second
	// one over the limit of one trusted list.
	for range 2 {
		again, err := a.CreateTrustedEntitySet(ctx, &guardduty.CreateTrustedEntitySetInput{DetectorId: &det, Name: aws.String("partners"),
			Format: types.TrustedEntitySetFormatTxt, Location: aws.String("file://" + path), Activate: aws.Bool(true), ClientToken: aws.String("tok-1")})
		if err != nil {
			t.Fatal(err)
		}
		if trID == "" || aws.ToString(again.TrustedEntitySetId) == trID {
			trID = aws.ToString(again.TrustedEntitySetId)
			continue
		}
		t.Fatalf("client token repeat: %s, then %s", trID, aws.ToString(again.TrustedEntitySetId))
	}
	st := waitStatus(t, func() (string, error) {
		g, err := a.GetTrustedEntitySet(ctx, &guardduty.GetTrustedEntitySetInput{DetectorId: &det, TrustedEntitySetId: &trID})
		if err != nil {
			return "", err
		}
		return string(g.Status), nil
	}, "ACTIVATING")
	if st != "ACTIVE" {
		t.Fatalf("file:// list: %s", st)
	}
	if !s.service.TrustedDomain(scope, det, "api.partner.example") || !s.service.TrustedIP(scope, det, netip.MustParseAddr("192.0.2.15")) {
		t.Error("trusted entity set entries not in effect")
	}

	srv := listServer(t, map[string]string{"/garbage.txt": "198.51.100.1\nthis is not an entry\n", "/good.txt": "evil.example\n"})
	threatStatus := func(id string) (*guardduty.GetThreatEntitySetOutput, string) {
		t.Helper()
		var g *guardduty.GetThreatEntitySetOutput
		st := waitStatus(t, func() (string, error) {
			var err error
			g, err = a.GetThreatEntitySet(ctx, &guardduty.GetThreatEntitySetInput{DetectorId: &det, ThreatEntitySetId: &id})
			if err != nil {
				return "", err
			}
			return string(g.Status), nil
		}, "ACTIVATING")
		return g, st
	}
	for _, c := range []struct{ path, details string }{
		{"/missing.txt", "404 Not Found"},
		{"file:///etc/hostname", "outside the directory this server reads lists from"},
		{"/garbage.txt", "line 2: the entry is not an IP address, a CIDR range or a domain"},
	} {
		loc := srv.URL + c.path
		if strings.HasPrefix(c.path, "file://") {
			loc = c.path
		}
		out, err := a.CreateThreatEntitySet(ctx, &guardduty.CreateThreatEntitySetInput{DetectorId: &det, Name: aws.String("bad"),
			Format: types.ThreatEntitySetFormatTxt, Location: &loc, Activate: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.ThreatEntitySetId)
		g, st := threatStatus(id)
		if st != "ERROR" || !strings.Contains(aws.ToString(g.ErrorDetails), c.details) {
			t.Errorf("%s: status %s, errorDetails %q; want ERROR naming %q", c.path, st, aws.ToString(g.ErrorDetails), c.details)
		}
		if g.CreatedAt == nil || g.UpdatedAt == nil {
			t.Errorf("%s: no createdAt/updatedAt", c.path)
		}
		// Repair: point it at a good list and activate again.
		if _, err := a.UpdateThreatEntitySet(ctx, &guardduty.UpdateThreatEntitySetInput{DetectorId: &det, ThreatEntitySetId: &id,
			Location: aws.String(srv.URL + "/good.txt"), Activate: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		if g, st := threatStatus(id); st != "ACTIVE" || g.ErrorDetails != nil {
			t.Errorf("%s repaired: %s %q", c.path, st, aws.ToString(g.ErrorDetails))
		}
		if m, ok := s.service.ThreatListDomain(scope, det, "c2.evil.example"); !ok || m.ListID != id {
			t.Errorf("%s repaired: domain lookup %+v %v", c.path, m, ok)
		}
		if _, err := a.DeleteThreatEntitySet(ctx, &guardduty.DeleteThreatEntitySetInput{DetectorId: &det, ThreatEntitySetId: &id}); err != nil {
			t.Fatal(err)
		}
		if _, st := threatStatus(id); st != "DELETE_PENDING" && st != "DELETED" {
			t.Errorf("after delete: %s", st)
		}
	}

	// Input the API refuses.
	_, err := a.CreateThreatEntitySet(ctx, &guardduty.CreateThreatEntitySetInput{DetectorId: &det, Name: aws.String("bad/name"),
		Format: types.ThreatEntitySetFormatTxt, Location: aws.String(srv.URL + "/good.txt"), Activate: aws.Bool(true)})
	badRequest(t, err, "use only letters, digits, whitespace, dash (-) and underscore (_)")
	_, err = a.CreateThreatEntitySet(ctx, &guardduty.CreateThreatEntitySetInput{DetectorId: &det, Name: aws.String("x"),
		Format: types.ThreatEntitySetFormatTxt, Location: aws.String("ftp://example/list"), Activate: aws.Bool(true)})
	badRequest(t, err, "is not a URL")
	_, err = a.CreateThreatEntitySet(ctx, &guardduty.CreateThreatEntitySetInput{DetectorId: &det, Name: aws.String("x"),
		Format: "CSV", Location: aws.String(srv.URL + "/good.txt"), Activate: aws.Bool(true)})
	var br *types.BadRequestException
	if !errors.As(err, &br) {
		t.Errorf("unknown format: %v", err)
	}
}

// TestThreatListsSurviveRestart: an ACTIVE list's entries are back in
// detection after a restart, from the database, without fetching again.
func TestThreatListsSurviveRestart(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	srv := listServer(t, map[string]string{"/t.txt": "198.51.100.77\n"})
	out, err := a.CreateThreatIntelSet(ctx, &guardduty.CreateThreatIntelSetInput{DetectorId: &det, Name: aws.String("t"),
		Format: types.ThreatIntelSetFormatTxt, Location: aws.String(srv.URL + "/t.txt"), Activate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ThreatIntelSetId)
	waitStatus(t, func() (string, error) {
		g, err := a.GetThreatIntelSet(ctx, &guardduty.GetThreatIntelSetInput{DetectorId: &det, ThreatIntelSetId: &id})
		if err != nil {
			return "", err
		}
		return string(g.Status), nil
	}, "ACTIVATING")
	srv.Close()
	if err := s.Main.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := startServerWith(t, s.dir, s.credFile)
	scope := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m, ok := s2.service.ThreatListIP(scope, det, netip.MustParseAddr("198.51.100.77")); ok && m.ListID == id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the list's entries did not come back after a restart")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestThreatListFromS3 reads a threat intel set at an s3:// location from
// an S3-compatible endpoint on loopback (--s3-endpoint), passing the
// expected bucket owner, and shows a wrong owner ending in ERROR.
func TestThreatListFromS3(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDS3EXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3secret")
	s3srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=AKIDS3EXAMPLE/") {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`))
			return
		}
		if owner := r.Header.Get("X-Amz-Expected-Bucket-Owner"); owner != "" && owner != accountA {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`))
			return
		}
		if r.URL.Path != "/intel-bucket/lists/threats.txt" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`))
			return
		}
		w.Write([]byte("198.51.100.99\n"))
	}))
	t.Cleanup(s3srv.Close)
	s := startServer(t, "--s3-endpoint", s3srv.URL)
	ctx := context.Background()
	a := s.clientA()
	det := createDetector(t, a)
	create := func(loc, owner string) (string, *guardduty.GetThreatIntelSetOutput) {
		t.Helper()
		in := &guardduty.CreateThreatIntelSetInput{DetectorId: &det, Name: aws.String("s3 list"),
			Format: types.ThreatIntelSetFormatTxt, Location: &loc, Activate: aws.Bool(true)}
		if owner != "" {
			in.ExpectedBucketOwner = &owner
		}
		out, err := a.CreateThreatIntelSet(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.ThreatIntelSetId)
		var g *guardduty.GetThreatIntelSetOutput
		waitStatus(t, func() (string, error) {
			var err error
			g, err = a.GetThreatIntelSet(ctx, &guardduty.GetThreatIntelSetInput{DetectorId: &det, ThreatIntelSetId: &id})
			if err != nil {
				return "", err
			}
			return string(g.Status), nil
		}, "ACTIVATING")
		return id, g
	}
	id, g := create("s3://intel-bucket/lists/threats.txt", accountA)
	if g.Status != types.ThreatIntelSetStatusActive || aws.ToString(g.ExpectedBucketOwner) != accountA {
		t.Fatalf("s3:// list: %s, owner %q", g.Status, aws.ToString(g.ExpectedBucketOwner))
	}
	// ACTIVE means in use: detection matches the list's entries already.
	if m, ok := s.service.ThreatListIP(guardpost.Scope{AccountID: accountA, Region: "us-east-1"}, det, netip.MustParseAddr("198.51.100.99")); !ok || m.ListID != id {
		t.Errorf("lookup once ACTIVE: %+v %v", m, ok)
	}
	if _, err := a.DeleteThreatIntelSet(ctx, &guardduty.DeleteThreatIntelSetInput{DetectorId: &det, ThreatIntelSetId: &id}); err != nil {
		t.Fatal(err)
	}
	_, g = create("https://intel-bucket.s3.us-east-1.amazonaws.com/lists/threats.txt", "")
	if g.Status != types.ThreatIntelSetStatusActive {
		t.Errorf("S3 HTTPS URL: %s", g.Status)
	}
	// Another owner's bucket: the read is refused, the list ends in ERROR.
	other, _ := a.ListThreatIntelSets(ctx, &guardduty.ListThreatIntelSetsInput{DetectorId: &det})
	for _, id := range other.ThreatIntelSetIds {
		a.DeleteThreatIntelSet(ctx, &guardduty.DeleteThreatIntelSetInput{DetectorId: &det, ThreatIntelSetId: &id})
	}
	_, g = create("s3://intel-bucket/lists/threats.txt", accountB)
	if g.Status != types.ThreatIntelSetStatusError {
		t.Errorf("wrong bucket owner: %s", g.Status)
	}
}

// TestThreatListsAcrossNodes runs two servers on one database: a list one
// activates comes into the other's detection view, and goes when the
// first deactivates it.
func TestThreatListsAcrossNodes(t *testing.T) {
	s1 := startServer(t, "--list-sync", "10ms")
	s2 := startServerWith(t, s1.dir, s1.credFile, "--list-sync", "10ms", "--audit=false")
	ctx := context.Background()
	a := s1.clientA()
	det := createDetector(t, a)
	srv := listServer(t, map[string]string{"/t.txt": "198.51.100.55\n"})
	out, err := a.CreateThreatIntelSet(ctx, &guardduty.CreateThreatIntelSetInput{DetectorId: &det, Name: aws.String("shared"),
		Format: types.ThreatIntelSetFormatTxt, Location: aws.String(srv.URL + "/t.txt"), Activate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ThreatIntelSetId)
	scope := guardpost.Scope{AccountID: accountA, Region: "us-east-1"}
	ip := netip.MustParseAddr("198.51.100.55")
	waitView := func(s *testServer, want bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m, ok := s.service.ThreatListIP(scope, det, ip)
			if ok == want && (!ok || m.ListID == id) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other node's view: listed %v, want %v", ok, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitView(s2, true)
	if _, err := a.UpdateThreatIntelSet(ctx, &guardduty.UpdateThreatIntelSetInput{DetectorId: &det, ThreatIntelSetId: &id, Activate: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	waitView(s2, false)
	waitView(s1, false)
}
