package devstack

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGCBoundsTheHeapByHalfTheMachine(t *testing.T) {
	total := physicalMemory()
	if total == 0 {
		t.Skip("no /proc/meminfo here")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	tests := []struct {
		name, gogc, gomemlimit string
		wantPercent            int
		wantLimit              int64
	}{
		{"defaults: GOGC 400, half the memory", "", "", 400, total / 2},
		{"the user's GOGC and GOMEMLIMIT win", "150", "1GiB", 150, math.MaxInt64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			t.Setenv("GOMEMLIMIT", tc.gomemlimit)
			debug.SetGCPercent(150)
			debug.SetMemoryLimit(math.MaxInt64)
			TuneGC()
			if got := debug.SetGCPercent(150); got != tc.wantPercent {
				t.Errorf("GOGC %d, want %d", got, tc.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("memory limit %d, want %d", got, tc.wantLimit)
			}
		})
	}
}
