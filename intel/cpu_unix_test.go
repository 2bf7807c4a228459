//go:build unix

package intel

import (
	"syscall"
	"time"
)

// cpuTime is the process's CPU time (user and system, every thread): on a
// shared machine it says what a lookup costs better than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
