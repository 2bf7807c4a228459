// Command mkdict writes the content of a zstd dictionary for finding
// documents and records: the sample findings of every step-th type of the
// catalogue (sorted), rendered with fixed parameters, one per line, up to a
// size. (Every 7th type up to 96 KiB compressed generated findings to 401
// bytes on average; the first types up to the same size, to 426.) It was run
// once to make findingrec/dict/1.json; that file is frozen (documents
// compressed with it can only be read with it), so a new dictionary gets a
// new id and a new file instead of a rerun over the old one.
//
//	go run ./findingrec/internal/mkdict > findingrec/dict/N.json
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/samples"
)

func main() {
	max := flag.Int("max", 96<<10, "largest dictionary size in bytes")
	step := flag.Int("step", 7, "take every step-th type")
	flag.Parse()
	c := samples.New()
	p := guardpost.SampleParams{AccountID: "123456789012", Region: "us-east-1", Partition: "aws",
		DetectorID: "12abc34d567e8fa901bc2d34e56789f0", FindingID: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
		Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	w := bufio.NewWriter(os.Stdout)
	n := 0
	types := c.Types()
	for i := 0; i < len(types); i += *step {
		doc, _ := c.Sample(types[i], p)
		if n+len(doc)+1 > *max {
			continue
		}
		n += len(doc) + 1
		w.Write(doc)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
