//go:build !linux

package pgcluster

import "syscall"

// setPdeathsig does nothing: only Linux can tie a child's life to its
// parent's. Elsewhere a killed parent leaks the server until it is stopped by
// hand.
func setPdeathsig(*syscall.SysProcAttr) {}
