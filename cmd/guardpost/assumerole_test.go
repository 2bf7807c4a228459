package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/guardpost/guardpost/audit"
	"github.com/guardpost/guardpost/sigv4"
)

// aAdministersB lets account A assume roles in account B, and nothing else
// across accounts: what the members feature will decide.
func aAdministersB(_ context.Context, caller sigv4.Identity, account string) (bool, error) {
	return caller.AccountID == accountA && account == accountB, nil
}

// startSTSServer serves the two test accounts with A administering B, on a
// clock the test moves.
func startSTSServer(t *testing.T, clock *testClock) *testServer {
	t.Helper()
	s := startServer(t) // writes the credentials file; this server is not used further
	return startConfiguredServer(t, t.TempDir(), s.credFile, func(m *Main) {
		m.Now = clock.Now
		m.MayAssume = aAdministersB
	})
}

// stsClientAt is an STS SDK client signing on clock.
func (s *testServer) stsClientAt(creds aws.CredentialsProvider, clock *testClock) *sts.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: creds, HTTPClient: testHTTPClient, Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.BaseEndpoint = aws.String(s.endpoint())
		o.HTTPSignerV4 = clock.signer()
	})
}

const roleB = "arn:aws:iam::" + accountB + ":role/GuardDutyAudit"

func TestAssumeRoleIntoAdministeredAccountSDK(t *testing.T) {
	clock := &testClock{}
	s := startSTSServer(t, clock)
	ctx := context.Background()
	detB := sampleDetector(t, s.client(keyB, secretB, "us-east-1"))

	stsA := s.stsClientAt(static(keyA, secretA, ""), clock)
	out, err := stsA.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleB), RoleSessionName: aws.String("audit@example.com"),
		DurationSeconds: aws.Int32(900), SourceIdentity: aws.String("alice")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	c := out.Credentials
	if k := aws.ToString(c.AccessKeyId); !strings.HasPrefix(k, "ASIA") || len(k) != 20 || aws.ToString(c.SecretAccessKey) == "" ||
		aws.ToString(c.SessionToken) == "" {
		t.Fatalf("credentials %+v", c)
	}
	if exp := aws.ToTime(c.Expiration); exp.Sub(clock.Now()) > 900*time.Second || exp.Sub(clock.Now()) < 895*time.Second {
		t.Fatalf("expiration %v, want 900 s from %v", exp, clock.Now())
	}
	wantArn := "arn:aws:sts::" + accountB + ":assumed-role/GuardDutyAudit/audit@example.com"
	if aws.ToString(out.AssumedRoleUser.Arn) != wantArn || !strings.HasPrefix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), "AROA") ||
		!strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":audit@example.com") || aws.ToString(out.SourceIdentity) != "alice" {
		t.Fatalf("assumed role user %+v, source identity %v", out.AssumedRoleUser, aws.ToString(out.SourceIdentity))
	}
	if out.PackedPolicySize != nil {
		t.Errorf("PackedPolicySize %d without session policies or tags", *out.PackedPolicySize)
	}
	temp := static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))

	// The temporary credentials act as account B: B's detector and findings.
	gd := s.sdkClient(temp, "us-east-1", clock.signer())
	dets, err := gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil || len(dets.DetectorIds) != 1 || dets.DetectorIds[0] != detB {
		t.Fatalf("ListDetectors as the role: %v %v, want [%s]", dets, err, detB)
	}
	ids, err := gd.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: &detB, MaxResults: aws.Int32(3)})
	if err != nil || len(ids.FindingIds) == 0 {
		t.Fatalf("ListFindings as the role: %v", err)
	}
	got, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &detB, FindingIds: ids.FindingIds})
	if err != nil || len(got.Findings) != len(ids.FindingIds) || aws.ToString(got.Findings[0].AccountId) != accountB {
		t.Fatalf("GetFindings as the role: %v", err)
	}
	if _, err := gd.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: &detB, FindingIds: ids.FindingIds[:1]}); err != nil {
		t.Fatalf("ArchiveFindings as the role: %v", err)
	}
	// The audit log names the role session, as CloudTrail does.
	var archived *audit.Record
	for _, rec := range readAudit(t, s.DataDir) {
		if rec.EventName == "ArchiveFindings" {
			archived = &rec
		}
	}
	if archived == nil {
		t.Fatal("no audit record of the role's ArchiveFindings")
	}
	if u := archived.UserIdentity; u.Type != "AssumedRole" || u.ARN != wantArn || u.AccountID != accountB ||
		u.AccessKeyID != aws.ToString(c.AccessKeyId) || u.PrincipalID != aws.ToString(out.AssumedRoleUser.AssumedRoleId) ||
		u.SessionContext == nil || u.SessionContext.SessionIssuer == nil || u.SessionContext.SessionIssuer.ARN != roleB ||
		u.SessionContext.SessionIssuer.UserName != "GuardDutyAudit" || u.SessionContext.Attributes.CreationDate == "" {
		t.Fatalf("audit record of the role's ArchiveFindings: %+v", archived)
	}
	who, err := s.stsClientAt(temp, clock).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != wantArn || aws.ToString(who.Account) != accountB ||
		aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Fatalf("GetCallerIdentity as the role: %+v %v", who, err)
	}

	// The SDK's own assume-role credential provider, as multi-account
	// scripts use it.
	provider := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsA, roleB, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "sdk-provider"
	}))
	if dets, err := s.sdkClient(provider, "us-east-1", clock.signer()).ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil ||
		len(dets.DetectorIds) != 1 || dets.DetectorIds[0] != detB {
		t.Fatalf("ListDetectors with stscreds: %v %v", dets, err)
	}

	// Another server on the same database (another node, or this one
	// restarted) accepts the credentials too: nothing is kept in memory.
	other := startConfiguredServer(t, s.dir, s.credFile, func(m *Main) { m.Now = clock.Now })
	if dets, err := other.sdkClient(temp, "us-east-1", clock.signer()).ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil || len(dets.DetectorIds) != 1 {
		t.Fatalf("ListDetectors on another node: %v %v", dets, err)
	}

	// B may not assume into A, and A not into a third account: the same
	// AccessDenied either way, naming the caller and the role.
	_, err = s.stsClientAt(static(keyB, secretB, ""), clock).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + accountA + ":role/x"), RoleSessionName: aws.String("s1")})
	wantRefusal(t, "B into A", err, 403, "AccessDenied",
		"User: arn:aws:iam::"+accountB+":user/b is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::"+accountA+":role/x")
	_, err = stsA.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::999999999999:role/x"), RoleSessionName: aws.String("s1")})
	wantRefusal(t, "A into a stranger", err, 403, "AccessDenied",
		"User: arn:aws:iam::"+accountA+":user/a is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::999999999999:role/x")

	// Expired: from the expiry on, GuardDuty and STS answer ExpiredToken.
	clock.Advance(901 * time.Second)
	_, err = gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	wantRefusal(t, "expired, GuardDuty", err, 403, "ExpiredTokenException", "The security token included in the request is expired")
	_, err = s.stsClientAt(temp, clock).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantRefusal(t, "expired, STS", err, 403, "ExpiredToken", "The security token included in the request is expired")
}

func TestAssumeRoleAndSessionTokenRulesSDK(t *testing.T) {
	clock := &testClock{}
	s := startSTSServer(t, clock)
	ctx := context.Background()
	stsA := s.stsClientAt(static(keyA, secretA, ""), clock)
	own := "arn:aws:iam::" + accountA + ":role/path/to/Admin"
	assume := func(c *sts.Client, arn, session string, seconds int32) (*sts.AssumeRoleOutput, error) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String(session)}
		if seconds != 0 {
			in.DurationSeconds = aws.Int32(seconds)
		}
		return c.AssumeRole(ctx, in)
	}

	// A role in one's own account; one hour by default; the path is not
	// part of the assumed-role ARN.
	out, err := assume(stsA, own, "s1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := aws.ToTime(out.Credentials.Expiration).Sub(clock.Now()); d > time.Hour || d < time.Hour-5*time.Second {
		t.Errorf("default duration %v", d)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+accountA+":assumed-role/Admin/s1" {
		t.Errorf("Arn %s", got)
	}
	roleCreds := static(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))

	for _, tc := range []struct {
		name          string
		arn, session  string
		seconds       int32
		code, message string
	}{
		{"duration under 900", own, "s1", 899, "ValidationError",
			"1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"duration over 43200", own, "s1", 43201, "ValidationError",
			"1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"duration over the role's maximum", own, "s1", 3601, "ValidationError",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"session name pattern", own, "a b", 0, "ValidationError",
			"1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"},
		{"two errors", "arn:aws:iam::1:role", "s", 100, "ValidationError",
			"3 validation errors detected: Value 'arn:aws:iam::1:role' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20; " +
				"Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; " +
				"Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"not a role ARN", "arn:aws:iam::" + accountA + ":user/bob", "s1", 0, "ValidationError", "Request ARN is invalid"},
	} {
		_, err := assume(stsA, tc.arn, tc.session, tc.seconds)
		wantRefusal(t, tc.name, err, 400, tc.code, tc.message)
	}
	// Role chaining: at most one hour.
	_, err = assume(s.stsClientAt(roleCreds, clock), own, "chained", 3601)
	wantRefusal(t, "role chaining", err, 400, "ValidationError",
		"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	if _, err := assume(s.stsClientAt(roleCreds, clock), own, "chained", 3600); err != nil {
		t.Fatalf("role chaining within an hour: %v", err)
	}

	// GetSessionToken: 12 hours by default, 900 to 129600 seconds, the
	// caller's own identity, never from session credentials.
	st, err := stsA.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if d := aws.ToTime(st.Credentials.Expiration).Sub(clock.Now()); d > 12*time.Hour || d < 12*time.Hour-5*time.Second {
		t.Errorf("GetSessionToken default duration %v", d)
	}
	sessionCreds := static(aws.ToString(st.Credentials.AccessKeyId), aws.ToString(st.Credentials.SecretAccessKey), aws.ToString(st.Credentials.SessionToken))
	who, err := s.stsClientAt(sessionCreds, clock).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::"+accountA+":user/a" || aws.ToString(who.Account) != accountA {
		t.Fatalf("GetCallerIdentity with a session token: %+v %v", who, err)
	}
	det := createDetector(t, s.sdkClient(sessionCreds, "us-east-1", clock.signer()))
	if dets, err := s.clientA().ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil || len(dets.DetectorIds) != 1 || dets.DetectorIds[0] != det {
		t.Fatalf("the session's detector is not A's: %v %v", dets, err)
	}
	for _, tc := range []struct {
		seconds int32
		msg     string
	}{
		{899, "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{129601, "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600"},
	} {
		_, err := stsA.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(tc.seconds)})
		wantRefusal(t, "GetSessionToken duration", err, 400, "ValidationError", tc.msg)
	}
	if out, err := stsA.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129600)}); err != nil ||
		aws.ToTime(out.Credentials.Expiration).Sub(clock.Now()) < 36*time.Hour-5*time.Second {
		t.Fatalf("GetSessionToken for 36 hours: %v", err)
	}
	for name, creds := range map[string]aws.CredentialsProvider{"session token": sessionCreds, "role": roleCreds} {
		_, err := s.stsClientAt(creds, clock).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		wantRefusal(t, "GetSessionToken with "+name+" credentials", err, 403, "AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	// A session token's credentials may assume a role (not chaining).
	if _, err := assume(s.stsClientAt(sessionCreds, clock), roleB, "from-session", 3600); err != nil {
		t.Fatalf("AssumeRole with GetSessionToken credentials: %v", err)
	}
}

// TestAssumeRoleCLI: the AWS CLI assumes a role in the administered account
// through a profile (role_arn, source_profile), with STS and GuardDuty both
// at guardpost (AWS_ENDPOINT_URL), then uses expired credentials.
func TestAssumeRoleCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the assume-role CLI test")
	}
	clock := &testClock{}
	s := startSTSServer(t, clock)
	detB := createDetector(t, s.client(keyB, secretB, "us-east-1"))
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, []byte("[profile member]\nrole_arn = "+roleB+"\nsource_profile = a\nrole_session_name = cli\nduration_seconds = 900\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(s.awsEnv(), "AWS_CONFIG_FILE="+config, "AWS_ENDPOINT_URL="+s.endpoint())
	run := func(env []string, args ...string) ([]byte, error) {
		cmd := exec.Command("aws", append([]string{"--output", "json"}, args...)...)
		cmd.Env = env
		return cmd.CombinedOutput()
	}

	out, err := run(env, "--profile", "member", "guardduty", "list-detectors")
	if err != nil || !strings.Contains(string(out), detB) {
		t.Fatalf("list-detectors --profile member: %v\n%s", err, out)
	}
	out, err = run(env, "--profile", "member", "sts", "get-caller-identity")
	if err != nil || !strings.Contains(string(out), "arn:aws:sts::"+accountB+":assumed-role/GuardDutyAudit/cli") {
		t.Fatalf("get-caller-identity --profile member: %v\n%s", err, out)
	}

	// aws sts assume-role, then the credentials in the environment.
	out, err = run(env, "sts", "assume-role", "--role-arn", roleB, "--role-session-name", "script", "--duration-seconds", "900")
	if err != nil {
		t.Fatalf("assume-role: %v\n%s", err, out)
	}
	var assumed struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
	}
	if err := json.Unmarshal(out, &assumed); err != nil || !strings.HasPrefix(assumed.Credentials.AccessKeyId, "ASIA") {
		t.Fatalf("assume-role output %s: %v", out, err)
	}
	var tempEnv []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_PROFILE=") {
			tempEnv = append(tempEnv, kv)
		}
	}
	tempEnv = append(tempEnv, "AWS_ACCESS_KEY_ID="+assumed.Credentials.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+assumed.Credentials.SecretAccessKey,
		"AWS_SESSION_TOKEN="+assumed.Credentials.SessionToken)
	if out, err := run(tempEnv, "guardduty", "list-detectors"); err != nil || !strings.Contains(string(out), detB) {
		t.Fatalf("list-detectors with the temporary credentials: %v\n%s", err, out)
	}
	// The CLI signs with the real clock; the server's moved past the expiry.
	clock.Advance(901 * time.Second)
	out, err = run(tempEnv, "guardduty", "list-detectors")
	if err == nil || !strings.Contains(string(out), "(ExpiredTokenException)") || !strings.Contains(string(out), "The security token included in the request is expired") {
		t.Fatalf("expired credentials: err %v\n%s", err, out)
	}
}
