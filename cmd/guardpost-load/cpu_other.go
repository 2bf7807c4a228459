//go:build !unix

package main

import "time"

// processCPU is unknown here; the report then leaves it out.
func processCPU() time.Duration { return 0 }
