package main

import (
	"os"
	"strings"
	"testing"
)

// realModelPath is the GuardDuty model as httpapi/wire's go:generate line
// names it, seen from this directory.
const realModelPath = "../../../shared/spec/guardduty-2017-11-28.smithy.json"

// requireModel skips a test that needs the Smithy model when it is absent
// (it is not part of the repository), except in CI, which has it: there a
// missing model must fail the build rather than silently test nothing.
func requireModel(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("CI is set but the Smithy model is not available at %s: %v", path, err)
		}
		t.Skipf("Smithy model not available at %s: %v", path, err)
	}
}

func TestWidenedMember(t *testing.T) {
	m, err := ParseModel([]byte(snippet))
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := Generate(m, Config{Widen: map[string]string{"ex#Item$Count": "int64"}})
	if err != nil {
		t.Fatal(err)
	}
	src := squeeze(string(files["shapes_gen.go"]))
	if want := squeeze("Count *int64 `json:\"count,omitempty\"` // wider than the model"); !strings.Contains(src, want) {
		t.Errorf("shapes_gen.go lacks %q", want)
	}
	// Members not listed keep the model's type.
	if want := squeeze("Max *int32 `json:\"-\"`"); !strings.Contains(src, want) {
		t.Errorf("shapes_gen.go lacks %q", want)
	}
}

func TestWidenedMemberMustFitTheModel(t *testing.T) {
	for name, c := range map[string]struct {
		edit  [2]string
		widen map[string]string
	}{
		"no such shape":   {widen: map[string]string{"ex#Nope$Count": "int64"}},
		"no such member":  {widen: map[string]string{"ex#Item$Nope": "int64"}},
		"malformed key":   {widen: map[string]string{"ex#Item.Count": "int64"}},
		"not in the body": {widen: map[string]string{"ex#DoThingRequest$Max": "int64"}},
		"not an integer":  {widen: map[string]string{"ex#Item$Name": "int64"}},
		"already 64 bits": {
			edit:  [2]string{`"Count": {"target": "smithy.api#Integer"`, `"Count": {"target": "smithy.api#Long"`},
			widen: map[string]string{"ex#Item$Count": "int64"},
		},
		"narrowing":        {widen: map[string]string{"ex#Item$Count": "int16"}},
		"not a Go integer": {widen: map[string]string{"ex#Item$Count": "float64"}},
		"range constraint": {
			edit:  [2]string{`"Count": {"target": "smithy.api#Integer"`, `"Count": {"target": "ex#Max"`},
			widen: map[string]string{"ex#Item$Count": "int64"},
		},
	} {
		src := snippet
		if c.edit[0] != "" {
			src = strings.Replace(src, c.edit[0], c.edit[1], 1)
		}
		m, err := ParseModel([]byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, _, err := Generate(m, Config{Widen: c.widen}); err == nil {
			t.Errorf("%s: Generate succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestWidenedAgainstGuardDutyModel checks the real override table against
// the real model: every entry still names an Integer body member (were the
// model to make them Long, the override would fail here and could go).
func TestWidenedAgainstGuardDutyModel(t *testing.T) {
	requireModel(t, realModelPath)
	m, err := LoadModel(realModelPath)
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := Generate(m, Config{Package: "wire", Widen: Widened})
	if err != nil {
		t.Fatal(err)
	}
	src := squeeze(string(files["shapes_gen.go"]))
	for _, name := range []string{"Gt", "Gte", "Lt", "Lte", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"} {
		if !strings.Contains(src, " "+name+" *int64 `json:") {
			t.Errorf("Condition.%s is not *int64", name)
		}
	}
}
