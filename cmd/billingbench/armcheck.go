package main

import "fmt"

// emptyArm says why an arm measured nothing, or "" when it measured
// something. An arm with no arrival sent, or none completed in its window,
// has no throughput, latency or CPU per charge to report: printing its
// row would read as a result ("achieved 0.0/s, 0 errors") when it is a
// failed measurement. The overload watchdog is the usual cause: stopped
// in the warm-up, every arrival it sent falls before the window, so the
// window holds no sample, no error, and an idle billingd.
func emptyArm(r armResult) string {
	switch {
	case r.Sent == 0:
		return fmt.Sprintf("%s sent nothing%s", r.name, stopNote(r))
	case r.Achieved == 0:
		return fmt.Sprintf("%s completed nothing in its %s window (%d sent, %d errors)%s", r.name, r.measure, r.Sent, r.Errors, stopNote(r))
	}
	return ""
}

func stopNote(r armResult) string {
	if r.overloaded == "" {
		return ""
	}
	return ": the overload watchdog " + r.overloaded
}
