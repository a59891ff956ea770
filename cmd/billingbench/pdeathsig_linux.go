package main

import "syscall"

// setPdeathsig has the kernel kill billingd if this process dies first.
func setPdeathsig(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
