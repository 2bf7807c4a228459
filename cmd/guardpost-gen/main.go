// Command guardpost-gen writes realistic GuardDuty findings for loading
// into guardpost (guardpost ingest), so that a bulk-load measurement can be
// repeated:
//
//	guardpost-gen --findings 100000 --out /tmp/findings.jsonl.gz [--seed 1]
//
// The findings come from package findinggen (guardpost-load --load uses the
// same generator). The output is JSON lines in the wire form (camelCase),
// gzipped when the file name ends in .gz. The same seed gives the same file.
package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/guardpost/guardpost/internal/findinggen"
)

func main() {
	fs := flag.NewFlagSet("guardpost-gen", flag.ContinueOnError)
	n := fs.Int("findings", 1000, "number of findings to write")
	out := fs.String("out", "", "output file (.jsonl, or .jsonl.gz to gzip it); - for stdout")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same findings")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: guardpost-gen --findings N --out FILE [--seed S]")
		os.Exit(2)
	}
	if err := write(*out, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "guardpost-gen:", err)
		os.Exit(1)
	}
}

func write(name string, n int, seed uint64) (err error) {
	var w io.Writer = os.Stdout
	if name != "-" {
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var dst io.Writer = bw
	var zw *gzip.Writer
	if strings.HasSuffix(name, ".gz") {
		zw = gzip.NewWriter(bw)
		dst = zw
	}
	g := findinggen.New(seed)
	for range n {
		b, err := g.Next()
		if err != nil {
			return err
		}
		dst.Write(b)
		if _, err := dst.Write([]byte{'\n'}); err != nil {
			return err
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}
