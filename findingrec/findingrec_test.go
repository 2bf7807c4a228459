package findingrec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/internal/findinggen"
	"github.com/guardpost/guardpost/samples"
)

func TestRegistryCoversTheCode(t *testing.T) {
	if _, err := Default(); err != nil {
		t.Fatal(err)
	}
}

// TestRegistryOnlyGrows holds the first registry fixed: every later one
// must start with it, line for line. A failure here means a number that
// records on disk use would change meaning.
func TestRegistryOnlyGrows(t *testing.T) {
	frozen, err := os.ReadFile("testdata/attributes-v1.txt")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := parseRegistry(string(frozen))
	if err != nil {
		t.Fatal(err)
	}
	if len(v1) != 585 {
		t.Fatalf("testdata/attributes-v1.txt has %d entries; it is frozen at 585", len(v1))
	}
	if len(registry) < len(v1) {
		t.Fatalf("the registry has %d entries, fewer than the %d of version 1", len(registry), len(v1))
	}
	for i, e := range v1 {
		if !registry[i].Same(e) {
			t.Errorf("attribute number %d was %q and is now %q", e.ID, e, registry[i])
		}
	}
}

func TestDictionariesAreFrozen(t *testing.T) {
	if _, _, err := codecs(); err != nil {
		t.Fatal(err)
	}
	doc := sampleFindings(t)[0].Document
	c, err := Compress(nil, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) >= len(doc)/3 {
		t.Errorf("a %d-byte sample compressed to %d bytes", len(doc), len(c))
	}
	back, err := Decompress(nil, c)
	if err != nil || !bytes.Equal(back, doc) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := Decompress(nil, []byte("not zstd")); err == nil {
		t.Error("garbage decompressed")
	}
	if _, err := Decompress(nil, []byte{formS2Dict1, 0xff, 0xff, 0xff, 0xff, 0x7f}); err == nil {
		t.Error("an S2 block claiming 34 GB decompressed")
	}
	// Blobs written in each form read back, appended to what dst holds.
	z, err := compressZstd(nil, doc)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := Decompress([]byte("x"), z); err != nil || !bytes.Equal(back, append([]byte("x"), doc...)) {
		t.Fatalf("zstd frame: %v", err)
	}
	prefixed, err := Compress([]byte("y"), doc)
	if err != nil || !bytes.Equal(prefixed[1:], c) {
		t.Fatalf("Compress does not append: %v", err)
	}
	// The S2 form is frozen: these bytes were written by the first version.
	const frozen = "01583a8b0a2831313132323232333333332e44091065752d77654a440911f71ed008246e7374616e6365227d7d"
	want := `{"accountId":"111122223333","region":"eu-west-1","resource":{"resourceType":"Instance"}}`
	b, _ := hex.DecodeString(frozen)
	if back, err := Decompress(nil, b); err != nil || string(back) != want {
		t.Errorf("a frozen S2 block reads %q, %v", back, err)
	}
}

// TestCompressSplit checks the form that keeps a record's head readable
// without decompressing: the whole reads back, the head alone reads back,
// the other forms give their whole content to DecompressHead, corrupt
// lengths are refused, and the form is frozen.
func TestCompressSplit(t *testing.T) {
	c, _ := Default()
	for _, f := range sampleFindings(t)[:50] {
		rec, err := c.Append(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		head, err := c.HeadSize(rec)
		if err != nil || head <= 0 || head >= len(rec) {
			t.Fatalf("head of %d bytes in a %d-byte record: %v", head, len(rec), err)
		}
		split, err := CompressSplit([]byte("x"), rec, head)
		if err != nil {
			t.Fatal(err)
		}
		split = split[1:]
		if back, err := Decompress(nil, split); err != nil || !bytes.Equal(back, rec) {
			t.Fatalf("whole record: %v", err)
		}
		gotHead, err := DecompressHead([]byte("y"), split)
		if err != nil || !bytes.Equal(gotHead[1:], rec[:head]) {
			t.Fatalf("head: %v", err)
		}
		var whole, fromHead guardpost.Finding
		if err := c.DecodeHead(rec, &whole); err != nil {
			t.Fatal(err)
		}
		if err := c.DecodeHead(gotHead[1:], &fromHead); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(whole, fromHead) {
			t.Fatalf("the head alone decodes to %+v, the record to %+v", fromHead, whole)
		}
		plain, _ := Compress(nil, rec)
		if back, err := DecompressHead(nil, plain); err != nil || !bytes.Equal(back, rec) {
			t.Fatalf("DecompressHead of a whole S2 form: %v", err)
		}
	}
	for _, bad := range [][]byte{{formSplit}, {formSplit, 0x80}, {formSplit, 9, 'a'}} {
		if _, err := Decompress(nil, bad); err == nil {
			t.Errorf("%x decompressed", bad)
		}
		if _, err := DecompressHead(nil, bad); err == nil {
			t.Errorf("the head of %x decompressed", bad)
		}
	}
	const frozen = "020448454144313a8b0a2831313132323232333333332e44092865752d776573742d31227d"
	b, _ := hex.DecodeString(frozen)
	if back, err := Decompress(nil, b); err != nil || string(back) != `HEAD{"accountId":"111122223333","region":"eu-west-1"}` {
		t.Errorf("a frozen split blob reads %q, %v", back, err)
	}
	if head, err := DecompressHead(nil, b); err != nil || string(head) != "HEAD" {
		t.Errorf("a frozen split blob's head reads %q, %v", head, err)
	}
}

// sampleFindings parses every sample type and 500 generated findings.
func sampleFindings(t testing.TB) []*guardpost.Finding {
	t.Helper()
	c := samples.New()
	p := guardpost.SampleParams{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws", DetectorID: "d1", FindingID: "f1", Now: time.Unix(1.7e9, 0)}
	var out []*guardpost.Finding
	for _, typ := range c.Types() {
		doc, _ := c.Sample(typ, p)
		f, err := guardpost.ParseFinding(doc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	g := findinggen.New(3)
	for range 500 {
		doc, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		f, err := guardpost.ParseFinding(doc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func TestRecordRoundTrip(t *testing.T) {
	c, _ := Default()
	for _, f := range sampleFindings(t) {
		rec, err := c.Append(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		var got guardpost.Finding
		if err := c.Decode(rec, &got); err != nil {
			t.Fatalf("%s: %v", f.Type, err)
		}
		if got.Archived != f.Archived || got.Severity != f.Severity || !got.CreatedAt.Equal(f.CreatedAt) ||
			!got.UpdatedAt.Equal(f.UpdatedAt) || got.ResourceType != f.ResourceType || got.ResourceID != f.ResourceID {
			t.Errorf("%s: fields differ: %+v", f.Type, got)
		}
		if !reflect.DeepEqual(got.SortKeys, f.SortKeys) {
			t.Errorf("%s: sort keys %v, want %v", f.Type, got.SortKeys, f.SortKeys)
		}
		if !reflect.DeepEqual(got.Attributes, f.Attributes) {
			t.Errorf("%s: attributes differ:\n got %v\nwant %v", f.Type, got.Attributes, f.Attributes)
		}
	}
}

// TestRecordsKeepMeaningWhenTheTableGrows writes records with the code's
// tables and reads them with tables that gained attributes at the front
// (so every position shifted) and registry numbers at the end: each value
// must come back under the same attribute name.
func TestRecordsKeepMeaningWhenTheTableGrows(t *testing.T) {
	old, _ := Default()
	filters := append([]guardpost.FilterAttribute{{Name: "aaa.newAttribute", Kind: guardpost.KindString}}, guardpost.FilterAttributes...)
	sorts := append([]guardpost.SortAttribute{{Name: "aaa.newSort", Kind: guardpost.KindNumber}}, guardpost.SortAttributes...)
	reg := append(Registry(),
		Entry{ID: uint32(len(registry) + 1), Space: "filter", Kind: guardpost.KindString, Name: "aaa.newAttribute"},
		Entry{ID: uint32(len(registry) + 2), Space: "sort", Kind: guardpost.KindNumber, Name: "aaa.newSort"})
	grown, err := NewCodec(reg, filters, sorts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sampleFindings(t)[:80] {
		rec, err := old.Append(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		var got guardpost.Finding
		if err := grown.Decode(rec, &got); err != nil {
			t.Fatal(err)
		}
		type named struct {
			name string
			v    guardpost.AttributeValue
		}
		var want, have []named
		for _, v := range f.Attributes {
			n := guardpost.FilterAttributes[v.Attribute].Name
			v.Attribute = 0
			want = append(want, named{n, v})
		}
		for _, v := range got.Attributes {
			n := filters[v.Attribute].Name
			v.Attribute = 0
			have = append(have, named{n, v})
		}
		if !reflect.DeepEqual(have, want) {
			t.Fatalf("%s: values moved between attributes:\n got %v\nwant %v", f.Type, have, want)
		}
		if got.SortKeys[0] != nil || !reflect.DeepEqual(got.SortKeys[1:], f.SortKeys) {
			t.Fatalf("%s: sort keys %v, want nil then %v", f.Type, got.SortKeys, f.SortKeys)
		}
	}
	// A table without a registry number is refused, naming the line to add.
	if _, err := NewCodec(Registry(), filters, guardpost.SortAttributes); err == nil ||
		!bytes.Contains([]byte(err.Error()), []byte("586 filter string aaa.newAttribute")) {
		t.Fatalf("codec over an unregistered attribute: %v", err)
	}
}

func TestCompare(t *testing.T) {
	stored := Registry()
	if missing, err := Compare(stored); err != nil || len(missing) != 0 {
		t.Fatalf("same registry: %v, %v", missing, err)
	}
	if missing, err := Compare(stored[:500]); err != nil || len(missing) != len(stored)-500 || missing[0].ID != 501 {
		t.Fatalf("older database: %d missing, %v", len(missing), err)
	}
	changed := slices.Clone(stored)
	changed[4].Name = "somethingElse"
	if _, err := Compare(changed); err == nil {
		t.Fatal("a renamed number was accepted")
	}
	changed = slices.Clone(stored)
	changed[7].Kind = guardpost.KindNumber
	if _, err := Compare(changed); err == nil {
		t.Fatal("a re-kinded number was accepted")
	}
	newer := append(slices.Clone(stored), Entry{ID: uint32(len(stored) + 1), Space: "filter", Name: "x"})
	if _, err := Compare(newer); err == nil {
		t.Fatal("a number from a newer guardpost was accepted")
	}
}

func TestDecodeRefusesCorruptRecords(t *testing.T) {
	c, _ := Default()
	rec, err := c.Append(nil, sampleFindings(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(rec) {
		var f guardpost.Finding
		if err := c.Decode(rec[:n], &f); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("record cut at %d of %d: %v", n, len(rec), err)
		}
	}
	var f guardpost.Finding
	if err := c.Decode(append(slices.Clone(rec), 0), &f); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	c, _ := Default()
	for _, fd := range sampleFindings(f)[:20] {
		rec, _ := c.Append(nil, fd)
		f.Add(rec)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		var got guardpost.Finding
		_ = c.Decode(rec, &got) // must not panic
	})
}

func BenchmarkRecord(b *testing.B) {
	c, _ := Default()
	fs := sampleFindings(b)
	recs := make([][]byte, len(fs))
	docs := make([][]byte, len(fs))
	size, csize, dsize := 0, 0, 0
	for i, f := range fs {
		recs[i], _ = c.Append(nil, f)
		size += len(recs[i])
		cr, _ := Compress(nil, recs[i])
		csize += len(cr)
		docs[i], _ = Compress(nil, f.Document)
		dsize += len(docs[i])
	}
	b.Logf("record %d bytes (%d compressed), document %d compressed, on average", size/len(fs), csize/len(fs), dsize/len(fs))
	b.Run("Append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		i := 0
		for b.Loop() {
			buf, _ = c.Append(buf[:0], fs[i%len(fs)])
			i++
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var f guardpost.Finding
			if err := c.Decode(recs[i%len(recs)], &f); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("CompressDocument", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		i := 0
		for b.Loop() {
			buf, _ = Compress(buf[:0], fs[i%len(fs)].Document)
			i++
		}
	})
	b.Run("DecompressDocument", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		i := 0
		for b.Loop() {
			var err error
			if buf, err = Decompress(buf[:0], docs[i%len(docs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// TestAppendSplitHead: the head AppendSplit reports is the one HeadSize
// reads back, also when the record is appended after other bytes, and the
// record is Append's.
func TestAppendSplitHead(t *testing.T) {
	c, _ := Default()
	for _, f := range sampleFindings(t) {
		want, err := c.Append(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		wantHead, err := c.HeadSize(want)
		if err != nil {
			t.Fatal(err)
		}
		prefix := []byte("prefix")
		got, head, err := c.AppendSplit(slices.Clone(prefix), f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[len(prefix):], want) || head != wantHead {
			t.Fatalf("%s: AppendSplit gave a %d-byte record with a %d-byte head, want %d and %d", f.Type, len(got)-len(prefix), head, len(want), wantHead)
		}
	}
}

// TestIsDerivedText agrees with comparing derivedText's string.
func TestIsDerivedText(t *testing.T) {
	for _, kind := range []guardpost.ValueKind{guardpost.KindNumber, guardpost.KindBool, guardpost.KindString} {
		for _, n := range []float64{0, 1, -1, 0.5, 1e21, 123456789, 3.25, math.MaxFloat64} {
			for _, text := range []string{derivedText(kind, n), "1", "true", "0.50", ""} {
				if got, want := isDerivedText(kind, n, text), derivedText(kind, n) == text; got != want {
					t.Errorf("isDerivedText(%v, %v, %q) = %v, want %v", kind, n, text, got, want)
				}
			}
		}
	}
}
