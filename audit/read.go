package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Filter selects records; a zero field selects everything.
type Filter struct {
	// Account matches the caller's account (userIdentity.accountId) or
	// the account the call was made to (recipientAccountId).
	Account string
	// EventNames match eventName exactly (any of them).
	EventNames []string
	// Since keeps records whose eventTime is at or after it.
	Since time.Time
}

// Match tells whether rec passes f.
func (f Filter) Match(rec *Record) bool {
	if f.Account != "" && rec.UserIdentity.AccountID != f.Account && rec.RecipientAccountID != f.Account {
		return false
	}
	if len(f.EventNames) > 0 && !slices.Contains(f.EventNames, rec.EventName) {
		return false
	}
	if !f.Since.IsZero() && rec.Time().Before(f.Since.Truncate(time.Second)) {
		return false
	}
	return true
}

// Files returns the audit files of dir, oldest first.
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, FilePrefix) && strings.HasSuffix(n, FileSuffix) {
			files = append(files, filepath.Join(dir, n))
		}
	}
	slices.Sort(files) // names carry a fixed-width UTC time
	return files, nil
}

// Scan calls fn, in the order they were written, for every record of dir
// that f matches, with the record and its line as written (without the
// newline; valid only during the call). A file's last line left
// incomplete by a crash is skipped; any other line that does not parse is
// an error naming its file and line.
func Scan(dir string, f Filter, fn func(rec *Record, line []byte) error) error {
	files, err := Files(dir)
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := scanFile(name, f, fn); err != nil {
			return err
		}
	}
	return nil
}

func scanFile(name string, f Filter, fn func(rec *Record, line []byte) error) error {
	file, err := os.Open(name)
	if err != nil {
		return err
	}
	defer file.Close()
	r := bufio.NewReaderSize(file, 64<<10)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			// A last line without its newline is a write torn by a crash:
			// its record was never acknowledged as durable.
			return nil
		}
		if err != nil {
			return err
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if !f.Match(&rec) {
			continue
		}
		if err := fn(&rec, line); err != nil {
			return err
		}
	}
}
