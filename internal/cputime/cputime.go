// Package cputime reads the process's CPU time, which benchmarks report
// beside wall time: on a shared machine it says what the work costs
// better than wall time does.
package cputime

import "time"

// Process is the process's CPU time so far: user and system, every
// thread, the garbage collector's included; 0 where the platform does not
// say.
func Process() time.Duration { return process() }
