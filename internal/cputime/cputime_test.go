package cputime

import (
	"runtime"
	"testing"
)

// TestProcessGrows: work done shows as CPU time (where the platform says).
func TestProcessGrows(t *testing.T) {
	before := Process()
	if before == 0 && runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" {
		t.Fatal("no CPU time on a unix system")
	}
	x := 0
	for i := range 50_000_000 {
		x += i & 3
	}
	if Process() <= before {
		t.Fatalf("CPU time did not grow over a busy loop (%d)", x)
	}
}
