package sigv4

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadCredentials(t *testing.T) {
	content := "\uFEFF# guardpost keys\r\n" + `; another comment style

[default]
aws_access_key_id=AKIAAAAAAAAAAAAAAAAA
aws_secret_access_key   =   secret/one+x
aws_account_id = 111111111111
region = us-east-1
output = json

[audit]
  # indented comment
AWS_ACCESS_KEY_ID = AKIABBBBBBBBBBBBBBBB
Aws_Secret_Access_Key = secret two # not a comment, as for the CLI
s3 =
    max_concurrent_requests = 20
    aws_access_key_id = nested-values-are-ignored
aws_account_id = 222222222222
`
	creds, err := LoadCredentials(writeFile(t, content))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Credential{
		"AKIAAAAAAAAAAAAAAAAA": {Profile: "default", AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: "secret/one+x", AccountID: "111111111111"},
		"AKIABBBBBBBBBBBBBBBB": {Profile: "audit", AccessKeyID: "AKIABBBBBBBBBBBBBBBB", SecretAccessKey: "secret two # not a comment, as for the CLI", AccountID: "222222222222"},
	}
	if len(creds) != len(want) {
		t.Fatalf("got %d credentials, want %d: %+v", len(creds), len(want), creds)
	}
	for k, w := range want {
		if creds[k] != w {
			t.Errorf("creds[%s] = %+v, want %+v", k, creds[k], w)
		}
	}
}

// TestLoadCredentialsOrganizations: profiles declare their organization
// and role (keys the AWS CLI ignores); profiles without them have none.
func TestLoadCredentialsOrganizations(t *testing.T) {
	content := `[m]
aws_access_key_id = AKIAMMMMMMMMMMMMMMMM
aws_secret_access_key = m
aws_account_id = 111111111111
Organization_ID = o-abcdefghij
organization_role = management

[a]
aws_access_key_id = AKIAAAAAAAAAAAAAAAAA
aws_secret_access_key = a
aws_account_id = 222222222222
organization_id = o-abcdefghij
organization_role = member

[d]
aws_access_key_id = AKIADDDDDDDDDDDDDDDD
aws_secret_access_key = d
aws_account_id = 333333333333
`
	path := writeFile(t, content)
	creds, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := creds["AKIAMMMMMMMMMMMMMMMM"]; c.OrganizationID != "o-abcdefghij" || !c.OrganizationManagement {
		t.Errorf("management profile: %+v", c)
	}
	if c := creds["AKIAAAAAAAAAAAAAAAAA"]; c.OrganizationID != "o-abcdefghij" || c.OrganizationManagement {
		t.Errorf("member profile: %+v", c)
	}
	if c := creds["AKIADDDDDDDDDDDDDDDD"]; c.OrganizationID != "" || c.OrganizationManagement {
		t.Errorf("profile outside any organization: %+v", c)
	}
	// The AWS SDK reads the same file, ignoring the organization keys.
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithSharedCredentialsFiles([]string{path}),
		config.WithSharedConfigFiles([]string{}), config.WithSharedConfigProfile("m"), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != "AKIAMMMMMMMMMMMMMMMM" || got.SecretAccessKey != "m" {
		t.Errorf("the AWS SDK reads %+v, %v", got, err)
	}
}

func TestLoadCredentialsErrors(t *testing.T) {
	const good = "aws_access_key_id = AKIAAAAAAAAAAAAAAAAA\naws_secret_access_key = s\naws_account_id = 111111111111\n"
	tests := []struct {
		name, content, want string
	}{
		{"malformed line", "[a]\nthis is not ini\n", ":2: malformed line"},
		{"empty key", "[a]\n= value\n", ":2: malformed line \"= value\": empty key"},
		{"key outside profile", "aws_access_key_id = X\n", ":1: aws_access_key_id is outside any [profile] section"},
		{"unterminated header", "[a\n" + good, ":1: malformed profile header"},
		{"empty profile name", "[ ]\n" + good, ":1: empty profile name"},
		{"missing access key", "[a]\naws_secret_access_key = s\naws_account_id = 111111111111\n", `:1: profile "a" is missing aws_access_key_id`},
		{"missing secret", "# c\n[a]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\naws_account_id = 111111111111\n", `:2: profile "a" is missing aws_secret_access_key`},
		{"missing account", "[a]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\naws_secret_access_key = s\n[b]\n", `:1: profile "a" is missing aws_account_id`},
		{"profile with no keys", "[a]\n" + good + "[b]\nregion = us-east-1\n", `:5: profile "b" is missing aws_access_key_id`},
		{"short account", "[a]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\naws_secret_access_key = s\naws_account_id = 11111111111\n", `:4: invalid aws_account_id "11111111111": want exactly 12 digits`},
		{"long account", "[a]\naws_account_id = 1111111111111\n", `:2: invalid aws_account_id`},
		{"non-digit account", "[a]\naws_account_id = 11111111111x\n", `:2: invalid aws_account_id`},
		{"empty secret", "[a]\naws_secret_access_key =\n", `:2: empty aws_secret_access_key`},
		{"bad access key", "[a]\naws_access_key_id = AKIA/X\n", `:2: invalid aws_access_key_id "AKIA/X"`},
		{"duplicate access key", "[a]\n" + good + "\n[b]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\naws_secret_access_key = t\naws_account_id = 222222222222\n",
			`:7: duplicate access key AKIAAAAAAAAAAAAAAAAA: already used by profile "a" (line 2)`},
		{"duplicate profile", "[a]\n" + good + "[a]\n", `:5: duplicate profile "a" (first defined on line 1)`},
		{"duplicate key", "[a]\n" + good + "aws_account_id = 111111111111\n", `:5: duplicate aws_account_id in profile "a" (first set on line 4)`},
		{"continued secret", "[a]\naws_secret_access_key = s\n  more\n", `:3: unexpected indented line continuing aws_secret_access_key`},
		{"empty file", "# nothing\n\n", "no credentials"},
		{"bad organization id", "[a]\n" + good + "organization_id = org-1\n", `:5: invalid organization_id "org-1"`},
		{"short organization id", "[a]\n" + good + "organization_id = o-abc\n", `:5: invalid organization_id "o-abc"`},
		{"upper-case organization id", "[a]\n" + good + "organization_id = o-ABCDEFGHIJ\n", `:5: invalid organization_id`},
		{"bad organization role", "[a]\n" + good + "organization_id = o-abcdefghij\norganization_role = admin\n", `:6: invalid organization_role "admin": want management or member`},
		{"role without organization", "[a]\n" + good + "organization_role = management\n", `:5: organization_role without organization_id in profile "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			_, err := LoadCredentials(path)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want %q prefixed by the path", err, tt.want)
			}
		})
	}

	if _, err := LoadCredentials(filepath.Join(t.TempDir(), "absent")); !os.IsNotExist(err) {
		t.Errorf("missing file: got %v, want a not-exist error", err)
	}
}

func TestGenerateCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	cred, err := GenerateCredentials(path, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(cred.AccessKeyID) {
		t.Errorf("access key id %q is not AKIA + 16 base32 characters", cred.AccessKeyID)
	}
	if len(cred.SecretAccessKey) != 40 {
		t.Errorf("secret %q has %d characters, want 40", cred.SecretAccessKey, len(cred.SecretAccessKey))
	}
	if cred.Profile != "default" || cred.AccountID != "123456789012" {
		t.Errorf("got %+v", cred)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the credentials file (temporary file left behind?)", len(entries))
	}

	loaded, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded[cred.AccessKeyID] != cred {
		t.Errorf("round trip: got %+v, want %+v", loaded, cred)
	}

	// The AWS SDK's own parser reads the same file (as the CLI would via
	// AWS_SHARED_CREDENTIALS_FILE).
	sc, err := config.LoadSharedConfigProfile(context.Background(), "default", func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{path}
		o.ConfigFiles = []string{}
	})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Credentials.AccessKeyID != cred.AccessKeyID || sc.Credentials.SecretAccessKey != cred.SecretAccessKey {
		t.Errorf("SDK read %q/%q, want %q/%q", sc.Credentials.AccessKeyID, sc.Credentials.SecretAccessKey, cred.AccessKeyID, cred.SecretAccessKey)
	}

	// Keys are random.
	other, err := GenerateCredentials(filepath.Join(dir, "other"), "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	if other.AccessKeyID == cred.AccessKeyID || other.SecretAccessKey == cred.SecretAccessKey {
		t.Error("two generated credentials are equal")
	}
}

func TestGenerateCredentialsRefusesOverwrite(t *testing.T) {
	path := writeFile(t, "precious\n")
	if _, err := GenerateCredentials(path, "123456789012"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("got %v, want an already-exists error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious\n" {
		t.Errorf("file was changed to %q", b)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
}

func TestGenerateCredentialsBadAccount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds")
	for _, acct := range []string{"", "12345678901", "1234567890123", "12345678901a"} {
		if _, err := GenerateCredentials(path, acct); err == nil {
			t.Errorf("account %q: no error", acct)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file created despite errors: %v", err)
	}
}
