//go:build !unix

package httpapi

import "time"

// cpuTime is not measured here: cpu-ns/record reads 0.
func cpuTime() time.Duration { return 0 }
