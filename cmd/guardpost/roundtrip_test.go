package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

// filler sets every member of a wire value to a distinct value.
type filler struct{ n int }

func (f *filler) fill(v reflect.Value) {
	f.n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[wire.Timestamp]() {
			v.Set(reflect.ValueOf(wire.Timestamp{Time: time.Unix(1700000000+int64(f.n), int64(f.n%1000)*int64(time.Millisecond)).UTC()}))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		f.fill(v.Index(0))
		f.fill(v.Index(1))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			f.fill(k)
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("value-%d", f.n))
	case reflect.Int32, reflect.Int64:
		v.SetInt(int64(1000 + f.n))
	case reflect.Float64:
		v.SetFloat(float64(f.n) + 0.25)
	case reflect.Bool:
		v.SetBool(f.n%2 == 0)
	default:
		panic("filler: unhandled kind " + v.Kind().String())
	}
}

// compareDecoded walks the wire value and the SDK's decoded value side by
// side by member name and reports every difference. It returns the number
// of leaf values compared.
func compareDecoded(t *testing.T, path string, w, s reflect.Value) int {
	t.Helper()
	for w.Kind() == reflect.Pointer {
		if w.IsNil() {
			t.Errorf("%s: fixture left it unset", path)
			return 0
		}
		w = w.Elem()
	}
	for s.Kind() == reflect.Pointer || s.Kind() == reflect.Interface {
		if s.IsNil() {
			t.Errorf("%s: lost in the SDK's decoding", path)
			return 0
		}
		s = s.Elem()
	}
	if ts, ok := w.Interface().(wire.Timestamp); ok {
		got, ok := s.Interface().(time.Time)
		if !ok || !got.Equal(ts.Time) {
			t.Errorf("%s: timestamp %v decoded as %v", path, ts.Time, s.Interface())
		}
		return 1
	}
	switch w.Kind() {
	case reflect.Struct:
		n := 0
		for i := range w.NumField() {
			fld := w.Type().Field(i)
			if !fld.IsExported() {
				continue
			}
			sf := s.FieldByName(fld.Name)
			if !sf.IsValid() {
				t.Errorf("%s.%s: the SDK has no such member", path, fld.Name)
				continue
			}
			n += compareDecoded(t, path+"."+fld.Name, w.Field(i), sf)
		}
		return n
	case reflect.Slice:
		if w.Len() != s.Len() {
			t.Errorf("%s: %d elements decoded as %d", path, w.Len(), s.Len())
			return 0
		}
		n := 0
		for i := range w.Len() {
			n += compareDecoded(t, fmt.Sprintf("%s[%d]", path, i), w.Index(i), s.Index(i))
		}
		return n
	case reflect.Map:
		n := 0
		for _, k := range w.MapKeys() {
			sv := s.MapIndex(reflect.ValueOf(k.String()).Convert(s.Type().Key()))
			if !sv.IsValid() {
				t.Errorf("%s[%s]: key lost", path, k)
				continue
			}
			n += compareDecoded(t, fmt.Sprintf("%s[%s]", path, k), w.MapIndex(k), sv)
		}
		return n
	case reflect.String:
		if s.Kind() != reflect.String || s.String() != w.String() {
			t.Errorf("%s: %q decoded as %v", path, w.String(), s.Interface())
		}
	case reflect.Int32, reflect.Int64:
		if !s.CanInt() || s.Int() != w.Int() {
			t.Errorf("%s: %d decoded as %v", path, w.Int(), s.Interface())
		}
	case reflect.Float64:
		if !s.CanFloat() || s.Float() != w.Float() {
			t.Errorf("%s: %v decoded as %v", path, w.Float(), s.Interface())
		}
	case reflect.Bool:
		if s.Kind() != reflect.Bool || s.Bool() != w.Bool() {
			t.Errorf("%s: %v decoded as %v", path, w.Bool(), s.Interface())
		}
	default:
		t.Errorf("%s: unhandled kind %s", path, w.Kind())
	}
	return 1
}

// TestEveryFindingMemberRoundTrips stores a finding in which every member
// reachable from Finding is set, reads it back through the Go SDK, and
// checks each value survived: the wire names, the irregular jsonNames, the
// PascalCase members and the number and timestamp encodings all have to be
// right for this to pass.
func TestEveryFindingMemberRoundTrips(t *testing.T) {
	s := startServer(t)
	c := s.clientA()
	det := createDetector(t, c)

	var fixture wire.Finding
	(&filler{}).fill(reflect.ValueOf(&fixture).Elem())
	fixture.AccountId, fixture.Region, fixture.Id = aws.String(accountA), aws.String("us-east-1"), aws.String("f00d"+fmt.Sprint(len(det)))
	fixture.Service.DetectorId = aws.String(det)
	fixture.CreatedAt, fixture.UpdatedAt = aws.String("2024-01-02T03:04:05.678Z"), aws.String("2024-01-03T03:04:05.678Z")
	doc, err := json.Marshal(&fixture)
	if err != nil {
		t.Fatal(err)
	}
	f, err := guardpost.ParseFinding(doc)
	if err != nil {
		t.Fatal(err)
	}
	f.AggregationKey = "fixture"
	s.writeUncheckedFindings(t, det, []*guardpost.Finding{f})

	out, err := c.GetFindings(context.Background(), &guardduty.GetFindingsInput{DetectorId: &det, FindingIds: []string{*fixture.Id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 1 {
		t.Fatalf("got %d findings", len(out.Findings))
	}
	n := compareDecoded(t, "Finding", reflect.ValueOf(fixture), reflect.ValueOf(out.Findings[0]))
	t.Logf("%d leaf values survived encode → SDK decode", n)
	if n < 500 {
		t.Fatalf("only %d leaf values compared: the fixture does not reach the whole Finding tree", n)
	}
}
