package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/klauspost/compress/gzip"

	"github.com/guardpost/guardpost/ingest"
)

// defaultLogBatch is how many log lines guardpost ingest sends per request
// for flow and query logs: ~20 MB of flow records, ~60 MB of query logs
// decoded, well under the server's limit, and long enough that a
// request's overhead vanishes.
const defaultLogBatch = 200_000

// logExtensions are the files a directory is searched for with --source
// vpcflow or dns: AWS delivers .log.gz; .log, .txt and JSON lines are
// what people save.
var logExtensions = []string{".log", ".txt", ".jsonl", ".json", ".gz"}

// flagSet reports whether the command line set a flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// lineOrigins says which file and line each line of a request body comes
// from: a run of lines per file (a flow log file's run starts with its
// header line, or the default one guardpost ingest wrote for a file
// without).
type lineOrigins struct {
	runs []lineRun
}

type lineRun struct {
	first int // the run's first line in the body (1-based)
	file  string
	line  int // the file's line of the body's first line; 0: a header the command wrote
}

// origin returns the file and line of body line n.
func (o *lineOrigins) origin(n int) (string, int, bool) {
	i := sort.Search(len(o.runs), func(i int) bool { return o.runs[i].first > n }) - 1
	if i < 0 {
		return "", 0, false
	}
	r := o.runs[i]
	if r.line == 0 { // the default header the command wrote
		return r.file, 0, false
	}
	return r.file, r.line + n - r.first, true
}

// readLogBatches sends the files' lines in batches of at most max lines.
// A flow log file's header (or, for a file without one, the default
// format's) comes first in every batch holding its lines, so that each
// request reads on its own.
func readLogBatches(ctx context.Context, files []string, flow bool, max int, compress bool, totals *ingestTotals, out chan<- batch) error {
	var (
		body    bytes.Buffer
		origins = &lineOrigins{}
		lines   int // in body, headers included
		records int // in body
	)
	var zw *gzip.Writer
	flush := func() error {
		if records == 0 {
			body.Reset()
			origins, lines = &lineOrigins{}, 0
			return nil
		}
		// A copy of body either way (body is reused): compressed, or as is.
		raw := &body
		if !compress {
			raw = bodyBuffers.get()
			raw.Write(body.Bytes())
		}
		b, err := sealBody(raw, compress, &zw)
		if err != nil {
			return err
		}
		select {
		case out <- batch{body: b.Bytes(), buf: b, gzipped: compress, lines: origins}:
		case <-ctx.Done():
			bodyBuffers.put(b)
			return ctx.Err()
		}
		body.Reset()
		origins, lines, records = &lineOrigins{}, 0, 0
		return nil
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		content, err := ingest.Open(&countingReader{r: f, n: &totals.readBytes}, false, 1<<62)
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %v", name, err)
		}
		br := bufio.NewReaderSize(content, 1<<20)
		var header []byte // the file's header line, newline included
		headerLine := 0   // its line in the file; 0: the default one, written by the command
		n := 0            // lines of the file read
		started := false  // the file has a run in the current body
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				n++
				if line[len(line)-1] != '\n' {
					line = append(line, '\n')
				}
				blank := len(bytes.TrimSpace(line)) == 0
				switch {
				case blank && !started:
					// Nothing to send yet: the run starts at the next line.
				case flow && n == 1 && isHeaderLine(line):
					header, headerLine = slices.Clone(line), n
				default:
					if !started {
						// The file's run: its header first (a flow log), then
						// its lines from n on, blank ones included so that
						// lines map back by offset.
						if flow {
							if header == nil {
								header = []byte(ingest.DefaultFlowFormat + "\n")
							}
							origins.runs = append(origins.runs, lineRun{first: lines + 1, file: name, line: headerLine})
							body.Write(header)
							lines++
						}
						origins.runs = append(origins.runs, lineRun{first: lines + 1, file: name, line: n})
						started = true
					}
					body.Write(line)
					lines++
					if !blank {
						records++
					}
					if records >= max || body.Len() >= maxBatchBytes {
						if err := flush(); err != nil {
							f.Close()
							return err
						}
						started = false
					}
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: %v", name, err)
			}
		}
		f.Close()
		totals.files.Add(1)
	}
	return flush()
}

// isHeaderLine reports whether a flow log file's first line names fields:
// its first token is not a number (the default format's version).
func isHeaderLine(line []byte) bool {
	f := bytes.Fields(line)
	if len(f) == 0 {
		return false
	}
	for _, c := range f[0] {
		if c < '0' || c > '9' {
			return !bytes.Equal(f[0], []byte("-"))
		}
	}
	return false
}
