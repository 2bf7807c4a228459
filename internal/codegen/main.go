// Command codegen generates the wire layer of package httpapi/wire from the
// GuardDuty Smithy 2.0 JSON AST model: one Go struct per structure shape,
// validation of every input against the model's constraints, HTTP bindings
// and the route table.
//
// It reads names, types, HTTP traits and constraint traits only; the model's
// documentation is never copied. Output is sorted and gofmt'ed, so running
// it again reproduces the files byte for byte. It runs from httpapi/wire:
//
//	go generate ./httpapi/wire
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	model := flag.String("model", "../../../shared/spec/guardduty-2017-11-28.smithy.json", "path of the Smithy JSON AST model")
	out := flag.String("out", ".", "directory the generated files are written to")
	pkg := flag.String("package", "wire", "package name of the generated files")
	flag.Parse()
	if err := run(*model, *out, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "codegen:", err)
		os.Exit(1)
	}
}

func run(modelPath, outDir, pkg string) error {
	m, err := LoadModel(modelPath)
	if err != nil {
		return err
	}
	files, warnings, err := Generate(m, Config{Package: pkg, Widen: Widened})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "codegen: warning:", w)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(outDir, n), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
