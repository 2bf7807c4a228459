package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// records collects what Records yields: the record texts and the error.
func records(t *testing.T, body string) ([]string, error) {
	t.Helper()
	var out []string
	for rec, err := range Records(strings.NewReader(body)) {
		if err != nil {
			return out, err
		}
		if rec.N != len(out)+1 {
			t.Fatalf("record numbered %d after %d records", rec.N, len(out))
		}
		out = append(out, string(rec.JSON))
	}
	return out, nil
}

func TestRecordsForms(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{"JSON lines", "{\"a\":1}\n{\"b\":2}\n", []string{`{"a":1}`, `{"b":2}`}},
		{"no newline at the end, blank lines", "\n{\"a\":1}\n\n  {\"b\":2}", []string{`{"a":1}`, `{"b":2}`}},
		{"one object over lines", "{\n  \"a\": {\"x\": [1, 2]},\n  \"b\": \"s\"\n}\n", []string{`{"a":{"x": [1, 2]},"b":"s"}`}},
		{"array", `[{"a":1}, {"b":2}]`, []string{`{"a":1}`, `{"b":2}`}},
		{"findings document", `{"findings": [{"a":1}, {"b":2}]}`, []string{`{"a":1}`, `{"b":2}`}},
		{"CLI output with metadata", `{"ResponseMetadata": {"x": 1}, "Findings": [{"a":1}], "NextToken": "t"}`, []string{`{"a":1}`}},
		{"mixed", `{"a":1} [{"b":2}] {"findings": []} {"c":3}`, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}},
		{"event kept whole", `{"detail-type":"GuardDuty Finding","detail":{"a":1}}`, []string{`{"detail-type":"GuardDuty Finding","detail":{"a":1}}`}},
		{"empty", " \n ", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := records(t, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRecordsErrors(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"a":1} {"b":`, "Record 2: not valid JSON"},
		{`{"a":1} 7`, "Record 2: a record must be a JSON object, not a number"},
		{`{"a":1} "s"`, "Record 2: a record must be a JSON object, not a string"},
		{`{"findings": {"a": 1}}`, "Record 1: 'findings' must be a list of findings"},
		{`[{"a":1}, {"b" 2}]`, "Record 2: not valid JSON: invalid character '2' after object key"},
	}
	for _, tc := range cases {
		_, err := records(t, tc.body)
		var re *RecordError
		if !errors.As(err, &re) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.body, err, tc.want)
		}
	}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestOpen(t *testing.T) {
	plain := []byte(`{"a":1}`)
	for _, tc := range []struct {
		name    string
		body    []byte
		gzipped bool
	}{
		{"plain", plain, false},
		{"gzip by magic", gz(t, plain), false},
		{"gzip by header", gz(t, plain), true},
	} {
		r, err := Open(bytes.NewReader(tc.body), tc.gzipped, 100)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
	if _, err := Open(bytes.NewReader(plain), true, 100); err == nil {
		t.Error("Content-Encoding gzip over plain text: no error")
	}

	// A bomb: 16 MiB of spaces in 16 KB. Reading stops at the limit.
	bomb := gz(t, bytes.Repeat([]byte(" "), 16<<20))
	r, err := Open(bytes.NewReader(bomb), false, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, ErrTooLarge) || n > 1<<20+32<<10 {
		t.Errorf("read %d bytes, error %v", n, err)
	}
	// Through Records, the limit keeps its identity for a 413.
	r, _ = Open(bytes.NewReader(bomb), false, 1<<20)
	for _, err := range Records(r) {
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("Records: %v", err)
		}
	}

	// A corrupt stream is reported as gzip, not as JSON.
	z := gz(t, plain)
	z[len(z)-6] ^= 0xff
	r, _ = Open(bytes.NewReader(z), false, 100)
	var last error
	for _, err := range Records(r) {
		last = err
	}
	if last == nil || !strings.Contains(last.Error(), "not valid gzip") {
		t.Errorf("corrupt gzip: %v", last)
	}
}

// oldRecords is Records as it was before its scanner: encoding/json's
// decoder over the whole body.
func oldRecords(r io.Reader) (out []Record, err error) {
	slowRecords(r, 0, 0, func(rec Record, e error) bool {
		if e != nil {
			err = e
			return false
		}
		out = append(out, rec)
		return true
	})
	return out, err
}

// checkRecords: Records yields what encoding/json's path yields, record
// for record and error for error, however the body is read.
func checkRecords(t testing.TB, body []byte) {
	want, wantErr := oldRecords(bytes.NewReader(body))
	readers := []io.Reader{bytes.NewReader(body), iotest.HalfReader(bytes.NewReader(body))}
	if len(body) < 16<<10 { // byte by byte: slow
		readers = append(readers, iotest.OneByteReader(bytes.NewReader(body)))
	}
	for _, r := range readers {
		var got []Record
		var err error
		for rec, e := range Records(r) {
			if e != nil {
				err = e
				break
			}
			got = append(got, rec)
		}
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("%.200q: error\n got %v\nwant %v", body, err, wantErr)
		}
		if len(got) != len(want) {
			t.Fatalf("%.200q: %d records, want %d", body, len(got), len(want))
		}
		for i := range got {
			if got[i].N != want[i].N || !bytes.Equal(got[i].JSON, want[i].JSON) {
				t.Fatalf("%.200q: record %d\n got %d %s\nwant %d %s", body, i, got[i].N, got[i].JSON, want[i].N, want[i].JSON)
			}
		}
	}
}

func recordBodies(t testing.TB) [][]byte {
	var lines bytes.Buffer
	for _, d := range jsonCorpus(t)[:20] {
		lines.Write(d)
		lines.WriteString("\n")
	}
	long := lines.Bytes()
	bodies := [][]byte{long, bytes.Repeat(long, 4)} // past the scanner's first read
	for _, s := range []string{
		"{\"a\":1}\n{\"b\":2}\n", "\n{\"a\":1}\n\n  {\"b\":2}", "{\n  \"a\": {\"x\": [1, 2]},\n  \"b\" : \"s\" ,\"c\":\t7 }\n",
		`[{"a":1}, {"b":2}]`, `{"findings": [{"a":1}, {"b":2}]}`, `{"a":1} {"findings": [{"b":2}]} {"c":3}`,
		`{"ResponseMetadata": {"x": 1}, "Findings": [{"a":1}], "NextToken": "t"}`, `{"a":1} [{"b":2}] {"findings": []} {"c":3}`,
		`{"find\u0069ngs": [{"a":1}]}`, `{"a<&>":1,"é":2,"\u00e9":3, "a":[1,2.5e3,-0,true,false,null,"x\"y\\"]}`,
		`{"a":1} {"b":`, `{"a":1} 7`, `{"a":1} "s"`, `{"a":1},{"b":2}`, `{"findings": {"a": 1}}`, `[{"a":1}, {"b" 2}]`,
		`{"a":1} {"b":2} {"c":}`, `{"a":1} {"b":2} {"c":01}`, `{"a":1} {"b":2} {"c":"` + "\x01" + `"}`, `{"a":1} {"b":2} {"c":"\x"}`,
		`{"a":1} {"b":2} {"c":tru}`, `{"a":1} {"b":2} {"c":1`, `{"a":1} {"b":2} {"c"`, `{"a":1} {"b":2} {`, `{"a":1} {"b":2} x`,
		`{"a":1} {"b":2}` + "\xff", "{\"a\":\"\xff\"}", `{}`, ` {} {"a":{}} `, "", " \n ",
		`{"a":1} {"b":` + strings.Repeat(`[`, 300) + strings.Repeat(`]`, 300) + `}`,
	} {
		bodies = append(bodies, []byte(s))
	}
	return bodies
}

func TestRecordsScanner(t *testing.T) {
	for _, body := range recordBodies(t) {
		checkRecords(t, body)
	}
}

func FuzzRecords(f *testing.F) {
	for _, body := range recordBodies(f)[2:] {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkRecords(t, body) })
}
