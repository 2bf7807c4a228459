//go:build !unix

package ingest

import "time"

// cpuTime is not measured here: cpu-ns/finding reads 0.
func cpuTime() time.Duration { return 0 }
