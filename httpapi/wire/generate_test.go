package wire_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

const modelPath = "../../../shared/spec/guardduty-2017-11-28.smithy.json"

// TestGeneratedFilesUpToDate runs the generator into a temporary directory
// and compares the result with the committed *_gen.go files byte for byte.
func TestGeneratedFilesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with go run")
	}
	if _, err := os.Stat(modelPath); err != nil {
		// The model is not in the repository; CI has it, so there its
		// absence fails instead of silently testing nothing.
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("CI is set but the Smithy model is not available at %s: %v", modelPath, err)
		}
		t.Skipf("Smithy model not available at %s: %v", modelPath, err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	tmp := t.TempDir()
	cmd := exec.Command(goBin, "run", "../../internal/codegen", "-model", modelPath, "-out", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator failed: %v\n%s", err, out)
	}
	fresh, _ := filepath.Glob(filepath.Join(tmp, "*_gen.go"))
	committed, _ := filepath.Glob("*_gen.go")
	var freshNames []string
	for _, f := range fresh {
		freshNames = append(freshNames, filepath.Base(f))
	}
	slices.Sort(freshNames)
	slices.Sort(committed)
	if !slices.Equal(freshNames, committed) {
		t.Fatalf("generated files %q, committed %q; run go generate", freshNames, committed)
	}
	for _, name := range committed {
		want, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date; run go generate in httpapi/wire", name)
		}
	}
}
