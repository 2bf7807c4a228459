package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func testRecord(name, account string, readOnly bool, at time.Time) *Record {
	return &Record{EventVersion: EventVersion, EventTime: at.UTC().Format(TimeFormat), EventSource: EventSource, EventName: name,
		UserIdentity: UserIdentity{Type: "IAMUser", AccountID: account, AccessKeyID: "AKIAEXAMPLE"}, AWSRegion: "us-east-1",
		RequestParameters: []byte(`{"detectorId":"d"}`), ResponseElements: []byte("null"), RequestID: fmt.Sprintf("req-%s-%d", name, at.UnixNano()),
		EventID: "e", ReadOnly: readOnly, EventType: EventTypeAPICall, ManagementEvent: true, RecipientAccountID: account,
		EventCategory: EventCategoryManagement}
}

// all returns every record of dir, in order, and fails on a scan error.
func all(t *testing.T, dir string, f Filter) []*Record {
	t.Helper()
	var out []*Record
	if err := Scan(dir, f, func(r *Record, line []byte) error {
		if bytes.ContainsRune(line, '\n') {
			t.Errorf("line with a newline: %q", line)
		}
		c := *r
		out = append(out, &c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func fileText(t *testing.T, dir string) string {
	t.Helper()
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// A state-changing record is in the file when Write returns; a read-only
// one waits for the next flush (here: the next state-changing record, the
// tick being an hour away) or Close.
func TestWriteDurability(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	write := testRecord("ArchiveFindings", "111122223333", false, now)
	if err := l.Write(write); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fileText(t, dir), write.RequestID) {
		t.Fatal("a state-changing record is not in the file when Write returns")
	}
	read := testRecord("GetFindings", "111122223333", true, now)
	if err := l.Write(read); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fileText(t, dir), read.RequestID) {
		t.Fatal("a read-only record was written at once: reads would wait for the disk")
	}
	write2 := testRecord("UpdateFindingsFeedback", "111122223333", false, now)
	if err := l.Write(write2); err != nil {
		t.Fatal(err)
	}
	if text := fileText(t, dir); !strings.Contains(text, read.RequestID) || !strings.Contains(text, write2.RequestID) {
		t.Fatal("the read-only record did not go with the next state-changing one")
	}
	read2 := testRecord("ListFindings", "111122223333", true, now)
	if err := l.Write(read2); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got := all(t, dir, Filter{})
	var names []string
	for _, r := range got {
		names = append(names, r.EventName)
	}
	if want := "ArchiveFindings GetFindings UpdateFindingsFeedback ListFindings"; strings.Join(names, " ") != want {
		t.Errorf("records %v, want %s", names, want)
	}
	if err := l.Write(write); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
}

// A read-only record reaches the disk within SyncInterval without any
// other write.
func TestReadOnlyRecordsFlushedByTick(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{SyncInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	read := testRecord("GetFindings", "111122223333", true, time.Now())
	if err := l.Write(read); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(fileText(t, dir), read.RequestID); {
		if time.Now().After(deadline) {
			t.Fatal("read-only record never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRotationBySize(t *testing.T) {
	dir := t.TempDir()
	line, err := encode(testRecord("ArchiveFindings", "111122223333", false, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	max := int64(3*line.Len() + line.Len()/2) // three records a file
	l, err := Open(dir, Options{MaxBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	for i := range 10 {
		if err := l.Write(testRecord("ArchiveFindings", "111122223333", false, base.Add(time.Duration(i)))); err != nil {
			t.Fatal(err)
		}
	}
	// One record larger than MaxBytes gets a file of its own.
	big := testRecord("CreateFilter", "111122223333", false, base.Add(time.Hour))
	big.RequestParameters = []byte(`{"description":"` + strings.Repeat("x", int(max)) + `"}`)
	if err := l.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 { // 3+3+3+1, then the big one
		t.Errorf("%d files, want 5", len(files))
	}
	for i, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if i < len(files)-1 && st.Size() > max {
			t.Errorf("%s: %d bytes, more than MaxBytes %d", f, st.Size(), max)
		}
	}
	got := all(t, dir, Filter{})
	if len(got) != 11 {
		t.Fatalf("%d records, want 11", len(got))
	}
	for i, r := range got[:10] {
		if want := testRecord("ArchiveFindings", "111122223333", false, base.Add(time.Duration(i))).RequestID; r.RequestID != want {
			t.Errorf("record %d: %s, want %s (order across files)", i, r.RequestID, want)
		}
	}
}

func TestRotationByDay(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, err := Open(dir, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(testRecord("ArchiveFindings", "111122223333", false, now)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if err := l.Write(testRecord("ArchiveFindings", "111122223333", false, now)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if len(files) != 2 || !strings.HasPrefix(names[0], "audit-20261201T235959") || !strings.HasPrefix(names[1], "audit-20261202T000001") {
		t.Errorf("files %v, want one for each day", names)
	}
	if got := all(t, dir, Filter{}); len(got) != 2 {
		t.Errorf("%d records, want 2", len(got))
	}
}

// Each Open starts a new file; a last line torn by a crash is skipped, a
// broken line elsewhere is an error naming the file and line.
func TestTornLastLine(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(testRecord("ArchiveFindings", "111122223333", false, time.Now())); err != nil {
		t.Fatal(err)
	}
	l.Close()
	files, _ := Files(dir)
	f, err := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"eventVersion":"1.08","userIdent`) // the crash
	f.Close()

	l, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(testRecord("UnarchiveFindings", "111122223333", false, time.Now())); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if files, _ := Files(dir); len(files) != 2 {
		t.Fatalf("%d files, want a new one for the new Open", len(files))
	}
	if got := all(t, dir, Filter{}); len(got) != 2 || got[0].EventName != "ArchiveFindings" || got[1].EventName != "UnarchiveFindings" {
		t.Errorf("records %+v", got)
	}

	f, _ = os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\n")
	f.Close()
	err = Scan(dir, Filter{}, func(*Record, []byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), filepath.Base(files[0])+":2:") {
		t.Errorf("a broken line in the middle: %v, want an error naming %s:2", err, files[0])
	}
}

func TestFilter(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	recs := []*Record{
		testRecord("ArchiveFindings", "111111111111", false, t0),
		testRecord("CreateFilter", "222222222222", false, t0.Add(time.Hour)),
		testRecord("ArchiveFindings", "222222222222", false, t0.Add(2*time.Hour)),
	}
	recs[2].RecipientAccountID = "333333333333" // acting on another account
	for _, r := range recs {
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	for _, tc := range []struct {
		f    Filter
		want []int
	}{
		{Filter{}, []int{0, 1, 2}},
		{Filter{Account: "222222222222"}, []int{1, 2}},
		{Filter{Account: "333333333333"}, []int{2}},
		{Filter{EventNames: []string{"ArchiveFindings"}}, []int{0, 2}},
		{Filter{EventNames: []string{"CreateFilter", "ArchiveFindings"}, Account: "111111111111"}, []int{0}},
		{Filter{Since: t0.Add(time.Hour)}, []int{1, 2}},
		{Filter{Since: t0.Add(time.Hour + 500*time.Millisecond)}, []int{1, 2}}, // eventTime has seconds only
		{Filter{Since: t0.Add(3 * time.Hour)}, nil},
		{Filter{EventNames: []string{"DeleteDetector"}}, nil},
	} {
		var got []int
		for _, r := range all(t, dir, tc.f) {
			for i, w := range recs {
				if r.RequestID == w.RequestID {
					got = append(got, i)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%+v: records %v, want %v", tc.f, got, tc.want)
		}
	}
}

// Many writers at once: every record is written once and whole (group
// commit shares the fsyncs).
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{MaxBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 25
	var wg sync.WaitGroup
	base := time.Now()
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := testRecord("ArchiveFindings", "111122223333", i%3 == 0, base)
				r.RequestID = fmt.Sprintf("w%d-%d", w, i)
				if err := l.Write(r); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range all(t, dir, Filter{}) {
		seen[r.RequestID]++
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct records, want %d", len(seen), writers*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s written %d times", id, n)
		}
	}
}

// Past MaxPending, read-only records are dropped and counted rather than
// held in memory; state-changing ones are still written.
func TestDropsReadsWhenTooMuchWaits(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{MaxPending: 1, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	now := time.Now()
	if err := l.Write(testRecord("GetFindings", "111122223333", true, now)); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(testRecord("ListFindings", "111122223333", true, now)); !errors.Is(err, ErrDropped) {
		t.Errorf("second read-only record: %v, want ErrDropped", err)
	}
	if n := l.Dropped(); n != 1 {
		t.Errorf("Dropped %d, want 1", n)
	}
	if err := l.Write(testRecord("ArchiveFindings", "111122223333", false, now)); err != nil {
		t.Errorf("state-changing record: %v", err)
	}
}

// An unwritable directory fails Open, not the first request.
func TestOpenFailsOnUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(filepath.Join(file, "audit"), Options{}); err == nil {
		t.Error("Open under a file: no error")
	}
}

// A Log closed without records leaves no file behind.
func TestEmptyLogLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if files, _ := Files(dir); len(files) != 1 {
		t.Fatalf("%d files after Open, want 1", len(files))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if files, _ := Files(dir); len(files) != 0 {
		t.Errorf("files after an empty run: %v", files)
	}
}
