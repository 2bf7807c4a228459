package ingest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/guardpost/guardpost/httpapi/wire"
	"github.com/guardpost/guardpost/internal/findinggen"
)

// jsonCorpus is JSON text of every kind decodeValue meets or must refuse.
func jsonCorpus(t testing.TB) [][]byte {
	out := [][]byte{}
	for _, d := range sampleDocs(t) {
		out = append(out, d)
		p, _ := json.Marshal(pascal(decode(t, d), 0))
		out = append(out, p)
	}
	gen := findinggen.New(3)
	for range 20 {
		rec, err := gen.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	for _, s := range []string{
		`{}`, `[]`, `{"a":[]}`, ` {"a" : [ 1 , 2 ] , "b":{ }} `, `{"a":1,"a":2}`, `{"a":{"b":1},"a":3}`,
		`{"n":[0,-0,1.5,-2e10,3E+2,4e-2,123456789012345678901234567890,1e400]}`,
		`{"s":"<&>\u2028 \"q\" \\ \/ \n é ☃ 😀"}`, `{"s":"é ☃ 😀 plain"}`, "{\"s\":\"\xff\"}", "{\"\xff\":1}",
		"{\"s\":\"a\tb\"}", `{"s":"\ud800"}`, `{"t":true,"f":false,"z":null}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":1x}`, `{"a":tru}`, `{"a":nul}`,
		`{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a":1}x`, `{"a":1} {"b":2}`, `{"a":1`, `"str"`, `7`, `7 `, ``, ` `,
		strings.Repeat(`[`, 300) + strings.Repeat(`]`, 300), strings.Repeat(`{"a":`, 150) + `1` + strings.Repeat(`}`, 150),
	} {
		out = append(out, []byte(s))
	}
	return out
}

// checkDecode: when decodeValue decodes, it decodes as json.Decoder with
// UseNumber does.
func checkDecode(t testing.TB, data []byte) {
	got, ok := decodeValue(data)
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var want any
	err := d.Decode(&want)
	if !ok {
		return
	}
	if err != nil {
		t.Fatalf("%q: decoded %v, encoding/json says %v", data, got, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
	}
}

// checkEncode: when appendValue encodes, it writes what json.Marshal does.
func checkEncode(t testing.TB, v any) {
	got, ok := appendValue(nil, v)
	want, err := json.Marshal(v)
	if !ok {
		return
	}
	if err != nil {
		t.Fatalf("%#v: encoded %s, json.Marshal says %v", v, got, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
	}
}

func TestDecodeValue(t *testing.T) {
	fast := 0
	for _, data := range jsonCorpus(t) {
		checkDecode(t, data)
		if _, ok := decodeValue(data); ok {
			fast++
		}
	}
	if fast < 50 {
		t.Errorf("only %d documents decoded without encoding/json", fast)
	}
	for _, s := range []string{`{"a":01}`, `{"a":1x}`, `{"a":1,}`, `{"a":1`, "{\"s\":\"a\nb\"}", `{"s":"\x"}`, ``} {
		if _, ok := decodeValue([]byte(s)); ok {
			t.Errorf("%q decoded without encoding/json", s)
		}
	}
}

func TestAppendValue(t *testing.T) {
	for _, data := range jsonCorpus(t) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		if d.Decode(&v) == nil {
			checkEncode(t, v)
		}
	}
	for _, v := range []any{
		map[string]any{"s": "<&>\u2028\u2029 \x00\x1f\x7f \b\f\n\r\t \"\\ é 😀 \xff\xfe", "\xff<k>": json.Number("-0.5e+3")},
		map[string]any{"nilmap": map[string]any(nil), "nillist": []any(nil), "empty": map[string]any{}, "list": []any{}},
		map[string]any{"n": json.Number("")}, map[string]any{"n": json.Number("01")}, map[string]any{"n": json.Number("1e400")},
		map[string]any{"f": 1.5}, map[string]any{"i": 3}, []any{true, false, nil, "x"},
	} {
		checkEncode(t, v)
	}
	if _, ok := appendValue(nil, map[string]any{"n": json.Number("")}); ok {
		t.Error(`json.Number("") encoded by appendValue`)
	}
}

func FuzzDecodeValue(f *testing.F) {
	for _, data := range jsonCorpus(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		if d.Decode(&v) == nil {
			checkEncode(t, v)
			if m, ok := v.(map[string]any); ok {
				checkFill(t, m)
				if doc, err := Finding(data); err == nil {
					checkFill(t, doc)
				}
			}
		}
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"plain", "<&>", "\u2028", "\xff", "\x00\x1f", "é😀"} {
		f.Add(s, "1.5")
	}
	f.Fuzz(func(t *testing.T, s, num string) {
		checkEncode(t, map[string]any{s: s, "n": json.Number(num), "l": []any{s}})
	})
}

// checkFill: when fillWire fills a wire.Finding from a tree, it fills what
// json.Unmarshal fills from the tree's encoding.
func checkFill(t testing.TB, tree map[string]any) bool {
	var got, want wire.Finding
	ok := fillWire(&got, tree)
	b, err := json.Marshal(tree)
	if err != nil || !ok {
		return ok
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: filled, but json.Unmarshal says %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", b, got, want)
	}
	return true
}

func TestFillWire(t *testing.T) {
	for _, data := range jsonCorpus(t) {
		doc, err := Finding(data)
		if err == nil && !checkFill(t, doc) {
			t.Errorf("%.100s: not filled without encoding/json", data)
		}
		if v, ok := decodeValue(data); ok {
			if m, ok := v.(map[string]any); ok {
				checkFill(t, m)
			}
		}
	}
	for _, tree := range []map[string]any{
		{"Severity": json.Number("5")}, {"severity": json.Number("5"), "ſeverity": json.Number("7")}, {"İd": "x"},
		{"severity": "5"}, {"severity": json.Number("1e400")}, {"service": map[string]any{"count": json.Number("1.5")}},
		{"service": map[string]any{"count": json.Number("99999999999")}}, {"resource": map[string]any{"eksClusterDetails": map[string]any{"tags": []any{}}}},
		{"resource": map[string]any{"instanceDetails": map[string]any{"tags": []any{map[string]any{"key": "k", "value": "<v>"}}}}},
		{"resource": nil}, {"unknown": map[string]any{"x": 1.5}, "id": "a\xffb"},
	} {
		checkFill(t, tree)
	}
}
