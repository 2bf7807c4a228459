package sigv4

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Credential is one access key accepted by the server, read from one profile
// of the credentials file.
type Credential struct {
	Profile         string
	AccessKeyID     string
	SecretAccessKey string
	AccountID       string
	// SessionToken, when the profile declares aws_session_token, must come
	// with every request signed by this key (X-Amz-Security-Token), as
	// for AWS's temporary credentials.
	SessionToken string
	// OrganizationID is the AWS Organization the account belongs to
	// (organization_id), "" when none; OrganizationManagement marks the
	// organization's management account (organization_role = management).
	// The AWS CLI and SDKs ignore both keys.
	OrganizationID         string
	OrganizationManagement bool
}

const (
	keyAccessKeyID      = "aws_access_key_id"
	keySecretAccessKey  = "aws_secret_access_key"
	keyAccountID        = "aws_account_id"
	keySessionToken     = "aws_session_token"
	keyOrganizationID   = "organization_id"
	keyOrganizationRole = "organization_role"
)

// profileState is a profile being parsed; the line numbers feed error messages.
type profileState struct {
	cred     Credential
	line     int            // line of the [profile] header
	keyLines map[string]int // line of each of the three keys seen so far
}

// LoadCredentials reads an AWS shared-credentials INI file in which every
// profile carries aws_access_key_id, aws_secret_access_key and
// aws_account_id, and returns the credentials keyed by access key id.
//
// The syntax follows what the AWS CLI accepts (it parses the file with
// Python's configparser): full-line comments starting with '#' or ';', blank
// lines, whitespace around '=', key names case-insensitive, no inline
// comments (a '#' after a value is part of the value, as for the CLI), and
// lines indented deeper than the previous key continue its value (used for
// nested settings such as "s3 =" blocks). A profile may also declare
// aws_session_token (see Credential.SessionToken), organization_id and
// organization_role (see Credential.OrganizationID); other keys are ignored. Errors name the file and line.
func LoadCredentials(path string) (map[string]Credential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCredentials(path, data)
}

// ParseCredentials is LoadCredentials of a file's bytes, path naming the
// file in errors.
func ParseCredentials(path string, data []byte) (map[string]Credential, error) {
	return parseCredentials(path, data)
}

func parseCredentials(path string, data []byte) (map[string]Credential, error) {
	errorf := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...))
	}

	creds := make(map[string]Credential)
	keyOwner := make(map[string]*profileState) // access key id -> profile using it
	profileLine := make(map[string]int)        // profile name -> header line
	var cur *profileState
	var lastKey string // key of the last key=value line in the current profile
	lastKeyIndent := -1

	finish := func() error {
		if cur == nil {
			return nil
		}
		for _, k := range []string{keyAccessKeyID, keySecretAccessKey, keyAccountID} {
			if _, ok := cur.keyLines[k]; !ok {
				return errorf(cur.line, "profile %q is missing %s", cur.cred.Profile, k)
			}
		}
		if line, ok := cur.keyLines[keyOrganizationRole]; ok && cur.cred.OrganizationID == "" {
			return errorf(line, "%s without %s in profile %q", keyOrganizationRole, keyOrganizationID, cur.cred.Profile)
		}
		id := cur.cred.AccessKeyID
		if other, ok := keyOwner[id]; ok {
			return errorf(cur.keyLines[keyAccessKeyID], "duplicate access key %s: already used by profile %q (line %d)",
				id, other.cred.Profile, other.keyLines[keyAccessKeyID])
		}
		keyOwner[id] = cur
		creds[id] = cur.cred
		return nil
	}

	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		raw := sc.Text()
		if lineNo == 1 {
			raw = strings.TrimPrefix(raw, "\uFEFF") // editors on Windows add a BOM
		}
		raw = strings.TrimSuffix(raw, "\r")
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		indent := len(raw) - len(strings.TrimLeft(raw, " \t"))

		// Continuation line, as configparser sees it.
		if cur != nil && lastKey != "" && indent > lastKeyIndent {
			switch lastKey {
			case keyAccessKeyID, keySecretAccessKey, keyAccountID, keySessionToken, keyOrganizationID, keyOrganizationRole:
				return nil, errorf(lineNo, "unexpected indented line continuing %s (remove the leading whitespace)", lastKey)
			}
			continue // part of an ignored (possibly nested) setting
		}

		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, errorf(lineNo, "malformed profile header %q: missing ']'", line)
			}
			if err := finish(); err != nil {
				return nil, err
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			if name == "" {
				return nil, errorf(lineNo, "empty profile name")
			}
			if prev, ok := profileLine[name]; ok {
				return nil, errorf(lineNo, "duplicate profile %q (first defined on line %d)", name, prev)
			}
			profileLine[name] = lineNo
			cur = &profileState{cred: Credential{Profile: name}, line: lineNo, keyLines: make(map[string]int)}
			lastKey, lastKeyIndent = "", -1
			continue
		}

		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, errorf(lineNo, "malformed line %q: expected [profile] or key = value", line)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		if key == "" {
			return nil, errorf(lineNo, "malformed line %q: empty key", line)
		}
		if cur == nil {
			return nil, errorf(lineNo, "%s is outside any [profile] section", key)
		}
		lastKey, lastKeyIndent = key, indent

		switch key {
		case keyAccessKeyID, keySecretAccessKey, keyAccountID, keySessionToken, keyOrganizationID, keyOrganizationRole:
		default:
			continue // region, output, ... are for the CLI
		}
		if prev, ok := cur.keyLines[key]; ok {
			return nil, errorf(lineNo, "duplicate %s in profile %q (first set on line %d)", key, cur.cred.Profile, prev)
		}
		cur.keyLines[key] = lineNo
		switch key {
		case keyAccessKeyID:
			if !validAccessKeyID(value) {
				return nil, errorf(lineNo, "invalid %s %q: want letters, digits or '_' only", key, value)
			}
			cur.cred.AccessKeyID = value
		case keySecretAccessKey:
			if value == "" {
				return nil, errorf(lineNo, "empty %s", key)
			}
			cur.cred.SecretAccessKey = value
		case keyAccountID:
			if !validAccountID(value) {
				return nil, errorf(lineNo, "invalid %s %q: want exactly 12 digits", key, value)
			}
			cur.cred.AccountID = value
		case keySessionToken:
			if value == "" {
				return nil, errorf(lineNo, "empty %s", key)
			}
			cur.cred.SessionToken = value
		case keyOrganizationID:
			if !validOrganizationID(value) {
				return nil, errorf(lineNo, "invalid %s %q: want o- and 10 to 32 lowercase letters or digits", key, value)
			}
			cur.cred.OrganizationID = value
		case keyOrganizationRole:
			switch value {
			case "management":
				cur.cred.OrganizationManagement = true
			case "member":
			default:
				return nil, errorf(lineNo, "invalid %s %q: want management or member", key, value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, lineNo+1, err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("%s: no credentials: the file has no [profile] section", path)
	}
	return creds, nil
}

// validOrganizationID accepts AWS Organizations' pattern for organization
// ids: ^o-[a-z0-9]{10,32}$.
func validOrganizationID(s string) bool {
	rest, ok := strings.CutPrefix(s, "o-")
	if !ok || len(rest) < 10 || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validAccessKeyID accepts AWS's own pattern for access key ids ([\w]+). It
// also guarantees the id cannot break the "Credential=id/date/..." syntax.
func validAccessKeyID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// GenerateCredentials creates a new credentials file at path holding one
// random access key in profile "default" for accountID, and returns it. The
// access key id looks like AWS's ("AKIA" + 16 base32 characters) and the
// secret is 40 base64 characters, both from crypto/rand. The file is
// written with mode 0600 to a temporary file next to path and then moved into
// place, so readers never see a partial file. An existing path is never
// overwritten.
func GenerateCredentials(path, accountID string) (Credential, error) {
	if !validAccountID(accountID) {
		return Credential{}, fmt.Errorf("invalid account id %q: want exactly 12 digits", accountID)
	}
	// 10 bytes are exactly 16 base32 characters and 30 bytes exactly 40
	// base64 characters, so there is no padding to strip.
	idBytes := make([]byte, 10)
	secretBytes := make([]byte, 30)
	if _, err := rand.Read(idBytes); err != nil {
		return Credential{}, err
	}
	if _, err := rand.Read(secretBytes); err != nil {
		return Credential{}, err
	}
	cred := Credential{
		Profile:         "default",
		AccessKeyID:     "AKIA" + base32.StdEncoding.EncodeToString(idBytes),
		SecretAccessKey: base64.StdEncoding.EncodeToString(secretBytes),
		AccountID:       accountID,
	}

	// The path is deliberately not echoed into the file: a newline in it
	// would inject lines.
	content := fmt.Sprintf(`# guardpost credentials. The AWS CLI and SDKs read this file too (they ignore
# aws_account_id): export AWS_SHARED_CREDENTIALS_FILE=<this file>.
# Add one [profile] per access key.
[%s]
%s = %s
%s = %s
%s = %s
`, cred.Profile, keyAccessKeyID, cred.AccessKeyID, keySecretAccessKey, cred.SecretAccessKey, keyAccountID, cred.AccountID)

	if err := writeNewFile(path, []byte(content)); err != nil {
		return Credential{}, err
	}
	return cred, nil
}

// writeNewFile atomically creates path with mode 0600, failing if it exists.
func writeNewFile(path string, data []byte) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists; refusing to overwrite it", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		// On success the data lives on under path; the temporary name goes
		// either way.
		_ = os.Remove(tmpName)
	}()
	// CreateTemp already uses 0600, but make the mode independent of that.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}

	// A hard link fails if path appeared since the check above, unlike
	// rename, which would silently replace it. Filesystems without hard
	// links get the rename (after the check above).
	if err := os.Link(tmpName, path); err == nil {
		return nil
	} else if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; refusing to overwrite it", path)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists; refusing to overwrite it", path)
	}
	return os.Rename(tmpName, path)
}
