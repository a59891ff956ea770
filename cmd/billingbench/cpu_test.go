package main

import (
	"math"
	"testing"
)

func TestCPUMSPerCharge(t *testing.T) {
	t.Parallel()
	if got := cpuMSPerCharge(0.5, 500); got != 1 {
		t.Errorf("half a core at 500/s = %v ms per charge, want 1", got)
	}
	for _, tt := range [][2]float64{{-1, 500}, {0.5, 0}, {math.NaN(), 500}} {
		if got := cpuMSPerCharge(tt[0], tt[1]); !math.IsNaN(got) {
			t.Errorf("cpuMSPerCharge(%v, %v) = %v, want NaN (unknown)", tt[0], tt[1], got)
		}
	}
}
