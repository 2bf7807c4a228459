//go:build unix

package main

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time this process has used so
// far. The load generator competes with the server for the machine's
// cores, and decoding large responses can cost it more CPU than the server
// spends answering them; the report says how much it took so that the
// figures can be judged.
func processCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
